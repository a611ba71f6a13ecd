//! Finding and loading runs: directories with a `manifest.json` and their Parquet tables.

use std::path::{Path, PathBuf};

use datapact_trace::{Table, read_table};

use crate::ReportError;
use crate::tables::{
    CellTable, ContrastTable, DiagTable, RoundTable, cells_from_batches, contrasts_from_batches,
    diags_from_batches, rounds_from_batches,
};

/// One run's outputs: a directory with a `manifest.json`.
#[derive(Clone, Debug, Default)]
pub struct Run {
    /// Scenario name from the manifest.
    pub name: String,
    /// The run's directory.
    pub dir: PathBuf,
    /// The SHA-256 of its normalized scenario (`_run.json`).
    pub scenario_hash: String,
    /// Replications per cell (an adaptive run's `max`).
    pub replications: u32,
    /// The adaptive replication rule, if the run had one (cells then differ in `reps`).
    pub adaptive: Option<datapact_trace::manifest::AdaptiveRecord>,
    /// Its `cells` table.
    pub cells: CellTable,
    /// Its `diagnostics` table.
    pub diagnostics: DiagTable,
    /// The paired contrasts (empty for a run with fewer than two mechanisms).
    pub contrasts: ContrastTable,
    /// Its `rounds` table, if the run wrote one.
    pub rounds: Option<RoundTable>,
}

impl Run {
    /// The replications per cell, as captions and tables say it: the count, or for an
    /// adaptive run the range of the cells' counts and the rule.
    pub fn reps_text(&self) -> String {
        let Some(a) = &self.adaptive else {
            return self.replications.to_string();
        };
        let (lo, hi) = self.cells.rows.iter().fold((u32::MAX, 0), |(lo, hi), r| {
            (lo.min(r.reps), hi.max(r.reps))
        });
        let of = match &a.contrast {
            Some(c) => format!("{} contrast of {}", c, a.metric),
            None => a.metric.clone(),
        };
        let range = if lo > hi {
            "no".to_string()
        } else if lo == hi {
            lo.to_string()
        } else {
            format!("{lo}–{hi}")
        };
        format!(
            "{range} (adaptive: until SE of {of} ≤ {}, {}–{})",
            a.target_se, a.min, a.max
        )
    }
}

/// Whether `dir` is (or was meant to be) a datapact run: it has an identity or a manifest.
fn is_run(dir: &Path) -> bool {
    dir.join("_run.json").is_file() || dir.join("manifest.json").is_file()
}

/// Loads every run under `dir`: `dir` itself if it is a run, else each subdirectory that is
/// (sorted by name); other directories (the report itself) are skipped. Every run must be
/// finished and verify ([`datapact_trace::RunView`]): an unfinished or damaged run is an
/// error naming it, never a silently partial report. A `rounds` table has a row per campaign
/// (millions in a user's sweep), so only the runs named in `rounds_for` load theirs.
pub fn load_runs(dir: &Path, rounds_for: &[&str]) -> Result<Vec<Run>, ReportError> {
    if is_run(dir) {
        return Ok(vec![load_run(dir, rounds_for)?]);
    }
    let entries = std::fs::read_dir(dir).map_err(|e| ReportError::io(dir, e))?;
    let mut dirs: Vec<PathBuf> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| is_run(p))
        .collect();
    dirs.sort();
    dirs.iter().map(|d| load_run(d, rounds_for)).collect()
}

/// Whether a run at trace level `trace` wrote the `rounds` table (every level from `rounds` up).
fn traces_rounds(trace: &str) -> bool {
    matches!(trace, "rounds" | "users" | "events")
}

/// Loads one finished run directory through its verified view (the manifest and shard
/// records agree with `_run.json`, no stray part, every part read matches its checksum and
/// carries the run's metadata); its `rounds` table only if the run is named in `rounds_for`
/// and traced them.
pub fn load_run(dir: &Path, rounds_for: &[&str]) -> Result<Run, ReportError> {
    let view = datapact_trace::RunView::open(dir)?;
    let manifest = view.finished()?.clone();
    let reads_rounds =
        traces_rounds(&manifest.trace) && rounds_for.contains(&manifest.scenario_name.as_str());
    let mut read = vec![Table::Cells, Table::Diagnostics, Table::Contrasts];
    if reads_rounds {
        read.push(Table::Rounds);
    }
    view.verified(&read)?;
    let swept: Vec<String> = manifest
        .sweep
        .iter()
        .map(|(_, column)| column.clone())
        .collect();
    let (name, trace) = (manifest.scenario_name, manifest.trace);
    let categories = &manifest.categories;
    let cells = cells_from_batches(&swept, categories, &read_table(dir, Table::Cells)?)?;
    let diagnostics =
        diags_from_batches(&swept, categories, &read_table(dir, Table::Diagnostics)?)?;
    // Runs written before the table existed have no `contrasts` directory.
    let contrasts = if dir.join(Table::Contrasts.dir_name()).is_dir() {
        contrasts_from_batches(&swept, categories, &read_table(dir, Table::Contrasts)?)?
    } else {
        ContrastTable::default()
    };
    let rounds = if traces_rounds(&trace) && rounds_for.contains(&&*name) {
        Some(rounds_from_batches(&read_table(dir, Table::Rounds)?)?)
    } else {
        None
    };
    Ok(Run {
        name,
        dir: dir.to_path_buf(),
        scenario_hash: manifest.scenario_hash,
        replications: manifest.replications,
        adaptive: manifest.adaptive,
        cells,
        diagnostics,
        contrasts,
        rounds,
    })
}
