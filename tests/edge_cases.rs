//! Numerical edge cases: V = 0, p = 0, θ = 1, n = 1, costs exactly 0, identical users, no drift
//! or noise, extremely skewed Beta costs. Every one runs through the ECS and the direct kernel,
//! gives identical results, finite numbers everywhere, and the outcome the model implies.

use datapact_model::{CostDist, Game, Status};
use datapact_sim::{Backend, CellJob, CellOutput, Depth, RunSpec, run_cell};
use datapact_tests::{C, M, S};

fn run(game: Game, reps: u32) -> CellOutput {
    let spec = |backend| RunSpec {
        seed: 3,
        replications: reps,
        first_replication: 0,
        adaptive: None,
        mechanisms: vec![C, S, M],
        depth: Depth::Events,
        backend,
        plugins: std::sync::Arc::new(datapact_sim::PluginSet::core()),
        variants: Vec::new(),
    };
    let job = CellJob { index: 0, game };
    let ecs = run_cell(&job, &spec(Backend::Ecs)).expect("invariants hold");
    let direct = run_cell(&job, &spec(Backend::Direct)).expect("invariants hold");
    assert_eq!(ecs, direct, "ECS and direct kernel disagree");
    for r in &ecs.rounds {
        let o = &r.outcome;
        for v in [o.welfare, o.privacy_cost, o.subsidy, o.leakage, o.data] {
            assert!(v.is_finite(), "{:?}: non-finite outcome {o:?}", r.mechanism);
        }
    }
    for e in &ecs.events {
        assert!(
            e.event.burden.is_none_or(f64::is_finite) && e.event.cost.is_none_or(f64::is_finite),
            "{e:?}"
        );
    }
    for (_, s) in ecs.summaries.iter().flat_map(|r| &r.stats) {
        for stat in datapact_model::stats::Stat::ALL {
            let w = s.get(stat);
            assert!(w.mean().is_finite() && w.se().is_finite(), "{stat:?}");
        }
    }
    ecs
}

fn statuses(o: &CellOutput, m: u16) -> Vec<Status> {
    o.rounds
        .iter()
        .filter(|r| r.mechanism == m)
        .map(|r| r.outcome.status)
        .collect()
}

#[test]
fn no_value_and_no_payment_means_nothing_happens() {
    let o = run(
        Game {
            value: 0.0,
            payment: 0.0,
            ..Game::default()
        },
        50,
    );
    assert!(statuses(&o, S).iter().all(|s| *s == Status::Null));
    assert!(statuses(&o, M).iter().all(|s| *s == Status::Null));
    // C: nobody has a reason to contribute, so nothing is delivered or paid.
    for r in o.rounds.iter().filter(|r| r.mechanism == C) {
        assert_eq!(
            (r.outcome.data, r.outcome.subsidy, r.outcome.status),
            (0.0, 0.0, Status::Failure)
        );
    }
}

#[test]
fn zero_payment_still_works_on_value_alone() {
    let o = run(
        Game {
            value: 0.3,
            payment: 0.0,
            ..Game::default()
        },
        200,
    );
    let s = statuses(&o, S);
    assert!(
        s.contains(&Status::Success),
        "V = 0.3 with p = 0 should sometimes succeed"
    );
    assert!(o.rounds.iter().all(|r| r.outcome.subsidy == 0.0));
}

#[test]
fn threshold_one_needs_every_users_whole_unit() {
    let o = run(
        Game {
            threshold: 1.0,
            value: 0.3,
            payment: 0.3,
            ..Game::default()
        },
        100,
    );
    for r in o
        .rounds
        .iter()
        .filter(|r| r.mechanism != C && r.outcome.status == Status::Success)
    {
        assert!(
            (r.outcome.data - 20.0).abs() < 1e-6,
            "success with θ = 1 keeps all data"
        );
    }
}

#[test]
fn a_single_user() {
    let o = run(
        Game {
            users: 1,
            value: 0.3,
            payment: 0.1,
            ..Game::default()
        },
        200,
    );
    assert_eq!(o.rounds.len(), 600);
    let s_ok = statuses(&o, S);
    let m_ok = statuses(&o, M);
    // With one user there is nobody to re-assign to: S and M coincide.
    assert_eq!(s_ok, m_ok);
}

#[test]
fn costs_exactly_zero() {
    let o = run(
        Game {
            cost: CostDist::Constant { value: 0.0 },
            value: 0.0,
            payment: 0.0,
            ..Game::default()
        },
        20,
    );
    // Free data: every mechanism succeeds at no cost, even with V = p = 0.
    for r in &o.rounds {
        assert_eq!(r.outcome.status, Status::Success, "{:?}", r.mechanism);
        assert_eq!(r.outcome.privacy_cost, 0.0);
    }
}

#[test]
fn identical_users_without_drift_or_noise() {
    let g = Game {
        cost: CostDist::Constant { value: 0.5 },
        drift: 0.0,
        obs_noise: 0.0,
        value: 0.2,
        payment: 0.1,
        ..Game::default()
    };
    let o = run(g, 30);
    // Identical users, no randomness: every replication has the same outcome, and nobody withdraws.
    for m in [C, S, M] {
        let rows: Vec<_> = o
            .rounds
            .iter()
            .filter(|r| r.mechanism == m)
            .map(|r| r.outcome)
            .collect();
        assert!(
            rows.windows(2).all(|w| w[0] == w[1]),
            "{m:?} varies without randomness"
        );
    }
    assert!(o.rounds.iter().all(|r| r.outcome.withdrawals == 0));
    // Equal burdens θ = 0.6 each; κ = 0.5·0.36/2 = 0.09 ≤ V + p·x = 0.26: S and M succeed.
    assert_eq!(statuses(&o, S)[0], Status::Success);
}

#[test]
fn extremely_skewed_costs() {
    for cost in [
        CostDist::Beta {
            alpha: 0.01,
            beta: 100.0,
        },
        CostDist::Beta {
            alpha: 100.0,
            beta: 0.01,
        },
        CostDist::LogNormal {
            mu: 0.0,
            sigma: 4.0,
        },
    ] {
        run(
            Game {
                cost,
                value: 0.15,
                payment: 0.15,
                obs_noise: 2.0,
                drift: 3.0,
                ..Game::default()
            },
            100,
        );
    }
}
