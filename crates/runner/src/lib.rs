//! Runs a scenario: expands its grid into cells, splits the cells into fixed chunks (the unit of
//! output files, sharding and resuming), runs each chunk's cells on the simulator in parallel, and
//! streams rows to one Parquet part per table and chunk; writes the manifest last.
//!
//! Invariants: only the runner owns seeds (it passes the scenario seed and cell index to the
//! simulator, which derives every stream from them); the chunk layout depends on the scenario
//! alone, never on threads or shards, so any sharding reproduces the single-machine files byte for
//! byte.

#![warn(missing_docs)]

mod error;
mod identity;
mod lock;
mod manifest;
mod memory;
mod options;
mod plan;
mod progress;
mod resume;
mod rows;
pub mod search;
mod spec;
mod write;

pub use datapact_trace::{
    CHUNK_KEY, MAX_SHARDS, RunIdentity, RunView, Verification, read_manifest, verify,
};
pub use error::RunnerError;
pub use identity::claim;
pub use lock::remove_stale_temporaries;
pub use manifest::{Manifest, PartEntry, ShardRecord, merge_manifest, shard_records};
pub use memory::{
    Available, DIRECT_COSTS, ECS_COSTS, MEMORY_LIMIT_VAR, MemoryEstimate, SimulatorCosts,
    available_memory, estimate_peak_bytes, format_bytes, parse_size,
};
pub use options::{MAX_THREADS, MechanismSummary, RunOptions, RunSummary};
pub use plan::{ChunkPlan, Shard, chunk_plan};
pub use progress::{Progress, ShardProgress, progress};
pub use rows::metric_columns;
pub use spec::{depth_of, plugin_list, stop_rule, tables_of};
pub use write::run;

/// The version written into every output.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
