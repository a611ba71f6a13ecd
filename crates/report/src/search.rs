//! Figures of a search's directory (`datapact optimize`, `datapact calibrate`), drawn from the
//! tables the search wrote: the Pareto front (`front.png`: a scatter for two objectives with
//! every evaluation behind it, parallel coordinates for three or more, the best value per
//! generation for one) and the posterior (`posterior.png`: a weighted histogram per numeric
//! key with its 90% interval, bars per label for a categorical key).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use datapact_search::weighted_quantile;
use datapact_trace::arrow::array::{Array, Float64Array, RecordBatch, StringArray, UInt32Array};
use datapact_trace::{read_metadata, read_part};
use plotters::prelude::*;
use serde::Deserialize;

use crate::ReportError;
use crate::charts::{LEGEND_H, Marker, Z95, legend_row, num_label, point_alpha};
use crate::figures::register_font;

/// A searched key as the tables' metadata describes it.
#[derive(Clone, Debug, Deserialize)]
struct KeyMeta {
    column: String,
    key: String,
    from: Option<f64>,
    to: Option<f64>,
    labels: Option<Vec<String>>,
}

/// An objective as the tables' metadata describes it.
#[derive(Clone, Debug, Deserialize)]
struct ObjectiveMeta {
    column: String,
    sense: String,
}

/// One table of a search: its rows and metadata.
struct Table {
    batches: Vec<RecordBatch>,
    meta: HashMap<String, String>,
    path: PathBuf,
}

impl Table {
    fn read(path: &Path) -> Result<Table, ReportError> {
        Ok(Table {
            batches: read_part(path)?,
            meta: read_metadata(path)?,
            path: path.to_path_buf(),
        })
    }

    fn json<T: for<'de> Deserialize<'de>>(&self, key: &str) -> Result<T, ReportError> {
        let text = self.meta.get(key).ok_or_else(|| {
            ReportError::Data(format!("{}: no `{key}` metadata", self.path.display()))
        })?;
        serde_json::from_str(text)
            .map_err(|e| ReportError::Data(format!("{}: `{key}`: {e}", self.path.display())))
    }

    /// Column `name` of every batch, each value read by `get` from the column as an `A`.
    fn column<A: Array + 'static, T>(
        &self,
        name: &str,
        get: impl Fn(&A, usize) -> T,
    ) -> Result<Vec<T>, ReportError> {
        let mut out = Vec::new();
        for b in &self.batches {
            let col = b
                .column_by_name(name)
                .and_then(|c| c.as_any().downcast_ref::<A>())
                .ok_or_else(|| {
                    ReportError::Data(format!(
                        "{}: no column `{name}` of the expected type",
                        self.path.display()
                    ))
                })?;
            out.extend((0..col.len()).map(|i| get(col, i)));
        }
        Ok(out)
    }

    fn f64s(&self, name: &str) -> Result<Vec<f64>, ReportError> {
        self.column(name, |c: &Float64Array, i| c.value(i))
    }

    fn u32s(&self, name: &str) -> Result<Vec<u32>, ReportError> {
        self.column(name, |c: &UInt32Array, i| c.value(i))
    }

    fn strings(&self, name: &str) -> Result<Vec<String>, ReportError> {
        self.column(name, |c: &StringArray, i| c.value(i).to_string())
    }

    fn name(&self) -> String {
        self.meta
            .get("datapact.scenario_name")
            .cloned()
            .unwrap_or_default()
    }
}

fn draw_err(png: &Path) -> impl Fn(String) -> ReportError + '_ {
    move |e| ReportError::Draw(format!("{}: {e}", png.display()))
}

/// A padded range around `values` (a unit range around a single value).
fn range(values: impl IntoIterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values
        .into_iter()
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    let pad = if hi > lo {
        0.05 * (hi - lo)
    } else {
        0.5 * lo.abs().max(1e-9)
    };
    (lo - pad, hi + pad)
}

/// Draws `DIR/front.png` from `DIR/pareto.parquet` and `DIR/evaluations.parquet`; returns its
/// path.
pub fn front_figure(dir: &Path) -> Result<PathBuf, ReportError> {
    register_font();
    let pareto = Table::read(&dir.join("pareto.parquet"))?;
    let evaluations = Table::read(&dir.join("evaluations.parquet"))?;
    let objectives: Vec<ObjectiveMeta> = pareto.json("datapact.search.objectives")?;
    let png = dir.join("front.png");
    let front: Vec<Vec<f64>> = objectives
        .iter()
        .map(|o| pareto.f64s(&o.column))
        .collect::<Result<_, _>>()?;
    let front_se: Vec<Vec<f64>> = objectives
        .iter()
        .map(|o| pareto.f64s(&format!("{}_se", o.column)))
        .collect::<Result<_, _>>()?;
    let evals: Vec<Vec<f64>> = objectives
        .iter()
        .map(|o| evaluations.f64s(&o.column))
        .collect::<Result<_, _>>()?;
    let feasible: Vec<bool> = evaluations
        .f64s("violation")?
        .iter()
        .map(|v| *v == 0.0)
        .collect();
    let generation = evaluations.u32s("generation")?;
    let name = pareto.name();
    let io = |e| ReportError::io(&png, e);
    datapact_trace::atomic::render_atomic(&png, io, |tmp| match objectives.len() {
        1 => draw_single(
            tmp,
            &name,
            &objectives[0],
            &front[0],
            &evals[0],
            &generation,
            &feasible,
        ),
        2 => draw_pair(
            tmp,
            &name,
            &objectives,
            &front,
            &front_se,
            &evals,
            &feasible,
        ),
        _ => draw_parallel(tmp, &name, &objectives, &front, &evals, &feasible),
    })?;
    Ok(png)
}

/// The head of a front figure: its title band and, under it, the legend `items` in a strip
/// of its own (inside the plot it would cover evaluations); returns the area left for the plot.
fn head<'a>(
    root: &DrawingArea<BitMapBackend<'a>, plotters::coord::Shift>,
    title: &str,
    items: &[(String, RGBColor, Marker)],
) -> Result<DrawingArea<BitMapBackend<'a>, plotters::coord::Shift>, String> {
    let body = crate::charts::title_band(root, title).map_err(|e| e.to_string())?;
    let (strip, body) = body.split_vertically(LEGEND_H);
    legend_row(&strip, items).map_err(|e| e.to_string())?;
    Ok(body)
}

fn axis_name(o: &ObjectiveMeta) -> String {
    let arrow = if o.sense == "max" {
        "↑ better"
    } else {
        "↓ better"
    };
    format!("{} ({arrow})", o.column)
}

/// Two objectives: every evaluation (grey; crosses where a constraint is violated) and the
/// front, each point with ±1.96 SE bars in both objectives, joined in order.
fn draw_pair(
    png: &Path,
    name: &str,
    objectives: &[ObjectiveMeta],
    front: &[Vec<f64>],
    se: &[Vec<f64>],
    evals: &[Vec<f64>],
    feasible: &[bool],
) -> Result<(), ReportError> {
    let err = draw_err(png);
    let n = front[0].len();
    let xr = range(evals[0].iter().chain(&front[0]).copied());
    let yr = range(evals[1].iter().chain(&front[1]).copied());
    let root = BitMapBackend::new(png, (960, 720)).into_drawing_area();
    let title = format!(
        "{name}: Pareto front, {n} points ({} evaluations)",
        evals[0].len()
    );
    let grey = RGBColor(170, 170, 170);
    let pale = RGBColor(230, 150, 150);
    let blue = crate::charts::palette(0);
    let bad: Vec<(f64, f64)> = (0..evals[0].len())
        .filter(|&i| !feasible[i])
        .map(|i| (evals[0][i], evals[1][i]))
        .collect();
    let mut items = vec![(
        "evaluations (one replication block each)".to_string(),
        grey,
        Marker::Dot,
    )];
    if !bad.is_empty() {
        items.push((
            "evaluations violating a constraint".into(),
            pale,
            Marker::Cross,
        ));
    }
    items.push((
        "Pareto front (pooled means, ±1.96 SE)".into(),
        blue,
        Marker::Dot,
    ));
    let body = head(&root, &title, &items).map_err(&err)?;
    let mut chart = ChartBuilder::on(&body)
        .margin(16)
        .x_label_area_size(50)
        .y_label_area_size(80)
        .build_cartesian_2d(xr.0..xr.1, yr.0..yr.1)
        .map_err(|e| err(e.to_string()))?;
    chart
        .configure_mesh()
        .light_line_style(RGBColor(235, 235, 235))
        .x_label_formatter(&|v: &f64| num_label(*v))
        .y_label_formatter(&|v: &f64| num_label(*v))
        .label_style(("sans-serif", 15))
        .axis_desc_style(("sans-serif", 16))
        .x_desc(axis_name(&objectives[0]))
        .y_desc(axis_name(&objectives[1]))
        .draw()
        .map_err(|e| err(e.to_string()))?;
    let ok: Vec<(f64, f64)> = (0..evals[0].len())
        .filter(|&i| feasible[i])
        .map(|i| (evals[0][i], evals[1][i]))
        .collect();
    chart
        .draw_series(
            ok.iter()
                .map(|&p| Circle::new(p, 3, grey.mix(point_alpha(ok.len())).filled())),
        )
        .map_err(|e| err(e.to_string()))?;
    if !bad.is_empty() {
        chart
            .draw_series(bad.iter().map(|&p| Cross::new(p, 3, pale.stroke_width(1))))
            .map_err(|e| err(e.to_string()))?;
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| front[0][a].total_cmp(&front[0][b]));
    chart
        .draw_series(std::iter::once(PathElement::new(
            order
                .iter()
                .map(|&i| (front[0][i], front[1][i]))
                .collect::<Vec<_>>(),
            blue.mix(0.5).stroke_width(1),
        )))
        .map_err(|e| err(e.to_string()))?;
    for &i in &order {
        let (x, y) = (front[0][i], front[1][i]);
        let (dx, dy) = (Z95 * se[0][i], Z95 * se[1][i]);
        chart
            .draw_series([
                PathElement::new([(x - dx, y), (x + dx, y)], blue.stroke_width(1)),
                PathElement::new([(x, y - dy), (x, y + dy)], blue.stroke_width(1)),
            ])
            .map_err(|e| err(e.to_string()))?;
    }
    chart
        .draw_series(
            order
                .iter()
                .map(|&i| Circle::new((front[0][i], front[1][i]), 5, blue.filled())),
        )
        .map_err(|e| err(e.to_string()))?;
    root.present().map_err(|e| err(e.to_string()))
}

/// Three or more objectives: parallel coordinates, one vertical axis per objective scaled to
/// the range of the feasible evaluations (better at the top), the front's members as coloured
/// lines over the feasible evaluations' grey ones.
fn draw_parallel(
    png: &Path,
    name: &str,
    objectives: &[ObjectiveMeta],
    front: &[Vec<f64>],
    evals: &[Vec<f64>],
    feasible: &[bool],
) -> Result<(), ReportError> {
    let err = draw_err(png);
    let k = objectives.len();
    let n = front[0].len();
    let ranges: Vec<(f64, f64)> = (0..k)
        .map(|j| {
            range(
                evals[j]
                    .iter()
                    .zip(feasible)
                    .filter(|(_, f)| **f)
                    .map(|(v, _)| *v)
                    .chain(front[j].iter().copied()),
            )
        })
        .collect();
    // Better at the top: a maximised objective reads upwards, a minimised one downwards.
    let scale = |j: usize, v: f64| {
        let (lo, hi) = ranges[j];
        let u = (v - lo) / (hi - lo);
        if objectives[j].sense == "max" {
            u
        } else {
            1.0 - u
        }
    };
    let root = BitMapBackend::new(png, ((240 * k as u32).max(800), 640)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(e.to_string()))?;
    let title = format!("{name}: Pareto front, {n} points, parallel coordinates (better up)");
    let mut chart = ChartBuilder::on(&root)
        .caption(&title, ("sans-serif", 22))
        .margin(30)
        .x_label_area_size(60)
        .y_label_area_size(20)
        .build_cartesian_2d(-0.3..(k as f64 - 0.7), -0.08..1.08)
        .map_err(|e| err(e.to_string()))?;
    let names: Vec<String> = objectives.iter().map(|o| o.column.clone()).collect();
    chart
        .configure_mesh()
        .disable_mesh()
        .disable_y_axis()
        .x_labels(k)
        .x_label_formatter(&|x: &f64| crate::charts::category_label(&names, *x))
        .label_style(("sans-serif", 15))
        .draw()
        .map_err(|e| err(e.to_string()))?;
    let grey = RGBColor(215, 215, 215);
    // Feasible evaluations in grey behind, then the front's points in colour.
    let evaluated = (0..evals[0].len()).filter(|&i| feasible[i]).map(|i| {
        let line: Vec<(f64, f64)> = (0..k).map(|j| (j as f64, scale(j, evals[j][i]))).collect();
        PathElement::new(line, grey.stroke_width(1))
    });
    chart
        .draw_series(evaluated)
        .map_err(|e| err(e.to_string()))?;
    let on_front = (0..n).map(|i| {
        let line: Vec<(f64, f64)> = front
            .iter()
            .enumerate()
            .map(|(j, column)| (j as f64, scale(j, column[i])))
            .collect();
        PathElement::new(line, crate::charts::palette(i % 10).stroke_width(2))
    });
    chart
        .draw_series(on_front)
        .map_err(|e| err(e.to_string()))?;
    for j in 0..k {
        chart
            .draw_series(std::iter::once(PathElement::new(
                [(j as f64, 0.0), (j as f64, 1.0)],
                BLACK.stroke_width(1),
            )))
            .map_err(|e| err(e.to_string()))?;
        let (lo, hi) = ranges[j];
        let (top, bottom) = if objectives[j].sense == "max" {
            (hi, lo)
        } else {
            (lo, hi)
        };
        let style = ("sans-serif", 14).into_font();
        chart
            .draw_series([
                Text::new(format!("{top:.4}"), (j as f64 + 0.03, 1.04), style.clone()),
                Text::new(
                    format!("{bottom:.4}"),
                    (j as f64 + 0.03, -0.02),
                    style.clone(),
                ),
            ])
            .map_err(|e| err(e.to_string()))?;
    }
    root.present().map_err(|e| err(e.to_string()))?;
    Ok(())
}

/// One objective: every evaluation against its generation, the best feasible one marked.
fn draw_single(
    png: &Path,
    name: &str,
    objective: &ObjectiveMeta,
    front: &[f64],
    evals: &[f64],
    generation: &[u32],
    feasible: &[bool],
) -> Result<(), ReportError> {
    let err = draw_err(png);
    let last = generation.iter().copied().max().unwrap_or(0) as f64;
    let yr = range(evals.iter().chain(front).copied());
    let root = BitMapBackend::new(png, (900, 600)).into_drawing_area();
    let grey = RGBColor(160, 160, 160);
    let blue = crate::charts::palette(0);
    let items: Vec<(String, RGBColor, Marker)> =
        std::iter::once(("evaluations".to_string(), grey, Marker::Dot))
            .chain(
                front
                    .iter()
                    .map(|v| (format!("best: {v:.5}"), blue, Marker::Line)),
            )
            .collect();
    let title = format!("{name}: {} by generation", objective.column);
    let body = head(&root, &title, &items).map_err(&err)?;
    let mut chart = ChartBuilder::on(&body)
        .margin(16)
        .x_label_area_size(50)
        .y_label_area_size(80)
        .build_cartesian_2d(-0.5..last + 0.5, yr.0..yr.1)
        .map_err(|e| err(e.to_string()))?;
    chart
        .configure_mesh()
        .light_line_style(RGBColor(235, 235, 235))
        .y_label_formatter(&|v: &f64| num_label(*v))
        .label_style(("sans-serif", 15))
        .axis_desc_style(("sans-serif", 16))
        .x_desc("generation")
        .y_desc(axis_name(objective))
        .draw()
        .map_err(|e| err(e.to_string()))?;
    let alpha = point_alpha(feasible.iter().filter(|f| **f).count());
    chart
        .draw_series((0..evals.len()).filter(|&i| feasible[i]).map(|i| {
            Circle::new(
                (generation[i] as f64, evals[i]),
                3,
                grey.mix(alpha).filled(),
            )
        }))
        .map_err(|e| err(e.to_string()))?;
    for v in front {
        chart
            .draw_series(std::iter::once(PathElement::new(
                [(-0.5, *v), (last + 0.5, *v)],
                blue.stroke_width(2),
            )))
            .map_err(|e| err(e.to_string()))?;
    }
    root.present().map_err(|e| err(e.to_string()))
}

/// Draws `DIR/posterior.png` from `DIR/posterior.parquet`: per numeric key a weighted
/// histogram over its prior range with the median and the 90% interval, per categorical key
/// the posterior probability of each label; returns its path.
pub fn posterior_figure(dir: &Path) -> Result<PathBuf, ReportError> {
    register_font();
    let posterior = Table::read(&dir.join("posterior.parquet"))?;
    let keys: Vec<KeyMeta> = posterior.json("datapact.search.keys")?;
    let weights = posterior.f64s("weight")?;
    let png = dir.join("posterior.png");
    let cols = keys.len().clamp(1, 3);
    let rows = keys.len().div_ceil(cols).max(1);
    let (w, h) = ((440 * cols as u32 + 40).max(700), 400 * rows as u32 + 50);
    let io = |e| ReportError::io(&png, e);
    datapact_trace::atomic::render_atomic(&png, io, |tmp| {
        let err = draw_err(tmp);
        let root = BitMapBackend::new(tmp, (w, h)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| err(e.to_string()))?;
        let root = root
            .titled(
                &format!(
                    "{}: ABC-SMC posterior, {} particles",
                    posterior.name(),
                    weights.len()
                ),
                ("sans-serif", 22),
            )
            .map_err(|e| err(e.to_string()))?;
        let panels = root.split_evenly((rows, cols));
        let color = crate::charts::palette(0);
        for (key, area) in keys.iter().zip(panels) {
            if let Some(labels) = &key.labels {
                let values = posterior.strings(&key.column)?;
                let mass: Vec<f64> = labels
                    .iter()
                    .map(|l| {
                        values
                            .iter()
                            .zip(&weights)
                            .filter(|(v, _)| *v == l)
                            .map(|(_, w)| w)
                            .sum()
                    })
                    .collect();
                let mut chart = ChartBuilder::on(&area)
                    .caption(&key.key, ("sans-serif", 16))
                    .margin(12)
                    .x_label_area_size(40)
                    .y_label_area_size(50)
                    .build_cartesian_2d(-0.5..(labels.len() as f64 - 0.5), 0.0..1.05)
                    .map_err(|e| err(e.to_string()))?;
                chart
                    .configure_mesh()
                    .disable_x_mesh()
                    .x_labels(labels.len())
                    .x_label_formatter(&|x: &f64| crate::charts::category_label(labels, *x))
                    .y_label_formatter(&|v: &f64| num_label(*v))
                    .y_desc("posterior probability")
                    .label_style(("sans-serif", 13))
                    .draw()
                    .map_err(|e| err(e.to_string()))?;
                chart
                    .draw_series(mass.iter().enumerate().map(|(i, m)| {
                        Rectangle::new(
                            [(i as f64 - 0.35, 0.0), (i as f64 + 0.35, *m)],
                            color.filled(),
                        )
                    }))
                    .map_err(|e| err(e.to_string()))?;
                continue;
            }
            let values = posterior.f64s(&key.column)?;
            let mut sorted: Vec<(f64, f64)> = values
                .iter()
                .copied()
                .zip(weights.iter().copied())
                .collect();
            sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
            // The particles' range, padded, within the prior's: the posterior is often far
            // narrower than the prior, whose range the axis label states.
            let (mut lo, mut hi) = range(values.iter().copied());
            let pad = 0.1 * (hi - lo);
            (lo, hi) = (lo - pad, hi + pad);
            if let (Some(a), Some(b)) = (key.from, key.to) {
                (lo, hi) = (lo.max(a), hi.min(b));
                if hi <= lo {
                    (lo, hi) = (a, b);
                }
            }
            let prior = match (key.from, key.to) {
                (Some(a), Some(b)) => format!("prior: uniform on [{a}, {b}]"),
                _ => "prior: uniform on the range".to_string(),
            };
            let bins = 30usize;
            let width = (hi - lo) / bins as f64;
            let mut density = vec![0.0; bins];
            for (x, w) in &sorted {
                let b = (((x - lo) / width) as usize).min(bins - 1);
                density[b] += w / width;
            }
            let top = density.iter().copied().fold(0.0, f64::max).max(1e-12) * 1.1;
            let q = |p: f64| weighted_quantile(&sorted, p).unwrap_or(f64::NAN);
            let (q05, q50, q95) = (q(0.05), q(0.5), q(0.95));
            let mut chart = ChartBuilder::on(&area)
                .caption(
                    format!("{}: {q50:.4} [{q05:.4}, {q95:.4}]", key.key),
                    ("sans-serif", 16),
                )
                .margin(12)
                .x_label_area_size(40)
                .y_label_area_size(60)
                .build_cartesian_2d(lo..hi, 0.0..top)
                .map_err(|e| err(e.to_string()))?;
            chart
                .configure_mesh()
                .light_line_style(RGBColor(235, 235, 235))
                .x_label_formatter(&|v: &f64| num_label(*v))
                .y_label_formatter(&|v: &f64| num_label(*v))
                .x_desc(format!("{} ({prior})", key.column))
                .y_desc("density")
                .label_style(("sans-serif", 13))
                .draw()
                .map_err(|e| err(e.to_string()))?;
            chart
                .draw_series(density.iter().enumerate().map(|(b, d)| {
                    let x0 = lo + b as f64 * width;
                    Rectangle::new([(x0, 0.0), (x0 + width, *d)], color.mix(0.6).filled())
                }))
                .map_err(|e| err(e.to_string()))?;
            for (x, style) in [
                (q05, BLACK.stroke_width(1)),
                (q50, BLACK.stroke_width(2)),
                (q95, BLACK.stroke_width(1)),
            ] {
                chart
                    .draw_series(std::iter::once(PathElement::new(
                        [(x, 0.0), (x, top)],
                        style,
                    )))
                    .map_err(|e| err(e.to_string()))?;
            }
        }
        root.present().map_err(|e| err(e.to_string()))
    })?;
    Ok(png)
}
