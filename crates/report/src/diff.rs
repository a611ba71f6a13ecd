//! `datapact diff A B`: two runs of the same grid compared cell by cell, for checking a change of
//! model or version. For every statistic of `cells` that has a standard-error column (the core
//! statistics of `datapact_model::stats::Stat::WITH_SE`: success, welfare, privacy cost,
//! subsidy, leakage, data, withdrawals; then the plugins' metrics, `{m}_mean` and `{m}_se`) and every cell × mechanism × round, the difference B − A and
//! z = (B − A) / √(se_A² + se_B²). Independent runs of the same model (other seeds) give |z| of a
//! standard normal; a change of model gives large |z|.
//!
//! The result is written to `diff.parquet` (columns in [`DIFF_COLUMNS`], described in its field
//! metadata and in `docs/schema.md`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use datapact_trace::arrow::array::{
    Array, ArrayRef, Float64Array, Float64Builder, RecordBatch, StringArray, StringBuilder,
    UInt32Array,
};
use datapact_trace::arrow::datatypes::{DataType, Field, Schema};
use datapact_trace::{Table, described_field, read_table, typed_column};

use datapact_model::stats::Stat;

use crate::ReportError;

/// The columns of `diff.parquet` after the swept columns: name, type, nullable, meaning.
pub const DIFF_COLUMNS: [(&str, DataType, bool, &str); 10] = [
    (
        "round",
        DataType::UInt32,
        false,
        "Round (0-based) of the repeated game; 0 for single campaigns.",
    ),
    (
        "mechanism",
        DataType::Utf8,
        false,
        "Mechanism of the compared rows.",
    ),
    (
        "statistic",
        DataType::Utf8,
        false,
        "The `cells` column compared (e.g. success_rate, welfare_mean); its SE is the column after it.",
    ),
    (
        "value_a",
        DataType::Float64,
        true,
        "The statistic in run A; null when A's row has none (a metric not computed).",
    ),
    (
        "value_b",
        DataType::Float64,
        true,
        "The statistic in run B; null when B's row has none.",
    ),
    (
        "se_a",
        DataType::Float64,
        true,
        "Standard error of value_a.",
    ),
    (
        "se_b",
        DataType::Float64,
        true,
        "Standard error of value_b.",
    ),
    (
        "diff",
        DataType::Float64,
        true,
        "value_b − value_a; null when either is null.",
    ),
    (
        "z",
        DataType::Float64,
        true,
        "diff / max(√(se_a² + se_b²), 1e-9 × max(|value_a|, |value_b|)): about standard normal when A and B are independent runs of the same model; the floor keeps rounding-level differences (SEs of 1e-17) from counting. 0 when diff = 0; null when diff is null.",
    ),
    (
        "significant",
        DataType::Utf8,
        false,
        "\"yes\" when |z| exceeds the threshold given to `datapact diff` (--z, default 4), else \"no\".",
    ),
];

/// One compared statistic of one cell × mechanism × round.
#[derive(Clone, Debug, PartialEq)]
pub struct DiffRow {
    /// Swept values of the cell, aligned with [`Diff::swept`].
    pub coords: Vec<f64>,
    /// Round of the repeated game (0 for single campaigns).
    pub round: u32,
    /// The mechanism compared.
    pub mechanism: String,
    /// The statistic compared (a `cells` column stem).
    pub statistic: String,
    /// Run A's (mean, standard error); None = null.
    pub a: (Option<f64>, Option<f64>),
    /// Run B's (mean, standard error); None = null.
    pub b: (Option<f64>, Option<f64>),
    /// B − A, when both are present.
    pub diff: Option<f64>,
    /// The difference over √(se_A² + se_B²) (floored at rounding level): about standard normal
    /// for independent runs of the same model.
    pub z: Option<f64>,
}

/// Per statistic: rows compared, the largest |z|, and how many exceed 3 and the threshold.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StatSummary {
    /// The statistic.
    pub statistic: String,
    /// Rows compared (both values present).
    pub compared: usize,
    /// The largest |z| over them.
    pub max_abs_z: f64,
    /// How many have |z| > 3.
    pub over_3: usize,
    /// How many have |z| above [`Diff::threshold`].
    pub over_threshold: usize,
}

/// The comparison of two runs.
#[derive(Clone, Debug)]
pub struct Diff {
    /// Swept columns, in grid order.
    pub swept: Vec<String>,
    /// Per swept column, the categories of a categorical axis (whose coordinates are their
    /// positions); empty for a numeric axis.
    pub categories: Vec<Vec<String>>,
    /// One row per cell × mechanism × round × statistic.
    pub rows: Vec<DiffRow>,
    /// One summary per statistic, in declaration order.
    pub summary: Vec<StatSummary>,
    /// Distinct cells (swept points) compared.
    pub cells: usize,
    /// The |z| above which a row is flagged (`--z`).
    pub threshold: f64,
}

impl Diff {
    /// Largest |z| over every statistic (0 when nothing compared).
    pub fn max_abs_z(&self) -> f64 {
        self.summary.iter().map(|s| s.max_abs_z).fold(0.0, f64::max)
    }

    /// Rows whose |z| exceeds the threshold.
    pub fn over_threshold(&self) -> usize {
        self.summary.iter().map(|s| s.over_threshold).sum()
    }
}

/// The SE floor relative to the values' magnitude: differences this small are rounding (an
/// order of summation, a compiler's fused multiply-add), never "beyond noise".
pub const RELATIVE_SE_FLOOR: f64 = 1e-9;

/// z of the difference `b − a` with two SEs (see [`DIFF_COLUMNS`]): the SE floored at
/// [`RELATIVE_SE_FLOOR`] × max(|a|, |b|).
fn z_score(a: f64, b: f64, se_a: f64, se_b: f64) -> f64 {
    let diff = b - a;
    let se =
        datapact_model::variates::hypot(se_a, se_b).max(RELATIVE_SE_FLOOR * a.abs().max(b.abs()));
    if diff == 0.0 {
        0.0
    } else if se == 0.0 {
        f64::INFINITY.copysign(diff)
    } else {
        diff / se
    }
}

type Key = (Vec<u64>, u32, String);

/// A run's `cells` rows by [`Key`]: per statistic, (value, SE).
type Rows = BTreeMap<Key, Vec<(Option<f64>, Option<f64>)>>;

/// One run's `cells`, keyed by (swept values' bits, round, mechanism): per statistic
/// (value, se).
struct Side {
    name: String,
    swept: Vec<String>,
    categories: Vec<Vec<String>>,
    mechanisms: Vec<String>,
    statistics: Vec<(String, String)>,
    rows: Rows,
}

fn value_at(a: &Float64Array, i: usize) -> Option<f64> {
    (!a.is_null(i)).then(|| a.value(i))
}

fn load_side(dir: &Path) -> Result<Side, ReportError> {
    // Through the verified view, as every reader: a damaged or unfinished run is refused with
    // the reason, never compared as if it were whole.
    let shown = |e: datapact_trace::FileError| e.context(|e| format!("{}: {e}", dir.display()));
    let view = datapact_trace::RunView::open(dir).map_err(shown)?;
    let manifest = view.verified(&[Table::Cells]).map_err(shown)?.clone();
    let swept: Vec<String> = manifest.sweep.iter().map(|(_, c)| c.clone()).collect();
    let batches = read_table(dir, Table::Cells)?;
    if batches.is_empty() {
        return Err(ReportError::Data(format!(
            "{}: its cells table has no rows",
            dir.display()
        )));
    }
    // Every statistic with an SE, by name: the core statistics' declared columns
    // (`Stat::WITH_SE`, in column order), then each plugin metric's `{m}_mean` and `{m}_se`.
    let statistics: Vec<(String, String)> = Stat::WITH_SE
        .iter()
        .map(|s| {
            let spec = s.spec();
            let se = spec
                .se_column
                .expect("a statistic of WITH_SE has an SE column");
            (spec.column.to_string(), se.to_string())
        })
        .chain(
            manifest
                .metrics
                .iter()
                .map(|m| (format!("{m}_mean"), format!("{m}_se"))),
        )
        .collect();
    let mut rows = BTreeMap::new();
    for b in &batches {
        let coords = swept
            .iter()
            .map(|s| crate::tables::swept_values(b, Table::Cells, s, &manifest.categories))
            .collect::<Result<Vec<_>, _>>()?;
        let round = typed_column::<UInt32Array>(b, Table::Cells, "round")?;
        let mechanism = typed_column::<StringArray>(b, Table::Cells, "mechanism")?;
        let cols = statistics
            .iter()
            .map(|(v, se)| {
                Ok((
                    typed_column::<Float64Array>(b, Table::Cells, v)?,
                    typed_column::<Float64Array>(b, Table::Cells, se)?,
                ))
            })
            .collect::<Result<Vec<_>, ReportError>>()?;
        for i in 0..b.num_rows() {
            let key = (
                coords.iter().map(|c| c.value(i).to_bits()).collect(),
                round.value(i),
                mechanism.value(i).to_string(),
            );
            let values = cols
                .iter()
                .map(|(v, se)| (value_at(v, i), value_at(se, i)))
                .collect();
            rows.insert(key, values);
        }
    }
    let categories = swept
        .iter()
        .map(|c| manifest.categories.get(c).cloned().unwrap_or_default())
        .collect();
    Ok(Side {
        name: dir.display().to_string(),
        swept,
        categories,
        mechanisms: manifest.mechanisms,
        statistics,
        rows,
    })
}

/// The distinct values of swept column `k` over `rows`, sorted.
fn axis_values(rows: &Rows, k: usize) -> Vec<f64> {
    let mut v: Vec<u64> = rows.keys().map(|key| key.0[k]).collect();
    v.sort_unstable();
    v.dedup();
    let mut v: Vec<f64> = v.into_iter().map(f64::from_bits).collect();
    v.sort_by(f64::total_cmp);
    v
}

/// Why two runs are not the same grid: the first thing that differs.
fn grid_mismatch(a: &Side, b: &Side) -> Option<String> {
    if a.swept != b.swept {
        return Some(format!(
            "swept columns differ: A ({}) has [{}], B ({}) has [{}]",
            a.name,
            a.swept.join(", "),
            b.name,
            b.swept.join(", ")
        ));
    }
    if a.mechanisms != b.mechanisms {
        return Some(format!(
            "mechanisms differ: A has [{}], B has [{}]",
            a.mechanisms.join(", "),
            b.mechanisms.join(", ")
        ));
    }
    if a.statistics != b.statistics {
        let names = |s: &Side| s.statistics.iter().map(|x| x.0.clone()).collect::<Vec<_>>();
        return Some(format!(
            "statistics (cells columns with an SE) differ: A has [{}], B has [{}]",
            names(a).join(", "),
            names(b).join(", ")
        ));
    }
    // A categorical axis's coordinates are positions in its list: the lists must agree.
    for (k, column) in a.swept.iter().enumerate() {
        if a.categories[k] != b.categories[k] {
            return Some(format!(
                "values of categorical swept column `{column}` differ: A has [{}], B has [{}]",
                a.categories[k].join(", "),
                b.categories[k].join(", ")
            ));
        }
    }
    for (k, column) in a.swept.iter().enumerate() {
        let (va, vb) = (axis_values(&a.rows, k), axis_values(&b.rows, k));
        if va != vb {
            let show = |v: &[f64]| {
                v.iter()
                    .map(|x| format!("{x}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            return Some(format!(
                "values of swept column `{column}` differ: A has [{}], B has [{}]",
                show(&va),
                show(&vb)
            ));
        }
    }
    let rounds = |s: &Side| s.rows.keys().map(|k| k.1).max().unwrap_or(0);
    if rounds(a) != rounds(b) {
        return Some(format!(
            "rounds differ: A has {}, B has {}",
            rounds(a) + 1,
            rounds(b) + 1
        ));
    }
    if let Some(k) = a.rows.keys().find(|k| !b.rows.contains_key(*k)) {
        return Some(format!(
            "a row of A (round {}, mechanism {}, cell at [{}]) is not in B",
            k.1,
            k.2,
            k.0.iter()
                .map(|x| format!("{}", f64::from_bits(*x)))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    (a.rows.len() != b.rows.len()).then(|| "B has rows A has not".to_string())
}

/// Compares runs `a` and `b` (each a run directory with a `manifest.json`); `threshold` is the
/// |z| above which a row counts as significant. An error naming what differs when they are not
/// the same grid.
pub fn diff_runs(a: &Path, b: &Path, threshold: f64) -> Result<Diff, ReportError> {
    let (sa, sb) = (load_side(a)?, load_side(b)?);
    if let Some(why) = grid_mismatch(&sa, &sb) {
        return Err(ReportError::Data(format!("not the same grid: {why}")));
    }
    let mut summary: Vec<StatSummary> = sa
        .statistics
        .iter()
        .map(|(s, _)| StatSummary {
            statistic: s.clone(),
            ..StatSummary::default()
        })
        .collect();
    let mut rows = Vec::with_capacity(sa.rows.len() * summary.len());
    for (key, va) in &sa.rows {
        let vb = &sb.rows[key];
        for (k, (&x, &y)) in va.iter().zip(vb).enumerate() {
            let diff = x.0.zip(y.0).map(|(x, y)| y - x);
            let z =
                x.0.zip(y.0)
                    .map(|(a, b)| z_score(a, b, x.1.unwrap_or(0.0), y.1.unwrap_or(0.0)));
            if let Some(z) = z {
                let s = &mut summary[k];
                s.compared += 1;
                s.max_abs_z = s.max_abs_z.max(z.abs());
                s.over_3 += (z.abs() > 3.0) as usize;
                s.over_threshold += (z.abs() > threshold) as usize;
            }
            rows.push(DiffRow {
                coords: key.0.iter().map(|x| f64::from_bits(*x)).collect(),
                round: key.1,
                mechanism: key.2.clone(),
                statistic: sa.statistics[k].0.clone(),
                a: x,
                b: y,
                diff,
                z,
            });
        }
    }
    let cells = {
        let mut points: Vec<&Vec<u64>> = sa.rows.keys().map(|k| &k.0).collect();
        points.dedup();
        points.len()
    };
    Ok(Diff {
        swept: sa.swept,
        categories: sa.categories,
        rows,
        summary,
        cells,
        threshold,
    })
}

/// The Arrow record batch of `diff.parquet`.
pub fn diff_batch(d: &Diff) -> RecordBatch {
    let mut fields: Vec<Field> = d
        .swept
        .iter()
        .zip(&d.categories)
        .map(|(c, labels)| {
            if labels.is_empty() {
                described_field(
                    c,
                    DataType::Float64,
                    false,
                    &format!("Swept parameter `{c}`: its value in this cell."),
                )
            } else {
                described_field(
                    c,
                    DataType::Utf8,
                    false,
                    &format!("Swept categorical key `{c}`: its value in this cell."),
                )
            }
        })
        .collect();
    fields.extend(
        DIFF_COLUMNS
            .iter()
            .map(|(n, t, nullable, what)| described_field(n, t.clone(), *nullable, what)),
    );
    let f64s = |f: &dyn Fn(&DiffRow) -> Option<f64>| -> ArrayRef {
        let mut b = Float64Builder::with_capacity(d.rows.len());
        d.rows.iter().for_each(|r| b.append_option(f(r)));
        Arc::new(b.finish())
    };
    let strings = |f: &dyn Fn(&DiffRow) -> String| -> ArrayRef {
        let mut b = StringBuilder::new();
        d.rows.iter().for_each(|r| b.append_value(f(r)));
        Arc::new(b.finish())
    };
    let mut cols: Vec<ArrayRef> = (0..d.swept.len())
        .map(|k| match d.categories.get(k).filter(|l| !l.is_empty()) {
            Some(labels) => strings(&|r: &DiffRow| {
                labels
                    .get(r.coords[k] as usize)
                    .cloned()
                    .unwrap_or_default()
            }),
            None => f64s(&|r: &DiffRow| Some(r.coords[k])),
        })
        .collect();
    cols.push(Arc::new(UInt32Array::from_iter_values(
        d.rows.iter().map(|r| r.round),
    )));
    cols.push(strings(&|r: &DiffRow| r.mechanism.clone()));
    cols.push(strings(&|r: &DiffRow| r.statistic.clone()));
    cols.push(f64s(&|r: &DiffRow| r.a.0));
    cols.push(f64s(&|r: &DiffRow| r.b.0));
    cols.push(f64s(&|r: &DiffRow| r.a.1));
    cols.push(f64s(&|r: &DiffRow| r.b.1));
    cols.push(f64s(&|r: &DiffRow| r.diff));
    cols.push(f64s(&|r: &DiffRow| r.z));
    let t = d.threshold;
    cols.push(strings(&|r: &DiffRow| {
        if r.z.is_some_and(|z| z.abs() > t) {
            "yes".into()
        } else {
            "no".into()
        }
    }));
    RecordBatch::try_new(Arc::new(Schema::new(fields)), cols)
        .expect("diff columns match their schema")
}

/// Whether `path` is a diff this writes (its `datapact.table` metadata says `diff`): the only
/// file [`write_diff`] replaces.
fn is_diff(path: &Path) -> bool {
    datapact_trace::read_metadata(path)
        .is_ok_and(|m| m.get(datapact_trace::keys::TABLE).map(String::as_str) == Some("diff"))
}

/// Writes `d` to `path` (Parquet), atomically: a temporary file renamed into place. `path` is
/// claimed first: created, or replaced only if it is an earlier diff; never inside a run but
/// directly in its directory.
pub fn write_diff(d: &Diff, path: &Path) -> Result<PathBuf, ReportError> {
    datapact_trace::claim::claim_output_file(path, "diff", is_diff)?;
    let batch = diff_batch(d);
    datapact_trace::write_table_file(path, "diff", &batch, &[])?;
    Ok(path.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::z_score;

    #[test]
    fn rounding_is_never_a_difference_but_a_real_one_is() {
        // A 1-ulp difference with SEs of 1e-17 (a degenerate statistic): before the floor,
        // |z| = 7.8, "beyond noise".
        let a = 0.7_f64;
        let b = f64::from_bits(a.to_bits() + 1);
        assert!(z_score(a, b, 1e-17, 1e-17).abs() < 1e-6);
        assert_eq!(z_score(a, a, 0.0, 0.0), 0.0);
        // Differences far above the floor keep their z, with SEs or without.
        assert!((z_score(0.5, 0.6, 0.01, 0.0) - 10.0).abs() < 1e-9);
        assert!(z_score(0.5, 0.5 + 1e-6, 0.0, 0.0) > 1000.0);
        assert!(z_score(0.0, 1e-300, 0.0, 0.0) > 1e8);
    }
}
