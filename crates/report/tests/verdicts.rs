//! The claims decided as tests (`verdicts.rs`) on hand-made tables: a difference within noise
//! decides nothing, a significant one does, Holm's correction over cells is applied, and an
//! exact identity (SE 0) is decided by its sign.

use datapact_report::claims::Verdict;
use datapact_report::tables::{
    CellRecord, CellTable, ContrastRecord, ContrastTable, DiagRecord, DiagTable, Paired,
};
use datapact_report::verdicts;

fn p(diff: f64, se: f64) -> Paired {
    Paired { diff, se }
}

/// One M − S contrast row per (success difference, SE), with S's withdrawals in `cells`.
fn baseline(diffs: &[(f64, f64)], withdrawals: f64) -> (CellTable, ContrastTable) {
    let swept = vec!["value".to_string()];
    let cells = CellTable {
        swept: swept.clone(),
        rows: (0..diffs.len() as u32)
            .map(|c| CellRecord {
                cell: c,
                coords: vec![c as f64],
                mechanism: "S".into(),
                withdrawals_mean: withdrawals,
                success_rate: 0.5,
                ..Default::default()
            })
            .collect(),
    };
    (cells, m_minus_s(diffs, |r, x| r.success = x))
}

/// One M − S contrast row per cell with (difference, SE) set by `set`.
fn m_minus_s(diffs: &[(f64, f64)], set: fn(&mut ContrastRecord, Paired)) -> ContrastTable {
    ContrastTable {
        swept: vec!["value".to_string()],
        rows: diffs
            .iter()
            .enumerate()
            .map(|(c, &(d, se))| {
                let mut r = ContrastRecord {
                    cell: c as u32,
                    coords: vec![c as f64],
                    a: "M".into(),
                    b: "S".into(),
                    ..Default::default()
                };
                set(&mut r, p(d, se));
                r
            })
            .collect(),
    }
}

#[test]
fn claim3_tests_cells_with_holm() {
    // M ahead by 10 SE in every cell where S users withdraw: held
    let (c, t) = baseline(&[(0.1, 0.01), (0.2, 0.01), (0.05, 0.005)], 1.0);
    assert_eq!(verdicts::claim3(Some(&c), Some(&t)).verdict, Verdict::Held);
    // one cell at 1 SE: not shown there, so the strict part is not held
    let (c, t) = baseline(&[(0.1, 0.01), (0.01, 0.01), (0.05, 0.005)], 1.0);
    let v = verdicts::claim3(Some(&c), Some(&t));
    assert_eq!(v.verdict, Verdict::NotHeld, "{}", v.numbers);
    assert!(v.numbers.contains("not shown in 1"), "{}", v.numbers);
    // z = 2.2 in every cell: each alone passes at 5% one-sided, but Holm over 3 cells needs the
    // smallest p ≤ 0.05/3, i.e. z ≥ 2.13, then 0.05/2 (z ≥ 1.96): all pass; with z = 2.0 the
    // first step fails (p = 0.0228 > 0.0167) and nothing is rejected
    let (c, t) = baseline(&[(0.22, 0.1), (0.22, 0.1), (0.22, 0.1)], 1.0);
    assert_eq!(verdicts::claim3(Some(&c), Some(&t)).verdict, Verdict::Held);
    let (c, t) = baseline(&[(0.2, 0.1), (0.2, 0.1), (0.2, 0.1)], 1.0);
    assert_eq!(
        verdicts::claim3(Some(&c), Some(&t)).verdict,
        Verdict::NotHeld
    );
    // M below S within noise (−1 SE) and no withdrawals: the weak part is not rejected and the
    // strict part is empty, as under the literal rule: held
    let (c, t) = baseline(&[(-0.01, 0.01)], 0.0);
    assert_eq!(verdicts::claim3(Some(&c), Some(&t)).verdict, Verdict::Held);
    // M significantly below S in one cell: not held, and counted
    let (c, t) = baseline(&[(0.1, 0.01), (-0.1, 0.01)], 1.0);
    let v = verdicts::claim3(Some(&c), Some(&t));
    assert!(
        v.numbers
            .starts_with("M significantly below S (Holm, α = 0.05) in 1 of 2")
    );
    assert_eq!(verdicts::claim3(None, None).verdict, Verdict::NotTested);
}

fn diag(gaps: &[(f64, f64)]) -> DiagTable {
    DiagTable {
        swept: vec!["value".into()],
        rows: gaps
            .iter()
            .enumerate()
            .map(|(i, &(g, se))| DiagRecord {
                cell: i as u32,
                coords: vec![i as f64],
                pc_gap_mean: Some(g),
                pc_gap_se: Some(se),
                ..Default::default()
            })
            .collect(),
    }
}

fn pc_contrasts(diffs: &[(f64, f64)]) -> ContrastTable {
    m_minus_s(diffs, |r, x| r.privacy_cost = x)
}

#[test]
fn claim4_identity_gap_is_not_held() {
    // unconditional: grid mean 0.02 with SE √(2·0.01²)/2 = 0.0071: z = 2.8, S lower
    let base = pc_contrasts(&[(0.02, 0.01), (0.02, 0.01)]);
    let held = verdicts::claim4(Some(&base), Some(&diag(&[(0.1, 0.01), (0.2, 0.02)])));
    assert_eq!(held.verdict, Verdict::Held, "{}", held.numbers);
    // a gap of exactly 0 in every replication (R = 0): an identity, not held
    let zero = verdicts::claim4(Some(&base), Some(&diag(&[(0.0, 0.0), (0.2, 0.02)])));
    assert_eq!(zero.verdict, Verdict::NotHeld);
    assert!(zero.numbers.contains("exactly 0 in every replication of 1"));
    // unconditional within noise: not held
    let noisy = pc_contrasts(&[(0.01, 0.01), (0.01, 0.01)]);
    assert_eq!(
        verdicts::claim4(Some(&noisy), Some(&diag(&[(0.1, 0.01)]))).verdict,
        Verdict::NotHeld
    );
}

fn welfare(pairs: &[(&str, &str, f64, f64)]) -> ContrastTable {
    ContrastTable {
        swept: vec![],
        rows: pairs
            .iter()
            .map(|&(a, b, d, se)| ContrastRecord {
                a: a.into(),
                b: b.into(),
                welfare: p(d, se),
                ..Default::default()
            })
            .collect(),
    }
}

#[test]
fn claim5_ties_within_noise_hold_and_reversed_pairs_are_read() {
    // M − S slightly negative within noise, S − C clearly positive, given as C − S (turned)
    let t = welfare(&[("M", "S", -0.001, 0.01), ("C", "S", -0.5, 0.01)]);
    let sets = [
        ("uniform", Some(&t)),
        ("Beta(2,5)", Some(&t)),
        ("Beta(5,2)", Some(&t)),
    ];
    let v = verdicts::claim5(&sets);
    assert_eq!(v.verdict, Verdict::Held, "{}", v.numbers);
    assert!(v.numbers.contains("S − C +0.5000"), "{}", v.numbers);
    // M significantly below S in one distribution: not held
    let bad = welfare(&[("M", "S", -0.1, 0.01), ("S", "C", 0.5, 0.01)]);
    let sets = [
        ("uniform", Some(&t)),
        ("Beta(2,5)", Some(&bad)),
        ("Beta(5,2)", Some(&t)),
    ];
    let v = verdicts::claim5(&sets);
    assert_eq!(v.verdict, Verdict::NotHeld);
    assert!(
        v.numbers.contains("Beta(2,5): M − S -0.1000"),
        "{}",
        v.numbers
    );
    assert!(v.numbers.contains("(M significantly below S)"));
}

#[test]
fn claim6_difference_of_losses() {
    // M − S success: 0.0 at σ = 0, 0.05 at 0.25 and 0.10 at 0.5 (M loses less), SE 0.01
    let swept = vec!["obs_noise".to_string()];
    let mut con = ContrastTable {
        swept: swept.clone(),
        rows: vec![],
    };
    let mut cells = CellTable {
        swept,
        rows: vec![],
    };
    for (i, (sigma, d, s, m)) in [
        (0.0, 0.0, 0.8, 0.8),
        (0.25, 0.05, 0.6, 0.65),
        (0.5, 0.10, 0.4, 0.5),
    ]
    .into_iter()
    .enumerate()
    {
        con.rows.push(ContrastRecord {
            cell: i as u32,
            coords: vec![sigma],
            a: "M".into(),
            b: "S".into(),
            success: p(d, 0.01),
            ..Default::default()
        });
        for (mech, rate) in [("S", s), ("M", m)] {
            cells.rows.push(CellRecord {
                cell: i as u32,
                coords: vec![sigma],
                mechanism: mech.into(),
                success_rate: rate,
                ..Default::default()
            });
        }
    }
    let v = verdicts::claim6(Some(&cells), Some(&con));
    assert_eq!(v.verdict, Verdict::Held, "{}", v.numbers);
    // loss S 0.2, M 0.15 at σ = 0.25: 25% smaller
    assert!(
        v.numbers.contains("M's loss 25.0% smaller"),
        "{}",
        v.numbers
    );
    // within noise at σ = 0.25 (difference 0.01, SE 0.014): not held
    con.rows[1].success = p(0.01, 0.01);
    assert_eq!(
        verdicts::claim6(Some(&cells), Some(&con)).verdict,
        Verdict::NotHeld
    );
}
