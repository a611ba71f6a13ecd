//! F11's critical paths (docs/model.md, section 14), computed from the model's large-n limits
//! for the default game (uniform costs on [0, 1], V = p = 0.1, b0 = 0.15, σ_w = 0.5, σ_o = 0,
//! R = 0) and checked with the direct kernel: along each path the success rate it is built for
//! stays away from 0 and 1 as n grows, where at a fixed θ it goes to 0 or 1.

// Expected values in tests may use the platform's functions: the lint guards what the model computes.
#![allow(clippy::disallowed_methods)]

use datapact_model::inference::{normal_cdf, normal_sf};
use datapact_model::stats::Welford;
use datapact_model::vcg::{VcgWorkspace, run_vcg};
use datapact_model::{
    Draws, Game, Kernel, NoEvents, Rules, Status, Workspace, campaign_rng, draw_key, run_campaign,
};

/// The default game's V, p, σ_w.
const V: f64 = 0.1;
const P: f64 = 0.1;
const SIGMA_W: f64 = 0.5;

/// ∫₀¹ f by composite Simpson on pieces split at `breaks` (where f has kinks).
fn integrate(f: impl Fn(f64) -> f64, breaks: &[f64]) -> f64 {
    let mut points = vec![0.0];
    points.extend(breaks.iter().copied().filter(|b| *b > 0.0 && *b < 1.0));
    points.push(1.0);
    points.sort_by(f64::total_cmp);
    let mut total = 0.0;
    for w in points.windows(2) {
        let (a, b, m) = (w[0], w[1], 4000);
        let h = (b - a) / m as f64;
        let mut s = f(a) + f(b);
        for k in 1..m {
            s += f(a + k as f64 * h) * if k % 2 == 1 { 4.0 } else { 2.0 };
        }
        total += s * h / 3.0;
    }
    total
}

/// S's burden of a user of cost c at level λ: min(x̄(c), λ/c), with x̄ the IR cap.
fn burden(c: f64, level: f64) -> f64 {
    let cap = if c <= 0.0 {
        1.0
    } else {
        ((P + (P * P + 2.0 * c * V).sqrt()) / c).min(1.0)
    };
    if c <= 0.0 { cap } else { cap.min(level / c) }
}

/// θ(λ) = E[x(c, λ)], the data per user at level λ.
fn theta_of(level: f64) -> f64 {
    assert!(level < 2.0 * (V + P), "interior caps bind: not handled");
    integrate(|c| burden(c, level), &[level, 2.0 * (V + P)])
}

/// k(λ) = E[κ(c, x(c, λ))], the least privacy cost per user.
fn cost_of(level: f64) -> f64 {
    integrate(
        |c| c * burden(c, level).powi(2) / 2.0,
        &[level, 2.0 * (V + P)],
    )
}

/// ω(λ): the probability that a user drawn from F withdraws sincerely from her burden at level λ,
/// P(κ(c·r, x) > V + p·x) with ln r ~ N(−σ²/2, σ²).
fn withdraw_rate(level: f64) -> f64 {
    integrate(
        |c| {
            let x = burden(c, level);
            if c <= 0.0 || x <= 0.0 {
                return 0.0;
            }
            let slack = (V + P * x) / (c * x * x / 2.0);
            normal_sf((slack.ln() + SIGMA_W * SIGMA_W / 2.0) / SIGMA_W)
        },
        &[level, 2.0 * (V + P)],
    )
}

/// The root of an increasing function on [lo, hi] by bisection.
fn solve(f: impl Fn(f64) -> f64, target: f64, mut lo: f64, mut hi: f64) -> f64 {
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if f(mid) < target { lo = mid } else { hi = mid }
    }
    0.5 * (lo + hi)
}

fn success_rates(theta: f64, n: usize, drift: f64, reps: u64, seed: u64) -> [(f64, f64); 5] {
    let g = Game {
        users: n,
        threshold: theta,
        value: V,
        payment: P,
        drift,
        ..Game::default()
    };
    let (mut ws, mut vws) = (Workspace::default(), VcgWorkspace::default());
    let mut acc = [Welford::default(); 5];
    let sampler = g.cost.sampler().unwrap();
    let mut d = Draws::default();
    for rep in 0..reps {
        d.fill(n, &sampler, &mut campaign_rng(seed, draw_key(&g), rep));
        let r = Rules::default();
        let c = run_campaign(Kernel::Subsidy, &g, &r, &d, &mut ws, &mut NoEvents);
        let s = run_campaign(Kernel::Simultaneous, &g, &r, &d, &mut ws, &mut NoEvents);
        let m = run_campaign(Kernel::Sequential, &g, &r, &d, &mut ws, &mut NoEvents);
        let v = run_vcg(&g, &r, &d, &mut vws, &mut NoEvents);
        for (a, o) in acc.iter_mut().zip([&c, &s, &m, &v]) {
            a.push(o.success() as u8 as f64);
        }
        acc[4].push((s.status == Status::Null) as u8 as f64);
    }
    acc.map(|w| (w.mean(), w.se()))
}

/// The sustainability threshold of the default game: λ* with k(λ*) = V, θ* = θ(λ*), and the
/// standard deviation s of φ(c, λ*) = κ(c, x) − λ*·x, the per-user term of K's fluctuation.
fn sustainability_threshold() -> (f64, f64, f64) {
    let level = solve(cost_of, V, 1e-9, 0.399);
    let phi = |c: f64| {
        let x = burden(c, level);
        c * x * x / 2.0 - level * x
    };
    let m1 = integrate(phi, &[level, 2.0 * (V + P)]);
    let m2 = integrate(|c| phi(c).powi(2), &[level, 2.0 * (V + P)]);
    (level, theta_of(level), (m2 - m1 * m1).sqrt())
}

const NS: [usize; 5] = [20, 63, 200, 632, 2000];

fn reps(n: usize) -> u64 {
    if n >= 632 { 300 } else { 1000 }
}

/// Path K, θ_n = θ* + c/√n at σ_w = 0: P(S succeeds) → Φ(−λ*·c/s), the same for M and vcg
/// (nobody withdraws at σ_o = σ_w = 0, and below λ = 2(V + p) S's caps do not bind). At a
/// fixed θ on either side of θ* it goes to 0 or 1.
#[test]
fn path_k_keeps_success_between_0_and_1_without_drift() {
    let (level, theta_star, s) = sustainability_threshold();
    println!(
        "λ* = {level:.6}, θ* = {theta_star:.6}, s = {s:.6}, λ*/s = {:.4}",
        level / s
    );
    assert!((theta_star - 0.7317).abs() < 1e-3 && (level - 0.3638).abs() < 1e-3);
    for c in [-0.25, 0.0, 0.25] {
        let predicted = normal_cdf(-level * c / s);
        for n in NS {
            let theta = theta_star + c / (n as f64).sqrt();
            let r = success_rates(theta, n, 0.0, reps(n), 5);
            let (success, se) = r[1];
            println!(
                "c = {c:+.2}, n = {n:4}: θ = {theta:.5}, S {success:.3} ± {se:.3} (limit {predicted:.3}), M {:.3}, vcg {:.3}",
                r[2].0, r[3].0
            );
            assert!(
                (success - predicted).abs() <= 0.05 + 4.0 * se,
                "c {c} n {n}"
            );
            assert_eq!(success, r[2].0, "σ = 0: S and M play the same campaigns");
        }
    }
    // At a fixed point the success rate leaves (0, 1).
    assert!(success_rates(0.76, 2000, 0.0, 100, 5)[1].0 <= 0.02);
    assert!(success_rates(0.70, 2000, 0.0, 100, 5)[1].0 >= 0.98);
}

/// Path W at the default drift σ_w = 0.5: θ_n with (1 − ω(θ_n))ⁿ = 1/2, ω the probability that a
/// user withdraws from her initial burden, so that S (R = 0: one withdrawal fails the campaign)
/// succeeds with probability → 1/2, where at the fixed θ = 0.6 it goes to 0 like (1 − ω)ⁿ. M and
/// vcg stay inside (0, 1) along the path as well.
#[test]
fn path_w_keeps_success_between_0_and_1_with_drift() {
    let a = std::f64::consts::LN_2;
    println!("θ* of C: {:.6}", {
        let b = P + 0.15 * V;
        b * (1.0 - b.ln())
    });
    for n in [
        20usize, 63, 200, 632, 2000, 6325, 20000, 63246, 200000, 632456, 1000000,
    ] {
        let omega = 1.0 - (-a / n as f64).exp();
        let level = solve(withdraw_rate, omega, 1e-9, 0.399);
        let theta = theta_of(level);
        if n > 2000 {
            println!("n = {n:7}: λ = {level:.5}, θ = {theta:.6}");
            continue;
        }
        let r = success_rates(theta, n, SIGMA_W, reps(n), 5);
        let (success, se) = r[1];
        println!(
            "n = {n:7}: λ = {level:.5}, θ = {theta:.6}: C {:.3}, S {success:.3} ± {se:.3}, M {:.3} ± {:.3}, vcg {:.3} ± {:.3}, S null {:.3}",
            r[0].0, r[2].0, r[2].1, r[3].0, r[3].1, r[4].0
        );
        assert!(
            (success - 0.5).abs() <= 0.05 + 4.0 * se,
            "n {n}: S {success}"
        );
        for (m, (rate, _)) in r[2..4].iter().enumerate() {
            assert!(
                (0.2..=0.95).contains(rate),
                "mechanism {m} at n {n}: {rate}"
            );
        }
    }
    assert!(success_rates(0.6, 2000, SIGMA_W, 100, 5)[1].0 <= 0.02);
}
