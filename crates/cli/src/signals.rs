//! SIGINT and SIGTERM during a run: a cooperative stop, backed by a deadline.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use datapact_runner::{RunnerError, Shard};

use crate::failure::Failure;

/// How long a signalled run may take to stop on its own before [`Signals::watch`] ends it.
const GRACE: std::time::Duration = std::time::Duration::from_millis(500);

/// SIGINT and SIGTERM ask the run to stop cleanly: finished chunks stay, the chunk in progress
/// is discarded, and the exit code says which signal (130 or 143).
pub(crate) struct Signals {
    pub(crate) stop: Arc<AtomicBool>,
    terminated: Arc<AtomicBool>,
}

impl Signals {
    pub(crate) fn install() -> Result<Signals, Failure> {
        let stop = Arc::new(AtomicBool::new(false));
        let terminated = Arc::new(AtomicBool::new(false));
        let failed = |e: std::io::Error| Failure {
            code: 1,
            message: format!("cannot install signal handlers: {e}"),
        };
        signal_hook::flag::register(signal_hook::consts::SIGINT, stop.clone()).map_err(failed)?;
        signal_hook::flag::register(signal_hook::consts::SIGTERM, stop.clone()).map_err(failed)?;
        signal_hook::flag::register(signal_hook::consts::SIGTERM, terminated.clone())
            .map_err(failed)?;
        Ok(Signals { stop, terminated })
    }

    /// Backs the cooperative stop with a deadline: the simulator checks the flag between the
    /// phases of a round, but one phase of a huge campaign (or spawning its world) can take
    /// longer than a scheduler's grace period. If the run has not returned [`GRACE`] after the
    /// signal, the chunk in flight is abandoned on the spot: its hidden temporaries are deleted
    /// and the process exits with 130/143. Nothing else can be half-written (parts appear only by
    /// rename, records are replaced atomically), which is what `kill -9` tolerance already
    /// guarantees, so `--resume` completes the run as after any interrupt.
    pub(crate) fn watch(&self, out: PathBuf, shard: Shard) {
        self.deadline(move || {
            let _ = datapact_runner::remove_stale_temporaries(&out, shard);
            eprintln!(
                "datapact: {} (the cell in flight was abandoned)",
                RunnerError::Interrupted
            );
        });
    }

    /// [`Signals::watch`] for a search (`optimize`, `calibrate`): its runs change directory
    /// from step to step, and each run deletes what a dead process left in its directory when
    /// it is resumed, so past the deadline the process only exits (130/143).
    pub(crate) fn watch_search(&self) {
        self.deadline(|| {
            eprintln!(
                "datapact: interrupted (the step in flight was abandoned); rerun with --resume \
                 to continue the search"
            );
        });
    }

    /// [`Signals::watch`] for `datapact audit`: a cell of its deviation phase may take longer
    /// than [`GRACE`] (it does not look at the flag inside a cell), so past the deadline the
    /// process exits (130/143), its in-flight temporaries deleted; its claim runs delete what a
    /// dead process left in their directories when the rerun resumes them.
    pub(crate) fn watch_audit(&self) {
        self.watch_rerun(datapact_audit::AuditError::Interrupted.to_string());
    }

    /// For a command whose continuation is to run it again (`audit`, `reproduce`, `report`,
    /// `sensitivity`, `diff`): past [`GRACE`] after a signal, `message` (which says so) and
    /// exit 130/143, the in-flight temporaries deleted. Every file these commands write appears
    /// by rename, and the runs they nest delete what a dead process left when resumed.
    pub(crate) fn watch_rerun(&self, message: String) {
        self.deadline(move || {
            eprintln!("datapact: {message} (the step in flight was abandoned)");
        });
    }

    /// [`Signals::install`] and [`Signals::watch_rerun`] for a command that does not look at
    /// the flag itself (`report`, `sensitivity`, `diff`): it is redone whole by running it again
    /// (its output directory or file is its own, adopted).
    pub(crate) fn stop_and_rerun(what: &str) -> Result<Signals, Failure> {
        let signals = Signals::install()?;
        signals.watch_rerun(format!(
            "interrupted: no file was half-written (each appears by rename); run the same \
             command again to {what}"
        ));
        Ok(signals)
    }

    /// After a signal and [`GRACE`], `abandon` then `_exit(130/143)`, on a thread of its own.
    fn deadline(&self, abandon: impl FnOnce() + Send + 'static) {
        let (stop, terminated) = (self.stop.clone(), self.terminated.clone());
        let watcher = move || {
            while !stop.load(Ordering::Relaxed) {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            std::thread::sleep(GRACE);
            abandon();
            // The abandoned writers' hidden temporaries: nothing half-written stays behind.
            datapact_trace::atomic::remove_in_flight();
            let code = if terminated.load(Ordering::Relaxed) {
                143
            } else {
                130
            };
            // `_exit`: no destructor may race the threads still playing the cell.
            // SAFETY: ends the process at once.
            unsafe { libc::_exit(code) }
        };
        // Without the watcher, the run still stops at the next phase.
        let _ = std::thread::Builder::new()
            .name("datapact-stop".into())
            .spawn(watcher);
    }

    pub(crate) fn exit_code(&self, e: RunnerError) -> Failure {
        let interrupted = matches!(e, RunnerError::Interrupted);
        let mut failure = Failure::from(e);
        if interrupted {
            failure.code = self.interrupted_code();
        }
        failure
    }

    /// 143 after SIGTERM, else 130 (SIGINT).
    pub(crate) fn interrupted_code(&self) -> u8 {
        if self.terminated.load(Ordering::Relaxed) {
            143
        } else {
            130
        }
    }
}
