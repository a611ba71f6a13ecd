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
