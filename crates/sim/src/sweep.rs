//! Running cells: replications in batches through the ECS engine (or the direct kernel, the
//! reference), folded into statistics in replication order; cells in parallel on a rayon pool,
//! delivered in cell order so that outputs do not depend on the thread count.

use std::cell::RefCell;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use datapact_model::assign::AssignMemo;
use datapact_model::catalog::{SEQUENTIAL, SIMULTANEOUS, SUBSIDY};
use datapact_model::dynamics::{evolve_costs, learn_beliefs, round_rng};
use datapact_model::stats::{
    CellStats, DiagnosticStats, Diagnostics, TargetMetric, Welford, next_batch, precise_enough,
};
use datapact_model::{
    Draws, Event, EventSink, Game, Kernel, Memory, NoEvents, Outcome, Rules, Status, Workspace,
    draw_key, run_round,
};
use rayon::prelude::*;

use crate::engine::Engine;
use crate::plugin::PluginSet;
use crate::users::{
    BatchUsers, CampaignId, CampaignUsers, Reports, Settlement, UserRecord, push_users,
};

/// How much per-campaign detail a run keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Depth {
    /// Per-cell statistics and diagnostics only.
    Cells,
    /// Also one record per campaign.
    Rounds,
    /// Also one record per user of every campaign (plays with events traced, to read each
    /// user's assignment and decision time from her campaign's log, but keeps no events).
    Users,
    /// Also every event of every campaign.
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
    /// The scenario seed.
    pub seed: u64,
    /// Replications per cell (with an adaptive rule, its `max`).
    pub replications: u32,
    /// Play each cell until a metric's SE reaches a target, instead of `replications` times
    /// (`None`: a fixed count). Requires `first_replication` = 0.
    pub adaptive: Option<StopRule>,
    /// Index of the first replication played (0 for a whole run): a cell plays replications
    /// `first_replication .. first_replication + replications`, each from its own stream, so
    /// one replication can be re-run alone (`datapact run --rep`).
    pub first_replication: u32,
    /// Catalog ids of the mechanisms, in output order.
    pub mechanisms: Vec<u16>,
    /// Per-campaign detail to keep.
    pub depth: Depth,
    /// Which implementation plays the campaigns.
    pub backend: Backend,
    /// The mechanisms, strategies and metrics of the app.
    pub plugins: Arc<PluginSet>,
}

impl RunSpec {
    /// The name of the mechanism with catalog id `id`.
    pub fn name(&self, id: u16) -> &'static str {
        self.plugins.catalog().mechanisms[id as usize].name
    }

    /// Whether every mechanism of the run has a direct kernel (the core's do).
    pub fn direct_kernels(&self) -> Result<Vec<Kernel>, String> {
        self.mechanisms
            .iter()
            .map(|&m| {
                Kernel::of(self.name(m)).ok_or_else(|| {
                    format!(
                        "mechanism {:?} is a plugin and runs on the ECS only (drop --direct)",
                        self.name(m)
                    )
                })
            })
            .collect()
    }
}

/// An adaptive replication rule (the scenario's `replications = { target_se, … }`): a cell
/// plays `min` replications, then `batch` at a time, and stops after the first batch at whose
/// end the SE of `metric` is at most `target_se` in every round, for every mechanism (or for the
/// paired contrast `contrast`), or at `max`. Batches are a function of the count played and the
/// rule reads statistics folded in replication order, so a cell's replications, and its
/// outputs, are the same on any thread count, shard or resume.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StopRule {
    /// The SE to reach.
    pub target_se: f64,
    /// The metric whose SE is read: a core outcome metric, or a registered metric (the SE over
    /// the campaigns of each mechanism that computes it).
    pub metric: TargetMetric,
    /// Replications before the rule is first read (≥ 2: one replication has no SE).
    pub min: u32,
    /// Replications at most.
    pub max: u32,
    /// Replications per batch after the first `min`.
    pub batch: u32,
    /// `(a, b)`, positions in [`RunSpec::mechanisms`]: target the SE of the paired difference
    /// a − b instead of each mechanism's own (the metric must be contrasted,
    /// [`crate::contrasts::contrasted`]).
    pub contrast: Option<(usize, usize)>,
}

impl StopRule {
    /// The largest batch the rule plays (sizes the ECS worlds).
    fn largest_batch(&self) -> u32 {
        self.min.max(self.batch).min(self.max)
    }

    /// Whether the statistics folded so far meet the target.
    fn reached(&self, folder: &Folder) -> bool {
        match self.contrast {
            None => match self.metric {
                TargetMetric::Core(metric) => precise_enough(
                    folder
                        .stats
                        .iter()
                        .flatten()
                        .map(|(_, s)| metric.of(s).se()),
                    self.target_se,
                ),
                TargetMetric::Plugin { index, .. } => precise_enough(
                    folder
                        .metrics
                        .iter()
                        .flatten()
                        .map(|per_mechanism| per_mechanism[index].se()),
                    self.target_se,
                ),
            },
            Some((a, b)) => {
                let m = folder.decls.len();
                let (k, _) = crate::contrasts::pair_index(m, a, b);
                let TargetMetric::Core(metric) = self.metric else {
                    unreachable!("the scenario reader refuses a plugin metric with a contrast")
                };
                let c = crate::contrasts::contrasted(metric)
                    .expect("the scenario reader refuses an uncontrasted metric with a contrast");
                precise_enough(
                    folder.pairs.iter().map(|round| round[k][c].diff.se()),
                    self.target_se,
                )
            }
        }
    }
}

/// The replication ranges a cell plays, batch after batch: one range of `replications` for a
/// fixed count, or the adaptive rule's batches until it is met.
pub(crate) struct Batches<'a> {
    spec: &'a RunSpec,
    done: u32,
}

impl<'a> Batches<'a> {
    pub(crate) fn new(spec: &'a RunSpec) -> Self {
        Batches { spec, done: 0 }
    }

    /// The largest batch (sizes the ECS worlds).
    fn largest(&self) -> u32 {
        self.spec
            .adaptive
            .map_or(self.spec.replications, |a| a.largest_batch())
    }

    /// The next range `(first, count)` to play, given what was folded; `None` when the cell is
    /// done. Read only between batches, in replication order.
    pub(crate) fn next(&mut self, folder: &Folder) -> Option<(u32, u32)> {
        let count = match self.spec.adaptive {
            None if self.done == 0 => self.spec.replications,
            None => 0,
            Some(rule) if self.done > 0 && rule.reached(folder) => 0,
            Some(rule) => next_batch(self.done, rule.min, rule.batch, rule.max),
        };
        if count == 0 {
            return None;
        }
        let first = self.spec.first_replication + self.done;
        self.done += count;
        Some((first, count))
    }
}

/// One cell to run: its index in the scenario's grid and its game.
#[derive(Clone, Debug)]
pub struct CellJob {
    /// The cell's index in the scenario's grid.
    pub index: usize,
    /// The cell's game.
    pub game: Game,
}

/// One campaign's record (trace ≥ rounds).
#[derive(Clone, Debug, PartialEq)]
pub struct RoundRecord {
    /// Replication index.
    pub rep: u32,
    /// Round of the repeated game (0 for single campaigns).
    pub round: u32,
    /// Catalog id of the mechanism.
    pub mechanism: u16,
    /// The campaign's measured outcome.
    pub outcome: Outcome,
    /// The registered metrics' values (`NaN`: not computed by this mechanism); empty when the
    /// app registers none.
    pub metrics: Box<[f64]>,
}

/// One event (trace = events); `seq` orders the campaign's events.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EventRecord {
    /// Replication index.
    pub rep: u32,
    /// Round of the repeated game (0 for single campaigns).
    pub round: u32,
    /// Catalog id of the mechanism.
    pub mechanism: u16,
    /// Emission index within the campaign.
    pub seq: u32,
    /// The event.
    pub event: Event,
}

/// The statistics of one round of a cell, over its replications.
#[derive(Clone, Debug, PartialEq)]
pub struct RoundSummary {
    /// Round of the repeated game (0 for single campaigns).
    pub round: u32,
    /// Per mechanism (catalog id), in run order.
    pub stats: Vec<(u16, CellStats)>,
    /// Per mechanism, in run order: each registered metric's mean and SE over the replications
    /// that computed it.
    pub metrics: Vec<Vec<Welford>>,
    /// The S-vs-M and M-vs-C diagnostics of the round.
    pub diagnostics: Diagnostics,
    /// Per pair (i, j), i < j, of the run's mechanisms ([`crate::contrasts::pairs`] order): the
    /// CRN-paired differences of the outcome metrics.
    pub pairs: Vec<crate::contrasts::PairStats>,
}

/// Everything a cell produced: per-round statistics, and per-campaign records and events sorted
/// by (round, replication, mechanism).
#[derive(Clone, Debug, PartialEq)]
pub struct CellOutput {
    /// The cell's index in the grid.
    pub cell: usize,
    /// Per round, in round order.
    pub summaries: Vec<RoundSummary>,
    /// Per campaign (trace ≥ rounds; empty otherwise).
    pub rounds: Vec<RoundRecord>,
    /// Every user of every campaign (trace ≥ users; empty otherwise), sorted by (round,
    /// replication, mechanism, user).
    pub users: Vec<UserRecord>,
    /// Every event (trace = events; empty otherwise).
    pub events: Vec<EventRecord>,
}

/// A campaign broke an invariant the model promises (never expected; checked on every campaign).
#[derive(Clone, Debug, PartialEq)]
pub struct InvariantViolation {
    /// The cell's index in the grid.
    pub cell: usize,
    /// The replication.
    pub rep: u32,
    /// The mechanism's name.
    pub mechanism: &'static str,
    /// Which invariant broke, with the numbers.
    pub what: String,
}

impl std::fmt::Display for InvariantViolation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "cell {} replication {} mechanism {}: {}",
            self.cell, self.rep, self.mechanism, self.what
        )
    }
}

impl std::error::Error for InvariantViolation {}

/// Checks what must hold on every campaign: nothing is NaN; a mechanism that pays only on
/// success (S, M) never pays without improvement; a null outcome collects and pays nothing.
fn check(
    cell: usize,
    rep: u32,
    mechanism: &datapact_model::MechanismDecl,
    o: &Outcome,
) -> Result<(), InvariantViolation> {
    let fail = |what: String| {
        Err(InvariantViolation {
            cell,
            rep,
            mechanism: mechanism.name,
            what,
        })
    };
    let values = [o.welfare, o.privacy_cost, o.subsidy, o.leakage, o.data];
    if values.iter().any(|v| !v.is_finite()) {
        return fail(format!("non-finite outcome {o:?}"));
    }
    if mechanism.pays_only_on_success
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
pub(crate) struct Folder {
    cell: usize,
    stats: Vec<Vec<(u16, CellStats)>>,
    metrics: Vec<Vec<Vec<Welford>>>,
    diagnostics: Vec<DiagnosticStats>,
    pairs: Vec<Vec<crate::contrasts::PairStats>>,
    rounds: Vec<RoundRecord>,
    users: Vec<UserRecord>,
    trails: Vec<datapact_model::events::UserTrail>,
    settlements: Vec<Settlement>,
    depth: Depth,
    decls: Vec<datapact_model::MechanismDecl>,
    pub(crate) index_c: Option<usize>,
    index_s: Option<usize>,
    pub(crate) index_m: Option<usize>,
}

impl Folder {
    pub(crate) fn new(cell: usize, spec: &RunSpec, rounds: u32) -> Self {
        // The diagnostics compare the core mechanisms, found by their declared names.
        let find = |name: &str| spec.mechanisms.iter().position(|&m| spec.name(m) == name);
        let fresh: Vec<(u16, CellStats)> = spec
            .mechanisms
            .iter()
            .map(|m| (*m, CellStats::default()))
            .collect();
        let metrics = vec![Welford::default(); spec.plugins.metrics().len()];
        let catalog = spec.plugins.catalog();
        Folder {
            cell,
            stats: vec![fresh; rounds as usize],
            metrics: vec![vec![metrics; spec.mechanisms.len()]; rounds as usize],
            diagnostics: vec![DiagnosticStats::default(); rounds as usize],
            pairs: vec![
                vec![
                    crate::contrasts::PairStats::default();
                    crate::contrasts::pairs(spec.mechanisms.len()).count()
                ];
                rounds as usize
            ],
            rounds: Vec::new(),
            users: Vec::new(),
            trails: Vec::new(),
            settlements: spec
                .mechanisms
                .iter()
                .map(|&m| Settlement::of(&catalog.mechanisms[m as usize]))
                .collect(),
            depth: spec.depth,
            decls: spec
                .mechanisms
                .iter()
                .map(|&m| catalog.mechanisms[m as usize])
                .collect(),
            index_c: find(SUBSIDY.name),
            index_s: find(SIMULTANEOUS.name),
            index_m: find(SEQUENTIAL.name),
        }
    }

    /// Folds one replication's round: its outcomes and each campaign's metrics
    /// (`metric(k, m)` for mechanism k, metric m; NaN when not computed).
    pub(crate) fn fold(
        &mut self,
        rep: u32,
        round: u32,
        outcomes: &[Outcome],
        metric: impl Fn(usize, usize) -> f64,
        payoff_c: Option<&[f64]>,
        payoff_m: Option<&[f64]>,
    ) -> Result<(), InvariantViolation> {
        let stats = &mut self.stats[round as usize];
        let metrics = &mut self.metrics[round as usize];
        for (k, o) in outcomes.iter().enumerate() {
            let mechanism = stats[k].0;
            check(self.cell, rep, &self.decls[k], o)?;
            stats[k].1.push(o);
            for (m, w) in metrics[k].iter_mut().enumerate() {
                let v = metric(k, m);
                if !v.is_nan() {
                    w.push(v);
                }
            }
            if self.depth >= Depth::Rounds {
                self.rounds.push(RoundRecord {
                    rep,
                    round,
                    mechanism,
                    outcome: *o,
                    metrics: (0..metrics[k].len()).map(|m| metric(k, m)).collect(),
                });
            }
        }
        crate::contrasts::fold(&mut self.pairs[round as usize], outcomes);
        let s = self.index_s.map(|k| &outcomes[k]);
        let m = self.index_m.map(|k| &outcomes[k]);
        self.diagnostics[round as usize].push(s, m, payoff_c, payoff_m);
        Ok(())
    }

    /// Records the users of mechanism `k`'s campaign of replication `rep` (trace ≥ users).
    fn users(
        &mut self,
        rep: u32,
        round: u32,
        k: usize,
        mechanism: u16,
        game: &Game,
        outcome: &Outcome,
        users: &CampaignUsers<'_>,
        events: &[Event],
    ) {
        let id = CampaignId {
            rep,
            round,
            mechanism,
            settlement: self.settlements[k],
        };
        push_users(
            &mut self.users,
            &id,
            game,
            outcome,
            users,
            events,
            &mut self.trails,
        );
    }

    pub(crate) fn finish(mut self, mut events: Vec<EventRecord>) -> CellOutput {
        let (has_s, has_m, has_c) = (
            self.index_s.is_some(),
            self.index_m.is_some(),
            self.index_c.is_some(),
        );
        let summaries = self
            .stats
            .into_iter()
            .zip(self.metrics)
            .zip(&self.diagnostics)
            .zip(self.pairs)
            .enumerate()
            .map(|(round, (((stats, metrics), d), pairs))| RoundSummary {
                round: round as u32,
                stats,
                metrics,
                diagnostics: d.finish(has_s, has_m, has_c),
                pairs,
            })
            .collect();
        // Canonical order, whatever order batches and rounds were played in.
        self.rounds.sort_by_key(|r| (r.round, r.rep, r.mechanism));
        self.users
            .sort_by_key(|u| (u.round, u.rep, u.mechanism, u.user));
        events.sort_by_key(|e| (e.round, e.rep, e.mechanism, e.seq));
        CellOutput {
            cell: self.cell,
            summaries,
            rounds: self.rounds,
            users: self.users,
            events,
        }
    }
}

fn push_events(out: &mut Vec<EventRecord>, rep: u32, round: u32, mechanism: u16, events: &[Event]) {
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

/// This thread's engine for `plugins`, rebuilt when the plugin set changes.
fn engine_for<'a, S: crate::plugin::Sink>(
    slot: &'a mut Option<Engine<S>>,
    plugins: &Arc<PluginSet>,
) -> &'a mut Engine<S> {
    if slot
        .as_ref()
        .is_none_or(|e| !Arc::ptr_eq(e.plugins(), plugins))
    {
        *slot = Some(Engine::new(plugins.clone()));
    }
    slot.as_mut().expect("engine just built")
}

/// Runs every replication of one cell.
///
/// # Panics
/// On the direct backend, if a mechanism has no direct kernel (check
/// [`RunSpec::direct_kernels`] first).
pub fn run_cell(job: &CellJob, spec: &RunSpec) -> Result<CellOutput, InvariantViolation> {
    match play_cell(job, spec, None) {
        Ok(output) => Ok(output),
        Err(Halt::Invariant(v)) => Err(v),
        Err(Halt::Cancelled) => unreachable!("a cell without a cancel flag runs to its end"),
    }
}

/// Why a cell stopped before its end.
pub(crate) enum Halt {
    Invariant(InvariantViolation),
    Cancelled,
}

impl From<InvariantViolation> for Halt {
    fn from(v: InvariantViolation) -> Self {
        Halt::Invariant(v)
    }
}

/// `Err(Cancelled)` once `cancel` is set: checked between batches and rounds (and, inside the
/// ECS's rounds, between phases; in the direct kernel and the large path, between mechanisms),
/// so a huge cell stops within one phase of a signal.
pub(crate) fn check_cancel(cancel: Option<&Arc<AtomicBool>>) -> Result<(), Halt> {
    match cancel {
        Some(c) if c.load(Ordering::Relaxed) => Err(Halt::Cancelled),
        _ => Ok(()),
    }
}

fn play_cell(
    job: &CellJob,
    spec: &RunSpec,
    cancel: Option<&Arc<AtomicBool>>,
) -> Result<CellOutput, Halt> {
    if crate::large::is_large(job, spec) {
        return crate::large::play_large(job, spec, cancel);
    }
    let rules = spec.plugins.catalog().rules(&job.game);
    // Users are read from their campaigns' event logs: trace ≥ users plays with events.
    match (spec.backend, spec.depth >= Depth::Users) {
        (Backend::Direct, false) => run_cell_direct(job, spec, &rules, &mut NoEvents, cancel),
        (Backend::Direct, true) => run_cell_direct(job, spec, &rules, &mut Vec::new(), cancel),
        (Backend::Ecs, false) => ENGINE.with(|e| {
            run_cell_ecs(
                engine_for(&mut e.borrow_mut(), &spec.plugins),
                job,
                spec,
                &rules,
                cancel,
            )
        }),
        (Backend::Ecs, true) => TRACING_ENGINE.with(|e| {
            run_cell_ecs(
                engine_for(&mut e.borrow_mut(), &spec.plugins),
                job,
                spec,
                &rules,
                cancel,
            )
        }),
    }
}

fn run_cell_ecs<S: crate::plugin::Sink + AsRef<[Event]>>(
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
    let (mut logs, mut settled) = (Vec::new(), Vec::new());
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
                settled.clear();
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
                        settled.extend_from_slice(&outcomes);
                    }
                }
                drop(view);
                if spec.depth >= Depth::Users {
                    let n = job.game.users;
                    engine.read_users(&mut batch_users, reps * m);
                    for (c, (log, outcome)) in logs.iter().zip(&settled).enumerate() {
                        let (r, k) = (c / m, c % m);
                        let reporting = folder.settlements[k] == Settlement::Withdrawal;
                        folder.users(
                            first + r as u32,
                            round,
                            k,
                            spec.mechanisms[k],
                            &job.game,
                            outcome,
                            &batch_users.campaign(c, n, reporting),
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

/// The reference: each replication's rounds played in a plain loop with the model's functions.
fn run_cell_direct<S: EventSink + AsRef<[Event]> + Clear>(
    job: &CellJob,
    spec: &RunSpec,
    rules: &Rules,
    sink: &mut S,
    cancel: Option<&Arc<AtomicBool>>,
) -> Result<CellOutput, Halt> {
    let kernels = spec.direct_kernels().unwrap_or_else(|e| panic!("{e}"));
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
    let key = draw_key(game);
    // One assignment memo for all mechanisms: S and M of a replication observe the same costs.
    let mut memo = AssignMemo::default();
    let mut batches = Batches::new(spec);
    while let Some((start, count)) = batches.next(&folder) {
        for rep in start..start + count {
            for (k, ws) in workspaces.iter_mut().enumerate() {
                ws.fresh_population(game, n);
                memory[k] = Memory::default();
            }
            for round in 0..rounds {
                let mut rng = round_rng(spec.seed, key, rep as u64, round);
                draws.fill(n, &sampler, &mut rng);
                evolve_costs(
                    game.dynamics.cost_process,
                    round,
                    mean,
                    &draws.cost,
                    &mut costs,
                );
                draws.cost.copy_from_slice(&costs);
                outcomes.clear();
                for (k, kernel) in kernels.iter().enumerate() {
                    check_cancel(cancel)?;
                    let ws = &mut workspaces[k];
                    let absorbed = memory[k].withdrawals_absorbed();
                    ws.absorbed.iter_mut().for_each(|a| *a = absorbed);
                    sink.clear();
                    ws.memo = std::mem::take(&mut memo);
                    let o = run_round(*kernel, game, rules, &draws, ws, sink);
                    memo = std::mem::take(&mut ws.memo);
                    outcomes.push(o);
                    if S::ENABLED && spec.depth >= Depth::Events {
                        push_events(&mut events, rep, round, spec.mechanisms[k], sink.as_ref());
                    }
                    if spec.depth >= Depth::Users {
                        let reports = (*kernel != Kernel::Subsidy).then(|| Reports {
                            reported: &ws.reported,
                            observed: &ws.observed,
                            cap: &ws.cap,
                            decision: &ws.decision,
                        });
                        let users = CampaignUsers {
                            true_cost: &draws.cost,
                            drifted: &ws.realized,
                            settled: &ws.realized,
                            burden: &ws.burden,
                            payoff: &ws.payoff,
                            reports,
                        };
                        let mechanism = spec.mechanisms[k];
                        folder.users(rep, round, k, mechanism, game, &o, &users, sink.as_ref());
                    }
                }
                let payoff_c = folder.index_c.map(|k| workspaces[k].payoff.as_slice());
                let payoff_m = folder.index_m.map(|k| workspaces[k].payoff.as_slice());
                // The core mechanisms compute no plugin metric.
                folder.fold(rep, round, &outcomes, |_, _| f64::NAN, payoff_c, payoff_m)?;
                // Learn: C's users update beliefs from the round; reporting users remember it.
                if round + 1 < rounds {
                    for (k, kernel) in kernels.iter().enumerate() {
                        let o = outcomes[k];
                        if *kernel == Kernel::Subsidy {
                            let ws = &mut workspaces[k];
                            learn_beliefs(
                                game.dynamics.learning,
                                &mut ws.belief,
                                &ws.burden,
                                o.data,
                                game.need(),
                            );
                        } else {
                            memory[k].remember(o.withdrawals, o.success());
                        }
                    }
                }
            }
        }
    }
    Ok(folder.finish(events))
}

/// Sinks that can be emptied between campaigns.
pub trait Clear {
    /// Empties the sink for the next campaign.
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
/// job order. Memory is bounded by one window of outputs, whatever the number of cells. Once
/// `cancel` is set, the cells in flight stop at their next batch, round or mechanism and the
/// run returns [`RunError::Cancelled`] (what was delivered stays delivered).
pub fn run_cells<E>(
    jobs: &[CellJob],
    spec: &RunSpec,
    pool: &rayon::ThreadPool,
    window: usize,
    cancel: Option<&Arc<AtomicBool>>,
    mut deliver: impl FnMut(CellOutput) -> Result<(), E>,
) -> Result<(), RunError<E>> {
    for chunk in jobs.chunks(window.max(1)) {
        let outputs: Vec<Result<CellOutput, Halt>> = pool.install(|| {
            chunk
                .par_iter()
                .map(|job| play_cell(job, spec, cancel))
                .collect()
        });
        for output in outputs {
            match output {
                Ok(output) => deliver(output).map_err(RunError::Deliver)?,
                Err(Halt::Invariant(v)) => return Err(RunError::Invariant(v)),
                Err(Halt::Cancelled) => return Err(RunError::Cancelled),
            }
        }
    }
    Ok(())
}

/// Why a run stopped.
#[derive(Debug)]
pub enum RunError<E> {
    /// A campaign broke a model invariant.
    Invariant(InvariantViolation),
    /// `deliver` failed (e.g. writing the output).
    Deliver(E),
    /// The cancel flag was set; the cells in flight were abandoned.
    Cancelled,
}
