//! A cell on the ECS engine: batches of replications in one world, each round's outcomes read
//! back and folded.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use datapact_model::{Event, Rules, draw_key};

use crate::engine::Engine;
use crate::users::BatchUsers;

use super::{
    Batches, CellJob, CellOutput, Depth, Folder, Halt, RunSpec, check_cancel, push_events,
};

/// Replications per ECS batch: at most about 4096 user entities per world (at least one
/// replication), batches of a cell balanced in size.
pub fn batch_capacity(users: usize, mechanisms: usize, replications: u32) -> usize {
    let reps = replications.max(1) as usize;
    let per_world = (4096 / (users.max(1) * mechanisms.max(1))).clamp(1, reps);
    let batches = reps.div_ceil(per_world);
    reps.div_ceil(batches)
}

pub(super) fn run_cell_ecs<S: crate::plugin::Sink + AsRef<[Event]>>(
    engine: &mut Engine<S>,
    job: &CellJob,
    spec: &RunSpec,
    rules: &Rules,
    cancel: Option<&Arc<AtomicBool>>,
) -> Result<CellOutput, Halt> {
    let sampler = job
        .game
        .cost
        .sampler()
        .expect("validated cost distribution");
    let m = spec.mechanisms.len();
    let rounds = job.game.dynamics.rounds.max(1);
    let mut batches = Batches::new(spec);
    let capacity = batch_capacity(job.game.users, m, batches.largest());
    let mut folder = Folder::new(job.index, spec, rounds);
    let mut events = Vec::new();
    let mut outcomes = Vec::with_capacity(m);
    // Trace ≥ users: each campaign's log and outcome of the round, and the batch's users.
    let mut logs = Vec::new();
    let mut batch_users = BatchUsers::default();
    // The replications of a batch (fixed or adaptive) in worlds of at most `capacity`.
    while let Some((start, count)) = batches.next(&folder) {
        let end = start + count;
        let mut first = start;
        while first < end {
            check_cancel(cancel)?;
            let reps = (capacity as u32).min(end - first) as usize;
            engine.start_batch(
                &job.game,
                rules,
                &sampler,
                &spec.mechanisms,
                spec.seed,
                draw_key(&job.game),
                first as u64,
                reps,
                capacity,
            );
            engine.set_cancel(cancel);
            for round in 0..rounds {
                check_cancel(cancel)?;
                let mut view = engine.run_round(round);
                // Checked before the outcomes are read: a cancelled round skipped phases.
                check_cancel(cancel)?;
                logs.clear();
                for r in 0..reps {
                    let rep = first + r as u32;
                    outcomes.clear();
                    outcomes.extend((0..m).map(|k| view.outcome(r * m + k)));
                    let payoff_c = folder.index_c.map(|k| view.payoffs(r * m + k));
                    let payoff_m = folder.index_m.map(|k| view.payoffs(r * m + k));
                    let metric = |k: usize, metric: usize| view.metric(metric, r * m + k);
                    folder.fold(rep, round, &outcomes, metric, payoff_c, payoff_m)?;
                    if S::ENABLED {
                        for k in 0..m {
                            let log = view.take_events(r * m + k);
                            if spec.depth >= Depth::Events {
                                push_events(
                                    &mut events,
                                    rep,
                                    round,
                                    spec.mechanisms[k],
                                    log.as_ref(),
                                );
                            }
                            logs.push(log);
                        }
                    }
                }
                drop(view);
                if spec.depth >= Depth::Users {
                    let n = job.game.users;
                    engine.read_users(&mut batch_users, reps * m);
                    for (c, log) in logs.iter().enumerate() {
                        let (r, k) = (c / m, c % m);
                        let id = spec.mechanisms[k];
                        let stages = spec.plugins.catalog().mechanisms[id as usize].stages;
                        folder.users(
                            first + r as u32,
                            round,
                            id,
                            &batch_users.campaign(c, n, stages),
                            log.as_ref(),
                        );
                    }
                }
            }
            first += reps as u32;
        }
    }
    Ok(folder.finish(events))
}
