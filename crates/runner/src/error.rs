//! Why a run failed.

use std::path::{Path, PathBuf};

use datapact_trace::TraceError;

/// Why a run failed.
#[derive(Debug, thiserror::Error)]
pub enum RunnerError {
    /// A file or directory could not be read or written.
    #[error("{path}: {message}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The operating system's error.
        message: String,
    },
    /// A part file could not be written.
    #[error(transparent)]
    Trace(#[from] TraceError),
    /// The simulator found a campaign breaking an invariant of the model.
    #[error("model invariant violated: {0}")]
    Invariant(datapact_sim::InvariantViolation),
    /// The run cannot start as asked (another run's directory, plugins that do not match the
    /// scenario, a backend the mechanisms lack, ...); the message says why.
    #[error("{0}")]
    Refused(String),
    /// A file of an earlier run that does not read back; the message names it.
    #[error("{0}")]
    Unreadable(String),
    /// `RunOptions::cancel` was set; finished chunks are kept.
    #[error("interrupted: finished chunks are kept; rerun with --resume to complete")]
    Interrupted,
    /// A NaN reached a Float64 column; the part was not written.
    #[error(
        "{file}: column {column} would hold NaN; nothing was written (a bug: please report the scenario)"
    )]
    NotANumber {
        /// The part file that would have held it.
        file: PathBuf,
        /// The column.
        column: String,
    },
}

pub(crate) fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> RunnerError + '_ {
    move |e| RunnerError::Io {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}
