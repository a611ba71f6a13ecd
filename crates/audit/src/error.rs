//! What stops the audit ([`AuditError`]).

use std::path::{Path, PathBuf};

use datapact_scenario::ScenarioError;

/// Anything that stops the audit.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// The audit settings are invalid.
    #[error("{origin}: {message}")]
    Spec {
        /// The settings file.
        origin: String,
        /// What is wrong, naming the key and its allowed range.
        message: String,
    },
    /// A scenario (with the audit's overrides) is invalid.
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    /// The output directory cannot be claimed: refused (another run's, a user's non-empty
    /// directory, inside a run: bad input, nothing written) or not created (I/O), as its kind
    /// says. The message names it.
    #[error(transparent)]
    File(#[from] datapact_trace::FileError),
    /// A claim run failed.
    #[error(transparent)]
    Runner(#[from] datapact_runner::RunnerError),
    /// SIGINT/SIGTERM (`AuditInputs::cancel`) stopped the audit. Nothing is half-written;
    /// the claim runs already finished are kept.
    #[error(
        "interrupted: run the same command again with --resume (same --spec, same --out) to \
         continue: the cells already finished (deviations and dynamics, \"which S?\", cost-bin \
         equilibria) and the claim runs already finished are kept, the claim run in progress \
         resumes"
    )]
    Interrupted,
    /// Reading the claim runs or drawing failed.
    #[error(transparent)]
    Report(#[from] datapact_report::ReportError),
    /// A file could not be written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
}

impl AuditError {
    pub(crate) fn io(path: &Path, e: std::io::Error) -> AuditError {
        AuditError::Io {
            path: path.to_path_buf(),
            source: e,
        }
    }
}

