//! Repeated games: `rounds = 1` reproduces the single campaign exactly; persistent costs, learning
//! and free-riders do what their definitions say.

use datapact_model::stats::Stat;
use datapact_model::{CostProcess, Dynamics, Game, Learning};
use datapact_runner::Shard;
use datapact_sim::{Backend, CellJob, CellOutput, Depth, RunSpec, run_cell};
use datapact_tests::*;
use datapact_trace::Table;

fn cell(game: Game, reps: u32, depth: Depth) -> CellOutput {
    let spec = RunSpec {
        seed: 17,
        replications: reps,
        first_replication: 0,
        adaptive: None,
        mechanisms: vec![C, S, M],
        depth,
        backend: Backend::Ecs,
        plugins: std::sync::Arc::new(datapact_sim::PluginSet::core()),
        variants: Vec::new(),
    };
    run_cell(&CellJob { index: 2, game }, &spec).unwrap()
}

#[test]
fn one_round_reproduces_the_single_campaign_outputs() {
    let plain = tempfile::tempdir().unwrap();
    let repeated = tempfile::tempdir().unwrap();
    let small = [
        "scenario.replications=50",
        "output.trace=events",
        "sweep.game.value.steps=4",
        "sweep.game.payment.steps=4",
    ];
    run(&baseline(&small), plain.path(), 2, Shard::WHOLE);
    // rounds = 1 with every other dynamics option switched on: none may act in a single round.
    let mut with_dynamics = small.to_vec();
    with_dynamics.extend([
        "dynamics.rounds=1",
        "dynamics.cost_process=ar1",
        "dynamics.learning=adaptive",
    ]);
    run(&baseline(&with_dynamics), repeated.path(), 1, Shard::WHOLE);
    for table in [
        Table::Cells,
        Table::Diagnostics,
        Table::Rounds,
        Table::Events,
    ] {
        let (a, b) = (read(plain.path(), table), read(repeated.path(), table));
        assert!(!a.is_empty());
        assert_eq!(a, b, "{table} differs with rounds = 1");
    }
}

#[test]
fn persistent_costs_without_noise_repeat_the_same_campaign() {
    let game = Game {
        value: 0.15,
        payment: 0.1,
        drift: 0.0,
        dynamics: Dynamics {
            rounds: 4,
            cost_process: CostProcess::Persistent,
            learning: Learning::None,
        },
        ..Game::default()
    };
    let o = cell(game, 40, Depth::Rounds);
    for rep in 0..40 {
        for m in [C, S, M] {
            let per_round: Vec<_> = o
                .rounds
                .iter()
                .filter(|r| r.rep == rep && r.mechanism == m)
                .map(|r| r.outcome)
                .collect();
            assert_eq!(per_round.len(), 4);
            assert!(
                per_round.windows(2).all(|w| w[0] == w[1]),
                "rep {rep} {m:?}: outcome changed with identical costs"
            );
        }
    }
    // With i.i.d. costs the rounds differ.
    let iid = cell(
        Game {
            dynamics: Dynamics {
                rounds: 4,
                ..Dynamics::default()
            },
            ..Game {
                value: 0.15,
                payment: 0.1,
                ..Game::default()
            }
        },
        40,
        Depth::Rounds,
    );
    assert!(
        iid.rounds
            .iter()
            .filter(|r| r.round == 1)
            .zip(iid.rounds.iter().filter(|r| r.round == 0))
            .any(|(a, b)| a.outcome != b.outcome)
    );
}

#[test]
fn adaptive_learning_changes_c_and_only_c() {
    let base = Game {
        value: 0.2,
        payment: 0.05,
        drift: 0.0,
        ..Game::default()
    };
    let dynamics = |learning| Dynamics {
        rounds: 3,
        cost_process: CostProcess::Persistent,
        learning,
    };
    let fixed = cell(
        Game {
            dynamics: dynamics(Learning::None),
            ..base.clone()
        },
        200,
        Depth::Rounds,
    );
    let learning = cell(
        Game {
            dynamics: dynamics(Learning::Adaptive { rate: 0.5 }),
            ..base
        },
        200,
        Depth::Rounds,
    );
    let data = |o: &CellOutput, round: u32, m: u16| -> f64 {
        o.rounds
            .iter()
            .filter(|r| r.round == round && r.mechanism == m)
            .map(|r| r.outcome.data)
            .sum()
    };
    assert_eq!(
        data(&fixed, 0, C),
        data(&learning, 0, C),
        "round 0 precedes any learning"
    );
    assert_ne!(
        data(&fixed, 2, C),
        data(&learning, 2, C),
        "learned beliefs change C's contributions"
    );
    for m in [S, M] {
        assert_eq!(
            data(&fixed, 2, m),
            data(&learning, 2, m),
            "{m:?} has no belief to learn"
        );
    }
}

#[test]
fn free_riders_withdraw_when_not_pivotal_under_m_but_cannot_tell_under_s() {
    let base = Game {
        value: 0.25,
        payment: 0.15,
        ..Game::default()
    };
    let sincere = cell(base.clone(), 300, Depth::Rounds);
    let riders = cell(
        Game {
            population: datapact_model::Population {
                withdraw: datapact_model::StrategyShare {
                    strategy: 1,
                    share: 1.0,
                    params: Default::default(),
                },
                ..Default::default()
            },
            ..base
        },
        300,
        Depth::Rounds,
    );
    let stats = |o: &CellOutput, m: u16| {
        o.summaries[0]
            .stats
            .iter()
            .find(|(x, _)| *x == m)
            .unwrap()
            .1
            .clone()
    };
    // A single round reveals nothing to S's users: free-riders act sincerely.
    assert_eq!(stats(&sincere, S), stats(&riders, S));
    // Under M the undecided users' caps are revealed: early deciders see they are not pivotal.
    let (w0, w1) = (
        stats(&sincere, M).get(Stat::Withdrawals).mean(),
        stats(&riders, M).get(Stat::Withdrawals).mean(),
    );
    assert!(
        w1 > w0 + 1.0,
        "free-riders should withdraw more under M: {w0} vs {w1}"
    );
    let (s0, s1) = (
        stats(&sincere, M).get(Stat::Success).mean(),
        stats(&riders, M).get(Stat::Success).mean(),
    );
    assert!(
        s1 <= s0,
        "free-riding cannot raise M's success: {s0} vs {s1}"
    );
}
