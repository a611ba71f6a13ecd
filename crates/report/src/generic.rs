//! Generic figures for any run that is not one of the paper's: one figure per statistic of the
//! `cells` table (last round), the run's mechanisms side by side on a shared scale.
//!
//! The shape follows the sweep in `manifest.json`: two swept axes give heatmaps (one panel per
//! mechanism, x = the second axis, y = the first), more than two give small multiples (a row of
//! panels per combination of the extra axes' values, see [`Facets`]), one gives lines with 95%
//! bands, none gives bars. A sampled or listed design (`[design]` of kind lhs, sobol, morris or
//! points) has no grid to slice: each statistic is drawn as scatter panels, one per axis, the
//! value at every point against that axis ([`design_figures`]). A null value (a mechanism that does not compute a metric) is never drawn as
//! 0: heatmap cells are grey, lines have a gap, bars are labelled "n/a".

use std::path::{Path, PathBuf};

use datapact_trace::arrow::array::{Array, Float64Array, RecordBatch};
use datapact_trace::{CellsColumns, ContrastsColumns, Table, read_table, typed_column};

use crate::ReportError;
use crate::charts::{
    self, BarChart, LineChart, ScatterChart, ScatterPanel, ScatterSeries, Series, Z95,
};
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
    /// Per axis, the labels of a categorical axis (whose coordinates are their positions 0,
    /// 1, …); empty for a numeric axis (or for every axis when this is empty).
    pub categories: Vec<Vec<String>>,
    pub round: u32,
    pub stats: Vec<Stat>,
    pub rows: Vec<StatRow>,
    /// The run's fixed settings that differ from a reference (`key = value`), shown in titles and
    /// captions; see [`changed_settings`].
    pub settings: Vec<String>,
    /// What `settings` are compared with, for the caption (e.g. "the defaults").
    pub settings_reference: String,
    /// The run's `contrasts` table in the same round; `None` for runs written before it existed.
    pub contrasts: Option<RunContrasts>,
}

/// One row of `contrasts` in the last round: a pair's paired differences in one cell.
#[derive(Clone, Debug, PartialEq)]
pub struct ContrastRow {
    pub a: String,
    pub b: String,
    /// Swept values, aligned with [`RunStats::axes`].
    pub coords: Vec<f64>,
    /// (A − B, its paired SE), aligned with [`RunContrasts::metrics`].
    pub values: Vec<(f64, f64)>,
}

/// A run's `contrasts` table (last round).
#[derive(Clone, Debug, PartialEq)]
pub struct RunContrasts {
    /// Contrasted metrics: the stems `m` of the `{m}_diff` columns, in table order.
    pub metrics: Vec<String>,
    /// The pairs (A, B), in table order.
    pub pairs: Vec<(String, String)>,
    pub rows: Vec<ContrastRow>,
}

/// Reads round `round` of `dir`'s `contrasts` table; `None` when the run has no such table.
pub fn load_contrasts(
    dir: &Path,
    swept: &[&str],
    categories: &std::collections::BTreeMap<String, Vec<String>>,
    round: u32,
) -> Result<Option<RunContrasts>, ReportError> {
    if !dir.join(Table::Contrasts.dir_name()).is_dir() {
        return Ok(None);
    }
    let batches = read_table(dir, Table::Contrasts)?;
    // The metrics are whatever `{m}_diff` columns the table declares, in its order.
    let metrics: Vec<String> = Table::Contrasts
        .columns()
        .iter()
        .filter_map(|c| c.name.strip_suffix("_diff").map(str::to_string))
        .collect();
    let mut out = RunContrasts {
        metrics,
        pairs: Vec::new(),
        rows: Vec::new(),
    };
    for b in &batches {
        let c = ContrastsColumns::new(b)?;
        let coords = swept
            .iter()
            .map(|s| crate::tables::swept_values(b, Table::Contrasts, s, categories))
            .collect::<Result<Vec<_>, _>>()?;
        let cols = out
            .metrics
            .iter()
            .map(|m| {
                Ok((
                    typed_column::<Float64Array>(b, Table::Contrasts, &format!("{m}_diff"))?,
                    typed_column::<Float64Array>(b, Table::Contrasts, &format!("{m}_diff_se"))?,
                ))
            })
            .collect::<Result<Vec<_>, ReportError>>()?;
        for i in (0..b.num_rows()).filter(|&i| c.round.value(i) == round) {
            let pair = (
                c.mechanism_a.value(i).to_string(),
                c.mechanism_b.value(i).to_string(),
            );
            if !out.pairs.contains(&pair) {
                out.pairs.push(pair.clone());
            }
            out.rows.push(ContrastRow {
                a: pair.0,
                b: pair.1,
                coords: coords.iter().map(|x| x.value(i)).collect(),
                values: cols
                    .iter()
                    .map(|(d, se)| (d.value(i), se.value(i)))
                    .collect(),
            });
        }
    }
    Ok(Some(out))
}

/// The settings of a normalized scenario (`datapact.scenario` of its files) as `section.key =
/// value` lines, without the name and description, the sweep, design and output keys, and
/// without the base value of a swept key or design axis (unused).
fn flat_settings(toml: &str) -> Vec<(String, String)> {
    let mut section = String::new();
    let mut out = Vec::new();
    for line in toml.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(h) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = h.to_string();
            continue;
        }
        if let Some((k, v)) = line.split_once(" = ") {
            let key = if section.is_empty() {
                k.to_string()
            } else {
                format!("{section}.{k}")
            };
            out.push((key, v.to_string()));
        }
    }
    let swept: Vec<String> = out
        .iter()
        .filter_map(|(k, _)| {
            k.strip_prefix("sweep.")
                .or_else(|| k.strip_prefix("design."))
                .map(str::to_string)
        })
        .collect();
    out.retain(|(k, _)| {
        !(k.starts_with("sweep.")
            || k.starts_with("design.")
            || k.starts_with("output.")
            || k == "scenario.name"
            || k == "scenario.description"
            || swept.iter().any(|s| s == k))
    });
    out
}

/// The settings of scenario `run_toml` that differ from `reference_toml` (both normalized
/// scenario texts), as `key = value` (with the reference's value, or "new"), in the run's order.
pub fn changed_settings(run_toml: &str, reference_toml: &str) -> Vec<String> {
    let reference = flat_settings(reference_toml);
    flat_settings(run_toml)
        .into_iter()
        .filter_map(|(k, v)| match reference.iter().find(|(rk, _)| *rk == k) {
            Some((_, rv)) if *rv == v => None,
            Some((_, rv)) => Some(format!("{k} = {v} (vs {rv})")),
            None => Some(format!("{k} = {v} (new)")),
        })
        .collect()
}

/// The normalized scenario of a run, from the metadata of its first `cells` part (empty when
/// it has none).
pub fn scenario_toml(dir: &Path) -> Result<String, ReportError> {
    let parts = datapact_trace::part_files(dir, Table::Cells)?;
    // No part: nothing to compare (the figures then fail with their own reason).
    let Some(first) = parts.first() else {
        return Ok(String::new());
    };
    let md = datapact_trace::read_metadata(first)?;
    Ok(md
        .get(datapact_trace::keys::SCENARIO)
        .cloned()
        .unwrap_or_default())
}

/// A generic figure, in the form its sweep calls for.
#[derive(Clone, Debug)]
pub enum Chart {
    Heatmaps(Figure),
    Lines(LineChart),
    Bars(BarChart),
    Scatter(ScatterChart),
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
    /// A remark shown above the figures (e.g. why a paper-named run is drawn generically).
    pub note: Option<String>,
    /// Sensitivity files written for the run (Sobol or Morris designs), relative to the report.
    pub sensitivity: Vec<String>,
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
            .map(|s| crate::tables::swept_values(b, Table::Cells, s, &manifest.categories))
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
    let contrasts = load_contrasts(dir, &swept, &manifest.categories, round)?;
    let categories = manifest
        .sweep
        .iter()
        .map(|(_, c)| manifest.categories.get(c).cloned().unwrap_or_default())
        .collect();
    Ok(RunStats {
        name: manifest.scenario_name,
        mechanisms: manifest.mechanisms,
        axes: manifest.sweep,
        categories,
        round,
        stats,
        settings: Vec::new(),
        settings_reference: String::new(),
        contrasts,
        rows: rows
            .into_iter()
            .filter(|(r, _)| *r == round)
            .map(|(_, row)| row)
            .collect(),
    })
}

impl RunStats {
    /// The categories of axis `a` (empty for a numeric axis).
    pub fn axis_labels(&self, a: usize) -> Vec<String> {
        self.categories.get(a).cloned().unwrap_or_default()
    }

    /// The categories of axis `a`, if it is categorical.
    fn labels(&self, a: usize) -> Option<Vec<String>> {
        Some(self.axis_labels(a)).filter(|l| !l.is_empty())
    }

    /// Value `v` of axis `a` as text: its category, or the number.
    fn value_text(&self, a: usize, v: f64) -> String {
        match self.categories.get(a).and_then(|l| l.get(v as usize)) {
            Some(label) => label.clone(),
            None => fmt_value(v),
        }
    }
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

/// The run's changed settings for a title: the first three, then "…".
fn settings_title(run: &RunStats) -> String {
    match run
        .settings
        .iter()
        .filter(|s| !s.starts_with("scenario."))
        .count()
    {
        0 => String::new(),
        n => {
            // Seed and replications go to the caption only.
            let short: Vec<&str> = run
                .settings
                .iter()
                .filter(|s| !s.starts_with("scenario."))
                .take(3)
                .map(|s| s.split(" (").next().unwrap_or(s))
                .collect();
            format!(" [{}{}]", short.join(", "), if n > 3 { ", …" } else { "" })
        }
    }
}

/// The run's changed settings for a caption: all of them, with the reference's values.
fn settings_caption(run: &RunStats) -> String {
    if run.settings.is_empty() {
        return String::new();
    }
    format!(
        " Settings that differ from {}: {}.",
        run.settings_reference,
        run.settings.join("; ")
    )
}

/// Contrast panels: per metric of the `contrasts` table, one figure with a panel (heatmaps), a
/// line (one axis) or a bar (no axis) per pair A − B of paired differences, on a diverging
/// scale centred on 0; a difference within 1.96·SE of 0 is marked as not distinguishable.
fn contrast_figures(
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

/// Most rows of panels a figure gets for the axes beyond the first two.
pub const MAX_FACETS: usize = 8;

/// How the swept axes beyond the first two are shown: small multiples, one row of panels per
/// combination of their values (grid order), when there are at most [`MAX_FACETS`] combinations;
/// otherwise one row per value of the third axis (thinned evenly to [`MAX_FACETS`]) with the
/// fourth and later axes fixed at their first value.
#[derive(Clone, Debug, Default)]
pub struct Facets {
    /// One entry per row of panels: the (axis, value) pairs its panels hold.
    pub rows: Vec<Vec<(usize, f64)>>,
    /// Axes held at one value in every panel.
    pub fixed: Vec<(usize, f64)>,
    /// Values of the third axis left out by thinning.
    pub thinned: usize,
}

impl Facets {
    /// The facets of `run`'s sweep (a single empty row for two axes or fewer).
    pub fn of(run: &RunStats) -> Facets {
        let distinct = |a: usize| {
            let mut v: Vec<f64> = run.rows.iter().map(|r| r.coords[a]).collect();
            v.sort_by(f64::total_cmp);
            v.dedup_by(|x, y| close(*x, *y));
            v
        };
        let extra: Vec<Vec<f64>> = (2..run.axes.len()).map(distinct).collect();
        let combinations: usize = extra.iter().map(Vec::len).product();
        if extra.is_empty() {
            return Facets {
                rows: vec![Vec::new()],
                ..Facets::default()
            };
        }
        if combinations <= MAX_FACETS {
            // Odometer over the extra axes, the first varying slowest (grid order).
            let mut rows = vec![Vec::new()];
            for (i, values) in extra.iter().enumerate() {
                rows = rows
                    .into_iter()
                    .flat_map(|row: Vec<(usize, f64)>| {
                        values.iter().map(move |&v| {
                            let mut r = row.clone();
                            r.push((2 + i, v));
                            r
                        })
                    })
                    .collect();
            }
            return Facets {
                rows,
                ..Facets::default()
            };
        }
        let third = &extra[0];
        let kept: Vec<f64> = if third.len() <= MAX_FACETS {
            third.clone()
        } else {
            (0..MAX_FACETS)
                .map(|i| third[(i * (third.len() - 1) + (MAX_FACETS - 1) / 2) / (MAX_FACETS - 1)])
                .collect()
        };
        Facets {
            rows: kept.iter().map(|&v| vec![(2, v)]).collect(),
            fixed: extra[1..]
                .iter()
                .enumerate()
                .filter_map(|(i, v)| v.first().map(|&f| (3 + i, f)))
                .collect(),
            thinned: third.len() - kept.len(),
        }
    }

    /// Whether a cell at `coords` belongs to the facet row `facet`.
    fn holds(facet: &[(usize, f64)], coords: &[f64]) -> bool {
        facet.iter().all(|&(a, v)| close(coords[a], v))
    }

    /// A panel's title: `name`, then the facet's values.
    fn title(&self, run: &RunStats, facet: &[(usize, f64)], name: &str) -> String {
        facet.iter().fold(name.to_string(), |t, &(a, v)| {
            format!("{t} · {} = {}", run.axes[a].0, run.value_text(a, v))
        })
    }

    /// What the caption says about the axes beyond two (empty for two or fewer); `fixed_notes`
    /// are the fixed axes as `key = value`.
    fn caption(&self, run: &RunStats, fixed_notes: &[String]) -> String {
        if run.axes.len() <= 2 {
            return String::new();
        }
        let faceted: Vec<&str> = self.rows[0]
            .iter()
            .map(|&(a, _)| run.axes[a].0.as_str())
            .collect();
        let mut s = format!(
            " Small multiples: one row of panels per value of {}.",
            faceted.join(" × ")
        );
        if self.thinned > 0 {
            s += &format!(
                " It has {} values: the {} shown are evenly spaced among them.",
                self.rows.len() + self.thinned,
                self.rows.len()
            );
        }
        if !self.fixed.is_empty() {
            s += &format!(
                " The other swept axes are fixed at their first value: {}.",
                fixed_notes.join(", ")
            );
        }
        s
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
        Chart::Scatter(c) => Ok((charts::render_scatter(c, dir, &fig.id)?, fig.value_range)),
    }
}

/// The report's subdirectory for `run`'s figures.
pub fn run_dir(out: &Path, run: &str) -> PathBuf {
    out.join(run)
}
