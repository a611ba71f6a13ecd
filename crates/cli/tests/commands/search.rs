//! `datapact optimize` and `datapact calibrate` as a user meets them: the front of the issue's
//! example (M's welfare up, its subsidy down over the payment and the threshold), its columns
//! and mutual non-dominance; a search interrupted, or prepared and computed by sharded
//! `datapact run`s, ends with the bytes of an uninterrupted one; bad files exit 2 naming file,
//! key and allowed range and write nothing; a calibration recovers a parameter from targets
//! datapact itself produced.

use std::collections::HashMap;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use crate::support::{run as datapact, s};
use datapact_trace::arrow::array::{Array, Float64Array, RecordBatch, StringArray};
use datapact_trace::read_part;

/// The issue's example, as shipped.
const PAYMENT_THRESHOLD: &str = include_str!("../../../../scenarios/search/payment_threshold.toml");

fn table(path: &Path) -> (Vec<String>, HashMap<String, Vec<f64>>, Vec<RecordBatch>) {
    let batches = read_part(path).unwrap();
    let names: Vec<String> = batches[0]
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    let mut floats: HashMap<String, Vec<f64>> = HashMap::new();
    for b in &batches {
        for n in &names {
            if let Some(c) = b
                .column_by_name(n)
                .and_then(|c| c.as_any().downcast_ref::<Float64Array>())
            {
                floats
                    .entry(n.clone())
                    .or_default()
                    .extend((0..c.len()).map(|i| c.value(i)));
            }
        }
    }
    (names, floats, batches)
}

fn ok(o: &Output) -> String {
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{out}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    out
}

#[test]
fn nsga2_over_payment_and_threshold_writes_a_front_of_mutually_non_dominated_points() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("payment_threshold.toml");
    std::fs::write(&file, PAYMENT_THRESHOLD).unwrap();
    let out = tmp.path().join("out");
    let stdout = ok(&datapact(&[
        "optimize",
        s(&file),
        "--out",
        s(&out),
        "--threads",
        "2",
        "-q",
    ]));
    assert!(stdout.contains("8 generations x 16"), "{stdout}");
    let (names, f, _) = table(&out.join("pareto.parquet"));
    assert_eq!(
        names,
        [
            "candidate",
            "payment",
            "threshold",
            "M_welfare_mean",
            "M_welfare_mean_se",
            "M_subsidy_mean",
            "M_subsidy_mean_se",
            "M_success_rate",
            "M_success_rate_se",
            "reps",
            "batches",
            "generation"
        ]
    );
    let (w, c) = (&f["M_welfare_mean"], &f["M_subsidy_mean"]);
    let n = w.len();
    assert!(n >= 3, "only {n} points on the front\n{stdout}");
    for i in 0..n {
        assert!((0.0..=0.3).contains(&f["payment"][i]));
        assert!((0.3..=0.9).contains(&f["threshold"][i]));
        assert!(
            f["M_success_rate"][i] >= 0.9,
            "a front member violates the constraint"
        );
        assert!(f["M_welfare_mean_se"][i] > 0.0 && f["M_subsidy_mean_se"][i] > 0.0);
        for j in 0..n {
            let dominates = w[j] >= w[i] && c[j] <= c[i] && (w[j] > w[i] || c[j] < c[i]);
            assert!(!dominates, "point {j} dominates point {i}");
        }
    }
    // The points are distinct settings, not one point repeated.
    let mut settings: Vec<(u64, u64)> = (0..n)
        .map(|i| (f["payment"][i].to_bits(), f["threshold"][i].to_bits()))
        .collect();
    settings.dedup();
    assert!(settings.len() >= 3);

    let (names, _, batches) = table(&out.join("evaluations.parquet"));
    for col in [
        "generation",
        "candidate",
        "block",
        "payment",
        "rank",
        "run",
        "cell",
    ] {
        assert!(names.contains(&col.to_string()), "{names:?}");
    }
    let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
    assert!(rows >= 8 * 16, "{rows} evaluations");
    let (_, h, _) = table(&out.join("hypervolume.parquet"));
    assert!(h["hypervolume"].len() >= 8);
    // The last generation's front dominates more than the first's, with the same reference.
    assert!(h["hypervolume"][7] > h["hypervolume"][0]);
    let png = std::fs::read(out.join("front.png")).unwrap();
    assert_eq!(&png[..4], b"\x89PNG");
    // Every step is a run directory with its scenario beside it.
    assert!(out.join("generations/0000/b0/manifest.json").is_file());
    assert!(out.join("generations/0000/b0.toml").is_file());
}

/// A smaller search for the determinism checks.
fn small(tmp: &Path) -> std::path::PathBuf {
    let file = tmp.join("small.toml");
    let text = PAYMENT_THRESHOLD
        .replace("replications = 400 ", "replications = 60 ")
        .replace("generations = 8", "generations = 4")
        .replace("population = 16", "population = 8");
    std::fs::write(&file, text).unwrap();
    file
}

const OUTPUTS: [&str; 3] = [
    "pareto.parquet",
    "evaluations.parquet",
    "hypervolume.parquet",
];

#[test]
fn a_prepared_search_run_by_sharded_runs_or_an_interrupted_one_ends_with_the_same_bytes() {
    let tmp = tempfile::tempdir().unwrap();
    let file = small(tmp.path());
    let whole = tmp.path().join("whole");
    ok(&datapact(&[
        "optimize",
        s(&file),
        "--out",
        s(&whole),
        "-q",
        "--threads",
        "2",
    ]));
    // The same directory again is refused without --resume, and changes nothing with it.
    let again = datapact(&["optimize", s(&file), "--out", s(&whole), "-q"]);
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("--resume"));

    // Prepared step by step, each run computed as two shards by `datapact run`.
    let prepared = tmp.path().join("prepared");
    let mut rounds = 0;
    loop {
        rounds += 1;
        assert!(rounds < 40, "the search never finished");
        let o = datapact(&[
            "optimize",
            s(&file),
            "--out",
            s(&prepared),
            "--resume",
            "--prepare",
            "-q",
        ]);
        let stdout = ok(&o);
        if !stdout.starts_with("prepared:") {
            break;
        }
        for line in stdout
            .lines()
            .filter(|l| l.contains(" run ") && l.contains(" --out "))
        {
            let words: Vec<&str> = line.split_whitespace().collect();
            assert_eq!(words[0], env!("CARGO_BIN_EXE_datapact"), "{line}");
            let (scenario, dir) = (words[2], words[4]);
            for shard in ["0/2", "1/2"] {
                ok(&datapact(&[
                    "run", scenario, "--out", dir, "--shard", shard, "-q",
                ]));
            }
        }
    }
    assert!(
        rounds > 4,
        "{rounds} rounds: the steps were not prepared one by one"
    );
    for f in OUTPUTS {
        assert_eq!(
            std::fs::read(whole.join(f)).unwrap(),
            std::fs::read(prepared.join(f)).unwrap(),
            "{f} differs after a prepared search"
        );
    }

    // Interrupted once its third step has started, then resumed with another thread count.
    let stopped = tmp.path().join("stopped");
    let mut child = Command::new(env!("CARGO_BIN_EXE_datapact"))
        .args([
            "optimize",
            s(&file),
            "--out",
            s(&stopped),
            "-q",
            "--threads",
            "2",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while !stopped.join("generations/0002").exists()
        && started.elapsed() < std::time::Duration::from_secs(120)
    {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let code = child.wait().unwrap().code();
    assert!(matches!(code, Some(143) | Some(0)), "{code:?}");
    ok(&datapact(&[
        "optimize",
        s(&file),
        "--out",
        s(&stopped),
        "--resume",
        "-q",
        "--threads",
        "1",
    ]));
    for f in OUTPUTS {
        assert_eq!(
            std::fs::read(whole.join(f)).unwrap(),
            std::fs::read(stopped.join(f)).unwrap(),
            "{f} differs after an interrupted search"
        );
    }
}

#[test]
fn bad_search_files_exit_2_naming_file_key_and_allowed_range_and_write_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let cases: [(&str, &str, &[&str]); 10] = [
        (
            "\"game.threshold\" = { from = 0.3, to = 0.9 }",
            "\"game.value\" = { from = 0.0, to = 0.3 }",
            &[
                "optimize.keys.game.value",
                "valuation",
                "not a design choice",
            ],
        ),
        (
            "\"game.threshold\" = { from = 0.3, to = 0.9 }",
            "\"game.threshold\" = { from = 0.3, to = 1.5 }",
            &[
                "game.threshold",
                "(0, 1]",
                "optimize.keys.game.threshold.to",
            ],
        ),
        (
            "\"game.payment\" = { from = 0.0, to = 0.3 }",
            "\"game.payment\" = { from = -0.1, to = 0.3 }",
            &["game.payment", "[0, inf)"],
        ),
        (
            "\"game.payment\" = { from = 0.0, to = 0.3 }",
            "\"game.paymnet\" = { from = 0.0, to = 0.3 }",
            &["game.paymnet", "allowed:", "game.payment"],
        ),
        (
            "population = 16",
            "population = 1",
            &["optimize.population", "[2, 1000000]"],
        ),
        (
            "metric = \"subsidy_mean\"",
            "metric = \"subsidies\"",
            &["optimize.objectives[1].metric", "\"subsidy_mean\""],
        ),
        (
            "mechanism = \"M\", min = 0.9",
            "mechanism = \"S\", min = 0.9",
            &["optimize.constraints[0].mechanism", "runs M"],
        ),
        (
            "value = 0.1 ",
            "value = 0.1\n[sweep]\ngame.belief = { values = [0.1, 0.2] }\n#",
            &["game.belief is swept", "[optimize.keys]"],
        ),
        (
            "sense = \"max\"",
            "sense = \"up\"",
            &["optimize.objectives[0].sense", "\"max\", \"min\""],
        ),
        (
            "algorithm = \"nsga2\"",
            "algorithm = \"moead\"",
            &["optimize.algorithm", "\"nsga2\""],
        ),
    ];
    for (i, (from, to, needles)) in cases.iter().enumerate() {
        assert!(PAYMENT_THRESHOLD.contains(from), "case {i}: {from}");
        let file = tmp.path().join(format!("bad{i}.toml"));
        std::fs::write(&file, PAYMENT_THRESHOLD.replacen(from, to, 1)).unwrap();
        let out = tmp.path().join(format!("out{i}"));
        let o = datapact(&["optimize", s(&file), "--out", s(&out), "-q"]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "case {i}: {err}");
        assert!(err.contains(&format!("bad{i}.toml")), "case {i}: {err}");
        for n in *needles {
            assert!(err.contains(n), "case {i}: `{n}` not in {err}");
        }
        assert!(!out.exists(), "case {i} wrote {}", out.display());
    }
    // A search file is not a plain scenario, and a plain scenario has no search.
    let file = tmp.path().join("search.toml");
    std::fs::write(&file, PAYMENT_THRESHOLD).unwrap();
    let o = datapact(&["run", s(&file), "--out", s(&tmp.path().join("r")), "-q"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("datapact optimize FILE"));
    let o = datapact(&[
        "calibrate",
        s(&file),
        "--out",
        s(&tmp.path().join("c")),
        "-q",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no [calibrate] table"));
}

#[test]
fn categorical_keys_are_searched_among_their_labels() {
    let tmp = tempfile::tempdir().unwrap();
    let file = small(tmp.path());
    let text = std::fs::read_to_string(&file).unwrap().replace(
        "\"game.threshold\" = { from = 0.3, to = 0.9 }",
        "\"game.threshold\" = { from = 0.3, to = 0.9 }\n\"game.order\" = { values = [\"small-first\", \"large-first\", \"random\"] }",
    );
    std::fs::write(&file, text).unwrap();
    let out = tmp.path().join("out");
    ok(&datapact(&[
        "optimize",
        s(&file),
        "--out",
        s(&out),
        "-q",
        "--threads",
        "2",
    ]));
    let (names, _, batches) = table(&out.join("pareto.parquet"));
    assert_eq!(names[1..4], ["payment", "threshold", "order"]);
    let labels = ["small-first", "large-first", "random"];
    for b in &batches {
        let col = b
            .column_by_name("order")
            .and_then(|c| c.as_any().downcast_ref::<StringArray>())
            .expect("order is Utf8");
        for i in 0..col.len() {
            assert!(labels.contains(&col.value(i)), "{}", col.value(i));
        }
    }
    // Each label's candidates run as their own points design, its column in cells as ever.
    let first = std::fs::read_dir(out.join("generations/0000"))
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir())
        .count();
    assert!(first >= 2, "{first} runs in generation 0");
}

/// One `cells` value of a plain run.
fn cell(dir: &Path, column: &str) -> f64 {
    let (_, f, _) = table(
        &std::fs::read_dir(dir.join("cells"))
            .unwrap()
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .find(|p| p.extension().is_some_and(|x| x == "parquet"))
            .unwrap(),
    );
    f[column][0]
}

#[test]
fn calibrate_recovers_the_cost_range_of_targets_datapact_produced() {
    let tmp = tempfile::tempdir().unwrap();
    // Synthetic data: M's moments over 400 campaigns at cost.high = 1.2, with its own seed.
    let truth = 1.2;
    let data = tmp.path().join("data.toml");
    std::fs::write(
        &data,
        format!(
            "mechanisms = [\"M\"]\n[scenario]\nname = \"data\"\nseed = 4242\nreplications = 400\n\
             [population]\ncost = {{ dist = \"uniform\", low = 0.0, high = {truth} }}\n"
        ),
    )
    .unwrap();
    let run = tmp.path().join("data");
    ok(&datapact(&["run", s(&data), "--out", s(&run), "-q"]));
    let targets = format!(
        "[ {{ metric = \"withdrawals_mean\", mechanism = \"M\", value = {}, se = {} }},\n  \
         {{ metric = \"success_rate\", mechanism = \"M\", value = {}, se = {} }} ]",
        cell(&run, "withdrawals_mean"),
        cell(&run, "withdrawals_se"),
        cell(&run, "success_rate"),
        cell(&run, "success_se"),
    );
    let file = tmp.path().join("fit.toml");
    std::fs::write(
        &file,
        format!(
            "mechanisms = [\"M\"]\n[scenario]\nname = \"fit\"\nseed = 99\nreplications = 200\n\
             [calibrate]\ngenerations = 3\nparticles = 50\nproposals = 500\ntargets = {targets}\n\
             [calibrate.keys]\n\"population.cost.high\" = {{ from = 0.5, to = 2.0 }}\n"
        ),
    )
    .unwrap();
    let out = tmp.path().join("fit");
    let stdout = ok(&datapact(&[
        "calibrate",
        s(&file),
        "--out",
        s(&out),
        "-q",
        "--threads",
        "2",
    ]));
    let (names, f, _) = table(&out.join("posterior.parquet"));
    assert_eq!(names, ["candidate", "cost_high", "weight", "distance"]);
    let (x, w) = (&f["cost_high"], &f["weight"]);
    let mean: f64 = x.iter().zip(w).map(|(x, w)| x * w).sum();
    let sd = x
        .iter()
        .zip(w)
        .map(|(x, w)| w * (x - mean).powi(2))
        .sum::<f64>()
        .sqrt();
    // Within 3 posterior SDs of the truth, and far narrower than the prior (SD 1.5/√12 = 0.43).
    assert!(
        (mean - truth).abs() <= 3.0 * sd,
        "mean {mean} sd {sd}\n{stdout}"
    );
    assert!(
        sd < 0.1,
        "sd {sd}: the targets told the calibration little\n{stdout}"
    );
    assert!(stdout.contains("90% interval"), "{stdout}");
    let png = std::fs::read(out.join("posterior.png")).unwrap();
    assert_eq!(&png[..4], b"\x89PNG");
    let (_, t, _) = table(&out.join("tolerances.parquet"));
    assert_eq!(t["epsilon"].len(), 3);
    assert!(
        t["epsilon"][2] < t["epsilon"][0],
        "the tolerance did not fall"
    );

    // An integer key and a zero SE are refused, naming the key.
    for (from, to, needle) in [
        (
            "\"population.cost.high\" = { from = 0.5, to = 2.0 }",
            "\"population.users\" = { from = 5, to = 40 }",
            "integer key",
        ),
        (
            "generations = 3",
            "generations = 0",
            "calibrate.generations",
        ),
    ] {
        let bad = tmp.path().join("bad.toml");
        std::fs::write(
            &bad,
            std::fs::read_to_string(&file).unwrap().replace(from, to),
        )
        .unwrap();
        let o = datapact(&[
            "calibrate",
            s(&bad),
            "--out",
            s(&tmp.path().join("b")),
            "-q",
        ]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(err.contains(needle) && err.contains("bad.toml"), "{err}");
    }
}
