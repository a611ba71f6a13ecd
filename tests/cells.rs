//! Grid-independent draws: a cell's numbers depend on its own parameter values, never on its
//! position in the grid, so growing a sweep leaves every other cell's rows unchanged.

use std::collections::BTreeMap;

use datapact_runner::{RunOptions, Shard};
use datapact_scenario::Scenario;
use datapact_sim::Backend;
use datapact_tests::*;
use datapact_trace::Table;

const BASE: &str = r#"
[scenario]
name = "grid"
seed = 5
replications = 30
[population]
users = 10
[game]
recovery_rounds = 1
[output]
trace = "rounds"
"#;

fn sweep(values: &str, payments: &str) -> Scenario {
    scenario(
        &format!(
            "{BASE}[sweep]\ngame.value = {{ values = [{values}] }}\ngame.payment = {{ values = [{payments}] }}\n"
        ),
        &[],
    )
}

/// Each table's rows by (value, payment, everything else but `cell`), with `cell` kept in the
/// row when `with_cell`.
fn rows_by_point(
    scenario: &Scenario,
    backend: Backend,
    table: Table,
    with_cell: bool,
) -> BTreeMap<(String, String), Vec<Vec<String>>> {
    let dir = tempfile::tempdir().unwrap();
    let opts = RunOptions {
        threads: 2,
        shard: Shard::WHOLE,
        backend,
        ..RunOptions::new(dir.path())
    };
    datapact_runner::run(scenario, &opts).expect("run succeeds");
    let mut out: BTreeMap<(String, String), Vec<Vec<String>>> = BTreeMap::new();
    let exclude: &[&str] = if with_cell { &[] } else { &["cell"] };
    for row in rows(&read(dir.path(), table), exclude) {
        let get = |name: &str| row.iter().find(|(k, _)| k == name).unwrap().1.clone();
        out.entry((get("value"), get("payment")))
            .or_default()
            .push(row.iter().map(|(k, v)| format!("{k}={v}")).collect());
    }
    out
}

fn assert_kept(
    small: &BTreeMap<(String, String), Vec<Vec<String>>>,
    large: &BTreeMap<(String, String), Vec<Vec<String>>>,
    what: &str,
) {
    assert!(large.len() > small.len(), "{what}: the sweep grew");
    for (point, rows) in small {
        assert!(!rows.is_empty());
        assert_eq!(
            Some(rows),
            large.get(point),
            "{what}: cell {point:?} changed"
        );
    }
}

#[test]
fn growing_a_sweep_leaves_every_other_cell_unchanged() {
    let small = sweep("0.05, 0.2", "0.0, 0.1");
    // A value appended to the first (slowest) axis keeps every other cell's grid index too:
    // the rows must be identical, `cell` column included.
    let appended = sweep("0.05, 0.2, 0.3", "0.0, 0.1");
    // Values inserted in the middle of both axes shift grid indices: every column but the
    // index `cell` must be identical.
    let inserted = sweep("0.05, 0.1, 0.2", "0.0, 0.05, 0.1");
    for backend in [Backend::Ecs, Backend::Direct] {
        for table in [Table::Cells, Table::Diagnostics, Table::Rounds] {
            let what = format!("{backend:?} {table:?}");
            assert_kept(
                &rows_by_point(&small, backend, table, true),
                &rows_by_point(&appended, backend, table, true),
                &format!("{what}, appended"),
            );
            assert_kept(
                &rows_by_point(&small, backend, table, false),
                &rows_by_point(&inserted, backend, table, false),
                &format!("{what}, inserted"),
            );
        }
    }
}
