//! The audit end to end on a tiny grid: every output is written, the claims of every variant
//! are decided, and the tables are identical whatever the thread count.

use std::path::Path;
use std::sync::Arc;

use datapact_audit::{AuditInputs, DEFAULT_SPEC};
use datapact_model::Catalog;
use datapact_sim::PluginSet;

fn tiny_spec() -> String {
    DEFAULT_SPEC
        .replace("replications = 500 ", "replications = 6 ")
        .replace("steps = 11 ", "steps = 2 ")
        .replace("replications = 200 ", "replications = 4 ")
        .replace("replications = 1000 ", "replications = 4 ")
        .replace("steps = 16 ", "steps = 2 ")
}

fn paper() -> Vec<(String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/paper");
    let mut v: Vec<(String, String)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .map(|p| {
            (
                p.file_stem().unwrap().to_string_lossy().to_string(),
                std::fs::read_to_string(&p).unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

fn run(
    out: &Path,
    threads: usize,
    spec: &str,
) -> Result<datapact_audit::AuditSummary, datapact_audit::AuditError> {
    let paper = paper();
    let paper: Vec<(&str, &str)> = paper
        .iter()
        .map(|(n, t)| (n.as_str(), t.as_str()))
        .collect();
    datapact_audit::run(&AuditInputs {
        spec: (spec, "tiny.toml"),
        paper: &paper,
        catalog: Arc::new(Catalog::core()),
        plugins: Arc::new(PluginSet::core()),
        out: out.to_path_buf(),
        threads,
        progress: false,
        cancel: None,
    })
}

#[test]
fn audit_writes_every_output_and_is_thread_independent() {
    let tmp = tempfile::tempdir().unwrap();
    let (one, two) = (tmp.path().join("one"), tmp.path().join("two"));
    let spec = tiny_spec();
    let summary = run(&one, 1, &spec).unwrap();
    run(&two, 2, &spec).unwrap();
    assert!(summary.variants.len() >= 8, "{:?}", summary.variants.len());
    assert_eq!(summary.variants[0].id, "baseline");
    for v in &summary.variants {
        assert_eq!(v.claims.len(), 6, "{}", v.id);
    }
    for table in ["deviations", "equilibria"] {
        let file = |d: &Path| std::fs::read(d.join(table).join("part-00000.parquet")).unwrap();
        assert_eq!(
            file(&one),
            file(&two),
            "{table} differs between 1 and 2 threads"
        );
    }
    let report = std::fs::read_to_string(one.join("REPORT.md")).unwrap();
    for section in [
        "ε-best response",
        "## 4. What each claim needs",
        "| baseline | paper settings |",
    ] {
        assert!(report.contains(section), "REPORT.md lacks {section:?}");
    }
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(one.join("claims_variants.json")).unwrap())
            .unwrap();
    assert_eq!(json.as_array().unwrap().len(), summary.variants.len());
    for f in ["claims_variants", "max_gain", "equilibrium_welfare"] {
        assert!(
            one.join("figures").join(format!("{f}.png")).is_file(),
            "{f}.png"
        );
    }
}

#[test]
fn bad_settings_stop_before_any_output() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let spec = tiny_spec().replace("cost_quantiles = [0.125,", "cost_quantiles = [1.5,");
    let e = run(&out, 1, &spec).unwrap_err().to_string();
    assert!(
        e.contains("tiny.toml") && e.contains("analysis.deviation.cost_quantiles"),
        "{e}"
    );
    assert!(!out.exists(), "nothing may be written on bad input");
    let spec = tiny_spec().replace("scenario = \"f3_welfare\"", "scenario = \"nope\"");
    let e = run(&out, 1, &spec).unwrap_err().to_string();
    assert!(
        e.contains("analysis.scenario") && e.contains("f3_welfare"),
        "{e}"
    );
}
