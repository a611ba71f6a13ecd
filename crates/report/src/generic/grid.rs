//! The figures of a grid run: heatmaps over two swept axes (small multiples beyond), lines over
//! one, bars over none, then the contrast figures.

use crate::ReportError;
use crate::charts::{BarChart, LineChart, Palette, Series};
use crate::figures::{Figure, Grid, Panel, Scale};

use super::contrast::contrast_figures;
use super::facets::Facets;
use super::figure::{Chart, RunFigures, StatFigure};
use super::run::{RunStats, Stat, StatRow, close, range};
use super::settings::{settings_caption, settings_title};

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
    let facets = Facets::of(run);
    let fixed = &facets.fixed;
    let rows: Vec<&StatRow> = run
        .rows
        .iter()
        .filter(|r| fixed.iter().all(|&(a, v)| close(r.coords[a], v)))
        .collect();
    let mut notes: Vec<String> = fixed
        .iter()
        .map(|&(a, v)| format!("{} = {}", run.axes[a].0, run.value_text(a, v)))
        .collect();
    if run.round > 0 {
        notes.insert(0, format!("round {}", run.round));
    }
    let suffix = if notes.is_empty() {
        String::new()
    } else {
        format!(" ({})", notes.join(", "))
    };
    let suffix = suffix + &settings_title(run);
    let settings_caption = settings_caption(run);
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
        caption += &facets.caption(run, &notes[usize::from(run.round > 0)..]);
        caption += &settings_caption;
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
                Chart::Heatmaps(heatmaps(run, &rows, &facets, k, stat, &title, value_range))
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
    if let Some(c) = &run.contrasts {
        out.extend(contrast_figures(
            run,
            c,
            &facets,
            &suffix,
            &settings_caption,
        ));
    }
    Ok(RunFigures {
        run: run.name.clone(),
        figures: out,
        note: None,
        sensitivity: Vec::new(),
    })
}

fn heatmaps(
    run: &RunStats,
    rows: &[&StatRow],
    facets: &Facets,
    k: usize,
    stat: &Stat,
    title: &str,
    (lo, hi): (f64, f64),
) -> Figure {
    let rows_of_panels = facets
        .rows
        .iter()
        .map(|facet| {
            run.mechanisms
                .iter()
                .map(|m| {
                    let grid = Grid::from_points(
                        rows.iter()
                            .filter(|r| &r.mechanism == m && Facets::holds(facet, &r.coords))
                            .map(|r| (r.coords[1], r.coords[0], r.values[k].0)),
                    )
                    .labelled(&run.axis_labels(1), &run.axis_labels(0))
                    .evenly();
                    let name = facets.title(run, facet, m);
                    let title = if grid.range().is_none() {
                        format!("{name}: n/a (not computed)")
                    } else {
                        name
                    };
                    Panel {
                        title,
                        grid,
                        scale: Scale::sequential(lo, hi),
                        bar_label: stat.label.clone(),
                    }
                })
                .collect()
        })
        .collect();
    Figure {
        id: stat.column.clone(),
        title: title.to_string(),
        rows: rows_of_panels,
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
        zero_line: false,
        x_labels: run.labels(0),
        colors: Palette::Mechanisms,
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
        colors: Palette::Mechanisms,
    }
}
