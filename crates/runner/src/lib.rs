//! Runs a scenario: expands its grid into cells, splits the cells into fixed chunks (the unit of
//! output files, sharding and resuming), runs each chunk's cells on the simulator in parallel, and
//! streams rows to one Parquet part per table and chunk; writes the manifest last.
//!
//! Invariants: only the runner owns seeds (it passes the scenario seed and cell index to the
//! simulator, which derives every stream from them); the chunk layout depends on the scenario
//! alone, never on threads or shards, so any sharding reproduces the single-machine files byte for
//! byte.

#![warn(missing_docs)]

mod identity;
mod lock;
mod manifest;
mod memory;
mod plan;
mod resume;
mod rows;
mod run_view;
mod verify;
mod write;

pub use identity::RunIdentity;
pub use manifest::{
    Manifest, PartEntry, ShardRecord, merge_manifest, read_manifest, shard_records,
};
pub use memory::{
    Available, DIRECT_COSTS, ECS_COSTS, MEMORY_LIMIT_VAR, MemoryEstimate, SimulatorCosts,
    available_memory, estimate_peak_bytes, format_bytes, parse_size,
};
pub use plan::{ChunkPlan, Shard};
pub use rows::metric_columns;
pub use run_view::{CHUNK_KEY, MAX_SHARDS, RunView};
pub use verify::{Verification, verify};
pub use write::{
    MAX_THREADS, MechanismSummary, RunOptions, RunSummary, RunnerError, depth_of, plugin_list,
    remove_stale_temporaries, run, tables_of,
};

/// The version written into every output.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
