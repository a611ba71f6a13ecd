//! Protocol M with the incremental re-assignment (`reassign::Reassign`) against the fresh
//! water-filling it replaces on large campaigns: the same decisions, the same way of ending, and
//! burdens, committed data and event logs equal to rounding (1e-12 of max(1, |x|)), on random
//! instances with ties, zero costs, zero caps, infeasible and unsustainable re-assignments, all
//! four orders and both withdrawal rules. Each path is forced with `Reassign::set_min_users`.

use datapact_model::events::{Event, EventSink, TrailEvents, UserTrail};
use datapact_model::reassign::INCREMENTAL_MIN_USERS;
use datapact_model::waterfill::{FillScratch, water_fill};
use datapact_model::withdraw::{Decision, ProtocolEnd, ProtocolScratch, WithdrawState, sequential};
use datapact_model::{
    Draws, Game, Kernel, NoEvents, Order, Rules, Workspace, campaign_rng, run_campaign,
};
use proptest::prelude::*;

const ORDERS: [Order; 4] = [
    Order::SmallFirst,
    Order::LargeFirst,
    Order::Random,
    Order::CostAscending,
];

/// One M withdraw phase's inputs.
#[derive(Clone, Debug)]
struct Instance {
    game: Game,
    observed: Vec<f64>,
    realized: Vec<f64>,
    cap: Vec<f64>,
    burden: Vec<f64>,
    /// Per user: 0 sincere, 1 free-rider (indices into [`rules`]).
    rule: Vec<u16>,
    absorbed: Vec<bool>,
    order_key: Vec<f64>,
}

/// Sincere (0) and free-rider (1): the core withdraw rules.
fn rules() -> Rules {
    Rules::new(
        vec![std::sync::Arc::new(datapact_model::strategy::Truthful)],
        vec![
            std::sync::Arc::new(datapact_model::strategy::Sincere),
            std::sync::Arc::new(datapact_model::strategy::FreeRider),
        ],
    )
}

/// What M produced.
#[derive(Debug)]
struct Run {
    end: ProtocolEnd,
    burden: Vec<f64>,
    decision: Vec<Decision>,
    events: Vec<Event>,
}

fn play<S: EventSink>(inst: &Instance, min_users: usize, sink: &mut S) -> Run {
    let rules = rules();
    let mut scratch = ProtocolScratch::default();
    scratch.reassign.set_min_users(min_users);
    let mut burden = inst.burden.clone();
    let mut decision = vec![Decision::Undecided; burden.len()];
    let st = WithdrawState {
        observed: &inst.observed,
        realized: &inst.realized,
        cap: &inst.cap,
        burden: &mut burden,
        decision: &mut decision,
        rule: &inst.rule,
        rules: rules.withdraw(),
        absorbed: &inst.absorbed,
        peers: None,
    };
    let end = sequential(st, &inst.order_key, &inst.game, &mut scratch, sink);
    Run {
        end,
        burden,
        decision,
        events: Vec::new(),
    }
}

fn play_traced(inst: &Instance, min_users: usize) -> Run {
    let mut events = Vec::new();
    let mut run = play(inst, min_users, &mut events);
    run.events = events;
    run
}

fn close(a: f64, b: f64) -> bool {
    a.to_bits() == b.to_bits() || (a - b).abs() <= 1e-12 * a.abs().max(b.abs()).max(1.0)
}

fn assert_same(fresh: &Run, incremental: &Run) -> Result<(), TestCaseError> {
    prop_assert_eq!(&fresh.decision, &incremental.decision);
    match (fresh.end, incremental.end) {
        (ProtocolEnd::Trained { committed: a }, ProtocolEnd::Trained { committed: b }) => {
            prop_assert!(close(a, b), "committed {} vs {}", a, b);
        }
        (a, b) => prop_assert_eq!(a, b),
    }
    for (j, (a, b)) in fresh.burden.iter().zip(&incremental.burden).enumerate() {
        prop_assert!(close(*a, *b), "user {}: burden {} vs {}", j, a, b);
    }
    prop_assert_eq!(fresh.events.len(), incremental.events.len());
    for (a, b) in fresh.events.iter().zip(&incremental.events) {
        prop_assert_eq!(
            (a.time, a.kind, a.user, a.cost),
            (b.time, b.kind, b.user, b.cost)
        );
        match (a.burden, b.burden) {
            (Some(x), Some(y)) => prop_assert!(close(x, y), "{:?} vs {:?}", a, b),
            (x, y) => prop_assert_eq!(x, y),
        }
    }
    Ok(())
}

/// The users trace's sink ([`TrailEvents`]) against the whole log, on one path: the same
/// decisions, ending and burdens bit for bit, and exactly the whole log's assignment and decision
/// events (so the same user trails), without the per-user re-assignments.
fn assert_trail_log_matches(inst: &Instance, min_users: usize) -> Result<(), TestCaseError> {
    let full = play_traced(inst, min_users);
    let mut trail = TrailEvents::default();
    let played = play(inst, min_users, &mut trail);
    prop_assert_eq!(&played.decision, &full.decision);
    prop_assert_eq!(played.end, full.end);
    for (j, (a, b)) in played.burden.iter().zip(&full.burden).enumerate() {
        prop_assert_eq!(
            a.to_bits(),
            b.to_bits(),
            "user {}: burden {} vs {}",
            j,
            a,
            b
        );
    }
    let kept: Vec<Event> = full
        .events
        .iter()
        .copied()
        .filter(|e| UserTrail::reads(e.kind))
        .collect();
    prop_assert_eq!(trail.as_ref(), kept.as_slice());
    Ok(())
}

/// A cost: zero, one of a few tied values, or continuous.
fn cost() -> impl Strategy<Value = f64> {
    prop_oneof![1 => Just(0.0), 1 => Just(0.25), 1 => Just(0.5), 6 => 0.001f64..1.5]
}

/// A cap: zero, full, a tied half, or continuous.
fn cap() -> impl Strategy<Value = f64> {
    prop_oneof![1 => Just(0.0), 2 => Just(1.0), 1 => Just(0.5), 6 => 0.0f64..1.0]
}

#[derive(Clone, Debug)]
struct User {
    cost: f64,
    cap: f64,
    drift: f64,
    free_rider: bool,
    absorbed: bool,
    order_key: f64,
}

fn user() -> impl Strategy<Value = User> {
    (
        cost(),
        cap(),
        prop_oneof![1 => Just(1.0), 3 => 0.2f64..6.0],
        any::<bool>(),
        any::<bool>(),
        prop_oneof![1 => Just(0.5), 3 => 0.0f64..1.0],
    )
        .prop_map(|(cost, cap, drift, free_rider, absorbed, order_key)| User {
            cost,
            cap,
            drift,
            free_rider,
            absorbed,
            order_key,
        })
}

/// Users, then V, p, θ, the order, the share of free-riders used, and whether the initial
/// burdens come from water-filling (else: each user's cap, possibly over the need).
fn instance(sizes: std::ops::Range<usize>) -> impl Strategy<Value = Instance> {
    (
        proptest::collection::vec(user(), sizes),
        prop_oneof![1 => 0.0f64..0.4, 1 => 0.4f64..1.0],
        0.0f64..0.4,
        0.05f64..0.95,
        0usize..4,
        any::<bool>(),
        prop_oneof![3 => Just(true), 1 => Just(false)],
    )
        .prop_map(
            |(users, value, payment, threshold, order, free_riders, filled)| {
                let n = users.len();
                let game = Game {
                    users: n,
                    value,
                    payment,
                    threshold,
                    order: ORDERS[order],
                    ..Game::default()
                };
                let observed: Vec<f64> = users.iter().map(|u| u.cost).collect();
                let cap: Vec<f64> = users.iter().map(|u| u.cap).collect();
                let mut burden = vec![0.0; n];
                let fill = water_fill(
                    &observed,
                    &cap,
                    game.need(),
                    game.tolerance(),
                    &mut burden,
                    &mut FillScratch::default(),
                );
                if fill.is_err() || !filled {
                    burden.copy_from_slice(&cap);
                }
                Instance {
                    realized: users.iter().map(|u| u.cost * u.drift).collect(),
                    rule: users
                        .iter()
                        .map(|u| if free_riders && u.free_rider { 1 } else { 0 })
                        .collect(),
                    absorbed: users.iter().map(|u| u.absorbed).collect(),
                    order_key: users.iter().map(|u| u.order_key).collect(),
                    game,
                    observed,
                    cap,
                    burden,
                }
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    /// Small campaigns (where every zero-cost, all-capped and free-data corner is frequent).
    #[test]
    fn incremental_m_equals_fresh_water_filling_small(inst in instance(1..60)) {
        assert_same(&play(&inst, usize::MAX, &mut NoEvents), &play(&inst, 0, &mut NoEvents))?;
        assert_same(&play_traced(&inst, usize::MAX), &play_traced(&inst, 0))?;
        assert_trail_log_matches(&inst, usize::MAX)?;
        assert_trail_log_matches(&inst, 0)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Campaigns above the default threshold, where `sequential` picks the structure itself.
    #[test]
    fn incremental_m_equals_fresh_water_filling_large(
        inst in instance(INCREMENTAL_MIN_USERS..INCREMENTAL_MIN_USERS + 500),
    ) {
        let fresh = play(&inst, usize::MAX, &mut NoEvents);
        let incremental = play(&inst, INCREMENTAL_MIN_USERS, &mut NoEvents);
        assert_same(&fresh, &incremental)?;
        // Tracing events changes nothing in the outcome.
        let traced = play_traced(&inst, INCREMENTAL_MIN_USERS);
        prop_assert_eq!(&traced.decision, &incremental.decision);
        prop_assert_eq!(traced.end, incremental.end);
        prop_assert!(traced.burden.iter().zip(&incremental.burden).all(|(a, b)| a.to_bits() == b.to_bits()));
        assert_trail_log_matches(&inst, INCREMENTAL_MIN_USERS)?;
    }
}

/// Whole campaigns of the default game and of stronger drift, at sizes where M re-assigns
/// several times: the same outcome and payoffs on both paths.
#[test]
fn whole_campaigns_of_the_default_game_agree() {
    let mut successes_after_withdrawals = 0;
    for (n, value, payment, drift) in [
        (200, 0.1, 0.1, 0.5),
        (1000, 0.1, 0.1, 0.5),
        (2000, 0.3, 0.05, 0.5),
        (1000, 0.3, 0.3, 1.5),
        (1000, 0.5, 0.1, 1.0),
        (1000, 1.0, 0.3, 2.0),
        (1000, 0.6, 0.0, 1.5),
    ] {
        for order in ORDERS {
            let game = Game {
                users: n,
                value,
                payment,
                order,
                drift,
                ..Game::default()
            };
            let mut draws = Draws::default();
            draws.fill(
                n,
                &game.cost.sampler().unwrap(),
                &mut campaign_rng(11, n as u64, 0),
            );
            let mut outcomes = Vec::new();
            for min_users in [usize::MAX, 0] {
                let mut ws = Workspace::default();
                ws.protocol.reassign.set_min_users(min_users);
                let o = run_campaign(
                    Kernel::Sequential,
                    &game,
                    &Rules::default(),
                    &draws,
                    &mut ws,
                    &mut NoEvents,
                );
                outcomes.push((o, ws.payoff.clone(), ws.decision.clone()));
            }
            let ((a, pa, da), (b, pb, db)) = (&outcomes[0], &outcomes[1]);
            assert_eq!(da, db, "n={n} {order:?}");
            assert_eq!(
                (a.status, a.withdrawals, a.backstoppers),
                (b.status, b.withdrawals, b.backstoppers)
            );
            for (x, y) in [
                (a.welfare, b.welfare),
                (a.privacy_cost, b.privacy_cost),
                (a.data, b.data),
                (a.subsidy, b.subsidy),
            ] {
                assert!(
                    (x - y).abs() <= 1e-12 * x.abs().max(y.abs()).max(1.0),
                    "n={n} {order:?}: {x} vs {y}"
                );
            }
            assert!(
                pa.iter().zip(pb).all(|(x, y)| close(*x, *y)),
                "n={n} {order:?}"
            );
            successes_after_withdrawals += (a.success() && a.withdrawals >= 3) as u32;
        }
    }
    // Not vacuous: most of these campaigns re-assign several times and still succeed.
    assert!(
        successes_after_withdrawals >= 15,
        "{successes_after_withdrawals}"
    );
}
