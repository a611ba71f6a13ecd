//! SIGINT and SIGTERM are honoured inside one huge cell (between its phases), not only between
//! cells; the cell in flight is discarded, and `--resume` completes the run with the bytes of an
//! uninterrupted one, even past a temporary a killed process left.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::{bin, hidden, s, snapshot as files};

fn start(file: &Path, out: &Path, extra: &[&str]) -> Child {
    bin()
        .args(["run", s(file), "--out", s(out), "-q", "--threads", "2"])
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn signal(child: &Child, name: &str) {
    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args([name, &pid])
            .status()
            .unwrap()
            .success()
    );
}

/// The run's files (hidden ones included), by path relative to `dir`, with their bytes; all but
/// the lock files, which name the process that held them.
/// One cell of 10^6 users and 20 replications under C, S and M: many seconds of work in one
/// cell, so a signal after a second lands inside it.
const HUGE: &str = r#"
[scenario]
name = "huge-cell"
seed = 3
replications = 20
[population]
users = 1000000
"#;

#[test]
fn sigint_and_sigterm_stop_inside_one_huge_cell_promptly() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("huge.toml");
    std::fs::write(&file, HUGE).unwrap();
    for (name, code) in [("-INT", 130), ("-TERM", 143)] {
        let out = dir.path().join(format!("out{code}"));
        let mut child = start(&file, &out, &[]);
        std::thread::sleep(Duration::from_millis(1500));
        assert!(
            child.try_wait().unwrap().is_none(),
            "{name}: the cell finished before the signal: make it bigger"
        );
        signal(&child, name);
        let sent = Instant::now();
        let status = child.wait().unwrap();
        let latency = sent.elapsed();
        let mut stderr = String::new();
        std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
        // Generous (not a speed test): the run stops at the next phase, or 0.5 s after the
        // signal its watcher abandons the cell; tearing down a 1 GiB process on a loaded
        // machine (a debug build, other jobs compiling) takes the rest.
        assert!(
            latency < Duration::from_millis(2500),
            "{name}: exited {latency:?} after the signal"
        );
        assert_eq!(status.code(), Some(code), "{name}: {stderr}");
        assert!(stderr.contains("interrupted"), "{name}: {stderr}");
        // The only chunk was in flight: nothing of it is left, not even a hidden temporary.
        for table in ["cells", "diagnostics", "contrasts"] {
            let entries: Vec<_> = std::fs::read_dir(out.join(table))
                .map(|d| d.map(|e| e.unwrap().file_name()).collect())
                .unwrap_or_default();
            assert!(entries.is_empty(), "{name}: {table} holds {entries:?}");
        }
        assert!(!out.join("manifest.json").exists(), "{name}");
    }
}

/// Two cells of 2·10^5 users, one chunk each: long enough that a signal lands inside a cell.
const MEDIUM: &str = r#"
[scenario]
name = "medium-cells"
seed = 8
replications = 6
[population]
users = 200000
[sweep]
game.value = { values = [0.05, 0.2] }
[output]
trace = "rounds"
chunk_cells = 1
"#;

#[test]
fn resume_after_a_signal_inside_a_cell_writes_the_uninterrupted_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("medium.toml");
    std::fs::write(&file, MEDIUM).unwrap();
    let reference = dir.path().join("reference");
    let status = start(&file, &reference, &[]).wait().unwrap();
    assert!(status.success());
    let expected = files(&reference);

    let out = dir.path().join("interrupted");
    let mut child = start(&file, &out, &[]);
    // Once the first cell's chunk is recorded, the second cell is in flight.
    let first = out.join("_chunks/part-000000.json");
    while !first.exists() && child.try_wait().unwrap().is_none() {
        std::thread::sleep(Duration::from_millis(5));
    }
    std::thread::sleep(Duration::from_millis(50));
    signal(&child, "-INT");
    assert_eq!(
        child.wait().unwrap().code(),
        Some(130),
        "the run finished before the signal"
    );
    assert!(out.join("cells/part-000000.parquet").exists());
    assert!(!out.join("cells/part-000001.parquet").exists());
    assert!(hidden(&out).is_empty(), "{:?}", hidden(&out));
    assert!(!out.join("manifest.json").exists());
    // What a killed process (SIGKILL, or an exit on an allocation failure) leaves: a hidden
    // temporary. The next run of the shard deletes it.
    let stale = out.join("cells/.part-000001.parquet.tmp");
    std::fs::create_dir_all(stale.parent().unwrap()).unwrap();
    std::fs::write(&stale, b"half a part").unwrap();

    let status = start(&file, &out, &["--resume"]).wait().unwrap();
    assert!(status.success());
    assert!(!stale.exists(), "the stale temporary is left");
    let resumed = files(&out);
    let names =
        |v: &[(std::path::PathBuf, Vec<u8>)]| v.iter().map(|f| f.0.clone()).collect::<Vec<_>>();
    assert_eq!(names(&resumed), names(&expected));
    for (a, b) in resumed.iter().zip(&expected) {
        assert!(
            a.1 == b.1,
            "{} differs after the signal and --resume",
            a.0.display()
        );
    }
}
