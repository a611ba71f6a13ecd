//! The crate's error type. Every message names the file or directory involved.

use std::path::PathBuf;

/// Anything that can go wrong writing or reading a trace.
#[derive(Debug, thiserror::Error)]
pub enum TraceError {
    /// A filesystem operation failed.
    #[error("{}: {op}: {source}", path.display())]
    Io {
        /// The file or directory operated on.
        path: PathBuf,
        /// What was being done ("create", "rename", ...).
        op: &'static str,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The Parquet library rejected a write or a read.
    #[error("{}: parquet: {source}", path.display())]
    Parquet {
        /// The Parquet file involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: parquet::errors::ParquetError,
    },
    /// Decoding Arrow record batches from a Parquet file failed.
    #[error("{}: arrow: {source}", path.display())]
    Arrow {
        /// The Parquet file involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: arrow::error::ArrowError,
    },
    /// A part name that is empty, contains a path separator, or starts with a dot.
    #[error("{}: invalid part name {name:?} (must be non-empty, without '/', '\\\\' or a leading '.')", path.display())]
    InvalidPartName {
        /// The table directory the part would have been written to.
        path: PathBuf,
        /// The rejected name.
        name: String,
    },
    /// An `extra` metadata key that collides with a key this crate writes itself.
    #[error("{}: metadata key {key:?} is reserved", path.display())]
    ReservedMetadataKey {
        /// The file that would have been written.
        path: PathBuf,
        /// The rejected key.
        key: String,
    },
}

impl TraceError {
    pub(crate) fn io(path: impl Into<PathBuf>, op: &'static str, source: std::io::Error) -> Self {
        TraceError::Io {
            path: path.into(),
            op,
            source,
        }
    }

    pub(crate) fn parquet(path: impl Into<PathBuf>, source: parquet::errors::ParquetError) -> Self {
        TraceError::Parquet {
            path: path.into(),
            source,
        }
    }
}
