//! `datapact submit` against a stand-in `sbatch` that records its calls (the real cluster test is
//! tests/slurm/multinode.sh), and `datapact status` while the shards come in: the job script it
//! writes is run here as Slurm would run each task.

use crate::support::text;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const SCENARIO: &str = r#"
mechanisms = ["C", "S", "M"]
[scenario]
name = "study"
seed = 5
replications = 30
[population]
users = 8
[sweep]
game.value = { values = [0.05, 0.1, 0.15, 0.2, 0.25, 0.3] }
[output]
trace = "cells"
chunk_cells = 1
"#;

/// An `sbatch` that appends its arguments and the DATAPACT_ variables it was given to
/// `$FAKE_SBATCH_LOG`, prints job ids 101, 102, ... as `--parsable` does, and fails at call
/// `$FAKE_SBATCH_FAIL_AT`.
const FAKE_SBATCH: &str = r#"#!/bin/sh
PATH=/usr/bin:/bin
log=$FAKE_SBATCH_LOG
n=$(( $(cat "$log.count" 2>/dev/null || echo 100) + 1 ))
echo "$n" >"$log.count"
{ echo "call $n"; for a in "$@"; do echo "arg $a"; done; env | grep '^DATAPACT_' | sort; } >>"$log"
if [ "${FAKE_SBATCH_FAIL_AT:-}" = "$n" ]; then
    echo "sbatch: error: Batch job submission failed: Invalid partition name specified" >&2
    exit 1
fi
echo "$n;cluster"
"#;

struct Fake {
    _dir: tempfile::TempDir,
    root: PathBuf,
    bin: PathBuf,
    log: PathBuf,
}

fn fake() -> Fake {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    let bin = root.join("bin");
    std::fs::create_dir(&bin).unwrap();
    let sbatch = bin.join("sbatch");
    std::fs::write(&sbatch, FAKE_SBATCH).unwrap();
    std::fs::set_permissions(&sbatch, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::write(root.join("study.toml"), SCENARIO).unwrap();
    Fake {
        log: root.join("sbatch.log"),
        _dir: dir,
        root,
        bin,
    }
}

fn datapact(f: &Fake, path: &Path, envs: &[(&str, &str)], args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_datapact"))
        .args(args)
        .current_dir(&f.root)
        .env("PATH", path)
        .env("FAKE_SBATCH_LOG", &f.log)
        .envs(envs.iter().copied())
        .output()
        .expect("run datapact")
}

/// One recorded sbatch call: its arguments and the DATAPACT_ variables it was given.
type Call = (Vec<String>, Vec<(String, String)>);

/// The recorded sbatch calls, in order.
fn calls(log: &Path) -> Vec<Call> {
    let Ok(text) = std::fs::read_to_string(log) else {
        return Vec::new();
    };
    let mut calls: Vec<Call> = Vec::new();
    for line in text.lines() {
        if line.starts_with("call ") {
            calls.push((Vec::new(), Vec::new()));
        } else if let Some(arg) = line.strip_prefix("arg ") {
            calls.last_mut().unwrap().0.push(arg.to_string());
        } else if let Some((k, v)) = line.split_once('=') {
            calls.last_mut().unwrap().1.push((k.into(), v.into()));
        }
    }
    calls
}

fn var<'a>(vars: &'a [(String, String)], key: &str) -> &'a str {
    vars.iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("{key} not passed: {vars:?}"))
}

/// One array task as Slurm runs it: the job script with the submitted variables and the
/// task's SLURM_ variables.
fn run_task(vars: &[(String, String)], script: &Path, task: usize, shards: usize) -> Output {
    Command::new("bash")
        .arg(script)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .envs(vars.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .env("SLURM_ARRAY_JOB_ID", "101")
        .env("SLURM_ARRAY_TASK_ID", task.to_string())
        .env("SLURM_ARRAY_TASK_COUNT", shards.to_string())
        .env("SLURM_ARRAY_TASK_MIN", "0")
        .env("SLURM_ARRAY_TASK_MAX", (shards - 1).to_string())
        .output()
        .expect("run the job script")
}

#[test]
fn submit_queues_the_array_and_the_report_and_status_follows_the_shards() {
    let f = fake();
    let out = f.root.join("out");
    let submit = [
        "submit",
        "study.toml",
        "--shards",
        "3",
        "--out",
        "out",
        "--set",
        "scenario.seed=6",
    ];
    let sbatch_args = ["--", "--partition=debug", "--time=10"];
    let o = datapact(&f, &f.bin, &[], &[&submit[..], &sbatch_args].concat());
    assert!(o.status.success(), "{}", text(&o));
    let said = String::from_utf8_lossy(&o.stdout);
    assert!(said.contains("6 chunks in 3 shards"), "{said}");
    assert!(said.contains("array job  101  tasks 0-2"), "{said}");
    assert!(said.contains("report job 102"), "{said}");
    assert!(said.contains("(afterok:101)"), "{said}");
    assert!(
        said.contains(&format!("status {}", out.display())),
        "{said}"
    );

    let calls = calls(&f.log);
    assert_eq!(calls.len(), 2, "{calls:?}");
    let (args, vars) = &calls[0];
    let slurm = out.join("_slurm");
    for want in [
        "--parsable",
        "--array=0-2",
        "--requeue",
        "--open-mode=append",
        "--export=ALL",
        &format!("--output={}/%x-%A_%a.out", slurm.display()),
        "--partition=debug",
        "--time=10",
    ] {
        assert!(args.iter().any(|a| a == want), "{want} not in {args:?}");
    }
    let script = slurm.join("datapact-array.sbatch");
    assert_eq!(args.last().unwrap(), &script.display().to_string());
    assert_eq!(
        std::fs::read_to_string(&script).unwrap(),
        include_str!("../../../../tools/slurm/datapact-array.sbatch")
    );
    assert_eq!(var(vars, "DATAPACT_SHARDS"), "3");
    assert_eq!(var(vars, "DATAPACT_OUT"), out.display().to_string());
    let bin = Path::new(env!("CARGO_BIN_EXE_datapact"))
        .canonicalize()
        .unwrap();
    assert_eq!(var(vars, "DATAPACT_BIN"), bin.display().to_string());
    // The tasks read the scenario as submitted, overrides applied.
    let scenario = var(vars, "DATAPACT_SCENARIO");
    assert_eq!(scenario, slurm.join("scenario.toml").display().to_string());
    assert!(
        std::fs::read_to_string(scenario)
            .unwrap()
            .contains("seed = 6")
    );

    let (args, _) = &calls[1];
    for want in [
        "--dependency=afterok:101",
        "--kill-on-invalid-dep=yes",
        "--partition=debug",
    ] {
        assert!(args.iter().any(|a| a == want), "{want} not in {args:?}");
    }
    let report = slurm.join("report.sbatch");
    assert_eq!(args.last().unwrap(), &report.display().to_string());

    // Claimed before anything runs: status reports every shard at 0 chunks.
    let status = |f: &Fake| datapact(f, &f.bin, &[], &["status", out.to_str().unwrap()]);
    let s = status(&f);
    assert_eq!(s.status.code(), Some(1), "{}", text(&s));
    let t = text(&s);
    assert!(
        t.contains("0 of 3 shards complete, 0 of 6 chunks done"),
        "{t}"
    );
    for i in 0..3 {
        assert!(t.contains(&format!("shard {i}: 0/2 chunks done")), "{t}");
    }

    // Tasks 0 and 2 run (the job script as Slurm runs it); task 1 has not started.
    for task in [0, 2] {
        let o = run_task(vars, &script, task, 3);
        assert!(o.status.success(), "task {task}: {}", text(&o));
        assert!(
            text(&o).contains(&format!("task {task} of 3")),
            "{}",
            text(&o)
        );
    }
    let t = text(&status(&f));
    assert!(
        t.contains("2 of 3 shards complete, 4 of 6 chunks done"),
        "{t}"
    );
    assert!(t.contains("shard 1: 0/2 chunks done"), "{t}");
    assert!(!t.contains("shard 0:") && !t.contains("shard 2:"), "{t}");

    // The last task, then the report job's script.
    let o = run_task(vars, &script, 1, 3);
    assert!(o.status.success(), "task 1: {}", text(&o));
    let s = status(&f);
    assert!(s.status.success(), "{}", text(&s));
    assert!(text(&s).contains("3 of 3 shards complete, 6 of 6 chunks done"));
    let o = Command::new("sh").arg(&report).output().unwrap();
    assert!(o.status.success(), "report: {}", text(&o));
    assert!(out.join("report/REPORT.md").is_file());

    // Submitting a finished run again queues nothing.
    let o = datapact(&f, &f.bin, &[], &submit);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("already complete"), "{}", text(&o));
    assert_eq!(self::calls(&f.log).len(), 2);
}

#[test]
fn submit_refuses_bad_input_before_queueing_or_writing_anything() {
    let f = fake();
    let empty = f.root.join("empty");
    std::fs::create_dir(&empty).unwrap();
    let submit = |path: &Path, envs: &[(&str, &str)], extra: &[&str]| {
        let mut args = vec!["submit", "study.toml", "--out", "out"];
        args.extend_from_slice(extra);
        datapact(&f, path, envs, &args)
    };
    for (extra, code, says) in [
        (&["--shards", "0"][..], 2, "1 to 6 shards"),
        (&["--shards", "7"], 2, "has 6 chunks"),
        (&["--shards", "2", "--max-running", "0"], 2, "--max-running"),
        (
            &["--shards", "2", "--", "--array=0-5"],
            2,
            "sets --array itself",
        ),
        (
            &["--shards", "2", "--", "-d", "afterok:1"],
            2,
            "--dependency",
        ),
    ] {
        let o = submit(&f.bin, &[], extra);
        assert_eq!(o.status.code(), Some(code), "{extra:?}: {}", text(&o));
        assert!(text(&o).contains(says), "{extra:?}: {}", text(&o));
        assert!(!f.root.join("out").exists(), "{extra:?}");
    }
    let o = submit(&empty, &[], &["--shards", "2"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("sbatch not found"), "{}", text(&o));
    assert!(!f.root.join("out").exists());
    assert!(calls(&f.log).is_empty());

    // sbatch refuses the array: the message is passed on, exit 1.
    let o = submit(
        &f.bin,
        &[("FAKE_SBATCH_FAIL_AT", "101")],
        &["--shards", "2"],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("Invalid partition"), "{}", text(&o));
    // sbatch refuses the report: the array's id is given, with what to do.
    let o = submit(
        &f.bin,
        &[("FAKE_SBATCH_FAIL_AT", "103")],
        &["--shards", "2"],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let t = text(&o);
    assert!(
        t.contains("array job 102 is queued") && t.contains("scancel 102"),
        "{t}"
    );
    // The directory is now claimed for 2 shards: another N is refused.
    let o = submit(&f.bin, &[], &["--shards", "3"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("written as 2 shard(s)"), "{}", text(&o));
}
