//! Reliability, round three (issue 25): nothing read from disk is trusted, every reader
//! verifies, every writer claims its directory.
//!
//! `DATAPACT_BIN` runs these tests against another build of the binary (how each was checked to
//! fail on the code before its guarantee existed).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::support::{assert_refused, bin, copy_dir, edit_json, run, run_ok, s, text, write};

/// 6 cells in chunks of 2: three parts per table.
const SMALL: &str = r#"mechanisms = ["C", "S", "M"]
[scenario]
name = "rel3"
seed = 11
replications = 10
[population]
users = 6
[sweep]
game.value = { from = 0.05, to = 0.3, steps = 3 }
game.payment = { values = [0.0, 0.2] }
[output]
trace = "rounds"
chunk_cells = 2
"#;

/// A Sobol design over two axes (24 points).
const SOBOL: &str = r#"mechanisms = ["S", "M"]
[scenario]
name = "sobol3"
seed = 3
replications = 4
[population]
users = 6
[design]
kind = "sobol"
samples = 4
game.value = { from = 0.05, to = 0.3 }
game.payment = { from = 0.0, to = 0.2 }
"#;

// ---------------------------------------------------------------------------------------------
// Run metadata parsed defensively.

#[test]
fn a_non_ascii_scenario_hash_is_refused_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "rel3.toml", SMALL);
    let out = dir.path().join("run");
    run_ok(&file, &out, &[]);
    edit_json(&out.join("_run.json"), |v| {
        v["scenario_hash"] = format!("a{}", "é".repeat(20)).into();
    });
    let o = run(&["run", s(&file), "--out", s(&out), "-q", "--resume"]);
    assert_refused(&o, 2, "--resume");
    assert!(
        text(&o).contains("holds outputs of scenario"),
        "{}",
        text(&o)
    );
    assert_refused(&run(&["verify", s(&out)]), 1, "verify");
}

#[test]
fn counts_read_from_run_json_are_bounded_before_any_loop() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "rel3.toml", SMALL);
    let base = dir.path().join("run");
    run_ok(&file, &base, &[]);
    for (key, value, says) in [
        (
            "cells",
            serde_json::json!(1_000_000_000_000_000u64),
            "cells =",
        ),
        (
            "shards",
            serde_json::json!(1_000_000_000_000u64),
            "shards =",
        ),
        ("chunk_cells", serde_json::json!(0), "chunk_cells ="),
    ] {
        let out = dir.path().join(key);
        let _ = std::fs::remove_dir_all(&out);
        std::fs::create_dir(&out).unwrap();
        copy_dir(&base, &out);
        edit_json(&out.join("_run.json"), |v| v[key] = value);
        for args in [
            vec!["verify", s(&out)],
            vec!["status", s(&out)],
            vec!["report", s(&out), "--out", s(&dir.path().join("rep"))],
        ] {
            let started = Instant::now();
            let o = run(&args);
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "{key}: {} took {:?}",
                args[0],
                started.elapsed()
            );
            assert_refused(&o, 1, &format!("{key}: {}", args[0]));
            assert!(text(&o).contains(says), "{key}: {}: {}", args[0], text(&o));
        }
        // A damaged `_run.json` is damaged output (exit 1), not bad input (2).
        let o = run(&["run", s(&file), "--out", s(&out), "-q", "--resume"]);
        assert_refused(&o, 1, &format!("{key}: --resume"));
    }
}

/// The exit code follows the error's kind: a `_run.json` that does not read (not JSON, or a
/// directory in its place) is damaged output, exit 1 for `--resume` as for `verify`, never 2
/// ("bad input") because the runner happened to carry the message as a refusal. A directory
/// of another scenario stays bad input (2).
#[test]
fn an_unreadable_run_json_exits_1_not_2() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "rel3.toml", SMALL);
    let out = dir.path().join("run");
    run_ok(&file, &out, &[]);
    std::fs::write(out.join("_run.json"), "{ not json").unwrap();
    for args in [
        vec!["run", s(&file), "--out", s(&out), "-q", "--resume"],
        vec!["verify", s(&out)],
        vec!["status", s(&out)],
    ] {
        let o = run(&args);
        assert_refused(&o, 1, args[0]);
        assert!(text(&o).contains("_run.json"), "{}: {}", args[0], text(&o));
    }
    std::fs::remove_file(out.join("_run.json")).unwrap();
    std::fs::create_dir(out.join("_run.json")).unwrap();
    let o = run(&["run", s(&file), "--out", s(&out), "-q", "--resume"]);
    assert_refused(&o, 1, "a directory as _run.json");
    assert!(text(&o).contains("not a regular file"), "{}", text(&o));
    let other = write(
        dir.path(),
        "other.toml",
        &SMALL.replace("name = \"rel3\"", "name = \"other\""),
    );
    let fresh = dir.path().join("fresh");
    run_ok(&file, &fresh, &[]);
    let o = run(&["run", s(&other), "--out", s(&fresh), "-q", "--resume"]);
    assert_refused(&o, 2, "another scenario's directory");
}

#[test]
fn every_manifest_field_is_checked_against_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "sobol3.toml", SOBOL);
    let base = dir.path().join("run");
    run_ok(&file, &base, &[]);
    assert!(run(&["verify", s(&base)]).status.success());
    // The design record's axis names swapped: each axis's indices would be reported under the
    // other's name. Then the sweep's columns, the trace level and the plugins, one at a time.
    type Edit = fn(&mut serde_json::Value);
    let edits: [(&str, Edit); 4] = [
        ("design", |v| {
            let d = &mut v["design"];
            let keys = d["keys"].as_array_mut().unwrap();
            keys.swap(0, 1);
            let columns = d["columns"].as_array_mut().unwrap();
            columns.swap(0, 1);
        }),
        ("sweep", |v| {
            v["sweep"][0][1] = "value_x".into();
        }),
        ("trace", |v| v["trace"] = "events".into()),
        ("plugins", |v| {
            v["plugins"].as_array_mut().unwrap().pop();
        }),
    ];
    for (field, edit) in edits {
        let out = dir.path().join(field);
        std::fs::create_dir(&out).unwrap();
        copy_dir(&base, &out);
        edit_json(&out.join("manifest.json"), edit);
        let o = run(&["verify", s(&out)]);
        assert_refused(&o, 1, field);
        assert!(text(&o).contains(field), "{field}: {}", text(&o));
        let o = run(&["report", s(&out), "--out", s(&dir.path().join("rep"))]);
        assert_refused(&o, 1, field);
    }
}

#[cfg(unix)]
#[test]
fn metadata_files_that_are_fifos_or_symlinks_are_refused_without_blocking() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "rel3.toml", SMALL);
    let out = dir.path().join("run");
    run_ok(&file, &out, &[]);
    let manifest = out.join("manifest.json");
    let saved = dir.path().join("manifest.saved");
    std::fs::rename(&manifest, &saved).unwrap();
    let c = std::ffi::CString::new(s(&manifest)).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let started = Instant::now();
    let o = run(&["verify", s(&out)]);
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "verify blocked"
    );
    assert_refused(&o, 1, "verify, manifest a FIFO");
    assert!(text(&o).contains("FIFO"), "{}", text(&o));
    std::fs::remove_file(&manifest).unwrap();
    std::os::unix::fs::symlink(&saved, &manifest).unwrap();
    let o = run(&["verify", s(&out)]);
    assert_refused(&o, 1, "verify, manifest a symlink");
    assert!(text(&o).contains("symbolic link"), "{}", text(&o));
}

// ---------------------------------------------------------------------------------------------
// Every writer claims its output: never foreign files, never inside another run.

/// A tree's files and their bytes (to show that a refused command touched nothing).
fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push((p.clone(), std::fs::read(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn writers_never_overwrite_foreign_files_nor_write_inside_a_run() {
    let tmp = tempfile::tempdir().unwrap();
    let file = write(tmp.path(), "small.toml", SMALL);
    let a = tmp.path().join("A");
    run_ok(&file, &a, &[]);
    let sobol = write(tmp.path(), "sobol.toml", SOBOL);
    let b = tmp.path().join("B");
    run_ok(&sobol, &b, &[]);
    let before_a = snapshot(&a);
    let before_b = snapshot(&b);

    // A user's own directory with a REPORT.md and a Parquet file.
    let mine = tmp.path().join("mine");
    std::fs::create_dir(&mine).unwrap();
    write(&mine, "REPORT.md", "my notes");
    write(&mine, "data.parquet", "my data");
    let mine_before = snapshot(&mine);
    let o = run(&["report", s(&a), "--out", s(&mine)]);
    assert_refused(&o, 2, "report into a foreign directory");
    assert!(text(&o).contains("is not empty"), "{}", text(&o));
    let o = run(&[
        "sensitivity",
        s(&b),
        "--metric",
        "welfare_mean",
        "--out",
        s(&mine),
    ]);
    assert_refused(&o, 2, "sensitivity into a foreign directory");
    let o = run(&["diff", s(&a), s(&a), "--out", s(&mine.join("data.parquet"))]);
    assert_refused(&o, 2, "diff over a foreign file");
    assert!(
        text(&o).contains("not a diff written by datapact"),
        "{}",
        text(&o)
    );
    assert_eq!(snapshot(&mine), mine_before);

    // Inside a finished run: refused, the run untouched and still verified.
    let cases: Vec<Vec<String>> = vec![
        vec![
            "run".into(),
            s(&file).into(),
            "--out".into(),
            s(&a.join("cells/sub")).into(),
        ],
        vec![
            "report".into(),
            s(&a).into(),
            "--out".into(),
            s(&a.join("cells")).into(),
        ],
        vec![
            "report".into(),
            s(&a).into(),
            "--out".into(),
            s(&a.join("x/y")).into(),
        ],
        vec![
            "sensitivity".into(),
            s(&b).into(),
            "--metric".into(),
            "welfare_mean".into(),
            "--out".into(),
            s(&b.join("cells")).into(),
        ],
        vec![
            "diff".into(),
            s(&a).into(),
            s(&a).into(),
            "--out".into(),
            s(&a.join("cells/diff.parquet")).into(),
        ],
    ];
    for args in &cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = run(&args);
        assert_refused(&o, 2, &args.join(" "));
        assert!(text(&o).contains("inside the datapact run"), "{}", text(&o));
    }
    assert_eq!(snapshot(&a), before_a);
    assert_eq!(snapshot(&b), before_b);
    for run_dir in [&a, &b] {
        let o = run(&["verify", s(run_dir)]);
        assert!(o.status.success(), "{}", text(&o));
    }

    // The defaults (a new name directly in the run) work, and again (the output adopted).
    for _ in 0..2 {
        let o = run(&["report", s(&a)]);
        assert!(o.status.success(), "{}", text(&o));
        let o = run(&["sensitivity", s(&b), "--metric", "welfare_mean"]);
        assert!(o.status.success(), "{}", text(&o));
        let o = run(&["diff", s(&a), s(&a), "--out", s(&a.join("diff.parquet"))]);
        assert!(o.status.success(), "{}", text(&o));
    }
    let o = run(&["verify", s(&a)]);
    assert!(o.status.success(), "{}", text(&o));
    // A report directory is not a sensitivity directory.
    let o = run(&[
        "sensitivity",
        s(&b),
        "--metric",
        "welfare_mean",
        "--out",
        s(&a.join("report")),
    ]);
    assert_refused(&o, 2, "sensitivity into a report");
}

// ---------------------------------------------------------------------------------------------
// A closed pipe ends a command quietly.

/// Every command that prints, its stdout a pipe whose reader is already gone (as after `| head`
/// has exited): no panic, no backtrace; the process ends as coreutils do (SIGPIPE) or succeeds.
#[cfg(unix)]
#[test]
fn output_to_a_closed_pipe_ends_quietly_in_every_command() {
    use std::os::unix::process::ExitStatusExt;
    let tmp = tempfile::tempdir().unwrap();
    let file = write(tmp.path(), "small.toml", SMALL);
    let a = tmp.path().join("A");
    run_ok(&file, &a, &[]);
    let sobol = write(tmp.path(), "sobol.toml", SOBOL);
    let b = tmp.path().join("B");
    run_ok(&sobol, &b, &[]);
    let (c, d) = (tmp.path().join("C"), tmp.path().join("D.parquet"));
    let commands: Vec<Vec<&str>> = vec![
        vec!["validate", s(&file)],
        vec!["schema"],
        vec!["scenarios"],
        vec!["plugins"],
        vec!["--help"],
        vec!["status", s(&a)],
        vec!["verify", s(&a)],
        vec!["report", s(&a)],
        vec!["sensitivity", s(&b), "--metric", "welfare_mean"],
        vec!["diff", s(&a), s(&a), "--out", s(&d)],
        vec!["run", s(&file), "--out", s(&c), "--threads", "1"],
    ];
    for args in &commands {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let o = bin()
            .args(args)
            .stdout(writer)
            .stderr(std::process::Stdio::piped())
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            !err.contains("panicked") && !err.contains("Broken pipe") && !err.contains("BACKTRACE"),
            "{args:?}: {err}"
        );
        assert!(
            o.status.success() || o.status.signal() == Some(libc::SIGPIPE),
            "{args:?}: {:?} {err}",
            o.status
        );
    }
    // What was written is whole: the run into C (ended at its first line) resumes and verifies.
    let o = run(&["run", s(&file), "--out", s(&c), "-q", "--resume"]);
    assert!(o.status.success(), "{}", text(&o));
    let o = run(&["verify", s(&c)]);
    assert!(o.status.success(), "{}", text(&o));
}

// ---------------------------------------------------------------------------------------------
// Every reader verifies; exact numbers.

#[test]
fn sensitivity_reads_through_the_verified_view_and_refuses_bad_arguments_with_2() {
    let tmp = tempfile::tempdir().unwrap();
    let sobol = write(tmp.path(), "sobol.toml", SOBOL);
    let (b, other) = (tmp.path().join("B"), tmp.path().join("other"));
    run_ok(&sobol, &b, &[]);
    run_ok(&sobol, &other, &["--set", "scenario.seed=4"]);
    let ok = run(&["sensitivity", s(&b), "--metric", "welfare_mean"]);
    assert!(ok.status.success(), "{}", text(&ok));
    for (args, what) in [
        (vec!["--metric", "nope"], "no numeric column `nope`"),
        (
            vec!["--metric", "welfare_mean", "--mechanism", "X"],
            "mechanism `X`",
        ),
        (
            vec!["--metric", "welfare_mean", "--minus", "S"],
            "--minus needs --mechanism",
        ),
    ] {
        let mut all = vec!["sensitivity", s(&b)];
        all.extend(args);
        let o = run(&all);
        assert_refused(&o, 2, what);
        assert!(text(&o).contains(what), "{}", text(&o));
    }
    // A cells part replaced by another seed's part of the same design: refused, not analysed.
    let part = std::fs::read_dir(b.join("cells"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .find(|n| n.to_string_lossy().ends_with(".parquet"))
        .unwrap();
    std::fs::copy(other.join("cells").join(&part), b.join("cells").join(&part)).unwrap();
    let o = run(&[
        "sensitivity",
        s(&b),
        "--metric",
        "welfare_mean",
        "--out",
        s(&tmp.path().join("s2")),
    ]);
    assert_refused(&o, 1, "a foreign part");
    assert!(text(&o).contains(&*part.to_string_lossy()), "{}", text(&o));
    assert!(!tmp.path().join("s2").exists());
}

#[test]
fn only_prefers_the_exact_axis_value_to_a_neighbour_within_1e_9() {
    let tmp = tempfile::tempdir().unwrap();
    let file = write(
        tmp.path(),
        "close.toml",
        &SMALL.replace(
            "game.value = { from = 0.05, to = 0.3, steps = 3 }",
            "game.value = { values = [0.1, 0.1000000000001] }",
        ),
    );
    for (value, want) in [("0.1000000000001", "0.1000000000001"), ("0.1", "0.1")] {
        let out = tmp.path().join(format!("only-{value}"));
        let arg = format!("game.value={value},game.payment=0.2");
        run_ok(&file, &out, &["--only", &arg]);
        let identity = std::fs::read_to_string(out.join("_run.json")).unwrap();
        let wanted = format!("values = [{want}]");
        assert!(identity.contains(&wanted), "{value}: {identity}");
    }
}

// ---------------------------------------------------------------------------------------------
// Errors name what differs.

/// A directory of `--rep 0` reused by `--rep 1` (or by a whole run) is refused naming the
/// replication each plays, not with two identical descriptions of the scenario.
#[test]
fn a_rep_directory_mismatch_names_the_replications() {
    let tmp = tempfile::tempdir().unwrap();
    let file = write(tmp.path(), "small.toml", SMALL);
    let out = tmp.path().join("rep0");
    run_ok(&file, &out, &["--rep", "0"]);
    for (extra, wants) in [
        (
            vec!["--rep", "1"],
            "this run asks for replication 1 alone (--rep 1)",
        ),
        (vec![], "this run asks for every replication (no --rep)"),
    ] {
        let mut args = vec!["run", s(&file), "--out", s(&out), "-q"];
        args.extend(&extra);
        let o = run(&args);
        assert_refused(&o, 2, &args.join(" "));
        let t = text(&o);
        assert!(
            t.contains("holds replication 0 alone (--rep 0)") && t.contains(wants),
            "{t}"
        );
    }
}

/// A directory of the same scenario name whose identity differs in what its description did not
/// show (a listed design's points file, the manifest fields it records, its scenario text) is
/// refused naming what differs, with both values: before, the message printed the name, hash,
/// seed, version and plugins of each side, two identical halves.
#[test]
fn a_directory_mismatch_names_what_differs() {
    let tmp = tempfile::tempdir().unwrap();
    let mut csv = String::from("game.value,game.payment\n");
    for i in 0..12 {
        csv.push_str(&format!("{},{}\n", 0.02 * i as f64, 0.01 * i as f64));
    }
    write(tmp.path(), "points.csv", &csv);
    let file = write(
        tmp.path(),
        "listed.toml",
        "mechanisms = [\"C\", \"S\"]\n[scenario]\nname = \"listed\"\nseed = 5\n\
         replications = 2\n[population]\nusers = 4\n[design]\nkind = \"points\"\n\
         file = \"points.csv\"\n[output]\nchunk_cells = 4\n",
    );
    let out = tmp.path().join("run");
    run_ok(&file, &out, &[]);
    let genuine = std::fs::read(out.join("_run.json")).unwrap();
    let resume = || {
        let o = run(&["run", s(&file), "--out", s(&out), "-q", "--resume"]);
        assert_refused(&o, 2, "--resume");
        let t = text(&o);
        assert!(
            t.contains("holds outputs of scenario \"listed\" that differ"),
            "{t}"
        );
        t
    };
    // As a run made before the points file existed recorded it: no `design_points`.
    edit_json(&out.join("_run.json"), |v| {
        v.as_object_mut().unwrap().remove("design_points");
    });
    let t = resume();
    assert!(
        t.contains("listed design points file none here, design_points.parquet (12 rows"),
        "{t}"
    );
    // Another record of the manifest's fields: the only difference.
    std::fs::write(out.join("_run.json"), &genuine).unwrap();
    edit_json(&out.join("_run.json"), |v| {
        v["manifest_fields"]["design"] = "0".repeat(64).into();
    });
    let t = resume();
    assert!(
        t.contains("the manifest fields they record (design)"),
        "{t}"
    );
    // Another scenario text of the same name (the points listed inline, as an earlier datapact
    // stored them) and its hash: the hashes and the first line that differs.
    std::fs::write(out.join("_run.json"), &genuine).unwrap();
    let inline = datapact_scenario::Scenario::load(&file, &[])
        .unwrap()
        .normalized();
    edit_json(&out.join("_run.json"), |v| {
        use sha2::Digest;
        v["scenario_hash"] = sha2::Sha256::digest(inline.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
            .into();
        v["scenario"] = inline.clone().into();
    });
    let t = resume();
    assert!(t.contains("scenario hash "), "{t}");
    assert!(
        t.contains("first differs at line")
            && t.contains("`points = [` here, `file = \"design_points.parquet\"` in this run"),
        "{t}"
    );
    // Nothing was written: the directory is still the run it was.
    std::fs::write(out.join("_run.json"), &genuine).unwrap();
    assert!(run(&["verify", s(&out)]).status.success());
}

// ---------------------------------------------------------------------------------------------
// Every command exits 2 on bad input.

/// The subcommands `datapact --help` lists (clap's `help` included).
fn subcommands() -> Vec<String> {
    let o = run(&["--help"]);
    assert!(o.status.success(), "{}", text(&o));
    let help = String::from_utf8_lossy(&o.stdout).into_owned();
    help.lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .filter(|l| l.starts_with("  ") && !l.starts_with("   "))
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .collect()
}

/// Every name under `dir`, recursively, sorted.
fn names(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if e.file_type().unwrap().is_dir() {
                stack.push(p.clone());
            }
            out.push(p.strip_prefix(dir).unwrap().to_path_buf());
        }
    }
    out.sort();
    out
}

/// Each command `datapact --help` lists, given a bad argument or a bad file, exits 2 with a
/// message naming the problem, no panic, and creates nothing (the commands run in a scratch
/// directory, so a default output such as `results/audit` would show). A command added without a
/// case here fails the test. Before: `status`, `verify` and `sensitivity` on a directory that is
/// no run, and `report` on a missing path or a directory without runs, exited 1 (the README
/// reserves 1 for I/O failures and damaged outputs).
#[test]
fn every_command_exits_2_on_bad_input_naming_the_problem() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    write(dir, "small.toml", SMALL);
    write(dir, "sobol.toml", SOBOL);
    run_ok(&dir.join("small.toml"), &dir.join("A"), &[]);
    run_ok(&dir.join("sobol.toml"), &dir.join("B"), &[]);
    write(
        dir,
        "bad.toml",
        "[scenario]\nname = \"b\"\nseed = 1\nreplications = 2\nnope = 3\n",
    );
    std::fs::create_dir(dir.join("notrun")).unwrap();
    write(&dir.join("notrun"), "notes.txt", "mine");
    std::fs::create_dir(dir.join("empty")).unwrap();
    let cases: &[(&str, &[&str], &str)] = &[
        (
            "run",
            &["bad.toml"],
            "bad.toml:5: unknown key `scenario.nope`",
        ),
        ("run", &["missing.toml"], "missing.toml: cannot read"),
        (
            "run",
            &["small.toml", "--threads", "x"],
            "invalid value 'x'",
        ),
        (
            "run",
            &["small.toml", "--set", "game.value=-1"],
            "game.value",
        ),
        ("run", &["small.toml", "--only", "game.value=0.77"], "0.77"),
        (
            "optimize",
            &["bad.toml"],
            "no [optimize] or [calibrate] table",
        ),
        (
            "calibrate",
            &["bad.toml"],
            "no [optimize] or [calibrate] table",
        ),
        ("validate", &["bad.toml"], "unknown key `scenario.nope`"),
        ("validate", &["small.toml", "--set", "nope=1"], "nope"),
        ("schema", &["extra"], "unexpected argument 'extra'"),
        ("status", &["notrun"], "notrun: not a datapact run"),
        ("status", &["missing"], "missing: No such file"),
        ("submit", &["bad.toml", "--shards", "2"], "scenario.nope"),
        ("submit", &["small.toml", "--shards", "0"], "--shards 0"),
        ("verify", &["notrun"], "notrun: not a datapact run"),
        ("verify", &["small.toml"], "small.toml: not a directory"),
        ("scenarios", &["extra"], "unexpected argument 'extra'"),
        ("plugins", &["extra"], "unexpected argument 'extra'"),
        ("report", &["empty"], "empty: no run found"),
        ("report", &["missing"], "missing: No such file"),
        ("sensitivity", &["notrun"], "notrun: not a datapact run"),
        (
            "sensitivity",
            &["B", "--metric", "nope"],
            "no numeric column `nope`",
        ),
        (
            "sensitivity",
            &["B", "--minus", "S"],
            "--minus needs --mechanism",
        ),
        ("sensitivity", &["B", "--mechanism", "X"], "mechanism `X`"),
        ("sensitivity", &["A"], "A"),
        ("diff", &["missing", "A"], "missing"),
        ("diff", &["A", "B"], "B"),
        ("diff", &["A", "A", "--z", "abc"], "invalid value 'abc'"),
        ("reproduce", &["--seeds", "0"], "0 is not in 1..=1000"),
        ("reproduce", &["--threads", "0"], "--threads must be >= 1"),
        ("audit", &["--spec", "bad.toml"], "bad.toml"),
        (
            "audit",
            &["--spec", "missing.toml"],
            "missing.toml: cannot read",
        ),
        ("new", &["bad/na me"], "not a valid crate name"),
        ("new", &["notrun"], "notrun already exists"),
        ("help", &["nope"], "unrecognized subcommand 'nope'"),
    ];
    let commands = subcommands();
    assert!(commands.len() >= 17, "{commands:?}");
    for c in &commands {
        assert!(
            cases.iter().any(|(k, _, _)| k == c),
            "`datapact {c}` has no bad-input case here"
        );
    }
    let before = names(dir);
    for (command, args, says) in cases {
        let o = bin()
            .arg(command)
            .args(*args)
            .current_dir(dir)
            .output()
            .unwrap();
        let what = format!("datapact {command} {}", args.join(" "));
        assert_refused(&o, 2, &what);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(says), "{what}: {err}");
        assert_eq!(names(dir), before, "{what} created or removed something");
    }
}
