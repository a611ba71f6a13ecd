//! The estimators: Sobol indices of a Saltelli design and Morris elementary effects, each with
//! bootstrap intervals.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// z of a two-sided 95% normal interval.
const Z95: f64 = 1.959_963_984_540_054;

/// Bootstrap resamples of each confidence interval.
pub const RESAMPLES: usize = 1000;

/// One index of one axis: its estimate and the half-width of its 95% interval (`None` where the
/// method gives none).
#[derive(Clone, Debug, PartialEq)]
pub struct Index {
    /// `S1`, `ST` (Sobol) or `mu_star`, `mu`, `sigma` (Morris).
    pub name: &'static str,
    /// The estimate.
    pub value: f64,
    /// Half-width of its 95% bootstrap interval.
    pub conf: Option<f64>,
}

/// Sobol first-order and total indices of each of `dims` axes from outputs `y` of a Saltelli
/// design (blocks of 2·dims + 2: A, AB₁..AB_D, BA₁..BA_D, B), as `[S1, ST]` per axis.
///
/// # Errors
/// If `y.len()` is not a multiple of 2·dims + 2, or holds a non-finite value.
pub fn sobol_indices(y: &[f64], dims: usize, seed: u64) -> Result<Vec<[Index; 2]>, String> {
    let step = 2 * dims + 2;
    if dims == 0 || y.is_empty() || !y.len().is_multiple_of(step) {
        return Err(format!(
            "a Saltelli design over {dims} axes has a multiple of {step} points, found {}",
            y.len()
        ));
    }
    if let Some(i) = y.iter().position(|v| !v.is_finite()) {
        return Err(format!("point {i} has no finite value"));
    }
    let n = y.len() / step;
    let mean = y.iter().sum::<f64>() / y.len() as f64;
    let sd = (y.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / y.len() as f64).sqrt();
    let z: Vec<f64> = y
        .iter()
        .map(|v| if sd > 0.0 { (v - mean) / sd } else { 0.0 })
        .collect();
    let a = |j: usize| z[j * step];
    let b = |j: usize| z[j * step + step - 1];
    let ab = |j: usize, i: usize| z[j * step + 1 + i];
    // Both indices over the base samples `js` (all of them, or a bootstrap resample).
    let estimate = |js: &[usize], i: usize| -> (f64, f64) {
        let m = js.len() as f64;
        let ab_mean = js.iter().map(|&j| a(j) + b(j)).sum::<f64>() / (2.0 * m);
        let var = js
            .iter()
            .map(|&j| (a(j) - ab_mean).powi(2) + (b(j) - ab_mean).powi(2))
            .sum::<f64>()
            / (2.0 * m);
        if var <= 0.0 {
            return (0.0, 0.0);
        }
        let s1 = js.iter().map(|&j| b(j) * (ab(j, i) - a(j))).sum::<f64>() / m / var;
        let st = js.iter().map(|&j| (a(j) - ab(j, i)).powi(2)).sum::<f64>() / m / (2.0 * var);
        (s1, st)
    };
    let all: Vec<usize> = (0..n).collect();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut boot = vec![Vec::with_capacity(RESAMPLES); dims];
    let mut js = vec![0; n];
    for _ in 0..RESAMPLES {
        for j in js.iter_mut() {
            *j = (rng.next_u64() % n as u64) as usize;
        }
        for (i, b) in boot.iter_mut().enumerate() {
            b.push(estimate(&js, i));
        }
    }
    Ok((0..dims)
        .map(|i| {
            let (s1, st) = estimate(&all, i);
            let s1s: Vec<f64> = boot[i].iter().map(|e| e.0).collect();
            let sts: Vec<f64> = boot[i].iter().map(|e| e.1).collect();
            [
                Index {
                    name: "S1",
                    value: s1,
                    conf: Some(Z95 * std_dev(&s1s)),
                },
                Index {
                    name: "ST",
                    value: st,
                    conf: Some(Z95 * std_dev(&sts)),
                },
            ]
        })
        .collect())
}

/// Morris μ*, μ and σ of each of `dims` axes from outputs `y` of trajectories of dims + 1
/// points whose unit-cube coordinates are `unit`.
///
/// # Errors
/// If the lengths disagree, a step moves other than one axis, or a value is not finite.
pub fn morris_effects(
    y: &[f64],
    unit: &[Vec<f64>],
    dims: usize,
    seed: u64,
) -> Result<Vec<[Index; 3]>, String> {
    let len = dims + 1;
    if dims == 0 || y.is_empty() || y.len() != unit.len() || !y.len().is_multiple_of(len) {
        return Err(format!(
            "Morris trajectories over {dims} axes have a multiple of {len} points with unit \
             coordinates, found {} values and {} points",
            y.len(),
            unit.len()
        ));
    }
    let mut effects = vec![Vec::new(); dims];
    for t in 0..y.len() / len {
        for k in t * len..(t + 1) * len - 1 {
            let moved: Vec<usize> = (0..dims)
                .filter(|&i| unit[k][i] != unit[k + 1][i])
                .collect();
            let [i] = moved[..] else {
                return Err(format!(
                    "step {k} of trajectory {t} moves {} axes, not one",
                    moved.len()
                ));
            };
            let ee = (y[k + 1] - y[k]) / (unit[k + 1][i] - unit[k][i]);
            if !ee.is_finite() {
                return Err(format!("point {k} or {} has no finite value", k + 1));
            }
            effects[i].push(ee);
        }
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    Ok(effects
        .iter()
        .map(|ee| {
            let m = ee.len();
            let abs_mean = |idx: &mut dyn Iterator<Item = usize>| {
                idx.map(|j| ee[j].abs()).sum::<f64>() / m as f64
            };
            let boots: Vec<f64> = (0..RESAMPLES)
                .map(|_| abs_mean(&mut (0..m).map(|_| (rng.next_u64() % m as u64) as usize)))
                .collect();
            [
                Index {
                    name: "mu_star",
                    value: abs_mean(&mut (0..m)),
                    conf: Some(Z95 * std_dev(&boots)),
                },
                Index {
                    name: "mu",
                    value: ee.iter().sum::<f64>() / m as f64,
                    conf: None,
                },
                Index {
                    name: "sigma",
                    value: std_dev(ee),
                    conf: None,
                },
            ]
        })
        .collect())
}

/// Sample standard deviation (n − 1); 0 for fewer than two values.
fn std_dev(v: &[f64]) -> f64 {
    if v.len() < 2 {
        return 0.0;
    }
    let m = v.iter().sum::<f64>() / v.len() as f64;
    (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (v.len() - 1) as f64).sqrt()
}
