//! Protocol `async`: S and M as its limiting timings, campaign by campaign on the same draws,
//! and its events in non-decreasing continuous time.

use datapact_model::assign::assign;
use datapact_model::asynchronous::{
    ASSIGN_TIME, AsyncParams, AsyncScratch, asynchronous, regret_rng,
};
use datapact_model::draws::mean_one_factor;
use datapact_model::events::{Event, EventKind, EventSink};
use datapact_model::settle::{Outcome, settle_withdrawal};
use datapact_model::waterfill::FillScratch;
use datapact_model::withdraw::{ProtocolScratch, WithdrawState, sequential, simultaneous};
use datapact_model::{Decision, Draws, Game, NoEvents, Order, ProtocolEnd, Rules, campaign_rng};
use proptest::prelude::*;

/// One assigned campaign: observed and training-time costs, caps and assigned burdens.
struct Assigned {
    observed: Vec<f64>,
    realized: Vec<f64>,
    cap: Vec<f64>,
    burden: Vec<f64>,
    order_key: Vec<f64>,
}

fn assigned(game: &Game, seed: u64) -> Option<Assigned> {
    let n = game.users;
    let mut d = Draws::default();
    d.fill(
        n,
        &game.cost.sampler().unwrap(),
        &mut campaign_rng(seed, 0, 0),
    );
    let observed: Vec<f64> = (0..n)
        .map(|i| d.cost[i] * mean_one_factor(game.obs_noise, d.obs_shock[i]))
        .collect();
    let realized = (0..n)
        .map(|i| d.cost[i] * mean_one_factor(game.drift, d.drift_shock[i]))
        .collect();
    let (mut cap, mut burden) = (vec![0.0; n], vec![0.0; n]);
    let a = assign(
        &observed,
        game,
        &mut cap,
        &mut burden,
        &mut FillScratch::default(),
        &mut NoEvents,
    );
    a.sustainable.then_some(Assigned {
        observed,
        realized,
        cap,
        burden,
        order_key: d.order_key,
    })
}

/// What a protocol leaves: how it ended, each user's burden and decision, and the settlement.
#[derive(Debug, PartialEq)]
struct Played {
    end: ProtocolEnd,
    burden: Vec<u64>,
    decision: Vec<Decision>,
    outcome: Outcome,
}

fn play<S: EventSink>(
    a: &Assigned,
    game: &Game,
    sink: &mut S,
    protocol: impl FnOnce(WithdrawState<'_>, &mut Vec<f64>, &mut S) -> ProtocolEnd,
) -> Played {
    let n = game.users;
    let rules = Rules::default();
    let (rule, absorbed) = (vec![0u16; n], vec![false; n]);
    let mut burden = a.burden.clone();
    let mut decision = vec![Decision::Undecided; n];
    let mut cost = a.realized.clone();
    let end = protocol(
        WithdrawState {
            observed: &a.observed,
            realized: &a.realized,
            cap: &a.cap,
            burden: &mut burden,
            decision: &mut decision,
            rule: &rule,
            rules: rules.withdraw(),
            absorbed: &absorbed,
            peers: None,
        },
        &mut cost,
        sink,
    );
    let outcome = settle_withdrawal(
        end,
        &cost,
        &burden,
        &decision,
        game,
        0,
        &mut vec![0.0; n],
        &mut NoEvents,
    );
    Played {
        end,
        burden: burden.iter().map(|x| x.to_bits()).collect(),
        decision,
        outcome,
    }
}

fn play_async<S: EventSink>(a: &Assigned, game: &Game, p: &AsyncParams, sink: &mut S) -> Played {
    let mut rng = regret_rng(7, 0, 0, 0);
    play(a, game, sink, |st, cost, sink| {
        asynchronous(
            st,
            cost,
            p,
            &a.order_key,
            game,
            &mut rng,
            &mut ProtocolScratch::default(),
            &mut AsyncScratch::default(),
            sink,
        )
    })
}

fn game(v: f64, p: f64, drift: f64, noise: f64, n: usize, order: Order) -> Game {
    Game {
        users: n,
        value: v,
        payment: p,
        drift,
        obs_noise: noise,
        order,
        ..Game::default()
    }
}

fn orders() -> impl Strategy<Value = Order> {
    prop_oneof![
        Just(Order::SmallFirst),
        Just(Order::LargeFirst),
        Just(Order::Random),
        Just(Order::CostAscending)
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    /// No regret, everyone answers at t = 0: S (without recovery rounds), bit for bit.
    #[test]
    fn answers_at_once_without_regret_are_s(
        v in 0.02f64..0.4, p in 0.0f64..0.3, drift in 0.0f64..1.5, noise in 0.0f64..0.6,
        n in 1usize..60, seed in any::<u64>(), delay in 0.0f64..2.0,
    ) {
        let g = game(v, p, drift, noise, n, Order::SmallFirst);
        let Some(a) = assigned(&g, seed) else { return Ok(()) };
        let params = AsyncParams { regret_rate: 0.0, spread: 0.0, reassign_delay: delay, ..AsyncParams::default() };
        let s = play(&a, &g, &mut NoEvents, |st, _, sink| {
            simultaneous(st, &g, &mut ProtocolScratch::default(), sink)
        });
        prop_assert_eq!(play_async(&a, &g, &params, &mut NoEvents), s);
    }

    /// No regret, answers one at a time in the announced order, each withdrawal re-assigned
    /// before the next answer: M, bit for bit, in every order.
    #[test]
    fn staggered_answers_without_regret_are_m(
        v in 0.02f64..0.4, p in 0.0f64..0.3, drift in 0.0f64..1.5, noise in 0.0f64..0.6,
        n in 1usize..60, seed in any::<u64>(), spread in 0.01f64..1.0, order in orders(),
    ) {
        let g = game(v, p, drift, noise, n, order);
        let Some(a) = assigned(&g, seed) else { return Ok(()) };
        let params = AsyncParams { regret_rate: 0.0, spread, reassign_delay: 0.0, ..AsyncParams::default() };
        let m = play(&a, &g, &mut NoEvents, |st, _, sink| {
            sequential(st, &a.order_key, &g, &mut ProtocolScratch::default(), sink)
        });
        prop_assert_eq!(play_async(&a, &g, &params, &mut NoEvents), m);
    }

    /// With regret shocks: event times never decrease, lie in [assignment, deadline), and the
    /// protocol's bookkeeping agrees with its decisions.
    #[test]
    fn events_are_in_continuous_non_decreasing_time(
        v in 0.02f64..0.4, p in 0.0f64..0.3, n in 1usize..60, seed in any::<u64>(),
        rate in 0.0f64..5.0, deadline in 0.1f64..3.0, delay in 0.0f64..0.5, spread in 0.0f64..1.0,
    ) {
        let g = game(v, p, 0.5, 0.3, n, Order::SmallFirst);
        let Some(a) = assigned(&g, seed) else { return Ok(()) };
        let params = AsyncParams { deadline, regret_rate: rate, reassign_delay: delay, spread, ..AsyncParams::default() };
        let mut events: Vec<Event> = Vec::new();
        let played = play_async(&a, &g, &params, &mut events);
        prop_assert!(events.windows(2).all(|w| w[0].time <= w[1].time), "{:?}", events);
        prop_assert!(events.iter().all(|e| e.time >= ASSIGN_TIME && e.time < ASSIGN_TIME + deadline));
        let withdrawals = events.iter().filter(|e| e.kind == EventKind::Withdraw).count();
        prop_assert_eq!(withdrawals as u32, played.outcome.withdrawals);
        if let ProtocolEnd::Trained { committed } = played.end {
            let kept: f64 = (0..n)
                .filter(|&i| played.decision[i] == Decision::Stay)
                .map(|i| f64::from_bits(played.burden[i]))
                .sum();
            prop_assert!((kept - committed).abs() <= 1e-9 * (1.0 + kept), "{kept} vs {committed}");
        }
    }
}

/// Regret erodes commitment: with the same draws, more shocks before the deadline mean more
/// withdrawals on average (200 campaigns, a margin of 3 standard errors).
#[test]
fn regret_raises_withdrawals() {
    let g = game(0.1, 0.1, 0.3, 0.2, 20, Order::SmallFirst);
    let calm = AsyncParams {
        regret_rate: 0.0,
        ..AsyncParams::default()
    };
    let regretful = AsyncParams {
        regret_rate: 4.0,
        regret_size: 1.0,
        ..AsyncParams::default()
    };
    let diffs: Vec<f64> = (0..200u64)
        .filter_map(|seed| assigned(&g, seed))
        .map(|a| {
            let w = |p: &AsyncParams| {
                f64::from(play_async(&a, &g, p, &mut NoEvents).outcome.withdrawals)
            };
            w(&regretful) - w(&calm)
        })
        .collect();
    let k = diffs.len() as f64;
    let mean = diffs.iter().sum::<f64>() / k;
    let var = diffs.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / (k - 1.0);
    let se = (var / k).sqrt();
    assert!(k > 100.0, "too few sustainable campaigns: {k}");
    assert!(mean > 3.0 * se, "mean {mean}, se {se}");
}
