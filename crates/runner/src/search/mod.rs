//! Searches run by the runner: `datapact optimize` (NSGA-II) and `datapact calibrate`
//! (ABC-SMC) on top of `datapact-search`'s ask/tell algorithms.
//!
//! Every step of a search (a generation, a round of re-evaluations) is one or more points
//! scenarios — the file's scenario with a `[design] kind = "points"` of the step's candidates,
//! one scenario per replication block and per combination of categorical labels — run by
//! [`crate::run`] into a directory of its own, so chunks, shards, `--resume` and Slurm arrays work
//! per step. The search's state is written after every step (`state.json`), so a search stopped
//! anywhere resumes to the result an uninterrupted one gives.
//!
//! Layout of a search's directory (`docs/optimize.md`):
//! ```text
//! DIR/search.toml            the effective file (scenario + search table, canonical)
//! DIR/search.json            what the directory holds: kind, hash of search.toml, version, plugins
//! DIR/state.json             the search's state after its last complete step
//! DIR/generations/0003/b0.toml   the scenario of step 3, replication block 0
//! DIR/generations/0003/b0/       its run directory (cells/, contrasts/, manifest.json, ...)
//! DIR/generations/0003/b1-0/     block 1, first combination of categorical labels (when any)
//! DIR/evaluations.parquet, hypervolume.parquet, pareto.parquet    (optimize)
//! DIR/proposals.parquet, tolerances.parquet, posterior.parquet    (calibrate)
//! ```
//!
//! Invariant: a search's outputs are a function of its file (scenario, search table, seeds),
//! never of threads, shards or interruptions.

mod batch;
mod calibrate;
mod optimize;
mod tables;

// libm's exp and ln: the same key values on every platform (issue 25 item 8).
use datapact_model::variates::{exp, ln};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use datapact_scenario::search::{Domain, KeyValue, SearchFile, SearchKey};
use datapact_search::{Point, Space, Value, Variable};
use datapact_sim::PluginSet;
use serde::{Deserialize, Serialize};

use crate::VERSION;
use crate::error::{RunnerError, io_err};
use crate::spec::plugin_names;
use datapact_trace::atomic::write_json_atomic;

pub use batch::block_seed;
pub use calibrate::{CalibrateSummary, KeySummary, TOLERANCES_COLUMNS, calibrate};
pub use optimize::{OptimizeSummary, StepSummary, optimize};

/// How to run a search.
#[derive(Clone, Debug)]
pub struct SearchOptions {
    /// The search's directory.
    pub out: PathBuf,
    /// Worker threads of each run.
    pub threads: usize,
    /// Continue the search already in `out` (its file must be the same).
    pub resume: bool,
    /// Run nothing: take every step whose runs are complete, write the scenarios of the next
    /// step's runs (`generations/NNNN/*.toml`) and stop, for `datapact run` (a Slurm array) to
    /// compute them; call again (with `resume`) to continue.
    pub prepare: bool,
    /// Set (by a signal handler) to stop; the step in progress is taken up again by `resume`.
    pub cancel: Option<Arc<AtomicBool>>,
    /// The app's plugins (the file must have been read against their catalog).
    pub plugins: Arc<PluginSet>,
}

impl SearchOptions {
    /// Options for a search into `out` with the core plugins: one thread, no resume.
    pub fn new(out: impl Into<PathBuf>) -> Self {
        SearchOptions {
            out: out.into(),
            threads: 1,
            resume: false,
            prepare: false,
            cancel: None,
            plugins: Arc::new(PluginSet::core()),
        }
    }

    fn cancelled(&self) -> bool {
        self.cancel
            .as_ref()
            .is_some_and(|c| c.load(Ordering::Relaxed))
    }
}

/// `search.json`: what a search directory holds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct SearchIdentity {
    kind: String,
    hash: String,
    version: String,
    plugins: Vec<String>,
}

/// The plugins a search's candidates use (its scenario's, and those of searched strategies).
fn search_plugins(plugins: &datapact_sim::PluginSet, file: &SearchFile) -> Vec<String> {
    plugin_names(
        plugins,
        &file.scenario.mechanisms_played(),
        &file.strategies_named(),
    )
}

/// Claims `opts.out` for a search of `kind` over `file`: a new (or empty) directory, or with
/// `resume` the directory of the same search. Returns whether a search was already there.
fn claim(file: &SearchFile, kind: &str, opts: &SearchOptions) -> Result<bool, RunnerError> {
    let out = &opts.out;
    let identity = SearchIdentity {
        kind: kind.to_string(),
        hash: file.hash(),
        version: VERSION.to_string(),
        plugins: search_plugins(&opts.plugins, file),
    };
    let id_path = out.join("search.json");
    let refuse = |why: String| RunnerError::Refused(format!("--out {}: {why}", out.display()));
    if id_path.exists() {
        let text = std::fs::read_to_string(&id_path).map_err(io_err(&id_path))?;
        let found: SearchIdentity = serde_json::from_str(&text).map_err(|e| {
            RunnerError::Unreadable(format!("{}: not a search identity: {e}", id_path.display()))
        })?;
        if found.kind != identity.kind {
            return Err(refuse(format!(
                "holds a `{}` search, not a `{kind}` one; give another directory",
                found.kind
            )));
        }
        if found != identity {
            return Err(refuse(format!(
                "holds another search (its search.toml differs from {}{}); give another \
                 directory, or compare with `diff {}/search.toml`",
                file.scenario.origin,
                if found.version != identity.version {
                    format!(", or was written by datapact {}", found.version)
                } else {
                    String::new()
                },
                out.display()
            )));
        }
        if !opts.resume {
            return Err(refuse(
                "holds this search already: add --resume to continue it (or give a new \
                 directory)"
                    .into(),
            ));
        }
        return Ok(true);
    }
    if out.exists() {
        let entries = std::fs::read_dir(out).map_err(io_err(out))?;
        if entries.flatten().next().is_some() {
            return Err(refuse(
                "is not empty and holds no search (no search.json); give a new or empty \
                 directory"
                    .into(),
            ));
        }
    }
    std::fs::create_dir_all(out).map_err(io_err(out))?;
    write_text_atomic(&out.join("search.toml"), &file.normalized())?;
    write_json_atomic(&id_path, &identity).map_err(io_err(&id_path))?;
    Ok(false)
}

/// What every search does first: checks the plugins and that no two columns of its tables
/// would share a name, builds the space of `keys`, claims the directory for a search of `kind`
/// and reads the saved state of a search resumed there (`None` for a new one).
fn start<T: for<'de> Deserialize<'de>>(
    file: &SearchFile,
    kind: &str,
    keys: &[SearchKey],
    measures: &[datapact_scenario::search::Measure],
    opts: &SearchOptions,
) -> Result<(Space, Option<T>), RunnerError> {
    opts.plugins
        .validate()
        .map_err(|e| RunnerError::Refused(e.to_string()))?;
    let mut names: Vec<String> = keys.iter().map(|k| k.column.clone()).collect();
    for m in measures {
        names.push(m.column());
        names.push(format!("{}_se", m.column()));
    }
    tables::check_unique(&names)?;
    let space = space(keys)?;
    let state = if claim(file, kind, opts)? {
        read_state(&opts.out)?
    } else {
        None
    };
    Ok((space, state))
}

/// Writes `text` to `path` through a hidden temporary file and a rename
/// ([`datapact_trace::atomic`]), creating `path`'s directory if needed.
pub(crate) fn write_text_atomic(path: &Path, text: &str) -> Result<(), RunnerError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(io_err(dir))?;
    datapact_trace::atomic::write_atomic(path, text.as_bytes()).map_err(io_err(path))
}

/// Reads a search's state, if one was saved.
fn read_state<T: for<'de> Deserialize<'de>>(out: &Path) -> Result<Option<T>, RunnerError> {
    let path = out.join("state.json");
    match std::fs::read_to_string(&path) {
        Ok(text) => serde_json::from_str(&text).map(Some).map_err(|e| {
            RunnerError::Unreadable(format!(
                "{}: the search's state does not read back ({e}); move the directory away and \
                 start again",
                path.display()
            ))
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_err(&path)(e)),
    }
}

fn write_state<T: Serialize>(out: &Path, state: &T) -> Result<(), RunnerError> {
    let path = out.join("state.json");
    write_json_atomic(&path, state).map_err(io_err(&path))
}

/// The search space of `keys`: a real key is searched on its range (on ln of it with `log`),
/// an integer key on its integers, a categorical one among its labels; variables are named by
/// the keys' columns.
fn space(keys: &[SearchKey]) -> Result<Space, RunnerError> {
    let vars = keys
        .iter()
        .map(|k| match &k.domain {
            Domain::Real { from, to, log } => {
                if *log {
                    Variable::real(&k.column, ln(*from), ln(*to))
                } else {
                    Variable::real(&k.column, *from, *to)
                }
            }
            Domain::Integer { from, to } => Variable::integer(&k.column, *from, *to),
            Domain::Labels(c) => Variable::categorical(&k.column, c.iter().map(|c| c.label())),
        })
        .collect();
    Space::new(vars).map_err(|e| RunnerError::Refused(e.to_string()))
}

/// A point of the space as key values (a log key's value back on its own scale, within its
/// range).
fn key_values(keys: &[SearchKey], point: &Point) -> Vec<KeyValue> {
    keys.iter()
        .zip(point)
        .map(|(k, v)| match (&k.domain, v) {
            (
                Domain::Real {
                    from,
                    to,
                    log: true,
                },
                Value::Real(x),
            ) => KeyValue::Number(exp(*x).clamp(*from, *to)),
            (_, Value::Label(i)) => KeyValue::Label(*i),
            (_, v) => KeyValue::Number(v.as_f64()),
        })
        .collect()
}

/// A key value as a number (a label's index for a categorical key), for the state.
fn as_number(v: &KeyValue) -> f64 {
    match v {
        KeyValue::Number(x) => *x,
        KeyValue::Label(i) => *i as f64,
    }
}

/// The metadata every table of a search carries: the effective file and its hash, the version
/// and plugins, and for readers of the tables (the figures) the keys (`datapact.search.keys`:
/// JSON, each `{column, key, from, to}` or `{column, key, labels}`) and the objectives
/// (`datapact.search.objectives`: JSON, each `{column, sense}`).
fn table_metadata(
    file: &SearchFile,
    keys: &[SearchKey],
    objectives: &[(String, &str)],
    opts: &SearchOptions,
) -> Vec<(String, String)> {
    let keys: Vec<serde_json::Value> = keys
        .iter()
        .map(|k| match &k.domain {
            Domain::Real { from, to, .. } => serde_json::json!({
                "column": k.column, "key": k.key, "from": from, "to": to }),
            Domain::Integer { from, to } => serde_json::json!({
                "column": k.column, "key": k.key, "from": *from as f64, "to": *to as f64 }),
            Domain::Labels(c) => serde_json::json!({
                "column": k.column, "key": k.key,
                "labels": c.iter().map(|c| c.label()).collect::<Vec<_>>() }),
        })
        .collect();
    let objectives: Vec<serde_json::Value> = objectives
        .iter()
        .map(|(c, s)| serde_json::json!({ "column": c, "sense": s }))
        .collect();
    vec![
        ("datapact.search".to_string(), file.normalized()),
        ("datapact.search_hash".to_string(), file.hash()),
        (
            "datapact.scenario_name".to_string(),
            file.scenario.name.clone(),
        ),
        (
            "datapact.plugins".to_string(),
            search_plugins(&opts.plugins, file).join("\n"),
        ),
        (
            "datapact.search.keys".to_string(),
            serde_json::Value::Array(keys).to_string(),
        ),
        (
            "datapact.search.objectives".to_string(),
            serde_json::Value::Array(objectives).to_string(),
        ),
    ]
}
