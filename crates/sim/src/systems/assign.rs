//! Assign: under S and M the provider computes caps and water-fills Q over observed costs; under C
//! each user chooses her privately optimal contribution.

use bevy_ecs::prelude::*;
use datapact_model::assign::respond;
use datapact_model::caps::subsidy_response;
use datapact_model::{EventSink, Mechanism};

use super::{index, users_of};
use crate::batch::{Batch, CampaignTable, Columns, Scratch, Sinks};
use crate::components::{Assigned, Belief, Burden, Campaign, Cap, Member, ObservedCost, TrueCost};

pub fn assign_burdens<S: EventSink + Send + Sync + 'static>(
    batch: Res<Batch>,
    mut columns: ResMut<Columns>,
    mut table: ResMut<CampaignTable>,
    mut scratch: ResMut<Scratch>,
    mut sinks: ResMut<Sinks<S>>,
    mut assigned_users: Query<(&Member, &ObservedCost, &mut Cap, &mut Burden)>,
    mut subsidised_users: Query<(&Member, &TrueCost, &Belief, &mut Burden), Without<Cap>>,
    mut campaigns: Query<(&Campaign, &mut Assigned)>,
) {
    let n = batch.users();
    let columns = &mut *columns;
    assigned_users.iter().for_each(|(member, observed, _, _)| {
        columns.observed[index(member, n)] = observed.0;
    });
    let active = batch.campaigns() as u32;
    if S::ENABLED {
        subsidised_users
            .iter()
            .for_each(|(member, cost, belief, _)| {
                columns.true_cost[index(member, n)] = cost.0;
                columns.belief[index(member, n)] = belief.0;
            });
    } else {
        // Nothing to log: C's response is per user, so it is computed in one pass over the
        // entities (what gather, `respond` and scatter would do), and skipped below.
        let game = &batch.game;
        subsidised_users
            .iter_mut()
            .for_each(|(member, cost, belief, mut burden)| {
                if member.campaign < active {
                    burden.0 = subsidy_response(cost.0, game.payment, belief.0, game.value);
                    columns.burden[index(member, n)] = burden.0;
                }
            });
    }
    table.assignment.clear();
    for c in 0..batch.campaigns() {
        let r = users_of(c, n);
        let sink = &mut sinks.0[c];
        let assignment = if batch.mechanism(c) == Mechanism::C {
            if !S::ENABLED {
                table.assignment.push(None);
                continue;
            }
            respond(
                &columns.true_cost[r.clone()],
                &columns.belief[r.clone()],
                &batch.game,
                &mut columns.burden[r],
                sink,
            );
            None
        } else {
            let (cap, burden) = (&mut columns.cap[r.clone()], &mut columns.burden[r.clone()]);
            let scratch = &mut *scratch;
            Some(scratch.memo.assign(
                &columns.observed[r],
                &batch.game,
                cap,
                burden,
                &mut scratch.protocol.fill,
                sink,
            ))
        };
        table.assignment.push(assignment);
    }
    assigned_users
        .iter_mut()
        .for_each(|(member, _, mut cap, mut burden)| {
            if batch.active(member.campaign) {
                let i = index(member, n);
                cap.0 = columns.cap[i];
                burden.0 = columns.burden[i];
            }
        });
    if S::ENABLED {
        subsidised_users
            .iter_mut()
            .for_each(|(member, _, _, mut burden)| {
                if member.campaign < active {
                    burden.0 = columns.burden[index(member, n)];
                }
            });
    }
    campaigns.iter_mut().for_each(|(campaign, mut assigned)| {
        if let Some(Some(a)) = table.assignment.get(campaign.slot as usize) {
            assigned.0 = *a;
        }
    });
}
