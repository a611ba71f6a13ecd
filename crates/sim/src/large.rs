//! Very large campaigns off the ECS: when one replication's users × mechanisms reach
//! [`LARGE_MIN_USER_CAMPAIGNS`], the ECS backend plays the cell's mechanisms one after another
//! with the model's compact kernel ([`datapact_model::large`]) instead of spawning an entity per
//! user and mechanism (≈ 420 bytes per user with C, S and M). Each mechanism regenerates the
//! replication's draws from the same keyed stream, so common random numbers are kept.
//!
//! Invariant: the outputs equal the ECS path's and the direct kernel's bit for bit (statistics,
//! diagnostics and per-campaign records; tested in `tests/large.rs`). The path is taken only
//! where that holds by construction: every mechanism has a direct kernel, the plugins add no
//! metric, setup or free-standing system ([`PluginSet::plays_kernels_only`]), single campaigns
//! (one round), and no user or event trace (those records of millions of users go through the
//! ECS, where the memory estimate may refuse them).
//!
//! [`PluginSet::plays_kernels_only`]: crate::PluginSet::plays_kernels_only

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use datapact_model::Kernel;
use datapact_model::dynamics::round_rng;
use datapact_model::large::run_large;
use datapact_model::{Outcome, draw_key};

use crate::sweep::{
    Backend, Batches, CellJob, CellOutput, Depth, Folder, Halt, InvariantViolation, RunSpec,
    check_cancel,
};

/// From this many user-campaigns per replication (users × mechanisms) the ECS backend takes the
/// large-campaign path: 2^16, far above the paper's 20-user cells and above the ECS batch
/// (4096 user-campaigns per world), where one replication alone fills a world.
pub const LARGE_MIN_USER_CAMPAIGNS: usize = 1 << 16;

/// Whether `job` is played by [`run_cell_large`] under `spec` (see the module documentation).
pub fn is_large(job: &CellJob, spec: &RunSpec) -> bool {
    spec.backend == Backend::Ecs
        && spec.depth <= Depth::Rounds
        && job.game.dynamics.rounds <= 1
        && job.game.users.saturating_mul(spec.mechanisms.len()) >= LARGE_MIN_USER_CAMPAIGNS
        && spec.plugins.plays_kernels_only()
        && spec.direct_kernels().is_ok()
}

/// Plays every replication of `job` with the compact kernel, mechanism after mechanism, and
/// folds them as the ECS path does. Any size works (tests force it on small cells).
///
/// # Panics
/// If a mechanism has no direct kernel, a round count above one or an event trace is asked
/// (check [`is_large`]).
pub fn run_cell_large(job: &CellJob, spec: &RunSpec) -> Result<CellOutput, InvariantViolation> {
    match play_large(job, spec, None) {
        Ok(output) => Ok(output),
        Err(Halt::Invariant(v)) => Err(v),
        Err(Halt::Cancelled) => unreachable!("a cell without a cancel flag runs to its end"),
    }
}

/// [`run_cell_large`], stopping between mechanisms once `cancel` is set.
pub(crate) fn play_large(
    job: &CellJob,
    spec: &RunSpec,
    cancel: Option<&Arc<AtomicBool>>,
) -> Result<CellOutput, Halt> {
    assert!(
        spec.depth <= Depth::Rounds && job.game.dynamics.rounds <= 1,
        "the large-campaign path plays single campaigns without user or event records"
    );
    let kernels = spec.direct_kernels().unwrap_or_else(|e| panic!("{e}"));
    let game = &job.game;
    // Each mechanism's game: the cell's, or a variant's own.
    let games: Vec<_> = spec
        .mechanisms
        .iter()
        .map(|&id| spec.game_of(id, game))
        .collect();
    let rules = spec.plugins.catalog().rules(game);
    let sampler = game.cost.sampler().expect("validated cost distribution");
    let key = draw_key(game);
    let mut folder = Folder::new(job.index, spec, 1);
    // The M-vs-C diagnostic compares the users' payoffs under C and M.
    let (index_c, index_m) = (folder.index_c, folder.index_m);
    let pareto = index_c.is_some() && index_m.is_some();
    let (mut payoff_c, mut payoff_m) = (Vec::new(), Vec::new());
    // C plays last, so that M's peak memory is not joined by C's payoffs.
    let mut play_order: Vec<usize> = (0..kernels.len()).collect();
    play_order.sort_by_key(|&k| kernels[k] == Kernel::Subsidy);
    let mut outcomes: Vec<Outcome> = vec![Outcome::null(0); kernels.len()];
    // Fixed or adaptive, the replications come in the same batches as on the ECS path.
    let mut batches = Batches::new(spec);
    while let Some((start, count)) = batches.next(&folder) {
        for rep in start..start + count {
            for &k in &play_order {
                check_cancel(cancel)?;
                let payoff = match pareto {
                    true if Some(k) == index_c => Some(&mut payoff_c),
                    true if Some(k) == index_m => Some(&mut payoff_m),
                    _ => None,
                };
                let stream = || round_rng(spec.seed, key, rep as u64, 0);
                outcomes[k] = run_large(kernels[k], &games[k], &rules, &sampler, stream, payoff);
            }
            let (uc, um) = (payoff_c.as_slice(), payoff_m.as_slice());
            folder.fold(
                rep,
                0,
                &outcomes,
                |_, _| f64::NAN,
                &[],
                pareto.then_some(uc),
                pareto.then_some(um),
            )?;
        }
    }
    Ok(folder.finish(Vec::new()))
}
