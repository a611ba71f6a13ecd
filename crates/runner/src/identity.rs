//! The identity of an output directory (`_run.json`): claimed by the first run into it, checked
//! by every later one (shards, resumes).

use std::path::Path;

use datapact_scenario::Scenario;
use datapact_sim::PluginSet;

use crate::VERSION;
use crate::manifest::create_json_exclusive;
use crate::write::{RunnerError, io_err, plugin_list};

/// The identity of an output directory, written when a run starts; later runs into the same
/// directory (shards, resumes) must match it.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
struct RunIdentity {
    scenario_name: String,
    scenario_hash: String,
    seed: u64,
    version: String,
    /// The plugins the outputs were made with (`name version`, in order).
    plugins: Vec<String>,
    /// The one replication played (`--rep`), if not all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    replication: Option<u32>,
}

pub(crate) fn claim_directory(
    out: &Path,
    scenario: &Scenario,
    plugins: &PluginSet,
    replication: Option<u32>,
) -> Result<(), RunnerError> {
    std::fs::create_dir_all(out).map_err(io_err(out))?;
    let identity = RunIdentity {
        scenario_name: scenario.name.clone(),
        scenario_hash: scenario.hash(),
        seed: scenario.seed,
        version: VERSION.to_string(),
        plugins: plugin_list(plugins),
        replication,
    };
    let path = out.join("_run.json");
    // Shards of an array start together: exactly one creates the identity, the others (and
    // later resumes) compare against it.
    if create_json_exclusive(&path, &identity).map_err(io_err(&path))? {
        return Ok(());
    }
    let text = std::fs::read_to_string(&path).map_err(io_err(&path))?;
    let found: RunIdentity = serde_json::from_str(&text).map_err(|e| {
        RunnerError::Refused(format!(
            "{}: unreadable ({e}); not a datapact output?",
            path.display()
        ))
    })?;
    if found != identity {
        return Err(RunnerError::Refused(format!(
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
        )));
    }
    Ok(())
}
