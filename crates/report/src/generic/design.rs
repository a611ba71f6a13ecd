//! The figures of a sampled or listed design: scatter panels of the value at every point
//! against each swept axis.

use crate::ReportError;
use crate::charts::{Palette, ScatterChart, ScatterPanel, ScatterSeries};

use super::figure::{Chart, RunFigures, StatFigure};
use super::run::{RunStats, range};
use super::settings::{settings_caption, settings_title};

/// The figures of a run whose cells are a sampled or listed design (`kind` from its manifest, e.g.
/// "lhs"): per statistic, and per contrast metric, the value at every point against each swept
/// axis, one scatter panel per axis.
pub fn design_figures(run: &RunStats, kind: &str) -> Result<RunFigures, ReportError> {
    let nothing =
        |why: &str| ReportError::Data(format!("run `{}`: nothing to draw ({why})", run.name));
    if run.rows.is_empty() {
        return Err(nothing("its cells table has no rows"));
    }
    if run.axes.is_empty() {
        return Err(nothing("its design has no axis"));
    }
    let points = run.rows.len() / run.mechanisms.len().max(1);
    let mut suffix = if run.round > 0 {
        format!(" (round {})", run.round)
    } else {
        String::new()
    };
    suffix += &settings_title(run);
    let how = format!(
        "a `{kind}` design of {points} point{}; one dot per point and {{what}}, against each swept \
         axis in turn (the other axes vary too, so the spread around a trend is theirs and the \
         replications' noise). Standard errors are in the `_se` columns, not drawn.",
        if points == 1 { "" } else { "s" }
    );
    let panels = |series: &dyn Fn(usize) -> Vec<ScatterSeries>| {
        run.axes
            .iter()
            .enumerate()
            .map(|(a, (key, _))| ScatterPanel {
                x_desc: key.clone(),
                series: series(a),
                x_labels: run.labels(a),
            })
            .collect::<Vec<_>>()
    };
    let mut out = Vec::new();
    for (k, stat) in run.stats.iter().enumerate() {
        let of = |m: &String, a: usize| -> Vec<(f64, f64)> {
            run.rows
                .iter()
                .filter(|r| &r.mechanism == m)
                .filter_map(|r| r.values[k].0.map(|v| (r.coords[a], v)))
                .collect()
        };
        let Some(value_range) = range(run.rows.iter().filter_map(|r| r.values[k].0)) else {
            continue;
        };
        let title = format!("{}: {}{suffix}", run.name, stat.label);
        let caption = format!(
            "Run `{}`, column `{}` of `cells`: {}{}",
            run.name,
            stat.column,
            how.replace("{what}", "mechanism"),
            settings_caption(run)
        );
        out.push(StatFigure {
            id: stat.column.clone(),
            title: title.clone(),
            caption,
            chart: Chart::Scatter(ScatterChart {
                title,
                y_desc: stat.label.clone(),
                panels: panels(&|a| {
                    run.mechanisms
                        .iter()
                        .map(|m| (m.clone(), of(m, a)))
                        .collect()
                }),
                colors: Palette::Mechanisms,
            }),
            value_range,
        });
    }
    if out.is_empty() {
        return Err(nothing("every statistic is null for every mechanism"));
    }
    if let Some(c) = &run.contrasts {
        for (k, metric) in c.metrics.iter().enumerate() {
            let Some(value_range) = range(c.rows.iter().map(|r| r.values[k].0)) else {
                continue;
            };
            let label = format!("{} difference", metric.replace('_', " "));
            let title = format!("{}: paired {label}{suffix}", run.name);
            let caption = format!(
                "Run `{}`, column `{metric}_diff` of `contrasts` (A − B paired on the same draws): {}{}",
                run.name,
                how.replace("{what}", "pair"),
                settings_caption(run)
            );
            out.push(StatFigure {
                id: format!("contrast_{metric}"),
                title: title.clone(),
                caption,
                chart: Chart::Scatter(ScatterChart {
                    title,
                    y_desc: label,
                    panels: panels(&|a| {
                        c.pairs
                            .iter()
                            .map(|(pa, pb)| {
                                (
                                    format!("{pa} − {pb}"),
                                    c.rows
                                        .iter()
                                        .filter(|r| (&r.a, &r.b) == (pa, pb))
                                        .map(|r| (r.coords[a], r.values[k].0))
                                        .collect(),
                                )
                            })
                            .collect()
                    }),
                    colors: Palette::Contrasts,
                }),
                value_range,
            });
        }
    }
    Ok(RunFigures {
        run: run.name.clone(),
        figures: out,
        note: None,
        sensitivity: Vec::new(),
    })
}
