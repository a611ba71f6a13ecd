//! Assign: for every reporting mechanism the provider computes caps and water-fills Q over
//! observed costs (shared); under C each user chooses her privately optimal contribution.

use bevy_ecs::prelude::*;
use bytemuck::TransparentWrapper;
use datapact_model::AmountKind;
use datapact_model::EventSink;
use datapact_model::assign::contribute;

use super::{campaign_blocks, campaign_blocks_of};
use crate::batch::{Batch, CampaignTable, Scratch, Sinks};
use crate::components::{Belief, Burden, Cap, Member, ObservedCost, TrueCost};
use crate::core::Subsidy;
use crate::plugin::This;

/// Caps and water-filling over the observed costs of every reporting campaign.
pub fn assign_burdens<S: EventSink + Send + Sync + 'static>(
    batch: Res<Batch>,
    mut table: ResMut<CampaignTable>,
    mut scratch: ResMut<Scratch>,
    mut sinks: ResMut<Sinks<S>>,
    mut assigned_users: Query<(&Member, &ObservedCost, &mut Cap, &mut Burden)>,
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
            Cap::peel_slice_mut(cap.bypass_change_detection()),
            Burden::peel_slice_mut(burden.bypass_change_detection()),
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
}

/// C: each user's contribution by her contribute strategy (the privately optimal one unless
/// `[population.contribute]` says otherwise).
pub fn respond_to_subsidy<S: EventSink + Send + Sync + 'static>(
    me: Res<This<Subsidy>>,
    batch: Res<Batch>,
    mut sinks: ResMut<Sinks<S>>,
    mut subsidised_users: Query<(&Member, &TrueCost, &Belief, &mut Burden), Without<Cap>>,
) {
    for (members, cost, belief, mut burden) in
        subsidised_users.contiguous_iter_mut().expect("dense query")
    {
        let (cost, belief) = (TrueCost::peel_slice(cost), Belief::peel_slice(belief));
        let burden = Burden::peel_slice_mut(burden.bypass_change_detection());
        for (c, rows) in campaign_blocks_of(members, &batch, me.id) {
            contribute(
                batch.rules.amount(AmountKind::Contribute),
                &cost[rows.clone()],
                &belief[rows.clone()],
                &batch.game,
                &mut burden[rows],
                &mut sinks.0[c],
            );
        }
    }
}
