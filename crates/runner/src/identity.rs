//! Claiming an output directory: the identity (`_run.json`, [`datapact_trace::RunIdentity`])
//! a run of a scenario writes into it, created by the first run and compared by every later
//! one (shards, resumes).

use std::path::Path;

use datapact_scenario::Scenario;
use datapact_sim::PluginSet;

use crate::VERSION;
use crate::error::{RunnerError, io_err};
use crate::manifest::{design_points_of, manifest_of};
use crate::plan::{Shard, chunk_plan};
use crate::spec::{plugin_list, tables_of};
use datapact_trace::atomic::{create_json_exclusive, write_atomic};
use datapact_trace::files::clip;
use datapact_trace::{
    DESIGN_POINTS_FILE, FileError, MAX_SHARDS, RunIdentity, design_points_entry, identity_path,
    read_identity,
};

/// The identity a run of `scenario` split into `shard.count` shards claims.
pub(crate) fn identity_of(
    scenario: &Scenario,
    plugins: &PluginSet,
    shard: Shard,
    replication: Option<u32>,
) -> RunIdentity {
    let plan = chunk_plan(scenario);
    let manifest_fields =
        manifest_of(scenario, plugins, &plan, shard.count, Vec::new()).field_digests();
    RunIdentity {
        scenario_name: scenario.name.clone(),
        scenario_hash: scenario.hash(),
        seed: scenario.seed,
        version: VERSION.to_string(),
        plugins: plugin_list(plugins, scenario),
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
        // A listed design's points are named (file and digest), not listed: stored once, in
        // `design_points.parquet`.
        scenario: scenario.canonical(),
        replication,
        manifest_fields,
        design_points: design_points_of(scenario).map(|(_, entry)| entry),
    }
}

/// Writes a listed design's `design_points.parquet` into the claimed directory `out` unless it
/// is already there with the bytes `_run.json` records (every shard and resume writes the same
/// bytes; atomically, so a reader never sees half of it). Before any part names it.
pub(crate) fn write_design_points(out: &Path, scenario: &Scenario) -> Result<(), RunnerError> {
    let Some((bytes, entry)) = design_points_of(scenario) else {
        return Ok(());
    };
    let path = out.join(DESIGN_POINTS_FILE);
    let current = std::fs::symlink_metadata(&path)
        .ok()
        .filter(|m| m.is_file())
        .and_then(|_| std::fs::read(&path).ok());
    if current.is_some_and(|c| design_points_entry(&c, entry.rows as usize) == entry) {
        return Ok(());
    }
    write_atomic(&path, &bytes).map_err(io_err(&path))
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
    // A failure of the operating system, not of the request: exit 1, the io::Error kept.
    let failed = |why: &str, e: std::io::Error| {
        RunnerError::File(FileError::io(
            format!("--out {}: {why} ({e})", out.display()),
            e,
        ))
    };
    // Never inside another run (a run into A/cells/sub would leave A failing `verify`).
    datapact_trace::claim::check_not_inside_a_run(out, true, false)
        .map_err(|e| e.context(|why| format!("--out {why}")))?;
    match std::fs::symlink_metadata(out) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(failed("cannot inspect it", e)),
        Ok(_) => {}
    }
    let meta = std::fs::metadata(out).map_err(|e| match e.raw_os_error() {
        Some(40) => refuse("is a symlink loop".to_string()),
        _ if e.kind() == std::io::ErrorKind::NotFound => {
            refuse("is a dangling symlink (its target does not exist)".to_string())
        }
        _ => failed("cannot follow it", e),
    })?;
    if !meta.is_dir() {
        return Err(refuse(
            "exists and is not a directory; give a new or empty directory".into(),
        ));
    }
    if identity_path(out).exists() {
        return Ok(());
    }
    let entries = std::fs::read_dir(out).map_err(|e| failed("cannot list it", e))?;
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
    let identity = identity_of(scenario, plugins, shard, replication);
    let path = identity_path(out);
    // Shards of an array start together: exactly one creates the identity, the others (and
    // later resumes) compare against it.
    if create_json_exclusive(&path, &identity).map_err(io_err(&path))? {
        return Ok(());
    }
    // Unreadable or damaged: not bad input (exit 1, by the error's kind).
    let found = read_identity(out)?;
    if found == identity {
        return Ok(());
    }
    // (Only when N differs: the manifest fields record N, so they are set aside with it.)
    let same_but_shards = found.shards != identity.shards
        && RunIdentity {
            shards: identity.shards,
            manifest_fields: identity.manifest_fields.clone(),
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
    // `--rep R` runs of the same scenario differ only in the replication they play: say so,
    // rather than print two identical descriptions.
    let same_but_replication = RunIdentity {
        replication: identity.replication,
        ..found.clone()
    } == identity;
    if same_but_replication {
        let played = |r: Option<u32>| match r {
            Some(r) => format!("replication {r} alone (--rep {r})"),
            None => "every replication (no --rep)".to_string(),
        };
        return Err(RunnerError::Refused(format!(
            "{} holds {} of scenario {:?} and this run asks for {}; runs of different \
             replications never mix: use another --out directory (one per --rep)",
            out.display(),
            played(found.replication),
            identity.scenario_name,
            played(identity.replication)
        )));
    }
    Err(RunnerError::Refused(format!(
        "{} holds outputs of scenario {:?} that differ from this run's: {}; use another --out \
         directory",
        out.display(),
        clip(&found.scenario_name, 200),
        identity_differences(&found, &identity).join("; ")
    )))
}

/// What differs between the identity a directory holds (`found`) and the one a run claims, in
/// words, each with both values (`found`'s first): the scenario's first differing line of its
/// canonical text when the hashes differ, so that two descriptions of one name never look
/// identical. Values read from disk are clipped (a damaged `_run.json` may hold anything).
fn identity_differences(found: &RunIdentity, this: &RunIdentity) -> Vec<String> {
    type Field = fn(&RunIdentity) -> String;
    let points: Field = |i| match &i.design_points {
        Some(e) => format!(
            "{} ({} rows, SHA-256 {})",
            e.file,
            e.rows,
            clip(&e.sha256, 12)
        ),
        None => "none".to_string(),
    };
    let fields: [(&str, Field); 13] = [
        ("scenario name", |i| format!("{:?}", i.scenario_name)),
        ("scenario hash", |i| i.scenario_hash.clone()),
        ("seed", |i| i.seed.to_string()),
        ("datapact version", |i| i.version.clone()),
        ("plugins", |i| format!("[{}]", i.plugins.join(", "))),
        ("replications", |i| i.replications.to_string()),
        ("mechanisms", |i| i.mechanisms.join(", ")),
        ("replication played (--rep)", |i| {
            i.replication.map_or("all".to_string(), |r| r.to_string())
        }),
        ("shards", |i| i.shards.to_string()),
        ("tables", |i| i.tables.join(", ")),
        ("cells", |i| i.cells.to_string()),
        ("cells per chunk", |i| i.chunk_cells.to_string()),
        ("listed design points file", points),
    ];
    let mut out: Vec<String> = fields
        .iter()
        .map(|(what, field)| (what, field(found), field(this)))
        .filter(|(_, a, b)| a != b)
        .map(|(what, a, b)| format!("{what} {} here, {b} in this run", clip(&a, 200)))
        .collect();
    if found.scenario != this.scenario {
        let (a, b): (Vec<&str>, Vec<&str>) = (
            found.scenario.lines().collect(),
            this.scenario.lines().collect(),
        );
        let line = (0..a.len().max(b.len()))
            .find(|&i| a.get(i) != b.get(i))
            .unwrap_or(0);
        let at = |l: &[&str]| {
            l.get(line).map_or("(no such line)".to_string(), |t| {
                format!("`{}`", clip(t, 120))
            })
        };
        out.push(format!(
            "their scenario text first differs at line {}: {} here, {} in this run",
            line + 1,
            at(&a),
            at(&b)
        ));
    }
    if out.is_empty() {
        let keys: std::collections::BTreeSet<&String> = found
            .manifest_fields
            .keys()
            .chain(this.manifest_fields.keys())
            .collect();
        let fields: Vec<&str> = keys
            .into_iter()
            .filter(|k| found.manifest_fields.get(*k) != this.manifest_fields.get(*k))
            .map(String::as_str)
            .collect();
        out.push(format!(
            "the manifest fields they record ({})",
            clip(&fields.join(", "), 200)
        ));
    }
    out
}

/// The app's plugins are consistent and the scenario was loaded against their catalog.
pub(crate) fn check_plugins(scenario: &Scenario, plugins: &PluginSet) -> Result<(), RunnerError> {
    plugins
        .validate()
        .map_err(|e| RunnerError::Refused(e.to_string()))?;
    if !scenario.catalog.extends(plugins.catalog()) {
        return Err(RunnerError::Refused(format!(
            "scenario {:?} was validated against other mechanisms and strategies than this \
             app registers; load it with the app's catalog",
            scenario.name
        )));
    }
    Ok(())
}

/// Claims `out` for a run of `scenario` in `shards` shards without computing anything: the
/// checks and the `_run.json` the first shard to start would make. `datapact submit` calls it
/// before it queues a job array, so that a directory holding another scenario or another N
/// is refused before anything waits in a queue, and `datapact status` works at once. A
/// directory already claimed for the same run is accepted (submitting again finishes it).
pub fn claim(
    out: &Path,
    scenario: &Scenario,
    plugins: &PluginSet,
    shards: usize,
) -> Result<(), RunnerError> {
    check_plugins(scenario, plugins)?;
    if shards == 0 || shards > MAX_SHARDS {
        return Err(RunnerError::Refused(format!(
            "{shards} shards: expected 1 to {MAX_SHARDS}"
        )));
    }
    claim_directory(
        out,
        scenario,
        plugins,
        Shard {
            index: 0,
            count: shards,
        },
        None,
    )
}

#[cfg(test)]
mod tests {
    /// A listed design's canonical text names the file the runner writes and `verify` checks.
    #[test]
    fn the_scenario_names_the_points_file_the_run_writes() {
        assert_eq!(
            datapact_scenario::RUN_POINTS_FILE,
            datapact_trace::DESIGN_POINTS_FILE
        );
    }
}
