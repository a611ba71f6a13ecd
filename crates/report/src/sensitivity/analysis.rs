//! Reading a designed run and analysing each response (a mechanism, or a contrast) per grid cell.

use std::path::Path;

use datapact_trace::arrow::array::{Array, Float64Array, StringArray, UInt32Array};
use datapact_trace::arrow::datatypes::DataType;
use datapact_trace::manifest::DesignRecord;
use datapact_trace::{CellsColumns, Table, read_table};

use super::estimators::{Index, morris_effects, sobol_indices, sobol_second_order};
use crate::ReportError;

/// What to analyse: a `cells` column, for one mechanism, optionally minus another's.
#[derive(Clone, Debug)]
pub struct Request {
    /// A `cells` column, e.g. `welfare_mean` or `success_rate`.
    pub metric: String,
    /// The mechanism whose value is analysed; every mechanism of the run when `None`.
    pub mechanism: Option<String>,
    /// A mechanism whose value is subtracted (the contrast `mechanism − minus`).
    pub minus: Option<String>,
    /// Also the second-order Sobol indices of each pair of axes (Sobol designs only).
    pub second_order: bool,
}

/// The indices of one response (a mechanism, or a contrast) in one grid cell.
#[derive(Clone, Debug)]
pub struct Response {
    /// The mechanism, or `M-S` for a contrast.
    pub mechanism: String,
    /// Whether it is a contrast (`mechanism − minus`): drawn in the contrasts' colours.
    pub contrast: bool,
    /// Index of the grid cell the design is crossed with (0 without a grid).
    pub grid_cell: u32,
    /// One entry per design axis: its output column and its indices.
    pub axes: Vec<(String, Vec<Index>)>,
    /// Second-order indices (`S2`), one per pair of axes in design order, when asked for.
    pub pairs: Vec<(String, String, Index)>,
    /// The share of the analysed values' variance across points that is replication noise:
    /// mean SE² over the points / their variance (the paired SE for a contrast). `None` when the
    /// metric has no SE column.
    pub noise_share: Option<f64>,
}

/// A run's sensitivity analysis.
#[derive(Clone, Debug)]
pub struct Analysis {
    /// The run's scenario name.
    pub scenario: String,
    /// `sobol` or `morris`.
    pub method: String,
    /// The analysed column.
    pub metric: String,
    /// Every response.
    pub responses: Vec<Response>,
    /// What the reader should know about the design (a Sobol sample count that is not a power
    /// of 2); the command line prints each to stderr.
    pub warnings: Vec<String>,
}

/// Analyses the run in `dir` (a Sobol or Morris design): the last round of its `cells` table.
///
/// # Errors
/// If the run is unfinished or damaged (through the verified view: every cells part checked
/// against the manifest, the manifest against `_run.json`), a value is missing; refused
/// ([`ReportError::Refused`], exit 2) if the run has no such design, or the metric or a
/// mechanism is not in it.
pub fn analyze(dir: &Path, request: &Request) -> Result<Analysis, ReportError> {
    let shown = dir.display();
    // Through the verified view, as every reader: a part replaced by another run's, a stray
    // part or a manifest edited against `_run.json` is refused, never analysed.
    let view =
        datapact_trace::RunView::open(dir).map_err(|e| e.context(|e| format!("{shown}: {e}")))?;
    let manifest = view.verified(&[Table::Cells])?.clone();
    let Some(design) = manifest.design.clone() else {
        return Err(ReportError::Refused(format!(
            "{shown}: the run has no [design] (sensitivity needs kind = \"sobol\" or \"morris\")"
        )));
    };
    if design.kind != "sobol" && design.kind != "morris" {
        return Err(ReportError::Refused(format!(
            "{shown}: sensitivity needs a design of kind \"sobol\" or \"morris\", found \"{}\"",
            design.kind
        )));
    }
    for m in request.mechanism.iter().chain(&request.minus) {
        if !manifest.mechanisms.contains(m) {
            return Err(ReportError::Refused(format!(
                "{shown}: mechanism `{m}` is not in the run; it has {}",
                manifest.mechanisms.join(", ")
            )));
        }
    }
    if request.second_order && design.kind != "sobol" {
        return Err(ReportError::Refused(format!(
            "{shown}: second-order indices need a design of kind \"sobol\", found \"{}\"",
            design.kind
        )));
    }
    if request.second_order && design.first_order_only {
        return Err(ReportError::Refused(format!(
            "{shown}: second-order indices need the BA blocks, and this Sobol design was run with \
             [design] second_order = false (N·(D + 2) points); run it without that key"
        )));
    }
    let mut warnings = Vec::new();
    if design.kind == "sobol" && !design.samples.is_power_of_two() {
        warnings.push(format!(
            "the Sobol design has {} base samples, not a power of 2: the Sobol sequence is \
             balanced only at powers of 2 and the indices converge more slowly",
            design.samples
        ));
    }
    if request.minus.is_some() && request.mechanism.is_none() {
        return Err(ReportError::Refused(
            "--minus needs --mechanism (the contrast is mechanism − minus)".into(),
        ));
    }
    let values = read_metric(dir, &manifest.mechanisms, &request.metric, manifest.cells)?;
    // The SE of each value, for the noise share (absent for a metric without an SE column).
    let ses = se_column(&request.metric).and_then(|(cells_se, diff_se)| match &request.minus {
        None => read_metric(dir, &manifest.mechanisms, &cells_se, manifest.cells).ok(),
        Some(_) => read_contrast_se(dir, &manifest.mechanisms, &diff_se, manifest.cells).ok(),
    });
    let points = design.points.len();
    let mechanisms: Vec<usize> = match &request.mechanism {
        Some(m) => vec![manifest.mechanisms.iter().position(|x| x == m).unwrap_or(0)],
        None => (0..manifest.mechanisms.len()).collect(),
    };
    let minus = request
        .minus
        .as_ref()
        .and_then(|m| manifest.mechanisms.iter().position(|x| x == m));
    let mut responses = Vec::new();
    for g in 0..design.grid_cells {
        for &m in &mechanisms {
            let mut y = Vec::with_capacity(points);
            let mut se = Vec::with_capacity(points);
            for p in 0..points {
                let cell = g * points + p;
                let v = values[m][cell].and_then(|v| match minus {
                    Some(o) => values[o][cell].map(|w| v - w),
                    None => Some(v),
                });
                se.push(ses.as_ref().and_then(|s| match minus {
                    // Contrasts are stored once per pair, in the run's mechanism order.
                    Some(o) => s[m.min(o) * manifest.mechanisms.len() + m.max(o)][cell],
                    None => s[m][cell],
                }));
                y.push(v.ok_or_else(|| {
                    ReportError::Data(format!(
                        "{shown}: cell {cell} has no {} for {}",
                        request.metric, manifest.mechanisms[m]
                    ))
                })?);
            }
            let name = match minus {
                Some(o) => format!("{}-{}", manifest.mechanisms[m], manifest.mechanisms[o]),
                None => manifest.mechanisms[m].clone(),
            };
            let mut response = analyze_response(
                &design,
                &y,
                manifest.seed,
                name,
                g as u32,
                request.second_order,
            )?;
            response.noise_share = noise_share(&y, &se);
            response.contrast = minus.is_some();
            responses.push(response);
        }
    }
    Ok(Analysis {
        scenario: manifest.scenario_name,
        method: design.kind,
        metric: request.metric.clone(),
        responses,
        warnings,
    })
}

fn analyze_response(
    design: &DesignRecord,
    y: &[f64],
    seed: u64,
    mechanism: String,
    grid_cell: u32,
    second_order: bool,
) -> Result<Response, ReportError> {
    let dims = design.columns.len();
    let pairs = if second_order && design.kind == "sobol" {
        sobol_second_order(y, dims, seed)
            .map_err(ReportError::Data)?
            .into_iter()
            .map(|(p, q, ix)| (design.columns[p].clone(), design.columns[q].clone(), ix))
            .collect()
    } else {
        Vec::new()
    };
    let indices: Vec<Vec<Index>> = if design.kind == "sobol" {
        sobol_indices(y, dims, design.first_order_only, seed)
            .map_err(ReportError::Data)?
            .into_iter()
            .map(Vec::from)
            .collect()
    } else {
        morris_effects(y, &design.unit, dims, seed)
            .map_err(ReportError::Data)?
            .into_iter()
            .map(Vec::from)
            .collect()
    };
    Ok(Response {
        mechanism,
        contrast: false,
        grid_cell,
        axes: design.columns.iter().cloned().zip(indices).collect(),
        pairs,
        noise_share: None,
    })
}

/// mean SE² / variance of `y` (population, over the points); `None` without every SE or with
/// no variance.
fn noise_share(y: &[f64], se: &[Option<f64>]) -> Option<f64> {
    let se: Vec<f64> = se.iter().copied().collect::<Option<_>>()?;
    let n = y.len() as f64;
    let mean = y.iter().sum::<f64>() / n;
    let var = y.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
    let noise = se.iter().map(|s| s * s).sum::<f64>() / n;
    (var > 0.0 && noise.is_finite()).then(|| noise / var)
}

/// The SE columns of a `cells` metric: in `cells` (`welfare_mean` → `welfare_se`) and in
/// `contrasts` (`welfare_diff_se`).
fn se_column(metric: &str) -> Option<(String, String)> {
    let stem = metric
        .strip_suffix("_mean")
        .or_else(|| metric.strip_suffix("_rate"))?;
    Some((format!("{stem}_se"), format!("{stem}_diff_se")))
}

/// `column` of the `contrasts` table's last round per (pair a·k + b, a before b) per cell.
fn read_contrast_se(
    dir: &Path,
    mechanisms: &[String],
    column: &str,
    cells: usize,
) -> Result<Vec<Vec<Option<f64>>>, ReportError> {
    let k = mechanisms.len();
    let mut rows: Vec<(u32, usize, usize, Option<f64>)> = Vec::new();
    for b in &read_table(dir, Table::Contrasts)? {
        let col = |name: &str| b.column_by_name(name).map(|c| c.as_any());
        let (Some(a), Some(bm), Some(cell), Some(round), Some(v)) = (
            col("mechanism_a").and_then(|c| c.downcast_ref::<StringArray>()),
            col("mechanism_b").and_then(|c| c.downcast_ref::<StringArray>()),
            col("cell").and_then(|c| c.downcast_ref::<UInt32Array>()),
            col("round").and_then(|c| c.downcast_ref::<UInt32Array>()),
            col(column).and_then(|c| c.downcast_ref::<Float64Array>()),
        ) else {
            return Err(ReportError::Data(format!("contrasts has no {column}")));
        };
        let index = |name: &str| mechanisms.iter().position(|m| m == name);
        for i in 0..b.num_rows() {
            if let (Some(x), Some(y)) = (index(a.value(i)), index(bm.value(i))) {
                let value = (!v.is_null(i)).then(|| v.value(i));
                rows.push((
                    round.value(i),
                    x.min(y) * k + x.max(y),
                    cell.value(i) as usize,
                    value,
                ));
            }
        }
    }
    let last = rows.iter().map(|r| r.0).max().unwrap_or(0);
    let mut out = vec![vec![None; cells]; k * k];
    for (round, pair, cell, v) in rows {
        if round == last && cell < cells {
            out[pair][cell] = v;
        }
    }
    Ok(out)
}

/// `metric` per mechanism (manifest order) per cell, from the last round of the `cells` table.
fn read_metric(
    dir: &Path,
    mechanisms: &[String],
    metric: &str,
    cells: usize,
) -> Result<Vec<Vec<Option<f64>>>, ReportError> {
    let batches = read_table(dir, Table::Cells)?;
    let mut rows: Vec<(u32, usize, usize, Option<f64>)> = Vec::new();
    for b in &batches {
        let c = CellsColumns::new(b)?;
        let col = b
            .column_by_name(metric)
            .and_then(|c| c.as_any().downcast_ref::<Float64Array>())
            .ok_or_else(|| {
                let names: Vec<String> = b
                    .schema()
                    .fields()
                    .iter()
                    .filter(|f| f.data_type() == &DataType::Float64)
                    .map(|f| f.name().clone())
                    .collect();
                ReportError::Refused(format!(
                    "{}: no numeric column `{metric}` in cells; columns: {}",
                    dir.display(),
                    names.join(", ")
                ))
            })?;
        for i in 0..b.num_rows() {
            let m = mechanisms
                .iter()
                .position(|x| x == c.mechanism.value(i))
                .unwrap_or(usize::MAX);
            let v = (!col.is_null(i)).then(|| col.value(i));
            rows.push((c.round.value(i), m, c.cell.value(i) as usize, v));
        }
    }
    let last = rows.iter().map(|r| r.0).max().unwrap_or(0);
    let mut out = vec![vec![None; cells]; mechanisms.len()];
    for (round, m, cell, v) in rows {
        if round == last && m < mechanisms.len() && cell < cells {
            out[m][cell] = v;
        }
    }
    Ok(out)
}
