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
    /// `S1`, `ST`, `S2` (Sobol) or `mu_star`, `mu`, `sigma` (Morris).
    pub name: &'static str,
    /// The estimate.
    pub value: f64,
    /// Half-width of its 95% bootstrap interval.
    pub conf: Option<f64>,
}

/// The standardised outputs of a Saltelli design: blocks of 2·dims + 2 points (A, AB₁..AB_D,
/// BA₁..BA_D, B) per base sample, or dims + 2 (A, AB₁..AB_D, B) without the second-order BA
/// blocks, as SALib's `saltelli.sample` orders them.
struct Saltelli {
    z: Vec<f64>,
    dims: usize,
    step: usize,
    /// Base samples N.
    n: usize,
}

impl Saltelli {
    /// Checks and standardises `y` (mean 0, population standard deviation 1, as SALib does).
    fn new(y: &[f64], dims: usize, second_order: bool) -> Result<Saltelli, String> {
        let step = if second_order { 2 * dims + 2 } else { dims + 2 };
        if dims == 0 || y.is_empty() || !y.len().is_multiple_of(step) {
            return Err(format!(
                "a Saltelli design over {dims} axes has a multiple of {step} points, found {}",
                y.len()
            ));
        }
        if let Some(i) = y.iter().position(|v| !v.is_finite()) {
            return Err(format!("point {i} has no finite value"));
        }
        let mean = y.iter().sum::<f64>() / y.len() as f64;
        let sd = (y.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / y.len() as f64).sqrt();
        let z = y
            .iter()
            .map(|v| if sd > 0.0 { (v - mean) / sd } else { 0.0 })
            .collect();
        Ok(Saltelli {
            z,
            dims,
            step,
            n: y.len() / step,
        })
    }
    fn a(&self, j: usize) -> f64 {
        self.z[j * self.step]
    }
    fn b(&self, j: usize) -> f64 {
        self.z[j * self.step + self.step - 1]
    }
    fn ab(&self, j: usize, i: usize) -> f64 {
        self.z[j * self.step + 1 + i]
    }
    fn ba(&self, j: usize, i: usize) -> f64 {
        self.z[j * self.step + 1 + self.dims + i]
    }
    /// The population variance of f over A and B of the base samples `js`.
    fn var(&self, js: &[usize]) -> f64 {
        let m = js.len() as f64;
        let ab_mean = js.iter().map(|&j| self.a(j) + self.b(j)).sum::<f64>() / (2.0 * m);
        js.iter()
            .map(|&j| (self.a(j) - ab_mean).powi(2) + (self.b(j) - ab_mean).powi(2))
            .sum::<f64>()
            / (2.0 * m)
    }
    /// S1 of axis `i` over `js`, given their variance.
    fn first(&self, js: &[usize], i: usize, var: f64) -> f64 {
        let m = js.len() as f64;
        js.iter()
            .map(|&j| self.b(j) * (self.ab(j, i) - self.a(j)))
            .sum::<f64>()
            / m
            / var
    }
    /// `resamples` bootstrap resamples of the base samples from `rng`, each handed to `each`.
    fn bootstrap(&self, rng: &mut ChaCha8Rng, mut each: impl FnMut(&[usize])) {
        let mut js = vec![0; self.n];
        for _ in 0..RESAMPLES {
            for j in js.iter_mut() {
                *j = (rng.next_u64() % self.n as u64) as usize;
            }
            each(&js);
        }
    }
}

/// The outputs are standardised (variance 1 over the whole design): a variance of the base
/// samples A and B below this is rounding (a paired `--minus` difference of mechanisms that
/// agree on them), and dividing by it gave intervals of ±1.8e31. No index is estimated from it.
const VARIANCE_FLOOR: f64 = 1e-12;

/// Sobol first-order and total indices of each of `dims` axes from outputs `y` of a Saltelli
/// design (blocks of 2·dims + 2: A, AB₁..AB_D, BA₁..BA_D, B; or of dims + 2 without the BA
/// blocks when `first_order_only`), as `[S1, ST]` per axis. Both layouts use A, AB and B only.
///
/// # Errors
/// If `y.len()` is not a multiple of the block size, or holds a non-finite value.
pub fn sobol_indices(
    y: &[f64],
    dims: usize,
    first_order_only: bool,
    seed: u64,
) -> Result<Vec<[Index; 2]>, String> {
    let d = Saltelli::new(y, dims, !first_order_only)?;
    // Both indices over the base samples `js` (all of them, or a bootstrap resample).
    let estimate = |js: &[usize], i: usize| -> (f64, f64) {
        let m = js.len() as f64;
        let var = d.var(js);
        if var <= VARIANCE_FLOOR {
            return (0.0, 0.0);
        }
        let s1 = d.first(js, i, var);
        let st = js
            .iter()
            .map(|&j| (d.a(j) - d.ab(j, i)).powi(2))
            .sum::<f64>()
            / m
            / (2.0 * var);
        (s1, st)
    };
    let all: Vec<usize> = (0..d.n).collect();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut boot = vec![Vec::with_capacity(RESAMPLES); dims];
    d.bootstrap(&mut rng, |js| {
        for (i, b) in boot.iter_mut().enumerate() {
            b.push(estimate(js, i));
        }
    });
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

/// Second-order Sobol indices S2ⱼₖ of each pair of `dims` axes (j < k, in that order) from the
/// outputs `y` of the same Saltelli design as [`sobol_indices`], as SALib's `sobol.analyze`
/// computes them (Saltelli 2002): with the outputs standardised,
/// Vⱼₖ = mean(f(BAⱼ)·f(ABₖ) − f(A)·f(B)) / Var and S2ⱼₖ = Vⱼₖ − S1ⱼ − S1ₖ. The 95% interval is
/// ±1.96 standard deviations over bootstrap resamples of the base samples, drawn from a stream
/// of its own (stream 2 of the same seed), so asking for S2 leaves S1's and ST's intervals as
/// they are.
///
/// # Errors
/// As [`sobol_indices`].
pub fn sobol_second_order(
    y: &[f64],
    dims: usize,
    seed: u64,
) -> Result<Vec<(usize, usize, Index)>, String> {
    let d = Saltelli::new(y, dims, true)?;
    let pairs: Vec<(usize, usize)> = (0..dims)
        .flat_map(|p| (p + 1..dims).map(move |q| (p, q)))
        .collect();
    // S2 of every pair over the base samples `js`; Var and each axis's S1 once for all pairs.
    let estimates = |js: &[usize]| -> Vec<f64> {
        let m = js.len() as f64;
        let var = d.var(js);
        if var <= VARIANCE_FLOOR {
            return vec![0.0; pairs.len()];
        }
        let first: Vec<f64> = (0..dims).map(|p| d.first(js, p, var)).collect();
        pairs
            .iter()
            .map(|&(p, q)| {
                let v = js
                    .iter()
                    .map(|&j| d.ba(j, p) * d.ab(j, q) - d.a(j) * d.b(j))
                    .sum::<f64>()
                    / m
                    / var;
                v - first[p] - first[q]
            })
            .collect()
    };
    let all: Vec<usize> = (0..d.n).collect();
    let point = estimates(&all);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(2);
    let mut boot = vec![Vec::with_capacity(RESAMPLES); pairs.len()];
    d.bootstrap(&mut rng, |js| {
        for (e, s2) in boot.iter_mut().zip(estimates(js)) {
            e.push(s2);
        }
    });
    Ok(pairs
        .iter()
        .zip(&boot)
        .zip(point)
        .map(|((&(p, q), e), value)| {
            (
                p,
                q,
                Index {
                    name: "S2",
                    value,
                    conf: Some(Z95 * std_dev(e)),
                },
            )
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
