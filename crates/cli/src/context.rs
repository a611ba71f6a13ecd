//! What every subcommand shares: the app's plugins, loading a scenario (a file or an embedded
//! name) against its catalog, the thread count, and the memory line of `run` and `validate`.

use std::path::Path;
use std::sync::Arc;

use datapact_scenario::Scenario;
use datapact_sim::{Backend, PluginSet};

use crate::embedded;
use crate::failure::Failure;

/// What the subcommands share: the app's plugins and the catalog scenarios are loaded against.
pub(crate) struct Context {
    pub(crate) plugins: Arc<PluginSet>,
    pub(crate) catalog: Arc<datapact_model::Catalog>,
}

pub(crate) fn load(cx: &Context, scenario: &str, set: &[String]) -> Result<Scenario, Failure> {
    let path = Path::new(scenario);
    if !path.exists()
        && let Some(text) = embedded::find(scenario)
    {
        return Ok(Scenario::from_str_with(
            &cx.catalog,
            text,
            &format!("<embedded>/{scenario}"),
            set,
        )?);
    }
    Ok(Scenario::load_with(&cx.catalog, path, set)?)
}

/// `--threads`: at least 1; all cores when not given.
pub(crate) fn thread_count(threads: Option<usize>) -> Result<usize, Failure> {
    match threads {
        Some(0) => Err(Failure {
            code: 2,
            message: "--threads must be >= 1".into(),
        }),
        Some(t) if t > datapact_runner::MAX_THREADS => Err(Failure {
            code: 2,
            message: format!("--threads {t}: at most {}", datapact_runner::MAX_THREADS),
        }),
        Some(t) => Ok(t),
        None => Ok(std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)),
    }
}

/// `needs ~450 MiB at 2 threads; 22 GiB available (MemAvailable)`: the runner's estimate of the
/// peak, which it refuses to start above the available memory.
pub(crate) fn memory_line(
    cx: &Context,
    scenario: &Scenario,
    threads: usize,
    backend: Backend,
    replications: u32,
) -> String {
    use datapact_runner::{available_memory, estimate_peak_bytes, format_bytes};
    let kernels_only = cx.plugins.plays_kernels_only();
    let estimate = estimate_peak_bytes(scenario, threads, backend, replications, kernels_only);
    let available = match available_memory() {
        Ok(Some(a)) => format!("{} available ({})", format_bytes(a.bytes), a.source),
        Ok(None) => "available memory unknown".to_string(),
        Err(why) => why,
    };
    format!(
        "needs ~{} at {} thread(s); {available}",
        format_bytes(estimate.peak()),
        estimate.busy_threads
    )
}
