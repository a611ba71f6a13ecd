//! The pivotal example: the rule by hand, and pivotal users under S, M and both example
//! mechanisms.

use crate::example_pivotal as pivotal;

use crate::common::*;
use datapact_model::stats::Stat;
use datapact_model::{ParamValues, StrategyShare};
use pivotal::{deposit, random_order};

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
            let se = (a.get(Stat::Withdrawals).se().powi(2)
                + b.get(Stat::Withdrawals).se().powi(2))
            .sqrt();
            assert!(
                b.get(Stat::Withdrawals).mean() - a.get(Stat::Withdrawals).mean() > 3.0 * se,
                "M: sincere {} vs pivotal {} withdrawals",
                a.get(Stat::Withdrawals).mean(),
                b.get(Stat::Withdrawals).mean()
            );
        }
    }
}
