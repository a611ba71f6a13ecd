//! The claims computations on hand-made tables whose verdicts are known: for each claim a case
//! where it holds, cases where it does not, and the not-tested case.

use datapact_report::claims::{self, Verdict};
use datapact_report::tables::{
    CellRecord, CellTable, DiagRecord, DiagTable, RoundRecord, RoundTable,
};

fn rec(cell: u32, coords: &[f64], mech: &str) -> CellRecord {
    CellRecord {
        cell,
        coords: coords.to_vec(),
        mechanism: mech.into(),
        reps: 100,
        ..Default::default()
    }
}

fn table(swept: &[&str], rows: Vec<CellRecord>) -> CellTable {
    CellTable {
        swept: swept.iter().map(|s| s.to_string()).collect(),
        rows,
    }
}

/// Two cells × the given mechanisms, each row set by `f(cell, mechanism)`.
fn grid(mechs: &[&str], f: impl Fn(u32, &str, &mut CellRecord)) -> CellTable {
    let mut rows = Vec::new();
    for cell in 0..2u32 {
        for m in mechs {
            let mut r = rec(cell, &[0.1 * cell as f64, 0.2], m);
            f(cell, m, &mut r);
            rows.push(r);
        }
    }
    table(&["value", "payment"], rows)
}

#[test]
fn claim1_leakage() {
    let f9 = grid(&["C"], |c, _, r| {
        r.leakage_mean = if c == 1 { 0.5 } else { 0.0 }
    });
    let sm = grid(&["S", "M"], |_, _, _| {});
    assert_eq!(
        claims::claim1(Some(&f9), &[&f9, &sm]).verdict,
        Verdict::Held
    );
    // S leaks somewhere
    let leaky = grid(&["S", "M"], |c, m, r| {
        if c == 0 && m == "S" {
            r.leakage_mean = 1e-12;
        }
    });
    assert_eq!(
        claims::claim1(Some(&f9), &[&f9, &leaky]).verdict,
        Verdict::NotHeld
    );
    // C never leaks
    let tight = grid(&["C"], |_, _, _| {});
    assert_eq!(
        claims::claim1(Some(&tight), &[&tight, &sm]).verdict,
        Verdict::NotHeld
    );
    assert_eq!(claims::claim1(None, &[&sm]).verdict, Verdict::NotTested);
    assert_eq!(
        claims::claim1(Some(&f9), &[&f9]).verdict,
        Verdict::NotTested
    );
}

fn round(mech: &str, status: &str, data: f64, subsidy: f64, welfare: f64) -> RoundRecord {
    RoundRecord {
        mechanism: mech.into(),
        status: status.into(),
        success: status == "success",
        data,
        subsidy,
        welfare,
        ..Default::default()
    }
}

#[test]
fn claim2_nulls() {
    let good = RoundTable {
        rows: vec![
            round("S", "null", 0.0, 0.0, 0.0),
            round("M", "null", 0.0, 0.0, 0.0),
            round("M", "success", 12.0, 1.0, 2.0),
            // C rows are not concerned
            round("C", "failure", 3.0, 0.3, -0.1),
        ],
    };
    let c = claims::claim2(Some(&good));
    assert_eq!(c.verdict, Verdict::Held);
    assert!(
        c.numbers.starts_with("2 null campaigns of 3"),
        "{}",
        c.numbers
    );
    for bad in [
        round("S", "null", 0.5, 0.0, 0.0),
        round("M", "null", 0.0, 0.1, 0.0),
        round("M", "null", 0.0, 0.0, -0.2),
    ] {
        let mut t = good.clone();
        t.rows.push(bad);
        assert_eq!(claims::claim2(Some(&t)).verdict, Verdict::NotHeld);
    }
    let none = RoundTable {
        rows: vec![round("S", "success", 12.0, 1.0, 2.0)],
    };
    assert_eq!(claims::claim2(Some(&none)).verdict, Verdict::NotTested);
    assert_eq!(claims::claim2(None).verdict, Verdict::NotTested);
}

#[test]
fn claim3_m_at_least_s() {
    // cell 0: no withdrawals, equal; cell 1: withdrawals, M strictly better
    let held = grid(&["C", "S", "M"], |c, m, r| {
        r.success_rate = match (c, m) {
            (0, _) => 0.5,
            (1, "S") => 0.2,
            (1, "M") => 0.3,
            _ => 0.0,
        };
        r.withdrawals_mean = if c == 1 { 0.4 } else { 0.0 };
    });
    let v = claims::claim3(Some(&held));
    assert_eq!(v.verdict, Verdict::Held, "{}", v.numbers);
    // M below S somewhere
    let weak = grid(&["S", "M"], |c, m, r| {
        r.success_rate = if c == 0 && m == "M" { 0.49 } else { 0.5 };
    });
    let v = claims::claim3(Some(&weak));
    assert_eq!(v.verdict, Verdict::NotHeld);
    assert!(
        v.numbers.starts_with("M < S in 1 of 2 cells"),
        "{}",
        v.numbers
    );
    // users withdraw but M is only equal
    let flat = grid(&["S", "M"], |_, _, r| {
        r.success_rate = 0.5;
        r.withdrawals_mean = 0.1;
    });
    assert_eq!(claims::claim3(Some(&flat)).verdict, Verdict::NotHeld);
    assert_eq!(claims::claim3(None).verdict, Verdict::NotTested);
}

fn diag(gaps: &[Option<f64>]) -> DiagTable {
    DiagTable {
        swept: vec!["value".into(), "payment".into()],
        rows: gaps
            .iter()
            .enumerate()
            .map(|(i, g)| DiagRecord {
                cell: i as u32,
                coords: vec![i as f64, 0.0],
                pc_gap_mean: *g,
                ..Default::default()
            })
            .collect(),
    }
}

#[test]
fn claim4_privacy_cost() {
    let base = grid(&["S", "M"], |_, m, r| {
        r.privacy_cost_mean = if m == "S" { 1.0 } else { 2.0 };
    });
    let pos = diag(&[Some(0.1), None, Some(0.3)]);
    assert_eq!(
        claims::claim4(Some(&base), Some(&pos)).verdict,
        Verdict::Held
    );
    // conditional part fails: a zero gap
    let zero = diag(&[Some(0.1), Some(0.0)]);
    let v = claims::claim4(Some(&base), Some(&zero));
    assert_eq!(v.verdict, Verdict::NotHeld);
    assert!(
        v.numbers
            .contains("> 0 in 1, = 0 in 1, < 0 in 0 of 2 unmasked cells"),
        "{}",
        v.numbers
    );
    // unconditional part fails
    let rev = grid(&["S", "M"], |_, m, r| {
        r.privacy_cost_mean = if m == "S" { 2.0 } else { 1.0 };
    });
    assert_eq!(
        claims::claim4(Some(&rev), Some(&pos)).verdict,
        Verdict::NotHeld
    );
    // every cell masked
    assert_eq!(
        claims::claim4(Some(&base), Some(&diag(&[None, None]))).verdict,
        Verdict::NotTested
    );
    assert_eq!(claims::claim4(None, Some(&pos)).verdict, Verdict::NotTested);
}

fn welfare(c: f64, s: f64, m: f64) -> CellTable {
    grid(&["C", "S", "M"], move |_, mech, r| {
        r.welfare_mean = match mech {
            "C" => c,
            "S" => s,
            _ => m,
        }
    })
}

#[test]
fn claim5_welfare_order() {
    let good = welfare(-1.0, 1.0, 1.0); // M = S allowed
    let v = claims::claim5(&[
        ("uniform", Some(&good)),
        ("Beta(2,5)", Some(&good)),
        ("Beta(5,2)", Some(&good)),
    ]);
    assert_eq!(v.verdict, Verdict::Held, "{}", v.numbers);
    let s_above_m = welfare(-1.0, 1.1, 1.0);
    let c_ties_s = welfare(1.0, 1.0, 2.0);
    for bad in [&s_above_m, &c_ties_s] {
        let v = claims::claim5(&[
            ("uniform", Some(&good)),
            ("Beta(2,5)", Some(bad)),
            ("Beta(5,2)", Some(&good)),
        ]);
        assert_eq!(v.verdict, Verdict::NotHeld, "{}", v.numbers);
    }
    let v = claims::claim5(&[("uniform", Some(&good)), ("Beta(2,5)", None)]);
    assert_eq!(v.verdict, Verdict::NotTested);
}

/// F6-like table: obs_noise × one (V, p) cell, success of S and M given per σ_o.
fn noise(s: [f64; 3], m: [f64; 3]) -> CellTable {
    let mut rows = Vec::new();
    for (i, sigma) in [0.0, 0.25, 0.5].into_iter().enumerate() {
        for (mech, v) in [("S", s[i]), ("M", m[i]), ("C", 0.3)] {
            let mut r = rec(i as u32, &[sigma, 0.1, 0.1], mech);
            r.success_rate = v;
            rows.push(r);
        }
    }
    table(&["obs_noise", "value", "payment"], rows)
}

#[test]
fn claim6_noise() {
    let held = noise([0.6, 0.4, 0.2], [0.8, 0.75, 0.7]);
    let v = claims::claim6(Some(&held));
    assert_eq!(v.verdict, Verdict::Held, "{}", v.numbers);
    // M loses as much as S at σ_o = 0.5
    let tie = noise([0.6, 0.4, 0.2], [0.8, 0.75, 0.4]);
    assert_eq!(claims::claim6(Some(&tie)).verdict, Verdict::NotHeld);
    // no obs_noise axis
    let flat = grid(&["S", "M"], |_, _, _| {});
    assert_eq!(claims::claim6(Some(&flat)).verdict, Verdict::NotTested);
    assert_eq!(claims::claim6(None).verdict, Verdict::NotTested);
}

#[test]
fn diverging_scale_maps_zero_to_white_and_negatives_to_blue() {
    use datapact_report::figures::Scale;
    use plotters::style::RGBColor;
    for (lo, hi) in [(-3.0, 1.0), (-0.01, 50.0), (0.0, 2.0), (-2.0, 0.0)] {
        let s = Scale::diverging(lo, hi);
        assert_eq!(s.color(0.0), RGBColor(255, 255, 255));
        let RGBColor(r, _, b) = s.color(-0.5);
        assert!(b > r, "negative must be blue: {lo}..{hi}");
        let RGBColor(r, _, b) = s.color(0.5);
        assert!(r > b, "positive must be red/orange: {lo}..{hi}");
    }
}

/// The scaling study's trend of M − S between the smallest and the largest n: every verdict
/// on points whose answer is known, whatever their order.
#[test]
fn advantage_trend_cases() {
    use claims::{Trend, advantage_trend};
    let t = |pts: &[(f64, f64, f64)]| advantage_trend(pts).unwrap();
    // 0.10 ± 0.01 at n = 20 to 0.90 ± 0.05 at 10^6: grows (listed out of order)
    assert_eq!(
        t(&[(1e6, 0.9, 0.05), (20.0, 0.1, 0.01), (2000.0, 0.5, 0.02)]),
        Trend::Grows
    );
    // deterministic at large n (SE 0) still compares
    assert_eq!(t(&[(20.0, 0.1, 0.01), (1e6, 1.0, 0.0)]), Trend::Grows);
    // 0.3 ± 0.01 to 0.001 ± 0.002: vanishes
    assert_eq!(
        t(&[(20.0, 0.3, 0.01), (1e6, 0.001, 0.002)]),
        Trend::Vanishes
    );
    // exactly 0 at large n with SE 0: vanishes
    assert_eq!(t(&[(20.0, 0.3, 0.01), (1e6, 0.0, 0.0)]), Trend::Vanishes);
    // 0.3 to 0.1, both distinguishable: shrinks
    assert_eq!(t(&[(20.0, 0.3, 0.01), (1e6, 0.1, 0.01)]), Trend::Shrinks);
    // S ahead at large n
    assert_eq!(t(&[(20.0, 0.3, 0.01), (1e6, -0.2, 0.01)]), Trend::Reverses);
    // a change within its SE: level
    assert_eq!(t(&[(20.0, 0.30, 0.02), (1e6, 0.32, 0.02)]), Trend::Level);
    // nothing at either end
    assert_eq!(t(&[(20.0, 0.01, 0.02), (1e6, 0.0, 0.0)]), Trend::Absent);
    // one point: no change, judged at that point
    assert_eq!(t(&[(20.0, 0.3, 0.01)]), Trend::Level);
    assert_eq!(advantage_trend(&[]), None);
}
