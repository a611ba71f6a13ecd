//! The six claims of MODEL.md as plain functions over typed tables. Each returns a [`Claim`]:
//! a verdict and the numbers that decide it, computed from the data with a fixed rule
//! ([`Claim::rule`]) that is printed next to the verdict.

use std::collections::BTreeMap;

use crate::tables::{CellTable, DiagTable, RoundRecord, RoundTable};

/// Whether a claim held on the data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum Verdict {
    /// The data satisfy the claim's decision rule.
    Held,
    /// The data contradict it.
    NotHeld,
    /// The data needed to decide is missing (a run was not found, or the claim's premise is
    /// absent from the data, e.g. no null outcome at all).
    NotTested,
}

impl Verdict {
    /// The verdict as the report writes it ("held", "not held", "not tested").
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Held => "held",
            Verdict::NotHeld => "not held",
            Verdict::NotTested => "not tested",
        }
    }

    fn of(ok: bool) -> Verdict {
        if ok { Verdict::Held } else { Verdict::NotHeld }
    }
}

/// One row of the claims table.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Claim {
    /// The claim's number, 1 to 6, as MODEL.md numbers them.
    pub id: u8,
    /// The claim, as MODEL.md states it.
    pub statement: &'static str,
    /// The decision rule applied.
    pub rule: &'static str,
    /// Whether the claim held by its rule.
    pub verdict: Verdict,
    /// The numbers that decide the verdict, in words.
    pub numbers: String,
    /// The claim decided as a test, with intervals and multiple-testing control
    /// ([`crate::verdicts`]).
    pub test_verdict: Verdict,
    /// The rule of `test_verdict`.
    pub test_rule: &'static str,
    /// The statistics that decide `test_verdict`.
    pub test_numbers: String,
    /// Under how many independent seeds the claim was decided (`datapact reproduce --seeds K`).
    pub seeds: u32,
    /// Under how many of those seeds `test_verdict` was "held".
    pub seeds_held: u32,
}

/// The six claims, as MODEL.md states them (claim i is `STATEMENTS[i - 1]`).
pub const STATEMENTS: [&str; 6] = [
    "C pays subsidies without improvement somewhere on the grid; S and M never do.",
    "S and M turn every unsustainable instance into a null outcome (no data, no payment).",
    "M succeeds at least as often as S in every cell, and strictly more often where users withdraw.",
    "S's total privacy cost is lower than M's (unconditionally, and on the common-success set).",
    "Welfare ranks M ≥ S > C on average under uniform, Beta(2,5) and Beta(5,2) costs.",
    "Under noisy cost observation M loses less success than S.",
];

/// The decision rule of each claim, aligned with [`STATEMENTS`].
pub const RULES: [&str; 6] = [
    "Held iff the largest C `leakage_mean` over the F9 grid is > 0 AND the largest S and M `leakage_mean` over every run is exactly 0.",
    "In the campaign-level run (`rounds`), held iff every S/M campaign with status \"null\" has data = 0, subsidy = 0 and welfare = 0 (also reported: privacy cost). Not tested if there is no null campaign.",
    "Baseline run (F3, uniform costs), cells paired by index. Held iff M `success_rate` ≥ S's in every cell (exact comparison: common random numbers) AND M > S in every cell where S `withdrawals_mean` > 0.",
    "Held iff (unconditional) the grid mean of `privacy_cost_mean` of S is < that of M in the baseline run AND (conditional) `pc_gap_mean` = mean PC(M) − PC(S) on common successes with k ≥ 2 is > 0 in every unmasked cell of the F7 run.",
    "For each of the uniform (F3), Beta(2,5) (F4) and Beta(5,2) (F5) runs: grid mean of `welfare_mean` of M ≥ that of S, and S's > C's. Held iff all three hold.",
    "F6 run: success loss of a mechanism at σ_o = grid mean of success_rate at σ_o = 0 minus at σ_o. Held iff loss(M) < loss(S) for σ_o = 0.25 and for σ_o = 0.5.",
];

fn claim(id: u8, verdict: Verdict, numbers: String) -> Claim {
    Claim {
        id,
        statement: STATEMENTS[id as usize - 1],
        rule: RULES[id as usize - 1],
        verdict,
        numbers,
        test_verdict: Verdict::NotTested,
        test_rule: "",
        test_numbers: String::new(),
        seeds: 0,
        seeds_held: 0,
    }
}

fn not_tested(id: u8, why: &str) -> Claim {
    claim(id, Verdict::NotTested, why.to_string())
}

fn mean(xs: impl Iterator<Item = f64>) -> Option<f64> {
    let (s, n) = xs.fold((0.0, 0usize), |(s, n), x| (s + x, n + 1));
    (n > 0).then(|| s / n as f64)
}

/// Claim 1: `f9` is the leakage run of C; `all` every run's cells table.
pub fn claim1(f9: Option<&CellTable>, all: &[&CellTable]) -> Claim {
    let Some(f9) = f9.filter(|t| t.has("C")) else {
        return not_tested(1, "no C cells in the F9 run");
    };
    let (c_max, c_cells, c_n) = f9.of("C").fold((f64::NEG_INFINITY, 0, 0), |(m, k, n), r| {
        (
            m.max(r.leakage_mean),
            k + usize::from(r.leakage_mean > 0.0),
            n + 1,
        )
    });
    let withdrawal: Vec<_> = all
        .iter()
        .flat_map(|t| t.rows.iter())
        .filter(|r| r.mechanism == "S" || r.mechanism == "M")
        .collect();
    if withdrawal.is_empty() {
        return not_tested(1, "no S or M cells in any run");
    }
    let sm_max = withdrawal
        .iter()
        .map(|r| r.leakage_mean)
        .fold(f64::NEG_INFINITY, f64::max);
    let sm_leaky = withdrawal.iter().filter(|r| r.leakage_mean != 0.0).count();
    let ok = c_max > 0.0 && sm_max == 0.0;
    claim(
        1,
        Verdict::of(ok),
        format!(
            "C: max leakage {c_max:.4} per campaign, leaky in {c_cells} of {c_n} cells; \
             S/M: max leakage {sm_max} over {} cell rows of all runs ({sm_leaky} non-zero)",
            withdrawal.len()
        ),
    )
}

/// The S and M campaigns of a rounds table, those with status "null", and how many of these
/// have data, subsidy or welfare ≠ 0 (claim 2's counterexamples).
pub(crate) fn null_campaigns(rounds: &RoundTable) -> (Vec<&RoundRecord>, Vec<&RoundRecord>, usize) {
    let sm: Vec<&RoundRecord> = rounds
        .rows
        .iter()
        .filter(|r| r.mechanism == "S" || r.mechanism == "M")
        .collect();
    let nulls: Vec<&RoundRecord> = sm.iter().copied().filter(|r| r.status == "null").collect();
    let bad = nulls
        .iter()
        .filter(|r| r.data != 0.0 || r.subsidy != 0.0 || r.welfare != 0.0)
        .count();
    (sm, nulls, bad)
}

/// Claim 2: the rounds of the campaign-level run.
pub fn claim2(rounds: Option<&RoundTable>) -> Claim {
    let Some(rounds) = rounds else {
        return not_tested(2, "no campaign-level (rounds) run");
    };
    let (sm, nulls, bad) = null_campaigns(rounds);
    let pc_bad = nulls.iter().filter(|r| r.privacy_cost != 0.0).count();
    let by_mech = |m: &str| nulls.iter().filter(|r| r.mechanism == m).count();
    let numbers = format!(
        "{} null campaigns of {} S/M campaigns (S {}, M {}); {bad} with data, subsidy or welfare ≠ 0; \
         {pc_bad} with privacy cost ≠ 0",
        nulls.len(),
        sm.len(),
        by_mech("S"),
        by_mech("M")
    );
    if nulls.is_empty() {
        return claim(2, Verdict::NotTested, numbers);
    }
    claim(2, Verdict::of(bad == 0), numbers)
}

/// Pairs S and M rows of a cells table by cell index.
fn pairs(t: &CellTable, a: &str, b: &str) -> Vec<(f64, f64, f64)> {
    let bs: BTreeMap<u32, _> = t.of(b).map(|r| (r.cell, r)).collect();
    t.of(a)
        .filter_map(|ra| bs.get(&ra.cell).map(|rb| (ra, *rb)))
        .map(|(ra, rb)| (ra.success_rate, rb.success_rate, ra.withdrawals_mean))
        .collect()
}

/// Claim 3: the baseline run (C, S, M under uniform costs).
pub fn claim3(base: Option<&CellTable>) -> Claim {
    let Some(base) = base else {
        return not_tested(3, "no baseline (F3) run");
    };
    let p = pairs(base, "S", "M");
    if p.is_empty() {
        return not_tested(3, "baseline run lacks S or M");
    }
    let weak_fail = p.iter().filter(|(s, m, _)| m < s).count();
    let worst = p
        .iter()
        .map(|(s, m, _)| m - s)
        .fold(f64::INFINITY, f64::min);
    let withdraw: Vec<_> = p.iter().filter(|(_, _, w)| *w > 0.0).collect();
    let strict_ok = withdraw.iter().filter(|(s, m, _)| m > s).count();
    let strict_fail = withdraw.len() - strict_ok;
    let max_gap_fail = withdraw
        .iter()
        .filter(|(s, m, _)| m <= s)
        .map(|(_, _, w)| *w)
        .fold(0.0, f64::max);
    let ok = weak_fail == 0 && strict_fail == 0;
    let share = if withdraw.is_empty() {
        "n/a".to_string()
    } else {
        format!("{:.1}%", 100.0 * strict_ok as f64 / withdraw.len() as f64)
    };
    claim(
        3,
        Verdict::of(ok),
        format!(
            "M < S in {weak_fail} of {} cells (min M − S = {worst:.4}); among {} cells where S users \
             withdraw, M > S in {strict_ok} ({share}), not in {strict_fail} \
             (largest S withdrawals_mean among those: {max_gap_fail:.4})",
            p.len(),
            withdraw.len()
        ),
    )
}

/// Claim 4: baseline cells (unconditional) and the F7 diagnostics (conditional).
pub fn claim4(base: Option<&CellTable>, diag: Option<&DiagTable>) -> Claim {
    let (Some(base), Some(diag)) = (base, diag) else {
        return not_tested(4, "baseline (F3) or F7 run missing");
    };
    let (Some(pc_s), Some(pc_m)) = (
        mean(base.of("S").map(|r| r.privacy_cost_mean)),
        mean(base.of("M").map(|r| r.privacy_cost_mean)),
    ) else {
        return not_tested(4, "baseline run lacks S or M");
    };
    let gaps: Vec<f64> = diag.rows.iter().filter_map(|r| r.pc_gap_mean).collect();
    let pos = gaps.iter().filter(|g| **g > 0.0).count();
    let zero = gaps.iter().filter(|g| **g == 0.0).count();
    let neg = gaps.iter().filter(|g| **g < 0.0).count();
    let masked = diag.rows.len() - gaps.len();
    let uncond = pc_s < pc_m;
    let cond = !gaps.is_empty() && pos == gaps.len();
    let gap_mean = mean(gaps.iter().copied())
        .map(|g| format!("{g:.6}"))
        .unwrap_or_else(|| "n/a".into());
    let numbers = format!(
        "unconditional: mean PC S = {pc_s:.4} vs M = {pc_m:.4} ({}); conditional: PC(M) − PC(S) > 0 in \
         {pos}, = 0 in {zero}, < 0 in {neg} of {} unmasked cells ({masked} masked), mean gap {gap_mean} ({})",
        if uncond { "S lower" } else { "S not lower" },
        gaps.len(),
        if cond {
            "S lower"
        } else {
            "S not lower everywhere"
        },
    );
    if gaps.is_empty() {
        return claim(4, Verdict::NotTested, numbers);
    }
    claim(4, Verdict::of(uncond && cond), numbers)
}

/// Claim 5: `(label, cells)` for each cost distribution.
pub fn claim5(sets: &[(&str, Option<&CellTable>)]) -> Claim {
    let mut parts = Vec::new();
    let mut ok = true;
    for (label, t) in sets {
        let Some(t) = t else {
            return not_tested(5, &format!("run for {label} costs missing"));
        };
        let w = |m: &str| mean(t.of(m).map(|r| r.welfare_mean));
        let (Some(c), Some(s), Some(m)) = (w("C"), w("S"), w("M")) else {
            return not_tested(5, &format!("{label} run lacks C, S or M"));
        };
        let here = m >= s && s > c;
        ok &= here;
        parts.push(format!(
            "{label}: M {m:.4}, S {s:.4}, C {c:.4} ({})",
            if here { "M ≥ S > C" } else { "order fails" }
        ));
    }
    if parts.is_empty() {
        return not_tested(5, "no runs");
    }
    claim(5, Verdict::of(ok), parts.join("; "))
}

/// Claim 6: the F6 run (obs_noise swept, σ_o = 0 included).
pub fn claim6(noise: Option<&CellTable>) -> Claim {
    let Some(t) = noise else {
        return not_tested(6, "no F6 run");
    };
    if !t.swept.iter().any(|s| s == "obs_noise") {
        return not_tested(6, "F6 run does not sweep obs_noise");
    }
    // grid-mean success per (mechanism, σ_o), σ_o keyed in micro-units to sort exactly
    let mut acc: BTreeMap<(String, i64), (f64, usize)> = BTreeMap::new();
    for r in &t.rows {
        let sigma = t.coord(r, "obs_noise").unwrap_or(0.0);
        let e = acc
            .entry((r.mechanism.clone(), (sigma * 1e6).round() as i64))
            .or_default();
        e.0 += r.success_rate;
        e.1 += 1;
    }
    let avg = |m: &str, s: i64| acc.get(&(m.to_string(), s)).map(|(x, n)| x / *n as f64);
    let (Some(s0), Some(m0)) = (avg("S", 0), avg("M", 0)) else {
        return not_tested(6, "F6 run lacks S or M at σ_o = 0");
    };
    let mut ok = true;
    let mut parts = vec![format!("σ_o = 0: success S {s0:.4}, M {m0:.4}")];
    for sigma in [250_000i64, 500_000] {
        let (Some(s), Some(m)) = (avg("S", sigma), avg("M", sigma)) else {
            return not_tested(6, &format!("F6 run lacks σ_o = {}", sigma as f64 / 1e6));
        };
        let (ls, lm) = (s0 - s, m0 - m);
        ok &= lm < ls;
        parts.push(format!(
            "σ_o = {}: loss S {ls:.4}, M {lm:.4} ({})",
            sigma as f64 / 1e6,
            if lm < ls {
                "M loses less"
            } else {
                "M does not lose less"
            }
        ));
    }
    claim(6, Verdict::of(ok), parts.join("; "))
}

/// How a paired advantage A − B changes between the smallest and the largest population of a
/// scaling study (F11).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum Trend {
    /// Larger at the largest n than at the smallest, beyond 1.96 SE of the change.
    Grows,
    /// Smaller at the largest n, beyond 1.96 SE of the change, and still distinguishable from 0.
    Shrinks,
    /// Distinguishable from 0 (positive) at the smallest n, not at the largest.
    Vanishes,
    /// Significantly negative at the largest n (B ahead) after A was ahead at the smallest.
    Reverses,
    /// No change beyond 1.96 SE of the change.
    Level,
    /// Not distinguishable from 0 at either end.
    Absent,
}

impl Trend {
    /// The trend as the report writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Trend::Grows => "grows with n",
            Trend::Shrinks => "shrinks with n (but persists)",
            Trend::Vanishes => "vanishes with n",
            Trend::Reverses => "reverses with n",
            Trend::Level => "stays level with n",
            Trend::Absent => "is absent at both ends",
        }
    }
}

/// The decision rule of [`advantage_trend`], printed next to its result.
pub const TREND_RULE: &str = "From the `contrasts` table (paired A − B on the same draws): d₁ ± SE₁ at the smallest n, d₂ ± SE₂ at the largest; \
    a difference is distinguishable from 0 iff |d| > 1.96·SE (any d ≠ 0 when SE = 0). Cells of different n draw independent \
    streams, so the change d₂ − d₁ has SE √(SE₁² + SE₂²). Absent: neither end distinguishable; vanishes: d₁ > 0 distinguishable, \
    d₂ not; reverses: d₂ < 0 distinguishable while d₁ ≥ 0; grows / shrinks: d₂ − d₁ > / < ±1.96·√(SE₁² + SE₂²); otherwise level.";

/// Whether a paired advantage grows, shrinks or vanishes with the population size: `points`
/// are (n, A − B, its SE) in any order (at least one); the rule is [`TREND_RULE`].
pub fn advantage_trend(points: &[(f64, f64, f64)]) -> Option<Trend> {
    let first = points.iter().min_by(|a, b| a.0.total_cmp(&b.0))?;
    let last = points.iter().max_by(|a, b| a.0.total_cmp(&b.0))?;
    let z = crate::charts::Z95;
    let sig = |(_, d, se): &(f64, f64, f64)| d.abs() > z * se && *d != 0.0;
    let (d1, d2) = (first.1, last.1);
    let change_se = datapact_model::variates::hypot(first.2, last.2);
    Some(match (sig(first), sig(last)) {
        (false, false) => Trend::Absent,
        (true, false) if d1 > 0.0 => Trend::Vanishes,
        (_, true) if d2 < 0.0 && d1 >= 0.0 => Trend::Reverses,
        _ if d2 - d1 > z * change_se && (d2 - d1) != 0.0 => Trend::Grows,
        _ if d1 - d2 > z * change_se && (d1 - d2) != 0.0 => {
            if sig(last) {
                Trend::Shrinks
            } else {
                Trend::Vanishes
            }
        }
        _ => Trend::Level,
    })
}
