//! Why a run failed.

use std::path::{Path, PathBuf};

use datapact_trace::{FileError, TraceError};

/// Why a run failed.
#[derive(Debug, thiserror::Error)]
pub enum RunnerError {
    /// A file or directory could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// A part file could not be written.
    #[error(transparent)]
    Trace(#[from] TraceError),
    /// The output directory or a file of an earlier run in it cannot be used: refused (bad
    /// input), unreadable (I/O) or damaged, as its kind says.
    #[error(transparent)]
    File(#[from] FileError),
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

impl RunnerError {
    /// The exit code the command line ends with (and Python's `exit_code`), by the error's
    /// kind: 2 bad input (a refused run or directory), 1 a failure of the machine or damaged
    /// outputs, 3 a model invariant violated, 130 interrupted.
    pub fn exit_code(&self) -> u8 {
        match self {
            RunnerError::Refused(_) => 2,
            RunnerError::File(e) => e.exit_code(),
            RunnerError::Invariant(_) => 3,
            RunnerError::Interrupted => 130,
            RunnerError::Io { .. }
            | RunnerError::Trace(_)
            | RunnerError::Unreadable(_)
            | RunnerError::NotANumber { .. } => 1,
        }
    }
}

pub(crate) fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> RunnerError + '_ {
    move |source| RunnerError::Io {
        path: path.to_path_buf(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error;

    #[test]
    fn the_exit_code_follows_the_kind_and_io_keeps_its_source() {
        let e = io_err(Path::new("x"))(std::io::Error::from(std::io::ErrorKind::NotFound));
        assert!(e.source().is_some_and(|s| s.is::<std::io::Error>()), "{e}");
        assert_eq!(e.exit_code(), 1);
        let damaged = RunnerError::from(FileError::damaged("_run.json: unreadable"));
        assert_eq!(damaged.exit_code(), 1);
        let refused = RunnerError::from(FileError::bad_input("--out x: a file"));
        assert_eq!(refused.exit_code(), 2);
        let unreadable = RunnerError::from(FileError::io(
            "_run.json: denied",
            std::io::Error::from(std::io::ErrorKind::PermissionDenied),
        ));
        assert_eq!(unreadable.exit_code(), 1);
        assert!(unreadable.source().is_some(), "{unreadable}");
    }
}
