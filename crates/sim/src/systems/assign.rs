//! Assign: under S and M the provider computes caps and water-fills Q over observed costs; under C
//! each user chooses her privately optimal contribution.

use bevy_ecs::prelude::*;
use datapact_model::assign::{assign, respond};
use datapact_model::{EventSink, Mechanism};

use super::{index, users_of};
use crate::batch::{Batch, CampaignTable, Columns, Scratch, Sinks};
use crate::components::{Assigned, Burden, Campaign, Cap, Member, ObservedCost, TrueCost};

#[allow(clippy::type_complexity)]
pub fn assign_burdens<S: EventSink + Send + Sync + 'static>(
    batch: Res<Batch>,
    mut columns: ResMut<Columns>,
    mut table: ResMut<CampaignTable>,
    mut scratch: ResMut<Scratch>,
    mut sinks: ResMut<Sinks<S>>,
    mut users: Query<(&Member, &TrueCost, &ObservedCost, &mut Cap, &mut Burden)>,
    mut campaigns: Query<(&Campaign, &mut Assigned)>,
) {
    let n = batch.users();
    let columns = &mut *columns;
    for (member, cost, observed, _, _) in &users {
        let i = index(member, n);
        columns.true_cost[i] = cost.0;
        columns.observed[i] = observed.0;
    }
    table.assignment.clear();
    for c in 0..batch.campaigns() {
        let r = users_of(c, n);
        let sink = &mut sinks.0[c];
        let assignment = if batch.mechanism(c) == Mechanism::C {
            columns.cap[r.clone()].fill(1.0);
            respond(
                &columns.true_cost[r.clone()],
                &batch.game,
                &mut columns.burden[r],
                sink,
            );
            None
        } else {
            let (cap, burden) = (&mut columns.cap[r.clone()], &mut columns.burden[r.clone()]);
            Some(assign(
                &columns.observed[r],
                &batch.game,
                cap,
                burden,
                &mut scratch.0.fill,
                sink,
            ))
        };
        table.assignment.push(assignment);
    }
    for (member, _, _, mut cap, mut burden) in &mut users {
        if batch.active(member.campaign) {
            let i = index(member, n);
            cap.0 = columns.cap[i];
            burden.0 = columns.burden[i];
        }
    }
    for (campaign, mut assigned) in &mut campaigns {
        if let Some(Some(a)) = table.assignment.get(campaign.slot as usize) {
            assigned.0 = *a;
        }
    }
}
