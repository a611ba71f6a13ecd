//! The ECS orchestration must not change a single number: every cell output (statistics,
//! diagnostics, per-campaign records and events) equals the direct kernel's, bit for bit.

use std::sync::Arc;

use datapact_model::param::ParamValues;
use datapact_model::stats::Stat;
use datapact_model::{
    CostDist, CostProcess, Dynamics, Game, Learning, NoEvents, Order, Population, StrategyShare,
};
use datapact_sim::{Backend, CellJob, Depth, PluginSet, RunSpec, phase_schedule, run_cell};
use proptest::prelude::*;

/// Catalog ids of the core mechanisms.
const C: u16 = 0;
const S: u16 = 1;
const M: u16 = 2;

fn core() -> Arc<PluginSet> {
    thread_local!(static CORE: Arc<PluginSet> = Arc::new(PluginSet::core()));
    CORE.with(|c| c.clone())
}

fn spec(backend: Backend, depth: Depth, reps: u32, mechanisms: Vec<u16>) -> RunSpec {
    RunSpec {
        seed: 99,
        replications: reps,
        first_replication: 0,
        adaptive: None,
        mechanisms,
        depth,
        backend,
        plugins: core(),
        variants: Vec::new(),
    }
}

/// `share` of the users shade by `factor` (the core catalog's report strategy 1).
fn shading(share: f64, factor: f64) -> Population {
    Population {
        report: StrategyShare {
            strategy: 1,
            share,
            params: ParamValues(vec![factor]),
        },
        ..Population::default()
    }
}

/// `share` of the users free-ride (the core catalog's withdraw strategy 1).
fn free_riding(share: f64) -> Population {
    Population {
        withdraw: StrategyShare {
            strategy: 1,
            share,
            params: ParamValues::default(),
        },
        ..Population::default()
    }
}

fn order() -> impl Strategy<Value = Order> {
    prop_oneof![
        Just(Order::SmallFirst),
        Just(Order::LargeFirst),
        Just(Order::Random),
        Just(Order::CostAscending)
    ]
}

/// Per-campaign records (rounds), plus every user (users), plus every event (events): each
/// compared record by record, so the `users` rows of both paths are equal bit for bit.
fn depth() -> impl Strategy<Value = Depth> {
    prop_oneof![Just(Depth::Rounds), Just(Depth::Users), Just(Depth::Events)]
}

fn cost() -> impl Strategy<Value = CostDist> {
    prop_oneof![
        Just(CostDist::Uniform {
            low: 0.0,
            high: 1.0
        }),
        Just(CostDist::Beta {
            alpha: 2.0,
            beta: 5.0
        }),
        Just(CostDist::LogNormal {
            mu: -1.0,
            sigma: 0.5
        }),
        Just(CostDist::Constant { value: 0.3 }),
    ]
}

/// A world playing C, S and M in single campaigns off a network schedules neither `async`'s nor
/// `vcg`'s systems, nor the shared learning step; the full schedule has them, and so does the
/// schedule of a repeated game on a network playing `async` (the test fails if `Uses` is
/// ignored, or ignores a mechanism the world plays). Counted, since bevy names systems only
/// with its debug feature.
#[test]
fn a_world_schedules_only_the_systems_it_uses() {
    use datapact_sim::{Uses, phase_schedule_for};
    let plugins = core();
    let count = |uses: &Uses| {
        let mut world = bevy_ecs::world::World::new();
        let mut schedule = phase_schedule_for::<NoEvents>(&plugins, uses);
        schedule
            .initialize(&mut world)
            .expect("builds without ambiguities");
        schedule.systems().expect("initialized").count()
    };
    let id = |name: &str| plugins.catalog().mechanism(name).expect("core mechanism") as u16;
    // Shared: draw, report, assign, open, settle (+ remember outcome and withdrawals when
    // repeated on a network); C: respond, commit, settle, learn; S, M, async: one protocol
    // each; vcg: allocate, decide, settle.
    let (shared, learn, c, s, m, asynchronous, vcg) = (5, 2, 4, 1, 1, 1, 3);
    assert_eq!(
        count(&Uses::EVERYTHING),
        shared + learn + c + s + m + asynchronous + vcg
    );
    assert_eq!(
        count(&Uses::of(&[C, S, M], &Game::default())),
        shared + c + s + m
    );
    let repeated_async = Uses {
        mechanisms: Some(vec![id("async")]),
        repeated: true,
        networked: true,
    };
    assert_eq!(count(&repeated_async), shared + learn + asynchronous);
    let repeated_alone = Uses {
        networked: false,
        ..repeated_async
    };
    assert_eq!(count(&repeated_alone), shared + 1 + asynchronous);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn ecs_equals_direct(
        users in 1usize..30, value in 0.0f64..0.3, payment in 0.0f64..0.3, drift in 0.0f64..1.0,
        obs_noise in 0.0f64..0.5, recovery_rounds in 0u32..3, order in order(), cost in cost(),
        shade_share in 0.0f64..1.0, reps in 1u32..80, cell in 0usize..1000,
        mechanisms in prop_oneof![Just(vec![C, S, M]), Just(vec![M]), Just(vec![C, S])],
        depth in depth(), irreversible in prop_oneof![Just(0.0), Just(0.4)],
    ) {
        let game = Game { users, value, payment, drift, obs_noise, recovery_rounds, order, cost, irreversible, population: shading(shade_share, 0.3), ..Game::default() };
        let job = CellJob { index: cell, game };
        let ecs = run_cell(&job, &spec(Backend::Ecs, depth, reps, mechanisms.clone())).unwrap();
        let direct = run_cell(&job, &spec(Backend::Direct, depth, reps, mechanisms)).unwrap();
        prop_assert_eq!(ecs, direct);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Untraced single campaigns of C, S and M read nature's costs where they are banked
    /// (`Batch::costs_in_place`); with truthful reports they observe the banked observations and
    /// M (or S, whichever comes second) takes the assignment of its replication's first reporting
    /// campaign without comparing costs. Still the direct kernels' results bit for bit, in any
    /// mechanism order and whatever the batch lengths (a short last batch reads the campaigns
    /// listed for a longer one).
    #[test]
    fn ecs_reading_the_bank_equals_direct(
        users in 1usize..30, value in 0.0f64..0.3, payment in 0.0f64..0.3, drift in 0.0f64..1.0,
        obs_noise in prop_oneof![Just(0.0), 0.0f64..0.5], recovery_rounds in 0u32..3,
        order in order(), cost in cost(), irreversible in prop_oneof![Just(0.0), Just(0.4)],
        shade in prop_oneof![Just(None), (0.0f64..1.0).prop_map(Some)], reps in 1u32..300,
        cell in 0usize..1000,
        mechanisms in prop_oneof![Just(vec![C, S, M]), Just(vec![M, S]), Just(vec![S, C, M]), Just(vec![C])],
        depth in prop_oneof![Just(Depth::Cells), Just(Depth::Rounds)],
    ) {
        let population = shade.map_or_else(Population::default, |share| shading(share, -0.2));
        let game = Game { users, value, payment, drift, obs_noise, recovery_rounds, order, cost, irreversible, population, ..Game::default() };
        let job = CellJob { index: cell, game };
        let ecs = run_cell(&job, &spec(Backend::Ecs, depth, reps, mechanisms.clone())).unwrap();
        let direct = run_cell(&job, &spec(Backend::Direct, depth, reps, mechanisms)).unwrap();
        prop_assert_eq!(ecs, direct);
    }
}

#[test]
fn batches_do_not_change_results() {
    // 3000 replications of 20 users span several ECS batches; the result equals the direct loop.
    let job = CellJob {
        index: 5,
        game: Game {
            value: 0.15,
            payment: 0.05,
            ..Game::default()
        },
    };
    let all = vec![C, S, M];
    let ecs = run_cell(&job, &spec(Backend::Ecs, Depth::Cells, 3000, all.clone())).unwrap();
    let direct = run_cell(&job, &spec(Backend::Direct, Depth::Cells, 3000, all)).unwrap();
    assert_eq!(ecs, direct);
    assert_eq!(ecs.summaries[0].stats[0].1.reps(), 3000);
}

#[test]
fn kept_draws_equal_fresh_draws() {
    // Cells of one population share their draws, which a thread keeps from cell to cell: a
    // sequence of cells on one thread (warm: σ's, rounds and replication ranges changing, the
    // same seed and population) equals each cell computed on a fresh thread (cold) and the
    // direct loop, bit for bit. A second population in between empties and refills the bank.
    let all = vec![C, S, M];
    let base = Game {
        value: 0.12,
        payment: 0.04,
        ..Game::default()
    };
    let other = Game {
        users: 7,
        ..base.clone()
    };
    let games = [
        base.clone(),
        Game {
            drift: 0.9,
            ..base.clone()
        },
        Game {
            obs_noise: 0.3,
            order: Order::Random,
            ..base.clone()
        },
        other,
        Game {
            dynamics: Dynamics {
                rounds: 3,
                ..Dynamics::default()
            },
            ..base.clone()
        },
        base,
    ];
    let cells: Vec<(CellJob, RunSpec)> = games
        .into_iter()
        .enumerate()
        .flat_map(|(index, game)| {
            let job = CellJob { index, game };
            [0u32, 37].map(|first| {
                let spec = RunSpec {
                    first_replication: first,
                    ..spec(Backend::Ecs, Depth::Rounds, 90, all.clone())
                };
                (job.clone(), spec)
            })
        })
        .collect();
    let warm: Vec<_> = cells
        .iter()
        .map(|(job, spec)| run_cell(job, spec).unwrap())
        .collect();
    for ((job, spec), warm) in cells.iter().zip(warm) {
        let cold = std::thread::scope(|s| s.spawn(|| run_cell(job, spec).unwrap()).join())
            .expect("cold cell");
        assert_eq!(
            warm, cold,
            "cell {} from replication {}",
            job.index, spec.first_replication
        );
        let direct = RunSpec {
            backend: Backend::Direct,
            ..spec.clone()
        };
        assert_eq!(warm, run_cell(job, &direct).unwrap());
    }
}

#[test]
fn schedule_has_no_ambiguities() {
    // Ambiguity detection is set to error; building the schedule would fail on any conflict.
    let mut world = bevy_ecs::world::World::new();
    let mut schedule = phase_schedule::<NoEvents>(&core());
    schedule
        .initialize(&mut world)
        .expect("phase schedule builds without ambiguities");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]

    #[test]
    fn ecs_equals_direct_in_repeated_games(
        users in 2usize..16, value in 0.02f64..0.3, payment in 0.0f64..0.3, rounds in 1u32..5,
        process in prop_oneof![Just(CostProcess::Iid), Just(CostProcess::Persistent), Just(CostProcess::Ar1 { persistence: 0.7 })],
        adaptive in any::<bool>(), free_rider_share in 0.0f64..1.0, reps in 1u32..60, depth in depth(),
    ) {
        let learning = if adaptive { Learning::Adaptive { rate: 0.3 } } else { Learning::None };
        let game = Game { users, value, payment, population: free_riding(free_rider_share), dynamics: Dynamics { rounds, cost_process: process, learning }, ..Game::default() };
        let job = CellJob { index: 7, game };
        let all = vec![C, S, M];
        let ecs = run_cell(&job, &spec(Backend::Ecs, depth, reps, all.clone())).unwrap();
        let direct = run_cell(&job, &spec(Backend::Direct, depth, reps, all)).unwrap();
        prop_assert_eq!(ecs.summaries.len(), rounds as usize);
        prop_assert_eq!(ecs, direct);
    }
}

/// A component given to some users only, stored in tables (the default): those users move to
/// another table, out of campaign order.
#[derive(bevy_ecs::component::Component)]
struct Marked;

fn mark_every_third_user(world: &mut bevy_ecs::world::World) {
    let mut users = world.query::<(bevy_ecs::entity::Entity, &datapact_sim::components::Member)>();
    let marked: Vec<_> = users
        .iter(world)
        .filter(|(_, m)| m.slot % 3 == 1)
        .map(|(e, _)| e)
        .collect();
    for e in marked {
        world.entity_mut(e).insert(Marked);
    }
}

struct MarksSomeUsers;

impl datapact_sim::Plugin for MarksSomeUsers {
    fn build(&self, app: &mut PluginSet) {
        app.add_setup(mark_every_third_user);
    }
}

#[test]
#[should_panic(expected = "moved some users to another table")]
fn a_plugin_that_breaks_campaign_order_is_named() {
    let job = CellJob {
        index: 0,
        game: Game::default(),
    };
    let mut plugins = PluginSet::core();
    plugins.add_plugins(MarksSomeUsers);
    let spec = RunSpec {
        plugins: Arc::new(plugins),
        ..spec(Backend::Ecs, Depth::Cells, 4, vec![C, S, M])
    };
    let _ = run_cell(&job, &spec);
}

fn adaptive(rule: datapact_sim::StopRule, backend: Backend, depth: Depth) -> RunSpec {
    RunSpec {
        adaptive: Some(rule),
        ..spec(backend, depth, rule.max, vec![C, S, M])
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    /// An adaptive cell plays the same replications on both backends, and its output is that of
    /// a fixed run of as many replications: the batches and the stopping rule change which
    /// replications are played, never their numbers.
    #[test]
    fn adaptive_cells_equal_fixed_cells_of_their_count(
        users in 2usize..12, value in 0.0f64..0.3, payment in 0.0f64..0.3, rounds in 1u32..3,
        target in 0.01f64..0.3, min in 2u32..30, batch in 1u32..40, max in 30u32..300,
        contrast in any::<bool>(),
        metric in prop_oneof![Just(Stat::Success), Just(Stat::Welfare), Just(Stat::Data)],
    ) {
        let game = Game { users, value, payment, dynamics: Dynamics { rounds, ..Dynamics::default() }, ..Game::default() };
        let job = CellJob { index: 3, game };
        let rule = datapact_sim::StopRule { target_se: target, metric: datapact_model::stats::TargetMetric::Core(metric), min, max, batch, contrast: contrast.then_some((2, 1)) };
        let ecs = run_cell(&job, &adaptive(rule, Backend::Ecs, Depth::Rounds)).unwrap();
        let direct = run_cell(&job, &adaptive(rule, Backend::Direct, Depth::Rounds)).unwrap();
        prop_assert_eq!(&ecs, &direct);
        let reps = ecs.summaries[0].stats[0].1.reps() as u32;
        prop_assert!((min..=max).contains(&reps));
        let fixed = run_cell(&job, &spec(Backend::Ecs, Depth::Rounds, reps, vec![C, S, M])).unwrap();
        prop_assert_eq!(ecs, fixed);
    }
}

#[test]
fn users_are_recorded_from_the_users_depth_up_and_events_only_at_events() {
    let job = CellJob {
        index: 3,
        game: Game {
            users: 9,
            value: 0.12,
            payment: 0.05,
            ..Game::default()
        },
    };
    let all = vec![C, S, M];
    for backend in [Backend::Ecs, Backend::Direct] {
        let of = |depth| run_cell(&job, &spec(backend, depth, 7, all.clone())).unwrap();
        let (rounds, users, events) = (of(Depth::Rounds), of(Depth::Users), of(Depth::Events));
        assert!(rounds.users.is_empty() && rounds.events.is_empty());
        assert_eq!(users.users.len(), 7 * 3 * 9, "{backend:?}");
        assert!(
            users.events.is_empty(),
            "{backend:?}: users depth keeps no events"
        );
        assert_eq!(events.users, users.users, "{backend:?}");
        assert!(!events.events.is_empty());
        // Recording users changes no statistic.
        assert_eq!(users.summaries, rounds.summaries);
        // S and M users decide; C's never do.
        assert!(
            users
                .users
                .iter()
                .any(|u| u.mechanism != C && u.decision_time.is_some())
        );
        assert!(
            users
                .users
                .iter()
                .all(|u| (u.mechanism == C) == u.cap.is_none())
        );
    }
}

/// A deviator's gain through the plugin path (profiles played by the engine with overridden
/// strategies) equals the direct kernel's `deviation::gains`, bit for bit, under S and M.
#[test]
fn profiles_on_the_plugin_path_give_the_direct_kernels_gains() {
    use datapact_model::deviation::{Choice, DeviationScratch, Menu, gains, user_at_quantile};
    use datapact_model::{Kernel, campaign_rng};
    use datapact_sim::profiles::{Profile, ProfileCell, play_profiles};

    let plugins = Arc::new(PluginSet::core());
    let menu = Menu::new(&[0.5, 1.25]);
    let devs = menu.unilateral();
    let game = Game {
        value: 0.12,
        payment: 0.08,
        obs_noise: 0.2,
        ..Game::default()
    };
    let (seed, cell, reps) = (5, 3u64, 40u32);
    let profile = |c: Choice| (c.report, c.withdraw as u16);
    for kernel in [Kernel::Simultaneous, Kernel::Sequential] {
        let id = plugins.catalog().mechanism(kernel.name()).unwrap() as u16;
        let pc = ProfileCell {
            plugins: &plugins,
            game: &game,
            rules: menu.rules(),
            mechanism: id,
            seed,
            key: cell,
        };
        let mut ecs = vec![Vec::new(); reps as usize];
        play_profiles(
            &pc,
            0..reps,
            |_, cost| {
                let who = user_at_quantile(cost, 0.375);
                let mut p = vec![Profile {
                    base: (0, 0),
                    deviator: None,
                }];
                p.extend(devs.iter().map(|&d| Profile {
                    base: (0, 0),
                    deviator: Some((who, profile(d))),
                }));
                p
            },
            |rep, _, _, payoffs| ecs[rep as usize].push(payoffs.to_vec()),
        );
        let (mut draws, mut scratch, mut out) = (
            datapact_model::Draws::default(),
            DeviationScratch::default(),
            Vec::new(),
        );
        let sampler = game.cost.sampler().unwrap();
        let mut differ = 0;
        for rep in 0..reps {
            draws.fill(20, &sampler, &mut campaign_rng(seed, cell, rep as u64));
            let who = user_at_quantile(&draws.cost, 0.375);
            gains(
                kernel,
                &game,
                &menu,
                &draws,
                Choice::TRUTHFUL,
                &[who],
                &devs,
                &mut scratch,
                &mut out,
            );
            let payoffs = &ecs[rep as usize];
            for (j, direct) in out.iter().enumerate() {
                let gain = payoffs[j + 1][who] - payoffs[0][who];
                assert_eq!(
                    gain.to_bits(),
                    direct.to_bits(),
                    "{kernel:?} rep {rep} dev {j}"
                );
                differ += usize::from(*direct != 0.0);
            }
        }
        assert!(differ > 0, "some deviations change the deviator's utility");
    }
}
