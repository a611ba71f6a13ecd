//! Long work off the interpreter's thread: a job runs on a worker thread with the GIL released
//! while the calling thread polls for Ctrl-C and reports progress (`cancellable`), and the
//! thread count of `threads=` (`thread_count`).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::errors::error;

/// How often the calling thread wakes while a run is simulating: to check for Ctrl-C and to
/// advance the progress bar. Short enough to feel immediate, long enough to cost nothing.
pub(crate) const POLL: Duration = Duration::from_millis(100);

/// As `--threads`: at least 1, all cores when not given.
pub(crate) fn thread_count(threads: Option<usize>) -> PyResult<usize> {
    match threads {
        Some(0) => Err(PyValueError::new_err("threads must be >= 1")),
        Some(t) => Ok(t),
        None => Ok(std::thread::available_parallelism().map_or(1, |n| n.get())),
    }
}

/// Runs `job` on a worker thread with the GIL released; this thread wakes every [`POLL`] to
/// check for Ctrl-C and to call `tick` (progress). On Ctrl-C (or an error of `tick`) it sets
/// `cancel`, waits for the job to stop (so no thread outlives the call) and raises
/// (`KeyboardInterrupt` for Ctrl-C). A panic of the job is an `InvariantError`.
pub(crate) fn cancellable<T: Send + 'static>(
    py: Python<'_>,
    what: &str,
    cancel: &AtomicBool,
    job: impl FnOnce() -> T + Send + 'static,
    mut tick: impl FnMut() -> PyResult<()>,
) -> PyResult<T> {
    let (done_tx, done_rx) = mpsc::channel::<()>();
    // Shared with the GIL-free closure below, which must be `Send`.
    let done_rx = std::sync::Mutex::new(done_rx);
    let worker = std::thread::Builder::new()
        .name(format!("datapact-{what}"))
        .spawn(move || {
            let result = job();
            let _ = done_tx.send(());
            result
        })
        .map_err(|e| {
            error(
                py,
                "OutputError",
                format!("cannot start the {what}: {e}"),
                &[],
            )
        })?;
    let mut finished = false;
    while !finished {
        // Disconnected (the worker ended without sending: it panicked) also means finished.
        finished = py.detach(|| {
            let rx = done_rx.lock().unwrap_or_else(|p| p.into_inner());
            !matches!(rx.recv_timeout(POLL), Err(mpsc::RecvTimeoutError::Timeout))
        });
        let stop = py.check_signals().and_then(|()| tick());
        if let Err(e) = stop {
            cancel.store(true, Ordering::Relaxed);
            let _ = py.detach(|| worker.join());
            return Err(e);
        }
    }
    worker.join().map_err(|panic| {
        let why = panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "unknown panic".into());
        error(
            py,
            "InvariantError",
            format!("the {what} stopped on an internal error (a bug: please report it): {why}"),
            &[],
        )
    })
}
