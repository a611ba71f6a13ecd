//! Sensitivity analysis of a designed run: Sobol first-order and total indices from a Saltelli
//! (`kind = "sobol"`) design, Morris elementary effects from a `kind = "morris"` design.
//!
//! The estimators are those of SALib (`sobol.analyze`, `morris.analyze`): with the outputs
//! standardised, S1ᵢ = mean(f(B)·(f(ABᵢ) − f(A))) / Var (Saltelli et al. 2010) and
//! STᵢ = mean((f(A) − f(ABᵢ))²) / (2·Var) (Jansen 1999), Var the population variance of f over A
//! and B; their 95% intervals are ±1.96 standard deviations of the estimate over bootstrap
//! resamples of the N base samples. Morris: μ*ᵢ = mean |EEᵢ|, μᵢ = mean EEᵢ, σᵢ = standard
//! deviation of EEᵢ (n − 1), over the trajectories, with EEᵢ = Δy / Δxᵢ in the unit cube.
//! Bootstraps read a ChaCha8 stream seeded from the run's seed, so the output is reproducible.
//!
//! [`analyze`] reads a run directory (its manifest's design record and `cells` table) and
//! [`write_outputs`] writes `sensitivity.parquet` (columns in [`SENSITIVITY_COLUMNS`]) and one
//! bar chart per grid cell.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use datapact_trace::arrow::array::{
    Array, ArrayRef, Float64Array, RecordBatch, StringArray, UInt32Array,
};
use datapact_trace::arrow::datatypes::{DataType, Field, Schema};
use datapact_trace::manifest::DesignRecord;
use datapact_trace::{CellsColumns, Table, read_table};
use plotters::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::ReportError;
use crate::figures::register_font;

/// z of a two-sided 95% normal interval.
const Z95: f64 = 1.959_963_984_540_054;

/// Bootstrap resamples of each confidence interval.
pub const RESAMPLES: usize = 1000;

/// One index of one axis: its estimate and the half-width of its 95% interval (`None` where the
/// method gives none).
#[derive(Clone, Debug, PartialEq)]
pub struct Index {
    /// `S1`, `ST` (Sobol) or `mu_star`, `mu`, `sigma` (Morris).
    pub name: &'static str,
    /// The estimate.
    pub value: f64,
    /// Half-width of its 95% bootstrap interval.
    pub conf: Option<f64>,
}

/// Sobol first-order and total indices of each of `dims` axes from outputs `y` of a Saltelli
/// design (blocks of 2·dims + 2: A, AB₁..AB_D, BA₁..BA_D, B), as `[S1, ST]` per axis.
///
/// # Errors
/// If `y.len()` is not a multiple of 2·dims + 2, or holds a non-finite value.
pub fn sobol_indices(y: &[f64], dims: usize, seed: u64) -> Result<Vec<[Index; 2]>, String> {
    let step = 2 * dims + 2;
    if dims == 0 || y.is_empty() || !y.len().is_multiple_of(step) {
        return Err(format!(
            "a Saltelli design over {dims} axes has a multiple of {step} points, found {}",
            y.len()
        ));
    }
    if let Some(i) = y.iter().position(|v| !v.is_finite()) {
        return Err(format!("point {i} has no finite value"));
    }
    let n = y.len() / step;
    let mean = y.iter().sum::<f64>() / y.len() as f64;
    let sd = (y.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / y.len() as f64).sqrt();
    let z: Vec<f64> = y
        .iter()
        .map(|v| if sd > 0.0 { (v - mean) / sd } else { 0.0 })
        .collect();
    let a = |j: usize| z[j * step];
    let b = |j: usize| z[j * step + step - 1];
    let ab = |j: usize, i: usize| z[j * step + 1 + i];
    // Both indices over the base samples `js` (all of them, or a bootstrap resample).
    let estimate = |js: &[usize], i: usize| -> (f64, f64) {
        let m = js.len() as f64;
        let ab_mean = js.iter().map(|&j| a(j) + b(j)).sum::<f64>() / (2.0 * m);
        let var = js
            .iter()
            .map(|&j| (a(j) - ab_mean).powi(2) + (b(j) - ab_mean).powi(2))
            .sum::<f64>()
            / (2.0 * m);
        if var <= 0.0 {
            return (0.0, 0.0);
        }
        let s1 = js.iter().map(|&j| b(j) * (ab(j, i) - a(j))).sum::<f64>() / m / var;
        let st = js.iter().map(|&j| (a(j) - ab(j, i)).powi(2)).sum::<f64>() / m / (2.0 * var);
        (s1, st)
    };
    let all: Vec<usize> = (0..n).collect();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut boot = vec![Vec::with_capacity(RESAMPLES); dims];
    let mut js = vec![0; n];
    for _ in 0..RESAMPLES {
        for j in js.iter_mut() {
            *j = (rng.next_u64() % n as u64) as usize;
        }
        for (i, b) in boot.iter_mut().enumerate() {
            b.push(estimate(&js, i));
        }
    }
    Ok((0..dims)
        .map(|i| {
            let (s1, st) = estimate(&all, i);
            let s1s: Vec<f64> = boot[i].iter().map(|e| e.0).collect();
            let sts: Vec<f64> = boot[i].iter().map(|e| e.1).collect();
            [
                Index {
                    name: "S1",
                    value: s1,
                    conf: Some(Z95 * std_dev(&s1s)),
                },
                Index {
                    name: "ST",
                    value: st,
                    conf: Some(Z95 * std_dev(&sts)),
                },
            ]
        })
        .collect())
}

/// Morris μ*, μ and σ of each of `dims` axes from outputs `y` of trajectories of dims + 1
/// points whose unit-cube coordinates are `unit`.
///
/// # Errors
/// If the lengths disagree, a step moves other than one axis, or a value is not finite.
pub fn morris_effects(
    y: &[f64],
    unit: &[Vec<f64>],
    dims: usize,
    seed: u64,
) -> Result<Vec<[Index; 3]>, String> {
    let len = dims + 1;
    if dims == 0 || y.is_empty() || y.len() != unit.len() || !y.len().is_multiple_of(len) {
        return Err(format!(
            "Morris trajectories over {dims} axes have a multiple of {len} points with unit \
             coordinates, found {} values and {} points",
            y.len(),
            unit.len()
        ));
    }
    let mut effects = vec![Vec::new(); dims];
    for t in 0..y.len() / len {
        for k in t * len..(t + 1) * len - 1 {
            let moved: Vec<usize> = (0..dims)
                .filter(|&i| unit[k][i] != unit[k + 1][i])
                .collect();
            let [i] = moved[..] else {
                return Err(format!(
                    "step {k} of trajectory {t} moves {} axes, not one",
                    moved.len()
                ));
            };
            let ee = (y[k + 1] - y[k]) / (unit[k + 1][i] - unit[k][i]);
            if !ee.is_finite() {
                return Err(format!("point {k} or {} has no finite value", k + 1));
            }
            effects[i].push(ee);
        }
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    Ok(effects
        .iter()
        .map(|ee| {
            let m = ee.len();
            let abs_mean = |idx: &mut dyn Iterator<Item = usize>| {
                idx.map(|j| ee[j].abs()).sum::<f64>() / m as f64
            };
            let boots: Vec<f64> = (0..RESAMPLES)
                .map(|_| abs_mean(&mut (0..m).map(|_| (rng.next_u64() % m as u64) as usize)))
                .collect();
            [
                Index {
                    name: "mu_star",
                    value: abs_mean(&mut (0..m)),
                    conf: Some(Z95 * std_dev(&boots)),
                },
                Index {
                    name: "mu",
                    value: ee.iter().sum::<f64>() / m as f64,
                    conf: None,
                },
                Index {
                    name: "sigma",
                    value: std_dev(ee),
                    conf: None,
                },
            ]
        })
        .collect())
}

/// Sample standard deviation (n − 1); 0 for fewer than two values.
fn std_dev(v: &[f64]) -> f64 {
    if v.len() < 2 {
        return 0.0;
    }
    let m = v.iter().sum::<f64>() / v.len() as f64;
    (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (v.len() - 1) as f64).sqrt()
}

/// What to analyse: a `cells` column, for one mechanism, optionally minus another's.
#[derive(Clone, Debug)]
pub struct Request {
    /// A `cells` column, e.g. `welfare_mean` or `success_rate`.
    pub metric: String,
    /// The mechanism whose value is analysed; every mechanism of the run when `None`.
    pub mechanism: Option<String>,
    /// A mechanism whose value is subtracted (the contrast `mechanism − minus`).
    pub minus: Option<String>,
}

/// The indices of one response (a mechanism, or a contrast) in one grid cell.
#[derive(Clone, Debug)]
pub struct Response {
    /// The mechanism, or `M-S` for a contrast.
    pub mechanism: String,
    /// Index of the grid cell the design is crossed with (0 without a grid).
    pub grid_cell: u32,
    /// One entry per design axis: its output column and its indices.
    pub axes: Vec<(String, Vec<Index>)>,
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
}

/// Analyses the run in `dir` (a Sobol or Morris design): the last round of its `cells` table.
///
/// # Errors
/// If the run has no such design, the metric or a mechanism is not in it, or a value is
/// missing.
pub fn analyze(dir: &Path, request: &Request) -> Result<Analysis, ReportError> {
    let manifest = datapact_trace::read_manifest(dir).map_err(ReportError::Data)?;
    let shown = dir.display();
    let Some(design) = manifest.design.clone() else {
        return Err(ReportError::Data(format!(
            "{shown}: the run has no [design] (sensitivity needs kind = \"sobol\" or \"morris\")"
        )));
    };
    if design.kind != "sobol" && design.kind != "morris" {
        return Err(ReportError::Data(format!(
            "{shown}: sensitivity needs a design of kind \"sobol\" or \"morris\", found \"{}\"",
            design.kind
        )));
    }
    for m in request.mechanism.iter().chain(&request.minus) {
        if !manifest.mechanisms.contains(m) {
            return Err(ReportError::Data(format!(
                "{shown}: mechanism `{m}` is not in the run; it has {}",
                manifest.mechanisms.join(", ")
            )));
        }
    }
    if request.minus.is_some() && request.mechanism.is_none() {
        return Err(ReportError::Data(
            "--minus needs --mechanism (the contrast is mechanism − minus)".into(),
        ));
    }
    let values = read_metric(dir, &manifest.mechanisms, &request.metric, manifest.cells)?;
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
            for p in 0..points {
                let cell = g * points + p;
                let v = values[m][cell].and_then(|v| match minus {
                    Some(o) => values[o][cell].map(|w| v - w),
                    None => Some(v),
                });
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
            responses.push(analyze_response(
                &design,
                &y,
                manifest.seed,
                name,
                g as u32,
            )?);
        }
    }
    Ok(Analysis {
        scenario: manifest.scenario_name,
        method: design.kind,
        metric: request.metric.clone(),
        responses,
    })
}

fn analyze_response(
    design: &DesignRecord,
    y: &[f64],
    seed: u64,
    mechanism: String,
    grid_cell: u32,
) -> Result<Response, ReportError> {
    let dims = design.columns.len();
    let indices: Vec<Vec<Index>> = if design.kind == "sobol" {
        sobol_indices(y, dims, seed)
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
        grid_cell,
        axes: design.columns.iter().cloned().zip(indices).collect(),
    })
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
                ReportError::Data(format!(
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

/// The columns of `sensitivity.parquet`: name, type and meaning (the one declaration
/// docs/schema.md's section is checked against).
pub const SENSITIVITY_COLUMNS: [(&str, &str, &str); 9] = [
    ("scenario", "Utf8", "Scenario name of the analysed run."),
    ("method", "Utf8", "`sobol` or `morris`: the design's kind."),
    (
        "metric",
        "Utf8",
        "The analysed `cells` column (its last round).",
    ),
    (
        "mechanism",
        "Utf8",
        "The mechanism analysed, or `A-B` for the contrast A minus B.",
    ),
    (
        "grid_cell",
        "UInt32",
        "Cell of the grid the design is crossed with (0 without one).",
    ),
    ("axis", "Utf8", "Output column of the design axis."),
    (
        "index",
        "Utf8",
        "`S1` first-order, `ST` total (Sobol); `mu_star`, `mu`, `sigma` (Morris, in output units per unit of the axis's range).",
    ),
    ("value", "Float64", "The estimate."),
    (
        "conf",
        "Float64",
        "Half-width of the 95% bootstrap interval (1000 resamples); null for `mu` and `sigma`.",
    ),
];

/// The analysis as one record batch, one row per (response, axis, index).
pub fn to_batch(a: &Analysis) -> Result<RecordBatch, ReportError> {
    // One row per (response, axis, index), flattened.
    let rows: Vec<(&Response, &str, &Index)> = a
        .responses
        .iter()
        .flat_map(|r| {
            r.axes
                .iter()
                .flat_map(move |(axis, ixs)| ixs.iter().map(move |ix| (r, axis.as_str(), ix)))
        })
        .collect();
    let n = rows.len();
    let fields: Vec<Field> = SENSITIVITY_COLUMNS
        .iter()
        .map(|(name, ty, _)| {
            let dt = match *ty {
                "Utf8" => DataType::Utf8,
                "UInt32" => DataType::UInt32,
                _ => DataType::Float64,
            };
            Field::new(*name, dt, *name == "conf")
        })
        .collect();
    let arrays: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from(vec![a.scenario.as_str(); n])),
        Arc::new(StringArray::from(vec![a.method.as_str(); n])),
        Arc::new(StringArray::from(vec![a.metric.as_str(); n])),
        Arc::new(StringArray::from_iter_values(
            rows.iter().map(|r| r.0.mechanism.as_str()),
        )),
        Arc::new(UInt32Array::from_iter_values(
            rows.iter().map(|r| r.0.grid_cell),
        )),
        Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.1))),
        Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.2.name))),
        Arc::new(Float64Array::from_iter_values(
            rows.iter().map(|r| r.2.value),
        )),
        Arc::new(Float64Array::from_iter(rows.iter().map(|r| r.2.conf))),
    ];
    RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays)
        .map_err(|e| ReportError::Data(format!("sensitivity table: {e}")))
}

/// Writes `out/sensitivity.parquet` (through a temporary file: whole or absent) and a bar chart
/// per grid cell, `out/sensitivity.png` (`sensitivity-gG.png` when crossed with a grid).
/// Returns the files written.
pub fn write_outputs(a: &Analysis, out: &Path) -> Result<Vec<PathBuf>, ReportError> {
    std::fs::create_dir_all(out).map_err(|e| ReportError::io(out, e))?;
    let batch = to_batch(a)?;
    let path = out.join("sensitivity.parquet");
    let tmp = out.join(".sensitivity.parquet.tmp");
    {
        let file = std::fs::File::create(&tmp).map_err(|e| ReportError::io(&tmp, e))?;
        let mut w = parquet::arrow::ArrowWriter::try_new(file, batch.schema(), None)
            .map_err(|e| ReportError::Data(format!("{}: {e}", tmp.display())))?;
        w.write(&batch)
            .and_then(|_| w.close().map(drop))
            .map_err(|e| ReportError::Data(format!("{}: {e}", tmp.display())))?;
    }
    std::fs::rename(&tmp, &path).map_err(|e| ReportError::io(&path, e))?;
    let mut files = vec![path];
    let grids: u32 = a
        .responses
        .iter()
        .map(|r| r.grid_cell + 1)
        .max()
        .unwrap_or(1);
    for g in 0..grids {
        let name = if grids == 1 {
            "sensitivity.png".to_string()
        } else {
            format!("sensitivity-g{g}.png")
        };
        let png = out.join(name);
        let responses: Vec<&Response> = a.responses.iter().filter(|r| r.grid_cell == g).collect();
        draw_chart(a, &responses, &png)?;
        files.push(png);
    }
    Ok(files)
}

/// Bars per axis: for Sobol S1 (solid) and ST (light) per response, for Morris μ*; 95% whiskers.
fn draw_chart(a: &Analysis, responses: &[&Response], png: &Path) -> Result<(), ReportError> {
    register_font();
    let err = |e: String| ReportError::Draw(format!("{}: {e}", png.display()));
    let shown: Vec<&str> = if a.method == "sobol" {
        vec!["S1", "ST"]
    } else {
        vec!["mu_star"]
    };
    let axes: Vec<String> = responses
        .first()
        .map(|r| r.axes.iter().map(|(c, _)| c.clone()).collect())
        .unwrap_or_default();
    let get = |r: &Response, axis: usize, name: &str| {
        r.axes[axis].1.iter().find(|ix| ix.name == name).cloned()
    };
    let mut hi: f64 = 0.0;
    let mut lo: f64 = 0.0;
    for r in responses {
        for i in 0..axes.len() {
            for name in &shown {
                if let Some(ix) = get(r, i, name) {
                    let c = ix.conf.unwrap_or(0.0);
                    hi = hi.max(ix.value + c);
                    lo = lo.min(ix.value - c);
                }
            }
        }
    }
    if a.method == "sobol" {
        hi = hi.clamp(1.0, 1.2);
        lo = lo.max(-0.2);
    }
    let hi = if hi > lo { hi * 1.05 } else { lo + 1.0 };
    let (w, h) = (((axes.len() * 110).max(500) + 200) as u32, 520u32);
    let root = BitMapBackend::new(png, (w, h)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(e.to_string()))?;
    let label = if a.method == "sobol" {
        "Sobol index (S1 solid, ST light; 95% bootstrap CI)"
    } else {
        "Morris mu* (95% bootstrap CI)"
    };
    let title = format!("{}: sensitivity of {}", a.scenario, a.metric);
    let mut chart = ChartBuilder::on(&root)
        .caption(&title, ("sans-serif", 22))
        .margin(14)
        .x_label_area_size(44)
        .y_label_area_size(70)
        .build_cartesian_2d(-0.5..(axes.len() as f64 - 0.5), lo..hi)
        .map_err(|e| err(e.to_string()))?;
    let names = axes.clone();
    chart
        .configure_mesh()
        .disable_x_mesh()
        .light_line_style(RGBColor(235, 235, 235))
        .x_labels(axes.len().max(1))
        .x_label_formatter(&|x: &f64| {
            let i = x.round();
            if (x - i).abs() < 1e-6 && i >= 0.0 {
                names.get(i as usize).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        })
        .label_style(("sans-serif", 15))
        .axis_desc_style(("sans-serif", 15))
        .x_desc("design axis")
        .y_desc(label)
        .draw()
        .map_err(|e| err(e.to_string()))?;
    let slots = (responses.len() * shown.len()).max(1) as f64;
    let width = 0.8 / slots;
    for (ri, r) in responses.iter().enumerate() {
        let color = crate::charts::palette(ri);
        for (si, name) in shown.iter().enumerate() {
            let style = if si == 0 {
                color.filled()
            } else {
                color.mix(0.35).filled()
            };
            for i in 0..axes.len() {
                let Some(ix) = get(r, i, name) else { continue };
                let slot = (ri * shown.len() + si) as f64;
                let x0 = i as f64 - 0.4 + slot * width;
                let rect = Rectangle::new([(x0, 0.0), (x0 + width * 0.9, ix.value)], style);
                let drawn = chart
                    .draw_series(std::iter::once(rect))
                    .map_err(|e| err(e.to_string()))?;
                if i == 0 && si == 0 {
                    drawn.label(r.mechanism.clone()).legend(move |(x, y)| {
                        Rectangle::new([(x, y - 6), (x + 14, y + 6)], color.filled())
                    });
                }
                if let Some(c) = ix.conf {
                    let xm = x0 + width * 0.45;
                    chart
                        .draw_series(std::iter::once(PathElement::new(
                            [(xm, ix.value - c), (xm, ix.value + c)],
                            BLACK.stroke_width(1),
                        )))
                        .map_err(|e| err(e.to_string()))?;
                }
            }
        }
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font(("sans-serif", 14))
        .position(SeriesLabelPosition::UpperRight)
        .draw()
        .map_err(|e| err(e.to_string()))?;
    root.present().map_err(|e| err(e.to_string()))?;
    Ok(())
}

/// For `datapact report`: the run in `dir`, if it has a Sobol or Morris design, gets the
/// sensitivity of `welfare_mean` for each mechanism written into `out` (nothing otherwise).
pub fn render_for_report(dir: &Path, out: &Path) -> Result<Vec<PathBuf>, ReportError> {
    let manifest = datapact_trace::read_manifest(dir).map_err(ReportError::Data)?;
    match manifest.design {
        Some(d) if d.kind == "sobol" || d.kind == "morris" => {
            let request = Request {
                metric: "welfare_mean".into(),
                mechanism: None,
                minus: None,
            };
            write_outputs(&analyze(dir, &request)?, out)
        }
        _ => Ok(Vec::new()),
    }
}
