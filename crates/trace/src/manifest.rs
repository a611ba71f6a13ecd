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
    /// Rows in the file.
    pub rows: u64,
    /// SHA-256 of the file's bytes, lowercase hex.
    pub sha256: String,
}

/// What one shard wrote.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ShardRecord {
    /// This shard's index I.
    pub shard: usize,
    /// Number of shards N of the run.
    pub shards: usize,
    /// Hash of the effective scenario the shard ran.
    pub scenario_hash: String,
    /// datapact version that wrote it.
    pub version: String,
    /// The chunks the shard owns.
    pub chunks: Vec<usize>,
    /// Its part files, sorted.
    pub parts: Vec<PartEntry>,
}

/// The whole output directory.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// datapact version that wrote the outputs.
    pub datapact_version: String,
    /// Version of the output schemas (`SCHEMA_VERSION`).
    pub schema_version: String,
    /// Scenario name.
    pub scenario_name: String,
    /// Hash of the effective scenario.
    pub scenario_hash: String,
    /// Root seed.
    pub seed: u64,
    /// Replications per cell (with an adaptive rule, its `max`; each cell's count is its rows'
    /// `reps`).
    pub replications: u32,
    /// The adaptive replication rule, for a run with `replications = { target_se, … }`
    /// (absent for a fixed count).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adaptive: Option<AdaptiveRecord>,
    /// Mechanism names, in output order.
    pub mechanisms: Vec<String>,
    /// The plugins the run uses (`name version`, in registration order); empty in
    /// manifests written before plugins existed.
    #[serde(default)]
    pub plugins: Vec<String>,
    /// The plugin metrics written as columns (`rounds`: NAME; `cells`: NAME_mean, NAME_se).
    #[serde(default)]
    pub metrics: Vec<String>,
    /// Trace level: `cells`, `rounds`, `users` or `events`.
    pub trace: String,
    /// Swept keys and their output column names, in grid order (first varies slowest).
    pub sweep: Vec<(String, String)>,
    /// The values of each categorical swept column (Utf8 in the tables), by column name, in
    /// axis order: value i of the axis is `categories[column][i]`. Absent without one.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub categories: BTreeMap<String, Vec<String>>,
    /// Cells of the grid.
    pub cells: usize,
    /// Cells per chunk.
    pub chunk_cells: usize,
    /// Number of chunks.
    pub chunks: usize,
    /// Number of shards the run was split into.
    pub shards: usize,
    /// Rows per table, summed over parts.
    pub rows: BTreeMap<String, u64>,
    /// Every part file, sorted by path.
    pub parts: Vec<PartEntry>,
    /// The effective scenario (defaults filled, overrides applied) as TOML.
    pub scenario: String,
    /// The design's points, for a run with a `[design]` of sampled or listed points (absent for
    /// a grid).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub design: Option<DesignRecord>,
}

/// The fields of a manifest that [`Manifest::field_digests`] leaves out: what the shards wrote,
/// known only when the run has finished (checked against the files themselves instead).
const WRITTEN_FIELDS: [&str; 2] = ["parts", "rows"];

impl Manifest {
    /// SHA-256 (lowercase hex) of each field's JSON, by field name, for every field but the
    /// parts and their row totals: what the run is, fixed when it starts. `_run.json` records
    /// them ([`crate::RunIdentity::manifest_fields`]) and readers compare, so that no field of
    /// `manifest.json` (the design's points and axis names included) can differ from the run's
    /// unnoticed.
    pub fn field_digests(&self) -> BTreeMap<String, String> {
        use sha2::{Digest, Sha256};
        let Ok(serde_json::Value::Object(fields)) = serde_json::to_value(self) else {
            return BTreeMap::new();
        };
        fields
            .into_iter()
            .filter(|(k, _)| !WRITTEN_FIELDS.contains(&k.as_str()))
            .map(|(k, v)| {
                let json = serde_json::to_vec(&v).unwrap_or_default();
                (k, crate::writer::hex(&Sha256::digest(&json)))
            })
            .collect()
    }
}

/// An adaptive replication rule as written in `manifest.json` (`docs/designs.md`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AdaptiveRecord {
    /// The SE each cell plays until.
    pub target_se: f64,
    /// The `cells` metric whose SE is targeted.
    pub metric: String,
    /// Replications before the rule is first read.
    pub min: u32,
    /// Replications at most.
    pub max: u32,
    /// Replications per batch after the first `min`.
    pub batch: u32,
    /// `"A-B"`: the SE of this paired contrast is targeted instead of each mechanism's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contrast: Option<String>,
}

/// A run's design points as written in `manifest.json`: enough to analyse the outputs without
/// the scenario (`datapact sensitivity`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DesignRecord {
    /// `lhs`, `sobol`, `morris` or `points`.
    pub kind: String,
    /// `samples` of a sampled kind (0 for points).
    pub samples: usize,
    /// A Sobol design without the BA blocks (`second_order = false`: N·(D + 2) points); absent
    /// (false) otherwise, so earlier manifests read and digest as they did.
    #[serde(default, skip_serializing_if = "is_false")]
    pub first_order_only: bool,
    /// The design's keys, in axis order (the last entries of `sweep`).
    pub keys: Vec<String>,
    /// Their output columns.
    pub columns: Vec<String>,
    /// Cells of the grid the design is crossed with (1 without one); cell = grid cell · points +
    /// point.
    pub grid_cells: usize,
    /// Each point's values, in the axes' units, point by point (empty for a listed design:
    /// they are in `points_file`).
    pub points: Vec<Vec<f64>>,
    /// Each point's unit-cube coordinates (sampled kinds; empty for points).
    pub unit: Vec<Vec<f64>>,
    /// A listed design's (`kind = "points"`) one copy of its points: `design_points.parquet`,
    /// its rows and SHA-256, as `_run.json` records it (absent for the sampled kinds, whose
    /// points are listed above, so their manifests read and digest as before).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub points_file: Option<PartEntry>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// Where shard `shard` of `shards` records its parts: `out/_shards/shard-IIIII-of-NNNNN.json`.
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

/// Reads `out/manifest.json` (a regular file of bounded size, [`crate::files`]); the error
/// names the file. Its contents are not checked here: [`crate::RunView`] checks them against
/// the run's identity.
pub fn read_manifest(out: &Path) -> Result<Manifest, crate::FileError> {
    crate::files::read_json(&out.join("manifest.json"), crate::files::MAX_MANIFEST_BYTES)
}

/// Reads one shard record (a regular file of bounded size); the error names the file.
pub fn read_shard_record(path: &Path) -> Result<ShardRecord, crate::FileError> {
    crate::files::read_json(path, crate::files::MAX_RECORD_BYTES)
}

/// Where a finished chunk records its parts: `out/_chunks/part-NNNNNN.json`.
pub fn chunk_record_path(out: &Path, chunk: usize) -> PathBuf {
    out.join("_chunks")
        .join(format!("{}.json", crate::ChunkPlan::part_name(chunk)))
}

/// Reads one chunk record: the parts a finished chunk wrote (a regular file of bounded size);
/// the error names the file.
pub fn read_chunk_record(path: &Path) -> Result<Vec<PartEntry>, crate::FileError> {
    crate::files::read_json(path, crate::files::MAX_RECORD_BYTES)
}
