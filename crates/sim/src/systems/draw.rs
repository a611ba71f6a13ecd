//! Nature: every replication's costs and shocks, drawn once from (seed, cell, replication) and
//! given to the users of each of its mechanisms (common random numbers).

use bevy_ecs::prelude::*;
use datapact_model::campaign_rng;

use crate::batch::{Batch, Columns};
use crate::components::{Member, Shocks, TrueCost};

pub fn draw_nature(
    batch: Res<Batch>,
    mut columns: ResMut<Columns>,
    mut users: Query<(&Member, &mut TrueCost, &mut Shocks)>,
) {
    let n = batch.users();
    let columns = &mut *columns;
    if columns.draws.len() < batch.reps {
        columns.draws.resize_with(batch.reps, Default::default);
    }
    for (r, draws) in columns.draws.iter_mut().take(batch.reps).enumerate() {
        let mut rng = campaign_rng(batch.seed, batch.cell, batch.first_rep + r as u64);
        draws.fill(n, &batch.sampler, &mut rng);
    }
    let mechanisms = batch.mechanisms.len();
    users.iter_mut().for_each(|(member, mut cost, mut shocks)| {
        if !batch.active(member.campaign) {
            return;
        }
        let draws = &columns.draws[member.campaign as usize / mechanisms];
        let i = member.slot as usize;
        cost.0 = draws.cost[i];
        *shocks = Shocks {
            drift: draws.drift_shock[i],
            observation: draws.obs_shock[i],
            order_key: draws.order_key[i],
        };
    });
}
