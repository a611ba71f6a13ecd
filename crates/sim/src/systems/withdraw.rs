//! Withdraw: costs drift to their training-time value, then users of S decide all at once and
//! users of M one by one (with re-assignment), each by her withdrawal rule.

use bevy_ecs::prelude::*;
use datapact_model::report::realized_cost;
use datapact_model::withdraw::{WithdrawState, sequential, simultaneous};
use datapact_model::{Decision, EventSink, Mechanism, ProtocolEnd};

use super::{index, users_of};
use crate::batch::{Batch, CampaignTable, Columns, ProtocolOverride, Scratch, Sinks};
use crate::components::{
    Burden, Cap, Choice, Member, ObservedCost, RealizedCost, Remembers, Shocks, TrueCost,
    WithdrawStrategy,
};

/// The drifted costs of one batch by (replication, slot): a replication's users share their draws
/// across mechanisms, so c^w (an `exp` each) is computed once per user of a replication and given
/// to that user in every mechanism.
#[derive(Default)]
pub struct DriftTable {
    realized: Vec<f64>,
    known: Vec<bool>,
}

pub fn drift_costs(
    batch: Res<Batch>,
    mut table: Local<DriftTable>,
    mut users: Query<(&Member, &TrueCost, &Shocks, &mut RealizedCost)>,
) {
    let drift = batch.game.drift;
    let n = batch.users();
    let mechanisms = batch.mechanisms.len();
    let campaigns = batch.campaigns();
    let table = &mut *table;
    table.realized.clear();
    table.realized.resize(batch.reps * n, 0.0);
    table.known.clear();
    table.known.resize(batch.reps * n, false);
    users
        .iter_mut()
        .for_each(|(member, cost, shocks, mut realized)| {
            let campaign = member.campaign as usize;
            if campaign < campaigns {
                // Every mechanism's copy of this user holds the same cost and shock (common
                // random numbers), so the first copy's c^w is every copy's.
                let k = campaign / mechanisms * n + member.slot as usize;
                if !table.known[k] {
                    table.realized[k] = realized_cost(cost.0, shocks.drift, drift);
                    table.known[k] = true;
                }
                realized.0 = table.realized[k];
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
                Mechanism::S => simultaneous(st, &batch.game, &mut scratch.0, &mut sinks.0[c]),
                _ => sequential(
                    st,
                    &draws.order_key,
                    &batch.game,
                    &mut scratch.0,
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
