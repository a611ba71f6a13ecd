//! Adaptive replications (`replications = { target_se, metric, min, max, … }`): each cell stops
//! at the first batch whose SE reaches the target, checked against the per-campaign rows; cells
//! of different variance play different counts; `min` and `max` bound them; outputs are
//! byte-identical whatever the threads, shards, resume or `--only`; `--rep R` replays one
//! replication of an adaptive cell.

use std::collections::BTreeMap;
use std::path::Path;

use datapact_runner::{RunOptions, Shard};
use datapact_tests::*;
use datapact_trace::Table;

const TARGET: f64 = 0.03;
const MIN: u32 = 30;
const BATCH: u32 = 20;
const MAX: u32 = 600;

/// Eight cells whose success probabilities range from near 0 or 1 (low variance: they stop at
/// `min`) to near 1/2 (SE √(p(1−p)/n) reaches 0.03 only after ~280 replications).
fn adaptive(overrides: &[&str]) -> datapact_scenario::Scenario {
    scenario(
        &format!(
            r#"
[scenario]
name = "adaptive"
seed = 5
replications = {{ target_se = {TARGET}, metric = "success_rate", min = {MIN}, max = {MAX}, batch = {BATCH} }}
[population]
users = 6
[sweep]
game.value = {{ values = [0.0, 0.05, 0.1, 0.3] }}
game.payment = {{ values = [0.02, 0.2] }}
[output]
trace = "rounds"
chunk_cells = 3
"#
        ),
        overrides,
    )
}

fn part_files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    datapact_tests::part_files(dir, &["cells", "diagnostics", "contrasts", "rounds"])
}

/// SE of the mean of `xs` (two-pass, unbiased variance): an independent recomputation of the
/// simulator's running statistics.
fn se(xs: &[f64]) -> f64 {
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let ss: f64 = xs.iter().map(|x| (x - mean).powi(2)).sum();
    (ss / (n - 1.0) / n).sqrt()
}

/// Per (cell, mechanism): the success indicators of the `rounds` rows in replication order.
fn successes(dir: &Path) -> BTreeMap<(u32, String), Vec<f64>> {
    let rounds = read(dir, Table::Rounds);
    let (cell, rep, mech, status) = (
        u32s(&rounds, "cell"),
        u32s(&rounds, "rep"),
        strings(&rounds, "mechanism"),
        strings(&rounds, "status"),
    );
    let mut out: BTreeMap<(u32, String), Vec<f64>> = BTreeMap::new();
    for i in 0..cell.len() {
        let v = out.entry((cell[i], mech[i].clone())).or_default();
        assert_eq!(rep[i] as usize, v.len(), "rounds rows in replication order");
        v.push((status[i] == "success") as u8 as f64);
    }
    out
}

#[test]
fn each_cell_stops_at_the_first_batch_that_reaches_the_target() {
    let dir = tempfile::tempdir().unwrap();
    let s = adaptive(&[]);
    run(&s, dir.path(), 2, Shard::WHOLE);
    let cells = read(dir.path(), Table::Cells);
    let (cell, mech, reps, rate, se_col) = (
        u32s(&cells, "cell"),
        strings(&cells, "mechanism"),
        u32s(&cells, "reps"),
        f64s(&cells, "success_rate"),
        f64s(&cells, "success_se"),
    );
    let rows = successes(dir.path());
    let mut per_cell: BTreeMap<u32, u32> = BTreeMap::new();
    for i in 0..cell.len() {
        // Every mechanism of a cell plays the same replications.
        assert_eq!(*per_cell.entry(cell[i]).or_insert(reps[i]), reps[i]);
        let xs = &rows[&(cell[i], mech[i].clone())];
        assert_eq!(
            xs.len() as u32,
            reps[i],
            "cell {}: rounds rows = reps",
            cell[i]
        );
        let mean = xs.iter().sum::<f64>() / xs.len() as f64;
        assert!((rate[i] - mean).abs() < 1e-12);
        assert!((se_col[i] - se(xs)).abs() < 1e-12);
    }
    for (&c, &n) in &per_cell {
        assert!((MIN..=MAX).contains(&n), "cell {c}: {n} reps");
        assert!(
            n == MIN || (n - MIN).is_multiple_of(BATCH) || n == MAX,
            "cell {c}: {n} is no batch end"
        );
        let worst = |k: usize| {
            rows.iter()
                .filter(|((cc, _), _)| *cc == c)
                .map(|(_, xs)| se(&xs[..k]))
                .fold(0.0, f64::max)
        };
        // Stopped: the target is met (unless max capped the cell) ...
        assert!(
            n == MAX || worst(n as usize) <= TARGET,
            "cell {c}: SE {} at {n}",
            worst(n as usize)
        );
        // ... and was not one batch earlier (unless min is what held the cell).
        if n > MIN {
            let before = (MIN + (n - MIN - 1) / BATCH * BATCH) as usize;
            assert!(
                worst(before) > TARGET,
                "cell {c}: SE {} already at {before}",
                worst(before)
            );
        }
    }
    // Cells of different variance play different counts: some stop at min, some need more.
    let counts: std::collections::BTreeSet<u32> = per_cell.values().copied().collect();
    assert!(counts.contains(&MIN), "{per_cell:?}");
    assert!(counts.len() >= 3, "{per_cell:?}");
    // The diagnostics and contrasts rows count the same replications as the cells rows.
    let diag = read(dir.path(), Table::Diagnostics);
    for (c, n) in u32s(&diag, "cell").iter().zip(u32s(&diag, "reps")) {
        assert_eq!(per_cell[c], n);
    }
    let con = read(dir.path(), Table::Contrasts);
    for (c, n) in u32s(&con, "cell").iter().zip(u32s(&con, "reps")) {
        assert_eq!(per_cell[c], n);
    }
    // The manifest records the rule.
    let manifest = datapact_runner::read_manifest(dir.path()).unwrap();
    let rule = manifest.adaptive.expect("the manifest records the rule");
    assert_eq!(
        (
            rule.target_se,
            rule.metric.as_str(),
            rule.min,
            rule.max,
            rule.batch
        ),
        (TARGET, "success_rate", MIN, MAX, BATCH)
    );
    assert_eq!(manifest.replications, MAX);
}

#[test]
fn min_and_max_bound_every_cell() {
    for (target, want) in [("1e-6", MAX), ("0.9", MIN)] {
        let dir = tempfile::tempdir().unwrap();
        let s = adaptive(&[
            &format!("scenario.replications.target_se={target}"),
            "output.trace=cells",
        ]);
        run(&s, dir.path(), 2, Shard::WHOLE);
        let cells = read(dir.path(), Table::Cells);
        let (cell, reps, se) = (
            u32s(&cells, "cell"),
            u32s(&cells, "reps"),
            f64s(&cells, "success_se"),
        );
        // A cell whose every campaign succeeds (or fails) under every mechanism has SE 0 and
        // meets any target at min; every other cell is held to `want`.
        let settled: std::collections::BTreeSet<u32> = cell.iter().copied().collect();
        for c in settled {
            let rows: Vec<usize> = (0..cell.len()).filter(|&i| cell[i] == c).collect();
            let degenerate = rows.iter().all(|&i| se[i] == 0.0);
            let n = reps[rows[0]];
            assert!(
                n == want || (degenerate && n == MIN),
                "target {target}: cell {c} played {n}"
            );
        }
        assert!(reps.contains(&want), "target {target}: {reps:?}");
    }
}

#[test]
fn a_contrast_target_stops_on_the_paired_difference() {
    let t = 0.05;
    let rule = |contrast: &str| {
        format!(
            "scenario.replications={{ target_se = {t}, metric = \"welfare_mean\", min = 20, \
             max = 400, batch = 20{contrast} }}"
        )
    };
    let paired = tempfile::tempdir().unwrap();
    let s = adaptive(&[&rule(", contrast = \"M-S\""), "output.trace=cells"]);
    run(&s, paired.path(), 2, Shard::WHOLE);
    let con = read(paired.path(), Table::Contrasts);
    let (a, b, reps, se) = (
        strings(&con, "mechanism_a"),
        strings(&con, "mechanism_b"),
        u32s(&con, "reps"),
        f64s(&con, "welfare_diff_se"),
    );
    let mut checked = 0;
    for i in 0..a.len() {
        if (a[i].as_str(), b[i].as_str()) == ("M", "S") {
            assert!(
                reps[i] == 400 || se[i] <= t,
                "M-S SE {} at {}",
                se[i],
                reps[i]
            );
            checked += 1;
        }
    }
    assert_eq!(checked, 8);
    // The contrast, not each mechanism's own SE, decided: the per-mechanism rule stops the
    // cells elsewhere.
    let own = tempfile::tempdir().unwrap();
    run(
        &adaptive(&[&rule(""), "output.trace=cells"]),
        own.path(),
        2,
        Shard::WHOLE,
    );
    let counts = |d: &Path| u32s(&read(d, Table::Cells), "reps");
    assert_ne!(counts(paired.path()), counts(own.path()));
}

#[test]
fn outputs_do_not_depend_on_threads_shards_resume_or_only() {
    let s = adaptive(&[]);
    let whole = tempfile::tempdir().unwrap();
    run(&s, whole.path(), 1, Shard::WHOLE);
    let reference = part_files(whole.path());

    let threads = tempfile::tempdir().unwrap();
    run(&s, threads.path(), 2, Shard::WHOLE);
    assert!(part_files(threads.path()) == reference, "threads 1 vs 2");

    let sharded = tempfile::tempdir().unwrap();
    for i in [1, 0] {
        run(&s, sharded.path(), 1 + i, Shard { index: i, count: 2 });
    }
    assert!(part_files(sharded.path()) == reference, "shards 1/2 + 2/2");

    let manifest = datapact_runner::read_manifest(whole.path()).unwrap();
    std::fs::remove_file(whole.path().join("cells/part-000001.parquet")).unwrap();
    std::fs::remove_file(whole.path().join("manifest.json")).unwrap();
    let opts = RunOptions {
        threads: 2,
        resume: true,
        ..RunOptions::new(whole.path())
    };
    datapact_runner::run(&s, &opts).expect("resume succeeds");
    assert!(part_files(whole.path()) == reference, "resume");
    assert_eq!(
        datapact_runner::read_manifest(whole.path()).unwrap(),
        manifest
    );

    // One cell alone (`--only`) plays the same replications and writes the same rows.
    let only = adaptive(&[
        "sweep.game.value={values=[0.1]}",
        "sweep.game.payment={values=[0.2]}",
    ]);
    let one = tempfile::tempdir().unwrap();
    run(&only, one.path(), 1, Shard::WHOLE);
    let all = read(whole.path(), Table::Cells);
    let (value, payment) = (f64s(&all, "value"), f64s(&all, "payment"));
    let wanted: Vec<Vec<(String, String)>> = rows(&all, &["cell"])
        .into_iter()
        .enumerate()
        .filter(|(i, _)| value[*i] == 0.1 && payment[*i] == 0.2)
        .map(|(_, r)| r)
        .collect();
    assert_eq!(rows(&read(one.path(), Table::Cells), &["cell"]), wanted);
}

#[test]
fn rep_replays_one_replication_of_an_adaptive_cell() {
    let whole = tempfile::tempdir().unwrap();
    let s = adaptive(&[
        "sweep.game.value={values=[0.1]}",
        "sweep.game.payment={values=[0.2]}",
    ]);
    run(&s, whole.path(), 1, Shard::WHOLE);
    let n = u32s(&read(whole.path(), Table::Cells), "reps")[0];
    assert!(n > MIN, "the cell should need more than min ({n})");
    let all = read(whole.path(), Table::Rounds);
    let rep_col = u32s(&all, "rep");
    for r in [0, n - 1] {
        let dir = tempfile::tempdir().unwrap();
        let opts = RunOptions {
            threads: 1,
            replication: Some(r),
            ..RunOptions::new(dir.path())
        };
        datapact_runner::run(&s, &opts).expect("--rep runs");
        let want: Vec<_> = rows(&all, &[])
            .into_iter()
            .enumerate()
            .filter(|(i, _)| rep_col[*i] == r)
            .map(|(_, row)| row)
            .collect();
        assert_eq!(rows(&read(dir.path(), Table::Rounds), &[]), want, "rep {r}");
    }
    // Past max is refused, naming the rule.
    let dir = tempfile::tempdir().unwrap();
    let opts = RunOptions {
        replication: Some(MAX),
        ..RunOptions::new(dir.path())
    };
    let e = datapact_runner::run(&s, &opts).unwrap_err().to_string();
    assert!(e.contains("adaptive, max = 600"), "{e}");
}
