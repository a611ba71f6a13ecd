//! The three worked examples as plugins: each must do what its doc says, against the core
//! mechanisms on common random numbers.

// pivotal.rs includes deposit.rs and random_order.rs (it runs with them): loading them again
// here would compile each file twice (clippy's duplicate_mod).
#[path = "../pivotal.rs"]
#[allow(dead_code)]
mod pivotal;

use pivotal::{deposit, random_order};

use std::sync::Arc;

use datapact::prelude::*;
use datapact_model::{Order, ParamValues, StrategyShare};
use datapact_sim::{Backend, CellJob, CellOutput, Depth, RunSpec, run_cell};

fn plugins(extra: impl datapact::Plugins) -> Arc<PluginSet> {
    let mut set = PluginSet::core();
    set.add_plugins(extra);
    set.validate().expect("plugins register");
    Arc::new(set)
}

/// Runs one cell of `game` under the named mechanisms, with per-campaign records.
fn run(plugins: &Arc<PluginSet>, game: Game, names: &[&str], depth: Depth) -> CellOutput {
    let catalog = plugins.catalog();
    let spec = RunSpec {
        seed: 11,
        replications: 300,
        mechanisms: names
            .iter()
            .map(|n| catalog.mechanism(n).expect("registered") as u16)
            .collect(),
        depth,
        backend: Backend::Ecs,
        plugins: plugins.clone(),
    };
    run_cell(&CellJob { index: 3, game }, &spec).expect("invariants hold")
}

/// `game` with mechanism `name`'s parameters set to `values`.
fn with_params(plugins: &PluginSet, mut game: Game, name: &str, values: Vec<f64>) -> Game {
    let id = plugins.catalog().mechanism(name).unwrap();
    game.mechanism_params.resize(id + 1, ParamValues::default());
    game.mechanism_params[id] = ParamValues(values);
    game
}

fn typical() -> Game {
    Game {
        value: 0.1,
        payment: 0.05,
        ..Game::default()
    }
}

/// The records of mechanism k (0-based in the run) of a two-mechanism run, in replication order.
fn records(out: &CellOutput, k: usize) -> Vec<&datapact_sim::RoundRecord> {
    let id = out.summaries[0].stats[k].0;
    out.rounds.iter().filter(|r| r.mechanism == id).collect()
}

#[test]
fn a_zero_deposit_is_m_campaign_by_campaign() {
    let p = plugins(deposit::DepositPlugin);
    let game = with_params(&p, typical(), "deposit", vec![0.0]);
    let out = run(&p, game, &["M", "deposit"], Depth::Rounds);
    let (m, d) = (records(&out, 0), records(&out, 1));
    assert_eq!(m.len(), 300);
    let withdrawals: u32 = m.iter().map(|r| r.outcome.withdrawals).sum();
    assert!(withdrawals > 0, "the test must exercise withdrawals");
    for (m, d) in m.iter().zip(&d) {
        assert_eq!(m.outcome, d.outcome, "replication {}", m.rep);
        // M computes no `forfeited`; the deposit mechanism forfeits 0 when its amount is 0.
        assert!(m.metrics[0].is_nan());
        assert!(d.metrics[0] == 0.0 || d.outcome.status == datapact_model::Status::Null);
    }
}

#[test]
fn a_deposit_deters_withdrawals_and_is_forfeited_by_those_who_withdraw() {
    let p = plugins(deposit::DepositPlugin);
    let game = with_params(&p, typical(), "deposit", vec![0.2]);
    let out = run(&p, game, &["M", "deposit"], Depth::Rounds);
    let stats = &out.summaries[0].stats;
    let (m, d) = (&stats[0].1.withdrawals, &stats[1].1.withdrawals);
    let se = (m.se().powi(2) + d.se().powi(2)).sqrt();
    assert!(
        m.mean() - d.mean() > 3.0 * se,
        "withdrawals M {} vs deposit {} (se {se})",
        m.mean(),
        d.mean()
    );
    for r in records(&out, 1) {
        let forfeited = r.metrics[0];
        if r.outcome.status != datapact_model::Status::Null || r.outcome.withdrawals > 0 {
            assert_eq!(forfeited > 0.0, r.outcome.withdrawals > 0, "{r:?}");
        }
    }
    // The cells summary: the metric's mean over the deposit campaigns that computed it.
    let forfeit = &out.summaries[0].metrics[1][0];
    assert!(forfeit.count > 0 && forfeit.mean() > 0.0);
    assert_eq!(out.summaries[0].metrics[0][0].count, 0, "M has no forfeits");
}

#[test]
fn random_order_without_a_growth_cap_is_m_in_random_order() {
    let p = plugins(random_order::RandomOrderPlugin);
    let game = Game {
        order: Order::Random,
        ..with_params(&p, typical(), "random_order", vec![1.0])
    };
    let out = run(&p, game, &["M", "random_order"], Depth::Events);
    let (m, r) = (records(&out, 0), records(&out, 1));
    for (m, r) in m.iter().zip(&r) {
        assert_eq!(m.outcome, r.outcome, "replication {}", m.rep);
    }
    let events = |id: u16| -> Vec<_> {
        out.events
            .iter()
            .filter(|e| e.mechanism == id)
            .map(|e| (e.rep, e.seq, e.event))
            .collect()
    };
    let (m_id, r_id) = (out.summaries[0].stats[0].0, out.summaries[0].stats[1].0);
    assert_eq!(events(m_id), events(r_id));
}

#[test]
fn random_order_never_raises_a_burden_past_the_cap() {
    let p = plugins(random_order::RandomOrderPlugin);
    let cap = 0.05;
    let game = with_params(&p, typical(), "random_order", vec![cap]);
    let out = run(&p, game, &["random_order"], Depth::Events);
    let mut first = std::collections::HashMap::new();
    let mut reassigned = 0;
    for e in &out.events {
        let (Some(user), Some(x)) = (e.event.user, e.event.burden) else {
            continue;
        };
        match e.event.kind {
            datapact_model::EventKind::Assign => {
                first.insert((e.rep, user), x);
            }
            datapact_model::EventKind::Reassign => {
                reassigned += 1;
                let x0 = first[&(e.rep, user)];
                assert!(
                    x <= x0 + cap + 1e-12,
                    "rep {} user {user}: {x0} -> {x}",
                    e.rep
                );
            }
            _ => {}
        }
    }
    assert!(reassigned > 0, "the test must exercise re-assignments");
}

#[test]
fn the_pivotal_rule_by_hand() {
    let rule = pivotal::Pivotal(pivotal::PivotalParams { prior: 0.5 });
    // κ = 0.5·0.4²/2 = 0.04; p·x = 0.02; V = 0.05.
    let user = |pivotal| Deciding {
        realized_cost: 0.5,
        burden: 0.4,
        value: 0.05,
        payment: 0.05,
        pivotal,
        absorbed: false,
    };
    assert!(rule.stays(&user(Some(true)))); // 0.04 <= 0.02 + 0.05
    assert!(!rule.stays(&user(Some(false)))); // 0.04 > 0.02
    assert!(rule.stays(&user(None))); // 0.04 <= 0.02 + 0.025
    let doubter = pivotal::Pivotal(pivotal::PivotalParams { prior: 0.2 });
    assert!(!doubter.stays(&user(None))); // 0.04 > 0.02 + 0.01
}

#[test]
fn pivotal_users_run_under_every_protocol_and_withdraw_more_under_m() {
    let p = plugins((
        deposit::DepositPlugin,
        random_order::RandomOrderPlugin,
        pivotal::PivotalPlugin,
    ));
    let strategy = p.catalog().withdraw_strategy("pivotal").unwrap();
    let everyone = |game: Game| Game {
        population: datapact_model::Population {
            withdraw: StrategyShare {
                strategy,
                share: 1.0,
                params: ParamValues(vec![0.5]),
            },
            ..Default::default()
        },
        ..game
    };
    let names = ["S", "M", "deposit", "random_order"];
    let sincere = run(&p, typical(), &names, Depth::Cells);
    let pivotal = run(&p, everyone(typical()), &names, Depth::Cells);
    for (k, name) in names.iter().enumerate() {
        let (a, b) = (
            &sincere.summaries[0].stats[k].1,
            &pivotal.summaries[0].stats[k].1,
        );
        assert_eq!(b.reps(), 300, "{name}");
        if *name == "M" {
            let se = (a.withdrawals.se().powi(2) + b.withdrawals.se().powi(2)).sqrt();
            assert!(
                b.withdrawals.mean() - a.withdrawals.mean() > 3.0 * se,
                "M: sincere {} vs pivotal {} withdrawals",
                a.withdrawals.mean(),
                b.withdrawals.mean()
            );
        }
    }
}
