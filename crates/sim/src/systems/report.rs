//! Report and observe: users of S and M report ĉ by their strategy; the provider observes c̃.

use bevy_ecs::prelude::*;
use datapact_model::report::report;
use datapact_model::{EventSink, Mechanism};

use super::{index, users_of};
use crate::batch::{Batch, Columns, Sinks};
use crate::components::{Member, ObservedCost, ReportedCost, Shocks, Strategy, TrueCost};

pub fn report_costs<S: EventSink + Send + Sync + 'static>(
    batch: Res<Batch>,
    mut columns: ResMut<Columns>,
    mut sinks: ResMut<Sinks<S>>,
    mut users: Query<(&Member, &TrueCost, &Strategy, &mut ReportedCost)>,
) {
    let n = batch.users();
    let campaigns = batch.campaigns() as u32;
    if !S::ENABLED {
        // Nothing to log: each user's report is a function of her own cost and strategy, so one
        // pass over the entities does what gather, `report` and scatter would.
        users
            .iter_mut()
            .for_each(|(member, cost, strategy, mut reported)| {
                if member.campaign < campaigns {
                    reported.0 = strategy.0.report(cost.0);
                }
            });
        return;
    }
    let columns = &mut *columns;
    users.iter().for_each(|(member, cost, strategy, _)| {
        let i = index(member, n);
        columns.true_cost[i] = cost.0;
        columns.strategy[i] = strategy.0;
    });
    for c in 0..batch.campaigns() {
        if batch.mechanism(c) == Mechanism::C {
            continue;
        }
        let r = users_of(c, n);
        report(
            &columns.true_cost[r.clone()],
            &columns.strategy[r.clone()],
            &mut columns.reported[r],
            &mut sinks.0[c],
        );
    }
    users.iter_mut().for_each(|(member, _, _, mut reported)| {
        if batch.active(member.campaign) {
            reported.0 = columns.reported[index(member, n)];
        }
    });
}

pub fn observe_costs(
    batch: Res<Batch>,
    mut users: Query<(&Member, &ReportedCost, &Shocks, &mut ObservedCost)>,
) {
    users
        .iter_mut()
        .for_each(|(member, reported, shocks, mut observed)| {
            if batch.active(member.campaign) {
                // = report::observed_cost(ĉ, η, σ_o): the multiplier is precomputed.
                observed.0 = reported.0 * shocks.observation;
            }
        });
}
