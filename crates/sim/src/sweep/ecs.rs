//! A cell on the ECS engine: batches of replications in one world, each round's outcomes read
//! back and folded.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use datapact_model::{Event, Game, Outcome, Rules, draw_key};

use crate::engine::Engine;
use crate::users::BatchUsers;

use super::halt::{Halt, check_cancel};
use super::{Batches, CellJob, CellOutput, Depth, Folder, RunSpec, push_events};

/// Replications per ECS batch: at most about 4096 user entities per world (at least one
/// replication), batches of a cell balanced in size.
pub fn batch_capacity(users: usize, mechanisms: usize, replications: u32) -> usize {
    let reps = replications.max(1) as usize;
    let per_world = (4096 / (users.max(1) * mechanisms.max(1))).clamp(1, reps);
    let batches = reps.div_ceil(per_world);
    reps.div_ceil(batches)
}

/// The mechanisms one world plays: the run's registered mechanisms in the cell's game, or one
/// named variant (as its base) in its own game. Worlds of one cell share the draws (they are a
/// function of the seed, the cell's draw key and the replication), so variants are paired with
/// the other mechanisms.
pub(super) struct Group {
    /// Catalog ids the world's campaigns play (a variant's base).
    pub(super) ids: Vec<u16>,
    /// Their positions in [`RunSpec::mechanisms`].
    pub(super) positions: Vec<usize>,
    /// The game they play.
    pub(super) game: Game,
    /// The population's strategies in that game.
    pub(super) rules: Rules,
}

/// The worlds a cell of `spec` needs: the registered mechanisms together, each variant alone.
pub(super) fn groups(job: &CellJob, spec: &RunSpec, rules: &Rules) -> Vec<Group> {
    let (mut own, mut variants) = (
        Group {
            ids: Vec::new(),
            positions: Vec::new(),
            game: job.game.clone(),
            rules: rules.clone(),
        },
        Vec::new(),
    );
    for (k, &id) in spec.mechanisms.iter().enumerate() {
        if spec.plays_as(id) == id {
            own.ids.push(id);
            own.positions.push(k);
        } else {
            let game = spec.game_of(id, &job.game).into_owned();
            variants.push(Group {
                ids: vec![spec.plays_as(id)],
                positions: vec![k],
                rules: spec.plugins.catalog().rules(&game),
                game,
            });
        }
    }
    (!own.ids.is_empty())
        .then_some(own)
        .into_iter()
        .chain(variants)
        .collect()
}

/// What one round left in the worlds, by the run's campaign slot r·m + k (k: position in
/// [`RunSpec::mechanisms`]).
struct Round<S> {
    outcomes: Vec<Outcome>,
    /// Metric `j` of slot `c` at `c·metrics + j`.
    metrics: Vec<f64>,
    /// The users' payoffs under C and M (the M-vs-C diagnostic), at r·n.
    payoff_c: Vec<f64>,
    payoff_m: Vec<f64>,
    logs: Vec<S>,
    /// Each slot's cascade size (`None` without a network).
    cascade: Vec<Option<u32>>,
    /// Each slot's triggers (trace = events, on a network; empty otherwise).
    triggers: Vec<Vec<u32>>,
}

pub(super) fn run_cell_ecs<S: crate::plugin::Sink + AsRef<[Event]>>(
    engines: &mut [Engine<S>],
    job: &CellJob,
    spec: &RunSpec,
    groups: &[Group],
    cancel: Option<&Arc<AtomicBool>>,
) -> Result<CellOutput, Halt> {
    let sampler = job
        .game
        .cost
        .sampler()
        .expect("validated cost distribution");
    let (m, n) = (spec.mechanisms.len(), job.game.users);
    let metrics = spec.plugins.metrics().len();
    let rounds = job.game.dynamics.rounds.max(1);
    let key = draw_key(&job.game);
    let mut batches = Batches::new(spec);
    let capacity = batch_capacity(n, m, batches.largest());
    let mut folder = Folder::new(job.index, spec, rounds);
    let mut events = Vec::new();
    let mut round_out = Round::<S> {
        outcomes: Vec::new(),
        metrics: Vec::new(),
        payoff_c: Vec::new(),
        payoff_m: Vec::new(),
        logs: Vec::new(),
        cascade: Vec::new(),
        triggers: Vec::new(),
    };
    // Trace ≥ users: each world's users after a round.
    let mut batch_users = BatchUsers::default();
    let networked = job.game.network.is_some();
    // The common case: one world playing the run's mechanisms in order (no variant), nothing
    // traced per user or event, so the fold reads the world's campaign table in place.
    let straight = groups.len() == 1 && spec.depth < Depth::Users && !S::ENABLED;
    // The replications of a batch (fixed or adaptive) in worlds of at most `capacity`.
    while let Some((start, count)) = batches.next(&folder) {
        let end = start + count;
        let mut first = start;
        while first < end {
            check_cancel(cancel)?;
            let reps = (capacity as u32).min(end - first) as usize;
            for (engine, group) in engines.iter_mut().zip(groups) {
                engine.start_batch(
                    &group.game,
                    &group.rules,
                    &sampler,
                    &group.ids,
                    spec.seed,
                    key,
                    first as u64,
                    reps,
                    capacity,
                );
                engine.set_cancel(cancel);
            }
            for round in 0..rounds {
                check_cancel(cancel)?;
                if straight {
                    // One world in the run's mechanism order: its outcomes, metrics and payoffs
                    // are folded where the round left them, with no copy by slot.
                    let view = engines[0].run_round(round);
                    // Checked before any outcome is read (see `play_group`).
                    check_cancel(cancel)?;
                    for rep in 0..reps {
                        let c0 = rep * m;
                        let payoff_c = folder.index_c.map(|k| view.payoffs(c0 + k));
                        let payoff_m = folder.index_m.map(|k| view.payoffs(c0 + k));
                        folder.fold_with(
                            first + rep as u32,
                            round,
                            |k| view.settled(c0 + k),
                            |k, j| view.metric(j, c0 + k),
                            |k| view.cascade(c0 + k),
                            payoff_c,
                            payoff_m,
                        )?;
                    }
                    continue;
                }
                let r = &mut round_out;
                r.outcomes.clear();
                r.outcomes.resize(reps * m, Outcome::null(0));
                r.metrics.clear();
                r.metrics.resize(reps * m * metrics, f64::NAN);
                r.logs.clear();
                r.logs.resize_with(reps * m, S::default);
                // Cascades and triggers exist only on a network: without one the fold gets an
                // empty slice and no slot is touched (this loop runs every round of every cell).
                r.cascade.clear();
                if networked {
                    r.cascade.resize(reps * m, None);
                    if S::ENABLED {
                        r.triggers.resize_with(reps * m, Vec::new);
                        r.triggers.iter_mut().for_each(Vec::clear);
                    }
                }
                for (engine, group) in engines.iter_mut().zip(groups) {
                    play_group(engine, group, spec, &folder, round, reps, r, cancel)?;
                    if spec.depth >= Depth::Users {
                        let mg = group.ids.len();
                        engine.read_users(&mut batch_users, reps * mg);
                        for rep in 0..reps {
                            for (kg, &k) in group.positions.iter().enumerate() {
                                let (id, stages) = (spec.mechanisms[k], folder.decls[k].stages);
                                folder.users(
                                    first + rep as u32,
                                    round,
                                    id,
                                    &batch_users.campaign(rep * mg + kg, n, stages),
                                    r.logs[rep * m + k].as_ref(),
                                );
                            }
                        }
                    }
                }
                for rep in 0..reps {
                    let slots = rep * m..(rep + 1) * m;
                    let metric = |k: usize, j: usize| r.metrics[(rep * m + k) * metrics + j];
                    let users = rep * n..(rep + 1) * n;
                    let payoff_c = folder.index_c.map(|_| &r.payoff_c[users.clone()]);
                    let payoff_m = folder.index_m.map(|_| &r.payoff_m[users]);
                    folder.fold(
                        first + rep as u32,
                        round,
                        &r.outcomes[slots.clone()],
                        metric,
                        r.cascade.get(slots).unwrap_or_default(),
                        payoff_c,
                        payoff_m,
                    )?;
                    if S::ENABLED && spec.depth >= Depth::Events {
                        for k in 0..m {
                            push_events(
                                &mut events,
                                first + rep as u32,
                                round,
                                spec.mechanisms[k],
                                r.logs[rep * m + k].as_ref(),
                                networked.then(|| r.triggers[rep * m + k].as_slice()),
                            );
                        }
                    }
                }
            }
            first += reps as u32;
        }
    }
    Ok(folder.finish(events))
}

/// Plays round `round` of one world and copies what the statistics read into `out`, by the
/// run's campaign slots; [`Halt`] when the run was cancelled during the round.
fn play_group<S: crate::plugin::Sink>(
    engine: &mut Engine<S>,
    group: &Group,
    spec: &RunSpec,
    folder: &Folder,
    round: u32,
    reps: usize,
    out: &mut Round<S>,
    cancel: Option<&Arc<AtomicBool>>,
) -> Result<(), Halt> {
    let (m, mg, n) = (spec.mechanisms.len(), group.ids.len(), group.game.users);
    let metrics = spec.plugins.metrics().len();
    let mut view = engine.run_round(round);
    // Checked before any outcome is read: a round cancelled mid-way skipped its remaining
    // phases, so its campaigns are unsettled (and the table may still have another batch's size).
    check_cancel(cancel)?;
    for rep in 0..reps {
        for (kg, &k) in group.positions.iter().enumerate() {
            let (c, slot) = (rep * mg + kg, rep * m + k);
            out.outcomes[slot] = view.outcome(c);
            for j in 0..metrics {
                out.metrics[slot * metrics + j] = view.metric(j, c);
            }
            for (index, payoffs) in [
                (folder.index_c, &mut out.payoff_c),
                (folder.index_m, &mut out.payoff_m),
            ] {
                if index == Some(k) {
                    payoffs.resize(reps * n, 0.0);
                    payoffs[rep * n..(rep + 1) * n].copy_from_slice(view.payoffs(c));
                }
            }
            if let Some(cascade) = out.cascade.get_mut(slot) {
                *cascade = view.cascade(c);
            }
            if S::ENABLED {
                out.logs[slot] = view.take_events(c);
                if let Some(t) = view.triggers(c) {
                    out.triggers[slot].extend_from_slice(t);
                }
            }
        }
    }
    Ok(())
}
