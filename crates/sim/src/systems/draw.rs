//! Nature: every replication's costs and shocks, drawn once from (seed, draw key, replication, round)
//! and given to the users of each of its mechanisms (common random numbers): costs copied into
//! their components, the shocks' multipliers read in place (`Columns::multipliers`). In repeated
//! games, costs move from round to round by the scenario's cost process.

use std::collections::HashMap;
use std::sync::Arc;

use bevy_ecs::prelude::*;
use bevy_platform::hash::FixedHasher;
use bytemuck::TransparentWrapper;
use datapact_model::draws::{Draws, mean_one_factor};
use datapact_model::dynamics::{evolve_costs, round_rng};

use super::Blocks;
use crate::batch::{Batch, Columns, Multipliers};
use crate::components::{Member, RealizedCost, Shocks, TrueCost};

impl Multipliers {
    /// Refills `self` from `draws` under the batch's σ_w and σ_o.
    fn fill(&mut self, batch: &Batch, draws: &Draws) {
        self.shocks.clear();
        self.shocks.extend(multipliers(batch, draws));
        self.drifted.clear();
        self.observed.clear();
        for (c, s) in draws.cost.iter().zip(&self.shocks) {
            self.drifted.push(c * s.drift);
            self.observed.push(c * s.observation);
        }
    }
}

/// At most this many users' draws are kept in a thread's [`DrawBank`] ([`BANKED_BYTES_PER_USER`]
/// each: 4 MiB). The baseline's population (2000 replications of 20 users) fits; larger ones
/// are drawn afresh.
pub const DRAW_BANK_USERS: usize = 1 << 16;

/// Bytes a banked user takes: her four draws (`Draws`: cost, drift and observation shocks,
/// order key) and what they make at the cell's σ's (`Multipliers`: the two multipliers, her
/// drifted cost and the observation of her truthful report), one `f64` each.
pub const BANKED_BYTES_PER_USER: usize = 8 * 8;

/// Replications' draws kept from one cell to the next. Draws are a function of (seed, draw key,
/// replication, round) alone, and every cell of a population (all 961 cells of a V × p sweep)
/// has the same draw key, so a thread computes each replication's numbers once and shares them
/// (`Arc`) with later cells instead of running ChaCha8, the ziggurat and `exp` again: the same
/// bits, about a fifth of a baseline run's time saved. Keys are hashed with bevy's fixed-seed
/// foldhash (SipHash took ~2 % of a baseline run). The multipliers are kept with the σ's they
/// were computed for. Bounded by [`DRAW_BANK_USERS`]; emptied when the seed or draw key changes.
#[derive(Default)]
pub struct DrawBank {
    stream: Option<(u64, u64)>,
    users: usize,
    entries: HashMap<(u64, u32), Banked, FixedHasher>,
}

struct Banked {
    draws: Arc<Draws>,
    sigmas: (u64, u64),
    shocks: Arc<Multipliers>,
}

impl DrawBank {
    /// The draws and multipliers of `(replication, round)`: shared from the bank, or drawn now
    /// into `draws` and `shocks` (banked while there is room).
    fn fill(
        &mut self,
        batch: &Batch,
        replication: u64,
        draws: &mut Arc<Draws>,
        shocks: &mut Arc<Multipliers>,
    ) {
        let n = batch.users();
        let stream = (batch.seed, batch.draw_key);
        if self.stream != Some(stream) {
            self.entries.clear();
            self.users = 0;
            self.stream = Some(stream);
        }
        let sigmas = (batch.game.drift.to_bits(), batch.game.obs_noise.to_bits());
        let key = (replication, batch.round);
        if let Some(banked) = self.entries.get_mut(&key) {
            if banked.sigmas != sigmas {
                banked.sigmas = sigmas;
                let mut fresh = Multipliers::default();
                fresh.fill(batch, &banked.draws);
                banked.shocks = Arc::new(fresh);
            }
            *draws = Arc::clone(&banked.draws);
            *shocks = Arc::clone(&banked.shocks);
            return;
        }
        // A slot not shared with the bank is refilled in place.
        let fresh = Arc::make_mut(draws);
        let mut rng = round_rng(batch.seed, batch.draw_key, replication, batch.round);
        fresh.fill(n, &batch.sampler, &mut rng);
        Arc::make_mut(shocks).fill(batch, fresh);
        if self.users + n <= DRAW_BANK_USERS {
            self.users += n;
            self.entries.insert(
                key,
                Banked {
                    draws: Arc::clone(draws),
                    sigmas,
                    shocks: Arc::clone(shocks),
                },
            );
        }
    }
}

/// Each user's drift and observation multipliers under the batch's σ_w and σ_o.
fn multipliers<'a>(batch: &Batch, draws: &'a Draws) -> impl Iterator<Item = Shocks> + 'a {
    let (drift, noise) = (batch.game.drift, batch.game.obs_noise);
    draws
        .drift_shock
        .iter()
        .zip(&draws.obs_shock)
        .map(move |(z, e)| Shocks {
            drift: mean_one_factor(drift, *z),
            observation: mean_one_factor(noise, *e),
        })
}

/// Draws each replication's costs c_i and its drift and observation multipliers once, for the users
/// of every mechanism of that replication (common random numbers; the multipliers stay in
/// `Columns::multipliers`, where the report system reads them), and gives each user her cost
/// at training time c^w_i = c_i·exp(σ_w·ζ_i − σ_w²/2) (= `report::realized_cost`, with the
/// multiplier drawn once per user of a replication) in the same pass over her components: the
/// drift is nature's, and nothing between the draw and the withdraw phase moves c_i. Her cost
/// c_i is copied into `TrueCost` unless the batch's systems read it in the bank
/// ([`Batch::costs_in_place`]: C, S and M untraced, in single campaigns).
pub fn draw_nature(
    batch: Res<Batch>,
    mut columns: ResMut<Columns>,
    mut bank: Local<DrawBank>,
    mut blocks: ResMut<Blocks>,
    mut users: Query<(&Member, &mut TrueCost, &mut RealizedCost)>,
) {
    let columns = &mut *columns;
    if columns.draws.len() < batch.reps {
        columns.draws.resize_with(batch.reps, Default::default);
    }
    if columns.multipliers.len() < batch.reps {
        columns
            .multipliers
            .resize_with(batch.reps, Default::default);
    }
    for (r, (draws, multipliers)) in columns
        .draws
        .iter_mut()
        .zip(columns.multipliers.iter_mut())
        .take(batch.reps)
        .enumerate()
    {
        // Round 0 is the single campaign's stream; later rounds have their own.
        bank.fill(&batch, batch.first_rep + r as u64, draws, multipliers);
    }
    let (m, process) = (batch.mechanisms.len(), batch.game.dynamics.cost_process);
    // Every user's table is visited here first: its campaigns are listed for the systems after.
    blocks.start_round();
    for (members, mut cost, mut realized) in users.contiguous_iter_mut().expect("dense query") {
        let cost = TrueCost::peel_slice_mut(cost.bypass_change_detection());
        let realized = RealizedCost::peel_slice_mut(realized.bypass_change_detection());
        for (c, rows) in blocks.list(members, &batch) {
            let rep = c / m;
            // The replication's multipliers are read where they lie (`Columns::multipliers`).
            let multiplied = &columns.multipliers[rep];
            if batch.costs_in_place {
                // Single campaigns whose systems read c_i in the bank (`Columns::draws`).
                realized[rows].copy_from_slice(&multiplied.drifted);
                continue;
            }
            let fresh = &columns.draws[rep].cost;
            evolve_costs(
                process,
                batch.round,
                batch.cost_mean,
                fresh,
                &mut cost[rows.clone()],
            );
            if batch.round == 0 {
                // The fresh costs (`evolve_costs` copied them): their drifted values are the
                // replication's, computed once.
                realized[rows].copy_from_slice(&multiplied.drifted);
            } else {
                for ((w, c), s) in realized[rows.clone()]
                    .iter_mut()
                    .zip(&cost[rows])
                    .zip(&multiplied.shocks)
                {
                    *w = c * s.drift;
                }
            }
        }
    }
}
