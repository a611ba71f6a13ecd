//! `datapact.run`: a scenario run into an output directory on the core plugins, as `datapact
//! run` runs it (the same files byte for byte), with its summary as a dict.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use datapact_runner::{RunOptions, RunSummary, Shard};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::errors::runner_error;
use crate::memory::check_room;
use crate::scenario::PyScenario;
use crate::worker::{cancellable, thread_count};

/// The options of a run from Python: the one place they are built (so a new field of
/// `RunOptions` is one edit).
pub(crate) fn run_options(
    out: PathBuf,
    threads: usize,
    resume: bool,
    stderr_bar: bool,
    cancel: Arc<AtomicBool>,
    cells_done: Arc<AtomicUsize>,
) -> RunOptions {
    RunOptions {
        out,
        threads,
        shard: Shard::WHOLE,
        resume,
        progress: stderr_bar,
        backend: datapact_sim::Backend::Ecs,
        cancel: Some(cancel),
        cells_done: Some(cells_done),
        plugins: CORE.clone(),
        replication: None,
    }
}

/// The plugins Python runs: the core mechanisms and strategies (what the `datapact` binary runs;
/// scenarios are loaded against the same core catalog).
pub(crate) static CORE: std::sync::LazyLock<Arc<datapact_sim::PluginSet>> =
    std::sync::LazyLock::new(|| Arc::new(datapact_sim::PluginSet::core()));

pub(crate) fn summary_dict<'py>(
    py: Python<'py>,
    s: &RunSummary,
    seconds: f64,
) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("cells_run", s.cells_run)?;
    d.set_item("chunks_run", s.chunks_run)?;
    d.set_item("seconds", seconds)?;
    let mechanisms = PyDict::new(py);
    for (m, x) in &s.mechanisms {
        let k = x.cells.max(1) as f64;
        let row = PyDict::new(py);
        row.set_item("cells", x.cells)?;
        row.set_item("success_rate", x.success / k)?;
        row.set_item("welfare", x.welfare / k)?;
        row.set_item("leakage", x.leakage / k)?;
        row.set_item("leaky_cells", x.leaky_cells)?;
        mechanisms.set_item(*m, row)?;
    }
    d.set_item("mechanisms", mechanisms)?;
    Ok(d)
}

/// Runs `scenario` into `out` with the GIL released; Ctrl-C stops it (finished chunks stay).
/// `on_progress(done_cells, total_cells)` is called from this thread while it runs.
#[pyfunction]
#[pyo3(signature = (scenario, out, threads, stderr_bar, on_progress=None, resume=false))]
pub(crate) fn run<'py>(
    py: Python<'py>,
    scenario: &PyScenario,
    out: PathBuf,
    threads: Option<usize>,
    stderr_bar: bool,
    on_progress: Option<Bound<'py, PyAny>>,
    resume: bool,
) -> PyResult<Bound<'py, PyDict>> {
    let threads = thread_count(threads)?;
    let cancel = Arc::new(AtomicBool::new(false));
    let cells_done = Arc::new(AtomicUsize::new(0));
    let opts = run_options(
        out.clone(),
        threads,
        resume,
        stderr_bar,
        cancel.clone(),
        cells_done.clone(),
    );
    let total_cells = datapact_runner::chunk_plan(&scenario.inner).cells;
    // The runner refuses a run beyond the machine's memory itself; the address-space limit is
    // checked here, where an allocation failure would abort the interpreter.
    let estimate = datapact_runner::estimate_peak_bytes(
        &scenario.inner,
        threads,
        datapact_sim::Backend::Ecs,
        scenario.inner.replications,
        CORE.plays_kernels_only(),
    );
    check_room(
        py,
        estimate.peak(),
        &format!("the run of {}", scenario.inner.origin),
        2,
    )?;
    let clock = std::time::Instant::now();
    let job = scenario.inner.clone();
    let progress = || match &on_progress {
        Some(cb) => cb
            .call1((cells_done.load(Ordering::Relaxed), total_cells))
            .map(drop),
        None => Ok(()),
    };
    let summary = cancellable(
        py,
        "run",
        &cancel,
        move || datapact_runner::run(&job, &opts),
        progress,
    )?
    .map_err(|e| runner_error(py, e))?;
    summary_dict(py, &summary, clock.elapsed().as_secs_f64())
}
