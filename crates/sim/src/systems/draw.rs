//! Nature: every replication's costs and shocks, drawn once from (seed, draw key, replication, round)
//! and given to the users of each of its mechanisms (common random numbers). In repeated games,
//! costs move from round to round by the scenario's cost process.

use bevy_ecs::prelude::*;
use bytemuck::TransparentWrapper;
use datapact_model::draws::mean_one_factor;
use datapact_model::dynamics::{evolve_costs, round_rng};

use super::campaign_blocks;
use crate::batch::{Batch, Columns};
use crate::components::{Member, Shocks, TrueCost};

/// Each replication's shocks by `rep·n + slot`, with the multipliers computed once per user of a
/// replication rather than once per mechanism.
#[derive(Default)]
pub struct Nature {
    shocks: Vec<Shocks>,
}

/// Draws each replication's costs c_i and its drift and observation multipliers once, for the users
/// of every mechanism of that replication (common random numbers).
pub fn draw_nature(
    batch: Res<Batch>,
    mut columns: ResMut<Columns>,
    mut nature: Local<Nature>,
    mut users: Query<(&Member, &mut TrueCost, &mut Shocks)>,
) {
    let n = batch.users();
    let columns = &mut *columns;
    if columns.draws.len() < batch.reps {
        columns.draws.resize_with(batch.reps, Default::default);
    }
    let (drift, noise) = (batch.game.drift, batch.game.obs_noise);
    let nature = &mut nature.shocks;
    nature.clear();
    for (r, draws) in columns.draws.iter_mut().take(batch.reps).enumerate() {
        // Round 0 is the single campaign's stream; later rounds have their own.
        let mut rng = round_rng(
            batch.seed,
            batch.draw_key,
            batch.first_rep + r as u64,
            batch.round,
        );
        draws.fill(n, &batch.sampler, &mut rng);
        nature.extend((0..n).map(|i| Shocks {
            drift: mean_one_factor(drift, draws.drift_shock[i]),
            observation: mean_one_factor(noise, draws.obs_shock[i]),
        }));
    }
    let (m, process) = (batch.mechanisms.len(), batch.game.dynamics.cost_process);
    for (members, mut cost, mut shocks) in users.contiguous_iter_mut().expect("dense query") {
        let (cost, shocks) = (TrueCost::peel_slice_mut(&mut cost), &mut *shocks);
        for (c, rows) in campaign_blocks(members, n, batch.campaigns()) {
            let rep = c / m;
            let fresh = &columns.draws[rep].cost;
            evolve_costs(
                process,
                batch.round,
                batch.cost_mean,
                fresh,
                &mut cost[rows.clone()],
            );
            shocks[rows].copy_from_slice(&nature[rep * n..(rep + 1) * n]);
        }
    }
}
