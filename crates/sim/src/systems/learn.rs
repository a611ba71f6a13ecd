//! Learn: after training, reporting users remember whether withdrawals were absorbed (shared)
//! and C's users update their belief from the round's outcome (repeated games; no effect on a
//! single campaign).

use bevy_ecs::prelude::*;
use bytemuck::TransparentWrapper;
use datapact_model::dynamics::learn_beliefs;

use super::{campaign_blocks, campaign_blocks_of};
use crate::batch::{Batch, CampaignTable};
use crate::components::{Belief, Burden, Member, Remembers};
use crate::core::Subsidy;
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
