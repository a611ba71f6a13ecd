//! A plugin's parameters are searched like any key and its metrics are objectives or
//! constraints like the core's: the deposit study's search (examples/scenarios/deposit_front/),
//! small, through the library the example app's `optimize` calls.

use std::path::Path;
use std::sync::Arc;

use crate::common::plugins;
use crate::example_pivotal::deposit;
use datapact_runner::search::{SearchOptions, optimize};
use datapact_scenario::search::SearchFile;
use datapact_trace::arrow::array::{Array, Float64Array};

const FILE: &str = "scenarios/deposit_front/deposit.toml";

fn load(overrides: &[&str]) -> Result<SearchFile, String> {
    let p = plugins(deposit::DepositPlugin);
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(FILE);
    let mut set: Vec<String> = [
        "optimize.generations=3",
        "optimize.population=8",
        "scenario.replications=40",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    set.extend(overrides.iter().map(|s| s.to_string()));
    SearchFile::load_with(&Arc::new(p.catalog().clone()), &path, &set).map_err(|e| e.to_string())
}

fn options(out: &Path) -> SearchOptions {
    SearchOptions {
        threads: 2,
        plugins: plugins(deposit::DepositPlugin),
        ..SearchOptions::new(out)
    }
}

#[test]
fn the_deposit_amount_is_searched_and_its_forfeits_bound_the_front() {
    // The forfeited deposits (a plugin metric) as a constraint beside success.
    let file = load(&[
        "optimize.constraints=[{ metric = \"success_rate\", mechanism = \"deposit\", min = 0.9 }, \
         { metric = \"forfeited_mean\", mechanism = \"deposit\", max = 0.5 }]",
    ])
    .unwrap();
    let keys: Vec<&str> = file
        .optimize
        .as_ref()
        .unwrap()
        .keys
        .iter()
        .map(|k| k.column.as_str())
        .collect();
    assert_eq!(keys, ["payment", "deposit_amount"]);
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("front");
    let summary = optimize(&file, &options(&out), &mut |_| {}).unwrap();
    assert!(!summary.front.is_empty(), "no feasible setting");
    let batches = datapact_trace::read_part(&out.join("pareto.parquet")).unwrap();
    let column = |name: &str| -> Vec<f64> {
        batches
            .iter()
            .flat_map(|b| {
                let c = b
                    .column_by_name(name)
                    .and_then(|c| c.as_any().downcast_ref::<Float64Array>())
                    .unwrap_or_else(|| panic!("no column {name}"))
                    .clone();
                (0..c.len()).map(move |i| c.value(i))
            })
            .collect()
    };
    for a in column("deposit_amount") {
        assert!((0.0..=1.0).contains(&a), "{a}");
    }
    for f in column("deposit_forfeited_mean") {
        assert!(f <= 0.5, "{f}");
    }
    assert!(column("deposit_success_rate").iter().all(|s| *s >= 0.9));
    assert_eq!(
        column("deposit_welfare_mean").len(),
        column("deposit_forfeited_mean_se").len()
    );
}

#[test]
fn a_metric_the_mechanism_does_not_compute_is_refused_by_name() {
    // M computes no `forfeited`: its column is null for M, which the search says.
    let file = load(&[
        "mechanisms=[\"M\", \"deposit\"]",
        "optimize.constraints=[{ metric = \"forfeited_mean\", mechanism = \"M\", max = 0.5 }]",
    ])
    .unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let err = optimize(&file, &options(&tmp.path().join("m")), &mut |_| {})
        .unwrap_err()
        .to_string();
    assert!(err.contains("forfeited_mean of M is null"), "{err}");
    // A parameter of a mechanism the run does not list is no key.
    let err = load(&[
        "mechanisms=[\"M\"]",
        "optimize.objectives=[{ metric = \"welfare_mean\", mechanism = \"M\", sense = \"max\" }]",
        "optimize.constraints=[]",
    ])
    .unwrap_err();
    assert!(
        err.contains("mechanism.deposit.amount") && err.contains("allowed"),
        "{err}"
    );
}
