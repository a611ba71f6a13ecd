//! Withdraw: costs drift to their training-time value, then users of S decide all at once and
//! users of M one by one (with re-assignment), each by her withdrawal rule.

use bevy_ecs::prelude::*;
use datapact_model::withdraw::{WithdrawState, sequential, simultaneous};
use datapact_model::{Decision, EventSink, Mechanism, ProtocolEnd};

use super::{index, users_of};
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
    users
        .iter_mut()
        .for_each(|(member, cost, shocks, mut realized)| {
            if batch.active(member.campaign) {
                realized.0 = cost.0 * shocks.drift;
            }
        });
}

pub fn withdraw<S: EventSink + Send + Sync + 'static>(
    batch: Res<Batch>,
    mut columns: ResMut<Columns>,
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
) {
    let n = batch.users();
    let columns = &mut *columns;
    users.iter().for_each(
        |(member, observed, realized, cap, burden, _, strategy, memory)| {
            let i = index(member, n);
            columns.rule[i] = strategy.0;
            columns.absorbed[i] = memory.0.withdrawals_absorbed();
            columns.observed[i] = observed.0;
            columns.realized[i] = realized.0;
            columns.cap[i] = cap.0;
            columns.burden[i] = burden.0;
            columns.decision[i] = Decision::Undecided;
        },
    );
    table.end.clear();
    for c in 0..batch.campaigns() {
        let r = users_of(c, n);
        let sustainable = table.assignment[c].is_some_and(|a| a.sustainable);
        let mechanism = batch.mechanism(c);
        let end = if overridden.0.contains(&mechanism) {
            // An extension's protocol plays this campaign (it runs after this system).
            ProtocolEnd::Cancelled
        } else if mechanism == Mechanism::C {
            ProtocolEnd::Trained {
                committed: columns.burden[r].iter().sum(),
            }
        } else if !sustainable {
            ProtocolEnd::Cancelled
        } else {
            let st = WithdrawState {
                observed: &columns.observed[r.clone()],
                realized: &columns.realized[r.clone()],
                cap: &columns.cap[r.clone()],
                burden: &mut columns.burden[r.clone()],
                decision: &mut columns.decision[r.clone()],
                rule: &columns.rule[r.clone()],
                absorbed: &columns.absorbed[r.clone()],
            };
            let draws = &columns.draws[c / batch.mechanisms.len()];
            match mechanism {
                Mechanism::S => {
                    simultaneous(st, &batch.game, &mut scratch.protocol, &mut sinks.0[c])
                }
                _ => sequential(
                    st,
                    &draws.order_key,
                    &batch.game,
                    &mut scratch.protocol,
                    &mut sinks.0[c],
                ),
            }
        };
        table.end.push(end);
    }
    users
        .iter_mut()
        .for_each(|(member, _, _, _, mut burden, mut choice, _, _)| {
            if batch.active(member.campaign) {
                let i = index(member, n);
                burden.0 = columns.burden[i];
                choice.0 = columns.decision[i];
            }
        });
}
