//! Running cells: replications in batches through the ECS engine (or the direct kernel, the
//! reference), folded into statistics in replication order; cells in parallel on a rayon pool,
//! delivered in cell order so that outputs do not depend on the thread count.
//!
//! One file per job: `spec.rs` what a run asks for, `batches.rs` which replications a cell
//! plays, `records.rs` what a cell hands back, `check.rs` the invariants of every campaign,
//! `folder.rs` the statistics folded in replication order, `halt.rs` why a cell stops early, `ecs.rs` and `direct.rs` the two
//! backends; this file dispatches a cell to its backend and runs cells in parallel.

mod batches;
mod check;
mod direct;
mod ecs;
mod folder;
mod halt;
mod records;
mod spec;

use std::cell::RefCell;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use datapact_model::{Event, NoEvents, TrailEvents};
use rayon::prelude::*;

use crate::engine::Engine;
use crate::plugin::PluginSet;
use direct::run_cell_direct;
use ecs::run_cell_ecs;

pub(crate) use batches::Batches;
pub use check::InvariantViolation;
pub use direct::Clear;
pub use ecs::batch_capacity;
pub(crate) use folder::Folder;
pub(crate) use halt::{Halt, check_cancel};
pub(crate) use records::push_events;
pub use records::{CellJob, CellOutput, EventRecord, RoundRecord, RoundSummary};
pub use spec::{Backend, Depth, RunSpec, StopRule, VariantSpec};

thread_local! {
    static ENGINES: RefCell<Vec<Engine<NoEvents>>> = const { RefCell::new(Vec::new()) };
    static USERS_ENGINES: RefCell<Vec<Engine<TrailEvents>>> = const { RefCell::new(Vec::new()) };
    static TRACING_ENGINES: RefCell<Vec<Engine<Vec<Event>>>> = const { RefCell::new(Vec::new()) };
}

/// This thread's first `count` engines for `plugins` (one per world a cell needs: see
/// [`ecs::Group`]), all rebuilt when the plugin set changes.
pub(crate) fn engines_for<'a, S: crate::plugin::Sink>(
    slots: &'a mut Vec<Engine<S>>,
    plugins: &Arc<PluginSet>,
    count: usize,
) -> &'a mut [Engine<S>] {
    if slots
        .first()
        .is_some_and(|e| !Arc::ptr_eq(e.plugins(), plugins))
    {
        slots.clear();
    }
    while slots.len() < count {
        slots.push(Engine::new(plugins.clone()));
    }
    &mut slots[..count]
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

fn play_cell(
    job: &CellJob,
    spec: &RunSpec,
    cancel: Option<&Arc<AtomicBool>>,
) -> Result<CellOutput, Halt> {
    // Users on a network play on the ECS only (the direct kernel and the large path know no
    // neighbours).
    let networked = job.game.network.is_some();
    if !networked && crate::large::is_large(job, spec) {
        return crate::large::play_large(job, spec, cancel);
    }
    let rules = spec.plugins.catalog().rules(&job.game);
    let backend = if networked {
        Backend::Ecs
    } else {
        spec.backend
    };
    // Users are read from their campaigns' event logs: the users trace plays with the events
    // that give each user's assignment and decision (O(n) a campaign), the events trace with all.
    match (backend, spec.depth) {
        (Backend::Direct, Depth::Cells | Depth::Rounds) => {
            run_cell_direct(job, spec, &rules, &mut NoEvents, cancel)
        }
        (Backend::Direct, Depth::Users) => {
            run_cell_direct(job, spec, &rules, &mut TrailEvents::default(), cancel)
        }
        (Backend::Direct, Depth::Events) => {
            run_cell_direct(job, spec, &rules, &mut Vec::new(), cancel)
        }
        (Backend::Ecs, Depth::Cells | Depth::Rounds) => {
            ENGINES.with(|e| run_cell_on(&mut e.borrow_mut(), job, spec, &rules, cancel))
        }
        (Backend::Ecs, Depth::Users) => {
            USERS_ENGINES.with(|e| run_cell_on(&mut e.borrow_mut(), job, spec, &rules, cancel))
        }
        (Backend::Ecs, Depth::Events) => {
            TRACING_ENGINES.with(|e| run_cell_on(&mut e.borrow_mut(), job, spec, &rules, cancel))
        }
    }
}

/// Plays `job` on this thread's engines of sink type `S`.
fn run_cell_on<S: crate::plugin::Sink + AsRef<[Event]>>(
    slots: &mut Vec<Engine<S>>,
    job: &CellJob,
    spec: &RunSpec,
    rules: &datapact_model::Rules,
    cancel: Option<&Arc<AtomicBool>>,
) -> Result<CellOutput, Halt> {
    let groups = ecs::groups(job, spec, rules);
    let engines = engines_for(slots, &spec.plugins, groups.len());
    run_cell_ecs(engines, job, spec, &groups, cancel)
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
