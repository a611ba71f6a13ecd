//! `datapact diff A B`: a run against itself, against another seed, against a changed model, and
//! against another grid.

use std::path::Path;

use crate::support::{run as datapact, text};
use datapact_trace::arrow::array::{Array, Float64Array};

/// Runs the baseline on a 3×3 grid with 200 replications and `sets` into `dir/name`.
fn run(dir: &Path, name: &str, sets: &[&str]) -> String {
    let out = dir.join(name);
    let mut args = vec![
        "run",
        "baseline",
        "-q",
        "--threads",
        "2",
        "--out",
        out.to_str().unwrap(),
        "--set",
        "scenario.replications=200",
        "--set",
        "sweep.game.value.steps=3",
        "--set",
        "sweep.game.payment.steps=3",
    ];
    for s in sets {
        args.extend(["--set", s]);
    }
    let o = datapact(&args);
    assert!(o.status.success(), "{}", text(&o));
    out.to_string_lossy().to_string()
}

/// The `z` column of a diff file (nulls skipped).
fn zs(path: &Path) -> Vec<f64> {
    let mut out = Vec::new();
    for b in datapact_trace::read_part(path).unwrap() {
        let z = b.column_by_name("z").unwrap();
        let z = z.as_any().downcast_ref::<Float64Array>().unwrap();
        out.extend((0..z.len()).filter(|&i| !z.is_null(i)).map(|i| z.value(i)));
    }
    out
}

#[test]
fn diff_separates_noise_from_a_changed_model() {
    let tmp = tempfile::tempdir().unwrap();
    let a = run(tmp.path(), "a", &[]);
    let other_seed = run(tmp.path(), "seed", &["scenario.seed=99"]);
    let changed = run(tmp.path(), "changed", &["game.threshold=0.9"]);
    let out = |n: &str| tmp.path().join(format!("{n}.parquet"));
    let diff =
        |b: &str, file: &str| datapact(&["diff", &a, b, "--out", out(file).to_str().unwrap()]);

    // Itself: every difference and z is 0, exit 0.
    let o = diff(&a, "self");
    assert!(o.status.success(), "{}", text(&o));
    let z = zs(&out("self"));
    assert!(!z.is_empty());
    assert!(z.iter().all(|z| *z == 0.0), "a run differs from itself");
    assert!(text(&o).contains("9 cells compared"), "{}", text(&o));

    // Another seed: independent noise, |z| mostly below 3.
    let o = diff(&other_seed, "seed");
    let z = zs(&out("seed"));
    let over3 = z.iter().filter(|z| z.abs() > 3.0).count();
    assert!(
        (over3 as f64) < 0.05 * z.len() as f64,
        "{over3} of {} |z| > 3 between two seeds:\n{}",
        z.len(),
        text(&o)
    );

    // A changed model (threshold 0.6 -> 0.9): large z, exit 1.
    let o = diff(&changed, "changed");
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let z = zs(&out("changed"));
    let max = z.iter().fold(0.0f64, |m, z| m.max(z.abs()));
    assert!(max > 10.0, "max |z| {max} for a changed threshold");
}

#[test]
fn diff_of_two_grids_names_what_differs_and_exits_2() {
    let tmp = tempfile::tempdir().unwrap();
    let a = run(tmp.path(), "a", &["scenario.replications=5"]);
    let b = run(
        tmp.path(),
        "b",
        &["scenario.replications=5", "sweep.game.payment.steps=4"],
    );
    let o = datapact(&[
        "diff",
        &a,
        &b,
        "--out",
        tmp.path().join("d.parquet").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("`payment`"), "{}", text(&o));
    assert!(!tmp.path().join("d.parquet").exists(), "nothing written");
}

#[test]
fn diff_refuses_a_damaged_run_naming_the_part() {
    let tmp = tempfile::tempdir().unwrap();
    let a = run(tmp.path(), "a", &[]);
    let b = run(tmp.path(), "b", &[]);
    // A part removed behind the manifest's back: comparing what is left would be a silent
    // wrong answer.
    let cells = Path::new(&b).join("cells");
    let part = std::fs::read_dir(&cells)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "parquet"))
        .expect("a cells part");
    std::fs::remove_file(&part).unwrap();
    let out = tmp.path().join("d.parquet");
    let o = datapact(&["diff", &a, &b, "--out", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let name = part.file_name().unwrap().to_string_lossy().to_string();
    assert!(text(&o).contains(&name), "{}", text(&o));
    assert!(!out.exists(), "nothing written for a refused diff");
}

/// An adaptive run (cells of different `reps`) validates, reports and diffs like a fixed one.
#[test]
fn report_and_diff_work_on_adaptive_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let rule = "scenario.replications={ target_se = 0.03, metric = \"success_rate\", min = 30, max = 400, batch = 30 }";
    let o = datapact(&["validate", "baseline", "--set", rule]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains(
            "replications adaptive: until the SE of success_rate of every mechanism is <= 0.03"
        ),
        "{}",
        text(&o)
    );
    let a = run(tmp.path(), "a", &[rule]);
    let b = run(tmp.path(), "b", &[rule, "scenario.seed=99"]);
    let report = tmp.path().join("report");
    let o = datapact(&["report", &a, "--out", report.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let md = std::fs::read_to_string(report.join("REPORT.md")).unwrap();
    assert!(
        md.contains("(adaptive: until SE of success_rate ≤ 0.03, 30–400)"),
        "{md}"
    );
    // Against itself: every z is 0, exit 0; against another seed: compared (exit 0 or 1 by
    // what it finds, never 2, the code for runs that cannot be compared).
    let out = tmp.path().join("self.parquet");
    let o = datapact(&["diff", &a, &a, "--out", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("9 cells compared"), "{}", text(&o));
    assert!(zs(&out).iter().all(|z| *z == 0.0));
    let out = tmp.path().join("seed.parquet");
    let o = datapact(&["diff", &a, &b, "--out", out.to_str().unwrap()]);
    assert!(matches!(o.status.code(), Some(0 | 1)), "{}", text(&o));
    // Every cell × mechanism (3 × 3 × 3) is compared despite the cells' different `reps`.
    let shown = text(&o);
    let row = |l: &str| l.split_whitespace().take(2).collect::<Vec<_>>().join(" ");
    assert!(
        shown.lines().any(|l| row(l) == "success_rate 27"),
        "{shown}"
    );
    assert!(zs(&out).iter().all(|z| z.is_finite()));
}
