//! How to run a scenario ([`RunOptions`]) and what a run did ([`RunSummary`]).

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize};

use datapact_sim::{Backend, PluginSet};

use crate::plan::Shard;

/// Most worker threads a run starts (far beyond any machine's cores; a larger request is a typo).
pub const MAX_THREADS: usize = 1024;

/// How to run a scenario: where to write, with how many threads, which shard, and which plugins.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// The output directory.
    pub out: PathBuf,
    /// Worker threads (≥ 1).
    pub threads: usize,
    /// The chunks this process computes (`Shard::WHOLE` for all).
    pub shard: Shard,
    /// Keep chunks whose parts are already complete and compute only the rest.
    pub resume: bool,
    /// Show a progress bar on stderr.
    pub progress: bool,
    /// ECS or the direct kernel (core mechanisms only); both give identical files.
    pub backend: Backend,
    /// Set (e.g. by a signal handler) to stop after the current cells; the unfinished chunk is discarded.
    pub cancel: Option<Arc<AtomicBool>>,
    /// Counts this process's cells as they finish (kept by resume or computed): what a caller
    /// polls to draw its own progress (the Python package's tqdm bar).
    pub cells_done: Option<Arc<AtomicUsize>>,
    /// The app's mechanisms, strategies and metrics (`PluginSet::core()` for the `datapact`
    /// binary); the scenario must have been loaded against its catalog. Recorded in the run's
    /// identity, the manifest and every file's metadata.
    pub plugins: Arc<PluginSet>,
    /// Play only this replication of every cell (`datapact run --rep R`): its rows equal those
    /// of replication R in a whole run; statistics are over that one replication. Recorded in
    /// the run's identity and in every file's metadata (`datapact.replication`).
    pub replication: Option<u32>,
}

impl RunOptions {
    /// Options for writing to `out` with the core plugins: one thread, no shard, no resume, no
    /// progress bar, the ECS backend.
    pub fn new(out: impl Into<PathBuf>) -> Self {
        RunOptions {
            out: out.into(),
            threads: 1,
            shard: Shard::WHOLE,
            resume: false,
            progress: false,
            backend: Backend::Ecs,
            cancel: None,
            cells_done: None,
            plugins: Arc::new(PluginSet::core()),
            replication: None,
        }
    }
}

/// Per mechanism, sums over the cells this run computed (for the summary table).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MechanismSummary {
    /// Cells summed over.
    pub cells: usize,
    /// Sum over cells of the success rate.
    pub success: f64,
    /// Sum over cells of the mean welfare W.
    pub welfare: f64,
    /// Sum over cells of the mean leakage (payments made without improvement).
    pub leakage: f64,
    /// Cells with a positive mean leakage.
    pub leaky_cells: usize,
}

/// What a run did, for the command line's report.
#[derive(Clone, Debug, Default)]
pub struct RunSummary {
    /// Cells computed by this run (kept chunks excluded).
    pub cells_run: usize,
    /// Chunks computed by this run.
    pub chunks_run: usize,
    /// Chunks kept from an earlier run (`resume`).
    pub chunks_kept: usize,
    /// Per mechanism name, in output order.
    pub mechanisms: Vec<(&'static str, MechanismSummary)>,
    /// Whether this run completed the set of shards and wrote `manifest.json`.
    pub manifest_written: bool,
}
