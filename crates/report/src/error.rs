//! The report's error type.

use std::path::{Path, PathBuf};

/// Anything that can go wrong reading runs or writing the report.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("{path}: {message}")]
    Io { path: PathBuf, message: String },
    #[error(transparent)]
    Trace(#[from] datapact_trace::TraceError),
    #[error("{0}")]
    Data(String),
    #[error("drawing {0}")]
    Draw(String),
    /// Bad input: an argument or an output location the command refuses (exit 2, nothing
    /// written).
    #[error("{0}")]
    Refused(String),
}

impl ReportError {
    /// The exit code the command line ends with (and Python's `exit_code`): 2 for a refused
    /// request (bad input, nothing written), 1 for anything else.
    pub fn exit_code(&self) -> u8 {
        match self {
            ReportError::Refused(_) => 2,
            _ => 1,
        }
    }

    pub(crate) fn io(path: &Path, e: std::io::Error) -> ReportError {
        ReportError::Io {
            path: path.to_path_buf(),
            message: e.to_string(),
        }
    }
}
