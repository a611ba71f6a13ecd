//! Learn: after training, reporting users remember whether withdrawals were absorbed and, on a
//! network, which of their neighbours withdrew (shared), and C's users update their belief from the round's outcome (repeated games; no effect on a
//! single campaign).

use bevy_ecs::prelude::*;
use bytemuck::TransparentWrapper;
use datapact_model::Decision;
use datapact_model::dynamics::learn_beliefs;

use super::{campaign_blocks, campaign_blocks_of};
use crate::batch::{Batch, CampaignTable};
use crate::components::{Belief, Burden, Choice, Member, Remembers};
use crate::mechanisms::Subsidy;
use crate::plugin::This;

/// Whether what users learn matters: only for a next round.
fn next_round(batch: &Batch) -> bool {
    batch.round + 1 < batch.game.dynamics.rounds
}

/// Every reporting user remembers her campaign's withdrawals and success.
pub fn remember_outcome(
    batch: Res<Batch>,
    table: Res<CampaignTable>,
    mut rememberers: Query<(&Member, &mut Remembers)>,
) {
    if !next_round(&batch) {
        return;
    }
    for (members, mut memory) in rememberers.contiguous_iter_mut().expect("dense query") {
        for (c, rows) in campaign_blocks(members, batch.users(), batch.campaigns()) {
            if let Some(o) = table.outcome[c] {
                for m in &mut memory.bypass_change_detection()[rows] {
                    m.0.remember(o.withdrawals, o.success());
                }
            }
        }
    }
}

/// On a network, every campaign remembers which of its users withdrew, so that in the next round
/// each user starts knowing her neighbours' withdrawals of this one (`docs/model.md` section 16).
pub fn remember_withdrawals(
    batch: Res<Batch>,
    mut networks: ResMut<crate::network::Networks>,
    deciders: Query<(&Member, &Choice)>,
) {
    if batch.game.network.is_none() || !next_round(&batch) {
        return;
    }
    for (members, choice) in deciders.contiguous_iter().expect("dense query") {
        for (c, rows) in campaign_blocks(members, batch.users(), batch.campaigns()) {
            let decision = &choice[rows];
            networks.remember(&batch, c, |i| decision[i].0 == Decision::Withdraw);
        }
    }
}

/// C: each user's belief moves toward how often her data was pivotal.
pub fn learn_beliefs_from_outcome(
    me: Res<This<Subsidy>>,
    batch: Res<Batch>,
    table: Res<CampaignTable>,
    mut believers: Query<(&Member, &Burden, &mut Belief)>,
) {
    if !next_round(&batch) {
        return;
    }
    let (learning, need) = (batch.game.dynamics.learning, batch.game.need());
    for (members, burden, mut belief) in believers.contiguous_iter_mut().expect("dense query") {
        let belief = Belief::peel_slice_mut(belief.bypass_change_detection());
        for (c, rows) in campaign_blocks_of(members, &batch, me.id) {
            if let Some(o) = table.outcome[c] {
                learn_beliefs(
                    learning,
                    &mut belief[rows.clone()],
                    Burden::peel_slice(&burden[rows]),
                    o.data,
                    need,
                );
            }
        }
    }
}
