//! A run's metadata read back defensively: `_run.json`, `manifest.json`, the shard records
//! (`_shards/*.json`) and the chunk records (`_chunks/*.json`) replaced by arbitrary bytes,
//! truncated, or with one value anywhere in them swapped for an arbitrary one (huge counts,
//! non-ASCII strings, wrong types, deep nesting). Every reader (`RunView::open`, `finished`,
//! `verified`, `verify`) and `--resume` must return — no panic, no allocation or loop sized by
//! a count read from the file — and never accept a changed file as the run's: if `verify`
//! passes, the typed manifest and identity are the run's own; if a resume succeeds and verifies,
//! its files are the run's own bytes.
//!
//! Case counts are bounded for CI (a few hundred inputs, seconds); `DATAPACT_FUZZ_CASES=N` runs
//! N cases of each of the three properties instead, e.g. ≥ 10^6 inputs once:
//! `DATAPACT_FUZZ_CASES=340000 cargo test --release -p datapact-runner --test fuzz_metadata`.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use datapact_runner::{RunOptions, RunView, Shard};
use datapact_scenario::Scenario;
use datapact_sim::PluginSet;
use proptest::prelude::*;
use serde_json::Value;

/// A Sobol design (so that the manifest has a design record) over 8 cells in 4 chunks, run as
/// two shards.
const SCENARIO: &str = r#"mechanisms = ["C", "S", "M"]
[scenario]
name = "fuzzmeta"
seed = 5
replications = 2
[population]
users = 4
[design]
kind = "sobol"
samples = 2
game.value = { from = 0.05, to = 0.3 }
[output]
trace = "rounds"
chunk_cells = 2
"#;

/// The metadata files mutated, relative to the run.
const FILES: [&str; 4] = [
    "_run.json",
    "manifest.json",
    "_shards/shard-00001-of-00002.json",
    "_chunks/part-000000.json",
];

struct Base {
    scenario: Scenario,
    plugins: Arc<PluginSet>,
    dir: tempfile::TempDir,
    /// Every file of the finished run, by relative path.
    files: Vec<(PathBuf, Vec<u8>)>,
    manifest: datapact_runner::Manifest,
    identity: datapact_runner::RunIdentity,
}

fn options(out: &Path, shard: Shard, resume: bool, plugins: &Arc<PluginSet>) -> RunOptions {
    RunOptions {
        shard,
        resume,
        plugins: plugins.clone(),
        ..RunOptions::new(out)
    }
}

fn base() -> &'static Base {
    static BASE: OnceLock<Base> = OnceLock::new();
    BASE.get_or_init(|| {
        let scenario = Scenario::from_str(SCENARIO, "fuzzmeta.toml", &[]).unwrap();
        let plugins = Arc::new(PluginSet::core());
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("run");
        for i in 0..2 {
            let shard = Shard { index: i, count: 2 };
            datapact_runner::run(&scenario, &options(&out, shard, false, &plugins)).unwrap();
        }
        let verification = datapact_runner::verify(&out).unwrap();
        assert!(verification.ok(), "{verification:?}");
        let mut files = Vec::new();
        collect(&out, &out, &mut files);
        let view = RunView::open(&out).unwrap();
        let manifest = view.finished().unwrap().clone();
        Base {
            scenario,
            plugins,
            identity: view.identity.clone(),
            manifest,
            files,
            dir,
        }
    })
}

fn collect(root: &Path, dir: &Path, out: &mut Vec<(PathBuf, Vec<u8>)>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            collect(root, &p, out);
        } else if !p.ends_with("_locks") && p.parent().is_some_and(|d| !d.ends_with("_locks")) {
            let rel = p.strip_prefix(root).unwrap().to_path_buf();
            out.push((rel, std::fs::read(&p).unwrap()));
        }
    }
    out.sort();
}

/// A fresh copy of the finished run.
fn copy_of_base(b: &Base, tag: &str) -> PathBuf {
    let out = b
        .dir
        .path()
        .join(format!("case-{tag}-{:?}", std::thread::current().id()));
    let _ = std::fs::remove_dir_all(&out);
    for (rel, bytes) in &b.files {
        let p = out.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
    }
    out
}

/// Every reader, then a resume of shard 0; the properties of the module's doc.
fn exercise(b: &Base, out: &Path) {
    if let Ok(view) = RunView::open(out) {
        let _ = view.plan();
        let _ = view.expected_parts();
        let _ = view.complete_shards();
        let _ = view.trusted_manifest();
        if let Ok(m) = view.finished() {
            let m = m.clone();
            if view.verified(&datapact_trace::Table::ALL).is_ok() {
                assert!(m == b.manifest, "a changed manifest read as the run's");
                assert!(
                    view.identity == b.identity,
                    "a changed identity read as the run's"
                );
            }
        }
    }
    if let Ok(v) = datapact_runner::verify(out)
        && v.ok()
    {
        let view = RunView::open(out).expect("verified, so it opens");
        assert!(
            view.manifest.as_ref() == Some(&b.manifest),
            "verify passed a changed manifest"
        );
        assert!(
            view.identity == b.identity,
            "verify passed a changed identity"
        );
    }
    let resumed = datapact_runner::run(
        &b.scenario,
        &options(out, Shard { index: 0, count: 2 }, true, &b.plugins),
    );
    if resumed.is_ok() && datapact_runner::verify(out).is_ok_and(|v| v.ok()) {
        for (rel, bytes) in &b.files {
            let name = rel.to_string_lossy();
            if name.ends_with(".parquet") || name == "manifest.json" {
                let now = std::fs::read(out.join(rel)).unwrap_or_default();
                assert!(
                    now == *bytes,
                    "{name}: a resume that verifies wrote other bytes than the run's"
                );
            }
        }
    }
    let _ = std::fs::remove_dir_all(out);
}

/// Values that break naive readers: huge and negative counts, non-ASCII and long strings,
/// wrong types, nesting.
fn evil_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<u64>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        prop_oneof![
            Just(1e15),
            Just(1e12),
            Just(-1.0),
            Just(0.5),
            Just(1e308),
            Just(-0.0)
        ]
        .prop_map(Value::from),
        Just(Value::from(u64::MAX)),
        Just(Value::from(1_000_000_000_000_000u64)),
        Just(Value::from(0u64)),
        "\\PC{0,40}".prop_map(Value::from),
        Just(Value::from("é".repeat(40))),
        Just(Value::from("../../../etc/passwd")),
        Just(Value::from("cells/part-999999.parquet")),
        Just(Value::from("x".repeat(100_000))),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{1,12}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Replaces the value reached by following `path` (each step picks an entry modulo its count).
fn replace_at(v: &mut Value, path: &[usize], with: Value) {
    let Some((&step, rest)) = path.split_first() else {
        *v = with;
        return;
    };
    match v {
        Value::Object(m) if !m.is_empty() => {
            let key = m.keys().nth(step % m.len()).unwrap().clone();
            replace_at(m.get_mut(&key).unwrap(), rest, with);
        }
        Value::Array(a) if !a.is_empty() => {
            let n = a.len();
            replace_at(&mut a[step % n], rest, with);
        }
        _ => *v = with,
    }
}

fn original(b: &Base, file: &str) -> Vec<u8> {
    b.files
        .iter()
        .find(|(rel, _)| rel == Path::new(file))
        .map(|(_, bytes)| bytes.clone())
        .unwrap_or_else(|| panic!("{file} in the base run"))
}

/// `default` cases, or `DATAPACT_FUZZ_CASES` when set.
fn cases(default: u32) -> ProptestConfig {
    let cases = std::env::var("DATAPACT_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default);
    ProptestConfig {
        cases,
        max_shrink_iters: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

#[test]
fn the_base_run_verifies_and_resumes_to_itself() {
    let b = base();
    let out = copy_of_base(b, "same");
    exercise(b, &out);
}

#[test]
fn impossible_counts_are_refused_before_use() {
    let b = base();
    for (key, value) in [
        ("cells", Value::from(1_000_000_000_000_000u64)),
        ("shards", Value::from(1_000_000_000_000u64)),
        ("chunk_cells", Value::from(0)),
        ("scenario_hash", Value::from("ééééééééééééééééé")),
    ] {
        let out = copy_of_base(b, key);
        let mut id: Value = serde_json::from_slice(&original(b, "_run.json")).unwrap();
        id[key] = value;
        std::fs::write(out.join("_run.json"), serde_json::to_vec(&id).unwrap()).unwrap();
        let started = std::time::Instant::now();
        let refused = RunView::open(&out).and_then(|v| v.finished().map(drop));
        assert!(refused.is_err(), "{key}: accepted");
        let resumed = datapact_runner::run(
            &b.scenario,
            &options(&out, Shard { index: 0, count: 2 }, true, &b.plugins),
        );
        assert!(resumed.is_err(), "{key}: resumed into");
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "{key}: took {:?}",
            started.elapsed()
        );
        exercise(b, &out);
    }
}

proptest! {
    #![proptest_config(cases(150))]

    /// Any bytes in place of one metadata file.
    #[test]
    fn arbitrary_bytes_never_panic(
        file in 0..FILES.len(),
        bytes in prop::collection::vec(any::<u8>(), 0..600),
    ) {
        let b = base();
        let out = copy_of_base(b, "bytes");
        std::fs::write(out.join(FILES[file]), &bytes).unwrap();
        exercise(b, &out);
    }

    /// One value anywhere in one metadata file replaced by an arbitrary one.
    #[test]
    fn arbitrary_values_never_panic_or_pass_as_the_runs(
        file in 0..FILES.len(),
        path in prop::collection::vec(any::<usize>(), 0..6),
        with in evil_value(),
    ) {
        let b = base();
        let out = copy_of_base(b, "value");
        let mut v: Value = serde_json::from_slice(&original(b, FILES[file])).unwrap();
        replace_at(&mut v, &path, with);
        std::fs::write(out.join(FILES[file]), serde_json::to_vec_pretty(&v).unwrap()).unwrap();
        exercise(b, &out);
    }

    /// A metadata file cut short, or with one byte changed.
    #[test]
    fn truncated_or_flipped_files_never_panic(
        file in 0..FILES.len(),
        at in any::<usize>(),
        flip in any::<u8>(),
        truncate in any::<bool>(),
    ) {
        let b = base();
        let out = copy_of_base(b, "cut");
        let mut bytes = original(b, FILES[file]);
        let at = at % bytes.len();
        if truncate {
            bytes.truncate(at);
        } else {
            bytes[at] ^= flip.max(1);
        }
        std::fs::write(out.join(FILES[file]), &bytes).unwrap();
        exercise(b, &out);
    }
}
