//! Generic figures for any run that is not one of the paper's: one figure per statistic of the
//! `cells` table (last round), the run's mechanisms side by side on a shared scale.
//!
//! The shape follows the sweep in `manifest.json`: two swept axes give heatmaps (one panel per
//! mechanism, x = the last axis, y = the first), more than two give the same with the extra axes
//! fixed at their first value (said in the title and caption), one gives lines with 95% bands,
//! none gives bars. A null value (a mechanism that does not compute a metric) is never drawn as
//! 0: heatmap cells are grey, lines have a gap, bars are labelled "n/a".

use std::path::{Path, PathBuf};

use datapact_trace::arrow::array::{Array, Float64Array, RecordBatch};
use datapact_trace::{CellsColumns, Table, read_table, typed_column};

use crate::ReportError;
use crate::charts::{self, BarChart, LineChart, Series};
use crate::figures::{self, Figure, FigureFiles, Grid, Panel, Scale};

/// The core statistics every run has, with their standard-error columns and labels.
const CORE_STATS: [(&str, &str, &str); 4] = [
    ("success_rate", "success_se", "success probability"),
    ("welfare_mean", "welfare_se", "mean welfare per campaign"),
    (
        "withdrawals_mean",
        "withdrawals_se",
        "mean withdrawals per campaign",
    ),
    (
        "privacy_cost_mean",
        "privacy_cost_se",
        "mean privacy cost per campaign",
    ),
];

/// One statistic: its `cells` column, its standard-error column, and what it means.
#[derive(Clone, Debug, PartialEq)]
pub struct Stat {
    pub column: String,
    pub se_column: String,
    pub label: String,
}

/// One row of `cells` in the last round, with the values of the run's statistics.
#[derive(Clone, Debug, PartialEq)]
pub struct StatRow {
    pub mechanism: String,
    /// Swept values, aligned with [`RunStats::axes`].
    pub coords: Vec<f64>,
    /// (mean, standard error) per statistic, aligned with [`RunStats::stats`]; None = null.
    pub values: Vec<(Option<f64>, Option<f64>)>,
}

/// The statistics of one run's last round, as read from its `cells` table.
#[derive(Clone, Debug, PartialEq)]
pub struct RunStats {
    pub name: String,
    pub mechanisms: Vec<String>,
    /// Swept (key, column) pairs, in grid order (first varies slowest).
    pub axes: Vec<(String, String)>,
    pub round: u32,
    pub stats: Vec<Stat>,
    pub rows: Vec<StatRow>,
}

/// A generic figure, in the form its sweep calls for.
#[derive(Clone, Debug)]
pub enum Chart {
    Heatmaps(Figure),
    Lines(LineChart),
    Bars(BarChart),
}

/// One statistic's figure of one run.
#[derive(Clone, Debug)]
pub struct StatFigure {
    /// File stem: the statistic's column.
    pub id: String,
    pub title: String,
    pub caption: String,
    pub chart: Chart,
    /// Smallest and largest value drawn (means only); for heatmaps, the shared colour scale.
    pub value_range: (f64, f64),
}

/// The figures of one run.
#[derive(Clone, Debug)]
pub struct RunFigures {
    pub run: String,
    pub figures: Vec<StatFigure>,
}

fn f64_column<'a>(batch: &'a RecordBatch, name: &str) -> Option<&'a Float64Array> {
    batch
        .column_by_name(name)
        .and_then(|c| c.as_any().downcast_ref::<Float64Array>())
}

fn value_at(a: Option<&Float64Array>, i: usize) -> Option<f64> {
    a.filter(|a| !a.is_null(i))
        .map(|a| a.value(i))
        .filter(|v| v.is_finite())
}

/// Reads the last round of `dir`'s `cells` table and the statistics to draw from it: the core
/// ones, then each plugin metric's `{m}_mean` listed in the manifest.
pub fn load_stats(dir: &Path) -> Result<RunStats, ReportError> {
    let manifest = datapact_trace::read_manifest(dir).map_err(ReportError::Data)?;
    let batches = read_table(dir, Table::Cells)?;
    let mut stats: Vec<Stat> = CORE_STATS
        .iter()
        .map(|(c, se, label)| Stat {
            column: c.to_string(),
            se_column: se.to_string(),
            label: label.to_string(),
        })
        .collect();
    stats.extend(manifest.metrics.iter().map(|m| Stat {
        column: format!("{m}_mean"),
        se_column: format!("{m}_se"),
        label: format!("{m} (mean per campaign)"),
    }));
    let swept: Vec<&str> = manifest.sweep.iter().map(|(_, c)| c.as_str()).collect();
    let mut rows: Vec<(u32, StatRow)> = Vec::new();
    for b in &batches {
        let c = CellsColumns::new(b)?;
        let coords = swept
            .iter()
            .map(|s| typed_column::<Float64Array>(b, Table::Cells, s))
            .collect::<Result<Vec<_>, _>>()?;
        let cols: Vec<_> = stats
            .iter()
            .map(|s| (f64_column(b, &s.column), f64_column(b, &s.se_column)))
            .collect();
        for i in 0..b.num_rows() {
            rows.push((
                c.round.value(i),
                StatRow {
                    mechanism: c.mechanism.value(i).to_string(),
                    coords: coords.iter().map(|x| x.value(i)).collect(),
                    values: cols
                        .iter()
                        .map(|(m, se)| (value_at(*m, i), value_at(*se, i)))
                        .collect(),
                },
            ));
        }
    }
    let round = rows.iter().map(|(r, _)| *r).max().unwrap_or(0);
    Ok(RunStats {
        name: manifest.scenario_name,
        mechanisms: manifest.mechanisms,
        axes: manifest.sweep,
        round,
        stats,
        rows: rows
            .into_iter()
            .filter(|(r, _)| *r == round)
            .map(|(_, row)| row)
            .collect(),
    })
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

fn range(values: impl IntoIterator<Item = f64>) -> Option<(f64, f64)> {
    values.into_iter().fold(None, |acc, v| match acc {
        None => Some((v, v)),
        Some((a, b)) => Some((a.min(v), b.max(v))),
    })
}

fn fmt_value(v: f64) -> String {
    let s = format!("{v:.4}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s.is_empty() || s == "-" {
        "0".into()
    } else {
        s.to_string()
    }
}

/// The figures of `run`, one per statistic that has a value somewhere; an error saying why if
/// there is none.
pub fn build_run_figures(run: &RunStats) -> Result<RunFigures, ReportError> {
    let nothing =
        |why: &str| ReportError::Data(format!("run `{}`: nothing to draw ({why})", run.name));
    if run.rows.is_empty() {
        return Err(nothing("its cells table has no rows"));
    }
    if run.mechanisms.is_empty() {
        return Err(nothing("its manifest lists no mechanism"));
    }
    if let Some(r) = run
        .rows
        .iter()
        .find(|r| r.coords.len() != run.axes.len() || r.values.len() != run.stats.len())
    {
        return Err(ReportError::Data(format!(
            "run `{}`: a row of {} has {} swept values and {} statistics, expected {} and {}",
            run.name,
            r.mechanism,
            r.coords.len(),
            r.values.len(),
            run.axes.len(),
            run.stats.len()
        )));
    }
    // Extra axes (beyond two) are fixed at their first value.
    let fixed: Vec<(usize, f64)> = (2..run.axes.len())
        .filter_map(|a| {
            let first = run
                .rows
                .iter()
                .map(|r| r.coords[a])
                .min_by(f64::total_cmp)?;
            Some((a, first))
        })
        .collect();
    let rows: Vec<&StatRow> = run
        .rows
        .iter()
        .filter(|r| fixed.iter().all(|&(a, v)| close(r.coords[a], v)))
        .collect();
    let mut notes: Vec<String> = fixed
        .iter()
        .map(|&(a, v)| format!("{} = {}", run.axes[a].0, fmt_value(v)))
        .collect();
    if run.round > 0 {
        notes.insert(0, format!("round {}", run.round));
    }
    let suffix = if notes.is_empty() {
        String::new()
    } else {
        format!(" ({})", notes.join(", "))
    };
    let mut out = Vec::new();
    for (k, stat) in run.stats.iter().enumerate() {
        let Some(value_range) = range(rows.iter().filter_map(|r| r.values[k].0)) else {
            continue;
        };
        let title = format!("{}: {}{suffix}", run.name, stat.label);
        let mut caption = format!(
            "Run `{}`, column `{}` of `cells`{}; mechanisms {} side by side.",
            run.name,
            stat.column,
            if run.round > 0 {
                format!(" in round {} (the last)", run.round)
            } else {
                String::new()
            },
            run.mechanisms.join(", ")
        );
        if !fixed.is_empty() {
            caption += &format!(
                " Only the first two swept axes are drawn; the others are fixed at their first value: {}.",
                notes[usize::from(run.round > 0)..].join(", ")
            );
        }
        let chart = match run.axes.len() {
            0 => {
                caption += " Bars: mean; whiskers: 95% interval (mean ± 1.96·SE); n/a: the mechanism does not compute it.";
                Chart::Bars(bars(run, &rows, k, stat, &title))
            }
            1 => {
                caption += " Lines: mean; bands: 95% interval (mean ± 1.96·SE); a gap or n/a: not computed.";
                Chart::Lines(lines(run, &rows, k, stat, &title))
            }
            _ => {
                caption += " Shared colour scale; grey: not computed (n/a).";
                Chart::Heatmaps(heatmaps(run, &rows, k, stat, &title, value_range))
            }
        };
        out.push(StatFigure {
            id: stat.column.clone(),
            title,
            caption,
            chart,
            value_range,
        });
    }
    if out.is_empty() {
        return Err(nothing("every statistic is null for every mechanism"));
    }
    Ok(RunFigures {
        run: run.name.clone(),
        figures: out,
    })
}

fn heatmaps(
    run: &RunStats,
    rows: &[&StatRow],
    k: usize,
    stat: &Stat,
    title: &str,
    (lo, hi): (f64, f64),
) -> Figure {
    let panels = run
        .mechanisms
        .iter()
        .map(|m| {
            let grid = Grid::from_points(
                rows.iter()
                    .filter(|r| &r.mechanism == m)
                    .map(|r| (r.coords[1], r.coords[0], r.values[k].0)),
            )
            .evenly();
            let title = if grid.range().is_none() {
                format!("{m}: n/a (not computed)")
            } else {
                m.clone()
            };
            Panel {
                title,
                grid,
                scale: Scale::sequential(lo, hi),
                bar_label: stat.label.clone(),
            }
        })
        .collect();
    Figure {
        id: stat.column.clone(),
        title: title.to_string(),
        rows: vec![panels],
        caption: String::new(),
        axes: Some((run.axes[1].0.clone(), run.axes[0].0.clone())),
    }
}

fn lines(run: &RunStats, rows: &[&StatRow], k: usize, stat: &Stat, title: &str) -> LineChart {
    let mut xs: Vec<f64> = rows.iter().map(|r| r.coords[0]).collect();
    xs.sort_by(f64::total_cmp);
    xs.dedup_by(|a, b| close(*a, *b));
    let series = run
        .mechanisms
        .iter()
        .map(|m| Series {
            name: m.clone(),
            points: xs
                .iter()
                .map(|&x| {
                    let v = rows
                        .iter()
                        .find(|r| &r.mechanism == m && close(r.coords[0], x))
                        .map(|r| r.values[k]);
                    (x, v.and_then(|v| v.0), v.and_then(|v| v.1))
                })
                .collect(),
        })
        .collect();
    LineChart {
        title: title.to_string(),
        x_desc: run.axes[0].0.clone(),
        y_desc: stat.label.clone(),
        series,
    }
}

fn bars(run: &RunStats, rows: &[&StatRow], k: usize, stat: &Stat, title: &str) -> BarChart {
    let bars = run
        .mechanisms
        .iter()
        .map(|m| {
            let v = rows.iter().find(|r| &r.mechanism == m).map(|r| r.values[k]);
            (m.clone(), v.and_then(|v| v.0), v.and_then(|v| v.1))
        })
        .collect();
    BarChart {
        title: title.to_string(),
        y_desc: stat.label.clone(),
        bars,
    }
}

/// Renders `fig` to `<dir>/<id>.png` and `.svg`; returns the files and the value range drawn
/// (for heatmaps, the bounds of the shared colour scale).
pub fn render(fig: &StatFigure, dir: &Path) -> Result<(FigureFiles, (f64, f64)), ReportError> {
    std::fs::create_dir_all(dir).map_err(|e| ReportError::io(dir, e))?;
    match &fig.chart {
        Chart::Heatmaps(f) => {
            let files = figures::render(f, dir)?;
            let bounds = f.rows[0][0].scale.bounds();
            Ok((files, bounds))
        }
        Chart::Lines(c) => Ok((charts::render_lines(c, dir, &fig.id)?, fig.value_range)),
        Chart::Bars(c) => Ok((charts::render_bars(c, dir, &fig.id)?, fig.value_range)),
    }
}

/// The report's subdirectory for `run`'s figures.
pub fn run_dir(out: &Path, run: &str) -> PathBuf {
    out.join(run)
}
