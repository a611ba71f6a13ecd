//! Running cells: replications in batches through the ECS engine (or the direct kernel, the
//! reference), folded into statistics in replication order; cells in parallel on a rayon pool,
//! delivered in cell order so that outputs do not depend on the thread count.

use std::cell::RefCell;

use datapact_model::assign::AssignMemo;
use datapact_model::dynamics::{next_cost, round_rng, update_belief};
use datapact_model::stats::{CellStats, DiagnosticStats, Diagnostics};
use datapact_model::{
    Draws, Event, EventSink, Game, Mechanism, Memory, NoEvents, Outcome, Status, Workspace,
    run_round,
};
use rayon::prelude::*;

use crate::engine::{Engine, Extension};

/// How much per-campaign detail a run keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Depth {
    Cells,
    Rounds,
    Events,
}

/// Which implementation plays the campaigns. Both give identical numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// Users as ECS entities, one system per phase (the product).
    Ecs,
    /// The model's phase functions called in a plain loop (the reference and the speed limit).
    Direct,
}

/// What every cell of a run shares.
#[derive(Clone, Debug)]
pub struct RunSpec {
    pub seed: u64,
    pub replications: u32,
    pub mechanisms: Vec<Mechanism>,
    pub depth: Depth,
    pub backend: Backend,
    /// A researcher's extension; runs on the ECS backend only.
    pub extension: Option<Extension>,
}

/// One cell to run: its index in the scenario's grid and its game.
#[derive(Clone, Debug)]
pub struct CellJob {
    pub index: usize,
    pub game: Game,
}

/// One campaign's record (trace ≥ rounds).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RoundRecord {
    pub rep: u32,
    pub round: u32,
    pub mechanism: Mechanism,
    pub outcome: Outcome,
}

/// One event (trace = events); `seq` orders the campaign's events.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EventRecord {
    pub rep: u32,
    pub round: u32,
    pub mechanism: Mechanism,
    pub seq: u32,
    pub event: Event,
}

/// The statistics of one round of a cell, over its replications.
#[derive(Clone, Debug, PartialEq)]
pub struct RoundSummary {
    pub round: u32,
    pub stats: Vec<(Mechanism, CellStats)>,
    pub diagnostics: Diagnostics,
}

/// Everything a cell produced: per-round statistics, and per-campaign records and events sorted
/// by (round, replication, mechanism).
#[derive(Clone, Debug, PartialEq)]
pub struct CellOutput {
    pub cell: usize,
    pub summaries: Vec<RoundSummary>,
    pub rounds: Vec<RoundRecord>,
    pub events: Vec<EventRecord>,
}

/// A campaign broke an invariant the model promises (never expected; checked on every campaign).
#[derive(Clone, Debug, PartialEq)]
pub struct InvariantViolation {
    pub cell: usize,
    pub rep: u32,
    pub mechanism: Mechanism,
    pub what: String,
}

impl std::fmt::Display for InvariantViolation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "cell {} replication {} mechanism {}: {}",
            self.cell,
            self.rep,
            self.mechanism.as_str(),
            self.what
        )
    }
}

impl std::error::Error for InvariantViolation {}

/// Checks what must hold on every campaign: S and M never pay without improvement, nothing is NaN.
fn check(
    cell: usize,
    rep: u32,
    mechanism: Mechanism,
    o: &Outcome,
) -> Result<(), InvariantViolation> {
    let fail = |what: String| {
        Err(InvariantViolation {
            cell,
            rep,
            mechanism,
            what,
        })
    };
    let values = [o.welfare, o.privacy_cost, o.subsidy, o.leakage, o.data];
    if values.iter().any(|v| !v.is_finite()) {
        return fail(format!("non-finite outcome {o:?}"));
    }
    if mechanism != Mechanism::C
        && (o.leakage != 0.0 || (o.status != Status::Success && o.subsidy != 0.0))
    {
        return fail(format!(
            "paid {} without improvement (status {})",
            o.subsidy,
            o.status.as_str()
        ));
    }
    if o.status == Status::Null && (o.data != 0.0 || o.subsidy != 0.0) {
        return fail("null outcome collected data or paid".into());
    }
    Ok(())
}

/// Replications per ECS batch: at most about 4096 user entities per world (at least one
/// replication), batches of a cell balanced in size.
pub fn batch_capacity(users: usize, mechanisms: usize, replications: u32) -> usize {
    let reps = replications.max(1) as usize;
    let per_world = (4096 / (users.max(1) * mechanisms.max(1))).clamp(1, reps);
    let batches = reps.div_ceil(per_world);
    reps.div_ceil(batches)
}

/// Folds each round's outcomes (in `spec.mechanisms` order) into that round's statistics, in
/// replication order.
struct Folder {
    cell: usize,
    stats: Vec<Vec<(Mechanism, CellStats)>>,
    diagnostics: Vec<DiagnosticStats>,
    rounds: Vec<RoundRecord>,
    depth: Depth,
    index_c: Option<usize>,
    index_s: Option<usize>,
    index_m: Option<usize>,
}

impl Folder {
    fn new(cell: usize, spec: &RunSpec, rounds: u32) -> Self {
        let find = |m| spec.mechanisms.iter().position(|x| *x == m);
        let fresh: Vec<(Mechanism, CellStats)> = spec
            .mechanisms
            .iter()
            .map(|m| (*m, CellStats::default()))
            .collect();
        Folder {
            cell,
            stats: vec![fresh; rounds as usize],
            diagnostics: vec![DiagnosticStats::default(); rounds as usize],
            rounds: Vec::new(),
            depth: spec.depth,
            index_c: find(Mechanism::C),
            index_s: find(Mechanism::S),
            index_m: find(Mechanism::M),
        }
    }

    fn fold(
        &mut self,
        rep: u32,
        round: u32,
        outcomes: &[Outcome],
        payoff_c: Option<&[f64]>,
        payoff_m: Option<&[f64]>,
    ) -> Result<(), InvariantViolation> {
        let stats = &mut self.stats[round as usize];
        for (k, o) in outcomes.iter().enumerate() {
            let mechanism = stats[k].0;
            check(self.cell, rep, mechanism, o)?;
            stats[k].1.push(o);
            if self.depth >= Depth::Rounds {
                self.rounds.push(RoundRecord {
                    rep,
                    round,
                    mechanism,
                    outcome: *o,
                });
            }
        }
        let s = self.index_s.map(|k| &outcomes[k]);
        let m = self.index_m.map(|k| &outcomes[k]);
        self.diagnostics[round as usize].push(s, m, payoff_c, payoff_m);
        Ok(())
    }

    fn finish(mut self, mut events: Vec<EventRecord>) -> CellOutput {
        let (has_s, has_m, has_c) = (
            self.index_s.is_some(),
            self.index_m.is_some(),
            self.index_c.is_some(),
        );
        let summaries = self
            .stats
            .into_iter()
            .zip(&self.diagnostics)
            .enumerate()
            .map(|(round, (stats, d))| RoundSummary {
                round: round as u32,
                stats,
                diagnostics: d.finish(has_s, has_m, has_c),
            })
            .collect();
        // Canonical order, whatever order batches and rounds were played in.
        self.rounds.sort_by_key(|r| (r.round, r.rep, r.mechanism));
        events.sort_by_key(|e| (e.round, e.rep, e.mechanism, e.seq));
        CellOutput {
            cell: self.cell,
            summaries,
            rounds: self.rounds,
            events,
        }
    }
}

fn push_events(
    out: &mut Vec<EventRecord>,
    rep: u32,
    round: u32,
    mechanism: Mechanism,
    events: &[Event],
) {
    out.extend(events.iter().enumerate().map(|(seq, e)| EventRecord {
        rep,
        round,
        mechanism,
        seq: seq as u32,
        event: *e,
    }));
}

thread_local! {
    static ENGINE: RefCell<Option<Engine<NoEvents>>> = const { RefCell::new(None) };
    static TRACING_ENGINE: RefCell<Option<Engine<Vec<Event>>>> = const { RefCell::new(None) };
}

/// This thread's engine for `extension`, rebuilt when the extension changes.
fn engine_for<S: EventSink + Send + Sync + Default + 'static>(
    slot: &mut Option<Engine<S>>,
    extension: Option<Extension>,
) -> &mut Engine<S> {
    let name = |x: Option<Extension>| x.map(|x| x.name);
    if slot
        .as_ref()
        .is_none_or(|e| name(e.extension()) != name(extension))
    {
        *slot = Some(Engine::with_extension(extension));
    }
    slot.as_mut().expect("engine just built")
}

/// Runs every replication of one cell. An extension always runs on the ECS backend.
pub fn run_cell(job: &CellJob, spec: &RunSpec) -> Result<CellOutput, InvariantViolation> {
    let backend = if spec.extension.is_some() {
        Backend::Ecs
    } else {
        spec.backend
    };
    match (backend, spec.depth == Depth::Events) {
        (Backend::Direct, false) => run_cell_direct(job, spec, &mut NoEvents),
        (Backend::Direct, true) => run_cell_direct(job, spec, &mut Vec::new()),
        (Backend::Ecs, false) => ENGINE
            .with(|e| run_cell_ecs(engine_for(&mut e.borrow_mut(), spec.extension), job, spec)),
        (Backend::Ecs, true) => TRACING_ENGINE
            .with(|e| run_cell_ecs(engine_for(&mut e.borrow_mut(), spec.extension), job, spec)),
    }
}

fn run_cell_ecs<S: EventSink + Send + Sync + Default + AsRef<[Event]> + 'static>(
    engine: &mut Engine<S>,
    job: &CellJob,
    spec: &RunSpec,
) -> Result<CellOutput, InvariantViolation> {
    let sampler = job
        .game
        .cost
        .sampler()
        .expect("validated cost distribution");
    let m = spec.mechanisms.len();
    let rounds = job.game.dynamics.rounds.max(1);
    let capacity = batch_capacity(job.game.users, m, spec.replications);
    let mut folder = Folder::new(job.index, spec, rounds);
    let mut events = Vec::new();
    let mut outcomes = Vec::with_capacity(m);
    let mut first = 0u32;
    while first < spec.replications {
        let reps = (capacity as u32).min(spec.replications - first) as usize;
        engine.start_batch(
            &job.game,
            &sampler,
            &spec.mechanisms,
            spec.seed,
            job.index as u64,
            first as u64,
            reps,
            capacity,
        );
        for round in 0..rounds {
            let mut view = engine.run_round(round);
            for r in 0..reps {
                let rep = first + r as u32;
                outcomes.clear();
                outcomes.extend((0..m).map(|k| view.outcome(r * m + k)));
                let payoff_c = folder.index_c.map(|k| view.payoffs(r * m + k));
                let payoff_m = folder.index_m.map(|k| view.payoffs(r * m + k));
                folder.fold(rep, round, &outcomes, payoff_c, payoff_m)?;
                if S::ENABLED {
                    for k in 0..m {
                        let log = view.take_events(r * m + k);
                        push_events(&mut events, rep, round, spec.mechanisms[k], log.as_ref());
                    }
                }
            }
        }
        first += reps as u32;
    }
    Ok(folder.finish(events))
}

/// The reference: each replication's rounds played in a plain loop with the model's functions.
fn run_cell_direct<S: EventSink + AsRef<[Event]> + Clear>(
    job: &CellJob,
    spec: &RunSpec,
    sink: &mut S,
) -> Result<CellOutput, InvariantViolation> {
    let game = &job.game;
    let sampler = game.cost.sampler().expect("validated cost distribution");
    let (m, n) = (spec.mechanisms.len(), game.users);
    let rounds = game.dynamics.rounds.max(1);
    let mut folder = Folder::new(job.index, spec, rounds);
    let mut draws = Draws::default();
    let mut costs = vec![0.0; n];
    let mut memory = vec![Memory::default(); m];
    let mut workspaces: Vec<Workspace> = (0..m).map(|_| Workspace::default()).collect();
    let mut outcomes = Vec::with_capacity(m);
    let mut events = Vec::new();
    let mean = game.cost.mean();
    // One assignment memo for all mechanisms: S and M of a replication observe the same costs.
    let mut memo = AssignMemo::default();
    for rep in 0..spec.replications {
        for (k, ws) in workspaces.iter_mut().enumerate() {
            ws.fresh_population(game, n);
            memory[k] = Memory::default();
        }
        for round in 0..rounds {
            let mut rng = round_rng(spec.seed, job.index as u64, rep as u64, round);
            draws.fill(n, &sampler, &mut rng);
            for (c, fresh) in costs.iter_mut().zip(draws.cost.iter_mut()) {
                *fresh = if round == 0 {
                    *fresh
                } else {
                    next_cost(game.dynamics.cost_process, *c, *fresh, mean)
                };
                *c = *fresh;
            }
            outcomes.clear();
            for (k, mechanism) in spec.mechanisms.iter().enumerate() {
                let ws = &mut workspaces[k];
                let absorbed = memory[k].withdrawals_absorbed();
                ws.absorbed.iter_mut().for_each(|a| *a = absorbed);
                sink.clear();
                ws.memo = std::mem::take(&mut memo);
                let o = run_round(*mechanism, game, &draws, ws, sink);
                memo = std::mem::take(&mut ws.memo);
                outcomes.push(o);
                if S::ENABLED {
                    push_events(&mut events, rep, round, *mechanism, sink.as_ref());
                }
            }
            let payoff_c = folder.index_c.map(|k| workspaces[k].payoff.as_slice());
            let payoff_m = folder.index_m.map(|k| workspaces[k].payoff.as_slice());
            folder.fold(rep, round, &outcomes, payoff_c, payoff_m)?;
            // Learn: C's users update beliefs from the round; S/M users remember it.
            for (k, mechanism) in spec.mechanisms.iter().enumerate() {
                let o = outcomes[k];
                if *mechanism == Mechanism::C {
                    let ws = &mut workspaces[k];
                    for (b, x) in ws.belief.iter_mut().zip(&ws.burden) {
                        *b = update_belief(game.dynamics.learning, *b, *x, o.data, game.need());
                    }
                } else {
                    memory[k].remember(o.withdrawals, o.success());
                }
            }
        }
    }
    Ok(folder.finish(events))
}

/// Sinks that can be emptied between campaigns.
pub trait Clear {
    fn clear(&mut self);
}

impl Clear for NoEvents {
    fn clear(&mut self) {}
}

impl Clear for Vec<Event> {
    fn clear(&mut self) {
        Vec::clear(self)
    }
}

/// Runs `jobs` on `pool`, `window` cells at a time, and hands each cell's output to `deliver` in
/// job order. Memory is bounded by one window of outputs, whatever the number of cells.
pub fn run_cells<E>(
    jobs: &[CellJob],
    spec: &RunSpec,
    pool: &rayon::ThreadPool,
    window: usize,
    mut deliver: impl FnMut(CellOutput) -> Result<(), E>,
) -> Result<(), RunError<E>> {
    for chunk in jobs.chunks(window.max(1)) {
        let outputs: Vec<Result<CellOutput, InvariantViolation>> =
            pool.install(|| chunk.par_iter().map(|job| run_cell(job, spec)).collect());
        for output in outputs {
            deliver(output.map_err(RunError::Invariant)?).map_err(RunError::Deliver)?;
        }
    }
    Ok(())
}

/// Why a run stopped.
#[derive(Debug)]
pub enum RunError<E> {
    Invariant(InvariantViolation),
    Deliver(E),
}
