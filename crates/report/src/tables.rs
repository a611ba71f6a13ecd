//! Small typed tables loaded from the Parquet outputs through Arrow.
//!
//! Only the columns the figures and claims need are kept. Swept columns are carried as
//! `coords` in the order of [`CellTable::swept`] (etc.), so a table from any scenario loads.

use std::path::{Path, PathBuf};

use datapact_trace::arrow::array::{
    Array, BooleanArray, Float64Array, RecordBatch, StringArray, UInt32Array,
};
use datapact_trace::{Table, read_table};

use crate::ReportError;

/// One row of `cells`: one cell × mechanism.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CellRecord {
    pub cell: u32,
    /// Round of the repeated game (0 for single campaigns).
    pub round: u32,
    /// Swept values, aligned with the table's `swept` names.
    pub coords: Vec<f64>,
    pub mechanism: String,
    pub reps: u32,
    pub success_rate: f64,
    pub success_se: f64,
    pub welfare_mean: f64,
    pub privacy_cost_mean: f64,
    pub subsidy_mean: f64,
    pub leakage_mean: f64,
    pub data_mean: f64,
    pub withdrawals_mean: f64,
    pub null_rate: f64,
}

/// The `cells` table of one run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CellTable {
    /// Names of the swept columns, e.g. `["value", "payment"]`.
    pub swept: Vec<String>,
    pub rows: Vec<CellRecord>,
}

/// One row of `diagnostics`: one cell.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DiagRecord {
    pub cell: u32,
    pub round: u32,
    pub coords: Vec<f64>,
    pub s_success_k2: Option<f64>,
    pub m_success_k2: Option<f64>,
    pub common_success_k2: Option<u32>,
    pub pc_gap_mean: Option<f64>,
    pub pareto_loss_share: Option<f64>,
    pub pareto_compensation: Option<f64>,
}

/// The `diagnostics` table of one run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DiagTable {
    pub swept: Vec<String>,
    pub rows: Vec<DiagRecord>,
}

/// One row of `rounds`: one campaign × mechanism.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RoundRecord {
    pub cell: u32,
    pub rep: u32,
    pub mechanism: String,
    /// "success", "failure" or "null".
    pub status: String,
    pub success: bool,
    pub welfare: f64,
    pub privacy_cost: f64,
    pub subsidy: f64,
    pub leakage: f64,
    pub data: f64,
}

/// The `rounds` table of one run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RoundTable {
    pub rows: Vec<RoundRecord>,
}

/// Position of a swept column, if the table has it.
fn swept_index(swept: &[String], name: &str) -> Option<usize> {
    swept.iter().position(|s| s == name)
}

impl CellTable {
    /// The value of swept column `name` in `row` (None if the column is not swept).
    pub fn coord(&self, row: &CellRecord, name: &str) -> Option<f64> {
        swept_index(&self.swept, name).and_then(|i| row.coords.get(i).copied())
    }

    /// Rows of one mechanism.
    pub fn of<'a>(&'a self, mechanism: &'a str) -> impl Iterator<Item = &'a CellRecord> + 'a {
        self.rows.iter().filter(move |r| r.mechanism == mechanism)
    }

    /// Whether any row is of `mechanism`.
    pub fn has(&self, mechanism: &str) -> bool {
        self.rows.iter().any(|r| r.mechanism == mechanism)
    }
}

impl DiagTable {
    pub fn coord(&self, row: &DiagRecord, name: &str) -> Option<f64> {
        swept_index(&self.swept, name).and_then(|i| row.coords.get(i).copied())
    }
}

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

fn column<'a, T: 'static>(batch: &'a RecordBatch, name: &str) -> Result<&'a T, ReportError> {
    batch
        .column_by_name(name)
        .ok_or_else(|| ReportError::Data(format!("column `{name}` missing")))?
        .as_any()
        .downcast_ref::<T>()
        .ok_or_else(|| ReportError::Data(format!("column `{name}` has an unexpected type")))
}

fn opt_f64(a: &Float64Array, i: usize) -> Option<f64> {
    (!a.is_null(i)).then(|| a.value(i))
}

fn coords_of<'a>(
    batch: &'a RecordBatch,
    swept: &[String],
) -> Result<Vec<&'a Float64Array>, ReportError> {
    swept
        .iter()
        .map(|s| column::<Float64Array>(batch, s))
        .collect()
}

/// Builds a [`CellTable`] from `cells` record batches.
pub fn cells_from_batches(
    swept: &[String],
    batches: &[RecordBatch],
) -> Result<CellTable, ReportError> {
    let mut rows = Vec::new();
    for b in batches {
        let coords = coords_of(b, swept)?;
        let cell = column::<UInt32Array>(b, "cell")?;
        let round = column::<UInt32Array>(b, "round")?;
        let mech = column::<StringArray>(b, "mechanism")?;
        let reps = column::<UInt32Array>(b, "reps")?;
        let f = |n: &str| column::<Float64Array>(b, n);
        let (sr, sse, w, pc, sub, leak, data, wd, nr) = (
            f("success_rate")?,
            f("success_se")?,
            f("welfare_mean")?,
            f("privacy_cost_mean")?,
            f("subsidy_mean")?,
            f("leakage_mean")?,
            f("data_mean")?,
            f("withdrawals_mean")?,
            f("null_rate")?,
        );
        for i in 0..b.num_rows() {
            rows.push(CellRecord {
                cell: cell.value(i),
                round: round.value(i),
                coords: coords.iter().map(|c| c.value(i)).collect(),
                mechanism: mech.value(i).to_string(),
                reps: reps.value(i),
                success_rate: sr.value(i),
                success_se: sse.value(i),
                welfare_mean: w.value(i),
                privacy_cost_mean: pc.value(i),
                subsidy_mean: sub.value(i),
                leakage_mean: leak.value(i),
                data_mean: data.value(i),
                withdrawals_mean: wd.value(i),
                null_rate: nr.value(i),
            });
        }
    }
    Ok(CellTable {
        swept: swept.to_vec(),
        rows,
    })
}

/// Builds a [`DiagTable`] from `diagnostics` record batches.
pub fn diags_from_batches(
    swept: &[String],
    batches: &[RecordBatch],
) -> Result<DiagTable, ReportError> {
    let mut rows = Vec::new();
    for b in batches {
        let coords = coords_of(b, swept)?;
        let cell = column::<UInt32Array>(b, "cell")?;
        let round = column::<UInt32Array>(b, "round")?;
        let common = column::<UInt32Array>(b, "common_success_k2")?;
        let f = |n: &str| column::<Float64Array>(b, n);
        let (s2, m2, gap, loss, comp) = (
            f("s_success_k2")?,
            f("m_success_k2")?,
            f("pc_gap_mean")?,
            f("pareto_loss_share")?,
            f("pareto_compensation")?,
        );
        for i in 0..b.num_rows() {
            rows.push(DiagRecord {
                cell: cell.value(i),
                round: round.value(i),
                coords: coords.iter().map(|c| c.value(i)).collect(),
                s_success_k2: opt_f64(s2, i),
                m_success_k2: opt_f64(m2, i),
                common_success_k2: (!common.is_null(i)).then(|| common.value(i)),
                pc_gap_mean: opt_f64(gap, i),
                pareto_loss_share: opt_f64(loss, i),
                pareto_compensation: opt_f64(comp, i),
            });
        }
    }
    Ok(DiagTable {
        swept: swept.to_vec(),
        rows,
    })
}

/// Builds a [`RoundTable`] from `rounds` record batches.
pub fn rounds_from_batches(batches: &[RecordBatch]) -> Result<RoundTable, ReportError> {
    let mut rows = Vec::new();
    for b in batches {
        let cell = column::<UInt32Array>(b, "cell")?;
        let rep = column::<UInt32Array>(b, "rep")?;
        let mech = column::<StringArray>(b, "mechanism")?;
        let status = column::<StringArray>(b, "status")?;
        let success = column::<BooleanArray>(b, "success")?;
        let f = |n: &str| column::<Float64Array>(b, n);
        let (w, pc, sub, leak, data) = (
            f("welfare")?,
            f("privacy_cost")?,
            f("subsidy")?,
            f("leakage")?,
            f("data")?,
        );
        for i in 0..b.num_rows() {
            rows.push(RoundRecord {
                cell: cell.value(i),
                rep: rep.value(i),
                mechanism: mech.value(i).to_string(),
                status: status.value(i).to_string(),
                success: success.value(i),
                welfare: w.value(i),
                privacy_cost: pc.value(i),
                subsidy: sub.value(i),
                leakage: leak.value(i),
                data: data.value(i),
            });
        }
    }
    Ok(RoundTable { rows })
}
