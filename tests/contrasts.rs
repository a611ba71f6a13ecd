//! The `contrasts` table: CRN-paired differences between mechanisms, checked against a pairing
//! done by hand from the `rounds` table and against the naive SE from `cells`.

use std::collections::HashMap;

use datapact_runner::Shard;
use datapact_tests::*;
use datapact_trace::Table;

/// θ = 0.9, V = 0.2 (the region of the issue), two payments, 500 replications.
fn paired_run(trace: &str) -> (tempfile::TempDir, datapact_scenario::Scenario) {
    let dir = tempfile::tempdir().unwrap();
    let s = baseline(&[
        "scenario.replications=500",
        &format!("output.trace={trace}"),
        "game.threshold=0.9",
        "sweep.game.value={values=[0.2]}",
        "sweep.game.payment={values=[0.05, 0.1]}",
    ]);
    run(&s, dir.path(), 2, Shard::WHOLE);
    (dir, s)
}

fn rel_close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-12 * a.abs().max(b.abs()).max(1e-300)
}

#[test]
fn paired_se_matches_a_hand_pairing_of_rounds_and_beats_the_naive_se() {
    let (dir, _) = paired_run("rounds");
    let out = dir.path();

    // Hand pairing: welfare and success by (cell, rep) and mechanism.
    let rounds = read(out, Table::Rounds);
    let (cell, rep, mech) = (
        u32s(&rounds, "cell"),
        u32s(&rounds, "rep"),
        strings(&rounds, "mechanism"),
    );
    let welfare = f64s(&rounds, "welfare");
    let privacy = f64s(&rounds, "privacy_cost");
    let mut by: HashMap<(u32, u32, String), (f64, f64)> = HashMap::new();
    for i in 0..cell.len() {
        by.insert((cell[i], rep[i], mech[i].clone()), (welfare[i], privacy[i]));
    }
    let reps = 500u32;
    let hand = |c: u32, a: &str, b: &str, pick: fn((f64, f64)) -> f64| {
        let d: Vec<f64> = (0..reps)
            .map(|r| pick(by[&(c, r, a.into())]) - pick(by[&(c, r, b.into())]))
            .collect();
        let n = d.len() as f64;
        let mean = d.iter().sum::<f64>() / n;
        let var = d.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
        let better = d.iter().filter(|x| **x > 0.0).count() as f64 / n;
        (mean, (var / n).sqrt(), better)
    };

    let contrasts = read(out, Table::Contrasts);
    let (ccell, a, b) = (
        u32s(&contrasts, "cell"),
        strings(&contrasts, "mechanism_a"),
        strings(&contrasts, "mechanism_b"),
    );
    // Default pairs: every (A, B) with A after B in C, S, M, per cell.
    assert_eq!(ccell.len(), 2 * 3);
    let pairs: Vec<(String, String)> = a.iter().cloned().zip(b.iter().cloned()).collect();
    for want in [("M", "S"), ("M", "C"), ("S", "C")] {
        assert_eq!(
            pairs
                .iter()
                .filter(|p| (p.0.as_str(), p.1.as_str()) == want)
                .count(),
            2,
            "pair {want:?} once per cell"
        );
    }
    assert!(u32s(&contrasts, "reps").iter().all(|&r| r == reps));
    let (w_diff, w_se, w_better) = (
        f64s(&contrasts, "welfare_diff"),
        f64s(&contrasts, "welfare_diff_se"),
        f64s(&contrasts, "welfare_a_better"),
    );
    let (p_diff, p_se) = (
        f64s(&contrasts, "privacy_cost_diff"),
        f64s(&contrasts, "privacy_cost_diff_se"),
    );
    for i in 0..ccell.len() {
        let (mean, se, better) = hand(ccell[i], &a[i], &b[i], |x| x.0);
        assert!(
            rel_close(w_diff[i], mean),
            "welfare diff {} vs {mean}",
            w_diff[i]
        );
        assert!(rel_close(w_se[i], se), "welfare se {} vs {se}", w_se[i]);
        assert!(
            rel_close(w_better[i], better),
            "welfare share {} vs {better}",
            w_better[i]
        );
        let (mean, se, _) = hand(ccell[i], &a[i], &b[i], |x| x.1);
        assert!(
            rel_close(p_diff[i], mean),
            "privacy diff {} vs {mean}",
            p_diff[i]
        );
        assert!(rel_close(p_se[i], se), "privacy se {} vs {se}", p_se[i]);
    }

    // The naive SE of M − S from `cells` overstates the paired one (same draws).
    let cells = read(out, Table::Cells);
    let (cells_cell, cells_mech, cells_se) = (
        u32s(&cells, "cell"),
        strings(&cells, "mechanism"),
        f64s(&cells, "welfare_se"),
    );
    let se_of = |c: u32, m: &str| {
        (0..cells_cell.len())
            .find(|&i| cells_cell[i] == c && cells_mech[i] == m)
            .map(|i| cells_se[i])
            .unwrap()
    };
    let mut compared = 0;
    for i in 0..ccell.len() {
        if (a[i].as_str(), b[i].as_str()) != ("M", "S") {
            continue;
        }
        let naive = se_of(ccell[i], "M").hypot(se_of(ccell[i], "S"));
        assert!(
            naive > 0.0,
            "the cell must vary for the comparison to mean anything"
        );
        assert!(
            w_se[i] < naive,
            "cell {}: paired SE {} not below naive {naive}",
            ccell[i],
            w_se[i]
        );
        compared += 1;
    }
    assert_eq!(compared, 2);
}

#[test]
fn contrasts_do_not_depend_on_the_trace_level_and_listed_pairs_are_honoured() {
    let (rounds_dir, _) = paired_run("rounds");
    let (cells_dir, _) = paired_run("cells");
    let (x, y) = (
        read(rounds_dir.path(), Table::Contrasts),
        read(cells_dir.path(), Table::Contrasts),
    );
    for col in ["welfare_diff", "success_diff_se", "withdrawals_a_better"] {
        assert_eq!(
            f64s(&x, col),
            f64s(&y, col),
            "{col} differs between trace levels"
        );
    }
    // At trace = "cells" the records are paired in memory only: no rounds table.
    assert!(!cells_dir.path().join("rounds").exists());

    let dir = tempfile::tempdir().unwrap();
    let s = baseline(&[
        "scenario.replications=20",
        "sweep.game.value={values=[0.2]}",
        "sweep.game.payment={values=[0.1]}",
        "output.contrasts=[\"C-M\"]",
    ]);
    run(&s, dir.path(), 1, Shard::WHOLE);
    let t = read(dir.path(), Table::Contrasts);
    assert_eq!(strings(&t, "mechanism_a"), ["C"]);
    assert_eq!(strings(&t, "mechanism_b"), ["M"]);
}

#[test]
fn a_single_mechanism_writes_an_empty_contrasts_table() {
    let dir = tempfile::tempdir().unwrap();
    let s = baseline(&[
        "mechanisms=[\"M\"]",
        "scenario.replications=5",
        "sweep.game.value={values=[0.2]}",
        "sweep.game.payment={values=[0.1]}",
    ]);
    run(&s, dir.path(), 1, Shard::WHOLE);
    let t = read(dir.path(), Table::Contrasts);
    assert_eq!(t.iter().map(|b| b.num_rows()).sum::<usize>(), 0);
}

#[test]
fn equal_data_is_a_tie_whatever_the_order_of_decisions() {
    // No drift and truthful, noiseless reports: every user's cost at decision is the one the
    // provider capped, so nobody withdraws and M keeps exactly S's burdens. M decides in another
    // order than S; the data kept must still be the same number, and a tie in `contrasts`.
    let dir = tempfile::tempdir().unwrap();
    let s = baseline(&[
        "scenario.replications=400",
        "output.trace=rounds",
        "game.drift=0.0",
        "sweep.game.value={values=[0.1, 0.2]}",
        "sweep.game.payment={values=[0.05, 0.1]}",
    ]);
    run(&s, dir.path(), 2, Shard::WHOLE);
    let rounds = read(dir.path(), Table::Rounds);
    let (cell, rep, mech) = (
        u32s(&rounds, "cell"),
        u32s(&rounds, "rep"),
        strings(&rounds, "mechanism"),
    );
    let (data, withdrawals) = (f64s(&rounds, "data"), u32s(&rounds, "withdrawals"));
    let mut by: HashMap<(u32, u32, String), (f64, u32)> = HashMap::new();
    for i in 0..cell.len() {
        by.insert(
            (cell[i], rep[i], mech[i].clone()),
            (data[i], withdrawals[i]),
        );
    }
    // Replications where neither withdrew (a user exactly at her cap is indifferent, and
    // rounding may send her away): the same users keep the same burdens under S and M.
    let (mut same, mut kept) = (0, 0);
    for ((c, r, m), (d, w)) in &by {
        let (s_data, s_withdrawals) = by[&(*c, *r, "S".into())];
        if m == "M" && *w == 0 && s_withdrawals == 0 {
            assert_eq!(d.to_bits(), s_data.to_bits(), "cell {c} rep {r}");
            same += 1;
            kept += (*d > 0.0) as u32;
        }
    }
    assert!(
        same > 1000 && kept > 100,
        "the test needs such campaigns ({same}, {kept})"
    );
    let contrasts = read(dir.path(), Table::Contrasts);
    let (a, b) = (
        strings(&contrasts, "mechanism_a"),
        strings(&contrasts, "mechanism_b"),
    );
    let better = f64s(&contrasts, "data_a_better");
    let reps = 400.0;
    for i in 0..a.len() {
        if (a[i].as_str(), b[i].as_str()) == ("M", "S") {
            // At most the replications with a withdrawal can differ.
            assert!(
                better[i] * reps <= (1600 - same) as f64,
                "row {i}: {}",
                better[i]
            );
        }
    }
}
