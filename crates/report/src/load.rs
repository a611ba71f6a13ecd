//! Finding and loading runs: directories with a `manifest.json` and their Parquet tables.

use std::path::{Path, PathBuf};

use datapact_trace::{Table, read_table};

use crate::ReportError;
use crate::tables::{
    CellTable, DiagTable, RoundTable, cells_from_batches, diags_from_batches, rounds_from_batches,
};

/// One run's outputs: a directory with a `manifest.json`.
#[derive(Clone, Debug, Default)]
pub struct Run {
    /// Scenario name from the manifest.
    pub name: String,
    pub dir: PathBuf,
    pub scenario_hash: String,
    pub replications: u32,
    pub cells: CellTable,
    pub diagnostics: DiagTable,
    pub rounds: Option<RoundTable>,
}

/// Loads every run under `dir`: `dir` itself if it holds a `manifest.json`, else each
/// subdirectory that does (sorted by name). Directories without a manifest (unfinished runs,
/// the report itself) are skipped. A `rounds` table has a row per campaign (millions in a
/// user's sweep), so only the runs named in `rounds_for` load theirs.
pub fn load_runs(dir: &Path, rounds_for: &[&str]) -> Result<Vec<Run>, ReportError> {
    if dir.join("manifest.json").is_file() {
        return Ok(vec![load_run(dir, rounds_for)?]);
    }
    let entries = std::fs::read_dir(dir).map_err(|e| ReportError::io(dir, e))?;
    let mut dirs: Vec<PathBuf> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.join("manifest.json").is_file())
        .collect();
    dirs.sort();
    dirs.iter().map(|d| load_run(d, rounds_for)).collect()
}

/// Loads one run directory (it must hold a `manifest.json`); its `rounds` table only if the
/// run is named in `rounds_for` and traced them.
pub fn load_run(dir: &Path, rounds_for: &[&str]) -> Result<Run, ReportError> {
    let manifest = datapact_trace::read_manifest(dir).map_err(ReportError::Data)?;
    let swept: Vec<String> = manifest
        .sweep
        .iter()
        .map(|(_, column)| column.clone())
        .collect();
    let (name, trace) = (manifest.scenario_name, manifest.trace);
    let cells = cells_from_batches(&swept, &read_table(dir, Table::Cells)?)?;
    let diagnostics = diags_from_batches(&swept, &read_table(dir, Table::Diagnostics)?)?;
    let rounds = if (trace == "rounds" || trace == "events") && rounds_for.contains(&&*name) {
        Some(rounds_from_batches(&read_table(dir, Table::Rounds)?)?)
    } else {
        None
    };
    Ok(Run {
        name,
        dir: dir.to_path_buf(),
        scenario_hash: manifest.scenario_hash,
        replications: manifest.replications,
        cells,
        diagnostics,
        rounds,
    })
}
