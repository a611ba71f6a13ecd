//! Generic figures of runs that are not the paper's: small runs of C, S, M made with the runner
//! into a temporary directory, then `render_report` on them.

use std::path::{Path, PathBuf};

use datapact_report::Reference;
use datapact_report::generic::{self, Chart};
use datapact_runner::{RunOptions, Shard};
use datapact_scenario::Scenario;
use datapact_trace::Table;
use datapact_trace::arrow::array::Float64Array;

/// The contrast figures every run of C, S and M gets, after the statistics'.
const CONTRASTS: [&str; 6] = [
    "contrast_success",
    "contrast_welfare",
    "contrast_privacy_cost",
    "contrast_subsidy",
    "contrast_data",
    "contrast_withdrawals",
];

const STATS: [&str; 4] = [
    "success_rate",
    "welfare_mean",
    "withdrawals_mean",
    "privacy_cost_mean",
];

/// Runs C, S, M with the given `[sweep]` body into `dir/<name>`.
fn run(dir: &Path, name: &str, sweep: &str) -> PathBuf {
    let text = format!(
        r#"
mechanisms = ["C", "S", "M"]
[scenario]
name = "{name}"
seed = 7
replications = 30
[population]
users = 10
[game]
value = 0.1
payment = 0.05
[sweep]
{sweep}
"#
    );
    let scenario = Scenario::from_str(&text, name, &[]).unwrap();
    let out = dir.join(name);
    let opts = RunOptions {
        threads: 2,
        shard: Shard::WHOLE,
        ..RunOptions::new(out.clone())
    };
    datapact_runner::run(&scenario, &opts).unwrap();
    out
}

/// Width and height from a PNG's IHDR chunk (after checking the signature).
fn png_size(path: &Path) -> (u32, u32) {
    let b = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(
        &b[..8],
        b"\x89PNG\r\n\x1a\n",
        "{} is not a PNG",
        path.display()
    );
    assert_eq!(&b[12..16], b"IHDR");
    let be = |i: usize| u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
    (be(16), be(20))
}

/// Min and max of column `stat` over all mechanisms, read straight from Arrow.
fn data_range(run: &Path, stat: &str) -> (f64, f64) {
    let mut range = (f64::INFINITY, f64::NEG_INFINITY);
    for b in datapact_trace::read_table(run, Table::Cells).unwrap() {
        let col = b.column_by_name(stat).unwrap();
        let col = col.as_any().downcast_ref::<Float64Array>().unwrap();
        for i in 0..b.num_rows() {
            range = (range.0.min(col.value(i)), range.1.max(col.value(i)));
        }
    }
    range
}

#[test]
fn two_axes_give_one_heatmap_per_statistic_with_a_panel_per_mechanism() {
    let tmp = tempfile::tempdir().unwrap();
    let results = tmp.path().join("results");
    let run_dir = run(
        &results,
        "mine",
        "game.value = { from = 0.02, to = 0.2, steps = 3 }\n\
         game.payment = { values = [0.0, 0.05, 0.1, 0.2] }",
    );
    let out = tmp.path().join("report");
    let report = datapact_report::render_report(&results, &out, &Reference::default()).unwrap();
    assert_eq!(report.other_runs, ["mine"]);
    assert!(report.claims.is_empty(), "no paper run, so no claims");
    assert!(!out.join("claims.json").exists());

    let stats = generic::load_stats(&run_dir).unwrap();
    let figs = generic::build_run_figures(&stats).unwrap();
    let ids: Vec<&str> = figs.figures.iter().map(|f| f.id.as_str()).collect();
    assert_eq!(ids[..STATS.len()], STATS);
    assert_eq!(ids[STATS.len()..], CONTRASTS);
    let mut checked = 0;
    for fig in &figs.figures[STATS.len()..] {
        // Contrast panels: one per pair, diverging scale centred on 0, every cell either
        // coloured plainly or hatched (not distinguishable from 0).
        let Chart::Heatmaps(heat) = &fig.chart else {
            panic!("{}: two swept axes must give heatmaps", fig.id)
        };
        let titles: Vec<_> = heat.rows[0].iter().map(|p| p.title.as_str()).collect();
        assert_eq!(titles, ["M − S", "M − C", "S − C"], "{}", fig.id);
        for p in &heat.rows[0] {
            let (lo, hi) = p.scale.bounds();
            assert!(lo <= 0.0 && hi >= 0.0, "{}: 0 inside the scale", fig.id);
            assert_eq!(p.grid.hatched.len(), p.grid.z.len());
        }
        assert!(
            fig.caption.contains("not distinguishable from 0"),
            "{}",
            fig.caption
        );
        assert_eq!(
            png_size(&out.join("mine").join(format!("{}.png", fig.id))),
            (1800, 556)
        );
    }
    for fig in &figs.figures[..STATS.len()] {
        let Chart::Heatmaps(heat) = &fig.chart else {
            panic!("{}: two swept axes must give heatmaps", fig.id)
        };
        assert_eq!(heat.rows.len(), 1);
        let titles: Vec<_> = heat.rows[0].iter().map(|p| p.title.as_str()).collect();
        assert_eq!(titles, ["C", "S", "M"], "{}", fig.id);
        // x = the last axis (payment, 4 values), y = the first (value, 3 steps)
        assert_eq!(heat.rows[0][0].grid.xs.len(), 4);
        assert_eq!(heat.rows[0][0].grid.ys.len(), 3);

        let (files, scale) = generic::render(fig, &tmp.path().join("again")).unwrap();
        let (lo, hi) = data_range(&run_dir, &fig.id);
        // a constant statistic gets a widened scale (a colour bar needs a range)
        if hi > lo {
            assert_eq!(scale, (lo, hi), "{}: colour scale = data range", fig.id);
            checked += 1;
        }
        for png in [files.png, out.join("mine").join(format!("{}.png", fig.id))] {
            assert_eq!(png_size(&png), (1800, 556), "{}", png.display());
            let len = std::fs::metadata(&png).unwrap().len();
            assert!(len > 5_000, "{} only {len} bytes", png.display());
        }
        let svg =
            std::fs::read_to_string(out.join("mine").join(format!("{}.svg", fig.id))).unwrap();
        assert!(svg.contains("game.value") && svg.contains("game.payment"));
    }
    assert!(checked >= 3, "only {checked} statistics vary");
    let md = std::fs::read_to_string(out.join("REPORT.md")).unwrap();
    assert!(md.contains("## Run `mine`"), "{md}");
    assert!(md.contains("(mine/withdrawals_mean.png)"), "{md}");
    assert!(!md.contains("## Claims"), "no paper run, no claims table");
    let html = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert!(html.contains("src=\"mine/success_rate.png\""));
}

#[test]
fn one_axis_gives_line_plots_with_every_mechanism() {
    let tmp = tempfile::tempdir().unwrap();
    let results = tmp.path().join("results");
    run(
        &results,
        "line",
        "game.value = { from = 0.0, to = 0.3, steps = 4 }",
    );
    let out = tmp.path().join("report");
    let report = datapact_report::render_report(&results, &out, &Reference::default()).unwrap();
    assert_eq!(report.figures.len(), STATS.len() + CONTRASTS.len());
    let figs =
        generic::build_run_figures(&generic::load_stats(&results.join("line")).unwrap()).unwrap();
    for fig in &figs.figures[STATS.len()..] {
        let Chart::Lines(lines) = &fig.chart else {
            panic!("{}: one swept axis must give lines", fig.id)
        };
        let names: Vec<_> = lines.series.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["M − S", "M − C", "S − C"]);
        assert!(lines.zero_line, "differences are drawn against 0");
    }
    for fig in &figs.figures[..STATS.len()] {
        let Chart::Lines(lines) = &fig.chart else {
            panic!("{}: one swept axis must give lines", fig.id)
        };
        let names: Vec<_> = lines.series.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["C", "S", "M"]);
        assert!(lines.series.iter().all(|s| s.points.len() == 4));
        // the standard errors are carried for the bands
        assert!(
            lines
                .series
                .iter()
                .flat_map(|s| &s.points)
                .all(|p| p.2.is_some())
        );
        let png = out.join("line").join(format!("{}.png", fig.id));
        assert_eq!(png_size(&png), (900, 560));
        assert!(std::fs::metadata(&png).unwrap().len() > 5_000);
    }
}

#[test]
fn no_axis_gives_bars() {
    let tmp = tempfile::tempdir().unwrap();
    let results = tmp.path().join("results");
    run(&results, "point", "");
    let out = tmp.path().join("report");
    datapact_report::render_report(&results, &out, &Reference::default()).unwrap();
    let figs =
        generic::build_run_figures(&generic::load_stats(&results.join("point")).unwrap()).unwrap();
    for fig in &figs.figures {
        assert!(matches!(fig.chart, Chart::Bars(_)), "{}", fig.id);
        assert_eq!(
            png_size(&out.join("point").join(format!("{}.png", fig.id))),
            (900, 560)
        );
    }
}

#[test]
fn a_run_with_nothing_to_draw_fails_and_says_why() {
    let tmp = tempfile::tempdir().unwrap();
    let results = tmp.path().join("results");
    let dir = run(
        &results,
        "empty",
        "game.value = { from = 0.0, to = 0.3, steps = 2 }",
    );
    for part in datapact_trace::part_files(&dir, Table::Cells).unwrap() {
        std::fs::remove_file(part).unwrap();
    }
    // A run whose parts are gone is damaged, not empty: the verified view refuses it before
    // anything is drawn, naming the missing part.
    let err =
        datapact_report::render_report(&results, &tmp.path().join("report"), &Reference::default())
            .unwrap_err()
            .to_string();
    assert!(err.contains("cells/part-000000.parquet"), "{err}");
    assert!(!tmp.path().join("report").join("empty").exists(), "{err}");
}

#[test]
fn null_statistics_are_not_drawn_as_zero() {
    // A hand-made run: two mechanisms, one swept axis; the metric exists only for `a`.
    let row = |m: &str, x: f64, v: Option<f64>| generic::StatRow {
        mechanism: m.into(),
        coords: vec![x],
        values: vec![(v, v.map(|_| 0.01))],
    };
    let mut run = generic::RunStats {
        name: "nulls".into(),
        mechanisms: vec!["a".into(), "b".into()],
        axes: vec![("game.value".into(), "value".into())],
        categories: Vec::new(),
        round: 0,
        stats: vec![generic::Stat {
            column: "forfeited_mean".into(),
            se_column: "forfeited_se".into(),
            label: "forfeited".into(),
        }],
        rows: vec![
            row("a", 0.1, Some(0.5)),
            row("a", 0.2, Some(0.7)),
            row("b", 0.1, None),
            row("b", 0.2, None),
        ],
        settings: Vec::new(),
        settings_reference: String::new(),
        contrasts: None,
    };
    let figs = generic::build_run_figures(&run).unwrap();
    assert_eq!(
        figs.figures[0].value_range,
        (0.5, 0.7),
        "nulls are not zeros"
    );
    let Chart::Lines(lines) = &figs.figures[0].chart else {
        panic!("lines expected")
    };
    assert!(lines.series[1].points.iter().all(|p| p.1.is_none()));

    // two axes: b's panel is all masked and titled n/a
    run.axes.push(("game.payment".into(), "payment".into()));
    for r in &mut run.rows {
        r.coords.push(0.05);
    }
    let figs = generic::build_run_figures(&run).unwrap();
    let Chart::Heatmaps(heat) = &figs.figures[0].chart else {
        panic!("heatmaps expected")
    };
    assert!(heat.rows[0][1].title.contains("n/a"));
    assert!(heat.rows[0][1].grid.z.iter().all(Option::is_none));
    assert_eq!(heat.rows[0][0].scale.bounds(), (0.5, 0.7));

    // every value null: nothing to draw
    for r in &mut run.rows {
        r.values = vec![(None, None)];
    }
    let err = generic::build_run_figures(&run).unwrap_err().to_string();
    assert!(err.contains("every statistic is null"), "{err}");
}

/// A run over (payment, value, belief, …) with value = x + y + z + w at every cell.
fn run_over(axes: &[(&str, Vec<f64>)]) -> generic::RunStats {
    let mut cells: Vec<Vec<f64>> = vec![Vec::new()];
    for (_, values) in axes {
        cells = cells
            .into_iter()
            .flat_map(|c| {
                values.iter().map(move |&v| {
                    let mut c = c.clone();
                    c.push(v);
                    c
                })
            })
            .collect();
    }
    let rows = ["a", "b"]
        .iter()
        .flat_map(|m| {
            cells.iter().map(move |c| generic::StatRow {
                mechanism: m.to_string(),
                coords: c.clone(),
                values: vec![(Some(c.iter().sum()), None)],
            })
        })
        .collect();
    generic::RunStats {
        name: "multi".into(),
        mechanisms: vec!["a".into(), "b".into()],
        categories: Vec::new(),
        axes: axes
            .iter()
            .map(|(k, _)| (k.to_string(), k.replace("game.", "")))
            .collect(),
        round: 2,
        stats: vec![generic::Stat {
            column: "welfare_mean".into(),
            se_column: "welfare_se".into(),
            label: "welfare".into(),
        }],
        rows,
        settings: Vec::new(),
        settings_reference: String::new(),
        contrasts: None,
    }
}

#[test]
fn a_third_axis_gives_a_row_of_panels_per_value() {
    let run = run_over(&[
        ("game.payment", vec![1.0, 2.0]),
        ("game.value", vec![0.1, 0.2]),
        ("game.belief", vec![5.0, 6.0]),
    ]);
    let figs = generic::build_run_figures(&run).unwrap();
    let fig = &figs.figures[0];
    assert!(fig.title.contains("round 2"), "{}", fig.title);
    assert!(
        fig.caption
            .contains("Small multiples: one row of panels per value of game.belief"),
        "{}",
        fig.caption
    );
    // every cell is drawn: the range spans belief = 5 and 6
    let (lo, hi) = fig.value_range;
    assert!(
        (lo - 6.1).abs() < 1e-12 && (hi - 8.2).abs() < 1e-12,
        "{lo} {hi}"
    );
    let Chart::Heatmaps(heat) = &fig.chart else {
        panic!("heatmaps expected")
    };
    assert_eq!(heat.rows.len(), 2);
    for (row, belief) in heat.rows.iter().zip([5.0, 6.0]) {
        assert_eq!(row.len(), 2, "a panel per mechanism");
        for (panel, m) in row.iter().zip(["a", "b"]) {
            assert_eq!(panel.title, format!("{m} · game.belief = {belief}"));
            assert_eq!(panel.grid.xs, [0.1, 0.2]);
            assert_eq!(panel.grid.ys, [1.0, 2.0]);
            // z at (x = 0.1, y = 1) is 1.1 + belief
            let z = panel.grid.z[0].expect("drawn");
            assert!((z - (1.1 + belief)).abs() < 1e-12, "{z}");
        }
    }

    // a malformed row is an error, not a panic
    let mut bad = run.clone();
    bad.rows[0].coords.pop();
    let err = generic::build_run_figures(&bad).unwrap_err().to_string();
    assert!(err.contains("expected 3 and 1"), "{err}");
}

#[test]
fn many_extra_values_are_thinned_and_further_axes_fixed() {
    let third: Vec<f64> = (0..20).map(f64::from).collect();
    let run = run_over(&[
        ("game.payment", vec![1.0, 2.0]),
        ("game.value", vec![0.1, 0.2]),
        ("game.belief", third.clone()),
        ("population.users", vec![10.0, 20.0]),
    ]);
    let figs = generic::build_run_figures(&run).unwrap();
    let fig = &figs.figures[0];
    let Chart::Heatmaps(heat) = &fig.chart else {
        panic!("heatmaps expected")
    };
    assert_eq!(heat.rows.len(), 8, "at most 8 rows of panels");
    let shown: Vec<&str> = heat.rows.iter().map(|r| r[0].title.as_str()).collect();
    assert_eq!(shown.first(), Some(&"a · game.belief = 0"), "{shown:?}");
    assert_eq!(shown.last(), Some(&"a · game.belief = 19"), "{shown:?}");
    assert!(
        fig.caption
            .contains("It has 20 values: the 8 shown are evenly spaced")
            && fig
                .caption
                .contains("fixed at their first value: population.users = 10"),
        "{}",
        fig.caption
    );
    assert!(fig.title.contains("population.users = 10"), "{}", fig.title);
    // users = 20 is not drawn: the largest value is 2.2 + 19 + 10
    assert!(
        (fig.value_range.1 - 31.2).abs() < 1e-12,
        "{:?}",
        fig.value_range
    );
}

#[test]
fn a_designed_run_is_drawn_as_scatter_panels_and_lists_its_sensitivity() {
    let tmp = tempfile::tempdir().unwrap();
    let results = tmp.path().join("results");
    let make = |name: &str, design: &str| {
        let text = format!(
            r#"
mechanisms = ["S", "M"]
[scenario]
name = "{name}"
seed = 3
replications = 20
[population]
users = 10
[game]
value = 0.1
payment = 0.05
[design]
{design}
game.value = {{ from = 0.05, to = 0.3 }}
game.payment = {{ from = 0.0, to = 0.2 }}
"#
        );
        let scenario = Scenario::from_str(&text, name, &[]).unwrap();
        let out = results.join(name);
        let opts = RunOptions {
            threads: 2,
            shard: Shard::WHOLE,
            ..RunOptions::new(out.clone())
        };
        datapact_runner::run(&scenario, &opts).unwrap();
    };
    make("lhs_run", "kind = \"lhs\"\nsamples = 12");
    make("sobol_run", "kind = \"sobol\"\nsamples = 8");
    let out = tmp.path().join("report");
    let report = datapact_report::render_report(&results, &out, &Reference::default()).unwrap();
    let md = std::fs::read_to_string(out.join("REPORT.md")).unwrap();
    for run in ["lhs_run", "sobol_run"] {
        let png = out.join(run).join("welfare_mean.png");
        let (w, h) = png_size(&png);
        // two axes: two panels side by side under the title band
        assert!(w >= 880 && h > 300, "{w}×{h}");
        assert!(
            md.contains(&format!("![welfare_mean]({run}/welfare_mean.png)")),
            "{md}"
        );
        assert!(out.join(run).join("contrast_welfare.png").is_file());
        assert!(
            report
                .figures
                .iter()
                .any(|f| f.id == format!("{run}/success_rate")),
            "{run}"
        );
    }
    assert!(md.contains("a `lhs` design of 12 points"), "{md}");
    assert!(md.contains("a `sobol` design of 48 points"), "{md}");
    // the Sobol run's indices are drawn and listed, the LHS run has none
    assert!(out.join("sobol_run/sensitivity.png").is_file());
    assert!(
        md.contains("![sensitivity](sobol_run/sensitivity.png)"),
        "{md}"
    );
    assert!(
        md.contains("[sobol_run/sensitivity.parquet](sobol_run/sensitivity.parquet)"),
        "{md}"
    );
    assert!(!out.join("lhs_run/sensitivity.png").exists());
    let html = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert!(html.contains("sobol_run/sensitivity.png"), "{html}");

    // the scatter panels hold every point of every mechanism, x = the panel's axis
    let stats = generic::load_stats(&results.join("lhs_run")).unwrap();
    let figs = generic::design_figures(&stats, "lhs").unwrap();
    let Chart::Scatter(chart) = &figs.figures[0].chart else {
        panic!("scatter expected")
    };
    assert_eq!(chart.panels.len(), 2);
    for (a, panel) in chart.panels.iter().enumerate() {
        assert_eq!(panel.x_desc, stats.axes[a].0);
        assert_eq!(panel.series.len(), 2);
        for (m, (name, points)) in panel.series.iter().enumerate() {
            assert_eq!(name, &stats.mechanisms[m]);
            assert_eq!(points.len(), 12);
            let mut xs: Vec<f64> = points.iter().map(|p| p.0).collect();
            xs.sort_by(f64::total_cmp);
            // a Latin hypercube: one point in each of the 12 strata of the axis
            let (lo, hi) = if a == 0 { (0.05, 0.3) } else { (0.0, 0.2) };
            for (i, x) in xs.iter().enumerate() {
                let stratum = ((x - lo) / (hi - lo) * 12.0).floor() as usize;
                assert_eq!(stratum.min(11), i, "{xs:?}");
            }
        }
    }
}

/// docs/schema.md documents every column of `diff.parquet`, with its type and nullability.
#[test]
fn diff_columns_are_documented() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/schema.md"))
        .unwrap();
    let section = &doc[doc.find("## `diff.parquet`").expect("diff section")..];
    for (name, ty, nullable, _) in datapact_report::diff::DIFF_COLUMNS {
        let row = format!(
            "| `{name}` | {ty:?} | {} |",
            if nullable { "yes" } else { "no" }
        );
        assert!(section.contains(&row), "docs/schema.md lacks {row}");
    }
}

/// A categorical axis is drawn with its labels: lines over the categories for one axis (one
/// point per category, the labels as ticks), heatmap rows labelled by category for two; the
/// SVG names every category.
#[test]
fn categorical_axes_are_drawn_with_their_labels() {
    let tmp = tempfile::tempdir().unwrap();
    let results = tmp.path().join("results");
    let orders = ["small-first", "large-first", "random"];
    run(
        &results,
        "orders",
        "game.order = { values = [\"small-first\", \"large-first\", \"random\"] }",
    );
    run(
        &results,
        "dists",
        "population.cost.dist = { values = [{ dist = \"uniform\", low = 0, high = 1 }, { dist = \"beta\", alpha = 2, beta = 5 }] }\n\
         game.payment = { values = [0.0, 0.1] }",
    );
    let out = tmp.path().join("report");
    datapact_report::render_report(&results, &out, &Reference::default()).unwrap();

    let stats = generic::load_stats(&results.join("orders")).unwrap();
    assert_eq!(stats.categories, [orders.map(String::from).to_vec()]);
    let figs = generic::build_run_figures(&stats).unwrap();
    let Chart::Lines(lines) = &figs.figures[0].chart else {
        panic!("one categorical axis gives lines")
    };
    assert_eq!(
        lines.x_labels.as_deref(),
        Some(&orders.map(String::from)[..])
    );
    for s in &lines.series {
        let xs: Vec<f64> = s.points.iter().map(|p| p.0).collect();
        assert_eq!(xs, [0.0, 1.0, 2.0], "{}", s.name);
    }
    let svg = std::fs::read_to_string(out.join("orders").join("success_rate.svg")).unwrap();
    for o in orders {
        assert!(svg.contains(o), "tick label {o} missing");
    }

    let stats = generic::load_stats(&results.join("dists")).unwrap();
    let figs = generic::build_run_figures(&stats).unwrap();
    let Chart::Heatmaps(heat) = &figs.figures[0].chart else {
        panic!("two axes give heatmaps")
    };
    let grid = &heat.rows[0][0].grid;
    // y = the first axis, the distribution: one labelled row per category.
    assert_eq!(
        grid.y_labels.as_deref(),
        Some(
            &[
                "uniform(low=0,high=1)".to_string(),
                "beta(alpha=2,beta=5)".to_string()
            ][..]
        )
    );
    assert_eq!(grid.ys, [0.0, 1.0]);
    assert!(grid.z.iter().all(Option::is_some));
    let svg = std::fs::read_to_string(out.join("dists").join("welfare_mean.svg")).unwrap();
    assert!(svg.contains("beta(alpha=2,beta=5)"));
}

/// A categorical axis of a designed run is drawn with its labels as x ticks.
#[test]
fn a_categorical_design_axis_keeps_its_labels() {
    let mut run = run_over(&[
        ("game.order", vec![0.0, 1.0]),
        ("game.value", vec![0.1, 0.2, 0.3]),
    ]);
    run.categories = vec![vec!["small-first".into(), "large-first".into()], Vec::new()];
    let figs = generic::design_figures(&run, "lhs").unwrap();
    let Chart::Scatter(chart) = &figs.figures[0].chart else {
        panic!("scatter expected")
    };
    assert_eq!(
        chart.panels[0].x_labels,
        Some(vec!["small-first".to_string(), "large-first".to_string()])
    );
    assert_eq!(chart.panels[1].x_labels, None);
    let dir = tempfile::tempdir().unwrap();
    let fig = &figs.figures[0];
    let (files, _) = generic::render(fig, dir.path()).unwrap();
    let svg = std::fs::read_to_string(&files.svg).unwrap();
    assert!(svg.contains("small-first") && svg.contains("large-first"));
}

/// A run on a network draws its cascade size (the `cells` network columns) after the core
/// statistics, as a heatmap per mechanism; a run without one does not (the ids above).
#[test]
fn a_network_run_draws_its_cascade_size() {
    let tmp = tempfile::tempdir().unwrap();
    let text = r#"
mechanisms = ["S", "M"]
[scenario]
name = "net"
seed = 7
replications = 40
[population]
users = 20
[population.withdraw]
strategy = "threshold"
share = 1.0
[population.network]
model = "watts-strogatz"
[game]
value = 0.1
[sweep]
population.network.k = { values = [2, 4] }
population.withdraw.threshold = { values = [0.25, 0.5] }
"#;
    let scenario = Scenario::from_str(text, "net", &[]).unwrap();
    let out = tmp.path().join("net");
    let opts = RunOptions {
        threads: 1,
        shard: Shard::WHOLE,
        ..RunOptions::new(out.clone())
    };
    datapact_runner::run(&scenario, &opts).unwrap();
    let figs = generic::build_run_figures(&generic::load_stats(&out).unwrap()).unwrap();
    let ids: Vec<&str> = figs.figures.iter().map(|f| f.id.as_str()).collect();
    assert_eq!(ids[..STATS.len()], STATS);
    assert_eq!(ids[STATS.len()], "cascade_mean");
    let Chart::Heatmaps(heat) = &figs.figures[STATS.len()].chart else {
        panic!("two swept axes must give heatmaps")
    };
    let titles: Vec<_> = heat.rows[0].iter().map(|p| p.title.as_str()).collect();
    assert_eq!(titles, ["S", "M"]);
    assert!(
        data_range(&out, "cascade_mean").1 > 0.0,
        "no cascade at all"
    );
}
