//! A run's metadata read back defensively: `_run.json`, `manifest.json`, the shard records
//! (`_shards/*.json`), the chunk records (`_chunks/*.json`) and a listed design's
//! `design_points.parquet` replaced by arbitrary bytes, truncated, or (the JSON records) with one
//! value anywhere in them swapped for an arbitrary one (huge counts, non-ASCII strings, wrong
//! types, deep nesting), in a run of a Sobol design or of a listed one (points from a file).
//! Every reader (`RunView::open`, `finished`, `verified`, `verify`) and `--resume` must return —
//! no panic, no allocation or loop sized by a count read from the file — and never accept a
//! changed file as the run's: if `verify` passes, the typed manifest and identity are the run's
//! own and so are the bytes of every Parquet file (parts and points); if a resume succeeds and
//! verifies, its files are the run's own bytes.
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
use proptest::sample::Index;
use serde_json::Value;

/// A base run's scenario: 3 mechanisms, 4 users, 2 replications, its `[design]` and
/// `[output]` tables given.
fn scenario_text(name: &str, design: &[&str], output: &str) -> String {
    let design = design.join("\n");
    format!(
        "mechanisms = [\"C\", \"S\", \"M\"]\n[scenario]\nname = \"{name}\"\nseed = 5\n\
         replications = 2\n[population]\nusers = 4\n[design]\n{design}\n[output]\n{output}\n"
    )
}

/// A Sobol design (so that the manifest has a design record) over 8 cells in 4 chunks, run as
/// two shards, traced at rounds (4 tables: 16 parts).
fn sobol() -> String {
    let design = [
        "kind = \"sobol\"",
        "samples = 2",
        "game.value = { from = 0.05, to = 0.3 }",
    ];
    scenario_text("fuzzmeta", &design, "trace = \"rounds\"\nchunk_cells = 2")
}

/// A listed design: 8 points from `points.csv` (beside the scenario) in 2 chunks, one per
/// shard, at the default trace level (3 tables: 6 parts, against the Sobol run's 16, so that an
/// input costs less and the two runs differ in shape). The run holds the points once, in
/// `design_points.parquet`, which `_run.json` and the manifest's design record (`points_file`)
/// name with rows and SHA-256.
fn listed() -> String {
    let design = ["kind = \"points\"", "file = \"points.csv\""];
    scenario_text("fuzzlisted", &design, "chunk_cells = 4")
}

/// The JSON metadata files mutated, relative to the run (every base run has them).
const FILES: [&str; 4] = [
    "_run.json",
    "manifest.json",
    "_shards/shard-00001-of-00002.json",
    "_chunks/part-000000.json",
];

/// A listed design's one copy of its points, also mutated (bytes, truncation, flips).
const POINTS: &str = "design_points.parquet";

struct Base {
    scenario: Scenario,
    plugins: Arc<PluginSet>,
    dir: tempfile::TempDir,
    /// Every file of the finished run, by relative path.
    files: Vec<(PathBuf, Vec<u8>)>,
    manifest: datapact_runner::Manifest,
    identity: datapact_runner::RunIdentity,
    /// The files whose bytes are mutated: [`FILES`], and [`POINTS`] in a listed design's run.
    mutated: Vec<&'static str>,
}

fn options(out: &Path, shard: Shard, resume: bool, plugins: &Arc<PluginSet>) -> RunOptions {
    RunOptions {
        shard,
        resume,
        plugins: plugins.clone(),
        ..RunOptions::new(out)
    }
}

/// The two base runs, made once: `[Sobol design, listed design]`.
fn bases() -> &'static [Base; 2] {
    static BASES: OnceLock<[Base; 2]> = OnceLock::new();
    BASES.get_or_init(|| {
        [
            make_base(&sobol(), None),
            make_base(&listed(), Some(points_csv())),
        ]
    })
}

/// The base run of `listed` (a Sobol design's when false) for a property's choice.
fn base(listed: bool) -> &'static Base {
    &bases()[usize::from(listed)]
}

/// 8 points over two keys, every value distinct.
fn points_csv() -> String {
    let mut csv = String::from("game.value,game.payment\n");
    for i in 0..8 {
        csv.push_str(&format!("{},{}\n", 0.05 + 0.03 * i as f64, 0.02 * i as f64));
    }
    csv
}

/// Runs `text` (with `points` written beside it as `points.csv`) as two shards into a new
/// temporary directory and reads the finished run back.
fn make_base(text: &str, points: Option<String>) -> Base {
    let dir = tempfile::tempdir().unwrap();
    if let Some(csv) = &points {
        std::fs::write(dir.path().join("points.csv"), csv).unwrap();
    }
    let origin = dir.path().join("fuzzmeta.toml");
    let scenario = Scenario::from_str(text, &origin.to_string_lossy(), &[]).unwrap();
    let plugins = Arc::new(PluginSet::core());
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
    let mut mutated = FILES.to_vec();
    if points.is_some() {
        assert!(
            manifest
                .design
                .as_ref()
                .is_some_and(|d| d.points_file.is_some()),
            "a listed design's manifest names its points file"
        );
        mutated.push(POINTS);
    }
    for file in &mutated {
        assert!(
            files.iter().any(|(rel, _)| rel == Path::new(file)),
            "{file} in the base run"
        );
    }
    Base {
        scenario,
        plugins,
        identity: view.identity.clone(),
        manifest,
        files,
        dir,
        mutated,
    }
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
    let mut made: Option<&Path> = None;
    for (rel, bytes) in &b.files {
        let p = out.join(rel);
        // (Sorted by path: a directory's files are together.)
        if made != rel.parent() {
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            made = rel.parent();
        }
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
                assert_parquet_is_the_runs(b, out, "verified");
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
        assert_parquet_is_the_runs(b, out, "verify");
    }
    let resumed = datapact_runner::run(
        &b.scenario,
        &options(out, Shard { index: 0, count: 2 }, true, &b.plugins),
    );
    // A resume that succeeds and verifies leaves the run's own bytes: when it left them, that
    // holds whatever `verify` says (it has read this input above); when it did not, `verify`
    // must fail.
    if resumed.is_ok() {
        let changed: Vec<String> = b
            .files
            .iter()
            .map(|(rel, bytes)| (rel.to_string_lossy(), bytes))
            .filter(|(name, _)| name.ends_with(".parquet") || name == "manifest.json")
            .filter(|(name, bytes)| {
                std::fs::read(out.join(name.as_ref())).unwrap_or_default() != **bytes
            })
            .map(|(name, _)| name.into_owned())
            .collect();
        assert!(
            changed.is_empty() || !datapact_runner::verify(out).is_ok_and(|v| v.ok()),
            "{changed:?}: a resume that verifies wrote other bytes than the run's"
        );
    }
    let _ = std::fs::remove_dir_all(out);
}

/// Every Parquet file of the base run (parts and a listed design's points) is at `out` with the
/// run's bytes: what a reader that passed (`what`) has read as the run's.
fn assert_parquet_is_the_runs(b: &Base, out: &Path, what: &str) {
    for (rel, bytes) in &b.files {
        let name = rel.to_string_lossy();
        if name.ends_with(".parquet") {
            let now = std::fs::read(out.join(rel)).unwrap_or_default();
            assert!(
                now == *bytes,
                "{name}: {what} passed other bytes as the run's"
            );
        }
    }
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

/// Every value of `_run.json`, `manifest.json` and the shard records is checked: any one changed
/// (a boolean flipped, a number's lowest bit, a character added to a string, a list's last
/// element dropped) and `verify` fails. (The chunk records are read by a resume alone.) Found by
/// the fuzz: a listed design's `_run.json` naming another points file, and a shard record of
/// another datapact version, passed.
#[test]
fn every_value_of_the_runs_records_is_checked() {
    let records = [
        "_run.json",
        "manifest.json",
        "_shards/shard-00000-of-00002.json",
        "_shards/shard-00001-of-00002.json",
    ];
    for listed in [false, true] {
        let b = base(listed);
        for file in records {
            let record: Value = serde_json::from_slice(&original(b, file)).unwrap();
            let mut pointers = Vec::new();
            leaves(&record, String::new(), &mut pointers);
            for pointer in pointers {
                let mut changed = record.clone();
                let at = changed.pointer_mut(&pointer).unwrap();
                *at = other_value(at);
                let out = copy_of_base(b, "each");
                std::fs::write(out.join(file), serde_json::to_vec(&changed).unwrap()).unwrap();
                assert!(
                    !datapact_runner::verify(&out).is_ok_and(|v| v.ok()),
                    "{file} {pointer}: a changed value passed verify"
                );
                let _ = std::fs::remove_dir_all(&out);
            }
        }
    }
}

/// JSON pointers to the values of `v` changed one at a time: every scalar, and each list itself
/// (with its first element's values; the others are alike).
fn leaves(v: &Value, at: String, out: &mut Vec<String>) {
    match v {
        Value::Object(m) if !m.is_empty() => {
            for (key, value) in m {
                let key = key.replace('~', "~0").replace('/', "~1");
                leaves(value, format!("{at}/{key}"), out);
            }
        }
        Value::Array(a) => {
            if let Some(first) = a.first() {
                leaves(first, format!("{at}/0"), out);
            }
            out.push(at);
        }
        _ => out.push(at),
    }
}

/// A value of the same kind as `v` that differs from it.
fn other_value(v: &Value) -> Value {
    match v {
        Value::Bool(b) => Value::Bool(!b),
        Value::Number(n) => match (n.as_u64(), n.as_i64(), n.as_f64()) {
            (Some(u), _, _) => Value::from(u ^ 1),
            (_, Some(i), _) => Value::from(i ^ 1),
            (_, _, Some(f)) => Value::from(if f == 0.0 { 1.0 } else { f * 2.0 }),
            _ => Value::Null,
        },
        Value::String(s) => Value::from(format!("{s}x")),
        Value::Array(a) if !a.is_empty() => Value::Array(a[..a.len() - 1].to_vec()),
        Value::Array(_) => Value::Array(vec![Value::Null]),
        Value::Object(_) => Value::from("x"),
        Value::Null => Value::from("x"),
    }
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
fn the_base_runs_verify_and_resume_to_themselves() {
    for listed in [false, true] {
        let b = base(listed);
        let out = copy_of_base(b, "same");
        exercise(b, &out);
    }
}

#[test]
fn impossible_counts_are_refused_before_use() {
    for (listed, (key, value)) in [false, true].into_iter().flat_map(|listed| {
        [
            ("cells", Value::from(1_000_000_000_000_000u64)),
            ("shards", Value::from(1_000_000_000_000u64)),
            ("chunk_cells", Value::from(0)),
            ("scenario_hash", Value::from("ééééééééééééééééé")),
        ]
        .map(|kv| (listed, kv))
    }) {
        let b = base(listed);
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

/// A listed design's points file replaced by a valid points file of other points (the same
/// keys and metadata, the points in reverse order), or removed: never read as the run's, and a
/// resume writes the run's own back.
#[test]
fn another_points_file_is_not_the_runs() {
    let b = base(true);
    let (keys, mut points) = b.scenario.listed_points().unwrap();
    points.reverse();
    let other = datapact_trace::design_points_bytes(
        &keys,
        &points,
        &b.scenario.hash(),
        b.scenario.seed,
        datapact_runner::VERSION,
    )
    .unwrap();
    assert!(other != original(b, POINTS));
    for replacement in [Some(other), None] {
        let out = copy_of_base(b, "points");
        match &replacement {
            Some(bytes) => std::fs::write(out.join(POINTS), bytes).unwrap(),
            None => std::fs::remove_file(out.join(POINTS)).unwrap(),
        }
        let view = RunView::open(&out).unwrap();
        assert!(view.verified(&datapact_trace::Table::ALL).is_err());
        assert!(!datapact_runner::verify(&out).unwrap().ok());
        datapact_runner::run(
            &b.scenario,
            &options(&out, Shard { index: 0, count: 2 }, true, &b.plugins),
        )
        .unwrap();
        assert!(datapact_runner::verify(&out).unwrap().ok());
        assert_parquet_is_the_runs(b, &out, "a resume");
        exercise(b, &out);
    }
}

proptest! {
    #![proptest_config(cases(150))]

    /// Any bytes in place of one metadata file (or a listed design's points file).
    #[test]
    fn arbitrary_bytes_never_panic(
        listed in any::<bool>(),
        file in any::<Index>(),
        bytes in prop::collection::vec(any::<u8>(), 0..600),
    ) {
        let b = base(listed);
        let file = *file.get(&b.mutated);
        let out = copy_of_base(b, "bytes");
        std::fs::write(out.join(file), &bytes).unwrap();
        exercise(b, &out);
    }

    /// One value anywhere in one metadata file replaced by an arbitrary one.
    #[test]
    fn arbitrary_values_never_panic_or_pass_as_the_runs(
        listed in any::<bool>(),
        file in 0..FILES.len(),
        path in prop::collection::vec(any::<usize>(), 0..6),
        with in evil_value(),
    ) {
        let b = base(listed);
        let out = copy_of_base(b, "value");
        let mut v: Value = serde_json::from_slice(&original(b, FILES[file])).unwrap();
        replace_at(&mut v, &path, with);
        std::fs::write(out.join(FILES[file]), serde_json::to_vec_pretty(&v).unwrap()).unwrap();
        exercise(b, &out);
    }

    /// A metadata file (or a listed design's points file) cut short, or with one byte changed.
    #[test]
    fn truncated_or_flipped_files_never_panic(
        listed in any::<bool>(),
        file in any::<Index>(),
        at in any::<usize>(),
        flip in any::<u8>(),
        truncate in any::<bool>(),
    ) {
        let b = base(listed);
        let file = *file.get(&b.mutated);
        let out = copy_of_base(b, "cut");
        let mut bytes = original(b, file);
        let at = at % bytes.len();
        if truncate {
            bytes.truncate(at);
        } else {
            bytes[at] ^= flip.max(1);
        }
        std::fs::write(out.join(file), &bytes).unwrap();
        exercise(b, &out);
    }
}
