//! Categorical axes end to end: Utf8 swept columns and the manifest's categories; shards and
//! resume byte-identical to one run; draws keyed by the cell's own values (a cost distribution
//! draws its own costs, other categorical keys keep common random numbers, and adding a value
//! changes no other cell).

use std::collections::BTreeMap;
use std::path::Path;

use datapact_runner::{RunOptions, Shard};
use datapact_tests::*;
use datapact_trace::Table;

const BASE: &str = r#"
[scenario]
name = "categorical"
seed = 21
replications = 40
[population]
users = 8
[game]
value = 0.1
payment = 0.05
[output]
trace = "rounds"
chunk_cells = 2
"#;

fn with_sweep(sweep: &str) -> datapact_scenario::Scenario {
    scenario(&format!("{BASE}[sweep]\n{sweep}"), &[])
}

fn part_files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    datapact_tests::part_files(dir, &["cells", "diagnostics", "rounds", "contrasts"])
}

/// `table`'s rows by the value of `column`, each row as text without `cell`.
fn rows_by(dir: &Path, table: Table, column: &str) -> BTreeMap<String, Vec<Vec<String>>> {
    let mut out: BTreeMap<String, Vec<Vec<String>>> = BTreeMap::new();
    for row in rows(&read(dir, table), &["cell"]) {
        let key = row.iter().find(|(k, _)| k == column).unwrap().1.clone();
        out.entry(key)
            .or_default()
            .push(row.iter().map(|(k, v)| format!("{k}={v}")).collect());
    }
    out
}

#[test]
fn categorical_columns_are_utf8_labels_and_shards_and_resume_are_byte_identical() {
    let s = with_sweep(
        r#"game.order = { values = ["small-first", "random", "large-first"] }
population.cost.dist = { values = [{ dist = "uniform", low = 0, high = 1 }, { dist = "beta", alpha = 2, beta = 5 }] }
"#,
    );
    assert_eq!(s.cell_count(), 6);
    let whole = tempfile::tempdir().unwrap();
    run(&s, whole.path(), 2, Shard::WHOLE);
    let cells = read(whole.path(), Table::Cells);
    let schema = cells[0].schema();
    for c in ["order", "cost_dist"] {
        assert_eq!(
            schema.field_with_name(c).unwrap().data_type(),
            &datapact_trace::arrow::datatypes::DataType::Utf8,
            "{c}"
        );
    }
    let (order, dist, cell) = (
        strings(&cells, "order"),
        strings(&cells, "cost_dist"),
        u32s(&cells, "cell"),
    );
    let orders = ["small-first", "random", "large-first"];
    let dists = ["uniform(low=0,high=1)", "beta(alpha=2,beta=5)"];
    for i in 0..cell.len() {
        assert_eq!(order[i], orders[cell[i] as usize / 2]);
        assert_eq!(dist[i], dists[cell[i] as usize % 2]);
    }
    // Every table carries the labels.
    for t in [Table::Diagnostics, Table::Rounds, Table::Contrasts] {
        assert_eq!(
            strings(&read(whole.path(), t), "cost_dist")
                .iter()
                .filter(|d| !dists.contains(&d.as_str()))
                .count(),
            0,
            "{t:?}"
        );
    }
    let manifest = datapact_runner::read_manifest(whole.path()).unwrap();
    assert_eq!(manifest.categories["order"], orders);
    assert_eq!(manifest.categories["cost_dist"], dists);
    let reference = part_files(whole.path());

    // --shard 2/2 then 1/2 into one directory: the same bytes.
    let sharded = tempfile::tempdir().unwrap();
    for index in [1, 0] {
        run(&s, sharded.path(), 1, Shard { index, count: 2 });
    }
    assert_eq!(part_files(sharded.path()), reference);
    let merged = datapact_runner::read_manifest(sharded.path()).unwrap();
    assert_eq!(
        (&merged.parts, &merged.categories, merged.shards),
        (&manifest.parts, &manifest.categories, 2)
    );

    // Lose a chunk and the manifest, then resume.
    std::fs::remove_file(whole.path().join("rounds/part-000001.parquet")).unwrap();
    std::fs::remove_file(whole.path().join("manifest.json")).unwrap();
    let opts = RunOptions {
        threads: 2,
        resume: true,
        ..RunOptions::new(whole.path())
    };
    datapact_runner::run(&s, &opts).expect("resume succeeds");
    assert_eq!(part_files(whole.path()), reference);
    assert_eq!(
        datapact_runner::read_manifest(whole.path()).unwrap(),
        manifest
    );
}

#[test]
fn order_keeps_common_random_numbers_and_cost_distributions_draw_their_own() {
    let small = with_sweep("game.order = { values = [\"small-first\", \"large-first\"] }\n");
    let large = with_sweep(
        "game.order = { values = [\"cost-ascending\", \"small-first\", \"random\", \"large-first\"] }\n",
    );
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    run(&small, a.path(), 2, Shard::WHOLE);
    run(&large, b.path(), 2, Shard::WHOLE);
    // Adding values (before and between) leaves the other cells' rows byte-identical.
    let (ra, rb) = (
        rows_by(a.path(), Table::Rounds, "order"),
        rows_by(b.path(), Table::Rounds, "order"),
    );
    for (order, rows) in &ra {
        assert_eq!(Some(rows), rb.get(order), "order {order} changed");
    }
    // Common random numbers: C and S ignore M's order, so under every order they play the same
    // draws and give the same campaigns; M's differ somewhere.
    let by_mechanism = |order: &str, m: &str| -> Vec<String> {
        rb[order]
            .iter()
            .filter(|r| r.contains(&format!("mechanism={m}")))
            .map(|r| {
                r.iter()
                    .filter(|c| !c.starts_with("order="))
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect()
    };
    for m in ["C", "S"] {
        assert_eq!(
            by_mechanism("small-first", m),
            by_mechanism("large-first", m),
            "{m}"
        );
    }
    assert_ne!(
        by_mechanism("small-first", "M"),
        by_mechanism("large-first", "M")
    );

    // Each distribution draws its own costs: the uniform cell of a two-distribution axis equals
    // the run of the uniform alone (its stream is keyed by the distribution, not the axis), and
    // the beta cell's C campaigns differ from it.
    let dists = with_sweep(
        "population.cost.dist = { values = [{ dist = \"uniform\", low = 0, high = 1 }, { dist = \"beta\", alpha = 2, beta = 5 }] }\n",
    );
    let uniform = with_sweep(
        "population.cost.dist = { values = [{ dist = \"uniform\", low = 0, high = 1 }] }\n",
    );
    let (c, d) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    run(&dists, c.path(), 2, Shard::WHOLE);
    run(&uniform, d.path(), 2, Shard::WHOLE);
    let (rc, rd) = (
        rows_by(c.path(), Table::Rounds, "cost_dist"),
        rows_by(d.path(), Table::Rounds, "cost_dist"),
    );
    let u = "uniform(low=0,high=1)";
    assert_eq!(rc[u], rd[u]);
    let strip = |rows: &Vec<Vec<String>>| -> Vec<Vec<String>> {
        rows.iter()
            .map(|r| {
                r.iter()
                    .filter(|c| !c.starts_with("cost_dist="))
                    .cloned()
                    .collect()
            })
            .collect()
    };
    assert_ne!(strip(&rc[u]), strip(&rc["beta(alpha=2,beta=5)"]));
}

/// `table`'s rows whose columns hold the `filter` values, without `cell` and the `strip` columns.
fn rows_where(
    dir: &Path,
    table: Table,
    filter: &[(&str, &str)],
    strip: &[&str],
) -> Vec<Vec<(String, String)>> {
    rows(&read(dir, table), &["cell"])
        .into_iter()
        .filter(|r| {
            filter
                .iter()
                .all(|(k, v)| r.iter().any(|(c, x)| c == k && x == v))
        })
        .map(|r| {
            r.into_iter()
                .filter(|(c, _)| !strip.contains(&c.as_str()))
                .collect()
        })
        .collect()
}

const STRATEGIES: &str = r#"[population.report]
share = 0.5
factor = -0.3
[sweep]
population.withdraw.strategy = { values = ["sincere", "free-rider"] }
population.report.strategy = { values = ["truthful", "shade"] }
"#;

#[test]
fn a_swept_strategy_cell_equals_the_run_with_the_strategy_fixed() {
    let s = scenario(&format!("{BASE}{STRATEGIES}"), &[]);
    assert_eq!(s.cell_count(), 4);
    let whole = tempfile::tempdir().unwrap();
    run(&s, whole.path(), 2, Shard::WHOLE);
    let cells = read(whole.path(), Table::Cells);
    for c in ["withdraw_strategy", "report_strategy"] {
        assert_eq!(
            cells[0].schema().field_with_name(c).unwrap().data_type(),
            &datapact_trace::arrow::datatypes::DataType::Utf8,
            "{c}"
        );
    }
    let (w, r, cell) = (
        strings(&cells, "withdraw_strategy"),
        strings(&cells, "report_strategy"),
        u32s(&cells, "cell"),
    );
    for i in 0..cell.len() {
        assert_eq!(w[i], ["sincere", "free-rider"][cell[i] as usize / 2]);
        assert_eq!(r[i], ["truthful", "shade"][cell[i] as usize % 2]);
    }
    let manifest = datapact_runner::read_manifest(whole.path()).unwrap();
    assert_eq!(
        manifest.categories["withdraw_strategy"],
        ["sincere", "free-rider"]
    );
    assert_eq!(
        manifest.categories["report_strategy"],
        ["truthful", "shade"]
    );

    // Each cell is, bit for bit, the run with its strategies written in the tables.
    let strip = ["withdraw_strategy", "report_strategy"];
    for (withdraw, report) in [
        ("sincere", "truthful"),
        ("sincere", "shade"),
        ("free-rider", "truthful"),
        ("free-rider", "shade"),
    ] {
        let fixed = scenario(
            &format!(
                "{BASE}[population.report]\nstrategy = \"{report}\"\nshare = 0.5\nfactor = -0.3\n\
                 [population.withdraw]\nstrategy = \"{withdraw}\"\n"
            ),
            &[],
        );
        let dir = tempfile::tempdir().unwrap();
        run(&fixed, dir.path(), 2, Shard::WHOLE);
        for t in [Table::Cells, Table::Rounds, Table::Contrasts] {
            let swept = rows_where(
                whole.path(),
                t,
                &[("withdraw_strategy", withdraw), ("report_strategy", report)],
                &strip,
            );
            assert!(!swept.is_empty(), "{t:?}");
            assert_eq!(
                swept,
                rows_where(dir.path(), t, &[], &[]),
                "{withdraw}, {report}: {t:?}"
            );
        }
    }
    // The strategies matter: free riders withdraw under M where sincere users stay, and
    // shading changes S's and M's campaigns; C takes no reports and no withdrawals.
    let m = |withdraw: &str, report: &str, mechanism: &str| {
        rows_where(
            whole.path(),
            Table::Rounds,
            &[
                ("withdraw_strategy", withdraw),
                ("report_strategy", report),
                ("mechanism", mechanism),
            ],
            &strip,
        )
    };
    assert_ne!(
        m("sincere", "truthful", "M"),
        m("free-rider", "truthful", "M")
    );
    assert_ne!(m("sincere", "truthful", "S"), m("sincere", "shade", "S"));
    assert_eq!(m("sincere", "truthful", "C"), m("free-rider", "shade", "C"));

    // Shards write the same bytes.
    let sharded = tempfile::tempdir().unwrap();
    for index in [1, 0] {
        run(&s, sharded.path(), 1, Shard { index, count: 2 });
    }
    assert_eq!(part_files(sharded.path()), part_files(whole.path()));
}

#[test]
fn a_swept_strategy_crossed_with_a_sampled_design_equals_the_design_with_it_fixed() {
    let design = "[design]\nkind = \"lhs\"\nsamples = 3\ngame.value = { from = 0.0, to = 0.3 }\n";
    let s = scenario(
        &format!(
            "{BASE}{design}population.withdraw.strategy = {{ values = [\"sincere\", \"free-rider\"] }}\n"
        ),
        &[],
    );
    assert_eq!(s.cell_count(), 6);
    let fixed = scenario(
        &format!("{BASE}[population.withdraw]\nstrategy = \"free-rider\"\n{design}"),
        &[],
    );
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    run(&s, a.path(), 2, Shard::WHOLE);
    run(&fixed, b.path(), 2, Shard::WHOLE);
    let swept = rows_where(
        a.path(),
        Table::Cells,
        &[("withdraw_strategy", "free-rider")],
        &["withdraw_strategy"],
    );
    assert_eq!(swept.len(), 9, "3 points x 3 mechanisms");
    assert_eq!(swept, rows_where(b.path(), Table::Cells, &[], &[]));
    assert_ne!(
        swept,
        rows_where(
            a.path(),
            Table::Cells,
            &[("withdraw_strategy", "sincere")],
            &["withdraw_strategy"]
        )
    );
}
