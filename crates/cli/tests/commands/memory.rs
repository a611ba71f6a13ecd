//! Never abort on memory: a run that cannot fit is refused before anything is created (exit 2,
//! both figures in the message), and an allocation failure is a message and exit 1, not SIGABRT,
//! with no part file left under a final name.

use crate::support::{bin, s, text};
use std::os::unix::process::CommandExt;

/// A repeated game of 10^8 users under C, S and M: played on the ECS (single campaigns of that
/// size leave it and fit), tens of GiB.
const HUGE: &str = r#"
[scenario]
name = "hundred-million"
seed = 1
replications = 1
[population]
users = 100000000
[dynamics]
rounds = 2
"#;

const SMALL: &str = r#"
[scenario]
name = "small"
seed = 1
replications = 50
[population]
users = 20
[sweep]
game.value = { values = [0.05, 0.1, 0.2] }
[output]
trace = "events"
"#;

#[test]
fn a_run_that_cannot_fit_is_refused_before_anything_is_created() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("huge.toml");
    std::fs::write(&file, HUGE).unwrap();
    let out = dir.path().join("out");
    let o = bin()
        .args(["run", s(&file), "--out", s(&out), "-q", "--threads", "2"])
        .env("DATAPACT_MEMORY_LIMIT", "24G")
        .output()
        .unwrap();
    let t = text(&o);
    assert_eq!(o.status.code(), Some(2), "{t}");
    assert!(t.contains(&format!("{}: needs ~", file.display())), "{t}");
    assert!(
        t.contains("this machine has 24 GiB (DATAPACT_MEMORY_LIMIT)"),
        "{t}"
    );
    assert!(t.contains("lower population.users"), "{t}");
    assert!(!out.exists(), "the refused run created {}", out.display());

    // `validate` prints the same estimate, and the figure is tens of GiB.
    let v = bin()
        .args(["validate", s(&file)])
        .env("DATAPACT_MEMORY_LIMIT", "24G")
        .output()
        .unwrap();
    let vt = text(&v);
    assert!(v.status.success(), "{vt}");
    let line = vt
        .lines()
        .find(|l| l.trim_start().starts_with("memory"))
        .unwrap_or_else(|| panic!("no memory line: {vt}"));
    assert!(
        line.contains("GiB at 1 thread(s); 24 GiB available (DATAPACT_MEMORY_LIMIT)"),
        "{line}"
    );
    let gib: f64 = line
        .split("needs ~")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{line}"));
    assert!((20.0..200.0).contains(&gib), "{line}");
}

#[test]
fn a_normal_run_is_not_refused_and_a_bad_limit_is() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("small.toml");
    std::fs::write(&file, SMALL).unwrap();
    let out = dir.path().join("out");
    let o = bin()
        .args(["run", s(&file), "--out", s(&out), "--threads", "2"])
        .env("DATAPACT_MEMORY_LIMIT", "512M")
        .output()
        .unwrap();
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    assert!(
        t.contains("512 MiB available (DATAPACT_MEMORY_LIMIT)"),
        "{t}"
    );

    let bad = dir.path().join("bad");
    let o = bin()
        .args(["run", s(&file), "--out", s(&bad), "-q"])
        .env("DATAPACT_MEMORY_LIMIT", "lots")
        .output()
        .unwrap();
    let t = text(&o);
    assert_eq!(o.status.code(), Some(2), "{t}");
    assert!(
        t.contains("DATAPACT_MEMORY_LIMIT=\"lots\": expected"),
        "{t}"
    );
    assert!(!bad.exists());
}

#[test]
fn an_allocation_failure_is_a_message_and_exit_1_not_an_abort() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("huge.toml");
    std::fs::write(&file, HUGE).unwrap();
    let out = dir.path().join("out");
    let mut cmd = bin();
    cmd.args(["run", s(&file), "--out", s(&out), "-q", "--threads", "1"])
        // Past the estimate, into an address space of 2 GiB: the world of 10^8 users cannot
        // be allocated.
        .env("DATAPACT_MEMORY_LIMIT", "1T");
    let limit = libc::rlimit {
        rlim_cur: 2 << 30,
        rlim_max: 2 << 30,
    };
    // SAFETY: setrlimit is async-signal-safe; the closure allocates nothing.
    unsafe {
        cmd.pre_exec(move || {
            if libc::setrlimit(libc::RLIMIT_AS, &limit) == 0 {
                Ok(())
            } else {
                Err(std::io::Error::last_os_error())
            }
        });
    }
    let o = cmd.output().unwrap();
    let t = text(&o);
    assert_eq!(
        o.status.code(),
        Some(1),
        "killed by a signal? {:?}: {t}",
        o.status
    );
    assert!(
        t.contains("datapact: out of memory: an allocation of "),
        "{t}"
    );
    assert!(t.contains("rerun with --resume"), "{t}");
    // Nothing under a final name: the chunk in flight was never renamed into place.
    for table in ["cells", "diagnostics", "contrasts"] {
        if let Ok(entries) = std::fs::read_dir(out.join(table)) {
            for e in entries {
                let name = e.unwrap().file_name().to_string_lossy().into_owned();
                assert!(
                    name.starts_with('.'),
                    "{table}/{name} left under a final name"
                );
            }
        }
    }
    assert!(!out.join("manifest.json").exists());
}
