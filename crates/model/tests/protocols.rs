//! Properties of the protocols on random campaigns, and hand-solved small cases.

use datapact_model::assign::{AssignMemo, assign, same_bits};
use datapact_model::events::{Event, EventKind};
use datapact_model::waterfill::FillScratch;
use datapact_model::{
    CostDist, Draws, Game, Kernel, NoEvents, Order, Rules, Status, Workspace, campaign_rng,
    run_campaign,
};
use proptest::prelude::*;

fn game(v: f64, p: f64, drift: f64, noise: f64, n: usize) -> Game {
    Game {
        users: n,
        value: v,
        payment: p,
        drift,
        obs_noise: noise,
        ..Game::default()
    }
}

fn draws(game: &Game, seed: u64, rep: u64) -> Draws {
    let mut d = Draws::default();
    d.fill(
        game.users,
        &game.cost.sampler().unwrap(),
        &mut campaign_rng(seed, 0, rep),
    );
    d
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn withdrawal_mechanisms_never_leak_and_m_succeeds_where_s_does(
        v in 0.0f64..0.4, p in 0.0f64..0.4, drift in 0.0f64..1.0, noise in 0.0f64..0.6,
        n in 1usize..40, seed in any::<u64>(),
    ) {
        let g = game(v, p, drift, noise, n);
        let d = draws(&g, seed, 0);
        let mut ws = Workspace::default();
        let s = run_campaign(Kernel::Simultaneous, &g, &Rules::default(), &d, &mut ws, &mut NoEvents);
        let m = run_campaign(Kernel::Sequential, &g, &Rules::default(), &d, &mut ws, &mut NoEvents);
        for o in [&s, &m] {
            prop_assert_eq!(o.leakage, 0.0);
            if !o.success() { prop_assert_eq!(o.subsidy, 0.0); prop_assert_eq!(o.data, 0.0); }
            if o.status == Status::Null {
                prop_assert_eq!(o.welfare, 0.0);
                prop_assert_eq!(o.privacy_cost, 0.0); // ρ = 0
            }
            prop_assert!(o.welfare.is_finite() && o.privacy_cost >= 0.0);
        }
        if s.success() { prop_assert!(m.success(), "S succeeded but M did not"); }
        // C pays whatever happens, so its leakage is its subsidy exactly when it fails.
        let c = run_campaign(Kernel::Subsidy, &g, &Rules::default(), &d, &mut ws, &mut NoEvents);
        prop_assert_eq!(c.leakage, if c.success() { 0.0 } else { c.subsidy });
    }

    #[test]
    fn a_remembered_assignment_is_the_assignment(
        v in 0.0f64..0.4, p in 0.0f64..0.4, noise in 0.0f64..0.6, n in 1usize..40,
        seed in any::<u64>(), bump in 1usize..40,
    ) {
        let g = game(v, p, 0.5, noise, n);
        let d = draws(&g, seed, 3);
        let mut memo = AssignMemo::default();
        let mut fill = FillScratch::default();
        let (mut cap, mut burden) = (vec![0.0; n], vec![0.0; n]);
        let (mut cap2, mut burden2) = (vec![0.0; n], vec![0.0; n]);
        // Fresh, then remembered: the same bits.
        let fresh = assign(&d.cost, &g, &mut cap, &mut burden, &mut fill, &mut NoEvents);
        for _ in 0..2 {
            let a = memo.assign(&d.cost, &g, &mut cap2, &mut burden2, &mut fill, &mut NoEvents);
            prop_assert_eq!(a, fresh);
            prop_assert!(same_bits(&cap, &cap2) && same_bits(&burden, &burden2));
        }
        // Another game, or one cost changed: recomputed, not reused.
        let other = Game { value: v + 0.05, ..g.clone() };
        let a = memo.assign(&d.cost, &other, &mut cap2, &mut burden2, &mut fill, &mut NoEvents);
        prop_assert_eq!(a, assign(&d.cost, &other, &mut cap, &mut burden, &mut fill, &mut NoEvents));
        prop_assert!(same_bits(&cap, &cap2) && same_bits(&burden, &burden2));
        let mut moved = d.cost.clone();
        moved[bump % n] += 0.25;
        let a = memo.assign(&moved, &other, &mut cap2, &mut burden2, &mut fill, &mut NoEvents);
        prop_assert_eq!(a, assign(&moved, &other, &mut cap, &mut burden, &mut fill, &mut NoEvents));
        prop_assert!(same_bits(&cap, &cap2) && same_bits(&burden, &burden2));
    }

    #[test]
    fn unsustainable_instances_are_null(seed in any::<u64>(), n in 2usize..30) {
        // V = 0 and p = 0: every cap is 0, nothing can be assigned.
        let g = game(0.0, 0.0, 0.5, 0.0, n);
        let d = draws(&g, seed, 1);
        let mut ws = Workspace::default();
        for mech in [Kernel::Simultaneous, Kernel::Sequential] {
            let o = run_campaign(mech, &g, &Rules::default(), &d, &mut ws, &mut NoEvents);
            prop_assert_eq!(o.status, Status::Null);
            prop_assert_eq!((o.data, o.subsidy, o.privacy_cost, o.welfare), (0.0, 0.0, 0.0, 0.0));
            prop_assert!(ws.payoff.iter().all(|u| *u == 0.0));
        }
    }

    #[test]
    fn events_are_totally_ordered_in_time(v in 0.05f64..0.4, p in 0.0f64..0.4, seed in any::<u64>()) {
        let g = Game { recovery_rounds: 2, ..game(v, p, 1.0, 0.3, 12) };
        let d = draws(&g, seed, 2);
        for mech in [Kernel::Subsidy, Kernel::Simultaneous, Kernel::Sequential] {
            let mut events: Vec<Event> = Vec::new();
            let o = run_campaign(mech, &g, &Rules::default(), &d, &mut Workspace::default(), &mut events);
            prop_assert!(events.windows(2).all(|w| w[0].time <= w[1].time), "{:?}", events);
            let withdrawn = events.iter().filter(|e| e.kind == EventKind::Withdraw).count();
            prop_assert_eq!(withdrawn as u32, o.withdrawals);
        }
    }
}

/// Three users with costs chosen so that, under M, the first (smallest burden) withdraws and the
/// others absorb her burden; under S the same withdrawal sinks the campaign.
#[test]
fn m_reassigns_after_a_withdrawal_where_s_fails() {
    let g = Game {
        users: 3,
        threshold: 0.5,
        value: 1.0,
        payment: 0.0,
        drift: 0.0,
        ..Game::default()
    };
    // Need Q = 1.5. Costs 1, 1, 8: water-filling λ(1 + 1 + 1/8) = 1.5 → λ ≈ 0.706,
    // burdens ≈ (0.706, 0.706, 0.088). The third user's training-time cost is pushed up by hand so
    // that she withdraws (κ = c^w·x²/2 > V).
    let d = Draws {
        cost: vec![1.0, 1.0, 8.0],
        drift_shock: vec![0.0; 3],
        obs_shock: vec![0.0; 3],
        order_key: vec![0.0; 3],
    };
    let mut ws = Workspace::default();
    let s0 = run_campaign(
        Kernel::Simultaneous,
        &g,
        &Rules::default(),
        &d,
        &mut ws,
        &mut NoEvents,
    );
    assert_eq!(s0.status, Status::Success, "baseline: everyone stays");

    let g = Game { drift: 1e-9, ..g }; // keep costs, but realise a shock through the draws:
    let d = Draws {
        drift_shock: vec![0.0, 0.0, 6.0e9],
        ..d
    };
    let s = run_campaign(
        Kernel::Simultaneous,
        &g,
        &Rules::default(),
        &d,
        &mut ws,
        &mut NoEvents,
    );
    assert_eq!((s.status, s.withdrawals), (Status::Failure, 1));
    let mut events = Vec::new();
    let m = run_campaign(
        Kernel::Sequential,
        &g,
        &Rules::default(),
        &d,
        &mut ws,
        &mut events,
    );
    assert_eq!((m.status, m.withdrawals), (Status::Success, 1));
    assert!((m.data - 1.5).abs() < 1e-9);
    // Small-first: user 2 (burden 0.088) decides first, withdraws; the others are re-assigned 0.75.
    let decisions: Vec<_> = events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::Stay | EventKind::Withdraw))
        .collect();
    assert_eq!(decisions[0].user, Some(2));
    assert_eq!(decisions[0].kind, EventKind::Withdraw);
    let reassigned: Vec<f64> = events
        .iter()
        .filter(|e| e.kind == EventKind::Reassign)
        .map(|e| e.burden.unwrap())
        .collect();
    assert_eq!(reassigned.len(), 2);
    assert!(
        reassigned.iter().all(|x| (x - 0.75).abs() < 1e-9),
        "{reassigned:?}"
    );
}

#[test]
fn recovery_rounds_rescue_s() {
    let g = Game {
        users: 3,
        threshold: 0.5,
        value: 1.0,
        payment: 0.0,
        drift: 1e-9,
        ..Game::default()
    };
    let d = Draws {
        cost: vec![1.0, 1.0, 8.0],
        drift_shock: vec![0.0, 0.0, 6.0e9],
        obs_shock: vec![0.0; 3],
        order_key: vec![0.0; 3],
    };
    let mut ws = Workspace::default();
    assert_eq!(
        run_campaign(
            Kernel::Simultaneous,
            &g,
            &Rules::default(),
            &d,
            &mut ws,
            &mut NoEvents
        )
        .status,
        Status::Failure
    );
    let g = Game {
        recovery_rounds: 1,
        ..g
    };
    let s = run_campaign(
        Kernel::Simultaneous,
        &g,
        &Rules::default(),
        &d,
        &mut ws,
        &mut NoEvents,
    );
    assert_eq!(s.status, Status::Success);
    assert!((s.data - 1.5).abs() < 1e-9);
}

#[test]
fn orders_differ_only_in_who_decides_first() {
    let g = Game {
        users: 6,
        value: 0.2,
        payment: 0.1,
        ..Game::default()
    };
    let d = draws(&g, 7, 3);
    let mut ws = Workspace::default();
    let mut first = Vec::new();
    for order in [
        Order::SmallFirst,
        Order::LargeFirst,
        Order::CostAscending,
        Order::Random,
    ] {
        let mut events = Vec::new();
        run_campaign(
            Kernel::Sequential,
            &Game { order, ..g.clone() },
            &Rules::default(),
            &d,
            &mut ws,
            &mut events,
        );
        let assigned: Vec<(u32, f64)> = events
            .iter()
            .filter(|e| e.kind == EventKind::Assign)
            .map(|e| (e.user.unwrap(), e.burden.unwrap()))
            .collect();
        let deciders: Vec<u32> = events
            .iter()
            .filter(|e| matches!(e.kind, EventKind::Stay | EventKind::Withdraw))
            .map(|e| e.user.unwrap())
            .collect();
        if order == Order::SmallFirst && !assigned.is_empty() {
            let b = |u: u32| assigned.iter().find(|a| a.0 == u).unwrap().1;
            assert!(deciders.windows(2).all(
                |w| b(w[0]) <= b(w[1]) || events.iter().any(|e| e.kind == EventKind::Withdraw)
            ));
        }
        first.push(deciders.first().copied());
    }
    assert_ne!(
        first[0], first[1],
        "small-first and large-first start with the same user"
    );
}

#[test]
fn cost_distributions_have_their_means() {
    // Statistical: sample mean within 5 standard errors, fixed seed.
    let cases = [
        (
            CostDist::Uniform {
                low: 0.0,
                high: 1.0,
            },
            0.5,
            (1.0f64 / 12.0).sqrt(),
        ),
        (
            CostDist::Beta {
                alpha: 2.0,
                beta: 5.0,
            },
            2.0 / 7.0,
            (10.0f64 / (49.0 * 8.0)).sqrt(),
        ),
        (
            CostDist::Beta {
                alpha: 5.0,
                beta: 2.0,
            },
            5.0 / 7.0,
            (10.0f64 / (49.0 * 8.0)).sqrt(),
        ),
        (
            CostDist::LogNormal {
                mu: 0.0,
                sigma: 0.5,
            },
            libm::exp(0.125),
            (libm::expm1(0.25) * libm::exp(0.25)).sqrt(),
        ),
    ];
    for (dist, mean, sd) in cases {
        let sampler = dist.sampler().unwrap();
        let mut rng = campaign_rng(42, 0, 0);
        let k = 200_000;
        let m: f64 = (0..k).map(|_| sampler.sample(&mut rng)).sum::<f64>() / k as f64;
        let se = sd / (k as f64).sqrt();
        assert!(
            (m - mean).abs() < 5.0 * se,
            "{dist:?}: {m} vs {mean} (se {se})"
        );
    }
}
