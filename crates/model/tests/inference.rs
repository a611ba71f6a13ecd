//! The held-out ε estimator on synthetic noisy means with known truth: unbiased for the gain of
//! the deviation it names (within 4 SE over many trials, fixed seed), intervals with their
//! nominal coverage, while the maximum of the full-sample means (the winner's curse) is biased
//! upward by far more than its SE.

use datapact_model::inference::{HeldOutAccumulator, normal_quantile};
use datapact_model::stats::Welford;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

#[test]
fn held_out_estimate_is_unbiased_and_the_plain_maximum_is_not() {
    // Eight deviations; four tie at the top, one is close, one is harmful.
    let mu = [0.0, 0.05, 0.1, 0.1, 0.1, 0.08, -0.2, 0.1];
    let top = 0.1;
    let (trials, reps) = (4000, 200u64);
    let mut rng = ChaCha8Rng::seed_from_u64(26);
    let (mut held_error, mut naive_error, mut covered) =
        (Welford::default(), Welford::default(), 0u32);
    let mut gains = vec![0.0; mu.len()];
    for _ in 0..trials {
        let mut acc = HeldOutAccumulator::new(mu.len());
        let mut full = vec![Welford::default(); mu.len()];
        for r in 0..reps {
            // A common shock per replication (common random numbers) plus each deviation's own.
            let common: f64 = StandardNormal.sample(&mut rng);
            for (d, g) in gains.iter_mut().enumerate() {
                let own: f64 = StandardNormal.sample(&mut rng);
                *g = mu[d] + 0.5 * common + own;
                full[d].push(*g);
            }
            acc.push(r, &gains);
        }
        let h = acc.finish(0.95, 0.0).unwrap();
        held_error.push(h.estimate - mu[h.best]);
        covered += h.interval.contains(mu[h.best]) as u32;
        let naive = full
            .iter()
            .map(|w| w.mean())
            .fold(f64::NEG_INFINITY, f64::max);
        naive_error.push(naive - top);
    }
    let coverage = covered as f64 / trials as f64;
    let coverage_se = (0.95f64 * 0.05 / trials as f64).sqrt();
    println!(
        "held-out bias {:.5} ± {:.5}; plain maximum bias {:.5} ± {:.5}; coverage {coverage:.4}",
        held_error.mean(),
        held_error.se(),
        naive_error.mean(),
        naive_error.se()
    );
    assert!(held_error.mean().abs() <= 4.0 * held_error.se());
    assert!(naive_error.mean() > 4.0 * naive_error.se());
    assert!(
        (coverage - 0.95).abs() <= 4.0 * coverage_se,
        "coverage {coverage}"
    );
    assert!((normal_quantile(0.975) - 1.959963984540054).abs() < 1e-15);
}
