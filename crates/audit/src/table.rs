//! The audit's two Parquet tables, `deviations/` and `equilibria/`: each column declared once
//! ([`DEVIATIONS`], [`EQUILIBRIA`]) with its type and meaning; the Arrow schema, the writer and
//! the column tables of `docs/schema.md` (kept in sync by a test) derive from those lists.

use std::path::Path;
use std::sync::Arc;

use arrow::array::{ArrayRef, BooleanArray, Float64Array, RecordBatch, StringArray, UInt32Array};
use arrow::datatypes::{DataType, Field, Schema};

use crate::AuditError;

/// The type of a column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ty {
    /// `uint32`.
    U32,
    /// `float64`.
    F64,
    /// `utf8`.
    Str,
    /// `bool`.
    Bool,
}

/// One cell of a row.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// A `uint32` cell.
    U32(u32),
    /// A `float64` cell.
    F64(f64),
    /// A `utf8` cell.
    Str(String),
    /// A `bool` cell.
    Bool(bool),
}

/// A column: name, type, meaning.
pub type Column = (&'static str, Ty, &'static str);

/// A table: its directory name, what a row is, its columns.
pub struct TableDecl {
    /// Directory under the audit's output directory.
    pub name: &'static str,
    /// What one row is.
    pub row: &'static str,
    /// The columns, in schema order.
    pub columns: &'static [Column],
}

// Columns several tables share.
const CELL: Column = (
    "cell",
    Ty::U32,
    "cell index (the paper's V × p grid, or the audited scenario's own cells)",
);
const VALUE: Column = ("value", Ty::F64, "V");
const PAYMENT: Column = ("payment", Ty::F64, "p");
const MECHANISM: Column = (
    "mechanism",
    Ty::Str,
    "an audited mechanism: one with reports or withdrawal (S, M, `vcg`, plugins', named variants)",
);
const RESIDUAL_SE: Column = ("residual_se", Ty::F64, "its standard error");
const SUCCESS_RATE: Column = (
    "success_rate",
    Ty::F64,
    "success rate under the final profile",
);
const WELFARE_MEAN: Column = (
    "welfare_mean",
    Ty::F64,
    "mean welfare under the final profile",
);
const TRUTHFUL_SUCCESS: Column = (
    "truthful_success_rate",
    Ty::F64,
    "success rate when everyone is truthful and sincere (same draws)",
);
const TRUTHFUL_WELFARE: Column = (
    "truthful_welfare_mean",
    Ty::F64,
    "mean welfare when everyone is truthful and sincere (same draws)",
);

/// `deviations/`: one row per cell × mechanism × deviation × deviator's cost quantile.
pub const DEVIATIONS: TableDecl = TableDecl {
    name: "deviations",
    row: "cell × audited mechanism × unilateral deviation × deviator's cost quantile",
    columns: &[
        CELL,
        VALUE,
        PAYMENT,
        MECHANISM,
        (
            "deviation",
            Ty::Str,
            "`report ×F` (report F × true cost, sincere withdrawal) or a withdraw rule with truthful reports: `free-rider`, `pivotal`, `never-withdraw`",
        ),
        ("report_factor", Ty::F64, "F (1 for withdraw deviations)"),
        ("withdraw", Ty::Str, "the deviator's withdraw rule"),
        (
            "cost_quantile",
            Ty::F64,
            "the deviator is the user at this quantile of true cost in each campaign",
        ),
        ("replications", Ty::U32, "campaigns averaged"),
        (
            "gain_mean",
            Ty::F64,
            "mean of U_i(deviation) − U_i(truthful, sincere), everyone else truthful and sincere, same draws",
        ),
        ("gain_se", Ty::F64, "its standard error"),
        (
            "pays_share",
            Ty::F64,
            "share of campaigns where the gain is > 1e-12",
        ),
        (
            "best",
            Ty::Bool,
            "the best response of this cell × mechanism × quantile: the largest gain_mean, if > 0 and > 2 gain_se (no row is best when truthful-sincere is)",
        ),
    ],
};

/// `equilibria/`: one row per cell × mechanism.
pub const EQUILIBRIA: TableDecl = TableDecl {
    name: "equilibria",
    row: "cell × audited mechanism: symmetric best-response dynamics from truthful-sincere",
    columns: &[
        CELL,
        VALUE,
        PAYMENT,
        MECHANISM,
        (
            "status",
            Ty::Str,
            "`fixed` (no deviation gains > 2 SE), `cycle` (a profile recurred) or `limit` (max_rounds reached)",
        ),
        ("rounds", Ty::U32, "population-wide switches made"),
        (
            "report_factor",
            Ty::F64,
            "the final profile's report factor (everyone)",
        ),
        (
            "withdraw",
            Ty::Str,
            "the final profile's withdraw rule (everyone)",
        ),
        (
            "residual_gain",
            Ty::F64,
            "the largest mean gain of a unilateral deviation from the final profile",
        ),
        RESIDUAL_SE,
        SUCCESS_RATE,
        WELFARE_MEAN,
        TRUTHFUL_SUCCESS,
        TRUTHFUL_WELFARE,
    ],
};

/// `equilibria_bins/`: one row per cell × mechanism × cost bin.
pub const EQUILIBRIA_BINS: TableDecl = TableDecl {
    name: "equilibria_bins",
    row: "cell × audited mechanism × cost bin: Gauss–Seidel best responses of cost-dependent profiles from truthful-sincere (the cell's columns repeated in each of its bins' rows)",
    columns: &[
        CELL,
        VALUE,
        PAYMENT,
        MECHANISM,
        ("bins", Ty::U32, "B, the number of cost bins"),
        (
            "bin",
            Ty::U32,
            "this row's bin b: the users of cost rank r (ascending, ties by index) with ⌊r·B/n⌋ = b",
        ),
        ("quantile_low", Ty::F64, "b/B"),
        ("quantile_high", Ty::F64, "(b + 1)/B"),
        (
            "report_factor",
            Ty::F64,
            "the bin's report factor in the final profile (report = factor × true cost)",
        ),
        (
            "withdraw",
            Ty::Str,
            "the bin's withdraw rule in the final profile",
        ),
        (
            "converged",
            Ty::Bool,
            "a sweep switched no bin (no bin's deviation gains > 0 and > 2 SE)",
        ),
        (
            "status",
            Ty::Str,
            "`converged`, `cycle` (a profile recurred after a sweep) or `limit` (max_sweeps reached)",
        ),
        (
            "sweeps",
            Ty::U32,
            "sweeps made (each evaluates every bin once)",
        ),
        ("switches", Ty::U32, "bin switches made"),
        (
            "last_switch",
            Ty::Str,
            "the last switch: sweep, bin, from → to, its gain ± SE (empty if none)",
        ),
        (
            "residual_gain",
            Ty::F64,
            "the largest mean gain of a unilateral bin deviation from the final profile",
        ),
        RESIDUAL_SE,
        ("residual_bin", Ty::U32, "the bin of that deviation"),
        ("replications", Ty::U32, "campaigns per evaluation"),
        SUCCESS_RATE,
        ("success_se", Ty::F64, "its standard error"),
        WELFARE_MEAN,
        ("welfare_se", Ty::F64, "its standard error"),
        (
            "privacy_cost_mean",
            Ty::F64,
            "mean privacy cost borne under the final profile",
        ),
        ("privacy_cost_se", Ty::F64, "its standard error"),
        TRUTHFUL_SUCCESS,
        ("truthful_success_se", Ty::F64, "its standard error"),
        TRUTHFUL_WELFARE,
        ("truthful_welfare_se", Ty::F64, "its standard error"),
        (
            "truthful_privacy_cost_mean",
            Ty::F64,
            "mean privacy cost when everyone is truthful and sincere (same draws)",
        ),
        ("truthful_privacy_cost_se", Ty::F64, "its standard error"),
    ],
};

fn wrong(table: &str, column: &str) -> ! {
    panic!("{table}.{column}: value of the wrong type")
}

impl TableDecl {
    fn schema(&self) -> Arc<Schema> {
        Arc::new(Schema::new(
            self.columns
                .iter()
                .map(|(name, ty, _)| {
                    let dt = match ty {
                        Ty::U32 => DataType::UInt32,
                        Ty::F64 => DataType::Float64,
                        Ty::Str => DataType::Utf8,
                        Ty::Bool => DataType::Boolean,
                    };
                    Field::new(*name, dt, false)
                })
                .collect::<Vec<_>>(),
        ))
    }

    /// The rows as one record batch.
    ///
    /// # Panics
    /// If a row does not match the declared columns (a bug of this crate, caught by its tests).
    pub fn batch(&self, rows: &[Vec<Value>]) -> RecordBatch {
        let arrays: Vec<ArrayRef> = self
            .columns
            .iter()
            .enumerate()
            .map(|(k, (name, ty, _))| {
                let cell = |r: &Vec<Value>| r[k].clone();
                match ty {
                    Ty::U32 => Arc::new(UInt32Array::from_iter_values(rows.iter().map(
                        |r| match cell(r) {
                            Value::U32(v) => v,
                            _ => wrong(self.name, name),
                        },
                    ))) as ArrayRef,
                    Ty::F64 => {
                        Arc::new(Float64Array::from_iter_values(rows.iter().map(
                            |r| match cell(r) {
                                Value::F64(v) => v,
                                _ => wrong(self.name, name),
                            },
                        )))
                    }
                    Ty::Str => Arc::new(StringArray::from_iter_values(rows.iter().map(
                        |r| match cell(r) {
                            Value::Str(v) => v,
                            _ => wrong(self.name, name),
                        },
                    ))),
                    Ty::Bool => {
                        Arc::new(BooleanArray::from_iter(rows.iter().map(|r| {
                            match cell(r) {
                                Value::Bool(v) => Some(v),
                                _ => wrong(self.name, name),
                            }
                        })))
                    }
                }
            })
            .collect();
        RecordBatch::try_new(self.schema(), arrays).expect("columns match the schema")
    }

    /// Writes the rows to `out/<name>/part-00000.parquet` through the one Parquet path
    /// ([`datapact_trace::write_table_file`]: a hidden temporary with a random name, created
    /// exclusively (never through a planted symlink), renamed when complete, deleted if the
    /// write fails or a signal ends the process; `datapact.table` = `<name>`).
    pub fn write(&self, out: &Path, rows: &[Vec<Value>]) -> Result<(), AuditError> {
        let dir = out.join(self.name);
        std::fs::create_dir_all(&dir).map_err(|e| AuditError::io(&dir, e))?;
        let path = dir.join("part-00000.parquet");
        let batch = self.batch(rows);
        datapact_trace::write_table_file(&path, self.name, &batch, &[])?;
        Ok(())
    }

    /// The table's section of `docs/schema.md`.
    pub fn markdown(&self) -> String {
        let mut s = format!(
            "### `{}/` (written by `datapact audit`)\n\nOne row per {}.\n\n| column | type | meaning |\n|---|---|---|\n",
            self.name, self.row
        );
        for (name, ty, doc) in self.columns {
            let ty = match ty {
                Ty::U32 => "uint32",
                Ty::F64 => "float64",
                Ty::Str => "utf8",
                Ty::Bool => "bool",
            };
            s.push_str(&format!("| `{name}` | {ty} | {doc} |\n"));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docs_schema_md_lists_the_audit_tables() {
        let doc = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/schema.md"),
        )
        .unwrap();
        for t in [&DEVIATIONS, &EQUILIBRIA, &EQUILIBRIA_BINS] {
            assert!(
                doc.contains(&t.markdown()),
                "docs/schema.md must contain, verbatim:\n{}",
                t.markdown()
            );
        }
    }
}
