//! The six claims decided as statistical tests (issue 26): each claim's deciding statistics
//! with standard errors or 95% intervals (paired A − B on common random numbers where
//! mechanisms are compared, from the `contrasts` table), and every "in every cell" rule decided
//! cell by cell with Holm's step-down procedure at family-wise level [`ALPHA`], which is valid
//! under any dependence between the cells (common random numbers correlate them). The literal
//! point-estimate rules of [`crate::claims`] stay beside these verdicts.

use datapact_model::inference::{holm, normal_quantile, p_upper, z_statistic};

use crate::claims::Verdict;
use crate::tables::{CellTable, ContrastRecord, ContrastTable, DiagTable, Paired, RoundTable};

/// Family-wise error level of every test (and 1 − the level of every interval).
pub const ALPHA: f64 = 0.05;

/// One claim decided with uncertainty: the verdict, its rule and the numbers that decide it.
#[derive(Clone, Debug, PartialEq)]
pub struct Test {
    /// Whether the claim held as a test.
    pub verdict: Verdict,
    /// The rule applied.
    pub rule: &'static str,
    /// The statistics that decide it, in words.
    pub numbers: String,
}

/// The rule of each claim's test, printed next to its verdict.
pub const RULES: [&str; 6] = [
    "C part: per F9 cell, one-sided z-test of H₀: C leakage_mean ≤ 0 (z = mean / leakage_se), Holm over the cells; held iff at least one cell rejects. \
     S/M part: leakage is ≥ 0 in every campaign, so a mean of exactly 0 proves every campaign paid nothing (decided exactly, no sampling error). Held iff both.",
    "The identity (every S/M null campaign has data = subsidy = welfare = 0) is decided exactly, campaign by campaign. \
     Reported beside it, not deciding: the substantive reading (data collected only when the improvement is sustainable at realised costs), \
     the share of successful S/M campaigns with negative welfare and its 95% interval.",
    "F3, per cell the paired M − S success difference d ± SE from `contrasts`. Weak part: one-sided tests of H₀: d ≥ 0, Holm over all cells; \
     it fails iff some cell rejects (M significantly below S). Strict part: one-sided tests of H₀: d ≤ 0 in the cells where S users withdraw, \
     Holm over those cells; it holds iff every such cell rejects. Held iff both.",
    "Unconditional: F3 grid mean of the paired M − S privacy-cost differences, SE √(Σ SE²)/cells (cells draw independent streams); \
     S lower iff its 95% interval lies above 0. Conditional: per unmasked F7 cell, one-sided test of H₀: pc_gap ≤ 0 (pc_gap_se), Holm over \
     the cells; S lower everywhere iff every cell rejects. Held iff both.",
    "For each of F3 (uniform), F4 (Beta(2,5)), F5 (Beta(5,2)): grid means of the paired welfare differences M − S and S − C with their SEs. \
     M ≥ S fails iff a one-sided test of H₀: M − S ≥ 0 rejects (Holm over the three runs); S > C holds iff H₀: S − C ≤ 0 is rejected in all \
     three (Holm). Held iff M ≥ S is never rejected and S > C always is. Effect size: M − S with its 95% interval.",
    "F6: the difference of losses loss(S) − loss(M) at σ_o equals the grid mean of the paired M − S success difference at σ_o minus that at \
     σ_o = 0, SE √(SE²_σ + SE²_0) (different cells, independent streams). One-sided tests of H₀: loss(S) − loss(M) ≤ 0 at σ_o = 0.25 and \
     0.5, Holm over the two; held iff both reject. Effect size: M's loss relative to S's.",
];

/// The 95% half-width multiplier Φ⁻¹(1 − α/2).
fn z95() -> f64 {
    normal_quantile(1.0 - ALPHA / 2.0)
}

/// "d (95% CI [lo, hi])".
fn ci(d: f64, se: f64) -> String {
    let h = z95() * se;
    format!(
        "{:+.4} (95% CI [{:+.4}, {:+.4}])",
        d + 0.0,
        d - h + 0.0,
        d + h + 0.0
    )
}

fn test(id: u8, verdict: Verdict, numbers: String) -> Test {
    Test {
        verdict,
        rule: RULES[id as usize - 1],
        numbers,
    }
}

fn not_tested(id: u8, why: &str) -> Test {
    test(id, Verdict::NotTested, why.to_string())
}

fn of(ok: bool) -> Verdict {
    if ok { Verdict::Held } else { Verdict::NotHeld }
}

/// One-sided p-value of H₀: mean ≤ 0 (against > 0).
fn p_above(x: Paired) -> f64 {
    p_upper(z_statistic(x.diff, x.se))
}

/// One-sided p-value of H₀: mean ≥ 0 (against < 0).
fn p_below(x: Paired) -> f64 {
    p_upper(z_statistic(-x.diff, x.se))
}

/// Rows of the contrast A − B (or of B − A with the sign turned) with their paired metric.
fn contrast<'a>(
    t: &'a ContrastTable,
    a: &'a str,
    b: &'a str,
    metric: fn(&ContrastRecord) -> Paired,
) -> Vec<(&'a ContrastRecord, Paired)> {
    let direct: Vec<_> = t.pair(a, b).map(|r| (r, metric(r))).collect();
    if !direct.is_empty() {
        return direct;
    }
    t.pair(b, a)
        .map(|r| {
            let p = metric(r);
            (
                r,
                Paired {
                    diff: -p.diff,
                    se: p.se,
                },
            )
        })
        .collect()
}

/// Grid mean of paired differences over independent cells, with its SE √(Σ SE²)/cells.
fn grid_mean(xs: impl Iterator<Item = Paired>) -> Option<Paired> {
    let (s, v, n) = xs.fold((0.0, 0.0, 0usize), |(s, v, n), x| {
        (s + x.diff, v + x.se * x.se, n + 1)
    });
    (n > 0).then(|| Paired {
        diff: s / n as f64,
        se: v.sqrt() / n as f64,
    })
}

fn success(r: &ContrastRecord) -> Paired {
    r.success
}
fn welfare(r: &ContrastRecord) -> Paired {
    r.welfare
}
fn privacy_cost(r: &ContrastRecord) -> Paired {
    r.privacy_cost
}

/// How many of `p` Holm rejects at [`ALPHA`].
fn rejected(p: &[f64]) -> Vec<bool> {
    holm(p, ALPHA)
}

/// Claim 1: the F9 cells (C's leakage) and every run's cells (S and M never leak).
pub fn claim1(f9: Option<&CellTable>, all: &[&CellTable]) -> Test {
    let Some(f9) = f9.filter(|t| t.has("C")) else {
        return not_tested(1, "no C cells in the F9 run");
    };
    let p: Vec<f64> = f9
        .of("C")
        .map(|r| {
            p_above(Paired {
                diff: r.leakage_mean,
                se: r.leakage_se,
            })
        })
        .collect();
    let sig = rejected(&p).iter().filter(|x| **x).count();
    let sm: Vec<f64> = all
        .iter()
        .flat_map(|t| t.rows.iter())
        .filter(|r| r.mechanism == "S" || r.mechanism == "M")
        .map(|r| r.leakage_mean)
        .collect();
    if sm.is_empty() {
        return not_tested(1, "no S or M cells in any run");
    }
    let sm_zero = sm.iter().all(|x| *x == 0.0);
    test(
        1,
        of(sig > 0 && sm_zero),
        format!(
            "C leaks significantly (Holm, α = {ALPHA}) in {sig} of {} F9 cells; S/M leakage exactly 0 in {} of {} cell rows",
            p.len(),
            sm.iter().filter(|x| **x == 0.0).count(),
            sm.len()
        ),
    )
}

/// Claim 2: the identity decided exactly, the substantive reading measured beside it.
pub fn claim2(rounds: Option<&RoundTable>) -> Test {
    let Some(rounds) = rounds else {
        return not_tested(2, "no campaign-level (rounds) run");
    };
    let (sm, nulls, bad) = crate::claims::null_campaigns(rounds);
    let mut parts = vec![format!(
        "identity: {bad} of {} S/M null campaigns with data, subsidy or welfare ≠ 0",
        nulls.len()
    )];
    for m in ["S", "M"] {
        let succ: Vec<_> = sm
            .iter()
            .filter(|r| r.mechanism == m && r.success)
            .collect();
        let neg = succ.iter().filter(|r| r.welfare < 0.0).count();
        let n = succ.len().max(1) as f64;
        let share = neg as f64 / n;
        let se = (share * (1.0 - share) / n).sqrt();
        let h = z95() * se;
        parts.push(format!(
            "substantive reading, {m}: {neg} of {} successful campaigns have negative welfare \
             (share {share:.5}, 95% CI [{:.5}, {:.5}]){}",
            succ.len(),
            (share - h).max(0.0),
            share + h,
            if neg > 0 {
                ": data collected although unsustainable at realised costs"
            } else {
                ""
            }
        ));
    }
    if nulls.is_empty() {
        return test(2, Verdict::NotTested, parts.join("; "));
    }
    test(2, of(bad == 0), parts.join("; "))
}

/// Claim 3: the F3 cells (S's withdrawals) and contrasts (M − S success).
pub fn claim3(cells: Option<&CellTable>, contrasts: Option<&ContrastTable>) -> Test {
    let (Some(cells), Some(con)) = (cells, contrasts) else {
        return not_tested(3, "no baseline (F3) run");
    };
    let d = contrast(con, "M", "S", success);
    if d.is_empty() {
        return not_tested(3, "baseline run has no M − S contrast");
    }
    let s_rows: std::collections::BTreeMap<u32, _> = cells.of("S").map(|r| (r.cell, r)).collect();
    let weak_p: Vec<f64> = d.iter().map(|(_, x)| p_below(*x)).collect();
    let weak_fail = rejected(&weak_p).iter().filter(|x| **x).count();
    let withdraw: Vec<_> = d
        .iter()
        .filter(|(r, _)| {
            s_rows
                .get(&r.cell)
                .is_some_and(|s| s.withdrawals_mean > 0.0)
        })
        .collect();
    let strict_p: Vec<f64> = withdraw.iter().map(|(_, x)| p_above(*x)).collect();
    let strict = rejected(&strict_p);
    let strict_ok = strict.iter().filter(|x| **x).count();
    let failing: Vec<_> = withdraw
        .iter()
        .zip(&strict)
        .filter(|(_, ok)| !**ok)
        .filter_map(|((r, _), _)| s_rows.get(&r.cell))
        .collect();
    let max_success = failing.iter().map(|s| s.success_rate).fold(0.0, f64::max);
    let min_null = failing
        .iter()
        .map(|s| s.null_rate)
        .fold(f64::INFINITY, f64::min);
    let mean = grid_mean(d.iter().map(|(_, x)| *x)).unwrap_or_default();
    let ok = weak_fail == 0 && strict_ok == withdraw.len();
    let not_shown = if failing.is_empty() {
        String::new()
    } else {
        format!(
            " (there S success ≤ {max_success:.4}, S null rate ≥ {min_null:.2}: too few S successes to show M ahead)"
        )
    };
    test(
        3,
        of(ok),
        format!(
            "M significantly below S (Holm, α = {ALPHA}) in {weak_fail} of {} cells; among {} cells where S users withdraw, \
             M significantly above S in {strict_ok}, not shown in {}{not_shown}; grid mean M − S success {}",
            d.len(),
            withdraw.len(),
            withdraw.len() - strict_ok,
            ci(mean.diff, mean.se)
        ),
    )
}

/// Claim 4: F3 contrasts (unconditional privacy cost) and F7 diagnostics (conditional gap).
pub fn claim4(base: Option<&ContrastTable>, diag: Option<&DiagTable>) -> Test {
    let (Some(base), Some(diag)) = (base, diag) else {
        return not_tested(4, "baseline (F3) or F7 run missing");
    };
    let Some(u) = grid_mean(
        contrast(base, "M", "S", privacy_cost)
            .into_iter()
            .map(|(_, x)| x),
    ) else {
        return not_tested(4, "baseline run has no M − S contrast");
    };
    let uncond = u.diff - z95() * u.se > 0.0;
    let gaps: Vec<Paired> = diag
        .rows
        .iter()
        .filter_map(|r| {
            r.pc_gap_mean.map(|g| Paired {
                diff: g,
                se: r.pc_gap_se.unwrap_or(0.0),
            })
        })
        .collect();
    let p: Vec<f64> = gaps.iter().map(|g| p_above(*g)).collect();
    let sig = rejected(&p).iter().filter(|x| **x).count();
    let exact_zero = gaps.iter().filter(|g| g.diff == 0.0 && g.se == 0.0).count();
    let cond = !gaps.is_empty() && sig == gaps.len();
    let numbers = format!(
        "unconditional: grid mean PC(M) − PC(S) {} ({}); conditional: PC(M) − PC(S) significantly > 0 (Holm, α = {ALPHA}) \
         in {sig} of {} unmasked F7 cells, exactly 0 in every replication of {exact_zero} (an identity, not noise)",
        ci(u.diff, u.se),
        if uncond {
            "S lower"
        } else {
            "S not shown lower"
        },
        gaps.len()
    );
    if gaps.is_empty() {
        return test(4, Verdict::NotTested, numbers);
    }
    test(4, of(uncond && cond), numbers)
}

/// Claim 5: `(label, contrasts)` for each cost distribution.
pub fn claim5(sets: &[(&str, Option<&ContrastTable>)]) -> Test {
    let mut ms = Vec::new();
    let mut sc = Vec::new();
    for (label, t) in sets {
        let Some(t) = t else {
            return not_tested(5, &format!("run for {label} costs missing"));
        };
        let g = |a, b| grid_mean(contrast(t, a, b, welfare).into_iter().map(|(_, x)| x));
        let (Some(m_s), Some(s_c)) = (g("M", "S"), g("S", "C")) else {
            return not_tested(5, &format!("{label} run lacks the M − S or S − C contrast"));
        };
        ms.push((label, m_s));
        sc.push(s_c);
    }
    if ms.is_empty() {
        return not_tested(5, "no runs");
    }
    let below = rejected(&ms.iter().map(|(_, x)| p_below(*x)).collect::<Vec<_>>());
    let above = rejected(&sc.iter().map(|x| p_above(*x)).collect::<Vec<_>>());
    let ok = below.iter().all(|x| !x) && above.iter().all(|x| *x);
    let parts: Vec<String> = ms
        .iter()
        .zip(&sc)
        .zip(below.iter().zip(&above))
        .map(|(((label, m_s), s_c), (b, a))| {
            format!(
                "{label}: M − S {}{}, S − C {}{}",
                ci(m_s.diff, m_s.se),
                if *b { " (M significantly below S)" } else { "" },
                ci(s_c.diff, s_c.se),
                if *a { "" } else { " (S not shown above C)" }
            )
        })
        .collect();
    test(5, of(ok), parts.join("; "))
}

/// Claim 6: the F6 contrasts (obs_noise swept, σ_o = 0 included) and cells (losses).
pub fn claim6(cells: Option<&CellTable>, con: Option<&ContrastTable>) -> Test {
    let (Some(cells), Some(con)) = (cells, con) else {
        return not_tested(6, "no F6 run");
    };
    if !con.swept.iter().any(|s| s == "obs_noise") {
        return not_tested(6, "F6 run does not sweep obs_noise");
    }
    let d = contrast(con, "M", "S", success);
    let at = |sigma: f64| {
        grid_mean(
            d.iter()
                .filter(|(r, _)| {
                    con.coord(r, "obs_noise")
                        .is_some_and(|s| (s - sigma).abs() < 1e-9)
                })
                .map(|(_, x)| *x),
        )
    };
    let success_at = |m: &str, sigma: f64| {
        let (s, n) = cells
            .of(m)
            .filter(|r| {
                cells
                    .coord(r, "obs_noise")
                    .is_some_and(|s| (s - sigma).abs() < 1e-9)
            })
            .fold((0.0, 0usize), |(s, n), r| (s + r.success_rate, n + 1));
        (n > 0).then(|| s / n as f64)
    };
    let Some(zero) = at(0.0) else {
        return not_tested(6, "F6 run lacks the M − S contrast at σ_o = 0");
    };
    let mut diffs = Vec::new();
    let mut parts = Vec::new();
    for sigma in [0.25, 0.5] {
        let Some(x) = at(sigma) else {
            return not_tested(6, &format!("F6 run lacks σ_o = {sigma}"));
        };
        let gap = Paired {
            diff: x.diff - zero.diff,
            se: datapact_model::variates::hypot(x.se, zero.se),
        };
        let rel = match (
            success_at("S", 0.0),
            success_at("S", sigma),
            success_at("M", 0.0),
            success_at("M", sigma),
        ) {
            (Some(s0), Some(s), Some(m0), Some(m)) if s0 - s > 0.0 => format!(
                "; loss S {:.4}, M {:.4}: M's loss {:.1}% smaller",
                s0 - s,
                m0 - m,
                100.0 * (1.0 - (m0 - m) / (s0 - s))
            ),
            _ => String::new(),
        };
        diffs.push(gap);
        parts.push(format!(
            "σ_o = {sigma}: loss(S) − loss(M) {}{rel}",
            ci(gap.diff, gap.se)
        ));
    }
    let sig = rejected(&diffs.iter().map(|x| p_above(*x)).collect::<Vec<_>>());
    test(6, of(sig.iter().all(|x| *x)), parts.join("; "))
}
