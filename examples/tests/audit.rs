//! The incentive audit of any scenario of a plugin app: a scenario file with M, the deposit
//! plugin and a named variant of it is audited on its own cells; a zero deposit is M deviation
//! by deviation (same draws, same engine), a variant's deposit changes the gains, and REPORT.md says the
//! paper's claims were skipped.

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::array::{Array, Float64Array, StringArray, UInt32Array};
use datapact_audit::{AuditInputs, DEFAULT_SPEC};

use crate::common;
use crate::example_pivotal::deposit;

const SCENARIO: &str = r#"
mechanisms = ["C", "M", "deposit", "deposit_big"]

[scenario]
name = "audit_deposit"
seed = 7
replications = 10

[game]
value = 0.1
payment = 0.05

[mechanism.deposit]
amount = 0.0

[mechanism.deposit_big]
of = "deposit"
amount = 0.2

[sweep]
game.value = { values = [0.05, 0.15] }
"#;

/// The audit settings, small, auditing the scenario file `scenario`.
fn spec(scenario: &str) -> String {
    DEFAULT_SPEC
        .replace(
            "scenario = \"f3_welfare\"",
            &format!("scenario = {scenario:?}"),
        )
        .replace("replications = 500 ", "replications = 60 ")
        .replace("replications = 200 ", "replications = 20 ")
        .replace("max_rounds = 8 ", "max_rounds = 2 ")
}

/// Column `name` of a Parquet table directory's first part.
fn table(dir: &std::path::Path) -> arrow::record_batch::RecordBatch {
    let file = std::fs::File::open(dir.join("part-00000.parquet")).unwrap();
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
        .unwrap()
        .build()
        .unwrap();
    let batches: Vec<_> = reader.map(Result::unwrap).collect();
    arrow::compute::concat_batches(&batches[0].schema(), &batches).unwrap()
}

/// (cell, deviation, cost quantile's bits) -> (gain mean, its SE), of one mechanism.
type Gains<'a> = BTreeMap<(u32, &'a str, u64), (f64, f64)>;

#[test]
fn a_plugin_scenario_is_audited_on_its_own_cells_and_mechanisms() {
    let tmp = tempfile::tempdir().unwrap();
    let scenario = tmp.path().join("deposit_audit.toml");
    std::fs::write(&scenario, SCENARIO).unwrap();
    let text = spec(scenario.to_str().unwrap());
    let plugins = common::plugins(deposit::DepositPlugin);
    let out = tmp.path().join("audit");
    let summary = datapact_audit::run(&AuditInputs {
        spec: (&text, "spec.toml"),
        paper: &[],
        catalog: Arc::new(plugins.catalog().clone()),
        plugins,
        out: out.clone(),
        threads: 2,
        progress: false,
        cancel: None,
        resume: false,
    })
    .expect("the audit runs");
    assert!(
        summary.variants.is_empty(),
        "no paper claims for this scenario"
    );

    let t = table(&out.join("deviations"));
    let col = |name: &str| t.column_by_name(name).unwrap().clone();
    let (mechanism, deviation, cell) = (col("mechanism"), col("deviation"), col("cell"));
    let mechanism = mechanism.as_any().downcast_ref::<StringArray>().unwrap();
    let deviation = deviation.as_any().downcast_ref::<StringArray>().unwrap();
    let cell = cell.as_any().downcast_ref::<UInt32Array>().unwrap();
    let (quantile, mean, se) = (col("cost_quantile"), col("gain_mean"), col("gain_se"));
    let quantile = quantile.as_any().downcast_ref::<Float64Array>().unwrap();
    let mean = mean.as_any().downcast_ref::<Float64Array>().unwrap();
    let se = se.as_any().downcast_ref::<Float64Array>().unwrap();
    let mut rows: BTreeMap<&str, Gains> = BTreeMap::new();
    for i in 0..t.num_rows() {
        rows.entry(mechanism.value(i)).or_default().insert(
            (
                cell.value(i),
                deviation.value(i),
                quantile.value(i).to_bits(),
            ),
            (mean.value(i), se.value(i)),
        );
    }
    assert_eq!(
        rows.keys().copied().collect::<Vec<_>>(),
        ["M", "deposit", "deposit_big"],
        "C has neither reports nor withdrawal; the plugin and its variant are audited"
    );
    let cells: std::collections::BTreeSet<u32> = (0..t.num_rows()).map(|i| cell.value(i)).collect();
    assert_eq!(
        cells.into_iter().collect::<Vec<_>>(),
        [0, 1],
        "the scenario's own cells"
    );
    let (m, zero, big) = (&rows["M"], &rows["deposit"], &rows["deposit_big"]);
    assert_eq!(m.len(), zero.len());
    assert!(
        zero.values().any(|&(_, s)| s > 0.0 && s.is_finite()),
        "the deposit's gains have standard errors"
    );
    // A zero deposit is M: every gain, bit for bit, on the same draws.
    for (k, &(g, s)) in m {
        assert_eq!(zero[k].0.to_bits(), g.to_bits(), "{k:?}");
        assert_eq!(zero[k].1.to_bits(), s.to_bits(), "{k:?}");
    }
    // The variant plays with its own deposit: its gains are not M's.
    let differ = m.iter().filter(|(k, v)| big[*k].0 != v.0).count();
    assert!(differ > 0, "a deposit of 0.2 changes no gain");

    let report = std::fs::read_to_string(out.join("REPORT.md")).unwrap();
    for needle in [
        "mechanisms M, deposit, deposit_big",
        "C has neither reports nor withdrawal",
        "not one of the paper's",
        "**deposit_big**",
    ] {
        assert!(report.contains(needle), "REPORT.md lacks {needle:?}");
    }
    assert!(!out.join("claims_variants.json").exists());
}
