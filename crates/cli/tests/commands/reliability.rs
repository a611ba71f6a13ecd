//! Reliability, round two: no silent wrong answers from damaged or mixed outputs, no foreign
//! data overwritten, every input refused before anything is created, one writer per shard.
//!
//! `DATAPACT_BIN` runs these tests against another build of the binary (how they were checked
//! to fail on the code before these guarantees existed).

use std::path::Path;

use crate::support::{bin, run, run_ok, s, text, write};

/// 6 cells in chunks of 2: three parts per table.
const SMALL: &str = r#"mechanisms = ["C", "S", "M"]
[scenario]
name = "rel"
seed = 11
replications = 20
[population]
users = 8
[sweep]
game.value = { from = 0.05, to = 0.3, steps = 3 }
game.payment = { values = [0.0, 0.2] }
[output]
trace = "rounds"
chunk_cells = 2
"#;

/// The part files of a run, by path, with their bytes.
fn parts(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for table in ["cells", "diagnostics", "rounds"] {
        for e in std::fs::read_dir(dir.join(table)).unwrap() {
            let p = e.unwrap().path();
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            if !name.starts_with('.') {
                out.push((format!("{table}/{name}"), std::fs::read(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

/// The state `kill -9` leaves: parts in place, no shard record, no manifest.
fn as_if_killed(out: &Path) {
    std::fs::remove_file(out.join("manifest.json")).unwrap();
    std::fs::remove_dir_all(out.join("_shards")).unwrap();
}

fn flip_in(path: &Path, needle: &[u8]) {
    let mut bytes = std::fs::read(path).unwrap();
    let at = bytes
        .windows(needle.len())
        .position(|w| w == needle)
        .expect("needle in file");
    bytes[at] ^= 0x01;
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn report_refuses_a_run_with_a_part_deleted_or_copied_in() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "rel.toml", SMALL);
    let out = dir.path().join("run");
    run_ok(&file, &out, &[]);
    let report = |tag: &str| run(&["report", s(&out), "--out", s(&dir.path().join(tag))]);
    let ok = report("r0");
    assert!(ok.status.success(), "a whole run reports: {}", text(&ok));

    let part = out.join("cells/part-000001.parquet");
    let saved = std::fs::read(&part).unwrap();
    std::fs::remove_file(&part).unwrap();
    let o = report("r1");
    assert_ne!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("part-000001"), "{}", text(&o));

    std::fs::write(&part, saved).unwrap();
    std::fs::copy(&part, out.join("cells/part-000001 (copy).parquet")).unwrap();
    let o = report("r2");
    assert_ne!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("part-000001 (copy)"), "{}", text(&o));
}

#[test]
fn verify_checks_the_manifest_against_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "rel.toml", SMALL);
    let out = dir.path().join("run");
    run_ok(&file, &out, &[]);
    assert!(run(&["verify", s(&out)]).status.success());

    // A part and its manifest entry gone, seed and replications edited: the files that remain
    // all match the manifest, but the manifest no longer describes this run.
    let path = out.join("manifest.json");
    let mut m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let parts = m["parts"].as_array_mut().unwrap();
    let at = parts
        .iter()
        .position(|p| p["file"] == "cells/part-000002.parquet")
        .unwrap();
    let rows = parts.remove(at)["rows"].as_u64().unwrap();
    let total = m["rows"]["cells"].as_u64().unwrap();
    m["rows"]["cells"] = (total - rows).into();
    m["seed"] = 12.into();
    m["replications"] = 21.into();
    std::fs::write(&path, serde_json::to_string_pretty(&m).unwrap()).unwrap();
    std::fs::remove_file(out.join("cells/part-000002.parquet")).unwrap();
    let o = run(&["verify", s(&out)]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    for word in ["cells/part-000002.parquet", "seed", "replications"] {
        assert!(text(&o).contains(word), "{word}: {}", text(&o));
    }
}

#[test]
fn resume_after_kill_rejects_foreign_and_altered_parts() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "rel.toml", SMALL);
    let other = write(
        dir.path(),
        "other.toml",
        &SMALL.replace("seed = 11", "seed = 12"),
    );
    let reference = dir.path().join("reference");
    run_ok(&file, &reference, &[]);
    let foreign = dir.path().join("foreign");
    run_ok(&other, &foreign, &[]);

    let out = dir.path().join("run");
    run_ok(&file, &out, &[]);
    as_if_killed(&out);
    // A part of a run with another seed, and a part altered where it still decodes (a byte of
    // the scenario text in its footer).
    std::fs::copy(
        foreign.join("cells/part-000001.parquet"),
        out.join("cells/part-000001.parquet"),
    )
    .unwrap();
    flip_in(
        &out.join("rounds/part-000002.parquet"),
        b"replications = 20",
    );
    run_ok(&file, &out, &["--resume"]);
    let (got, want) = (parts(&out), parts(&reference));
    assert_eq!(got.len(), want.len());
    for (a, b) in got.iter().zip(&want) {
        assert!(a == b, "{} differs from the uninterrupted run's", a.0);
    }
    assert!(run(&["verify", s(&out)]).status.success());

    // A stray part is named, not silently ignored.
    std::fs::copy(
        out.join("cells/part-000000.parquet"),
        out.join("cells/part-000009.parquet"),
    )
    .unwrap();
    as_if_killed(&out);
    let o = run(&["run", s(&file), "--out", s(&out), "-q", "--resume"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("cells/part-000009.parquet"),
        "{}",
        text(&o)
    );
}

#[test]
fn resuming_with_an_equivalent_scenario_file_writes_the_same_parts() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "rel.toml", SMALL);
    let crlf = format!("# the same scenario\r\n{}", SMALL.replace('\n', "\r\n"));
    let same = write(dir.path(), "same.toml", &crlf);
    let reference = dir.path().join("reference");
    run_ok(&file, &reference, &[]);
    let out = dir.path().join("run");
    run_ok(&file, &out, &[]);
    as_if_killed(&out);
    std::fs::remove_file(out.join("cells/part-000000.parquet")).unwrap();
    run_ok(&same, &out, &["--resume"]);
    assert!(
        parts(&out) == parts(&reference),
        "a resume with an equivalent file wrote other bytes"
    );
}

#[test]
fn out_is_only_created_or_adopted_when_empty_or_a_run_of_this_scenario() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "rel.toml", SMALL);
    let app = dir.path().join("webapp");
    std::fs::create_dir(&app).unwrap();
    let theirs = r#"{"name": "my web app", "version": "1.0"}"#;
    write(&app, "manifest.json", theirs);
    write(&app, "index.html", "<html></html>");
    let o = run(&["run", s(&file), "--out", s(&app), "-q"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("not empty"), "{}", text(&o));
    assert_eq!(
        std::fs::read_to_string(app.join("manifest.json")).unwrap(),
        theirs
    );
    assert!(!app.join("_run.json").exists() && !app.join("cells").exists());

    // An empty directory is adopted.
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    run_ok(&file, &empty, &[]);
}

#[test]
fn out_at_a_file_or_a_bad_symlink_is_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "rel.toml", SMALL);
    let regular = write(dir.path(), "regular", "x");
    let dangling = dir.path().join("dangling");
    std::os::unix::fs::symlink(dir.path().join("nowhere"), &dangling).unwrap();
    let looped = dir.path().join("loop");
    std::os::unix::fs::symlink(&looped, &looped).unwrap();
    for (out, says) in [
        (&regular, "not a directory"),
        (&dangling, "dangling symlink"),
        (&looped, "symlink loop"),
    ] {
        let o = run(&["run", s(&file), "--out", s(out), "-q"]);
        assert_eq!(o.status.code(), Some(2), "{}", text(&o));
        assert!(text(&o).contains(says), "{says}: {}", text(&o));
    }
    assert_eq!(std::fs::read_to_string(&regular).unwrap(), "x");
}

#[test]
fn names_that_would_escape_the_results_directory_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    for name in [
        "../../x",
        "/tmp/x",
        "..",
        "a\\u0000b",
        "tab\\tname",
        "back\\\\slash",
    ] {
        let body = SMALL.replace("name = \"rel\"", &format!("name = \"{name}\""));
        let file = write(dir.path(), "bad.toml", &body);
        let o = run(&["validate", s(&file)]);
        assert_eq!(o.status.code(), Some(2), "{name}: {}", text(&o));
        assert!(text(&o).contains("scenario.name"), "{name}: {}", text(&o));
        let cwd = tempfile::tempdir().unwrap();
        let o = bin()
            .args(["run", s(&file), "-q"])
            .current_dir(cwd.path())
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{name}: {}", text(&o));
        assert!(!cwd.path().join("results").exists(), "{name}");
    }
}

#[test]
fn validate_refuses_values_whose_arithmetic_overflows() {
    let dir = tempfile::tempdir().unwrap();
    for (line, key) in [
        ("[game]\nvalue = 1e308", "game.value"),
        ("[game]\ndrift = 1e308", "game.drift"),
        ("[game]\npayment = 1e300", "game.payment"),
        (
            "[population.cost]\ndist = \"lognormal\"\nmu = 0.0\nsigma = 1000.0",
            "population.cost.sigma",
        ),
    ] {
        let body = format!("{SMALL}{line}\n");
        let file = write(dir.path(), "big.toml", &body);
        let o = run(&["validate", s(&file)]);
        assert_eq!(o.status.code(), Some(2), "{key}: {}", text(&o));
        assert!(
            text(&o).contains(key) && text(&o).contains("allowed"),
            "{key}: {}",
            text(&o)
        );
    }
}

#[test]
fn the_largest_allowed_values_run_to_finite_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let body = r#"mechanisms = ["C", "S", "M"]
[scenario]
name = "extreme"
seed = 3
replications = 30
[population]
users = 12
cost = { dist = "lognormal", mu = 100.0, sigma = 10.0 }
[game]
value = 1e6
payment = 1e6
belief = 1e6
obs_noise = 1e6
drift = 1e6
recovery_rounds = 3
[sweep]
population.cost.mu = { values = [-100.0, 0.0, 100.0] }
"#;
    let file = write(dir.path(), "extreme.toml", body);
    let out = dir.path().join("run");
    run_ok(&file, &out, &[]);
    assert!(run(&["verify", s(&out)]).status.success());
}

#[test]
fn bad_arguments_are_refused_before_anything_is_created() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "rel.toml", SMALL);
    let out = dir.path().join("run");
    for args in [
        &["--threads", "100000"][..],
        &["--shard", "0/18446744073709551615"][..],
        &["--shard", "3/100000"][..],
    ] {
        let mut all = vec!["run", s(&file), "--out", s(&out), "-q"];
        all.extend(args);
        let o = run(&all);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o));
        assert!(!out.exists(), "{args:?} created {}", out.display());
    }
}

#[test]
fn shards_of_another_n_never_mix_and_status_counts_the_runs_own() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "rel.toml", SMALL);
    let out = dir.path().join("run");
    run_ok(&file, &out, &[]);
    let o = run(&["run", s(&file), "--out", s(&out), "-q", "--shard", "1/2"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("shard"), "{}", text(&o));
    let o = run(&["status", s(&out)]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("1 of 1 shards complete"), "{}", text(&o));

    let split = dir.path().join("split");
    run_ok(&file, &split, &["--shard", "0/2"]);
    let o = run(&["run", s(&file), "--out", s(&split), "-q", "--shard", "0/3"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let o = run(&["status", s(&split)]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("1 of 2 shards complete"), "{}", text(&o));
}

#[test]
fn a_second_writer_of_a_shard_is_refused_naming_the_holder() {
    let dir = tempfile::tempdir().unwrap();
    // Long enough (a few seconds) that the second run starts while the first holds the shard.
    let slow = SMALL
        .replace("replications = 20", "replications = 40000")
        .replace("users = 8", "users = 40");
    let file = write(dir.path(), "slow.toml", &slow);
    let out = dir.path().join("run");
    let mut first = bin()
        .args(["run", s(&file), "--out", s(&out), "-q", "--threads", "1"])
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // The first run holds its lock from before its first chunk until it ends.
    let lock = out.join("_locks/shard-00000-of-00001.lock");
    let started = std::time::Instant::now();
    while !lock.exists() && started.elapsed().as_secs() < 60 {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let second = run(&["run", s(&file), "--out", s(&out), "-q", "--threads", "1"]);
    let still_running = first.try_wait().unwrap().is_none();
    let first_status = first.wait().unwrap();
    assert!(still_running, "the first run ended too soon to test");
    assert!(first_status.success());
    assert_eq!(second.status.code(), Some(2), "{}", text(&second));
    assert!(
        text(&second).contains(&format!("pid {}", first.id())),
        "{}",
        text(&second)
    );
    assert!(run(&["verify", s(&out)]).status.success());
}
