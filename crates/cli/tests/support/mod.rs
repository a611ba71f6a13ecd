//! Helpers shared by the command line's test files that run the binary.
// Each test binary includes this module and uses some of it.
#![allow(dead_code)]

use std::process::{Command, Output};

/// The binary under test: `DATAPACT_BIN` (another build, to check that a test fails on the code
/// before its guarantee existed), else this build's `datapact`.
pub fn bin() -> Command {
    match std::env::var_os("DATAPACT_BIN") {
        Some(b) => Command::new(b),
        None => Command::new(env!("CARGO_BIN_EXE_datapact")),
    }
}

/// Runs the binary with `args` to completion.
pub fn run(args: &[&str]) -> Output {
    bin().args(args).output().unwrap()
}

/// Its stdout then stderr, as text.
pub fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}
