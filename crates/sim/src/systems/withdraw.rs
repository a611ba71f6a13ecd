//! Withdraw: costs drift to their training-time value, then users of S decide all at once and
//! users of M one by one (with re-assignment), each by her withdrawal rule.

use bevy_ecs::prelude::*;
use bytemuck::TransparentWrapper;
use datapact_model::withdraw::{WithdrawState, sequential, simultaneous};
use datapact_model::{Decision, EventSink, Mechanism, ProtocolEnd};

use super::campaign_blocks;
use crate::batch::{Batch, CampaignTable, Columns, ProtocolOverride, Scratch, Sinks};
use crate::components::{
    Burden, Cap, Choice, Member, ObservedCost, RealizedCost, Remembers, Shocks, TrueCost,
    WithdrawStrategy,
};

/// Drift: c^w_i = c_i·exp(σ_w·ζ_i − σ_w²/2) (= `report::realized_cost`), with the multiplier
/// nature drew once per user of a replication.
pub fn drift_costs(
    batch: Res<Batch>,
    mut users: Query<(&Member, &TrueCost, &Shocks, &mut RealizedCost)>,
) {
    for (members, cost, shocks, mut realized) in users.contiguous_iter_mut().expect("dense query") {
        let realized = &mut *realized;
        for (_, rows) in campaign_blocks(members, batch.users(), batch.campaigns()) {
            for ((w, c), s) in realized[rows.clone()]
                .iter_mut()
                .zip(&cost[rows.clone()])
                .zip(&shocks[rows])
            {
                w.0 = c.0 * s.drift;
            }
        }
    }
}

pub fn withdraw<S: EventSink + Send + Sync + 'static>(
    batch: Res<Batch>,
    columns: Res<Columns>,
    mut table: ResMut<CampaignTable>,
    mut scratch: ResMut<Scratch>,
    mut sinks: ResMut<Sinks<S>>,
    overridden: Res<ProtocolOverride>,
    mut users: Query<(
        &Member,
        &ObservedCost,
        &RealizedCost,
        &Cap,
        &mut Burden,
        &mut Choice,
        &WithdrawStrategy,
        &Remembers,
    )>,
    subsidised_users: Query<(&Member, &Burden), Without<Cap>>,
) {
    let (n, active) = (batch.users(), batch.campaigns());
    let (columns, scratch) = (&*columns, &mut *scratch);
    table.end.clear();
    table.end.resize(active, ProtocolEnd::Cancelled);
    // C trains on whatever its users chose to contribute.
    for (members, burden) in subsidised_users.contiguous_iter().expect("dense query") {
        for (c, rows) in campaign_blocks(members, n, active) {
            let committed = Burden::peel_slice(&burden[rows]).iter().sum::<f64>();
            table.end[c] = ProtocolEnd::Trained { committed };
        }
    }
    for (members, observed, realized, cap, mut burden, mut choice, rule, memory) in
        users.contiguous_iter_mut().expect("dense query")
    {
        let (burden, decision) = (
            Burden::peel_slice_mut(&mut burden),
            Choice::peel_slice_mut(&mut choice),
        );
        for (c, rows) in campaign_blocks(members, n, active) {
            decision[rows.clone()].fill(Decision::Undecided);
            let mechanism = batch.mechanism(c);
            let sustainable = table.assignment[c].is_some_and(|a| a.sustainable);
            // An extension's protocol plays overridden mechanisms (it runs after this system);
            // an unsustainable assignment is cancelled.
            if overridden.0.contains(&mechanism) || !sustainable {
                continue;
            }
            scratch.absorbed.clear();
            scratch.absorbed.extend(
                memory[rows.clone()]
                    .iter()
                    .map(|m| m.0.withdrawals_absorbed()),
            );
            let st = WithdrawState {
                observed: ObservedCost::peel_slice(&observed[rows.clone()]),
                realized: RealizedCost::peel_slice(&realized[rows.clone()]),
                cap: Cap::peel_slice(&cap[rows.clone()]),
                burden: &mut burden[rows.clone()],
                decision: &mut decision[rows.clone()],
                rule: WithdrawStrategy::peel_slice(&rule[rows]),
                absorbed: &scratch.absorbed,
            };
            let draws = &columns.draws[c / batch.mechanisms.len()];
            let (protocol, sink) = (&mut scratch.protocol, &mut sinks.0[c]);
            table.end[c] = match mechanism {
                Mechanism::S => simultaneous(st, &batch.game, protocol, sink),
                _ => sequential(st, &draws.order_key, &batch.game, protocol, sink),
            };
        }
    }
}
