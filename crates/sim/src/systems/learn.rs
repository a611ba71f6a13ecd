//! Learn: after training, C's users update their belief from the round's outcome and S/M users
//! remember whether withdrawals were absorbed (repeated games; no effect on a single campaign).

use bevy_ecs::prelude::*;
use datapact_model::dynamics::update_belief;

use crate::batch::{Batch, CampaignTable};
use crate::components::{Belief, Burden, Member, Remembers};

pub fn learn_from_outcome(
    batch: Res<Batch>,
    table: Res<CampaignTable>,
    mut believers: Query<(&Member, &Burden, &mut Belief)>,
    mut rememberers: Query<(&Member, &mut Remembers)>,
) {
    // What users learn only matters for a next round.
    if batch.round + 1 >= batch.game.dynamics.rounds {
        return;
    }
    let (learning, need) = (batch.game.dynamics.learning, batch.game.need());
    believers
        .iter_mut()
        .for_each(|(member, burden, mut belief)| {
            if let Some(Some(o)) = table.outcome.get(member.campaign as usize) {
                belief.0 = update_belief(learning, belief.0, burden.0, o.data, need);
            }
        });
    rememberers.iter_mut().for_each(|(member, mut memory)| {
        if let Some(Some(o)) = table.outcome.get(member.campaign as usize) {
            memory.0.remember(o.withdrawals, o.success());
        }
    });
}
