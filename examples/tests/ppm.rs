//! The provision point example, checked by hand on three users: each rebate rule's outcome and
//! per-user records, the money-back guarantee, and the users and events tables showing only
//! what the mechanism did (pledges, decisions, settlement; no report, cap or assignment).

use crate::example_ppm as ppm;

use crate::common::*;
use datapact_model::settle::settle_withdrawal_with;
use datapact_model::{AmountKind, CostDist, EventKind, NoEvents, ParamValues, StrategyShare};

/// Three users of cost 0.5 (no drift) who each pledge `fraction` of their cap (1 at these V and
/// p): Q = θ·n = 1.5, V = 0.2, p = 0.1, under rebate rule `rebate` (its label's position).
fn three_users(p: &PluginSet, fraction: f64, rebate: f64) -> Game {
    let mut game = Game {
        users: 3,
        cost: CostDist::Constant { value: 0.5 },
        threshold: 0.5,
        value: 0.2,
        payment: 0.1,
        drift: 0.0,
        ..Game::default()
    };
    game.population.amount[AmountKind::Pledge.index()] = StrategyShare {
        strategy: 1, // "fraction"
        share: 1.0,
        params: ParamValues(vec![fraction]),
    };
    with_params(p, game, "ppm", vec![rebate])
}

/// A stayer's (kept, paid, borne, utility).
type User = (f64, f64, f64, f64);
/// A campaign's (welfare, data, subsidy).
type Campaign = (f64, f64, f64);

/// Each stayer's and the campaign's figures under each rule, by hand: κ(c, x) = c·x²/2 with
/// c = 0.5, every user pledging 0.8, X = 2.4.
const HAND: [(&str, User, Campaign); 3] = [
    // none: all of 0.8 kept; κ = 0.16, paid 0.08, U = 0.2 + 0.08 − 0.16.
    ("none", (0.8, 0.08, 0.16, 0.12), (0.12, 2.4, 0.24)),
    // proportional: kept 0.8·1.5/2.4 = 0.5; κ = 0.0625, paid 0.05, U = 0.2 + 0.05 − 0.0625.
    (
        "proportional",
        (0.5, 0.05, 0.0625, 0.1875),
        (0.4125, 1.5, 0.15),
    ),
    // utilization: worth V·X/Q = 0.32 to everyone; U = 0.32 + 0.08 − 0.16.
    ("utilization", (0.8, 0.08, 0.16, 0.24), (0.48, 2.4, 0.24)),
];

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-12
}

#[test]
fn three_users_under_each_rebate_rule_match_the_hand_computation() {
    let p = plugins(ppm::PpmPlugin);
    for (rule, (label, (kept, paid, borne, utility), (welfare, data, subsidy))) in
        HAND.iter().enumerate()
    {
        let game = three_users(&p, 0.8, rule as f64);
        let out = run(&p, game, &["ppm"], Depth::Users);
        let o = out.rounds[0].outcome;
        assert_eq!(o.status, Status::Success, "{label}");
        assert!(
            close(o.welfare, *welfare) && close(o.data, *data) && close(o.subsidy, *subsidy),
            "{label}: {o:?}"
        );
        assert_eq!(o.withdrawals, 0, "{label}");
        // The metric: X − Q = 2.4 − 1.5.
        assert!(close(out.rounds[0].metrics[0], 0.9), "{label}");
        for u in out.users.iter().filter(|u| u.rep == 0) {
            assert!(
                close(u.final_burden.unwrap(), *kept)
                    && close(u.payment.unwrap(), *paid)
                    && close(u.privacy_cost.unwrap(), *borne)
                    && close(u.utility, *utility),
                "{label}: {u:?}"
            );
            // The pledge is the burden she decided on; nothing was reported or assigned.
            assert_eq!(u.decided_burden, Some(0.8), "{label}");
            assert_eq!(u.decision, Some(datapact_model::Decision::Stay));
            assert_eq!(
                (u.reported_cost, u.observed_cost, u.cap, u.assigned_burden),
                (None, None, None, None),
                "{label}: {u:?}"
            );
        }
    }
}

#[test]
fn short_of_the_provision_point_the_money_comes_back() {
    // Pledges of 0.4 each: X = 1.2 < Q = 1.5. Nothing is collected, paid or borne.
    let p = plugins(ppm::PpmPlugin);
    for rule in 0..3 {
        let out = run(
            &p,
            three_users(&p, 0.4, rule as f64),
            &["ppm"],
            Depth::Users,
        );
        let o = out.rounds[0].outcome;
        assert_eq!(o.status, Status::Failure);
        assert_eq!(
            (o.welfare, o.data, o.subsidy, o.privacy_cost, o.leakage),
            (0.0, 0.0, 0.0, 0.0, 0.0)
        );
        assert_eq!(out.rounds[0].metrics[0], 0.0, "no excess when short");
        for u in out.users.iter().filter(|u| u.rep == 0) {
            assert_eq!(
                (u.payment, u.privacy_cost, u.utility),
                (Some(0.0), Some(0.0), 0.0)
            );
        }
    }
}

#[test]
fn proportional_rebate_of_three_different_users_by_hand() {
    // x = 0.9, 0.6, 0.3 at costs 0.4, 1, 2; all stay; X = 1.8, Q = 1.5, so each gives 5/6 of
    // her pledge: 0.75, 0.5, 0.25; borne c·k²/2 = 0.1125, 0.125, 0.0625; paid 0.1·k.
    let game = Game {
        users: 3,
        threshold: 0.5,
        value: 0.2,
        payment: 0.1,
        ..Game::default()
    };
    let (x, cw) = ([0.9, 0.6, 0.3], [0.4, 1.0, 2.0]);
    let stay = [datapact_model::Decision::Stay; 3];
    let (mut payoff, mut record) = ([0.0; 3], [Settled::UNKNOWN; 3]);
    let o = settle_withdrawal_with(
        ProtocolEnd::Trained { committed: 1.8 },
        5.0,
        &cw,
        &x,
        &stay,
        &game,
        0,
        &ppm::ProportionalRebate,
        &mut payoff,
        &mut record,
        &mut NoEvents,
    );
    let hand = [
        (0.75, 0.075, 0.1125, 0.1625),
        (0.5, 0.05, 0.125, 0.125),
        (0.25, 0.025, 0.0625, 0.1625),
    ];
    for ((r, u), (kept, paid, borne, utility)) in record.iter().zip(payoff).zip(hand) {
        assert!(
            close(r.kept, kept) && close(r.paid, paid) && close(r.borne, borne),
            "{r:?}"
        );
        assert!(close(u, utility), "{u} vs {utility}");
    }
    assert!(close(o.data, 1.5) && close(o.welfare, 0.6 - 0.3) && close(o.subsidy, 0.15));
}

#[test]
fn ppm_logs_pledges_and_decisions_but_no_reports_or_assignments() {
    let p = plugins(ppm::PpmPlugin);
    let game = three_users(&p, 0.8, 0.0);
    let out = run(&p, game, &["S", "ppm"], Depth::Events);
    let ppm = p.catalog().mechanism("ppm").unwrap() as u16;
    let kinds = |m: u16| -> Vec<EventKind> {
        out.events
            .iter()
            .filter(|e| e.mechanism == m && e.rep == 0)
            .map(|e| e.event.kind)
            .collect()
    };
    let pledges = kinds(ppm);
    assert_eq!(
        pledges,
        [
            EventKind::Pledge,
            EventKind::Pledge,
            EventKind::Pledge,
            EventKind::Stay,
            EventKind::Stay,
            EventKind::Stay,
            EventKind::TrainSuccess
        ]
    );
    let s = p.catalog().mechanism("S").unwrap() as u16;
    assert!(kinds(s).contains(&EventKind::Report), "S reports as ever");
}
