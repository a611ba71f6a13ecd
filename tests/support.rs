//! Helpers for the end-to-end tests: run a scenario into a temp dir, read a table back as columns.

use std::path::Path;

use datapact_model::catalog::CoreMechanism;
use datapact_runner::{RunOptions, Shard};
use datapact_scenario::Scenario;
use datapact_trace::Table;
use datapact_trace::arrow::array::{Array, AsArray, RecordBatch};
use datapact_trace::arrow::datatypes::{Float64Type, UInt32Type};

/// Catalog ids of the core mechanisms C, S and M, as the model declares them
/// ([`CoreMechanism::id`]).
pub const C: u16 = CoreMechanism::Subsidy.id();
/// See [`C`].
pub const S: u16 = CoreMechanism::Simultaneous.id();
/// See [`C`].
pub const M: u16 = CoreMechanism::Sequential.id();

pub fn scenario(text: &str, overrides: &[&str]) -> Scenario {
    let overrides: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
    Scenario::from_str(text, "<test>", &overrides).expect("valid test scenario")
}

pub fn baseline(overrides: &[&str]) -> Scenario {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../scenarios/baseline.toml"
    ))
    .unwrap();
    scenario(&text, overrides)
}

pub fn run(scenario: &Scenario, out: &Path, threads: usize, shard: Shard) {
    let opts = RunOptions {
        threads,
        shard,
        ..RunOptions::new(out)
    };
    datapact_runner::run(scenario, &opts).expect("run succeeds");
}

pub fn read(out: &Path, table: Table) -> Vec<RecordBatch> {
    datapact_trace::read_table(out, table).expect("table reads back")
}

pub fn f64s(batches: &[RecordBatch], column: &str) -> Vec<f64> {
    batches
        .iter()
        .flat_map(|b| {
            b.column_by_name(column)
                .unwrap_or_else(|| panic!("no column {column}"))
                .as_primitive::<Float64Type>()
                .values()
                .to_vec()
        })
        .collect()
}

pub fn u32s(batches: &[RecordBatch], column: &str) -> Vec<u32> {
    batches
        .iter()
        .flat_map(|b| {
            b.column_by_name(column)
                .unwrap_or_else(|| panic!("no column {column}"))
                .as_primitive::<UInt32Type>()
                .values()
                .to_vec()
        })
        .collect()
}

pub fn strings(batches: &[RecordBatch], column: &str) -> Vec<String> {
    batches
        .iter()
        .flat_map(|b| {
            let a = b
                .column_by_name(column)
                .unwrap_or_else(|| panic!("no column {column}"))
                .as_string::<i32>();
            (0..a.len())
                .map(|i| a.value(i).to_string())
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Every row of `batches` as (column, value) pairs in schema order, values formatted by Arrow
/// (floats in their shortest round-trip form, so equal strings mean equal bits), leaving out
/// the columns in `exclude`.
pub fn rows(batches: &[RecordBatch], exclude: &[&str]) -> Vec<Vec<(String, String)>> {
    use datapact_trace::arrow::util::display::{ArrayFormatter, FormatOptions};
    let options = FormatOptions::default().with_null("null");
    let mut out = Vec::new();
    for b in batches {
        let schema = b.schema();
        let columns: Vec<(String, ArrayFormatter)> = schema
            .fields()
            .iter()
            .zip(b.columns())
            .filter(|(f, _)| !exclude.contains(&f.name().as_str()))
            .map(|(f, a)| {
                (
                    f.name().clone(),
                    ArrayFormatter::try_new(a.as_ref(), &options).expect("formattable column"),
                )
            })
            .collect();
        for i in 0..b.num_rows() {
            out.push(
                columns
                    .iter()
                    .map(|(n, f)| (n.clone(), f.value(i).to_string()))
                    .collect(),
            );
        }
    }
    out
}

/// Every part file of `tables` in run directory `dir`, as (`table/name`, bytes), sorted: two
/// runs wrote the same output exactly when these are equal.
pub fn part_files(dir: &Path, tables: &[&str]) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for table in tables {
        for e in std::fs::read_dir(dir.join(table)).unwrap() {
            let p = e.unwrap().path();
            out.push((
                format!("{table}/{}", p.file_name().unwrap().to_string_lossy()),
                std::fs::read(&p).unwrap(),
            ));
        }
    }
    out.sort();
    out
}
