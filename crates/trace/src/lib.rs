//! Traces out: the stable Arrow schemas of datapact's outputs and streaming, atomic Parquet
//! writers. Knows nothing of the game's rules (the outcome statistics' columns follow their
//! declarations in the pure model crate).
//!
//! An output directory holds up to six datasets ([`Table`]), each a directory of Parquet part
//! files: `out/cells/*.parquet`, `out/diagnostics/*.parquet`, `out/contrasts/*.parquet`,
//! `out/rounds/*.parquet`, `out/users/*.parquet`, `out/events/*.parquet`. Their layouts are given by [`schema`] and documented column by column
//! in the field metadata and in `docs/schema.md`.
//!
//! Every table's own columns are declared once (in `rows.rs`); the schema ([`Table::columns`]),
//! the row structs, the builders, the typed readers ([`CellsColumns`], ...) and the column
//! tables of `docs/schema.md` ([`markdown_columns`]) are generated from that declaration. The
//! statistic columns of `cells`, `rounds` and `contrasts` are not written here: they follow the
//! model's statistic declarations (`datapact_model::stats::Stat::spec`, `stat_columns.rs`), and a
//! row gives their values by statistic ([`PerStat`]: [`StatSummaries`], [`StatValues`]; and
//! [`PairedSummaries`]).
//! Plugins add metric columns to `cells` and `rounds` at run time ([`MetricColumn`]).
//!
//! Typical use: build rows with a table builder ([`CellsBuilder`], [`DiagnosticsBuilder`],
//! [`RoundsBuilder`], [`UsersBuilder`], [`EventsBuilder`]), take a batch every few tens of thousands of rows with
//! `finish_batch`, and stream it to a [`PartWriter`]; `finish` renames the part into place.
//!
//! Reading a run back: [`RunView`] is the one verified view of an output directory (its
//! identity [`RunIdentity`], manifest, shard records and part metadata cross-checked; the chunk
//! layout [`ChunkPlan`] and [`Shard`]s), what the runner's `--resume`, `verify`, `status` and the
//! report all read through; [`read_table`] and the typed readers give the rows.

#![warn(missing_docs)]

#[macro_use]
mod columns;
pub mod atomic;
pub mod claim;
mod design_points;
mod error;
mod file_error;
pub mod files;
mod identity;
mod layout;
pub mod manifest;
mod read;
mod rows;
mod run_view;
mod schema;
mod stat_columns;
mod table;
mod verify;
mod writer;

pub use columns::{ColumnValue, typed_column};
pub use design_points::{
    DESIGN_POINTS_FILE, DESIGN_POINTS_TABLE, check_design_points, design_points_bytes,
    design_points_entry,
};
pub use error::TraceError;
pub use file_error::{FileError, FileErrorKind};
pub use identity::{RunIdentity, identity_path, read_identity};
pub use layout::{CHUNK_KEY, ChunkPlan, MAX_CELLS, MAX_CHUNKS, MAX_SHARDS, Shard, chunk_of_file};
pub use manifest::{Manifest, PartEntry, ShardRecord, read_manifest};
pub use read::{
    IN_MEMORY_PART_BYTES, count_rows, decoded_bytes, inspect_part, inspect_part_and_metadata,
    part_files, read_metadata, read_part, read_table, sha256_file,
};
pub use rows::{
    BatchBuilder, CellNetwork, CellRow, CellsBuilder, CellsColumns, ContrastRow, ContrastsBuilder,
    ContrastsColumns, DiagnosticsBuilder, DiagnosticsColumns, DiagnosticsRow, EventNetwork,
    EventRow, EventsBuilder, EventsColumns, MetricSummary, MetricValue, RoundNetwork, RoundRow,
    RoundStatus, RoundsBuilder, RoundsColumns, UserNetwork, UserRow, UsersBuilder, UsersColumns,
};
pub use run_view::RunView;
pub use schema::{
    Categorical, ColumnSpec, ColumnType, DESCRIPTION_KEY, IDENTITY_COLUMNS, MetricColumn,
    SCHEMA_VERSION, SweptColumn, Table, categorical_description, described_field, markdown_columns,
    schema, schema_of, swept_columns_conflict, swept_description,
};
pub use stat_columns::{
    PairedSummaries, PairedSummary, PerStat, StatSummaries, StatSummary, StatValues,
};
pub use verify::{Verification, verify};
pub use writer::{
    FileMetadata, MAX_ROW_GROUP_ROWS, PART_EXTENSION, PartInfo, PartWriter, TEMP_SUFFIX, keys,
    properties, write_table_file,
};

/// Re-exported so callers use the exact Arrow version this crate writes with.
pub use arrow;
