//! The crate's error type. Every message names the file, directory or table involved.

use std::path::PathBuf;

use crate::table::Table;

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
    /// A metric column that cannot be added to a table: an invalid or repeated name, or a
    /// column that collides with another column of the table.
    #[error("{table}: metric {metric:?}: {reason}")]
    MetricColumn {
        /// The table the metric's columns were to be added to.
        table: Table,
        /// The metric's name.
        metric: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A column a reader needs is missing from a record batch or has another type.
    #[error("{table}: column `{column}`: {reason}")]
    BadColumn {
        /// The table read.
        table: Table,
        /// The column's name.
        column: String,
        /// "missing" or the unexpected type.
        reason: String,
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
