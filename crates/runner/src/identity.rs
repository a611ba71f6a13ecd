//! The identity of an output directory (`_run.json`): claimed by the first run into it, checked
//! by every later one (shards, resumes), and the reference every reader checks the manifest,
//! the shard records and the parts against ([`crate::RunView`]).

use std::path::Path;

use datapact_scenario::Scenario;
use datapact_sim::PluginSet;

use crate::VERSION;
use crate::manifest::create_json_exclusive;
use crate::plan::{ChunkPlan, Shard};
use crate::write::{RunnerError, io_err, plugin_list, tables_of};

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
    /// The identity a run of `scenario` split into `shard.count` shards claims.
    pub(crate) fn of(
        scenario: &Scenario,
        plugins: &PluginSet,
        shard: Shard,
        replication: Option<u32>,
    ) -> RunIdentity {
        let plan = ChunkPlan::for_scenario(scenario);
        RunIdentity {
            scenario_name: scenario.name.clone(),
            scenario_hash: scenario.hash(),
            seed: scenario.seed,
            version: VERSION.to_string(),
            plugins: plugin_list(plugins),
            replications: scenario.replications,
            mechanisms: scenario
                .mechanisms
                .iter()
                .map(|m| m.name.to_string())
                .collect(),
            tables: tables_of(scenario.trace)
                .iter()
                .map(|t| t.dir_name().to_string())
                .collect(),
            cells: plan.cells,
            chunk_cells: plan.chunk_cells,
            shards: shard.count,
            scenario: scenario.normalized(),
            replication,
        }
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
pub(crate) fn identity_path(out: &Path) -> std::path::PathBuf {
    out.join("_run.json")
}

/// Reads `_run.json`; the error says the directory is not (or not yet) a datapact run.
pub(crate) fn read_identity(out: &Path) -> Result<RunIdentity, String> {
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

/// Whether a directory entry is what a run in progress leaves before `_run.json` is in place
/// (the hidden temporary it is written to): a directory holding only these counts as empty.
fn is_claim_temporary(name: &str) -> bool {
    name.starts_with("._run.json.") && name.ends_with(".tmp")
}

/// Checks, creating nothing, that `out` can be written by a run: absent (its parent is then
/// created), an empty directory, or a directory already claimed by a datapact run (whose
/// identity [`claim_directory`] compares). Refuses a regular file, a dangling symlink, a
/// symlink loop and a non-empty directory that is not a datapact run (its files would be
/// overwritten).
pub(crate) fn check_out_dir(out: &Path) -> Result<(), RunnerError> {
    let refuse = |why: String| RunnerError::Refused(format!("--out {}: {why}", out.display()));
    match std::fs::symlink_metadata(out) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(refuse(format!("cannot inspect it ({e})"))),
        Ok(_) => {}
    }
    let meta = std::fs::metadata(out).map_err(|e| {
        refuse(match e.raw_os_error() {
            Some(40) => "is a symlink loop".to_string(),
            _ if e.kind() == std::io::ErrorKind::NotFound => {
                "is a dangling symlink (its target does not exist)".to_string()
            }
            _ => format!("cannot follow it ({e})"),
        })
    })?;
    if !meta.is_dir() {
        return Err(refuse(
            "exists and is not a directory; give a new or empty directory".into(),
        ));
    }
    if identity_path(out).exists() {
        return Ok(());
    }
    let entries = std::fs::read_dir(out).map_err(|e| refuse(format!("cannot list it ({e})")))?;
    let foreign: Vec<String> = entries
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !is_claim_temporary(n))
        .take(3)
        .collect();
    // Shards started together: another one may have claimed the directory between the check
    // above and the listing. A run writes nothing before its `_run.json` is in place (and never
    // removes it), so if the identity exists now, whatever was listed is that run's.
    if !foreign.is_empty() && !identity_path(out).exists() {
        return Err(refuse(format!(
            "is not empty ({}{}) and not a datapact run (no _run.json); \
             its files could be overwritten, so give a new or empty directory",
            foreign.join(", "),
            if foreign.len() == 3 { ", ..." } else { "" }
        )));
    }
    Ok(())
}

pub(crate) fn claim_directory(
    out: &Path,
    scenario: &Scenario,
    plugins: &PluginSet,
    shard: Shard,
    replication: Option<u32>,
) -> Result<(), RunnerError> {
    check_out_dir(out)?;
    std::fs::create_dir_all(out).map_err(io_err(out))?;
    let identity = RunIdentity::of(scenario, plugins, shard, replication);
    let path = identity_path(out);
    // Shards of an array start together: exactly one creates the identity, the others (and
    // later resumes) compare against it.
    if create_json_exclusive(&path, &identity).map_err(io_err(&path))? {
        return Ok(());
    }
    let found = read_identity(out).map_err(RunnerError::Refused)?;
    if found == identity {
        return Ok(());
    }
    let same_but_shards = RunIdentity {
        shards: identity.shards,
        ..found.clone()
    } == identity;
    if same_but_shards {
        return Err(RunnerError::Refused(format!(
            "{} is written as {} shard(s) and this run asks for {} (--shard {}/{}); \
             shards of different N never mix: use --shard I/{} or another --out directory",
            out.display(),
            found.shards,
            identity.shards,
            shard.index,
            shard.count,
            found.shards
        )));
    }
    Err(RunnerError::Refused(format!(
        "{} holds outputs of scenario {:?} (hash {}, seed {}, datapact {}, plugins {}), not of {:?} (hash {}, seed {}, datapact {}, plugins {}); \
         use another --out directory",
        out.display(),
        found.scenario_name,
        &found.scenario_hash[..12.min(found.scenario_hash.len())],
        found.seed,
        found.version,
        found.plugins.join(", "),
        identity.scenario_name,
        &identity.scenario_hash[..12],
        identity.seed,
        identity.version,
        identity.plugins.join(", ")
    )))
}
