//! Contrast figures: paired differences A − B per metric of the `contrasts` table.

use crate::charts::{BarChart, LineChart, Palette, Series, Z95};
use crate::figures::{Figure, Grid, Panel, Scale};

use super::facets::Facets;
use super::figure::{Chart, StatFigure};
use super::run::{ContrastRow, RunContrasts, RunStats, close, range};

/// Contrast panels: per metric of the `contrasts` table, one figure with a panel (heatmaps), a
/// line (one axis) or a bar (no axis) per pair A − B of paired differences, on a diverging
/// scale centred on 0; a difference within 1.96·SE of 0 is marked as not distinguishable.
pub(super) fn contrast_figures(
    run: &RunStats,
    c: &RunContrasts,
    facets: &Facets,
    suffix: &str,
    settings_caption: &str,
) -> Vec<StatFigure> {
    let rows: Vec<&ContrastRow> = c
        .rows
        .iter()
        .filter(|r| {
            r.coords.len() == run.axes.len()
                && facets.fixed.iter().all(|&(a, v)| close(r.coords[a], v))
        })
        .collect();
    if rows.is_empty() || c.pairs.is_empty() {
        return Vec::new();
    }
    let pair_name = |(a, b): &(String, String)| format!("{a} − {b}");
    let mut out = Vec::new();
    for (k, metric) in c.metrics.iter().enumerate() {
        let label = format!("{} difference", metric.replace('_', " "));
        let Some(value_range) = range(rows.iter().map(|r| r.values[k].0)) else {
            continue;
        };
        let title = format!("{}: paired {label}{suffix}", run.name);
        let mut caption = format!(
            "Run `{}`, columns `{metric}_diff` and `{metric}_diff_se` of `contrasts`: the mean over \
             replications of A − B ({}), paired on the same draws; SE = sd of the differences / √reps.",
            run.name,
            c.pairs.iter().map(pair_name).collect::<Vec<_>>().join(", ")
        );
        let chart = match run.axes.len() {
            0 => {
                caption += " Bars: paired difference; whiskers: 95% interval (± 1.96·SE); a whisker across 0: not distinguishable from 0.";
                Chart::Bars(BarChart {
                    title: title.clone(),
                    y_desc: label.clone(),
                    bars: c
                        .pairs
                        .iter()
                        .map(|p| {
                            let v = rows.iter().find(|r| (&r.a, &r.b) == (&p.0, &p.1));
                            (
                                pair_name(p),
                                v.map(|r| r.values[k].0),
                                v.map(|r| r.values[k].1),
                            )
                        })
                        .collect(),
                    colors: Palette::Contrasts,
                })
            }
            1 => {
                caption += " Lines: paired difference; bands: 95% interval (± 1.96·SE); dashed: 0. Where a band covers 0 the difference is not distinguishable from 0.";
                let mut xs: Vec<f64> = rows.iter().map(|r| r.coords[0]).collect();
                xs.sort_by(f64::total_cmp);
                xs.dedup_by(|a, b| close(*a, *b));
                Chart::Lines(LineChart {
                    title: title.clone(),
                    x_desc: run.axes[0].0.clone(),
                    y_desc: label.clone(),
                    series: c
                        .pairs
                        .iter()
                        .map(|p| Series {
                            name: pair_name(p),
                            points: xs
                                .iter()
                                .map(|&x| {
                                    let v = rows.iter().find(|r| {
                                        (&r.a, &r.b) == (&p.0, &p.1) && close(r.coords[0], x)
                                    });
                                    (x, v.map(|r| r.values[k].0), v.map(|r| r.values[k].1))
                                })
                                .collect(),
                        })
                        .collect(),
                    zero_line: true,
                    x_labels: run.labels(0),
                    colors: Palette::Contrasts,
                })
            }
            _ => {
                caption += " Diverging colour scale centred on 0 (red: A higher, blue: A lower), one per panel; hatched: |A − B| < 1.96·SE, not distinguishable from 0 at 95%.";
                let rows_of_panels = facets
                    .rows
                    .iter()
                    .map(|facet| {
                        c.pairs
                            .iter()
                            .map(|p| {
                                let of_pair: Vec<&&ContrastRow> = rows
                                    .iter()
                                    .filter(|r| {
                                        (&r.a, &r.b) == (&p.0, &p.1)
                                            && Facets::holds(facet, &r.coords)
                                    })
                                    .collect();
                                let mut grid = Grid::from_points(
                                    of_pair
                                        .iter()
                                        .map(|r| (r.coords[1], r.coords[0], Some(r.values[k].0))),
                                );
                                grid.hatched = vec![false; grid.z.len()];
                                for r in &of_pair {
                                    let (d, se) = r.values[k];
                                    let ix = grid.xs.iter().position(|x| close(*x, r.coords[1]));
                                    let iy = grid.ys.iter().position(|y| close(*y, r.coords[0]));
                                    if let (Some(ix), Some(iy)) = (ix, iy) {
                                        grid.hatched[iy * grid.xs.len() + ix] =
                                            d.abs() < Z95 * se || d == 0.0;
                                    }
                                }
                                // Each panel its own scale: M − S is often an order of
                                // magnitude smaller than the contrasts with C and would vanish
                                // on a shared one.
                                let (lo, hi) = grid.range().unwrap_or((0.0, 0.0));
                                Panel {
                                    title: facets.title(run, facet, &pair_name(p)),
                                    grid: grid
                                        .labelled(&run.axis_labels(1), &run.axis_labels(0))
                                        .evenly(),
                                    scale: Scale::diverging(lo, hi),
                                    bar_label: label.clone(),
                                }
                            })
                            .collect()
                    })
                    .collect();
                Chart::Heatmaps(Figure {
                    id: format!("contrast_{metric}"),
                    title: title.clone(),
                    rows: rows_of_panels,
                    caption: String::new(),
                    axes: Some((run.axes[1].0.clone(), run.axes[0].0.clone())),
                })
            }
        };
        caption += settings_caption;
        out.push(StatFigure {
            id: format!("contrast_{metric}"),
            title,
            caption,
            chart,
            value_range,
        });
    }
    out
}
