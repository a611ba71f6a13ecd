//! The index of an output directory: `manifest.json` and the per-shard records it is merged
//! from, as typed values, and how to read them. The runner writes them; the report, `verify`
//! and `status` read them through these types, so a renamed field is a compile error, not a
//! silent default.
//!
//! Each shard, when all its chunks are written, writes `_shards/shard-I-of-N.json` listing its
//! part files with row counts and SHA-256. The shard that completes the set merges them into
//! `manifest.json`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// One part file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, PartialOrd, Ord)]
pub struct PartEntry {
    /// Path relative to the output directory, e.g. `cells/part-000003.parquet`.
    pub file: String,
    pub rows: u64,
    pub sha256: String,
}

/// What one shard wrote.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ShardRecord {
    pub shard: usize,
    pub shards: usize,
    pub scenario_hash: String,
    pub version: String,
    pub chunks: Vec<usize>,
    pub parts: Vec<PartEntry>,
}

/// The whole output directory.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub datapact_version: String,
    pub schema_version: String,
    pub scenario_name: String,
    pub scenario_hash: String,
    pub seed: u64,
    pub replications: u32,
    pub mechanisms: Vec<String>,
    /// The plugins the run was made with (`name version`, in registration order); empty in
    /// manifests written before plugins existed.
    #[serde(default)]
    pub plugins: Vec<String>,
    /// The plugin metrics written as columns (`rounds`: NAME; `cells`: NAME_mean, NAME_se).
    #[serde(default)]
    pub metrics: Vec<String>,
    pub trace: String,
    /// Swept keys and their output column names, in grid order (first varies slowest).
    pub sweep: Vec<(String, String)>,
    pub cells: usize,
    pub chunk_cells: usize,
    pub chunks: usize,
    pub shards: usize,
    /// Rows per table, summed over parts.
    pub rows: BTreeMap<String, u64>,
    pub parts: Vec<PartEntry>,
    /// The effective scenario (defaults filled, overrides applied) as TOML.
    pub scenario: String,
}

pub fn shard_record_path(out: &Path, shard: usize, shards: usize) -> PathBuf {
    out.join("_shards")
        .join(format!("shard-{shard:05}-of-{shards:05}.json"))
}

/// The (shard, shards) pairs whose records exist under `out/_shards`, sorted; the inverse of
/// [`shard_record_path`].
pub fn shard_records(out: &Path) -> std::io::Result<Vec<(usize, usize)>> {
    let mut done: Vec<(usize, usize)> = std::fs::read_dir(out.join("_shards"))?
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().to_string();
            let (i, n) = name
                .strip_prefix("shard-")?
                .strip_suffix(".json")?
                .split_once("-of-")?;
            Some((i.parse().ok()?, n.parse().ok()?))
        })
        .collect();
    done.sort();
    Ok(done)
}

/// A JSON file; the error names the path.
fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

pub fn read_manifest(out: &Path) -> Result<Manifest, String> {
    read_json(&out.join("manifest.json"))
}

pub fn read_shard_record(path: &Path) -> Result<ShardRecord, String> {
    read_json(path)
}
