//! Streaming statistics over replications: means and standard errors (Welford), per-cell
//! summaries, and the S-vs-M and M-vs-C diagnostics of `docs/model.md`. Replications are folded in
//! replication order, so results do not depend on threads.

use crate::settle::{Outcome, Status};

/// Minimum common-success count below which the S-vs-M cost gap is masked.
pub const MIN_COMMON_SUCCESSES: u64 = 30;

/// Running mean and variance (Welford).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Welford {
    /// Number of values folded in.
    pub count: u64,
    mean: f64,
    m2: f64,
}

impl Welford {
    /// The running state (count, mean, sum of squared deviations from the mean), to store it
    /// and rebuild it bit for bit with [`Welford::from_parts`] (the audit's resume records).
    pub fn parts(&self) -> (u64, f64, f64) {
        (self.count, self.mean, self.m2)
    }

    /// The accumulator whose [`Welford::parts`] are these.
    pub fn from_parts(count: u64, mean: f64, m2: f64) -> Welford {
        Welford { count, mean, m2 }
    }

    /// Folds one value in.
    #[inline]
    pub fn push(&mut self, x: f64) {
        self.count += 1;
        let delta = x - self.mean;
        self.mean += delta / self.count as f64;
        self.m2 += delta * (x - self.mean);
    }

    /// Mean (0 when empty).
    pub fn mean(&self) -> f64 {
        self.mean
    }

    /// Standard error of the mean, s/√count with the unbiased s (0 when count < 2).
    pub fn se(&self) -> f64 {
        if self.count < 2 {
            0.0
        } else {
            (self.m2 / (self.count - 1) as f64 / self.count as f64).sqrt()
        }
    }
}

/// `N` running means and variances that share one count (they have all folded in the same
/// number of values), as a structure of arrays: the count, then every mean, then every m2.
/// [`WelfordLanes::push`] folds one value into each with [`Welford::push`]'s arithmetic, in the
/// same order (δ = x − mean; mean += δ/count; m2 += δ·(x − mean)), so every mean and m2 is bit
/// for bit what pushing them one by one gives; the count is incremented and converted once, and
/// with the means and m2s contiguous the subtractions, divisions and products pack two to an
/// SSE2 register (no fused multiply-add on plain x86-64: each lane rounds as the scalar
/// operation does).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct WelfordLanes<const N: usize> {
    count: u64,
    mean: [f64; N],
    m2: [f64; N],
}

impl<const N: usize> Default for WelfordLanes<N> {
    fn default() -> Self {
        WelfordLanes {
            count: 0,
            mean: [0.0; N],
            m2: [0.0; N],
        }
    }
}

impl<const N: usize> WelfordLanes<N> {
    /// Folds one value into each accumulator: `x[i]` into accumulator `i`.
    #[inline]
    pub fn push(&mut self, x: [f64; N]) {
        self.count += 1;
        let n = self.count as f64;
        for ((mean, m2), x) in self.mean.iter_mut().zip(&mut self.m2).zip(x) {
            let delta = x - *mean;
            *mean += delta / n;
            *m2 += delta * (x - *mean);
        }
    }

    /// Values folded into each accumulator.
    #[inline]
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Accumulator `i`, as a [`Welford`].
    #[inline]
    pub fn get(&self, i: usize) -> Welford {
        Welford {
            count: self.count,
            mean: self.mean[i],
            m2: self.m2[i],
        }
    }
}

/// Running means and variances that all share one count, as many as the caller needs (a cell
/// round's statistics of every mechanism, its paired contrasts and its Pareto diagnostics: each
/// replication folds one value into every one of them), as a structure of arrays: the count,
/// every mean, every m2. [`WelfordBank::push`] is [`WelfordLanes::push`] over a run-time number
/// of accumulators: [`Welford::push`]'s operations, accumulator by accumulator in the same order
/// (δ = x − mean; mean += δ/count; m2 += δ·(x − mean)), the count incremented and converted once;
/// the loop over the accumulators is compiled for the instruction set `isa` names (four or
/// eight accumulators per vector operation under AVX2 or AVX-512, two on the baseline's SSE2),
/// each lane rounding as the scalar operation does (no fused multiply-add is formed), so every
/// mean and m2 is bit for bit what pushing them one by one gives.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WelfordBank {
    count: u64,
    mean: Vec<f64>,
    m2: Vec<f64>,
}

impl WelfordBank {
    /// `accumulators` empty accumulators.
    pub fn new(accumulators: usize) -> WelfordBank {
        WelfordBank {
            count: 0,
            mean: vec![0.0; accumulators],
            m2: vec![0.0; accumulators],
        }
    }

    /// How many accumulators it holds.
    pub fn len(&self) -> usize {
        self.mean.len()
    }

    /// Whether it holds no accumulator.
    pub fn is_empty(&self) -> bool {
        self.mean.is_empty()
    }

    /// Values folded into each accumulator.
    #[inline]
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Folds `x[i]` into accumulator `i`, for every accumulator (`x` holds one value for each),
    /// compiled for `isa` (the same bits under every instruction set).
    #[inline(always)]
    pub fn push(&mut self, x: &[f64], isa: crate::lanes::Isa) {
        assert_eq!(x.len(), self.mean.len(), "one value per accumulator");
        self.count += 1;
        let n = self.count as f64;
        let (mean, m2) = (&mut self.mean[..], &mut self.m2[..]);
        crate::lanes::run(
            isa,
            #[inline(always)]
            |_| welford_update(n, mean, m2, x),
        );
    }

    /// Accumulator `i`, as a [`Welford`].
    #[inline]
    pub fn get(&self, i: usize) -> Welford {
        Welford {
            count: self.count,
            mean: self.mean[i],
            m2: self.m2[i],
        }
    }

    /// The `N` accumulators from `start`, as [`WelfordLanes`].
    pub fn lanes<const N: usize>(&self, start: usize) -> WelfordLanes<N> {
        WelfordLanes {
            count: self.count,
            mean: std::array::from_fn(|i| self.mean[start + i]),
            m2: std::array::from_fn(|i| self.m2[start + i]),
        }
    }
}

/// Runs `kernel` compiled for the instruction set `isa` (as the lane kernels are: inlined into
/// a function with its target features enabled, so LLVM may use its wider registers), for a
/// fold's loops written in other crates: a closure passed here must be `#[inline(always)]`, or
/// it is called as baseline code. Compiled for any instruction set, the code computes the same
/// bits (no fused multiply-add is formed).
#[inline(always)]
pub fn compiled_for<R>(isa: crate::lanes::Isa, kernel: impl FnOnce() -> R) -> R {
    crate::lanes::run(
        isa,
        #[inline(always)]
        move |_| kernel(),
    )
}

/// [`Welford::push`] of `x[i]` into the accumulator (`mean[i]`, `m2[i]`) for every `i`, when
/// each has folded in `n` values with this one: the same operations in the same order.
#[inline(always)]
fn welford_update(n: f64, mean: &mut [f64], m2: &mut [f64], x: &[f64]) {
    for ((mean, m2), &x) in mean.iter_mut().zip(m2).zip(x) {
        let delta = x - *mean;
        *mean += delta / n;
        *m2 += delta * (x - *mean);
    }
}

/// Per cell and mechanism: every core statistic's mean and standard error, read by the
/// statistic (`stats.get(Stat::Welfare)`). The statistics share one count and are held as a
/// structure of arrays ([`WelfordLanes`]), so a campaign's nine updates pack.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CellStats {
    by_stat: WelfordLanes<{ Stat::ALL.len() }>,
}

impl CellStats {
    /// Folds one campaign's outcome in: each statistic's declared value.
    #[inline]
    pub fn push(&mut self, o: &Outcome) {
        self.push_values(Stat::values(o));
    }

    /// Folds in one campaign's values of every statistic ([`Stat::values`]), all accumulators
    /// together ([`WelfordLanes::push`]).
    #[inline]
    pub fn push_values(&mut self, values: [f64; Stat::ALL.len()]) {
        self.by_stat.push(values);
    }

    /// Replications folded in.
    pub fn reps(&self) -> u64 {
        self.by_stat.count()
    }

    /// The running statistics of `stat`.
    #[inline]
    pub fn get(&self, stat: Stat) -> Welford {
        self.by_stat.get(stat.index())
    }

    /// The statistics `bank` holds from `start`, in [`Stat::FOLDED`]'s order (as
    /// [`Stat::folded_values`] gives a campaign's values).
    pub fn from_bank(bank: &WelfordBank, start: usize) -> CellStats {
        let folded = bank.lanes::<{ Stat::ALL.len() }>(start);
        let mut by_stat = WelfordLanes {
            count: folded.count,
            ..WelfordLanes::default()
        };
        for (j, stat) in Stat::FOLDED.into_iter().enumerate() {
            by_stat.mean[stat.index()] = folded.mean[j];
            by_stat.m2[stat.index()] = folded.m2[j];
        }
        CellStats { by_stat }
    }
}

/// Per cell: the S-vs-M cost-efficiency and M-vs-C Pareto diagnostics.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DiagnosticStats {
    /// Replications folded in.
    pub reps: u64,
    /// Count of replications where S succeeds and k ≥ 2.
    pub s_success_k2: u64,
    /// Count of replications where M succeeds and k ≥ 2.
    pub m_success_k2: u64,
    /// PC^M − PC^S over replications where both succeed and k ≥ 2.
    pub pc_gap: Welford,
    /// Per replication, sharing one count: the share of users with u^M_i < u^C_i (accumulator
    /// 0) and (1/n)·Σ max(0, u^C_i − u^M_i) (accumulator 1).
    pub pareto: WelfordLanes<2>,
}

/// The finished diagnostics of one cell; `None` where a mechanism is missing or masked.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Diagnostics {
    /// Replications folded in.
    pub reps: u64,
    /// Share of replications where S succeeds with k ≥ 2 (`None` without S).
    pub s_success_k2: Option<f64>,
    /// Share of replications where M succeeds with k ≥ 2 (`None` without M).
    pub m_success_k2: Option<f64>,
    /// Replications where both S and M succeed with k ≥ 2 (`None` unless both run).
    pub common_success_k2: Option<u64>,
    /// Mean of PC^M − PC^S over those common successes (`None` below [`MIN_COMMON_SUCCESSES`]).
    pub pc_gap_mean: Option<f64>,
    /// Standard error of `pc_gap_mean`.
    pub pc_gap_se: Option<f64>,
    /// Mean share of users with U^M_i < U^C_i (`None` unless C and M run).
    pub pareto_loss_share: Option<f64>,
    /// Standard error of `pareto_loss_share`.
    pub pareto_loss_share_se: Option<f64>,
    /// Mean of (1/n)·Σ max(0, U^C_i − U^M_i): the compensation making M Pareto-improve on C.
    pub pareto_compensation: Option<f64>,
    /// Standard error of `pareto_compensation`.
    pub pareto_compensation_se: Option<f64>,
}

impl DiagnosticStats {
    /// Folds one replication. `s`, `m` are the S and M outcomes (if run); `payoff_c`, `payoff_m`
    /// the per-user utilities of C and M (if run).
    pub fn push(
        &mut self,
        s: Option<&Outcome>,
        m: Option<&Outcome>,
        payoff_c: Option<&[f64]>,
        payoff_m: Option<&[f64]>,
    ) {
        self.push_outcomes(s, m);
        self.push_pareto(payoff_c, payoff_m);
    }

    /// The M-vs-C Pareto diagnostics of one replication (both accumulators share one count).
    #[inline]
    fn push_pareto(&mut self, payoff_c: Option<&[f64]>, payoff_m: Option<&[f64]>) {
        if let (Some(uc), Some(um)) = (payoff_c, payoff_m) {
            let n = uc.len().max(1) as f64;
            let (losers, compensation) = pareto_losses_scalar(uc, um, 0, 0, 0.0);
            self.pareto.push([losers as f64 / n, compensation / n]);
        }
    }

    /// [`DiagnosticStats::push`] without the Pareto diagnostics (their accumulators are folded
    /// elsewhere, with [`pareto_values`]).
    #[inline]
    pub fn push_outcomes(&mut self, s: Option<&Outcome>, m: Option<&Outcome>) {
        self.reps += 1;
        // k is common to S and M: both water-fill the same observed costs.
        let k2 = |o: &Outcome| o.backstoppers >= 2;
        let s_ok = s.is_some_and(|o| o.success() && k2(o));
        let m_ok = m.is_some_and(|o| o.success() && k2(o));
        self.s_success_k2 += s_ok as u64;
        self.m_success_k2 += m_ok as u64;
        if let (true, true, Some(s), Some(m)) = (s_ok, m_ok, s, m) {
            self.pc_gap.push(m.privacy_cost - s.privacy_cost);
        }
    }

    /// The cell's diagnostics, given which of S, M and C ran; masks what is missing or too rare.
    pub fn finish(&self, has_s: bool, has_m: bool, has_c: bool) -> Diagnostics {
        let reps = self.reps.max(1) as f64;
        let both = has_s && has_m;
        let masked = self.pc_gap.count < MIN_COMMON_SUCCESSES;
        let pareto = has_c && has_m;
        let (loss, compensation) = (self.pareto.get(0), self.pareto.get(1));
        Diagnostics {
            reps: self.reps,
            s_success_k2: has_s.then(|| self.s_success_k2 as f64 / reps),
            m_success_k2: has_m.then(|| self.m_success_k2 as f64 / reps),
            common_success_k2: both.then_some(self.pc_gap.count),
            pc_gap_mean: (both && !masked).then(|| self.pc_gap.mean()),
            pc_gap_se: (both && !masked).then(|| self.pc_gap.se()),
            pareto_loss_share: pareto.then(|| loss.mean()),
            pareto_loss_share_se: pareto.then(|| loss.se()),
            pareto_compensation: pareto.then(|| compensation.mean()),
            pareto_compensation_se: pareto.then(|| compensation.se()),
        }
    }
}

/// One replication's values of the M-vs-C Pareto diagnostics, from the users' payoffs under C
/// (`uc`) and M (`um`): the share of users with u^C_i − u^M_i > 1e-12 and (1/n)·Σ of those
/// losses, the sum taken in user order from +0.0 with +0.0 added for every other user — the
/// values [`DiagnosticStats::push`] folds, bit for bit. Compiled for `isa`: the differences and
/// comparisons of four users at once (two on the baseline), the sum still one addition per user
/// in user order.
#[inline(always)]
pub fn pareto_values(uc: &[f64], um: &[f64], isa: crate::lanes::Isa) -> [f64; 2] {
    let n = uc.len().max(1) as f64;
    let users = uc.len().min(um.len());
    let (uc, um) = (&uc[..users], &um[..users]);
    let (losers, compensation) = pareto_losses(uc, um, isa);
    [losers as f64 / n, compensation / n]
}

/// The number of users with `uc[i] − um[i] > 1e-12` and the sum of those differences in user
/// order (+0.0 added for the others), `uc` and `um` of one length.
#[inline(always)]
fn pareto_losses(uc: &[f64], um: &[f64], isa: crate::lanes::Isa) -> (usize, f64) {
    #[cfg(target_arch = "x86_64")]
    {
        use crate::lanes::Isa;
        if matches!(isa, Isa::Avx2 | Isa::Avx512) {
            assert!(std::arch::is_x86_feature_detected!("avx2"));
            // SAFETY: the CPU runs AVX2 (checked above; AVX-512F implies it).
            return unsafe { pareto_x86::losses_avx2(uc, um) };
        }
        // SSE2 is part of x86-64.
        pareto_x86::losses_sse2(uc, um)
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = isa;
        pareto_losses_scalar(uc, um, 0, 0, 0.0)
    }
}

/// The Pareto losses of users `from..` added to `losers` and `compensation` one by one (the
/// scalar loop of [`DiagnosticStats::push`]; the vector loops' tail).
#[inline(always)]
fn pareto_losses_scalar(
    uc: &[f64],
    um: &[f64],
    from: usize,
    mut losers: usize,
    mut compensation: f64,
) -> (usize, f64) {
    for (c, m) in uc[from..].iter().zip(&um[from..]) {
        let loss = c - m;
        let loses = loss > 1e-12;
        losers += loses as usize;
        compensation += if loses { loss } else { 0.0 };
    }
    (losers, compensation)
}

/// The Pareto losses with vector registers: each user's difference and comparison as the
/// scalar loop computes them (`loss > 1e-12` is `_CMP_GT_OQ`: false for NaN), the kept loss an
/// and of the all-ones or zero mask (the loss or +0.0), added to the sum lane by lane in user
/// order.
#[cfg(target_arch = "x86_64")]
mod pareto_x86 {
    use std::arch::x86_64::*;

    /// Four users at a time (AVX2).
    ///
    /// # Safety
    /// The CPU must run AVX2.
    #[inline]
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn losses_avx2(uc: &[f64], um: &[f64]) -> (usize, f64) {
        let users = uc.len().min(um.len());
        let threshold = _mm256_set1_pd(1e-12);
        let mut count = _mm256_setzero_si256();
        let mut compensation = 0.0f64;
        let mut i = 0;
        while i + 4 <= users {
            // SAFETY: i + 4 ≤ users ≤ both lengths.
            let (c, m) = unsafe {
                (
                    _mm256_loadu_pd(uc.as_ptr().add(i)),
                    _mm256_loadu_pd(um.as_ptr().add(i)),
                )
            };
            let loss = _mm256_sub_pd(c, m);
            let loses = _mm256_cmp_pd::<_CMP_GT_OQ>(loss, threshold);
            // A loser's mask is all ones, −1 as an integer.
            count = _mm256_sub_epi64(count, _mm256_castpd_si256(loses));
            let kept = _mm256_and_pd(loses, loss);
            let (lo, hi) = (
                _mm256_castpd256_pd128(kept),
                _mm256_extractf128_pd::<1>(kept),
            );
            compensation += _mm_cvtsd_f64(lo);
            compensation += _mm_cvtsd_f64(_mm_unpackhi_pd(lo, lo));
            compensation += _mm_cvtsd_f64(hi);
            compensation += _mm_cvtsd_f64(_mm_unpackhi_pd(hi, hi));
            i += 4;
        }
        let mut lanes = [0u64; 4];
        // SAFETY: `lanes` holds 32 bytes.
        unsafe { _mm256_storeu_si256(lanes.as_mut_ptr().cast(), count) };
        let losers = lanes.iter().sum::<u64>() as usize;
        super::pareto_losses_scalar(uc, um, i, losers, compensation)
    }

    /// Two users at a time (SSE2, part of x86-64).
    #[inline(always)]
    pub(super) fn losses_sse2(uc: &[f64], um: &[f64]) -> (usize, f64) {
        let users = uc.len().min(um.len());
        // SAFETY (every intrinsic below): SSE2 is part of x86-64; the loads read users i and
        // i + 1 < users of both slices.
        unsafe {
            let threshold = _mm_set1_pd(1e-12);
            let mut count = _mm_setzero_si128();
            let mut compensation = 0.0f64;
            let mut i = 0;
            while i + 2 <= users {
                let c = _mm_loadu_pd(uc.as_ptr().add(i));
                let m = _mm_loadu_pd(um.as_ptr().add(i));
                let loss = _mm_sub_pd(c, m);
                let loses = _mm_cmpgt_pd(loss, threshold);
                count = _mm_sub_epi64(count, _mm_castpd_si128(loses));
                let kept = _mm_and_pd(loses, loss);
                compensation += _mm_cvtsd_f64(kept);
                compensation += _mm_cvtsd_f64(_mm_unpackhi_pd(kept, kept));
                i += 2;
            }
            let mut lanes = [0u64; 2];
            _mm_storeu_si128(lanes.as_mut_ptr().cast(), count);
            let losers = (lanes[0] + lanes[1]) as usize;
            super::pareto_losses_scalar(uc, um, i, losers, compensation)
        }
    }
}

/// Whether a statistic is better when higher or when lower (the `contrasts` table's
/// `{stem}_a_better` counts the replications where A is strictly better).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Better {
    /// Higher is better (success, welfare, data).
    Higher,
    /// Lower is better (privacy cost, subsidy, withdrawals).
    Lower,
}

/// How the `contrasts` table compares a statistic: which way is better, and the words its
/// column descriptions are made of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Contrast {
    /// Which way is better (`{stem}_a_better` counts the replications where A is strictly better).
    pub better: Better,
    /// What is differenced, as `{stem}_diff`'s description names it: "the privacy cost borne".
    pub of: &'static str,
    /// When A is strictly better, as `{stem}_a_better`'s description says it: "A paid less than B".
    pub a_better: &'static str,
}

/// How the `rounds` table (one row per campaign) gives a statistic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RoundsColumn {
    /// A `Float64` column named by the stem, with this description.
    Real(&'static str),
    /// A `UInt32` column (a count) named by the stem, with this description.
    Count(&'static str),
    /// No column of its own: the campaign's `status` says it (success, null outcome).
    Status,
}

/// The declaration of one outcome statistic: what it reads from a campaign's [`Outcome`],
/// the columns it makes in the `cells`, `rounds` and `contrasts` tables (names, descriptions),
/// and whether (and which way) the `contrasts` table compares it. The one place a core
/// statistic is written: [`CellStats`], the simulator's paired contrasts, the trace's column
/// declarations, the runner's rows, `datapact diff`, the report and the scenario reader's lists
/// of metrics iterate [`Stat::ALL`] and read these fields by name.
#[derive(Clone, Copy, Debug)]
pub struct StatSpec {
    /// Its stem: `welfare`. Its `rounds` column is `{stem}`, its contrast columns are
    /// `{stem}_diff`, `{stem}_diff_se` and `{stem}_a_better`.
    pub stem: &'static str,
    /// Its `cells` column, the mean over the replications: `welfare_mean`, `success_rate`.
    pub column: &'static str,
    /// Its standard-error column in `cells` (`{stem}_se`, described as "Standard error of
    /// {column}."), or `None` when none is written.
    pub se_column: Option<&'static str>,
    /// Its value in one campaign's outcome.
    pub value: fn(&Outcome) -> f64,
    /// `Some` when the `contrasts` table compares it; `None` when it does not.
    pub contrast: Option<Contrast>,
    /// What it is, as the report labels it.
    pub label: &'static str,
    /// The description of its `cells` column (the trace's field metadata and `docs/schema.md`).
    pub doc: &'static str,
    /// Its column in the `rounds` table.
    pub rounds: RoundsColumn,
}

impl StatSpec {
    /// Which way is better, when the `contrasts` table compares it.
    pub const fn better(&self) -> Option<Better> {
        match self.contrast {
            Some(c) => Some(c.better),
            None => None,
        }
    }
}

/// A core outcome statistic of the `cells` table. Declared once, in [`Stat::spec`]; plugin
/// metrics join the tables at run time after these (`{name}_mean`, `{name}_se`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Stat {
    /// The success indicator 1{success}: its mean is the success rate.
    Success,
    /// Welfare W.
    Welfare,
    /// Privacy cost borne, Σ κ(c^w_i, x_i).
    PrivacyCost,
    /// Payments made.
    Subsidy,
    /// Payments made without improvement.
    Leakage,
    /// Data kept for training.
    Data,
    /// Number of users who withdrew.
    Withdrawals,
    /// The null-outcome indicator: its mean is the null rate.
    Null,
    /// Backstoppers k (users assigned below their cap).
    Backstoppers,
}

/// How many statistics [`Stat::CONTRASTED`] holds (checked when compiling).
const N_CONTRASTED: usize = 6;
/// How many statistics [`Stat::WITH_SE`] holds (checked when compiling).
const N_WITH_SE: usize = 7;

impl Stat {
    /// Every core statistic, in the `cells` table's column order.
    pub const ALL: [Stat; 9] = [
        Stat::Success,
        Stat::Welfare,
        Stat::PrivacyCost,
        Stat::Subsidy,
        Stat::Leakage,
        Stat::Data,
        Stat::Withdrawals,
        Stat::Null,
        Stat::Backstoppers,
    ];

    /// The statistics with a standard-error column, in column order: what an adaptive rule or
    /// a search may target.
    pub const WITH_SE: [Stat; N_WITH_SE] = Stat::filtered(true);

    /// The statistics the `contrasts` table compares, in its column order.
    pub const CONTRASTED: [Stat; N_CONTRASTED] = Stat::filtered(false);

    /// The declaration of each statistic: adding one is a variant, its arm here (its columns
    /// follow) and its place in [`Stat::ALL`].
    pub const fn spec(self) -> StatSpec {
        use Better::{Higher, Lower};
        match self {
            Stat::Success => StatSpec {
                stem: "success",
                column: "success_rate",
                se_column: Some("success_se"),
                value: |o| o.success() as u8 as f64,
                contrast: Some(Contrast {
                    better: Higher,
                    of: "the success indicator 1{success}",
                    a_better: "A succeeded and B did not",
                }),
                label: "success probability",
                doc: "Fraction of replications whose campaign succeeded (the model improved).",
                rounds: RoundsColumn::Status,
            },
            Stat::Welfare => StatSpec {
                stem: "welfare",
                column: "welfare_mean",
                se_column: Some("welfare_se"),
                value: |o| o.welfare,
                contrast: Some(Contrast {
                    better: Higher,
                    of: "welfare",
                    a_better: "A's welfare exceeds B's",
                }),
                label: "mean welfare per campaign",
                doc: "Mean social welfare per campaign: n·V·1{success} minus the privacy cost borne.",
                rounds: RoundsColumn::Real(
                    "Social welfare of the campaign: n·V·1{success} minus the privacy cost borne.",
                ),
            },
            Stat::PrivacyCost => StatSpec {
                stem: "privacy_cost",
                column: "privacy_cost_mean",
                se_column: Some("privacy_cost_se"),
                value: |o| o.privacy_cost,
                contrast: Some(Contrast {
                    better: Lower,
                    of: "the privacy cost borne",
                    a_better: "A's privacy cost is below B's",
                }),
                label: "mean privacy cost per campaign",
                doc: "Mean total privacy cost actually borne by users per campaign.",
                rounds: RoundsColumn::Real("Total privacy cost actually borne by users."),
            },
            Stat::Subsidy => StatSpec {
                stem: "subsidy",
                column: "subsidy_mean",
                se_column: Some("subsidy_se"),
                value: |o| o.subsidy,
                contrast: Some(Contrast {
                    better: Lower,
                    of: "the subsidy paid",
                    a_better: "A paid less than B",
                }),
                label: "mean subsidy per campaign",
                doc: "Mean total payment made by the provider per campaign.",
                rounds: RoundsColumn::Real("Total payment made by the provider."),
            },
            // Not contrasted: S and M never leak.
            Stat::Leakage => StatSpec {
                stem: "leakage",
                column: "leakage_mean",
                se_column: Some("leakage_se"),
                value: |o| o.leakage,
                contrast: None,
                label: "mean leakage per campaign",
                doc: "Mean subsidy paid in campaigns where the model did not improve.",
                rounds: RoundsColumn::Real("Subsidy paid although the model did not improve."),
            },
            Stat::Data => StatSpec {
                stem: "data",
                column: "data_mean",
                se_column: Some("data_se"),
                value: |o| o.data,
                contrast: Some(Contrast {
                    better: Higher,
                    of: "the data kept",
                    a_better: "A kept more data than B",
                }),
                label: "mean data kept per campaign",
                doc: "Mean total data kept for training per campaign (units of data).",
                rounds: RoundsColumn::Real("Total data kept for training (units of data)."),
            },
            Stat::Withdrawals => StatSpec {
                stem: "withdrawals",
                column: "withdrawals_mean",
                se_column: Some("withdrawals_se"),
                value: |o| o.withdrawals as f64,
                contrast: Some(Contrast {
                    better: Lower,
                    of: "the number of withdrawals",
                    a_better: "fewer users withdrew under A than under B",
                }),
                label: "mean withdrawals per campaign",
                doc: "Mean number of users who withdrew per campaign.",
                rounds: RoundsColumn::Count("Number of users who withdrew."),
            },
            Stat::Null => StatSpec {
                stem: "null",
                column: "null_rate",
                se_column: None,
                value: |o| (o.status == Status::Null) as u8 as f64,
                contrast: None,
                label: "null-outcome probability",
                doc: "Fraction of replications that ended in a null outcome (unsustainable: no data, no payment).",
                rounds: RoundsColumn::Status,
            },
            Stat::Backstoppers => StatSpec {
                stem: "backstoppers",
                column: "backstoppers_mean",
                se_column: None,
                value: |o| o.backstoppers as f64,
                contrast: None,
                label: "mean backstoppers per campaign",
                doc: "Mean number of backstoppers per campaign (users assigned a burden below their cap).",
                rounds: RoundsColumn::Count(
                    "Number of backstoppers: users whose assigned burden is below their cap.",
                ),
            },
        }
    }

    /// The statistics of [`Stat::ALL`] with an SE column (`se`) or contrasted (`!se`), in order;
    /// compiling fails if the count is not the array's length.
    const fn filtered<const N: usize>(se: bool) -> [Stat; N] {
        let mut out = [Stat::Success; N];
        let (mut i, mut k) = (0, 0);
        while i < Stat::ALL.len() {
            let s = Stat::ALL[i].spec();
            if (se && s.se_column.is_some()) || (!se && s.contrast.is_some()) {
                out[k] = Stat::ALL[i];
                k += 1;
            }
            i += 1;
        }
        assert!(
            k == N,
            "N_WITH_SE or N_CONTRASTED disagrees with the declarations"
        );
        out
    }

    /// Every statistic's value in one campaign's outcome, in [`Stat::ALL`]'s order.
    #[inline]
    pub fn values(o: &Outcome) -> [f64; Stat::ALL.len()] {
        values_by(&VALUE_OF_ALL, o)
    }

    /// The statistics in the order a fused fold holds them (a cell round's statistics folded
    /// together, [`CellStats::from_bank`]): the contrasted ones in [`Stat::CONTRASTED`]'s order,
    /// then the others in [`Stat::ALL`]'s, so that a campaign's contrasted values are contiguous.
    pub const FOLDED: [Stat; Stat::ALL.len()] = Stat::folded();

    /// Every statistic's value in one campaign's outcome, in [`Stat::FOLDED`]'s order.
    #[inline]
    pub fn folded_values(o: &Outcome) -> [f64; Stat::ALL.len()] {
        values_by(&VALUE_OF_FOLDED, o)
    }

    /// [`Stat::FOLDED`]: [`Stat::CONTRASTED`], then the rest of [`Stat::ALL`] in order.
    const fn folded() -> [Stat; Stat::ALL.len()] {
        let mut out = [Stat::Success; Stat::ALL.len()];
        let mut k = 0;
        while k < N_CONTRASTED {
            out[k] = Stat::CONTRASTED[k];
            k += 1;
        }
        let mut i = 0;
        while i < Stat::ALL.len() {
            if Stat::ALL[i].spec().contrast.is_none() {
                out[k] = Stat::ALL[i];
                k += 1;
            }
            i += 1;
        }
        out
    }

    /// Its position in [`Stat::ALL`] (and in [`CellStats`]).
    pub const fn index(self) -> usize {
        self as usize
    }

    /// Its position in [`Stat::CONTRASTED`], or `None` when it is not contrasted.
    pub fn contrast_index(self) -> Option<usize> {
        Stat::CONTRASTED.iter().position(|s| *s == self)
    }

    /// Its `cells` column, as written in scenario files (`welfare_mean`).
    pub fn column(self) -> &'static str {
        self.spec().column
    }

    /// The statistic with an SE column named by its `cells` column: what an adaptive rule or a
    /// search may target.
    pub fn parse(column: &str) -> Option<Stat> {
        Stat::WITH_SE.into_iter().find(|m| m.column() == column)
    }

    /// Its running statistics in a cell's.
    pub fn of(self, s: &CellStats) -> Welford {
        s.get(self)
    }
}

/// How a statistic is read from an outcome ([`StatSpec::value`]), for each of `stats`: a table
/// built when compiling, so that reading it at a constant index is a direct (inlined) call
/// rather than a call through a pointer chosen at run time.
const fn value_table(stats: [Stat; Stat::ALL.len()]) -> [fn(&Outcome) -> f64; Stat::ALL.len()] {
    let mut out = [Stat::Success.spec().value; Stat::ALL.len()];
    let mut i = 0;
    while i < out.len() {
        out[i] = stats[i].spec().value;
        i += 1;
    }
    out
}

/// [`StatSpec::value`] of each statistic of [`Stat::ALL`].
const VALUE_OF_ALL: [fn(&Outcome) -> f64; Stat::ALL.len()] = value_table(Stat::ALL);
/// [`StatSpec::value`] of each statistic of [`Stat::FOLDED`].
const VALUE_OF_FOLDED: [fn(&Outcome) -> f64; Stat::ALL.len()] = value_table(Stat::FOLDED);

/// Each function of `table` applied to `o`, in order.
#[inline(always)]
fn values_by(
    table: &'static [fn(&Outcome) -> f64; Stat::ALL.len()],
    o: &Outcome,
) -> [f64; Stat::ALL.len()] {
    let mut out = [0.0; Stat::ALL.len()];
    for (v, value) in out.iter_mut().zip(table) {
        *v = value(o);
    }
    out
}

/// What an adaptive rule targets: a core outcome metric, or a metric a plugin registered (its
/// `cells` column `NAME_mean`, SE `NAME_se`), by its position among the app's metrics.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TargetMetric {
    /// A core statistic with an SE column (one of [`Stat::WITH_SE`]).
    Core(Stat),
    /// The plugin metric at this position in [`crate::Catalog::metrics`], with its name.
    Plugin {
        /// Position among the registered metrics (their column order).
        index: usize,
        /// The metric's name; its `cells` column is `NAME_mean`.
        name: &'static str,
    },
}

impl TargetMetric {
    /// The `cells` column, as written in scenario files.
    pub fn column(&self) -> String {
        match self {
            TargetMetric::Core(m) => m.column().to_string(),
            TargetMetric::Plugin { name, .. } => format!("{name}_mean"),
        }
    }

    /// The metric named by its `cells` column, among the core's and `plugin_metrics`'.
    pub fn parse(column: &str, plugin_metrics: &[&'static str]) -> Option<TargetMetric> {
        Stat::parse(column).map(TargetMetric::Core).or_else(|| {
            let name = column.strip_suffix("_mean")?;
            let index = plugin_metrics.iter().position(|m| *m == name)?;
            Some(TargetMetric::Plugin {
                index,
                name: plugin_metrics[index],
            })
        })
    }
}

/// How many replications an adaptive cell plays next, having played `done`: `min` first, then
/// `batch` at a time, never past `max`; 0 once `max` is reached. A function of the count alone,
/// so the batches (and the points where the stopping rule is read) are the same on any thread,
/// shard or resume.
pub fn next_batch(done: u32, min: u32, batch: u32, max: u32) -> u32 {
    let want = if done < min { min - done } else { batch.max(1) };
    want.min(max.saturating_sub(done))
}

/// Whether every standard error reached `target` (an adaptive cell stops then). `ses` holds the
/// SE of the targeted metric of every mechanism (or of the targeted contrast) in every round.
pub fn precise_enough(ses: impl IntoIterator<Item = f64>, target: f64) -> bool {
    ses.into_iter().all(|se| se <= target)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Accumulators folded together hold exactly the bits of accumulators folded one by one,
    /// and the test fails if one lane's arithmetic differs (a value pushed twice).
    #[test]
    fn pushing_together_equals_pushing_one_by_one() {
        let (mut together, mut alone) = (WelfordLanes::<5>::default(), [Welford::default(); 5]);
        for t in 0..1_000usize {
            // Values spread over [−3, 7) by the golden ratio's fractional parts.
            let x: [f64; 5] = std::array::from_fn(|j| {
                ((t * 5 + j) as f64 * 0.618_033_988_749_895).fract() * 10.0 - 3.0
            });
            together.push(x);
            for (w, v) in alone.iter_mut().zip(x) {
                w.push(v);
            }
        }
        let bits = |w: &Welford| (w.count, w.mean.to_bits(), w.m2.to_bits());
        let together: [Welford; 5] = std::array::from_fn(|i| together.get(i));
        assert_eq!(together.map(|w| bits(&w)), alone.map(|w| bits(&w)));
        alone[2].push(1.0);
        assert_ne!(together.map(|w| bits(&w)), alone.map(|w| bits(&w)));
    }

    use crate::lanes::Isa;
    use proptest::prelude::*;

    /// A value that exercises the edges: ±0, subnormal, huge, ±∞, NaN, or an ordinary number.
    fn edgy() -> impl Strategy<Value = f64> {
        prop_oneof![
            3 => -1e3..1e3f64,
            1 => prop::sample::select(vec![
                0.0,
                -0.0,
                1e-12,
                -1e-12,
                2e-12,
                5e-324,
                1e300,
                -1e300,
                f64::INFINITY,
                f64::NEG_INFINITY,
                f64::NAN,
            ]),
        ]
    }

    /// A value's bits, every NaN as one: Rust does not specify the sign or payload of the NaN
    /// an operation returns (which operand's NaN an addition passes on depends on how LLVM
    /// ordered the operands), so even the scalar code's NaNs may differ between builds.
    fn canonical(x: f64) -> u64 {
        if x.is_nan() { u64::MAX } else { x.to_bits() }
    }

    fn bits(w: Welford) -> (u64, u64, u64) {
        (w.count, canonical(w.mean), canonical(w.m2))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        /// A bank folded under every instruction set the CPU runs holds, accumulator by
        /// accumulator, exactly the bits of `Welford`s folded one by one.
        #[test]
        fn a_bank_equals_accumulators_pushed_one_by_one(
            width in 1usize..60,
            rows in prop::collection::vec(prop::collection::vec(edgy(), 60), 1..12),
        ) {
            let mut alone = vec![Welford::default(); width];
            for row in &rows {
                for (w, &x) in alone.iter_mut().zip(row) {
                    w.push(x);
                }
            }
            for isa in Isa::available() {
                let mut bank = WelfordBank::new(width);
                for row in &rows {
                    bank.push(&row[..width], isa);
                }
                for (i, w) in alone.iter().enumerate() {
                    prop_assert_eq!(bits(bank.get(i)), bits(*w), "{:?} accumulator {}", isa, i);
                }
            }
        }

        /// The Pareto values computed with vector registers are the scalar fold's, bit for bit,
        /// at every length (the vector loops' tails included) and on every edge value.
        #[test]
        fn pareto_values_equal_the_scalar_fold(
            uc in prop::collection::vec(edgy(), 0..23),
            um in prop::collection::vec(edgy(), 0..23),
        ) {
            let mut plain = DiagnosticStats::default();
            plain.push(None, None, Some(&uc), Some(&um));
            let expected = [plain.pareto.get(0).mean, plain.pareto.get(1).mean];
            for isa in Isa::available() {
                let got = pareto_values(&uc, &um, isa);
                prop_assert_eq!(got.map(canonical), expected.map(canonical), "{:?}", isa);
            }
        }
    }

    /// The folded order lists every statistic once, the contrasted first; its values are
    /// A successful outcome whose every field has its own value.
    const DISTINCT_FIELDS: Outcome = Outcome {
        status: Status::Success,
        welfare: 1.5,
        privacy_cost: 2.5,
        subsidy: 3.5,
        leakage: 4.5,
        data: 5.5,
        withdrawals: 6,
        backstoppers: 7,
    };

    /// `Stat::values`' permuted, and a bank read back as `CellStats` puts each where `get`
    /// finds it.
    #[test]
    fn folded_values_are_the_values_in_folded_order() {
        let mut seen = Stat::FOLDED.map(|s| s.index());
        seen.sort_unstable();
        assert_eq!(seen, std::array::from_fn(|i| i));
        assert_eq!(Stat::FOLDED[..Stat::CONTRASTED.len()], Stat::CONTRASTED);
        let outcomes = [DISTINCT_FIELDS, Outcome::null(3)];
        let (mut bank, mut plain) = (WelfordBank::new(9), CellStats::default());
        for o in &outcomes {
            let (all, folded) = (Stat::values(o), Stat::folded_values(o));
            for (j, s) in Stat::FOLDED.into_iter().enumerate() {
                assert_eq!(folded[j].to_bits(), all[s.index()].to_bits(), "{s:?}");
            }
            bank.push(&folded, Isa::Baseline);
            plain.push(o);
        }
        let fused = CellStats::from_bank(&bank, 0);
        for s in Stat::ALL {
            assert_eq!(bits(fused.get(s)), bits(plain.get(s)), "{s:?}");
        }
        assert_eq!(fused.reps(), 2);
    }

    #[test]
    fn batches_start_at_min_then_step_by_batch_up_to_max() {
        let mut done = 0;
        let mut sizes = Vec::new();
        loop {
            let k = next_batch(done, 30, 20, 95);
            if k == 0 {
                break;
            }
            sizes.push(k);
            done += k;
        }
        assert_eq!(sizes, [30, 20, 20, 20, 5]);
        assert_eq!(next_batch(0, 5, 3, 5), 5);
        assert_eq!(next_batch(5, 5, 3, 5), 0);
    }

    #[test]
    fn every_se_must_reach_the_target() {
        assert!(precise_enough([0.1, 0.05], 0.1));
        assert!(!precise_enough([0.1, 0.1000001], 0.1));
        assert!(precise_enough([], 0.1));
    }

    #[test]
    fn metrics_round_trip_their_column_names() {
        for m in Stat::WITH_SE {
            assert_eq!(Stat::parse(m.column()), Some(m));
        }
        assert_eq!(Stat::parse("null_rate"), None);
    }

    /// `Stat::ALL` lists every statistic once, at its own index; the SE columns are
    /// `{stem}_se` and the filtered lists keep `ALL`'s order.
    #[test]
    fn statistics_are_declared_once_in_order() {
        for (i, s) in Stat::ALL.into_iter().enumerate() {
            assert_eq!(s.index(), i, "{s:?}");
            let spec = s.spec();
            if let Some(se) = spec.se_column {
                assert_eq!(se, format!("{}_se", spec.stem));
            }
            assert!(spec.column.starts_with(spec.stem), "{s:?}");
        }
        let positions = |l: &[Stat]| l.iter().map(|s| s.index()).collect::<Vec<_>>();
        for list in [&Stat::WITH_SE[..], &Stat::CONTRASTED[..]] {
            let p = positions(list);
            assert!(p.windows(2).all(|w| w[0] < w[1]), "{list:?}");
        }
        for s in Stat::ALL {
            assert_eq!(s.contrast_index().is_some(), s.spec().contrast.is_some());
        }
    }

    /// Each statistic reads its own field of an outcome.
    #[test]
    fn statistics_read_their_own_outcome_field() {
        let v = |s: Stat| (s.spec().value)(&DISTINCT_FIELDS);
        assert_eq!(
            Stat::ALL.map(v),
            [1.0, 1.5, 2.5, 3.5, 4.5, 5.5, 6.0, 0.0, 7.0]
        );
        assert_eq!((Stat::Null.spec().value)(&Outcome::null(0)), 1.0);
    }
}
