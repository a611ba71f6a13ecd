//! The identity of an output directory (`_run.json`): claimed by the first run into it, checked
//! by every later one (shards, resumes), and the reference every reader checks the manifest,
//! the shard records and the parts against ([`crate::RunView`]).

use std::path::Path;

use crate::FileError;
use crate::layout::{ChunkPlan, MAX_CELLS, MAX_CHUNKS, MAX_SHARDS};

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
    /// The plugins the run uses (`name version`, in the order the app added them).
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
    /// What `manifest.json` must say: the SHA-256 of each of its fields but the part list, by
    /// field name ([`crate::Manifest::field_digests`]). Empty in identities written before
    /// datapact recorded them (readers then name the manifest unchecked).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub manifest_fields: std::collections::BTreeMap<String, String>,
    /// A listed design's `design_points.parquet`: rows and SHA-256 (absent for any other run,
    /// whose `_run.json` is then as before).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub design_points: Option<crate::manifest::PartEntry>,
}

impl RunIdentity {
    /// Checks the counts readers loop over and allocate by: 1 ≤ cells ≤ [`MAX_CELLS`],
    /// 1 ≤ chunk_cells ≤ cells, chunks ≤ [`MAX_CHUNKS`], 1 ≤ shards ≤ [`MAX_SHARDS`], and
    /// replications ≥ 1 (with `replication`, if any, below it).
    pub fn check_counts(&self) -> Result<(), String> {
        if self.cells == 0 || self.cells > MAX_CELLS {
            return Err(format!("cells = {} is outside 1..={MAX_CELLS}", self.cells));
        }
        if self.chunk_cells == 0 || self.chunk_cells > self.cells {
            return Err(format!(
                "chunk_cells = {} is outside 1..={} (its cells)",
                self.chunk_cells, self.cells
            ));
        }
        let chunks = self.plan().chunks();
        if chunks > MAX_CHUNKS {
            return Err(format!(
                "{} cells in chunks of {} make {chunks} chunks, more than {MAX_CHUNKS}",
                self.cells, self.chunk_cells
            ));
        }
        if self.shards == 0 || self.shards > MAX_SHARDS {
            return Err(format!(
                "shards = {} is outside 1..={MAX_SHARDS}",
                self.shards
            ));
        }
        if self.replications == 0 {
            return Err("replications = 0".into());
        }
        if let Some(r) = self.replication
            && r >= self.replications
        {
            return Err(format!(
                "replication = {r} is not below replications = {}",
                self.replications
            ));
        }
        Ok(())
    }

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

/// Reads `_run.json` (a regular file of bounded size, see [`crate::files`]) and checks the
/// counts every reader loops over or allocates by (cells, chunks, shards) against what any run
/// can have, before anything uses them. The error says the directory is not (or not yet) a
/// datapact run, or what in its identity is impossible.
pub fn read_identity(out: &Path) -> Result<RunIdentity, FileError> {
    let path = identity_path(out);
    let bytes =
        crate::files::read_regular(&path, crate::files::MAX_IDENTITY_BYTES).map_err(|e| {
            e.context(|e| {
                format!(
                    "{e}; {} is not a datapact run (or one made before datapact {VERSION})",
                    out.display()
                )
            })
        })?;
    let identity: RunIdentity = serde_json::from_slice(&bytes).map_err(|e| {
        FileError::damaged(format!(
            "{}: unreadable ({e}); not a datapact run of this version?",
            path.display()
        ))
    })?;
    identity.check_counts().map_err(|why| {
        FileError::damaged(format!(
            "{}: {why}; no datapact run has that",
            path.display()
        ))
    })?;
    Ok(identity)
}
