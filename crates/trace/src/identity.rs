//! The identity of an output directory (`_run.json`): claimed by the first run into it, checked
//! by every later one (shards, resumes), and the reference every reader checks the manifest,
//! the shard records and the parts against ([`crate::RunView`]).

use std::path::Path;

use crate::layout::ChunkPlan;

/// The datapact version that reads and writes run directories.
const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The identity of an output directory, written when a run starts; later runs into the same
/// directory (shards, resumes) must match it, and readers check everything else against it.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RunIdentity {
    /// Scenario name.
    pub scenario_name: String,
    /// SHA-256 of the normalised scenario.
    pub scenario_hash: String,
    /// Root seed.
    pub seed: u64,
    /// datapact version.
    pub version: String,
    /// The plugins the outputs were made with (`name version`, in order).
    pub plugins: Vec<String>,
    /// Replications per cell.
    pub replications: u32,
    /// Mechanism names, in output order.
    pub mechanisms: Vec<String>,
    /// The tables written (directory names).
    pub tables: Vec<String>,
    /// Cells of the grid.
    pub cells: usize,
    /// Cells per chunk.
    pub chunk_cells: usize,
    /// The number of shards N every run into the directory uses.
    pub shards: usize,
    /// The normalised scenario (what `scenario_hash` hashes).
    pub scenario: String,
    /// The one replication played (`--rep`), if not all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replication: Option<u32>,
}

impl RunIdentity {
    /// The chunk layout the directory was claimed with.
    pub fn plan(&self) -> ChunkPlan {
        ChunkPlan {
            cells: self.cells,
            chunk_cells: self.chunk_cells.max(1),
        }
    }
}

/// The path of a directory's identity.
pub fn identity_path(out: &Path) -> std::path::PathBuf {
    out.join("_run.json")
}

/// Reads `_run.json`; the error says the directory is not (or not yet) a datapact run.
pub fn read_identity(out: &Path) -> Result<RunIdentity, String> {
    let path = identity_path(out);
    let text = std::fs::read_to_string(&path).map_err(|e| {
        format!(
            "{}: {e}; {} is not a datapact run (or one made before datapact {VERSION})",
            path.display(),
            out.display()
        )
    })?;
    serde_json::from_str(&text).map_err(|e| {
        format!(
            "{}: unreadable ({e}); not a datapact run of this version?",
            path.display()
        )
    })
}
