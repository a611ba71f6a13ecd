//! Helpers shared by datapact's test binaries: running a command-line binary and reading what it
//! printed, writing scenario files, editing a run's JSON metadata, and taking snapshots of output
//! directories (to show that a refused command touched nothing), and checking that a test binary built from one `main.rs` lists every test file of its directory. A dev-dependency only; no
//! shipped crate depends on it.

#![warn(missing_docs)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The binary under test: `DATAPACT_BIN` if set (another build, to check that a test fails on the
/// code before its guarantee existed), else `built`, the binary Cargo built for the test
/// (`env!("CARGO_BIN_EXE_datapact")`, which only the test itself can name).
pub fn binary(built: &str) -> Command {
    match std::env::var_os("DATAPACT_BIN") {
        Some(b) => Command::new(b),
        None => Command::new(built),
    }
}

/// A command's stdout then stderr, as text.
pub fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A path as a command-line argument (tests use UTF-8 temporary paths).
pub fn s(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 path")
}

/// Writes `body` to `dir/name`; returns the path.
pub fn write(dir: &Path, name: &str, body: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, body).unwrap();
    p
}

/// Asserts a command failed cleanly: exit code `code`, no panic, no backtrace; `what` names the
/// case in the failure message.
pub fn assert_failed_cleanly(o: &Output, code: i32, what: &str) {
    let t = text(o);
    assert_eq!(o.status.code(), Some(code), "{what}: {t}");
    assert!(
        !t.contains("panicked") && !t.contains("RUST_BACKTRACE"),
        "{what}: {t}"
    );
}

/// Every file under `dir` (hidden ones included) with its bytes, sorted by path relative to
/// `dir`, but the lock files (`_locks/`), which name the process that held them.
pub fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        // (a directory not created: nothing in it)
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                if p.file_name().is_some_and(|n| n != "_locks") {
                    stack.push(p);
                }
            } else {
                let rel = p.strip_prefix(dir).unwrap().to_path_buf();
                out.push((rel, std::fs::read(&p).unwrap_or_default()));
            }
        }
    }
    out.sort();
    out
}

/// The hidden files under `dir` (temporaries a writer must not leave).
pub fn hidden(dir: &Path) -> Vec<PathBuf> {
    snapshot(dir)
        .into_iter()
        .map(|f| f.0)
        .filter(|f| {
            f.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with('.'))
        })
        .collect()
}

/// Copies the tree `from` into the existing directory `to`.
pub fn copy_dir(from: &Path, to: &Path) {
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

/// Rewrites the JSON file at `path` (a run's `_run.json`, `manifest.json`, …) with `edit`
/// applied: how tests damage a run's metadata.
pub fn edit_json(path: &Path, edit: impl FnOnce(&mut serde_json::Value)) {
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    edit(&mut v);
    std::fs::write(path, serde_json::to_string_pretty(&v).unwrap()).unwrap();
}

/// Asserts that every `*.rs` file directly in `tests_dir` (a test binary's directory, built with
/// `autotests = false` from its `main.rs`) is declared as a module in `main_rs`, the text of that
/// `main.rs`: a file left out would compile into nothing and its tests would never run.
///
/// # Panics
/// Naming the first file without its `mod NAME;` line, or when the directory cannot be read.
pub fn assert_every_file_is_a_module(tests_dir: &Path, main_rs: &str) {
    let declared: Vec<&str> = main_rs
        .lines()
        .filter_map(|l| l.trim().strip_prefix("mod ")?.strip_suffix(';'))
        .collect();
    let entries =
        std::fs::read_dir(tests_dir).unwrap_or_else(|e| panic!("{}: {e}", tests_dir.display()));
    let mut files = 0;
    for entry in entries {
        let path = entry.expect("a directory entry").path();
        let Some(stem) = path.file_stem().and_then(|s| s.to_str()) else {
            continue;
        };
        if path.extension().is_some_and(|x| x == "rs") && stem != "main" {
            files += 1;
            assert!(
                declared.contains(&stem),
                "{}: not a module of {}/main.rs (add `mod {stem};` there, or its tests never run)",
                path.display(),
                tests_dir.display()
            );
        }
    }
    assert!(files > 0, "{}: no test file found", tests_dir.display());
}
