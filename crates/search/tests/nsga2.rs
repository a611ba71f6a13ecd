//! NSGA-II end to end: determinism, resume, constraints, categorical and integer keys, noise.

use datapact_search::pareto::dominates;
use datapact_search::problems::Zdt;
use datapact_search::{
    Estimate, Evaluation, Evaluator, NoiseHandling, Nsga2, Nsga2Config, Request, Space, Value,
    Variable,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A mixed problem with a constraint and noise: reals x, y, an integer n and a rule.
/// Objectives (minimised): f1 = x + off(rule) + (n − 3)²/10, f2 = 1 − x + y + off(rule);
/// constraint x ≥ 0.1 (g = 0.1 − x). Noise: normal with SD 0.02 per evaluation, drawn from
/// (candidate, batch) so a re-evaluation sees fresh noise and a repeat sees the same.
struct Mixed;

fn mixed_space() -> Space {
    Space::new(vec![
        Variable::real("x", 0.0, 1.0),
        Variable::real("y", 0.0, 1.0),
        Variable::integer("n", 0, 6),
        Variable::categorical("rule", ["a", "b", "c"]),
    ])
    .unwrap()
}

fn noise(id: u64, batch: u32, k: u64) -> f64 {
    let mut rng = ChaCha8Rng::seed_from_u64(id * 1000 + u64::from(batch) * 10 + k);
    let u1 = 1.0 - (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
    let u2 = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
    (-2.0 * libm::log(u1)).sqrt() * libm::cos(std::f64::consts::TAU * u2)
}

fn truth(point: &[Value]) -> [f64; 2] {
    let (x, y) = (point[0].as_f64(), point[1].as_f64());
    let n = point[2].as_f64();
    let off = [0.5, 0.0, 0.3][point[3].as_f64() as usize];
    [x + off + (n - 3.0).powi(2) / 10.0, 1.0 - x + y + off]
}

impl Evaluator for Mixed {
    fn evaluate(&mut self, requests: &[Request]) -> Vec<Evaluation> {
        requests
            .iter()
            .map(|r| {
                let f = truth(&r.point);
                let obj = (0..2)
                    .map(|k| Estimate::new(f[k] + 0.02 * noise(r.id.0, r.batch, k as u64), 0.02))
                    .collect();
                Evaluation {
                    objectives: obj,
                    constraints: vec![Estimate::exact(r.point[0].as_f64()).at_least(0.1)],
                    replications: 4,
                }
            })
            .collect()
    }
}

fn mixed_config(seed: u64) -> Nsga2Config {
    let mut c = Nsga2Config::new(16, seed);
    c.noise = NoiseHandling {
        reevaluations: 4,
        max_batches: 4,
    };
    c
}

fn run_mixed(seed: u64, generations: u32) -> Nsga2 {
    let mut run = Nsga2::new(mixed_space(), 2, 1, mixed_config(seed)).unwrap();
    for _ in 0..generations {
        run.step(&mut Mixed).unwrap();
    }
    run
}

#[test]
fn same_seed_same_run_other_seed_other_run() {
    let a = run_mixed(5, 6);
    let b = run_mixed(5, 6);
    assert_eq!(a, b);
    let c = run_mixed(6, 6);
    assert_ne!(a.population(), c.population());
    // A generation ranks parents and offspring together; the population keeps N of them.
    let mut run = run_mixed(5, 6);
    let told = run.step(&mut Mixed).unwrap();
    assert_eq!(told.generation, 6);
    assert_eq!(told.ranked.len(), 16 + told.evaluated);
    assert!(told.reevaluated <= 4);
    assert_eq!(told.ranked.iter().filter(|r| r.survived).count(), 16);
    for m in run.population() {
        let r = told.ranked.iter().find(|r| r.id == m.id).unwrap();
        assert!(r.survived && r.rank == m.rank);
    }
    let worst_kept = run.population().iter().map(|m| m.rank).max().unwrap();
    assert!(
        told.ranked
            .iter()
            .all(|r| r.survived || r.rank >= worst_kept)
    );
}

#[test]
fn resume_after_tell_or_ask_equals_uninterrupted() {
    let whole = run_mixed(9, 10);
    // Stop after a tell: the saved state goes through JSON and on.
    let mut run = run_mixed(9, 4);
    let saved = serde_json::to_string(&run).unwrap();
    run = serde_json::from_str(&saved).unwrap();
    for _ in 4..10 {
        run.step(&mut Mixed).unwrap();
    }
    assert_eq!(run, whole);
    // Stop between an ask and its tell: the resumed run asks the same and goes on alike.
    let mut run = run_mixed(9, 7);
    let asked = run.ask();
    let saved = serde_json::to_string(&run).unwrap();
    let mut resumed: Nsga2 = serde_json::from_str(&saved).unwrap();
    assert_eq!(resumed.ask(), asked);
    for _ in 7..10 {
        resumed.step(&mut Mixed).unwrap();
    }
    assert_eq!(resumed, whole);
    assert_eq!(resumed.front(), whole.front());
}

#[test]
fn mixed_front_is_feasible_non_dominated_and_finds_the_best_label_and_integer() {
    let run = run_mixed(3, 40);
    let front = run.front();
    assert!(front.len() >= 5, "front of {}", front.len());
    for m in &front {
        assert!(run.space().contains(&m.point));
        assert!(m.point[0].as_f64() >= 0.1, "infeasible member {m:?}");
        assert_eq!(m.point[3], Value::Label(1), "rule b has no offset: {m:?}");
        assert_eq!(m.point[2], Value::Integer(3), "n = 3 has no penalty: {m:?}");
    }
    let means: Vec<Vec<f64>> = front.iter().map(|m| m.objective_means()).collect();
    for a in &means {
        assert!(!means.iter().any(|b| dominates(b, a)), "{a:?} is dominated");
    }
    assert_eq!(run.population().len(), 16);
    assert!(run.population().iter().all(|m| m.batches <= 4));
}

/// The unit square of reals x and y.
fn unit_square() -> Space {
    Space::new(vec![
        Variable::real("x", 0.0, 1.0),
        Variable::real("y", 0.0, 1.0),
    ])
    .unwrap()
}

fn xy(r: &Request) -> (f64, f64) {
    (r.point[0].as_f64(), r.point[1].as_f64())
}

#[test]
fn constrained_domination_drives_an_infeasible_start_to_the_feasible_front() {
    // Minimise (x, y) subject to x + y ≥ 1.6 and x ≤ 0.9: only 5% of the square is feasible.
    let mut corner = |r: &Request| {
        let (x, y) = xy(r);
        Evaluation {
            objectives: vec![Estimate::exact(x), Estimate::exact(y)],
            constraints: vec![
                Estimate::exact(x + y).at_least(1.6),
                Estimate::exact(x).at_most(0.9),
            ],
            replications: 1,
        }
    };
    let space = unit_square();
    let mut run = Nsga2::new(space, 2, 2, Nsga2Config::new(20, 1)).unwrap();
    let first = run.step(&mut corner).unwrap();
    assert_eq!(first.generation, 0);
    assert_eq!(first.evaluated, 20);
    for _ in 0..40 {
        run.step(&mut corner).unwrap();
    }
    let front = run.front();
    assert!(front.len() >= 10, "{}", front.len());
    for m in &front {
        let (x, y) = (m.point[0].as_f64(), m.point[1].as_f64());
        assert!(x + y >= 1.6 && x <= 0.9, "({x}, {y})");
        assert!(x + y < 1.65, "({x}, {y}) is far from the front x + y = 1.6");
    }
    // The front spans the feasible segment x ∈ [0.6, 0.9].
    let xs: Vec<f64> = front.iter().map(|m| m.point[0].as_f64()).collect();
    let (lo, hi) = xs
        .iter()
        .fold((1.0f64, 0.0f64), |(l, h), &x| (l.min(x), h.max(x)));
    assert!(lo < 0.65 && hi > 0.85, "{lo}..{hi}");
}

#[test]
fn zdt1_converges_at_a_small_budget() {
    let mut zdt = Zdt::Zdt1;
    let mut run = Nsga2::new(zdt.space(30), 2, 0, Nsga2Config::new(100, 0)).unwrap();
    let mut hv = Vec::new();
    for _ in 0..100 {
        run.step(&mut zdt).unwrap();
        hv.push(run.hypervolume(&[1.1, 1.1]));
    }
    // Elitism: the first front's hypervolume never falls (exact objectives).
    assert!(hv.windows(2).all(|w| w[1] >= w[0] - 1e-12), "{hv:?}");
    let ideal = Zdt::Zdt1.ideal_hypervolume(1.1);
    // pymoo reaches 0.847 ± 0.004 (10 seeds) at this budget; the ideal is 0.877.
    assert!(hv[99] > 0.93 * ideal, "{} of {ideal}", hv[99]);
}

#[test]
fn bad_results_are_refused_and_change_nothing() {
    let mut run = Nsga2::new(mixed_space(), 2, 1, mixed_config(1)).unwrap();
    let msg = |r: Result<_, datapact_search::SearchError>| r.unwrap_err().to_string();
    assert!(msg(run.tell(vec![])).contains("before it was asked"));
    let asked = run.ask();
    let good = Mixed.evaluate(&asked);
    assert!(msg(run.tell(good[1..].to_vec())).contains("asked for 16 evaluations, got 15"));
    let mut wide = good.clone();
    wide[3].objectives.push(Estimate::exact(0.0));
    assert!(msg(run.tell(wide)).contains("candidate 3: 3 objectives told, 2 expected"));
    let mut nan = good.clone();
    nan[2].constraints[0].mean = f64::NAN;
    assert!(msg(run.tell(nan)).contains("candidate 2: constraint 0"));
    let mut neg = good.clone();
    neg[0].objectives[1].se = -1.0;
    assert!(msg(run.tell(neg)).contains("SE ≥ 0"));
    let mut none = good.clone();
    none[0].replications = 0;
    assert!(msg(run.tell(none)).contains("replication"));
    assert_eq!(
        run.ask(),
        asked,
        "refused tells leave the generation as asked"
    );
    assert!(run.tell(good).is_ok());
    // Settings out of range are refused with the setting named.
    let mut c = Nsga2Config::new(1, 0);
    assert!(
        Nsga2::new(mixed_space(), 2, 0, c.clone())
            .unwrap_err()
            .to_string()
            .contains("population is 1")
    );
    c.population = 10;
    c.crossover.probability = 1.5;
    assert!(
        Nsga2::new(mixed_space(), 2, 0, c)
            .unwrap_err()
            .to_string()
            .contains("crossover probability is 1.5")
    );
}

/// A problem whose every point looks alike up to noise except for a penalty `y`: the true front
/// is y = 0. Returns, averaged over seeds, the bias of the reported front (reported minus true
/// f2) and its mean true penalty.
fn noisy_front(reevaluations: usize, seeds: u64) -> (f64, f64) {
    let mut noisy = |r: &Request| {
        let (x, y) = xy(r);
        let f2 = 1.0 - x + 0.2 * y + 0.1 * noise(r.id.0, r.batch, 0);
        Evaluation {
            objectives: vec![Estimate::exact(x), Estimate::new(f2, 0.1)],
            constraints: vec![],
            replications: 1,
        }
    };
    let (mut bias, mut penalty, mut count) = (0.0, 0.0, 0.0);
    for seed in 0..seeds {
        let mut c = Nsga2Config::new(20, seed);
        c.noise = NoiseHandling {
            reevaluations,
            max_batches: if reevaluations > 0 { 16 } else { 1 },
        };
        let mut run = Nsga2::new(unit_square(), 2, 0, c).unwrap();
        for _ in 0..30 {
            run.step(&mut noisy).unwrap();
        }
        loop {
            let asked = run.ask_polish();
            if asked.is_empty() {
                break;
            }
            let told = noisy.evaluate(&asked);
            run.tell(told).unwrap();
        }
        for m in run.front() {
            let (x, y) = (m.point[0].as_f64(), m.point[1].as_f64());
            bias += m.objectives[1].mean - (1.0 - x + 0.2 * y);
            penalty += y;
            count += 1.0;
        }
    }
    (bias / count, penalty / count)
}

#[test]
fn reevaluating_the_front_removes_the_luck_it_selected() {
    let (bias_off, penalty_off) = noisy_front(0, 8);
    let (bias_on, penalty_on) = noisy_front(10, 8);
    eprintln!("bias {bias_off} → {bias_on}, true penalty {penalty_off} → {penalty_on}");
    // Without re-evaluation the front is the luckiest draws: its estimates sit well below the
    // truth (per-evaluation SD 0.1; measured −0.19). Re-evaluating front members each
    // generation and polishing the final front pools fresh batches into every member that
    // stays, and the bias shrinks (measured −0.017): at least fourfold is asserted.
    assert!(
        bias_on > bias_off / 4.0,
        "bias with {bias_on}, without {bias_off}"
    );
}
