//! Round trips through Parquet, metadata, determinism and atomicity of the part writers.

use std::path::{Path, PathBuf};

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::compute::concat_batches;
use arrow::datatypes::{DataType, UInt32Type};
use datapact_model::{Outcome, Status};
use datapact_trace::{
    BatchBuilder, CellRow, CellsBuilder, DESCRIPTION_KEY, DiagnosticsBuilder, DiagnosticsRow,
    EventRow, EventsBuilder, FileMetadata, IN_MEMORY_PART_BYTES, PartWriter, RoundRow, RoundStatus,
    RoundsBuilder, SCHEMA_VERSION, StatSummaries, StatSummary, StatValues, Table, TraceError,
    count_rows, inspect_part, inspect_part_and_metadata, keys, read_metadata, read_part,
    read_table, schema, sha256_file,
};

/// A fresh, empty directory under the target dir (no tempfile crate needed).
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("trace-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn swept() -> Vec<String> {
    vec!["value".to_string(), "payment".to_string()]
}

fn meta() -> FileMetadata {
    FileMetadata {
        scenario_name: "paper-f1".into(),
        scenario_toml: "name = \"paper-f1\"\n[game]\nvalue = [0.0, 0.3]\n".into(),
        scenario_hash: "abc123".into(),
        version: "0.1.0".into(),
        seed: 42,
        extra: vec![("datapact.shard".into(), "3/8".into())],
    }
}

fn cells_batches() -> Vec<RecordBatch> {
    let mut b = CellsBuilder::new("paper-f1", 42, &swept(), &[]).unwrap();
    let mut out = Vec::new();
    for cell in 0..5u32 {
        let coords = [f64::from(cell) * 0.01, 0.3 - f64::from(cell) * 0.01];
        for (i, m) in ["C", "S", "M"].into_iter().enumerate() {
            let x = f64::from(cell) + i as f64 / 10.0;
            b.append(&CellRow {
                cell,
                coords: &coords,
                round: 0,
                mechanism: m,
                reps: 1000 + cell,
                stats: StatSummaries::from_fn(|s| {
                    let k = 2.0 * s.index() as f64;
                    StatSummary {
                        mean: x + k,
                        se: -x - k,
                    }
                }),
                metrics: &[],
            });
        }
        if cell % 2 == 1 {
            out.push(b.finish_batch());
        }
    }
    out.push(b.finish_batch());
    assert!(b.is_empty());
    out
}

fn diagnostics_batches() -> Vec<RecordBatch> {
    let mut b = DiagnosticsBuilder::new("paper-f1", 42, &swept());
    for cell in 0..7u32 {
        let coords = [f64::from(cell), -f64::from(cell)];
        let some = |k: u32| (cell % k != 0).then_some(f64::from(cell) / f64::from(k));
        b.append(&DiagnosticsRow {
            cell,
            coords: &coords,
            round: 0,
            reps: 500,
            s_success_k2: some(2),
            m_success_k2: some(3),
            common_success_k2: (cell % 2 == 0).then_some(cell * 10),
            pc_gap_mean: some(4),
            pc_gap_se: some(5),
            pareto_loss_share: some(6),
            pareto_loss_share_se: some(7),
            pareto_compensation: None,
            pareto_compensation_se: Some(0.5),
        });
    }
    vec![b.finish_batch()]
}

fn rounds_batches() -> Vec<RecordBatch> {
    let mut b = RoundsBuilder::new("paper-f1", 42, &swept(), &[]).unwrap();
    let statuses = [
        RoundStatus::Success,
        RoundStatus::Failure,
        RoundStatus::Null,
    ];
    for rep in 0..10u32 {
        for (i, m) in ["C", "S", "M"].into_iter().enumerate() {
            let x = f64::from(rep) + i as f64;
            b.append(&RoundRow {
                cell: rep / 4,
                coords: &[0.1, 0.2],
                rep,
                round: 0,
                mechanism: m,
                status: statuses[(rep as usize + i) % 3],
                stats: StatValues::of(&Outcome {
                    status: Status::Failure,
                    welfare: x,
                    privacy_cost: x * 2.0,
                    subsidy: x * 3.0,
                    leakage: x * 4.0,
                    data: x * 5.0,
                    withdrawals: rep,
                    backstoppers: rep + 1,
                }),
                metrics: &[],
            });
        }
    }
    vec![b.finish_batch()]
}

fn events_batches(n: u32) -> Vec<RecordBatch> {
    let mut b = EventsBuilder::new("paper-f1", 42, &swept());
    let mut out = Vec::new();
    for seq in 0..n {
        b.append(&EventRow {
            cell: seq / 100,
            coords: &[0.05, 0.15],
            rep: seq / 10,
            round: 0,
            mechanism: if seq % 2 == 0 { "S" } else { "M" },
            time: (seq % 7) as f64,
            seq,
            kind: ["report", "assign", "withdraw"][seq as usize % 3],
            user: (seq % 5 != 0).then_some(seq % 20),
            burden: (seq % 3 != 0).then_some(f64::from(seq) / 7.0),
            cost: (seq % 4 != 0).then_some(f64::from(seq) / 11.0),
        });
        if b.len() == 1000 {
            out.push(b.finish_batch());
        }
    }
    if !b.is_empty() {
        out.push(b.finish_batch());
    }
    out
}

fn write_part(
    out: &Path,
    table: Table,
    part: &str,
    batches: &[RecordBatch],
) -> datapact_trace::PartInfo {
    let mut w = PartWriter::create(
        out,
        table,
        part,
        schema(table, &swept(), &[]).unwrap(),
        &meta(),
    )
    .unwrap();
    for batch in batches {
        w.write(batch).unwrap();
    }
    w.finish().unwrap()
}

fn concat(batches: &[RecordBatch]) -> RecordBatch {
    concat_batches(&batches[0].schema(), batches).unwrap()
}

/// Writes, reads back, and checks schema (types, nullability, descriptions) and values.
fn check_round_trip(table: Table, batches: Vec<RecordBatch>) {
    let out = scratch(&format!("rt-{table}"));
    let info = write_part(&out, table, "part-00000", &batches);
    let expected = concat(&batches);
    assert_eq!(info.rows, expected.num_rows() as u64);
    assert_eq!(
        info.path,
        out.join(table.dir_name()).join("part-00000.parquet")
    );

    let read = read_table(&out, table).unwrap();
    let got = concat(&read);
    let written_schema = schema(table, &swept(), &[]).unwrap();
    assert_eq!(
        got.schema().fields(),
        written_schema.fields(),
        "{table}: fields differ"
    );
    for f in got.schema().fields() {
        let d = f.metadata().get(DESCRIPTION_KEY);
        assert!(
            d.is_some_and(|d| !d.is_empty()),
            "{table}.{}: no description",
            f.name()
        );
    }
    assert_eq!(got.num_rows(), expected.num_rows());
    for (i, f) in written_schema.fields().iter().enumerate() {
        assert_eq!(
            got.column(i).as_ref(),
            expected.column(i).as_ref(),
            "{table}.{}",
            f.name()
        );
    }
}

#[test]
fn cells_round_trip() {
    let batches = cells_batches();
    assert_eq!(batches.len(), 3);
    let all = concat(&batches);
    assert_eq!(all.num_rows(), 15);
    // Identity columns come first and carry the builder's constants.
    assert_eq!(all.schema().field(3).name(), "value");
    assert_eq!(all.schema().field(4).name(), "payment");
    assert_eq!(all.column(0).as_string::<i32>().value(14), "paper-f1");
    assert_eq!(
        all.column(1)
            .as_primitive::<arrow::datatypes::UInt64Type>()
            .value(7),
        42
    );
    assert_eq!(all.column(6).as_string::<i32>().value(4), "S");
    check_round_trip(Table::Cells, batches);
}

#[test]
fn diagnostics_round_trip_with_nulls() {
    let batches = diagnostics_batches();
    let b = &batches[0];
    let idx = |n: &str| b.schema().index_of(n).unwrap();
    assert_eq!(b.column(idx("s_success_k2")).null_count(), 4);
    assert_eq!(b.column(idx("pareto_compensation")).null_count(), 7);
    assert_eq!(
        b.column(idx("common_success_k2")).data_type(),
        &DataType::UInt32
    );
    assert_eq!(b.column(idx("common_success_k2")).null_count(), 3);
    check_round_trip(Table::Diagnostics, batches);
}

#[test]
fn rounds_round_trip() {
    let batches = rounds_batches();
    let b = &batches[0];
    let status = b
        .column(b.schema().index_of("status").unwrap())
        .as_string::<i32>();
    let success = b
        .column(b.schema().index_of("success").unwrap())
        .as_boolean();
    for i in 0..b.num_rows() {
        assert_eq!(success.value(i), status.value(i) == "success");
        assert!(["success", "failure", "null"].contains(&status.value(i)));
    }
    check_round_trip(Table::Rounds, batches);
}

#[test]
fn events_round_trip_many_batches() {
    let batches = events_batches(5500);
    assert_eq!(batches.len(), 6);
    let all = concat(&batches);
    let user = all
        .column(all.schema().index_of("user").unwrap())
        .as_primitive::<UInt32Type>();
    assert_eq!(user.null_count(), 1100);
    check_round_trip(Table::Events, batches);
}

/// `count_rows` (what `verify` and `--resume` use) agrees with a full read and still finds
/// damage, though it holds one batch at a time.
#[test]
fn count_rows_matches_a_full_read_and_finds_damage() {
    let out = scratch("count-rows");
    let batches = events_batches(5500);
    let info = write_part(&out, Table::Events, "part-00000", &batches);
    let read: usize = read_part(&info.path)
        .unwrap()
        .iter()
        .map(|b| b.num_rows())
        .sum();
    assert_eq!(count_rows(&info.path).unwrap(), read as u64);
    assert_eq!(read as u64, info.rows);
    let mut bytes = std::fs::read(&info.path).unwrap();
    bytes.truncate(bytes.len() / 2);
    let damaged = out.join("damaged.parquet");
    std::fs::write(&damaged, bytes).unwrap();
    let err = count_rows(&damaged).unwrap_err();
    assert!(err.to_string().contains("damaged.parquet"), "{err}");
    // `inspect_part` reads a part this small once, into memory, and streams a larger one: the
    // same checksum, rows and metadata either way, and the same damage found.
    let large = write_part(&out, Table::Events, "part-00001", &events_batches(400_000));
    let size = |p: &Path| std::fs::metadata(p).unwrap().len();
    assert!(size(&info.path) <= IN_MEMORY_PART_BYTES);
    assert!(
        size(&large.path) > IN_MEMORY_PART_BYTES,
        "{}",
        size(&large.path)
    );
    for part in [&info, &large] {
        let (inspected, metadata) =
            inspect_part_and_metadata(&part.path, Some(&part.sha256)).unwrap();
        assert_eq!(inspected.rows, part.rows);
        assert_eq!(inspected.sha256, sha256_file(&part.path).unwrap());
        assert_eq!(metadata, read_metadata(&part.path).unwrap());
        let err = inspect_part(&part.path, Some(&sha256_file(&damaged).unwrap())).unwrap_err();
        assert!(err.starts_with("checksum"), "{err}");
    }
    assert_eq!(large.rows, 400_000);
    let err = inspect_part(&damaged, None).unwrap_err();
    assert!(err.contains("damaged.parquet"), "{err}");
    let mut bytes = std::fs::read(&large.path).unwrap();
    bytes.truncate(bytes.len() - 100);
    std::fs::write(&damaged, bytes).unwrap();
    assert!(size(&damaged) > IN_MEMORY_PART_BYTES);
    let err = inspect_part(&damaged, None).unwrap_err();
    assert!(err.contains("damaged.parquet"), "{err}");
}

#[test]
fn no_swept_columns() {
    let out = scratch("no-swept");
    let mut b = RoundsBuilder::new("s", 1, &[] as &[String], &[]).unwrap();
    b.append(&RoundRow {
        cell: 0,
        coords: &[],
        rep: 0,
        round: 0,
        mechanism: "C",
        status: RoundStatus::Failure,
        stats: StatValues::of(&Outcome {
            status: Status::Failure,
            welfare: -1.0,
            privacy_cost: 1.0,
            subsidy: 0.5,
            leakage: 0.5,
            data: 3.0,
            withdrawals: 0,
            backstoppers: 0,
        }),
        metrics: &[],
    });
    let batch = b.finish_batch();
    assert_eq!(batch.schema().field(3).name(), "rep");
    let mut w = PartWriter::create(
        &out,
        Table::Rounds,
        "p",
        schema(Table::Rounds, &[] as &[String], &[]).unwrap(),
        &meta(),
    )
    .unwrap();
    w.write(&batch).unwrap();
    w.finish().unwrap();
    let read = read_table(&out, Table::Rounds).unwrap();
    assert_eq!(concat(&read).columns(), batch.columns());
}

#[test]
fn metadata_keys_present() {
    let out = scratch("meta");
    let info = write_part(&out, Table::Cells, "part-0", &cells_batches());
    let md = read_metadata(&info.path).unwrap();
    let m = meta();
    assert_eq!(md[keys::SCENARIO], m.scenario_toml);
    assert_eq!(md[keys::SCENARIO_NAME], "paper-f1");
    assert_eq!(md[keys::SCENARIO_HASH], "abc123");
    assert_eq!(md[keys::VERSION], "0.1.0");
    assert_eq!(md[keys::SEED], "42");
    assert_eq!(md[keys::TABLE], "cells");
    assert_eq!(md[keys::SCHEMA_VERSION], SCHEMA_VERSION);
    assert_eq!(md["datapact.shard"], "3/8");
    assert!(
        !md[keys::ARROW_SCHEMA].is_empty(),
        "Arrow schema must be embedded"
    );
}

#[test]
fn reserved_extra_key_rejected() {
    let out = scratch("reserved");
    let mut m = meta();
    m.extra.push((keys::SEED.into(), "7".into()));
    let err = PartWriter::create(
        &out,
        Table::Cells,
        "p",
        schema(Table::Cells, &swept(), &[]).unwrap(),
        &m,
    )
    .unwrap_err();
    assert!(matches!(err, TraceError::ReservedMetadataKey { .. }));
    assert!(err.to_string().contains("p.parquet"), "{err}");
}

#[test]
fn identical_input_gives_identical_bytes() {
    let a = scratch("det-a");
    let b = scratch("det-b");
    let batches = events_batches(3000);
    let ia = write_part(&a, Table::Events, "part", &batches);
    let ib = write_part(&b, Table::Events, "part", &events_batches(3000));
    let bytes_a = std::fs::read(&ia.path).unwrap();
    let bytes_b = std::fs::read(&ib.path).unwrap();
    assert!(bytes_a == bytes_b, "files differ");
    assert_eq!(ia.sha256, ib.sha256);
    assert_eq!(ia.sha256, sha256_file(&ia.path).unwrap());
    assert_eq!(ia.sha256.len(), 64);
    // And different input gives a different hash.
    let c = scratch("det-c");
    let ic = write_part(&c, Table::Events, "part", &events_batches(2999));
    assert_ne!(ia.sha256, ic.sha256);
}

fn dir_entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn temp_file_renamed_on_finish() {
    let out = scratch("atomic-ok");
    let dir = out.join("rounds");
    let mut w = PartWriter::create(
        &out,
        Table::Rounds,
        "part-1",
        schema(Table::Rounds, &swept(), &[]).unwrap(),
        &meta(),
    )
    .unwrap();
    for batch in rounds_batches() {
        w.write(&batch).unwrap();
    }
    assert_eq!(dir_entries(&dir), [".part-1.parquet.tmp"]);
    assert_eq!(w.rows(), 30);
    w.finish().unwrap();
    assert_eq!(dir_entries(&dir), ["part-1.parquet"]);
}

#[test]
fn temp_file_removed_when_dropped_unfinished() {
    let out = scratch("atomic-drop");
    let dir = out.join("events");
    {
        let mut w = PartWriter::create(
            &out,
            Table::Events,
            "part-9",
            schema(Table::Events, &swept(), &[]).unwrap(),
            &meta(),
        )
        .unwrap();
        for batch in events_batches(2000) {
            w.write(&batch).unwrap();
        }
        assert_eq!(dir_entries(&dir), [".part-9.parquet.tmp"]);
    }
    assert!(dir_entries(&dir).is_empty(), "{:?}", dir_entries(&dir));
    // Nothing to read: an empty table, not a half-written part.
    assert!(read_table(&out, Table::Events).unwrap().is_empty());
}

#[test]
fn failed_write_leaves_nothing_behind() {
    let out = scratch("atomic-fail");
    let dir = out.join("cells");
    let mut w = PartWriter::create(
        &out,
        Table::Cells,
        "part",
        schema(Table::Cells, &swept(), &[]).unwrap(),
        &meta(),
    )
    .unwrap();
    // A batch of another table does not fit the schema.
    let err = w.write(&rounds_batches()[0]).unwrap_err();
    assert!(err.to_string().contains("part.parquet.tmp"), "{err}");
    drop(w);
    assert!(dir_entries(&dir).is_empty());
}

#[test]
fn read_table_orders_parts_by_name_and_skips_temp_files() {
    let out = scratch("order");
    let batches = rounds_batches();
    let first = batches[0].slice(0, 10);
    let second = batches[0].slice(10, 20);
    write_part(&out, Table::Rounds, "part-b", std::slice::from_ref(&second));
    write_part(&out, Table::Rounds, "part-a", std::slice::from_ref(&first));
    let mut pending = PartWriter::create(
        &out,
        Table::Rounds,
        "part-0",
        schema(Table::Rounds, &swept(), &[]).unwrap(),
        &meta(),
    )
    .unwrap();
    pending.write(&first).unwrap();
    let read = concat(&read_table(&out, Table::Rounds).unwrap());
    assert_eq!(read.columns(), batches[0].columns());
    drop(pending);
}

#[test]
fn errors_name_the_path() {
    let out = scratch("errors");
    let err = read_table(&out, Table::Diagnostics).unwrap_err();
    assert!(err.to_string().contains("diagnostics"), "{err}");
    let missing = out.join("nope.parquet");
    let err = read_metadata(&missing).unwrap_err();
    assert!(err.to_string().contains("nope.parquet"), "{err}");
    let not_parquet = out.join("junk.parquet");
    std::fs::write(&not_parquet, b"not parquet at all").unwrap();
    let err = read_metadata(&not_parquet).unwrap_err();
    assert!(err.to_string().contains("junk.parquet"), "{err}");
    let err = PartWriter::create(
        &out,
        Table::Cells,
        "a/b",
        schema(Table::Cells, &[] as &[String], &[]).unwrap(),
        &meta(),
    )
    .unwrap_err();
    assert!(matches!(err, TraceError::InvalidPartName { .. }));
}

#[test]
#[should_panic(expected = "swept coordinates")]
fn wrong_number_of_coords_panics() {
    let mut b = EventsBuilder::new("s", 0, &swept());
    b.append(&EventRow {
        cell: 0,
        coords: &[1.0],
        rep: 0,
        round: 0,
        mechanism: "M",
        time: 0.0,
        seq: 0,
        kind: "report",
        user: None,
        burden: None,
        cost: None,
    });
}

#[test]
fn builder_trait_is_usable_generically() {
    fn drain(b: &mut dyn BatchBuilder) -> usize {
        b.finish_batch().num_rows()
    }
    let mut b = CellsBuilder::new("s", 0, &[] as &[String], &[]).unwrap();
    assert_eq!(drain(&mut b), 0);
    assert!(BatchBuilder::is_empty(&b));
}
