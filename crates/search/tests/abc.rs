//! ABC-SMC calibration: coverage of the 90% posterior interval over 100 synthetic data sets
//! whose true parameters are known.
//!
//! Each data set's true parameters are drawn from the prior (a fixed seed), so that the exact
//! posterior's 90% intervals cover the truth in 90% of data sets on average (Cook, Gelman &
//! Rubin 2006); over 100 data sets the count is binomial with SD 3. ABC with a positive
//! tolerance is wider than the exact posterior and over-covers a little. Pass: 80–97 of 100.

use datapact_search::{Abc, AbcConfig, Estimate, SimulationNoise, Space, Variable};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const DATA_SETS: u64 = 100;
const GENERATIONS: u32 = 4;
const PARTICLES: usize = 200;
const PROPOSALS: usize = 4000;

fn uniform(rng: &mut ChaCha8Rng) -> f64 {
    (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
}

fn normal(rng: &mut ChaCha8Rng) -> f64 {
    let u1 = 1.0 - uniform(rng);
    let u2 = uniform(rng);
    (-2.0 * libm::log(u1)).sqrt() * libm::cos(std::f64::consts::TAU * u2)
}

/// The cheap model: n = 40 draws from Normal(μ, σ²), summarised by their mean and SD.
const N: usize = 40;
const PRIOR: [(f64, f64); 2] = [(-3.0, 3.0), (0.5, 3.0)];

fn space() -> Space {
    Space::new(vec![
        Variable::real("mu", PRIOR[0].0, PRIOR[0].1),
        Variable::real("sigma", PRIOR[1].0, PRIOR[1].1),
    ])
    .unwrap()
}

/// Mean and SD of one synthetic data set of size N.
fn data_set(mu: f64, sigma: f64, rng: &mut ChaCha8Rng) -> (f64, f64) {
    let ys: Vec<f64> = (0..N).map(|_| mu + sigma * normal(rng)).collect();
    let m = ys.iter().sum::<f64>() / N as f64;
    let v = ys.iter().map(|y| (y - m).powi(2)).sum::<f64>() / (N - 1) as f64;
    (m, v.sqrt())
}

/// Runs ABC-SMC on `targets` with `simulate` and returns the 90% intervals of μ and σ and the
/// interval inflation of the last tolerance.
fn fit(
    targets: Vec<Estimate>,
    noise: SimulationNoise,
    seed: u64,
    mut simulate: impl FnMut(f64, f64, &mut ChaCha8Rng) -> Vec<Estimate>,
) -> ([(f64, f64); 2], f64) {
    let mut config = AbcConfig::new(PARTICLES, PROPOSALS, seed);
    config.noise = noise;
    let mut abc = Abc::new(space(), targets, config).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5eed);
    for _ in 0..GENERATIONS {
        let proposals = abc.ask();
        let told = proposals
            .iter()
            .map(|p| simulate(p.point[0].as_f64(), p.point[1].as_f64(), &mut rng))
            .collect();
        abc.tell(told).unwrap();
    }
    let eps = abc.epsilons();
    assert!(eps[eps.len() - 1] < eps[0] / 2.0, "tolerances {eps:?}");
    (
        [abc.interval(0, 0.9).unwrap(), abc.interval(1, 0.9).unwrap()],
        abc.interval_inflation().unwrap(),
    )
}

/// Counts, over the data sets, how often each parameter's interval covers the truth; also the
/// mean interval inflation.
fn coverage(
    noise: SimulationNoise,
    observe: impl Fn(f64, f64, &mut ChaCha8Rng) -> Vec<Estimate>,
    simulate: impl Fn(f64, f64, &mut ChaCha8Rng) -> Vec<Estimate> + Copy,
) -> ([u32; 2], f64) {
    let mut truths = ChaCha8Rng::seed_from_u64(2024);
    let mut covered = [0; 2];
    let mut inflation = 0.0;
    for k in 0..DATA_SETS {
        let mu = PRIOR[0].0 + (PRIOR[0].1 - PRIOR[0].0) * uniform(&mut truths);
        let sigma = PRIOR[1].0 + (PRIOR[1].1 - PRIOR[1].0) * uniform(&mut truths);
        let targets = observe(mu, sigma, &mut truths);
        let (intervals, inflated) = fit(targets, noise, k, simulate);
        inflation += inflated / DATA_SETS as f64;
        for (c, ((lo, hi), truth)) in covered.iter_mut().zip(intervals.iter().zip([mu, sigma])) {
            if *lo <= truth && truth <= *hi {
                *c += 1;
            }
        }
    }
    (covered, inflation)
}

#[test]
fn simulated_data_sets_cover_the_truth_at_the_nominal_rate() {
    // The observed moments and their SEs come from one data set; the simulator draws a data
    // set of the same size, so its moments scatter like the observed ones.
    let covered = show(
        "as simulated",
        coverage(
            SimulationNoise::AsSimulated,
            |mu, sigma, rng| {
                let (m, s) = data_set(mu, sigma, rng);
                let n = N as f64;
                vec![
                    Estimate::new(m, s / n.sqrt()),
                    Estimate::new(s, s / (2.0 * (n - 1.0)).sqrt()),
                ]
            },
            |mu, sigma, rng| {
                let (m, s) = data_set(mu, sigma, rng);
                vec![Estimate::exact(m), Estimate::exact(s)]
            },
        ),
    );
    for c in covered {
        assert!((80..=97).contains(&c), "coverage {covered:?}");
    }
}

/// Prints the coverage for the report.
fn show(name: &str, (covered, inflation): ([u32; 2], f64)) -> [u32; 2] {
    eprintln!(
        "{name}: 90% intervals cover μ in {}, σ in {} of 100 (interval inflation {inflation:.3})",
        covered[0], covered[1]
    );
    covered
}

/// Targets observed with known SEs around the model's expected moments (μ, σ).
fn expected_moments_observed(mu: f64, sigma: f64, rng: &mut ChaCha8Rng) -> Vec<Estimate> {
    vec![
        Estimate::new(mu + 0.2 * normal(rng), 0.2),
        Estimate::new(sigma + 0.1 * normal(rng), 0.1),
    ]
}

#[test]
fn expected_moments_with_matched_noise_cover_the_truth_at_the_nominal_rate() {
    // The simulator returns the expected moments exactly, as datapact's means over many
    // replications nearly do; MatchTargets adds the targets' sampling error.
    let covered = show(
        "matched noise",
        coverage(
            SimulationNoise::MatchTargets,
            expected_moments_observed,
            |mu, sigma, _| vec![Estimate::exact(mu), Estimate::exact(sigma)],
        ),
    );
    for c in covered {
        assert!((80..=97).contains(&c), "coverage {covered:?}");
    }
}

#[test]
fn expected_moments_without_noise_give_intervals_far_too_narrow() {
    // Why MatchTargets exists: taken as they are, exact moments make the posterior collapse
    // onto the parameters that reproduce the observed moments exactly.
    let covered = show(
        "no noise",
        coverage(
            SimulationNoise::AsSimulated,
            expected_moments_observed,
            |mu, sigma, _| vec![Estimate::exact(mu), Estimate::exact(sigma)],
        ),
    );
    for c in covered {
        assert!(c < 50, "coverage {covered:?}");
    }
}

#[test]
fn abc_resumes_from_a_saved_state_to_the_same_posterior() {
    let targets = vec![Estimate::new(1.0, 0.2), Estimate::new(1.5, 0.1)];
    let sim = |p: &datapact_search::Proposal| {
        vec![
            Estimate::exact(p.point[0].as_f64()),
            Estimate::exact(p.point[1].as_f64()),
        ]
    };
    let mut config = AbcConfig::new(50, 200, 3);
    config.noise = SimulationNoise::MatchTargets;
    let run = |abc: &mut Abc, generations: u32| {
        for _ in 0..generations {
            let asked = abc.ask();
            abc.tell(asked.iter().map(sim).collect()).unwrap();
        }
    };
    let mut whole = Abc::new(space(), targets.clone(), config.clone()).unwrap();
    run(&mut whole, 4);
    let mut part = Abc::new(space(), targets, config).unwrap();
    run(&mut part, 2);
    part.ask();
    let mut resumed: Abc = serde_json::from_str(&serde_json::to_string(&part).unwrap()).unwrap();
    run(&mut resumed, 2);
    assert_eq!(resumed, whole);
    let total: f64 = whole.posterior().iter().map(|p| p.weight).sum();
    assert!((total - 1.0).abs() < 1e-12);
}

#[test]
fn a_categorical_key_is_recovered() {
    // The moment is 2 under label "b" and 0 under "a" or "c", plus a real shift x ∈ [0, 0.5]:
    // a target of 2.2 ± 0.05 is only reachable with "b".
    let space = Space::new(vec![
        Variable::categorical("family", ["a", "b", "c"]),
        Variable::real("x", 0.0, 0.5),
    ])
    .unwrap();
    let mut config = AbcConfig::new(100, 400, 1);
    config.noise = SimulationNoise::MatchTargets;
    let mut abc = Abc::new(space, vec![Estimate::new(2.2, 0.05)], config).unwrap();
    for _ in 0..4 {
        let asked = abc.ask();
        let told = asked
            .iter()
            .map(|p| {
                let base = if p.point[0].as_f64() == 1.0 { 2.0 } else { 0.0 };
                vec![Estimate::exact(base + p.point[1].as_f64())]
            })
            .collect();
        abc.tell(told).unwrap();
    }
    let on_b: f64 = abc
        .posterior()
        .iter()
        .filter(|p| p.point[0].as_f64() == 1.0)
        .map(|p| p.weight)
        .sum();
    assert!(on_b > 0.99, "posterior mass on b: {on_b}");
    let (lo, hi) = abc.interval(1, 0.9).unwrap();
    assert!(lo < 0.2 && 0.2 < hi && hi - lo < 0.3, "{lo}..{hi}");
}
