//! Nature: every replication's costs and shocks, drawn once from (seed, cell, replication, round)
//! and given to the users of each of its mechanisms (common random numbers). In repeated games,
//! costs move from round to round by the scenario's cost process.

use bevy_ecs::prelude::*;
use datapact_model::draws::mean_one_factor;
use datapact_model::dynamics::{next_cost, round_rng};

use crate::batch::{Batch, Columns};
use crate::components::{Member, Shocks, TrueCost};

/// One user's draws, laid out flat by (replication, slot) so that giving them to an entity is
/// one indexed load (no per-entity division by the number of mechanisms).
#[derive(Default)]
pub struct Flat {
    /// Replication in batch of each campaign slot.
    rep_of: Vec<u32>,
    /// (cost, shocks) by `rep·n + slot`.
    user: Vec<(f64, Shocks)>,
}

pub fn draw_nature(
    batch: Res<Batch>,
    mut columns: ResMut<Columns>,
    mut flat: Local<Flat>,
    mut users: Query<(&Member, &mut TrueCost, &mut Shocks)>,
) {
    let n = batch.users();
    let columns = &mut *columns;
    if columns.draws.len() < batch.reps {
        columns.draws.resize_with(batch.reps, Default::default);
    }
    let flat = &mut *flat;
    flat.user.clear();
    for (r, draws) in columns.draws.iter_mut().take(batch.reps).enumerate() {
        // Round 0 is the single campaign's stream; later rounds have their own.
        let mut rng = round_rng(
            batch.seed,
            batch.cell,
            batch.first_rep + r as u64,
            batch.round,
        );
        draws.fill(n, &batch.sampler, &mut rng);
        let (drift, noise) = (batch.game.drift, batch.game.obs_noise);
        flat.user.extend((0..n).map(|i| {
            (
                draws.cost[i],
                Shocks {
                    drift: mean_one_factor(drift, draws.drift_shock[i]),
                    observation: mean_one_factor(noise, draws.obs_shock[i]),
                    order_key: draws.order_key[i],
                },
            )
        }));
    }
    let mechanisms = batch.mechanisms.len();
    flat.rep_of.clear();
    flat.rep_of
        .extend((0..batch.campaigns()).map(|c| (c / mechanisms) as u32));
    let (rep_of, user) = (&flat.rep_of, &flat.user);
    let process = batch.game.dynamics.cost_process;
    users.iter_mut().for_each(|(member, mut cost, mut shocks)| {
        // Slots beyond this batch's campaigns (a short last batch) are left alone.
        if let Some(&r) = rep_of.get(member.campaign as usize) {
            let (c, s) = user[r as usize * n + member.slot as usize];
            // From round 1 on, costs evolve from last round's by the cost process.
            cost.0 = if batch.round == 0 {
                c
            } else {
                next_cost(process, cost.0, c, batch.cost_mean)
            };
            *shocks = s;
        }
    });
}
