//! The report's error type.

use std::path::{Path, PathBuf};

/// Anything that can go wrong reading runs or writing the report.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// A file or directory could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// A part file could not be read or a table written.
    #[error(transparent)]
    Trace(#[from] datapact_trace::TraceError),
    /// A run or an output location that cannot be used: refused (bad input), unreadable
    /// (I/O) or damaged, as its kind says.
    #[error(transparent)]
    File(#[from] datapact_trace::FileError),
    /// The outputs read do not hold what the report needs (a column, a cell, a value); the
    /// message names the file or column.
    #[error("{0}")]
    Data(String),
    /// The plotting library failed to draw a figure; the message names it.
    #[error("drawing {0}")]
    Draw(String),
    /// Bad input: an argument or an output location the command refuses (exit 2, nothing
    /// written).
    #[error("{0}")]
    Refused(String),
}

impl ReportError {
    /// The exit code the command line ends with (and Python's `exit_code`), by the error's
    /// kind: 2 for a refused request (bad input, nothing written), 1 for a failure of the
    /// machine, damaged outputs or a failed drawing.
    pub fn exit_code(&self) -> u8 {
        match self {
            ReportError::Refused(_) => 2,
            ReportError::File(e) => e.exit_code(),
            ReportError::Io { .. }
            | ReportError::Trace(_)
            | ReportError::Data(_)
            | ReportError::Draw(_) => 1,
        }
    }

    pub(crate) fn io(path: &Path, e: std::io::Error) -> ReportError {
        ReportError::Io {
            path: path.to_path_buf(),
            source: e,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error;

    #[test]
    fn the_exit_code_follows_the_kind_and_io_keeps_its_source() {
        let e = ReportError::io(
            Path::new("x"),
            std::io::Error::from(std::io::ErrorKind::NotFound),
        );
        assert!(e.source().is_some_and(|s| s.is::<std::io::Error>()), "{e}");
        assert_eq!(e.exit_code(), 1);
        let refused = ReportError::from(datapact_trace::FileError::bad_input("x"));
        assert_eq!(refused.exit_code(), 2);
        let failed = ReportError::from(datapact_trace::FileError::io(
            "x: cannot create it",
            std::io::Error::from(std::io::ErrorKind::PermissionDenied),
        ));
        assert_eq!(failed.exit_code(), 1);
        assert!(failed.source().is_some(), "{failed}");
    }
}
