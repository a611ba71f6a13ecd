//! Helpers shared by the scenario crate's test files.
// Each test binary includes this module and uses some of it.
#![allow(dead_code)]

use datapact_scenario::{Scenario, ScenarioError};

/// `[scenario]` named `name` (seed 1, 10 replications): what the short test scenarios start with.
pub fn header(name: &str) -> String {
    format!("\n[scenario]\nname = \"{name}\"\nseed = 1\nreplications = 10\n")
}

/// [`header`]`(name)` then `rest`, loaded as `NAME.toml`.
pub fn load_after_header(name: &str, rest: &str) -> Result<Scenario, ScenarioError> {
    Scenario::from_str(
        &format!("{}{rest}", header(name)),
        &format!("{name}.toml"),
        &[],
    )
}

/// As [`load_after_header`], which must succeed.
pub fn ok_after_header(name: &str, rest: &str) -> Scenario {
    load_after_header(name, rest).unwrap_or_else(|e| panic!("unexpected error: {e}"))
}

/// As [`load_after_header`], which must fail: its message.
pub fn err_after_header(name: &str, rest: &str) -> String {
    match load_after_header(name, rest) {
        Ok(_) => panic!("expected an error for:\n{rest}"),
        Err(e) => e.to_string(),
    }
}

/// Writes `columns` (name, array) to a Parquet file at `path`.
pub fn write_parquet(path: &std::path::Path, columns: Vec<(&str, arrow::array::ArrayRef)>) {
    let batch = arrow::record_batch::RecordBatch::try_from_iter(columns).unwrap();
    let file = std::fs::File::create(path).unwrap();
    let mut w = parquet::arrow::ArrowWriter::try_new(file, batch.schema(), None).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
}
