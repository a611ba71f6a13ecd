//! The report renders from real (small) runs: the paper scenarios shrunk to a 4×4 grid and a few
//! replications, run with `datapact_runner::run` into a temporary directory.

use std::path::{Path, PathBuf};

use datapact_report::claims::Verdict;
use datapact_report::{PaperScenario, Reference};
use datapact_runner::{RunOptions, Shard};
use datapact_scenario::Scenario;
use datapact_trace::Table;
use datapact_trace::arrow::array::{Array, Float64Array, StringArray};

const SCENARIOS: [&str; 10] = [
    "f1_success_m",
    "f2_success_c",
    "f3_welfare",
    "f4_beta25",
    "f5_beta52",
    "f6_obs_noise",
    "f7_cost_efficiency",
    "f8_pareto",
    "f9_leakage",
    "claims_nulls",
];

/// Runs every paper scenario, shrunk, into `dir/<name>`; returns them as the paper the report
/// recognises (by hash).
fn run_small(dir: &Path) -> Reference {
    run_small_seeded(dir, &SCENARIOS, None)
}

/// [`run_small`] of the scenarios `names`, with `scenario.seed` set to `seed` if given.
fn run_small_seeded(dir: &Path, names: &[&str], seed: Option<u64>) -> Reference {
    let mut reference = Reference::default();
    let paper = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/paper");
    for &name in names {
        let text = std::fs::read_to_string(paper.join(format!("{name}.toml"))).unwrap();
        assert!(text.contains("steps = 31"));
        let small = text
            .replace("steps = 31", "steps = 4")
            .replace("replications = 2500", "replications = 40")
            .replace("replications = 100", "replications = 40");
        let overrides: Vec<String> = seed
            .map(|s| format!("scenario.seed={s}"))
            .into_iter()
            .collect();
        let scenario = Scenario::from_str(&small, name, &overrides).unwrap();
        let opts = RunOptions {
            threads: 2,
            shard: Shard::WHOLE,
            ..RunOptions::new(dir.join(name))
        };
        datapact_runner::run(&scenario, &opts).unwrap();
        reference.paper.push(PaperScenario {
            name: scenario.name.clone(),
            hash: scenario.hash(),
            toml: scenario.normalized(),
        });
    }
    reference
}

/// Width and height from a PNG's IHDR chunk.
fn png_size(path: &Path) -> (u32, u32) {
    let b = std::fs::read(path).unwrap();
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

fn verdict_of(ok: bool) -> &'static str {
    if ok { "held" } else { "not held" }
}

/// Max `leakage_mean` of `mechs` over a run's cells, read straight from Arrow.
fn max_leakage(run: &Path, mechs: &[&str]) -> f64 {
    let mut max = f64::NEG_INFINITY;
    for b in datapact_trace::read_table(run, Table::Cells).unwrap() {
        let m = b
            .column_by_name("mechanism")
            .unwrap()
            .as_any()
            .downcast_ref::<StringArray>()
            .unwrap();
        let l = b
            .column_by_name("leakage_mean")
            .unwrap()
            .as_any()
            .downcast_ref::<Float64Array>()
            .unwrap();
        for i in 0..b.num_rows() {
            if mechs.contains(&m.value(i)) && !l.is_null(i) {
                max = max.max(l.value(i));
            }
        }
    }
    max
}

#[test]
fn report_renders_from_small_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let results: PathBuf = tmp.path().join("results");
    let reference = run_small(&results);
    let out = results.join("report");
    let report = datapact_report::render_report(&results, &out, &reference).unwrap();
    assert!(report.missing.is_empty(), "{:?}", report.missing);

    // every figure, PNG and SVG, plausible sizes and the intended pixel dimensions
    let expected: [(&str, (u32, u32)); 9] = [
        ("F1", (600, 556)),
        ("F2", (600, 556)),
        ("F3", (1800, 556)),
        ("F4", (1800, 1056)),
        ("F5", (1800, 1056)),
        ("F6", (1800, 1556)),
        ("F7", (1800, 556)),
        ("F8", (1200, 556)),
        ("F9", (600, 556)),
    ];
    assert_eq!(report.figures.len(), 9);
    for (id, size) in expected {
        let png = out.join(format!("{id}.png"));
        let svg = out.join(format!("{id}.svg"));
        let png_len = std::fs::metadata(&png).unwrap().len();
        assert!(png_len > 5_000, "{id}.png only {png_len} bytes");
        assert_eq!(png_size(&png), size, "{id}.png dimensions");
        let svg_text = std::fs::read_to_string(&svg).unwrap();
        assert!(
            svg_text.len() > 5_000 && svg_text.contains("<svg"),
            "{id}.svg"
        );
        assert!(
            svg_text.contains("value of improvement V (per user)"),
            "{id}.svg lacks the x label"
        );
        assert!(
            svg_text.contains("payment p (per unit of data)"),
            "{id}.svg lacks the y label"
        );
    }

    // the claims table: six rows, in REPORT.md, index.html and claims.json alike
    assert_eq!(report.claims.len(), 6);
    let md = std::fs::read_to_string(out.join("REPORT.md")).unwrap();
    let html = std::fs::read_to_string(out.join("index.html")).unwrap();
    let rows: Vec<Vec<String>> = md
        .lines()
        .filter(|l| {
            l.starts_with("| ") && l[2..].chars().next().is_some_and(|c| c.is_ascii_digit())
        })
        .map(|l| l.split(" | ").map(str::to_string).collect())
        .collect();
    // the literal rules, then the same claims decided as tests
    assert_eq!(rows.len(), 12, "claims rows in REPORT.md");
    for (row, claim) in rows.iter().zip(&report.claims) {
        assert_eq!(row[0], format!("| {}", claim.id));
        assert_eq!(row[2], claim.verdict.as_str());
        assert!(html.contains(&format!("<td><b>{}</b></td>", claim.verdict.as_str())));
    }
    for (row, claim) in rows[6..].iter().zip(&report.claims) {
        assert_eq!(row[0], format!("| {}", claim.id));
        assert_eq!(row[1], claim.test_verdict.as_str());
        assert_eq!(row[2], claim.verdict.as_str());
        assert_eq!(row[3], format!("{} of 1", claim.seeds_held));
        assert_eq!(claim.seeds, 1);
        assert_ne!(
            claim.test_verdict,
            Verdict::NotTested,
            "{}",
            claim.test_numbers
        );
    }
    for id in ["F1", "F5", "F9"] {
        assert!(html.contains(&format!("<img src=\"{id}.png\"")));
        assert!(md.contains(&format!("]({id}.png)")));
    }
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("claims.json")).unwrap()).unwrap();
    assert_eq!(json.as_array().unwrap().len(), 6);
    for (entry, claim) in json.as_array().unwrap().iter().zip(&report.claims) {
        assert_eq!(entry["seeds"], 1);
        assert_eq!(entry["seeds_held"], claim.seeds_held);
        assert_eq!(entry["test_verdict"], format!("{:?}", claim.test_verdict));
    }

    // verdicts follow from the data: claim 1 recomputed from the Parquet files directly
    let c_max = max_leakage(&results.join("f9_leakage"), &["C"]);
    let sm_max = SCENARIOS
        .iter()
        .map(|n| max_leakage(&results.join(n), &["S", "M"]))
        .fold(f64::NEG_INFINITY, f64::max);
    assert_eq!(
        report.claims[0].verdict.as_str(),
        verdict_of(c_max > 0.0 && sm_max == 0.0)
    );
    // claim 2 is tested (the small null run has null outcomes) and every claim is decided
    for c in &report.claims {
        assert_ne!(
            c.verdict,
            Verdict::NotTested,
            "claim {} not tested: {}",
            c.id,
            c.numbers
        );
    }
    // claim 5 recomputed from the loaded tables
    let runs = datapact_report::load::load_runs(&results, &[]).unwrap();
    let mut ok5 = true;
    for name in ["f3_welfare", "f4_beta25", "f5_beta52"] {
        let t = &runs.iter().find(|r| r.name == name).unwrap().cells;
        let w = |m: &str| {
            let v: Vec<f64> = t.of(m).map(|r| r.welfare_mean).collect();
            v.iter().sum::<f64>() / v.len() as f64
        };
        ok5 &= w("M") >= w("S") && w("S") > w("C");
    }
    assert_eq!(report.claims[4].verdict.as_str(), verdict_of(ok5));
}

/// A run named like a paper scenario but with an override is not drawn as the paper's figure:
/// it gets generic figures (contrast panels included) and a note naming what changed.
#[test]
fn a_paper_named_run_with_an_override_is_drawn_generically_with_a_note() {
    let tmp = tempfile::tempdir().unwrap();
    let results = tmp.path().join("results");
    let paper = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/paper");
    let text = std::fs::read_to_string(paper.join("f3_welfare.toml"))
        .unwrap()
        .replace("steps = 31", "steps = 3");
    let small = |sets: &[&str]| {
        let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
        Scenario::from_str(&text, "f3_welfare", &sets).unwrap()
    };
    let as_paper = small(&["scenario.replications=20"]);
    let changed = small(&["scenario.replications=20", "game.drift=0.2"]);
    let opts = RunOptions {
        threads: 2,
        shard: Shard::WHOLE,
        ..RunOptions::new(results.join("f3_welfare"))
    };
    datapact_runner::run(&changed, &opts).unwrap();
    let reference = Reference {
        paper: vec![PaperScenario {
            name: as_paper.name.clone(),
            hash: as_paper.hash(),
            toml: as_paper.normalized(),
        }],
        defaults_toml: String::new(),
    };
    let out = tmp.path().join("report");
    let report = datapact_report::render_report(&results, &out, &reference).unwrap();
    assert!(report.claims.is_empty(), "not the paper's run: no claims");
    assert!(!out.join("F3.png").exists());
    assert_eq!(report.other_runs, ["f3_welfare"]);
    assert_eq!(report.notes.len(), 1);
    assert!(
        report.notes[0].contains("game.drift = 0.2"),
        "{}",
        report.notes[0]
    );
    let md = std::fs::read_to_string(out.join("REPORT.md")).unwrap();
    assert!(
        md.contains("game.drift = 0.2"),
        "captions carry the override"
    );
    assert!(
        out.join("f3_welfare/contrast_welfare.png").is_file(),
        "contrast panels are drawn"
    );
}

/// F11 is drawn from the two scaling runs (shrunk), and its finding on M − S follows the
/// decision rule applied to the `contrasts` table as read straight from Parquet.
#[test]
fn scaling_figure_and_finding_from_small_runs() {
    use datapact_report::claims::{Trend, advantage_trend};
    let tmp = tempfile::tempdir().unwrap();
    let results = tmp.path().join("results");
    let paper = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/paper");
    let mut reference = Reference::default();
    for (name, values, reps) in [
        ("f11_scaling", "[20, 200]", 60),
        ("f11_scaling_large", "[600, 1200]", 6),
    ] {
        let text = std::fs::read_to_string(paper.join(format!("{name}.toml"))).unwrap();
        let start = text.find("values = [").unwrap();
        let end = start + text[start..].find(']').unwrap() + 1;
        let small = format!("{}values = {values}{}", &text[..start], &text[end..]);
        let sets = [format!("scenario.replications={reps}")];
        let scenario = Scenario::from_str(&small, name, &sets).unwrap();
        let opts = RunOptions {
            threads: 2,
            shard: Shard::WHOLE,
            ..RunOptions::new(results.join(name))
        };
        datapact_runner::run(&scenario, &opts).unwrap();
        reference.paper.push(PaperScenario {
            name: scenario.name.clone(),
            hash: scenario.hash(),
            toml: scenario.normalized(),
        });
    }
    let out = results.join("report");
    let report = datapact_report::render_report(&results, &out, &reference).unwrap();
    let png = out.join("F11.png");
    assert_eq!(png_size(&png), (3 * 620, 56 + 30 + 520), "three panels");
    let svg = std::fs::read_to_string(out.join("F11.svg")).unwrap();
    for text in [
        "users n (log scale)",
        "welfare per user",
        "10³",
        "M (sequential)",
    ] {
        assert!(svg.contains(text), "F11.svg lacks {text:?}");
    }

    // M − S success per n, read from the contrasts table directly
    let mut points = Vec::new();
    for name in ["f11_scaling", "f11_scaling_large"] {
        for b in datapact_trace::read_table(&results.join(name), Table::Contrasts).unwrap() {
            let col = |c: &str| {
                b.column_by_name(c)
                    .unwrap()
                    .as_any()
                    .downcast_ref::<Float64Array>()
                    .unwrap()
                    .clone()
            };
            let s = |c: &str| {
                b.column_by_name(c)
                    .unwrap()
                    .as_any()
                    .downcast_ref::<StringArray>()
                    .unwrap()
                    .clone()
            };
            let (users, diff, se) = (col("users"), col("success_diff"), col("success_diff_se"));
            let (a, bm) = (s("mechanism_a"), s("mechanism_b"));
            for i in 0..b.num_rows() {
                if a.value(i) == "M" && bm.value(i) == "S" {
                    points.push((users.value(i), diff.value(i), se.value(i)));
                }
            }
        }
    }
    assert_eq!(points.len(), 4, "one M − S row per n");
    let trend: Trend = advantage_trend(&points).unwrap();
    assert_eq!(report.findings.len(), 2, "{:?}", report.findings);
    assert!(report.findings[0].starts_with("M − S success"));
    assert!(
        report.findings[0].ends_with(trend.as_str()),
        "{} vs {trend:?}",
        report.findings[0]
    );
    assert!(report.findings[1].starts_with("M − S welfare per user"));
    let md = std::fs::read_to_string(out.join("REPORT.md")).unwrap();
    assert!(md.contains("](F11.png)"));
    assert!(md.contains(&report.findings[0]));
    assert!(md.contains("grow or vanish"));
}

/// `datapact reproduce --seeds 2`'s report: the runs the claims read, again under another seed in
/// `seeds/2`, recognised by that seed's hashes; every claim then counts 2 seeds and the seeds
/// under which its test held, in the report's claims and in claims.json.
#[test]
fn claims_counted_over_two_seeds() {
    let dir = tempfile::tempdir().unwrap();
    let results = dir.path().join("results");
    let reference = run_small(&results);
    let other = results.join("seeds").join("2");
    let claims_runs = datapact_report::runs::CLAIMS;
    let seeded = run_small_seeded(&other, &claims_runs, Some(20260509));
    let out = dir.path().join("report");
    let one = datapact_report::render_report(&results, &out, &reference).unwrap();
    let two = datapact_report::render_report_with_seeds(
        &results,
        &out,
        &reference,
        &[(other.clone(), seeded.clone())],
    )
    .unwrap();
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("claims.json")).unwrap()).unwrap();
    for ((c1, c2), entry) in one
        .claims
        .iter()
        .zip(&two.claims)
        .zip(json.as_array().unwrap())
    {
        assert_eq!(c1.seeds, 1);
        assert_eq!(c2.seeds, 2);
        assert_eq!(entry["seeds"], 2);
        assert_eq!(entry["seeds_held"], c2.seeds_held);
        // the main seed's verdicts are unchanged; the second seed adds 0 or 1
        assert_eq!(c2.test_verdict, c1.test_verdict);
        assert!(c2.seeds_held == c1.seeds_held || c2.seeds_held == c1.seeds_held + 1);
    }
    // a directory of runs under another seed is ignored with the main seed's hashes (a run
    // counts only by hash): every claim is then not tested there, held under 0 more seeds
    let ignored = datapact_report::render_report_with_seeds(
        &results,
        &dir.path().join("report2"),
        &reference,
        &[(other, reference.clone())],
    )
    .unwrap();
    for (c1, c) in one.claims.iter().zip(&ignored.claims) {
        assert_eq!((c.seeds, c.seeds_held), (2, c1.seeds_held));
    }
}
