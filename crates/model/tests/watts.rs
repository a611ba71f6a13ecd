//! Validation against a classic result: the global-cascade window of Watts (2002), "A simple
//! model of global cascades on random networks" (PNAS 99, 5766), for the threshold contagion on
//! Erdős–Rényi graphs.
//!
//! With every user's threshold φ, a user of degree k is vulnerable (one active neighbour
//! activates her) when 1/k ≥ φ, i.e. k ≤ K = ⌊1/φ⌋. Global cascades are possible when the
//! vulnerable users percolate, Σ_k k(k − 1)·P(k)·[k ≤ K] = z; for Poisson(z) degrees this is
//! z·P(Poisson(z) ≤ K − 2) = 1, whose two roots bound the window of mean degrees z. The test
//! solves it (no hard-coded window) and measures the window: n = 10^4 users, a fresh graph per
//! run, one uniform random seed, 400 runs per z on 0.6, 0.7, ..., 7.0, "global" = more than
//! 0.1·n active; the edges are where the share of global cascades first rises above and last
//! falls below 5% (linear interpolation between grid points).

use datapact_model::{Network, threshold_cascade};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

const N: usize = 10_000;
const RUNS: u64 = 400;
const SEED: u64 = 2002;
/// Grid z = (6 + i)/10, i = 0..=64: 0.6 to 7.0.
const GRID: usize = 65;

fn z_at(i: usize) -> f64 {
    (6 + i) as f64 / 10.0
}

/// P(Poisson(z) ≤ k).
fn poisson_cdf(z: f64, k: u32) -> f64 {
    let mut term = datapact_model::variates::exp(-z);
    let mut sum = term;
    for j in 1..=k {
        term *= z / j as f64;
        sum += term;
    }
    sum
}

/// The analytic window: the two roots of z·P(Poisson(z) ≤ K − 2) = 1, K = ⌊1/φ⌋, by bisection
/// either side of the maximum of the left-hand side (found on a fine grid).
fn analytic_window(phi: f64) -> (f64, f64) {
    let k = (1.0 / phi).floor() as u32;
    assert!(k >= 2, "no window for φ > 1/2");
    let f = |z: f64| z * poisson_cdf(z, k - 2) - 1.0;
    let peak = (1..2000)
        .map(|i| i as f64 * 0.01)
        .max_by(|a, b| f(*a).total_cmp(&f(*b)))
        .unwrap();
    assert!(f(peak) > 0.0, "no window for φ = {phi}");
    let root = |mut below: f64, mut above: f64| {
        // f(below) < 0 < f(above) (or the reverse on the falling side): keep the sign change.
        for _ in 0..100 {
            let mid = 0.5 * (below + above);
            if f(mid) < 0.0 {
                below = mid;
            } else {
                above = mid;
            }
        }
        0.5 * (below + above)
    };
    (root(0.0, peak), root(50.0, peak))
}

/// Per grid point: (share of global cascades, mean size of the global ones / n).
fn measure(phi: f64, stream: u64) -> Vec<(f64, f64)> {
    let mut pick = ChaCha8Rng::seed_from_u64(SEED ^ stream);
    (0..GRID)
        .map(|i| {
            let model = Network::ErdosRenyi {
                mean_degree: z_at(i),
            };
            let (mut global, mut size) = (0u64, 0usize);
            for run in 0..RUNS {
                // A fresh graph per run (replication = run, its own stream per z and φ).
                let g = model.generate(N, SEED + stream, run);
                let seed = pick.random_range(0..N);
                let s = threshold_cascade(&g, &[seed], |_| phi).size();
                if s * 10 > N {
                    global += 1;
                    size += s;
                }
            }
            let share = global as f64 / RUNS as f64;
            let mean = if global == 0 {
                0.0
            } else {
                size as f64 / global as f64 / N as f64
            };
            (share, mean)
        })
        .collect()
}

/// Where the share first rises above and last falls below `level`, interpolated linearly; an
/// error if it never rises above it or is above it at an end of the grid.
fn edges(share: &[f64], level: f64) -> Result<(f64, f64), String> {
    let first = share.iter().position(|&s| s > level).ok_or(format!(
        "global cascades in no more than {level} of runs at any z"
    ))?;
    let last = share.iter().rposition(|&s| s > level).unwrap();
    if first == 0 || last + 1 == share.len() {
        return Err(format!(
            "global cascades in more than {level} of runs at an end of the grid"
        ));
    }
    let cross = |i: usize| {
        let (a, b) = (share[i], share[i + 1]);
        z_at(i) + (level - a) / (b - a) * 0.1
    };
    Ok((cross(first - 1), cross(last)))
}

/// Measures the window for one φ (runs on stream `stream`) and checks it; prints the grid.
fn check_window(phi: f64, stream: u64) {
    let (lo, hi) = analytic_window(phi);
    let grid = measure(phi, stream);
    let share: Vec<f64> = grid.iter().map(|g| g.0).collect();
    println!("φ = {phi}:    z  global  mean global size/n");
    for (i, (s, m)) in grid.iter().enumerate() {
        println!("φ = {phi}: {:4.1}  {s:6.4}  {m:6.4}", z_at(i));
    }
    let (mlo, mhi) = edges(&share, 0.05).unwrap_or_else(|e| panic!("φ = {phi}: {e}"));
    println!("φ = {phi}: analytic window [{lo:.3}, {hi:.3}], measured [{mlo:.3}, {mhi:.3}]");
    let mut failures = Vec::new();
    if (mlo - lo).abs() > 0.1 {
        failures.push(format!("lower edge {mlo:.3} not within 0.1 of {lo:.3}"));
    }
    if !(0.0..=0.5).contains(&(mhi - hi)) {
        failures.push(format!(
            "upper edge {mhi:.3} not in [{hi:.3}, {hi:.3} + 0.5]"
        ));
    }
    let at = |z: f64| grid[(z * 10.0).round() as usize - 6];
    if phi == 0.18 {
        let (s, m) = at(3.0);
        if (s - 0.87).abs() > 0.07 || m < 0.9 {
            failures.push(format!(
                "z = 3: global share {s} (want 0.87 ± 0.07), mean global size {m}·n (want ≥ 0.9·n)"
            ));
        }
    } else {
        let (s, _) = at(5.0);
        if s > 0.01 {
            failures.push(format!("z = 5: global share {s} > 1%"));
        }
    }
    assert!(failures.is_empty(), "φ = {phi}: {failures:#?}");
}

#[test]
fn the_watts_window_for_phi_0_18() {
    check_window(0.18, 0);
}

/// φ = 1/4 exercises the tie: one active neighbour of four is exactly the threshold.
#[test]
fn the_watts_window_for_phi_0_25() {
    check_window(0.25, 1);
}

#[test]
fn the_analytic_window_solves_its_equation() {
    for phi in [0.18f64, 0.25] {
        let k = (1.0 / phi).floor() as u32;
        let (lo, hi) = analytic_window(phi);
        assert!(lo < hi);
        for z in [lo, hi] {
            assert!(
                (z * poisson_cdf(z, k - 2) - 1.0).abs() < 1e-12,
                "φ = {phi}, z = {z}"
            );
        }
        // Inside the window the vulnerable users percolate, outside they do not.
        let mid = 0.5 * (lo + hi);
        assert!(mid * poisson_cdf(mid, k - 2) > 1.0);
        assert!((lo - 0.05) * poisson_cdf(lo - 0.05, k - 2) < 1.0);
        assert!((hi + 0.05) * poisson_cdf(hi + 0.05, k - 2) < 1.0);
    }
    assert_eq!(poisson_cdf(2.0, 0), datapact_model::variates::exp(-2.0));
}
