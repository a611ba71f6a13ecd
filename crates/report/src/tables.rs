//! Small typed tables loaded from the Parquet outputs through Arrow.
//!
//! Only the columns the figures and claims need are kept; they are read through the typed
//! column readers that `datapact-trace` generates from its column declarations, so a renamed or
//! retyped column is a compile error here, not a runtime one; the statistic columns are read by
//! the names the model's statistic declarations give them (`Stat::spec`). Swept columns are carried as
//! `coords` in the order of [`CellTable::swept`] (etc.), so a table from any scenario loads.

use std::collections::BTreeMap;

use datapact_model::stats::Stat;
use datapact_trace::arrow::array::{Array, Float64Array, RecordBatch, StringArray};
use datapact_trace::{
    CellsColumns, ContrastsColumns, DiagnosticsColumns, RoundsColumns, Table, typed_column,
};

use crate::ReportError;

/// One row of `cells`: one cell × mechanism.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CellRecord {
    /// The cell's index in the run's grid.
    pub cell: u32,
    /// Round of the repeated game (0 for single campaigns).
    pub round: u32,
    /// Swept values, aligned with the table's `swept` names.
    pub coords: Vec<f64>,
    /// The mechanism of this row (`"C"`, `"S"`, …).
    pub mechanism: String,
    /// Replications aggregated in this row.
    pub reps: u32,
    /// Fraction of its campaigns that succeeded.
    pub success_rate: f64,
    /// Standard error of `success_rate`.
    pub success_se: f64,
    /// Mean social welfare per campaign.
    pub welfare_mean: f64,
    /// Mean privacy cost borne per campaign.
    pub privacy_cost_mean: f64,
    /// Mean subsidy paid per campaign.
    pub subsidy_mean: f64,
    /// Mean subsidy paid in campaigns where the model did not improve.
    pub leakage_mean: f64,
    /// Standard error of `leakage_mean`.
    pub leakage_se: f64,
    /// Mean data collected per campaign.
    pub data_mean: f64,
    /// Mean number of withdrawals per campaign.
    pub withdrawals_mean: f64,
    /// Fraction of campaigns that ended in a null outcome (unsustainable: no data, no payment).
    pub null_rate: f64,
}

/// The `cells` table of one run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CellTable {
    /// Names of the swept columns, e.g. `["value", "payment"]`.
    pub swept: Vec<String>,
    /// The rows, in table order.
    pub rows: Vec<CellRecord>,
}

/// One row of `diagnostics`: one cell.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DiagRecord {
    /// The cell's index in the run's grid.
    pub cell: u32,
    /// Round of the repeated game (0 for single campaigns).
    pub round: u32,
    /// Swept values, aligned with the table's `swept` names.
    pub coords: Vec<f64>,
    /// Pr(S succeeds with at least 2 backstoppers); None when S was not run.
    pub s_success_k2: Option<f64>,
    /// Pr(M succeeds with at least 2 backstoppers); None when M was not run.
    pub m_success_k2: Option<f64>,
    /// Replications where both S and M succeed with at least 2 backstoppers; None when S or M
    /// was not run.
    pub common_success_k2: Option<u32>,
    /// Mean of PC(M) − PC(S) over the common-success replications; None when fewer than 30
    /// (masked) or not computable.
    pub pc_gap_mean: Option<f64>,
    /// Standard error of `pc_gap_mean` (None when it is null).
    pub pc_gap_se: Option<f64>,
    /// Mean share of users whose utility under M is below their utility under C; None when M or
    /// C was not run.
    pub pareto_loss_share: Option<f64>,
    /// Mean per-user compensation (1/n)·Σ max(0, u_C − u_M) that removes every loss of M vs C.
    pub pareto_compensation: Option<f64>,
}

/// The `diagnostics` table of one run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DiagTable {
    /// Names of the swept columns, e.g. `["value", "payment"]`.
    pub swept: Vec<String>,
    /// The rows, in table order.
    pub rows: Vec<DiagRecord>,
}

/// A paired difference A − B over a cell's replications and its standard error.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Paired {
    /// The mean of A − B.
    pub diff: f64,
    /// Its standard error.
    pub se: f64,
}

/// One row of `contrasts`: one cell × ordered pair of mechanisms (A − B on the same draws).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ContrastRecord {
    /// The cell's index in the run's grid.
    pub cell: u32,
    /// Round of the repeated game (0 for single campaigns).
    pub round: u32,
    /// Swept values, aligned with the table's `swept` names.
    pub coords: Vec<f64>,
    /// Mechanism A of the difference A − B.
    pub a: String,
    /// Mechanism B of the difference A − B.
    pub b: String,
    /// Replications paired.
    pub reps: u32,
    /// Success rate, A − B.
    pub success: Paired,
    /// Welfare, A − B.
    pub welfare: Paired,
    /// Privacy cost, A − B.
    pub privacy_cost: Paired,
    /// Subsidy paid, A − B.
    pub subsidy: Paired,
}

/// The `contrasts` table of one run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ContrastTable {
    /// Names of the swept columns, in grid order.
    pub swept: Vec<String>,
    /// The rows, in table order.
    pub rows: Vec<ContrastRecord>,
}

impl ContrastTable {
    /// The value of swept column `name` in `row` (None if the column is not swept).
    pub fn coord(&self, row: &ContrastRecord, name: &str) -> Option<f64> {
        swept_index(&self.swept, name).and_then(|i| row.coords.get(i).copied())
    }

    /// Rows of the contrast `a` − `b`, in table order.
    pub fn pair<'a>(&'a self, a: &'a str, b: &'a str) -> impl Iterator<Item = &'a ContrastRecord> {
        self.rows.iter().filter(move |r| r.a == a && r.b == b)
    }
}

/// One row of `rounds`: one campaign × mechanism.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RoundRecord {
    /// The cell's index in the run's grid.
    pub cell: u32,
    /// The replication (campaign) within the cell.
    pub rep: u32,
    /// The mechanism that ran the campaign.
    pub mechanism: String,
    /// "success", "failure" or "null".
    pub status: String,
    /// Whether the campaign succeeded (the model improved).
    pub success: bool,
    /// Its social welfare.
    pub welfare: f64,
    /// The privacy cost its users bore.
    pub privacy_cost: f64,
    /// The subsidy it paid.
    pub subsidy: f64,
    /// The subsidy it paid without improvement.
    pub leakage: f64,
    /// The data it collected.
    pub data: f64,
}

/// The `rounds` table of one run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RoundTable {
    /// The campaigns, in table order.
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
    /// The value of swept column `name` in `row` (None if the column is not swept).
    pub fn coord(&self, row: &DiagRecord, name: &str) -> Option<f64> {
        swept_index(&self.swept, name).and_then(|i| row.coords.get(i).copied())
    }
}

fn opt_f64(a: &Float64Array, i: usize) -> Option<f64> {
    (!a.is_null(i)).then(|| a.value(i))
}

/// One swept column of a batch, read as numbers: a numeric (Float64) column's values, or for a
/// categorical (Utf8) column each value's position in its axis (`manifest.json`'s
/// `categories`), so that figures and claims treat every axis alike.
pub enum SweptValues<'a> {
    /// A numeric axis.
    Number(&'a Float64Array),
    /// A categorical axis: its labels, with their positions.
    Category(Vec<f64>),
}

impl SweptValues<'_> {
    /// The value (or category position) of row `i`.
    pub fn value(&self, i: usize) -> f64 {
        match self {
            SweptValues::Number(a) => a.value(i),
            SweptValues::Category(v) => v[i],
        }
    }
}

/// Swept column `name` of a `table` batch (see [`SweptValues`]); an error naming the column
/// and the label when a categorical value is not one of the manifest's.
pub fn swept_values<'a>(
    batch: &'a RecordBatch,
    table: Table,
    name: &str,
    categories: &BTreeMap<String, Vec<String>>,
) -> Result<SweptValues<'a>, ReportError> {
    let Some(labels) = categories.get(name) else {
        return Ok(SweptValues::Number(typed_column::<Float64Array>(
            batch, table, name,
        )?));
    };
    let a = typed_column::<StringArray>(batch, table, name)?;
    let positions = (0..a.len())
        .map(|i| {
            let v = a.value(i);
            labels.iter().position(|l| l == v).map(|p| p as f64).ok_or_else(|| {
                ReportError::Data(format!(
                    "{}: categorical column `{name}` holds {v:?}, not one of the manifest's values ({})",
                    table.dir_name(),
                    labels.join(", ")
                ))
            })
        })
        .collect::<Result<_, _>>()?;
    Ok(SweptValues::Category(positions))
}

/// The swept columns of a `table` batch, in `swept` order.
fn coords_of<'a>(
    batch: &'a RecordBatch,
    table: Table,
    swept: &[String],
    categories: &BTreeMap<String, Vec<String>>,
) -> Result<Vec<SweptValues<'a>>, ReportError> {
    swept
        .iter()
        .map(|s| swept_values(batch, table, s, categories))
        .collect()
}

/// Builds a [`CellTable`] from `cells` record batches.
pub fn cells_from_batches(
    swept: &[String],
    categories: &BTreeMap<String, Vec<String>>,
    batches: &[RecordBatch],
) -> Result<CellTable, ReportError> {
    let mut rows = Vec::new();
    for b in batches {
        let coords = coords_of(b, Table::Cells, swept, categories)?;
        let c = CellsColumns::new(b)?;
        // The statistic columns, by the names the model declares.
        let mean = |s: Stat| typed_column::<Float64Array>(b, Table::Cells, s.column());
        let se = |s: Stat| {
            let column = s.spec().se_column.unwrap_or_default();
            typed_column::<Float64Array>(b, Table::Cells, column)
        };
        let (success, success_se) = (mean(Stat::Success)?, se(Stat::Success)?);
        let (welfare, privacy_cost) = (mean(Stat::Welfare)?, mean(Stat::PrivacyCost)?);
        let (subsidy, data) = (mean(Stat::Subsidy)?, mean(Stat::Data)?);
        let (leakage, leakage_se) = (mean(Stat::Leakage)?, se(Stat::Leakage)?);
        let (withdrawals, null) = (mean(Stat::Withdrawals)?, mean(Stat::Null)?);
        for i in 0..b.num_rows() {
            rows.push(CellRecord {
                cell: c.cell.value(i),
                round: c.round.value(i),
                coords: coords.iter().map(|x| x.value(i)).collect(),
                mechanism: c.mechanism.value(i).to_string(),
                reps: c.reps.value(i),
                success_rate: success.value(i),
                success_se: success_se.value(i),
                welfare_mean: welfare.value(i),
                privacy_cost_mean: privacy_cost.value(i),
                subsidy_mean: subsidy.value(i),
                leakage_mean: leakage.value(i),
                leakage_se: leakage_se.value(i),
                data_mean: data.value(i),
                withdrawals_mean: withdrawals.value(i),
                null_rate: null.value(i),
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
    categories: &BTreeMap<String, Vec<String>>,
    batches: &[RecordBatch],
) -> Result<DiagTable, ReportError> {
    let mut rows = Vec::new();
    for b in batches {
        let coords = coords_of(b, Table::Diagnostics, swept, categories)?;
        let c = DiagnosticsColumns::new(b)?;
        for i in 0..b.num_rows() {
            rows.push(DiagRecord {
                cell: c.cell.value(i),
                round: c.round.value(i),
                coords: coords.iter().map(|x| x.value(i)).collect(),
                s_success_k2: opt_f64(c.s_success_k2, i),
                m_success_k2: opt_f64(c.m_success_k2, i),
                common_success_k2: (!c.common_success_k2.is_null(i))
                    .then(|| c.common_success_k2.value(i)),
                pc_gap_mean: opt_f64(c.pc_gap_mean, i),
                pc_gap_se: opt_f64(c.pc_gap_se, i),
                pareto_loss_share: opt_f64(c.pareto_loss_share, i),
                pareto_compensation: opt_f64(c.pareto_compensation, i),
            });
        }
    }
    Ok(DiagTable {
        swept: swept.to_vec(),
        rows,
    })
}

/// Builds a [`ContrastTable`] from `contrasts` record batches.
pub fn contrasts_from_batches(
    swept: &[String],
    categories: &BTreeMap<String, Vec<String>>,
    batches: &[RecordBatch],
) -> Result<ContrastTable, ReportError> {
    let mut rows = Vec::new();
    for b in batches {
        let coords = coords_of(b, Table::Contrasts, swept, categories)?;
        let c = ContrastsColumns::new(b)?;
        // `{stem}_diff` and `{stem}_diff_se` of a contrasted statistic, by its declared stem.
        let columns = |s: Stat| -> Result<_, ReportError> {
            let stem = s.spec().stem;
            let column = |name: String| typed_column::<Float64Array>(b, Table::Contrasts, &name);
            Ok((
                column(format!("{stem}_diff"))?,
                column(format!("{stem}_diff_se"))?,
            ))
        };
        let (success, welfare) = (columns(Stat::Success)?, columns(Stat::Welfare)?);
        let (privacy_cost, subsidy) = (columns(Stat::PrivacyCost)?, columns(Stat::Subsidy)?);
        let paired = |(d, se): (&Float64Array, &Float64Array), i: usize| Paired {
            diff: d.value(i),
            se: se.value(i),
        };
        for i in 0..b.num_rows() {
            rows.push(ContrastRecord {
                cell: c.cell.value(i),
                round: c.round.value(i),
                coords: coords.iter().map(|x| x.value(i)).collect(),
                a: c.mechanism_a.value(i).to_string(),
                b: c.mechanism_b.value(i).to_string(),
                reps: c.reps.value(i),
                success: paired(success, i),
                welfare: paired(welfare, i),
                privacy_cost: paired(privacy_cost, i),
                subsidy: paired(subsidy, i),
            });
        }
    }
    Ok(ContrastTable {
        swept: swept.to_vec(),
        rows,
    })
}

/// Builds a [`RoundTable`] from `rounds` record batches.
pub fn rounds_from_batches(batches: &[RecordBatch]) -> Result<RoundTable, ReportError> {
    let mut rows = Vec::new();
    for b in batches {
        let c = RoundsColumns::new(b)?;
        // A statistic's column, named by its declared stem.
        let value = |s: Stat| typed_column::<Float64Array>(b, Table::Rounds, s.spec().stem);
        let (welfare, privacy_cost) = (value(Stat::Welfare)?, value(Stat::PrivacyCost)?);
        let (subsidy, leakage, data) = (
            value(Stat::Subsidy)?,
            value(Stat::Leakage)?,
            value(Stat::Data)?,
        );
        for i in 0..b.num_rows() {
            rows.push(RoundRecord {
                cell: c.cell.value(i),
                rep: c.rep.value(i),
                mechanism: c.mechanism.value(i).to_string(),
                status: c.status.value(i).to_string(),
                success: c.success.value(i),
                welfare: welfare.value(i),
                privacy_cost: privacy_cost.value(i),
                subsidy: subsidy.value(i),
                leakage: leakage.value(i),
                data: data.value(i),
            });
        }
    }
    Ok(RoundTable { rows })
}
