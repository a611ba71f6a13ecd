//! The random_order example: without a growth cap it is M in random order, bit for bit; with
//! one, no re-assignment raises a burden past it.

use crate::example_pivotal::random_order;

use crate::common::*;
use datapact_model::Order;

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
