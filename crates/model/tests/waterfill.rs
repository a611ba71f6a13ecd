//! Exact water-filling against its KKT conditions, an independent bisection solver, and random
//! feasible transfers (a brute-force local search that must never find a cheaper point).

use datapact_model::waterfill::{FillScratch, Infeasible, water_fill, water_fill_bounded};
use proptest::prelude::*;

fn objective(c: &[f64], x: &[f64]) -> f64 {
    c.iter().zip(x).map(|(c, x)| 0.5 * c * x * x).sum()
}

/// Independent solver: bisection on the level λ of Σ clamp(λ/c, lo, hi) = need.
fn bisect(c: &[f64], lo: &[f64], hi: &[f64], need: f64) -> Vec<f64> {
    let x_at = |l: f64| -> Vec<f64> {
        (0..c.len())
            .map(|i| {
                if c[i] <= 0.0 {
                    hi[i]
                } else {
                    (l / c[i]).clamp(lo[i], hi[i])
                }
            })
            .collect()
    };
    let (mut a, mut b) = (0.0f64, 1e6f64);
    for _ in 0..300 {
        let m = 0.5 * (a + b);
        if x_at(m).iter().sum::<f64>() < need {
            a = m
        } else {
            b = m
        }
    }
    x_at(b)
}

fn instance() -> impl Strategy<Value = (Vec<f64>, Vec<f64>, Vec<f64>, f64)> {
    (1usize..40).prop_flat_map(|n| {
        (
            proptest::collection::vec(prop_oneof![1 => Just(0.0), 9 => 0.001f64..5.0], n),
            proptest::collection::vec(0.0f64..0.5, n),
            proptest::collection::vec(0.0f64..1.0, n),
            0.0f64..1.0,
        )
            .prop_map(|(c, lo, extra, share)| {
                let hi: Vec<f64> = lo.iter().zip(&extra).map(|(l, e)| l + e).collect();
                let floor: f64 = lo.iter().sum();
                let cap: f64 = hi.iter().sum();
                (c, lo, hi, floor + share * (cap - floor))
            })
    })
}

fn check_kkt(c: &[f64], lo: &[f64], hi: &[f64], need: f64, x: &[f64]) {
    let tol = 1e-9 * (c.len() as f64 + need);
    let sum: f64 = x.iter().sum();
    assert!(
        (sum - need).abs() <= 1e-7 * (1.0 + need),
        "sum {sum} != need {need}"
    );
    for i in 0..c.len() {
        assert!(
            x[i] >= lo[i] - tol && x[i] <= hi[i] + tol,
            "bounds of user {i}"
        );
    }
    // Free users (strictly inside bounds, positive cost) share one level λ = c_i·x_i; users at
    // their upper bound have c·hi ≤ λ; at their lower bound c·lo ≥ λ.
    let free: Vec<f64> = (0..c.len())
        .filter(|&i| c[i] > 0.0 && x[i] > lo[i] + 1e-9 && x[i] < hi[i] - 1e-9)
        .map(|i| c[i] * x[i])
        .collect();
    if let Some(&level) = free.first() {
        for l in &free {
            assert!(
                (l - level).abs() <= 1e-7 * (1.0 + level),
                "levels differ: {l} vs {level}"
            );
        }
        for i in 0..c.len() {
            if c[i] > 0.0 && x[i] >= hi[i] - 1e-9 && hi[i] > lo[i] {
                assert!(
                    c[i] * hi[i] <= level * (1.0 + 1e-7) + 1e-12,
                    "capped user {i} is too expensive"
                );
            }
            if c[i] > 0.0 && x[i] <= lo[i] + 1e-9 && hi[i] > lo[i] {
                assert!(
                    c[i] * lo[i] >= level * (1.0 - 1e-7) - 1e-12,
                    "floored user {i} is too cheap"
                );
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn bounded_fill_meets_kkt_and_matches_bisection((c, lo, hi, need) in instance()) {
        let mut x = vec![0.0; c.len()];
        water_fill_bounded(&c, &lo, &hi, need, 1e-12, &mut x, &mut FillScratch::default()).unwrap();
        check_kkt(&c, &lo, &hi, need, &x);
        let reference = bisect(&c, &lo, &hi, need);
        let (a, b) = (objective(&c, &x), objective(&c, &reference));
        prop_assert!(a <= b + 1e-7 * (1.0 + b), "exact {a} worse than bisection {b}");
    }

    #[test]
    fn plain_fill_equals_bounded_with_zero_floor((c, _lo, hi, share) in instance()) {
        let need = share.min(1.0) * hi.iter().sum::<f64>();
        let zero = vec![0.0; c.len()];
        let (mut x, mut y) = (vec![0.0; c.len()], vec![0.0; c.len()]);
        let mut s = FillScratch::default();
        water_fill(&c, &hi, need, 1e-12, &mut x, &mut s).unwrap();
        water_fill_bounded(&c, &zero, &hi, need, 1e-12, &mut y, &mut s).unwrap();
        check_kkt(&c, &zero, &hi, need, &x);
        prop_assert!((objective(&c, &x) - objective(&c, &y)).abs() <= 1e-7 * (1.0 + objective(&c, &y)));
    }

    #[test]
    fn no_feasible_transfer_is_cheaper((c, lo, hi, need) in instance(), moves in proptest::collection::vec((0usize..40, 0usize..40, 0.0f64..1.0), 50)) {
        let mut x = vec![0.0; c.len()];
        water_fill_bounded(&c, &lo, &hi, need, 1e-12, &mut x, &mut FillScratch::default()).unwrap();
        let best = objective(&c, &x);
        for (a, b, t) in moves {
            let (a, b) = (a % c.len(), b % c.len());
            if a == b { continue; }
            // Move mass from a to b, as far as both bounds allow, scaled by t.
            let room = (x[a] - lo[a]).min(hi[b] - x[b]).max(0.0) * t;
            let mut y = x.clone();
            y[a] -= room;
            y[b] += room;
            prop_assert!(objective(&c, &y) >= best - 1e-9, "transfer {a}->{b} of {room} is cheaper");
        }
    }
}

#[test]
fn infeasible_when_caps_cannot_cover() {
    let mut x = [0.0; 3];
    let err = water_fill(
        &[1.0, 2.0, 3.0],
        &[0.5, 0.5, 0.5],
        1.6,
        1e-9,
        &mut x,
        &mut FillScratch::default(),
    );
    assert_eq!(err, Err(Infeasible { capacity: 1.5 }));
}

#[test]
fn hand_solved_instance() {
    // c = (1, 2, 4), caps 1, need 1.4: λ with λ(1 + 1/2 + 1/4) = 1.4 → λ = 0.8, x = (0.8, 0.4, 0.2).
    let mut x = [0.0; 3];
    let level = water_fill(
        &[1.0, 2.0, 4.0],
        &[1.0; 3],
        1.4,
        1e-9,
        &mut x,
        &mut FillScratch::default(),
    )
    .unwrap();
    assert!((level - 0.8).abs() < 1e-12);
    for (a, b) in x.iter().zip([0.8, 0.4, 0.2]) {
        assert!((a - b).abs() < 1e-12, "{x:?}");
    }
    // With cap 0.5 on the cheapest user: she is capped, the rest share 0.9 at λ = 1.2.
    water_fill(
        &[1.0, 2.0, 4.0],
        &[0.5, 1.0, 1.0],
        1.4,
        1e-9,
        &mut x,
        &mut FillScratch::default(),
    )
    .unwrap();
    for (a, b) in x.iter().zip([0.5, 0.6, 0.3]) {
        assert!((a - b).abs() < 1e-12, "{x:?}");
    }
}

#[test]
fn large_instance_runs_and_meets_kkt() {
    let n = 100_000;
    let c: Vec<f64> = (0..n)
        .map(|i| 0.01 + (i as f64 * 0.618_033_988_7).fract())
        .collect();
    let hi: Vec<f64> = (0..n)
        .map(|i| 0.2 + 0.8 * (i as f64 * 0.414_213_562).fract())
        .collect();
    let mut x = vec![0.0; n];
    let need = 0.6 * n as f64 * 0.5;
    water_fill(
        &c,
        &hi,
        need,
        1e-9 * n as f64,
        &mut x,
        &mut FillScratch::default(),
    )
    .unwrap();
    check_kkt(&c, &vec![0.0; n], &hi, need, &x);
}
