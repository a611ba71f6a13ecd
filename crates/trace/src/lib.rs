//! Traces out: the stable Arrow schemas of datapact's outputs and streaming, atomic Parquet
//! writers. Knows nothing of the game's rules.
//!
//! An output directory holds four datasets ([`Table`]), each a directory of Parquet part files:
//! `out/cells/*.parquet`, `out/diagnostics/*.parquet`, `out/rounds/*.parquet`,
//! `out/events/*.parquet`. Their layouts are given by [`schema`] and documented column by column
//! in the field metadata and in `docs/schema.md`.
//!
//! Typical use: build rows with a table builder ([`CellsBuilder`], [`DiagnosticsBuilder`],
//! [`RoundsBuilder`], [`EventsBuilder`]), take a batch every few tens of thousands of rows with
//! `finish_batch`, and stream it to a [`PartWriter`]; `finish` renames the part into place.

mod error;
pub mod manifest;
mod rows;
mod schema;
mod writer;

pub use error::TraceError;
pub use manifest::{Manifest, PartEntry, ShardRecord, read_manifest};
pub use rows::{
    BatchBuilder, CellRow, CellsBuilder, DiagnosticsBuilder, DiagnosticsRow, EventRow,
    EventsBuilder, RoundRow, RoundStatus, RoundsBuilder,
};
pub use schema::{
    ColumnSpec, ColumnType, DESCRIPTION_KEY, IDENTITY_COLUMNS, SCHEMA_VERSION, Table, schema,
    swept_columns_conflict, swept_description,
};
pub use writer::{
    FileMetadata, MAX_ROW_GROUP_ROWS, PART_EXTENSION, PartInfo, PartWriter, TEMP_SUFFIX,
    count_rows, keys, part_files, read_metadata, read_part, read_table, sha256_file,
};

/// Re-exported so callers use the exact Arrow version this crate writes with.
pub use arrow;
