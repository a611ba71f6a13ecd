//! Interrupted runs lose nothing: `kill -9` at several moments, then `--resume`, ends with the
//! same bytes as an uninterrupted run; SIGINT/SIGTERM stop cleanly with 130/143; `verify` names
//! missing and damaged files.

use crate::support::{bin, run};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

const SCENARIO: &str = r#"
[scenario]
name = "interrupt"
seed = 5
replications = 1500
[population]
users = 20
[sweep]
game.value = { from = 0.0, to = 0.3, steps = 8 }
game.payment = { from = 0.0, to = 0.3, steps = 8 }
[output]
trace = "rounds"
chunk_cells = 3
"#;

/// `datapact run FILE --out OUT -q --resume`.
fn resume(file: &Path, out: &Path) -> Output {
    run(&[
        "run",
        file.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "-q",
        "--resume",
    ])
}

fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for table in ["cells", "diagnostics", "rounds"] {
        for e in std::fs::read_dir(dir.join(table)).unwrap() {
            let p = e.unwrap().path();
            out.push((
                format!("{table}/{}", p.file_name().unwrap().to_string_lossy()),
                std::fs::read(&p).unwrap(),
            ));
        }
    }
    out.push((
        "manifest.json".into(),
        std::fs::read(dir.join("manifest.json")).unwrap(),
    ));
    out.sort();
    out
}

fn setup() -> (tempfile::TempDir, PathBuf, Vec<(String, Vec<u8>)>) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("s.toml");
    std::fs::write(&file, SCENARIO).unwrap();
    let reference = dir.path().join("reference");
    let o = run(&[
        "run",
        file.to_str().unwrap(),
        "--out",
        reference.to_str().unwrap(),
        "-q",
        "--threads",
        "2",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let snap = snapshot(&reference);
    (dir, file, snap)
}

/// Starts a run and kills it with `signal` after `after`; returns the exit status (None if it
/// finished first).
fn interrupt(file: &Path, out: &Path, signal: &str, after: Duration) -> Option<i32> {
    let mut child = bin()
        .args([
            "run",
            file.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "-q",
            "--resume",
            "--threads",
            "2",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(after);
    if child.try_wait().unwrap().is_some() {
        return None;
    }
    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args([signal, &pid])
            .status()
            .unwrap()
            .success()
    );
    let status = child.wait().unwrap();
    Some(status.code().unwrap_or(-1))
}

#[test]
fn kill_9_at_random_moments_then_resume_gives_identical_output() {
    let (dir, file, reference) = setup();
    let out = dir.path().join("killed");
    // Moments drawn once from U(20 ms, 400 ms) with a fixed seed, so the test is repeatable.
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut kills = 0;
    for _ in 0..5 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let ms = 20 + state % 380;
        if interrupt(&file, &out, "-9", Duration::from_millis(ms)).is_some() {
            kills += 1;
        }
    }
    assert!(
        kills > 0,
        "the run always finished before the kill: make the scenario bigger"
    );
    let o = resume(&file, &out);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let resumed = snapshot(&out);
    assert_eq!(resumed.len(), reference.len());
    for (a, b) in resumed.iter().zip(&reference) {
        assert_eq!(a.0, b.0);
        assert!(a.1 == b.1, "{} differs after kill -9 and resume", a.0);
    }
    assert!(run(&["verify", out.to_str().unwrap()]).status.success());
}

#[test]
fn sigint_and_sigterm_stop_cleanly_with_their_exit_codes() {
    let (dir, file, reference) = setup();
    for (signal, code) in [("-INT", 130), ("-TERM", 143)] {
        let out = dir.path().join(format!("sig{code}"));
        let Some(status) = interrupt(&file, &out, signal, Duration::from_millis(150)) else {
            panic!("run finished before {signal}: make the scenario bigger");
        };
        assert_eq!(status, code, "{signal}");
        // Finished chunks are kept under their final names; no partial file is left behind.
        for table in ["cells", "diagnostics", "rounds"] {
            if let Ok(entries) = std::fs::read_dir(out.join(table)) {
                for e in entries {
                    let name = e.unwrap().file_name().to_string_lossy().to_string();
                    assert!(
                        !name.starts_with('.'),
                        "{signal}: partial file {name} left behind"
                    );
                }
            }
        }
        assert!(
            !out.join("manifest.json").exists(),
            "{signal}: manifest written for an incomplete run"
        );
        let o = resume(&file, &out);
        assert!(o.status.success());
        assert!(
            snapshot(&out) == reference,
            "{signal}: resumed output differs"
        );
    }
}

#[test]
fn verify_names_missing_and_damaged_files() {
    let (dir, file, _) = setup();
    let out = dir.path().join("v");
    assert!(
        run(&[
            "run",
            file.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "-q"
        ])
        .status
        .success()
    );
    let ok = run(&["verify", out.to_str().unwrap()]);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stdout)
    );

    let damaged = out.join("cells/part-000001.parquet");
    let mut bytes = std::fs::read(&damaged).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(&damaged, bytes).unwrap();
    std::fs::remove_file(out.join("rounds/part-000002.parquet")).unwrap();
    let bad = run(&["verify", out.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&bad.stdout);
    assert_eq!(bad.status.code(), Some(1), "{text}");
    assert!(
        text.contains("damaged     cells/part-000001.parquet"),
        "{text}"
    );
    assert!(
        text.contains("missing     rounds/part-000002.parquet"),
        "{text}"
    );
    assert_eq!(
        text.lines()
            .filter(|l| l.starts_with("damaged") || l.starts_with("missing"))
            .count(),
        2,
        "{text}"
    );

    // --resume recomputes exactly what is missing or damaged.
    assert!(resume(&file, &out).status.success());
    assert!(run(&["verify", out.to_str().unwrap()]).status.success());
}

#[test]
fn sweeps_too_large_to_run_are_refused_up_front() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("huge.toml");
    std::fs::write(
        &file,
        "[scenario]\nname = \"huge\"\nseed = 1\nreplications = 1000000\n[population]\nusers = 100000\n[sweep]\ngame.value = { from = 0.0, to = 0.3, steps = 1000 }\n",
    )
    .unwrap();
    let out = dir.path().join("out");
    let o = run(&[
        "run",
        file.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "-q",
    ]);
    let text = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{text}");
    assert!(
        text.contains("300000000000000") || text.contains("3e14") || text.contains("campaign"),
        "{text}"
    );
    assert!(!out.exists());
}
