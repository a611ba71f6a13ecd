//! Claims MODEL.md says the simulator must check on every campaign, tested on real sweeps
//! written to Parquet and read back.

use datapact_runner::Shard;
use datapact_tests::*;
use datapact_trace::Table;

#[test]
fn c_leaks_somewhere_on_the_baseline_grid_and_s_m_never_do() {
    let dir = tempfile::tempdir().unwrap();
    let s = baseline(&["scenario.replications=60"]);
    run(&s, dir.path(), 2, Shard::WHOLE);
    let cells = read(dir.path(), Table::Cells);
    let mechanism = strings(&cells, "mechanism");
    let leakage = f64s(&cells, "leakage_mean");
    assert_eq!(mechanism.len(), 961 * 3);
    let leaky_c = mechanism
        .iter()
        .zip(&leakage)
        .filter(|(m, l)| *m == "C" && **l > 0.0)
        .count();
    assert!(leaky_c > 0, "C never leaked on the baseline grid");
    for (m, l) in mechanism.iter().zip(&leakage) {
        if m != "C" {
            assert_eq!(*l, 0.0, "{m} leaked");
        }
    }
}

#[test]
fn m_succeeds_in_every_campaign_where_s_does_and_nulls_are_empty() {
    // Sincere users, no recovery rounds: paired by common random numbers, campaign by campaign.
    let dir = tempfile::tempdir().unwrap();
    let s = baseline(&[
        "scenario.replications=40",
        "output.trace=rounds",
        "sweep.game.value.steps=11",
        "sweep.game.payment.steps=11",
    ]);
    run(&s, dir.path(), 2, Shard::WHOLE);
    let rounds = read(dir.path(), Table::Rounds);
    let (cell, rep, mech, status) = (
        u32s(&rounds, "cell"),
        u32s(&rounds, "rep"),
        strings(&rounds, "mechanism"),
        strings(&rounds, "status"),
    );
    let (data, subsidy, welfare) = (
        f64s(&rounds, "data"),
        f64s(&rounds, "subsidy"),
        f64s(&rounds, "welfare"),
    );
    let mut s_success = std::collections::HashMap::new();
    let mut m_success = std::collections::HashMap::new();
    let mut nulls = 0;
    for i in 0..cell.len() {
        let key = (cell[i], rep[i]);
        match mech[i].as_str() {
            "S" => {
                s_success.insert(key, status[i] == "success");
            }
            "M" => {
                m_success.insert(key, status[i] == "success");
            }
            _ => {}
        }
        if mech[i] != "C" && status[i] == "null" {
            nulls += 1;
            assert_eq!(
                (data[i], subsidy[i], welfare[i]),
                (0.0, 0.0, 0.0),
                "null campaign with data or payment"
            );
        }
        if mech[i] != "C" && status[i] != "success" {
            assert_eq!(subsidy[i], 0.0, "{} paid without success", mech[i]);
        }
    }
    assert!(nulls > 0, "the grid has unsustainable instances (V near 0)");
    assert_eq!(s_success.len(), 121 * 40);
    let mut strictly = 0;
    for (key, s_ok) in &s_success {
        let m_ok = m_success[key];
        assert!(!s_ok || m_ok, "S succeeded but M failed at {key:?}");
        strictly += (m_ok && !s_ok) as usize;
    }
    assert!(
        strictly > 0,
        "M never rescued a campaign S lost: withdrawals should make them differ"
    );
}
