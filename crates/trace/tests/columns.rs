//! The single column declarations: every row field lands in the column of its name, the typed
//! readers read them back, and metric columns are laid out, filled and validated as declared.

use std::collections::BTreeMap;

use datapact_model::stats::{Better, RoundsColumn, Stat};
use datapact_model::{Outcome, Status};
use datapact_trace::arrow::array::{
    Array, BooleanArray, Float64Array, RecordBatch, StringArray, UInt32Array, UInt64Array,
};
use datapact_trace::arrow::datatypes::DataType;
use datapact_trace::{
    CellRow, CellsBuilder, CellsColumns, ContrastRow, ContrastsBuilder, DESCRIPTION_KEY,
    DiagnosticsBuilder, DiagnosticsColumns, DiagnosticsRow, EventRow, EventsBuilder, EventsColumns,
    MetricColumn, MetricSummary, PairedSummaries, PairedSummary, RoundNetwork, RoundRow,
    RoundStatus, RoundsBuilder, RoundsColumns, StatSummaries, StatSummary, StatValues, Table,
    TraceError, schema, schema_of, typed_column,
};

/// A `cells` statistic's mean and SE.
fn summary(mean: f64, se: f64) -> StatSummary {
    StatSummary { mean, se }
}

/// A cell value read back from a batch, whatever its Arrow type.
#[derive(Clone, Debug, PartialEq)]
enum Value {
    Str(String),
    U64(u64),
    F64(f64),
    Bool(bool),
    Null,
}

/// Row 0 of every column of `batch`, by column name.
fn first_row(batch: &RecordBatch) -> BTreeMap<String, Value> {
    let schema = batch.schema();
    schema
        .fields()
        .iter()
        .zip(batch.columns())
        .map(|(field, col)| {
            let value = if col.is_null(0) {
                Value::Null
            } else {
                let any = col.as_any();
                match field.data_type() {
                    DataType::Utf8 => Value::Str(
                        any.downcast_ref::<StringArray>()
                            .unwrap()
                            .value(0)
                            .to_string(),
                    ),
                    DataType::UInt32 => {
                        Value::U64(any.downcast_ref::<UInt32Array>().unwrap().value(0).into())
                    }
                    DataType::UInt64 => {
                        Value::U64(any.downcast_ref::<UInt64Array>().unwrap().value(0))
                    }
                    DataType::Float64 => {
                        Value::F64(any.downcast_ref::<Float64Array>().unwrap().value(0))
                    }
                    DataType::Boolean => {
                        Value::Bool(any.downcast_ref::<BooleanArray>().unwrap().value(0))
                    }
                    other => panic!("unexpected type {other}"),
                }
            };
            (field.name().clone(), value)
        })
        .collect()
}

/// Asserts that `batch` holds exactly the columns of `expected`, each with its value, and that
/// the values are pairwise distinct (so a field written to a wrong column cannot go unnoticed).
fn assert_columns(batch: &RecordBatch, expected: &[(&str, Value)]) {
    let got = first_row(batch);
    let names: Vec<&str> = expected.iter().map(|(n, _)| *n).collect();
    let schema_names: Vec<String> = got.keys().cloned().collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(
        sorted, schema_names,
        "columns checked vs columns in the batch"
    );
    for (i, (_, v)) in expected.iter().enumerate() {
        for (n, w) in &expected[..i] {
            assert!(
                v != w || *v == Value::Null,
                "test values must be distinct: {n} repeats {v:?}"
            );
        }
    }
    for (name, value) in expected {
        assert_eq!(&got[*name], value, "column `{name}`");
    }
}

fn swept() -> Vec<String> {
    vec!["value".to_string(), "payment".to_string()]
}

fn metrics() -> Vec<MetricColumn> {
    vec![
        MetricColumn::new("gini", "Gini coefficient of the payments."),
        MetricColumn::new("regret2", "Mean regret of the users."),
    ]
}

use Value::{Bool, F64, Null, Str, U64};

fn identity(cell: u64) -> Vec<(&'static str, Value)> {
    vec![
        ("scenario", Str("scen".into())),
        ("seed", U64(9_000_000_000)),
        ("cell", U64(cell)),
        ("value", F64(0.125)),
        ("payment", F64(0.25)),
    ]
}

#[test]
fn cells_fields_land_in_their_columns() {
    let mut b = CellsBuilder::new("scen", 9_000_000_000, &swept(), &metrics()).unwrap();
    let metric_values = [
        MetricSummary {
            mean: Some(101.0),
            se: Some(102.0),
        },
        MetricSummary {
            mean: Some(103.0),
            se: None,
        },
    ];
    b.append(&CellRow {
        cell: 7,
        coords: &[0.125, 0.25],
        round: 3,
        mechanism: "M",
        reps: 500,
        stats: StatSummaries::from_fn(|s| match s {
            Stat::Success => summary(1.0, 2.0),
            Stat::Welfare => summary(3.0, 4.0),
            Stat::PrivacyCost => summary(5.0, 6.0),
            Stat::Subsidy => summary(7.0, 8.0),
            Stat::Leakage => summary(9.0, 10.0),
            Stat::Data => summary(11.0, 12.0),
            Stat::Withdrawals => summary(13.0, 14.0),
            // No SE columns: their SEs are written nowhere.
            Stat::Null => summary(15.0, -1.0),
            Stat::Backstoppers => summary(16.0, -2.0),
        }),
        metrics: &metric_values,
    });
    let batch = b.finish_batch();
    let mut expected = identity(7);
    expected.extend([
        ("round", U64(3)),
        ("mechanism", Str("M".into())),
        ("reps", U64(500)),
        ("success_rate", F64(1.0)),
        ("success_se", F64(2.0)),
        ("welfare_mean", F64(3.0)),
        ("welfare_se", F64(4.0)),
        ("privacy_cost_mean", F64(5.0)),
        ("privacy_cost_se", F64(6.0)),
        ("subsidy_mean", F64(7.0)),
        ("subsidy_se", F64(8.0)),
        ("leakage_mean", F64(9.0)),
        ("leakage_se", F64(10.0)),
        ("data_mean", F64(11.0)),
        ("data_se", F64(12.0)),
        ("withdrawals_mean", F64(13.0)),
        ("withdrawals_se", F64(14.0)),
        ("null_rate", F64(15.0)),
        ("backstoppers_mean", F64(16.0)),
        ("gini_mean", F64(101.0)),
        ("gini_se", F64(102.0)),
        ("regret2_mean", F64(103.0)),
        ("regret2_se", Null),
    ]);
    assert_columns(&batch, &expected);

    let c = CellsColumns::new(&batch).unwrap();
    assert_eq!(
        (c.scenario.value(0), c.seed.value(0), c.cell.value(0)),
        ("scen", 9_000_000_000, 7)
    );
    assert_eq!((c.round.value(0), c.mechanism.value(0)), (3, "M"));
    let stat: &Float64Array = typed_column(&batch, Table::Cells, "backstoppers_mean").unwrap();
    assert_eq!(stat.value(0), 16.0);
}

/// The own columns of `table` after `last_fixed`: its statistic columns, as (name, Arrow type,
/// description).
fn stat_columns(table: Table, last_fixed: &str) -> Vec<(String, DataType, String)> {
    let own = table.columns();
    let at = own.iter().position(|c| c.name == last_fixed).unwrap();
    own[at + 1..]
        .iter()
        .map(|c| {
            assert!(!c.nullable, "{}", c.name);
            (
                c.name.to_string(),
                c.ty.data_type(),
                c.description.to_string(),
            )
        })
        .collect()
}

/// The statistic columns are made from the model's declarations (`Stat::spec`), table by
/// table: each statistic's `cells` mean and SE columns, its `rounds` column named by its stem
/// (none when `status` says it), and a contrasted statistic's three `contrasts` columns, with
/// the declared descriptions. So adding a statistic is its declaration and nothing in the trace;
/// a column missing, extra, out of order or described otherwise fails here, and one filled with
/// another statistic's value fails `statistics_land_in_their_declared_columns`.
#[test]
fn statistic_columns_follow_the_declarations() {
    let (mut cells, mut rounds, mut contrasts) = (Vec::new(), Vec::new(), Vec::new());
    for stat in Stat::ALL {
        let spec = stat.spec();
        let f64_column = |name: &str, doc: String| (name.to_string(), DataType::Float64, doc);
        cells.push(f64_column(spec.column, spec.doc.to_string()));
        if let Some(se) = spec.se_column {
            cells.push(f64_column(
                se,
                format!("Standard error of {}.", spec.column),
            ));
        }
        match spec.rounds {
            RoundsColumn::Real(doc) => rounds.push(f64_column(spec.stem, doc.to_string())),
            RoundsColumn::Count(doc) => {
                rounds.push((spec.stem.to_string(), DataType::UInt32, doc.to_string()))
            }
            RoundsColumn::Status => {}
        }
        if let Some(c) = spec.contrast {
            let stem = spec.stem;
            let way = if c.better == Better::Higher {
                "higher"
            } else {
                "lower"
            };
            contrasts.extend([
                f64_column(
                    &format!("{stem}_diff"),
                    format!("Paired mean difference of {}, A − B: the mean over the replications of (value under mechanism_a) − (value under mechanism_b), the two campaigns sharing the replication's draws.", c.of),
                ),
                f64_column(
                    &format!("{stem}_diff_se"),
                    format!("Standard error of {stem}_diff: the standard deviation of the per-replication differences / √reps (0 when reps < 2)."),
                ),
                f64_column(
                    &format!("{stem}_a_better"),
                    format!("Share of replications where A is strictly better ({way} is better): {}. Ties count as not better.", c.a_better),
                ),
            ]);
        }
    }
    assert_eq!(stat_columns(Table::Cells, "reps"), cells);
    assert_eq!(stat_columns(Table::Rounds, "success"), rounds);
    assert_eq!(stat_columns(Table::Contrasts, "reps"), contrasts);
    for table in [Table::Diagnostics, Table::Users, Table::Events] {
        let names: Vec<&str> = table.columns().iter().map(|c| c.name).collect();
        for stat in Stat::ALL {
            assert!(!names.contains(&stat.spec().column), "{table}: {stat:?}");
        }
    }
}

/// Every statistic's values land in the columns its declaration names (each value distinct).
#[test]
fn statistics_land_in_their_declared_columns() {
    let float = |batch: &RecordBatch, table: Table, name: &str| -> f64 {
        let column = batch.column_by_name(name).unwrap();
        match column.data_type() {
            DataType::UInt32 => f64::from(
                typed_column::<UInt32Array>(batch, table, name)
                    .unwrap()
                    .value(0),
            ),
            _ => typed_column::<Float64Array>(batch, table, name)
                .unwrap()
                .value(0),
        }
    };
    let k = |s: Stat| s.index() as f64 * 10.0;
    let none: [String; 0] = [];

    let mut b = CellsBuilder::new("s", 0, &none, &[]).unwrap();
    b.append(&CellRow {
        cell: 0,
        coords: &[],
        round: 0,
        mechanism: "M",
        reps: 2,
        stats: StatSummaries::from_fn(|s| summary(k(s) + 1.0, k(s) + 2.0)),
        metrics: &[],
    });
    let batch = b.finish_batch();
    for stat in Stat::ALL {
        let spec = stat.spec();
        assert_eq!(
            float(&batch, Table::Cells, spec.column),
            k(stat) + 1.0,
            "{stat:?}"
        );
        if let Some(se) = spec.se_column {
            assert_eq!(float(&batch, Table::Cells, se), k(stat) + 2.0, "{stat:?}");
        }
    }

    let mut b = RoundsBuilder::new("s", 0, &none, &[]).unwrap();
    b.append(&RoundRow {
        cell: 0,
        coords: &[],
        rep: 0,
        round: 0,
        mechanism: "M",
        status: RoundStatus::Success,
        stats: StatValues::from_fn(|s| k(s) + 3.0),
        metrics: &[],
    });
    let batch = b.finish_batch();
    for stat in Stat::ALL {
        if stat.spec().rounds != RoundsColumn::Status {
            assert_eq!(
                float(&batch, Table::Rounds, stat.spec().stem),
                k(stat) + 3.0,
                "{stat:?}"
            );
        }
    }

    let mut b = ContrastsBuilder::new("s", 0, &none);
    b.append(&ContrastRow {
        cell: 0,
        coords: &[],
        round: 0,
        mechanism_a: "M",
        mechanism_b: "S",
        reps: 2,
        stats: PairedSummaries::from_fn(|s| PairedSummary {
            diff: k(s) + 4.0,
            se: k(s) + 5.0,
            a_better: k(s) + 6.0,
        }),
    });
    let batch = b.finish_batch();
    for stat in Stat::CONTRASTED {
        let stem = stat.spec().stem;
        let got = [
            float(&batch, Table::Contrasts, &format!("{stem}_diff")),
            float(&batch, Table::Contrasts, &format!("{stem}_diff_se")),
            float(&batch, Table::Contrasts, &format!("{stem}_a_better")),
        ];
        assert_eq!(
            got,
            [k(stat) + 4.0, k(stat) + 5.0, k(stat) + 6.0],
            "{stat:?}"
        );
    }
}

#[test]
fn diagnostics_fields_land_in_their_columns() {
    let mut b = DiagnosticsBuilder::new("scen", 9_000_000_000, &swept());
    b.append(&DiagnosticsRow {
        cell: 7,
        coords: &[0.125, 0.25],
        round: 3,
        reps: 500,
        s_success_k2: Some(1.0),
        m_success_k2: Some(2.0),
        common_success_k2: Some(40),
        pc_gap_mean: Some(4.0),
        pc_gap_se: Some(5.0),
        pareto_loss_share: Some(6.0),
        pareto_loss_share_se: Some(7.0),
        pareto_compensation: Some(8.0),
        pareto_compensation_se: None,
    });
    let batch = b.finish_batch();
    let mut expected = identity(7);
    expected.extend([
        ("round", U64(3)),
        ("reps", U64(500)),
        ("s_success_k2", F64(1.0)),
        ("m_success_k2", F64(2.0)),
        ("common_success_k2", U64(40)),
        ("pc_gap_mean", F64(4.0)),
        ("pc_gap_se", F64(5.0)),
        ("pareto_loss_share", F64(6.0)),
        ("pareto_loss_share_se", F64(7.0)),
        ("pareto_compensation", F64(8.0)),
        ("pareto_compensation_se", Null),
    ]);
    assert_columns(&batch, &expected);

    let c = DiagnosticsColumns::new(&batch).unwrap();
    assert_eq!(c.common_success_k2.value(0), 40);
    assert!(c.pareto_compensation_se.is_null(0));
}

/// The statistics of one campaign: welfare 1, privacy cost 2, subsidy 3, leakage 4, data 5,
/// 6 withdrawals, 8 backstoppers.
fn campaign() -> StatValues {
    StatValues::of(&Outcome {
        status: Status::Failure,
        welfare: 1.0,
        privacy_cost: 2.0,
        subsidy: 3.0,
        leakage: 4.0,
        data: 5.0,
        withdrawals: 6,
        backstoppers: 8,
    })
}

#[test]
fn rounds_fields_land_in_their_columns() {
    let mut b = RoundsBuilder::new("scen", 9_000_000_000, &swept(), &metrics()).unwrap();
    b.append(&RoundRow {
        cell: 7,
        coords: &[0.125, 0.25],
        rep: 11,
        round: 3,
        mechanism: "S",
        status: RoundStatus::Success,
        stats: campaign(),
        metrics: &[None, Some(101.0)],
    });
    let batch = b.finish_batch();
    let mut expected = identity(7);
    expected.extend([
        ("rep", U64(11)),
        ("round", U64(3)),
        ("mechanism", Str("S".into())),
        ("status", Str("success".into())),
        ("success", Bool(true)),
        ("welfare", F64(1.0)),
        ("privacy_cost", F64(2.0)),
        ("subsidy", F64(3.0)),
        ("leakage", F64(4.0)),
        ("data", F64(5.0)),
        ("withdrawals", U64(6)),
        ("backstoppers", U64(8)),
        ("gini", Null),
        ("regret2", F64(101.0)),
    ]);
    assert_columns(&batch, &expected);

    let c = RoundsColumns::new(&batch).unwrap();
    assert_eq!((c.status.value(0), c.success.value(0)), ("success", true));
    let withdrawals: &UInt32Array = typed_column(&batch, Table::Rounds, "withdrawals").unwrap();
    assert_eq!(withdrawals.value(0), 6);
    let regret: &Float64Array = typed_column(&batch, Table::Rounds, "regret2").unwrap();
    assert_eq!(regret.value(0), 101.0);
}

/// A builder with its network columns places them after the own columns and before the metric
/// columns, as `schema_of(.., true)` does; a row appended without network values holds nulls.
#[test]
fn network_columns_follow_the_own_columns_and_are_null_unless_given() {
    let mut b = RoundsBuilder::new("scen", 9_000_000_000, &swept(), &metrics())
        .unwrap()
        .with_network();
    assert_eq!(
        b.schema(),
        &schema_of(Table::Rounds, &swept(), &metrics(), true).unwrap()
    );
    assert_ne!(
        b.schema(),
        &schema(Table::Rounds, &swept(), &metrics()).unwrap()
    );
    let row = RoundRow {
        cell: 7,
        coords: &[0.125, 0.25],
        rep: 11,
        round: 3,
        mechanism: "M",
        status: RoundStatus::Failure,
        stats: campaign(),
        metrics: &[Some(201.0), Some(101.0)],
    };
    b.append_networked(&row, &RoundNetwork { cascade: Some(5) });
    b.append(&row);
    let batch = b.finish_batch();
    let mut expected = identity(7);
    expected.extend([
        ("rep", U64(11)),
        ("round", U64(3)),
        ("mechanism", Str("M".into())),
        ("status", Str("failure".into())),
        ("success", Bool(false)),
        ("welfare", F64(1.0)),
        ("privacy_cost", F64(2.0)),
        ("subsidy", F64(3.0)),
        ("leakage", F64(4.0)),
        ("data", F64(5.0)),
        ("withdrawals", U64(6)),
        ("backstoppers", U64(8)),
        ("cascade", U64(5)),
        ("gini", F64(201.0)),
        ("regret2", F64(101.0)),
    ]);
    assert_columns(&batch, &expected);
    let cascade: &UInt32Array = typed_column(&batch, Table::Rounds, "cascade").unwrap();
    assert!(cascade.is_null(1));
    // Without network columns, network values are ignored and the layout is the plain one.
    let mut plain = RoundsBuilder::new("scen", 1, &swept(), &metrics()).unwrap();
    plain.append_networked(&row, &RoundNetwork { cascade: Some(5) });
    let batch = plain.finish_batch();
    assert!(batch.schema().field_with_name("cascade").is_err());
    assert_eq!(
        batch.schema(),
        schema(Table::Rounds, &swept(), &metrics()).unwrap()
    );
}

#[test]
fn rounds_success_follows_status() {
    let mut b = RoundsBuilder::new("s", 0, &[] as &[String], &[]).unwrap();
    let statuses = [
        RoundStatus::Success,
        RoundStatus::Failure,
        RoundStatus::Null,
    ];
    for status in statuses {
        b.append(&RoundRow {
            cell: 0,
            coords: &[],
            rep: 0,
            round: 0,
            mechanism: "C",
            status,
            stats: StatValues::default(),
            metrics: &[],
        });
    }
    let batch = b.finish_batch();
    let c = RoundsColumns::new(&batch).unwrap();
    let got: Vec<(&str, bool)> = (0..3)
        .map(|i| (c.status.value(i), c.success.value(i)))
        .collect();
    assert_eq!(
        got,
        [("success", true), ("failure", false), ("null", false)]
    );
}

#[test]
fn events_fields_land_in_their_columns() {
    let mut b = EventsBuilder::new("scen", 9_000_000_000, &swept());
    b.append(&EventRow {
        cell: 7,
        coords: &[0.125, 0.25],
        rep: 11,
        round: 3,
        mechanism: "C",
        time: 4.75,
        seq: 5,
        kind: "withdraw",
        user: Some(6),
        burden: Some(1.5),
        cost: Some(2.5),
    });
    let batch = b.finish_batch();
    let mut expected = identity(7);
    expected.extend([
        ("rep", U64(11)),
        ("round", U64(3)),
        ("mechanism", Str("C".into())),
        ("time", F64(4.75)),
        ("seq", U64(5)),
        ("kind", Str("withdraw".into())),
        ("user", U64(6)),
        ("burden", F64(1.5)),
        ("cost", F64(2.5)),
    ]);
    assert_columns(&batch, &expected);

    let c = EventsColumns::new(&batch).unwrap();
    assert_eq!((c.kind.value(0), c.user.value(0)), ("withdraw", 6));
}

#[test]
fn metric_columns_follow_the_fixed_columns() {
    let fixed = |t: Table| 3 + swept().len() + t.columns().len();
    let s = schema(Table::Cells, &swept(), &metrics()).unwrap();
    let tail: Vec<&str> = s.fields()[fixed(Table::Cells)..]
        .iter()
        .map(|f| f.name().as_str())
        .collect();
    assert_eq!(tail, ["gini_mean", "gini_se", "regret2_mean", "regret2_se"]);
    let s = schema(Table::Rounds, &swept(), &metrics()).unwrap();
    let tail: Vec<&str> = s.fields()[fixed(Table::Rounds)..]
        .iter()
        .map(|f| f.name().as_str())
        .collect();
    assert_eq!(tail, ["gini", "regret2"]);
    for table in [Table::Cells, Table::Rounds] {
        let s = schema(table, &swept(), &metrics()).unwrap();
        for f in &s.fields()[fixed(table)..] {
            assert_eq!(f.data_type(), &DataType::Float64);
            assert!(f.is_nullable(), "{table}.{}", f.name());
            let description = &f.metadata()[DESCRIPTION_KEY];
            let metric = &metrics()[usize::from(f.name().starts_with("regret2"))];
            assert!(
                description.contains(&metric.description),
                "{table}.{}: {description}",
                f.name()
            );
        }
    }
    // Tables without metric columns ignore them.
    for table in [Table::Diagnostics, Table::Events] {
        assert_eq!(
            schema(table, &swept(), &metrics()).unwrap(),
            schema(table, &swept(), &[]).unwrap()
        );
    }
}

#[test]
fn metrics_are_null_across_batches_when_absent() {
    let mut b = RoundsBuilder::new("s", 0, &[] as &[String], &metrics()).unwrap();
    for (rep, values) in [[Some(1.0), None], [None, Some(2.0)]].iter().enumerate() {
        b.append(&RoundRow {
            cell: 0,
            coords: &[],
            rep: rep as u32,
            round: 0,
            mechanism: "M",
            status: RoundStatus::Failure,
            stats: StatValues::default(),
            metrics: values,
        });
    }
    let batch = b.finish_batch();
    let gini: &Float64Array = typed_column(&batch, Table::Rounds, "gini").unwrap();
    let regret: &Float64Array = typed_column(&batch, Table::Rounds, "regret2").unwrap();
    let opt = |a: &Float64Array, i: usize| (!a.is_null(i)).then(|| a.value(i));
    assert_eq!((opt(gini, 0), opt(gini, 1)), (Some(1.0), None));
    assert_eq!((opt(regret, 0), opt(regret, 1)), (None, Some(2.0)));
    // The builder is empty and reusable after a batch.
    assert_eq!(b.finish_batch().num_rows(), 0);
}

#[test]
#[should_panic(expected = "metric values")]
fn row_with_wrong_metric_count_panics() {
    let mut b = CellsBuilder::new("s", 0, &[] as &[String], &metrics()).unwrap();
    b.append(&CellRow {
        cell: 0,
        coords: &[],
        round: 0,
        mechanism: "C",
        reps: 1,
        stats: StatSummaries::default(),
        metrics: &[MetricSummary::default()],
    });
}

/// The metric a rejected list is blamed on, or `None` if the list is accepted.
fn rejected(table: Table, swept: &[&str], names: &[&str]) -> Option<String> {
    let swept: Vec<String> = swept.iter().map(|s| s.to_string()).collect();
    let metrics: Vec<MetricColumn> = names
        .iter()
        .map(|n| MetricColumn::new(*n, "A metric."))
        .collect();
    let from_schema = schema(table, &swept, &metrics).err();
    let from_builder = match table {
        Table::Cells => CellsBuilder::new("s", 0, &swept, &metrics).err(),
        Table::Rounds => RoundsBuilder::new("s", 0, &swept, &metrics).err(),
        _ => unreachable!(),
    };
    assert_eq!(
        from_schema.as_ref().map(ToString::to_string),
        from_builder.as_ref().map(ToString::to_string)
    );
    from_schema.map(|e| {
        let message = e.to_string();
        match e {
            TraceError::MetricColumn {
                table: t, metric, ..
            } => {
                assert_eq!(t, table);
                assert!(message.contains(&format!("{metric:?}")), "{message}");
                metric
            }
            other => panic!("unexpected error {other}"),
        }
    })
}

#[test]
fn invalid_metric_names_are_errors() {
    for table in [Table::Cells, Table::Rounds] {
        assert_eq!(rejected(table, &[], &["ok", "also_ok_2"]), None);
        for bad in ["", "Gini", "2nd", "_x", "a-b", "a b", "é"] {
            assert_eq!(
                rejected(table, &[], &["ok", bad]).as_deref(),
                Some(bad),
                "{table}: {bad:?}"
            );
        }
        assert_eq!(rejected(table, &[], &["x", "y", "x"]).as_deref(), Some("x"));
    }
}

#[test]
fn colliding_metric_names_are_errors() {
    // cells: `{m}_mean` / `{m}_se` against fixed, identity and swept columns.
    assert_eq!(
        rejected(Table::Cells, &[], &["welfare"]).as_deref(),
        Some("welfare")
    );
    assert_eq!(
        rejected(Table::Cells, &[], &["success"]).as_deref(),
        Some("success")
    );
    assert_eq!(
        rejected(Table::Cells, &["x_se"], &["x"]).as_deref(),
        Some("x")
    );
    // Names that are columns of rounds are fine in cells, whose columns get suffixes.
    assert_eq!(
        rejected(Table::Cells, &[], &["rep", "status", "seed"]),
        None
    );
    // rounds: `{m}` itself.
    for taken in ["rep", "data", "success", "seed", "cell", "scenario"] {
        assert_eq!(
            rejected(Table::Rounds, &[], &["fine", taken]).as_deref(),
            Some(taken)
        );
    }
    assert_eq!(
        rejected(Table::Rounds, &["value"], &["value"]).as_deref(),
        Some("value")
    );
    assert_eq!(rejected(Table::Rounds, &[], &["welfare_mean"]), None);
}

#[test]
fn readers_name_a_missing_or_mistyped_column() {
    let mut b = CellsBuilder::new("s", 0, &[] as &[String], &[]).unwrap();
    let batch = b.finish_batch();
    let err = RoundsColumns::new(&batch).unwrap_err().to_string();
    assert!(
        err.contains("rounds") && err.contains("`rep`") && err.contains("missing"),
        "{err}"
    );
    let err = typed_column::<Float64Array>(&batch, Table::Cells, "mechanism")
        .unwrap_err()
        .to_string();
    assert!(err.contains("`mechanism`") && err.contains("Utf8"), "{err}");
}
