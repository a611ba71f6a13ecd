//! The large-campaign path (`datapact_sim::large`) must not change a single number: its cell
//! outputs (statistics, diagnostics, per-campaign records) equal the direct kernel's and the
//! ECS's, bit for bit, and it is taken exactly where that holds by construction.

use std::sync::Arc;

use datapact_model::param::ParamValues;
use datapact_model::{CostDist, Dynamics, Game, Order, Population, StrategyShare};
use datapact_sim::large::{LARGE_MIN_USER_CAMPAIGNS, is_large, run_cell_large};
use datapact_sim::{Backend, CellJob, Depth, PluginSet, RunSpec, run_cell};

const C: u16 = 0;
const S: u16 = 1;
const M: u16 = 2;

fn spec(backend: Backend, depth: Depth, reps: u32, mechanisms: Vec<u16>) -> RunSpec {
    RunSpec {
        seed: 4242,
        replications: reps,
        first_replication: 0,
        mechanisms,
        depth,
        backend,
        plugins: Arc::new(PluginSet::core()),
        variants: Vec::new(),
        adaptive: None,
    }
}

/// A game at `users` with the given noise, drift, order and strategy mix.
fn game(users: usize, obs_noise: f64, drift: f64, order: Order, mixed: bool) -> Game {
    let population = if mixed {
        Population {
            report: StrategyShare {
                strategy: 1,
                share: 0.25,
                params: ParamValues(vec![-0.2]),
            },
            withdraw: StrategyShare {
                strategy: 1,
                share: 0.3,
                params: ParamValues::default(),
            },
            ..Population::default()
        }
    } else {
        Population::default()
    };
    Game {
        users,
        obs_noise,
        drift,
        order,
        population,
        ..Game::default()
    }
}

#[test]
fn large_path_equals_the_direct_kernel_and_the_ecs() {
    let cases = [
        (1_000, 0.0, 0.5, Order::SmallFirst, false, 4),
        (1_000, 0.3, 0.0, Order::Random, true, 3),
        (10_000, 0.0, 1.0, Order::LargeFirst, true, 3),
        (10_000, 0.5, 0.5, Order::CostAscending, false, 2),
        (100_000, 0.2, 0.5, Order::SmallFirst, false, 2),
    ];
    for (users, noise, drift, order, mixed, reps) in cases {
        for value in [0.1, 0.15] {
            let job = CellJob {
                index: 3,
                game: Game {
                    value,
                    ..game(users, noise, drift, order, mixed)
                },
            };
            let all = vec![C, S, M];
            let large = run_cell_large(&job, &spec(Backend::Ecs, Depth::Rounds, reps, all.clone()))
                .unwrap();
            let direct = run_cell(
                &job,
                &spec(Backend::Direct, Depth::Rounds, reps, all.clone()),
            )
            .unwrap();
            assert_eq!(large, direct, "n={users} V={value} {order:?}");
            assert_eq!(large.rounds.len(), 3 * reps as usize);
            if users <= 10_000 {
                // Below the threshold the ECS plays them itself.
                let ecs = run_cell(&job, &spec(Backend::Ecs, Depth::Rounds, reps, all)).unwrap();
                assert_eq!(large, ecs, "n={users} V={value} {order:?}");
            }
            // One mechanism alone (no diagnostics across mechanisms), replications from 1.
            let m_only = RunSpec {
                first_replication: 1,
                ..spec(Backend::Ecs, Depth::Cells, 1, vec![M])
            };
            let direct_m = RunSpec {
                backend: Backend::Direct,
                ..m_only.clone()
            };
            assert_eq!(
                run_cell_large(&job, &m_only).unwrap(),
                run_cell(&job, &direct_m).unwrap()
            );
        }
    }
}

/// An adaptive cell on the large path plays the same batches, stops at the same count and gives
/// the same outputs as on the direct kernel.
#[test]
fn adaptive_cells_stop_alike_on_the_large_path() {
    let job = CellJob {
        index: 0,
        game: Game {
            value: 0.12,
            ..game(2_000, 0.2, 0.5, Order::SmallFirst, false)
        },
    };
    let rule = datapact_sim::StopRule {
        target_se: 3.0,
        metric: datapact_model::stats::TargetMetric::Core(datapact_model::stats::Stat::Withdrawals),
        min: 3,
        max: 40,
        batch: 2,
        contrast: None,
    };
    let adaptive = |backend| RunSpec {
        adaptive: Some(rule),
        ..spec(backend, Depth::Rounds, rule.max, vec![C, S, M])
    };
    let large = run_cell_large(&job, &adaptive(Backend::Ecs)).unwrap();
    let direct = run_cell(&job, &adaptive(Backend::Direct)).unwrap();
    assert_eq!(large, direct);
    let reps = large.rounds.len() / 3;
    assert!(
        (4..40).contains(&reps),
        "the rule plays more than min and stops before max here: {reps}"
    );
}

#[test]
fn the_ecs_backend_takes_the_path_from_the_threshold() {
    let users = LARGE_MIN_USER_CAMPAIGNS.div_ceil(3);
    let job = CellJob {
        index: 0,
        game: game(users, 0.1, 0.5, Order::SmallFirst, false),
    };
    let all = vec![S, C, M];
    let ecs = spec(Backend::Ecs, Depth::Rounds, 2, all.clone());
    assert!(is_large(&job, &ecs));
    let direct = spec(Backend::Direct, Depth::Rounds, 2, all.clone());
    assert!(
        !is_large(&job, &direct),
        "the direct backend stays the reference"
    );
    assert_eq!(
        run_cell(&job, &ecs).unwrap(),
        run_cell(&job, &direct).unwrap()
    );

    let below = CellJob {
        game: Game {
            users: users - 1,
            ..job.game.clone()
        },
        ..job.clone()
    };
    assert!(!is_large(&below, &ecs));
    let events = spec(Backend::Ecs, Depth::Events, 2, all.clone());
    assert!(!is_large(&job, &events), "events are traced on the ECS");
    let repeated = CellJob {
        game: Game {
            dynamics: Dynamics {
                rounds: 2,
                ..Dynamics::default()
            },
            ..job.game.clone()
        },
        ..job.clone()
    };
    assert!(!is_large(&repeated, &ecs), "repeated games keep the ECS");
    let uniform = CellJob {
        game: Game {
            cost: CostDist::Constant { value: 0.3 },
            ..job.game.clone()
        },
        ..job
    };
    assert!(is_large(&uniform, &ecs));
}
