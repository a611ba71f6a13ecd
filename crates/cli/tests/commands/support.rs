//! The helpers every module runs the binary with: `datapact_testkit`'s, bound to this build's
//! `datapact`, and the ones that run a scenario.

use std::path::Path;
use std::process::{Command, Output};

pub use datapact_testkit::{copy_dir, edit_json, hidden, s, snapshot, text, write};

/// The binary under test: `DATAPACT_BIN` (another build, to check that a test fails on the code
/// before its guarantee existed), else this build's `datapact`.
pub fn bin() -> Command {
    datapact_testkit::binary(env!("CARGO_BIN_EXE_datapact"))
}

/// Runs the binary with `args` to completion.
pub fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("run datapact")
}

/// Runs `file` into `out` (extra args appended) on two threads; asserts success.
pub fn run_ok(file: &Path, out: &Path, extra: &[&str]) {
    let mut args = vec!["run", s(file), "--out", s(out), "-q", "--threads", "2"];
    args.extend(extra);
    let o = run(&args);
    assert!(o.status.success(), "{}", text(&o));
}

/// Asserts a command failed cleanly: the exit code wanted, no panic, no backtrace.
pub fn assert_refused(o: &Output, code: i32, what: &str) {
    datapact_testkit::assert_failed_cleanly(o, code, what);
}
