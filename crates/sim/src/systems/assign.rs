//! Assign: under S and M the provider computes caps and water-fills Q over observed costs; under C
//! each user chooses her privately optimal contribution.

use bevy_ecs::prelude::*;
use bytemuck::TransparentWrapper;
use datapact_model::EventSink;
use datapact_model::assign::respond;

use super::campaign_blocks;
use crate::batch::{Batch, CampaignTable, Scratch, Sinks};
use crate::components::{Belief, Burden, Cap, Member, ObservedCost, TrueCost};

pub fn assign_burdens<S: EventSink + Send + Sync + 'static>(
    batch: Res<Batch>,
    mut table: ResMut<CampaignTable>,
    mut scratch: ResMut<Scratch>,
    mut sinks: ResMut<Sinks<S>>,
    mut assigned_users: Query<(&Member, &ObservedCost, &mut Cap, &mut Burden)>,
    mut subsidised_users: Query<(&Member, &TrueCost, &Belief, &mut Burden), Without<Cap>>,
) {
    let (n, active) = (batch.users(), batch.campaigns());
    let scratch = &mut *scratch;
    table.assignment.clear();
    table.assignment.resize(active, None);
    for (members, observed, mut cap, mut burden) in
        assigned_users.contiguous_iter_mut().expect("dense query")
    {
        let observed = ObservedCost::peel_slice(observed);
        let (cap, burden) = (
            Cap::peel_slice_mut(&mut cap),
            Burden::peel_slice_mut(&mut burden),
        );
        for (c, rows) in campaign_blocks(members, n, active) {
            // The memo gives M the assignment S just computed from the same observed costs.
            table.assignment[c] = Some(scratch.memo.assign(
                &observed[rows.clone()],
                &batch.game,
                &mut cap[rows.clone()],
                &mut burden[rows],
                &mut scratch.protocol.fill,
                &mut sinks.0[c],
            ));
        }
    }
    for (members, cost, belief, mut burden) in
        subsidised_users.contiguous_iter_mut().expect("dense query")
    {
        let (cost, belief) = (TrueCost::peel_slice(cost), Belief::peel_slice(belief));
        let burden = Burden::peel_slice_mut(&mut burden);
        for (c, rows) in campaign_blocks(members, n, active) {
            respond(
                &cost[rows.clone()],
                &belief[rows.clone()],
                &batch.game,
                &mut burden[rows],
                &mut sinks.0[c],
            );
        }
    }
}
