//! Statistics for verdicts: normal tail probabilities and quantiles, confidence intervals from
//! Welford accumulators (paired differences under common random numbers), multiple-testing
//! control over many cells (Holm; Benjamini–Hochberg and Benjamini–Yekutieli), and the held-out
//! estimate of an audit's ε (the best deviation chosen on one half of the replications, its gain
//! estimated on the other).
//!
//! Arithmetic does not depend on the platform's libm: the transcendental functions (erfc, log)
//! are the `libm` crate's pure-Rust ports of musl, and square roots are IEEE-exact, so every
//! number here is the same on every platform. (`libm` was already in the build through
//! `num-traits`; it has no dependencies and no C code.)
//!
//! Intervals and p-values use the normal approximation to the mean over replications (z, not
//! Student's t): right for the hundreds of replications of a cell, optimistic below ~30.

use crate::stats::Welford;

/// The complementary error function erfc(x) = (2/√π)∫ₓ^∞ e^{−t²} dt, accurate to about 1 ulp
/// (`libm::erfc`, musl's algorithm), with no dependence on the platform's libm.
#[inline]
pub fn erfc(x: f64) -> f64 {
    libm::erfc(x)
}

/// The standard normal distribution function Φ(x) = erfc(−x/√2)/2, with full relative
/// accuracy in the lower tail (down to Φ(−37.5) ≈ 5e−308).
#[inline]
pub fn normal_cdf(x: f64) -> f64 {
    0.5 * erfc(-x * std::f64::consts::FRAC_1_SQRT_2)
}

/// The upper tail 1 − Φ(x) = erfc(x/√2)/2, with full relative accuracy for large x (never the
/// cancelling 1 − Φ(x)).
#[inline]
pub fn normal_sf(x: f64) -> f64 {
    0.5 * erfc(x * std::f64::consts::FRAC_1_SQRT_2)
}

// Coefficients of Wichura's algorithm AS 241 (PPND16, Applied Statistics 37, 1988), ascending
// powers, verbatim from the paper (hence more digits than a double holds); the denominators'
// constant term is 1.
#[allow(clippy::excessive_precision)]
const AS241_A: [f64; 8] = [
    3.387_132_872_796_366_608,
    1.331_416_678_917_843_774_5e2,
    1.971_590_950_306_551_442_7e3,
    1.373_169_376_550_946_112_5e4,
    4.592_195_393_154_987_145_7e4,
    6.726_577_092_700_870_085_3e4,
    3.343_057_558_358_812_810_5e4,
    2.509_080_928_730_122_672_7e3,
];
#[allow(clippy::excessive_precision)]
const AS241_B: [f64; 8] = [
    1.0,
    4.231_333_070_160_091_125_2e1,
    6.871_870_074_920_579_083e2,
    5.394_196_021_424_751_107_7e3,
    2.121_379_430_158_659_586_7e4,
    3.930_789_580_009_271_061e4,
    2.872_908_573_572_194_267_4e4,
    5.226_495_278_852_854_561e3,
];
#[allow(clippy::excessive_precision)]
const AS241_C: [f64; 8] = [
    1.423_437_110_749_683_577_34,
    4.630_337_846_156_545_295_9,
    5.769_497_221_460_691_405_5,
    3.647_848_324_763_204_605_04,
    1.270_458_252_452_368_382_58,
    2.417_807_251_774_506_117_7e-1,
    2.272_384_498_926_918_458_33e-2,
    7.745_450_142_783_414_076_4e-4,
];
#[allow(clippy::excessive_precision)]
const AS241_D: [f64; 8] = [
    1.0,
    2.053_191_626_637_758_821_87,
    1.676_384_830_183_803_849_4,
    6.897_673_349_851_000_045_5e-1,
    1.481_039_764_274_800_745_9e-1,
    1.519_866_656_361_645_719_66e-2,
    5.475_938_084_995_344_946e-4,
    1.050_750_071_644_416_843_24e-9,
];
#[allow(clippy::excessive_precision)]
const AS241_E: [f64; 8] = [
    6.657_904_643_501_103_777_2,
    5.463_784_911_164_114_369_9,
    1.784_826_539_917_291_335_8,
    2.965_605_718_285_048_912_3e-1,
    2.653_218_952_657_612_309_3e-2,
    1.242_660_947_388_078_438_6e-3,
    2.711_555_568_743_487_578_15e-5,
    2.010_334_399_292_288_132_65e-7,
];
#[allow(clippy::excessive_precision)]
const AS241_F: [f64; 8] = [
    1.0,
    5.998_322_065_558_879_376_9e-1,
    1.369_298_809_227_358_053_1e-1,
    1.487_536_129_085_061_485_25e-2,
    7.868_691_311_456_132_591e-4,
    1.846_318_317_510_054_681_8e-5,
    1.421_511_758_316_445_888_7e-7,
    2.044_263_103_389_939_785_64e-15,
];

/// Σ c_k·x^k by Horner's rule.
#[inline]
fn polynomial(c: &[f64; 8], x: f64) -> f64 {
    c.iter().rev().fold(0.0, |acc, &ck| acc * x + ck)
}

/// The standard normal quantile Φ⁻¹(p) by Wichura's AS 241 (relative error about 1e−16 over
/// the whole range; tested against 40-digit values to 1e−14). −∞ at p = 0, +∞ at p = 1, NaN
/// outside [0, 1]. For p ≥ 1/2 the upper tail 1 − p is exact in floating point (Sterbenz), so
/// the upper quantiles are as accurate as the lower ones.
pub fn normal_quantile(p: f64) -> f64 {
    if p.is_nan() || !(0.0..=1.0).contains(&p) {
        return f64::NAN;
    }
    if p == 0.0 {
        return f64::NEG_INFINITY;
    }
    if p == 1.0 {
        return f64::INFINITY;
    }
    let q = p - 0.5;
    if q.abs() <= 0.425 {
        let r = 0.180625 - q * q;
        return q * polynomial(&AS241_A, r) / polynomial(&AS241_B, r);
    }
    let tail = if q < 0.0 { p } else { 1.0 - p };
    let r = (-libm::log(tail)).sqrt();
    let z = if r <= 5.0 {
        let r = r - 1.6;
        polynomial(&AS241_C, r) / polynomial(&AS241_D, r)
    } else {
        let r = r - 5.0;
        polynomial(&AS241_E, r) / polynomial(&AS241_F, r)
    };
    if q < 0.0 { -z } else { z }
}

/// The one-sided p-value of H₀: mean ≤ 0 against mean > 0 for a z statistic: 1 − Φ(z).
#[inline]
pub fn p_upper(z: f64) -> f64 {
    normal_sf(z)
}

/// The two-sided p-value of H₀: mean = 0 for a z statistic: 2·(1 − Φ(|z|)).
#[inline]
pub fn p_two_sided(z: f64) -> f64 {
    (2.0 * normal_sf(z.abs())).min(1.0)
}

/// A confidence interval [low, high].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Interval {
    /// Lower end.
    pub low: f64,
    /// Upper end.
    pub high: f64,
}

impl Interval {
    /// Whether `x` lies in the closed interval.
    pub fn contains(&self, x: f64) -> bool {
        self.low <= x && x <= self.high
    }

    /// Whether the whole interval lies above 0.
    pub fn above_zero(&self) -> bool {
        self.low > 0.0
    }

    /// Whether the whole interval lies below 0.
    pub fn below_zero(&self) -> bool {
        self.high < 0.0
    }
}

/// The two-sided normal interval mean ± z·se at confidence `level` ∈ (0, 1), z = Φ⁻¹((1 +
/// level)/2) (1.959963984540054 at 0.95).
pub fn normal_interval(mean: f64, se: f64, level: f64) -> Interval {
    let z = normal_quantile(0.5 + 0.5 * level);
    Interval {
        low: mean - z * se,
        high: mean + z * se,
    }
}

/// The z statistic mean/se; ±∞ when se = 0 and mean ≠ 0, 0 when both are 0 (a quantity that
/// is constant over the replications: its sign decides).
pub fn z_statistic(mean: f64, se: f64) -> f64 {
    if se > 0.0 {
        mean / se
    } else if mean > 0.0 {
        f64::INFINITY
    } else if mean < 0.0 {
        f64::NEG_INFINITY
    } else {
        0.0
    }
}

/// A Welford accumulator's mean with its normal interval at `level`.
pub fn mean_interval(w: &Welford, level: f64) -> Interval {
    normal_interval(w.mean(), w.se(), level)
}

/// A paired comparison under common random numbers: the per-replication difference a − b of
/// one quantity under two mechanisms (or two cells) on the same draws, folded by Welford. Its SE
/// is the SE of the differences, which is what common random numbers make small; never combine
/// the two sides' own SEs as if they were independent.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct PairedDifference {
    /// The differences a − b.
    pub diff: Welford,
}

impl PairedDifference {
    /// Folds one replication's pair in.
    #[inline]
    pub fn push(&mut self, a: f64, b: f64) {
        self.diff.push(a - b);
    }

    /// Mean difference.
    pub fn mean(&self) -> f64 {
        self.diff.mean()
    }

    /// Standard error of the mean difference.
    pub fn se(&self) -> f64 {
        self.diff.se()
    }

    /// The normal interval of the mean difference at `level`.
    pub fn interval(&self, level: f64) -> Interval {
        mean_interval(&self.diff, level)
    }

    /// z = mean/se ([`z_statistic`]).
    pub fn z(&self) -> f64 {
        z_statistic(self.mean(), self.se())
    }

    /// One-sided p-value of H₀: E[a − b] ≤ 0.
    pub fn p_upper(&self) -> f64 {
        p_upper(self.z())
    }

    /// Two-sided p-value of H₀: E[a − b] = 0.
    pub fn p_two_sided(&self) -> f64 {
        p_two_sided(self.z())
    }
}

/// Indices of `p` in ascending order of p-value, ties by index; NaN counts as 1.
fn ascending(p: &[f64]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..p.len()).collect();
    order.sort_by(|&a, &b| clean(p[a]).total_cmp(&clean(p[b])).then(a.cmp(&b)));
    order
}

/// A p-value with NaN read as 1 (no evidence) and clamped to [0, 1].
fn clean(p: f64) -> f64 {
    if p.is_nan() { 1.0 } else { p.clamp(0.0, 1.0) }
}

/// Holm's step-down adjusted p-values: with p₍₁₎ ≤ … ≤ p₍ₘ₎,
/// p̃₍ₖ₎ = max_{j ≤ k} min(1, (m − j + 1)·p₍ⱼ₎), in the input's order. Rejecting every
/// hypothesis with p̃ ≤ α controls the family-wise error rate at α under **any** dependence
/// between the tests (it is Bonferroni's inequality applied step by step), so it is valid for
/// cells correlated through common random numbers. NaN p-values count as 1.
pub fn holm_adjusted(p: &[f64]) -> Vec<f64> {
    let m = p.len();
    let mut out = vec![0.0; m];
    let mut running = 0.0f64;
    for (k, &i) in ascending(p).iter().enumerate() {
        running = running.max(((m - k) as f64 * clean(p[i])).min(1.0));
        out[i] = running;
    }
    out
}

/// Holm's procedure at family-wise level `alpha`: which hypotheses are rejected.
pub fn holm(p: &[f64], alpha: f64) -> Vec<bool> {
    holm_adjusted(p).into_iter().map(|q| q <= alpha).collect()
}

/// Benjamini–Hochberg step-up adjusted p-values (q-values): with p₍₁₎ ≤ … ≤ p₍ₘ₎,
/// p̃₍ₖ₎ = min_{j ≥ k} min(1, m·p₍ⱼ₎/j), in the input's order. NaN p-values count as 1.
///
/// Rejecting every hypothesis with p̃ ≤ q controls the false discovery rate at q·m₀/m ≤ q when
/// the test statistics are independent or **positively regression dependent on the subset of
/// true nulls** (PRDS, Benjamini & Yekutieli 2001): roughly, when raising any true-null
/// statistic can only raise the others. One-sided z-tests whose statistics are jointly normal
/// with non-negative correlations are PRDS (e.g. the same one-sided contrast in cells that share
/// common random numbers, whose estimates are positively correlated). Two-sided tests, or
/// statistics with some negative correlations, are not guaranteed PRDS: use
/// [`benjamini_yekutieli_adjusted`] (valid under any dependence) or Holm there.
pub fn benjamini_hochberg_adjusted(p: &[f64]) -> Vec<f64> {
    step_up(p, 1.0)
}

/// Benjamini–Hochberg at false discovery rate `q` ([`benjamini_hochberg_adjusted`]; read its
/// PRDS condition).
pub fn benjamini_hochberg(p: &[f64], q: f64) -> Vec<bool> {
    benjamini_hochberg_adjusted(p)
        .into_iter()
        .map(|x| x <= q)
        .collect()
}

/// Benjamini–Yekutieli adjusted p-values: Benjamini–Hochberg's with m replaced by
/// m·(1 + 1/2 + … + 1/m), which controls the false discovery rate under arbitrary dependence.
pub fn benjamini_yekutieli_adjusted(p: &[f64]) -> Vec<f64> {
    let harmonic: f64 = (1..=p.len()).map(|j| 1.0 / j as f64).sum();
    step_up(p, harmonic.max(1.0))
}

/// The step-up adjustment min_{j ≥ k} min(1, factor·m·p₍ⱼ₎/j).
fn step_up(p: &[f64], factor: f64) -> Vec<f64> {
    let m = p.len();
    let mut out = vec![0.0; m];
    let mut running = 1.0f64;
    let order = ascending(p);
    for (k, &i) in order.iter().enumerate().rev() {
        running = running.min((factor * m as f64 * clean(p[i]) / (k + 1) as f64).min(1.0));
        out[i] = running;
    }
    out
}

/// The held-out estimate of an audit's ε: the best deviation is **chosen** on the selection
/// half of the replications (even indices) and its gain **estimated** on the other half (odd
/// indices), so the estimate is unbiased for the gain of the deviation named, free of the
/// winner's curse of the largest of many noisy means (which is biased upward). As an estimate
/// of `max_d E[gain_d]` it is conservative: when the selection half picks a deviation that is not
/// the best, its estimate targets that deviation's smaller gain.
#[derive(Clone, Debug, PartialEq)]
pub struct HeldOut {
    /// The deviation chosen: the largest selection-half mean (the lowest index among ties).
    pub best: usize,
    /// Every deviation whose selection-half mean is within the tie tolerance of the best's
    /// (the best included, ascending): these are named together, as ties.
    pub ties: Vec<usize>,
    /// The best's mean on the selection half (biased upward; shown for reference only).
    pub selection_mean: f64,
    /// The best's mean gain on the held-out half: the estimate of ε.
    pub estimate: f64,
    /// Its standard error (held-out half).
    pub se: f64,
    /// Its normal interval at the requested level.
    pub interval: Interval,
    /// One-sided p-value of H₀: the named deviation gains nothing (`E[gain] ≤ 0`).
    pub p_upper: f64,
    /// Replications in the held-out half.
    pub held_out_reps: u64,
}

/// Streams replications of per-deviation gains into the two halves of [`HeldOut`]: replication
/// r goes to the selection half if r is even, to the held-out half if odd, so extending a run
/// with more replications never moves one between halves.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HeldOutAccumulator {
    selection: Vec<Welford>,
    estimation: Vec<Welford>,
}

impl HeldOutAccumulator {
    /// An accumulator for `deviations` deviations.
    pub fn new(deviations: usize) -> Self {
        HeldOutAccumulator {
            selection: vec![Welford::default(); deviations],
            estimation: vec![Welford::default(); deviations],
        }
    }

    /// An accumulator from each deviation's two halves already folded (selection: the even
    /// replications, estimation: the odd ones), e.g. by callers that stream one deviation at a
    /// time.
    ///
    /// # Panics
    /// If the halves do not hold one accumulator per deviation each.
    pub fn from_halves(selection: Vec<Welford>, estimation: Vec<Welford>) -> Self {
        assert_eq!(
            selection.len(),
            estimation.len(),
            "one of each half per deviation"
        );
        HeldOutAccumulator {
            selection,
            estimation,
        }
    }

    /// Folds replication `replication`'s gains (one per deviation, in the accumulator's order).
    ///
    /// # Panics
    /// If `gains` does not hold one value per deviation.
    pub fn push(&mut self, replication: u64, gains: &[f64]) {
        assert_eq!(gains.len(), self.selection.len(), "one gain per deviation");
        let half = if replication.is_multiple_of(2) {
            &mut self.selection
        } else {
            &mut self.estimation
        };
        for (w, g) in half.iter_mut().zip(gains) {
            w.push(*g);
        }
    }

    /// The held-out estimate at confidence `level`; deviations whose selection-half means are
    /// within `tie_tolerance` (≥ 0; 0 names only exact ties, e.g. two rules that act alike in
    /// every campaign) of the best's are named as ties. `None` without deviations or with fewer
    /// than two replications in either half.
    pub fn finish(&self, level: f64, tie_tolerance: f64) -> Option<HeldOut> {
        let first = self.selection.first()?;
        if first.count < 2 || self.estimation[0].count < 2 {
            return None;
        }
        let mut best = 0;
        for (d, w) in self.selection.iter().enumerate() {
            if w.mean() > self.selection[best].mean() {
                best = d;
            }
        }
        let top = self.selection[best].mean();
        let ties = (0..self.selection.len())
            .filter(|&d| (top - self.selection[d].mean()).abs() <= tie_tolerance)
            .collect();
        let held = &self.estimation[best];
        Some(HeldOut {
            best,
            ties,
            selection_mean: top,
            estimate: held.mean(),
            se: held.se(),
            interval: mean_interval(held, level),
            p_upper: p_upper(z_statistic(held.mean(), held.se())),
            held_out_reps: held.count,
        })
    }
}

/// [`HeldOutAccumulator`] over a table of gains: `gains[r·deviations + d]` is deviation d's gain
/// in replication r (the layout of `deviation::gains` for one deviator).
pub fn held_out_best(
    gains: &[f64],
    deviations: usize,
    level: f64,
    tie_tolerance: f64,
) -> Option<HeldOut> {
    if deviations == 0 {
        return None;
    }
    let mut acc = HeldOutAccumulator::new(deviations);
    for (r, row) in gains.chunks_exact(deviations).enumerate() {
        acc.push(r as u64, row);
    }
    acc.finish(level, tie_tolerance)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Φ⁻¹ at double-precision p against 40-digit values (mpmath, the exact double's quantile).
    #[test]
    #[allow(clippy::excessive_precision)] // the references keep their digits
    fn quantiles_match_forty_digit_values() {
        let cases = [
            (0.975, 1.959963984540053855604),
            (0.995, 2.575829303548900453857),
            (0.6, 0.2533471031357997413247),
            (0.9, 1.281551565544600593487),
            (0.999, 3.090232306167813277758),
            (1e-10, -6.3613409024040561991),
            (1e-300, -37.04709629936119923655),
            (0.025, -1.95996398454005421178),
            (1e-5, -4.264890793922824610234),
            (0.3, -0.5244005127080408159695),
            (0.01, -2.326347874040841093075),
            (0.500000001, 2.506628203738711437643e-9),
            (0.999999999, 5.997807019601637426423),
            (1e-20, -9.262340089798407579572),
            (0.07, -1.475791028179170685609),
            (0.43, -0.1763741647808613387641),
        ];
        for (p, want) in cases {
            let got = normal_quantile(p);
            assert!(
                (got - want).abs() <= 1e-14 * want.abs().max(1e-300),
                "Φ⁻¹({p}) = {got}, want {want}"
            );
        }
        assert_eq!(normal_quantile(0.5), 0.0);
        assert_eq!(normal_quantile(0.0), f64::NEG_INFINITY);
        assert_eq!(normal_quantile(1.0), f64::INFINITY);
        assert!(normal_quantile(1.5).is_nan() && normal_quantile(f64::NAN).is_nan());
    }

    /// Φ and 1 − Φ against 40-digit values, in both tails.
    #[test]
    #[allow(clippy::excessive_precision)] // the references keep their digits
    fn tails_match_forty_digit_values() {
        let lower = [
            (-37.0, 5.725571222524576822683193e-300),
            (-10.0, 7.619853024160526065973343e-24),
            (-5.0, 2.866515718791939116737523e-7),
            (-1.96, 0.02499789514822043413658427),
            (-1.0, 0.1586552539314570514147675),
            (0.0, 0.5),
            (0.5, 0.6914624612740131036377046),
            (3.0, 0.9986501019683699054733482),
        ];
        for (x, want) in lower {
            let got = normal_cdf(x);
            assert!(
                (got - want).abs() <= 1e-13 * want,
                "Φ({x}) = {got}, want {want}"
            );
            let upper = normal_sf(-x);
            assert!(
                (upper - want).abs() <= 1e-13 * want,
                "1 − Φ({}) = {upper}",
                -x
            );
        }
        // Round trips over the whole range.
        for k in 1..1000 {
            let p = k as f64 / 1000.0;
            let back = normal_cdf(normal_quantile(p));
            assert!((back - p).abs() <= 1e-15 + 1e-14 * p, "{p} -> {back}");
        }
        assert!((p_two_sided(1.959963984540054) - 0.05).abs() < 1e-15);
        assert!((p_upper(1.6448536269514722) - 0.05).abs() < 1e-15);
    }

    /// Holm and Benjamini–Hochberg on the 15 p-values of Benjamini & Hochberg (1995, section
    /// 4.1): at 0.05 Holm (like Bonferroni) rejects 3, BH rejects 4. Adjusted values by hand.
    #[test]
    fn textbook_holm_and_bh() {
        let p = [
            0.0001, 0.0004, 0.0019, 0.0095, 0.0201, 0.0278, 0.0298, 0.0344, 0.0459, 0.3240, 0.4262,
            0.5719, 0.6528, 0.7590, 1.000,
        ];
        let holm_rejects = holm(&p, 0.05);
        assert_eq!(holm_rejects.iter().filter(|r| **r).count(), 3);
        assert!(holm_rejects[..3].iter().all(|r| *r));
        let bh = benjamini_hochberg(&p, 0.05);
        assert_eq!(bh.iter().filter(|r| **r).count(), 4);
        assert!(bh[..4].iter().all(|r| *r));
        // Holm: (m − j + 1)·p_(j), running maximum, capped at 1.
        let holm_want = [
            0.0015, 0.0056, 0.0247, 0.114, 0.2211, 0.278, 0.278, 0.278, 0.3213, 1.0, 1.0, 1.0, 1.0,
            1.0, 1.0,
        ];
        // BH: m·p_(j)/j, running minimum from the top.
        let bh_want = [
            0.0015,
            0.003,
            0.0095,
            0.035625,
            0.0603,
            0.0298 * 15.0 / 7.0,
            0.0298 * 15.0 / 7.0,
            0.0645,
            0.0765,
            0.486,
            0.4262 * 15.0 / 11.0,
            0.5719 * 15.0 / 12.0,
            0.6528 * 15.0 / 13.0,
            0.7590 * 15.0 / 14.0,
            1.0,
        ];
        for ((a, b), (c, d)) in holm_adjusted(&p)
            .iter()
            .zip(holm_want)
            .zip(benjamini_hochberg_adjusted(&p).iter().zip(bh_want))
        {
            assert!(
                (a - b).abs() < 1e-12 && (c - d).abs() < 1e-12,
                "{a} {b} {c} {d}"
            );
        }
        // Order does not matter; NaN counts as 1.
        let shuffled = [0.04, 0.01, f64::NAN, 0.005, 0.03];
        let h = holm_adjusted(&shuffled);
        for (a, b) in h.iter().zip([0.09, 0.04, 1.0, 0.025, 0.09]) {
            assert!((a - b).abs() < 1e-15, "{h:?}");
        }
        assert_eq!(holm(&shuffled, 0.05), vec![false, true, false, true, false]);
        // BY is BH with m·(1 + 1/2 + … + 1/m).
        let by = benjamini_yekutieli_adjusted(&[0.01, 0.02]);
        assert!(
            (by[0] - 0.03).abs() < 1e-15 && (by[1] - 0.03).abs() < 1e-15,
            "{by:?}"
        );
        assert!(holm_adjusted(&[]).is_empty() && benjamini_hochberg_adjusted(&[]).is_empty());
    }

    #[test]
    fn paired_difference_intervals() {
        let mut d = PairedDifference::default();
        for (a, b) in [(1.0, 0.5), (2.0, 1.0), (3.0, 2.5), (4.0, 3.0)] {
            d.push(a, b);
        }
        // differences 0.5, 1, 0.5, 1: mean 0.75, s² = 1/12, se = √(1/48)
        let se = (1.0f64 / 48.0).sqrt();
        assert!((d.mean() - 0.75).abs() < 1e-15 && (d.se() - se).abs() < 1e-15);
        let ci = d.interval(0.95);
        assert!((ci.low - (0.75 - 1.959963984540054 * se)).abs() < 1e-14);
        assert!(ci.above_zero() && ci.contains(0.75) && !ci.below_zero());
        assert!((d.z() - 0.75 / se).abs() < 1e-12);
        assert_eq!(z_statistic(0.0, 0.0), 0.0);
        assert_eq!(z_statistic(1.0, 0.0), f64::INFINITY);
        assert_eq!(p_upper(f64::INFINITY), 0.0);
    }

    /// Ties are named, the lowest index is chosen, the estimate comes from odd replications only.
    #[test]
    fn held_out_names_ties_and_uses_the_other_half() {
        // Deviations 1 and 2 identical; replication r's gains.
        let rows = [
            [0.0, 1.0, 1.0, 0.5],
            [0.0, 3.0, 3.0, 9.0],
            [0.0, 1.2, 1.2, 0.5],
            [0.0, 5.0, 5.0, 9.0],
        ];
        let flat: Vec<f64> = rows.iter().flatten().copied().collect();
        let h = held_out_best(&flat, 4, 0.95, 0.0).unwrap();
        assert_eq!((h.best, h.ties.clone()), (1, vec![1, 2]));
        assert!((h.selection_mean - 1.1).abs() < 1e-15 && (h.estimate - 4.0).abs() < 1e-15);
        assert_eq!(h.held_out_reps, 2);
        assert!((h.se - 1.0).abs() < 1e-15);
        assert!(held_out_best(&flat[..8], 4, 0.95, 0.0).is_none());
    }
}
