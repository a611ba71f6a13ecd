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

/// Per cell and mechanism: every outcome metric's mean and standard error.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CellStats {
    /// Success indicator 1{success}: its mean is the success rate.
    pub success: Welford,
    /// Welfare W.
    pub welfare: Welford,
    /// Privacy cost borne, Σ κ(c^w_i, x_i).
    pub privacy_cost: Welford,
    /// Payments made.
    pub subsidy: Welford,
    /// Payments made without improvement.
    pub leakage: Welford,
    /// Data kept for training.
    pub data: Welford,
    /// Number of users who withdrew.
    pub withdrawals: Welford,
    /// Null-outcome indicator: its mean is the null rate.
    pub null: Welford,
    /// Backstoppers k (users assigned below their cap).
    pub backstoppers: Welford,
}

impl CellStats {
    /// Folds one campaign's outcome in.
    pub fn push(&mut self, o: &Outcome) {
        self.success.push(o.success() as u8 as f64);
        self.welfare.push(o.welfare);
        self.privacy_cost.push(o.privacy_cost);
        self.subsidy.push(o.subsidy);
        self.leakage.push(o.leakage);
        self.data.push(o.data);
        self.withdrawals.push(o.withdrawals as f64);
        self.null.push((o.status == Status::Null) as u8 as f64);
        self.backstoppers.push(o.backstoppers as f64);
    }

    /// Replications folded in.
    pub fn reps(&self) -> u64 {
        self.success.count
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
    /// Per replication: share of users with u^M_i < u^C_i.
    pub pareto_loss_share: Welford,
    /// Per replication: (1/n)·Σ max(0, u^C_i − u^M_i).
    pub pareto_compensation: Welford,
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
        if let (Some(uc), Some(um)) = (payoff_c, payoff_m) {
            let n = uc.len().max(1) as f64;
            let mut losers = 0usize;
            let mut compensation = 0.0;
            for (c, m) in uc.iter().zip(um) {
                let loss = c - m;
                if loss > 1e-12 {
                    losers += 1;
                    compensation += loss;
                }
            }
            self.pareto_loss_share.push(losers as f64 / n);
            self.pareto_compensation.push(compensation / n);
        }
    }

    /// The cell's diagnostics, given which of S, M and C ran; masks what is missing or too rare.
    pub fn finish(&self, has_s: bool, has_m: bool, has_c: bool) -> Diagnostics {
        let reps = self.reps.max(1) as f64;
        let both = has_s && has_m;
        let masked = self.pc_gap.count < MIN_COMMON_SUCCESSES;
        let pareto = has_c && has_m;
        Diagnostics {
            reps: self.reps,
            s_success_k2: has_s.then(|| self.s_success_k2 as f64 / reps),
            m_success_k2: has_m.then(|| self.m_success_k2 as f64 / reps),
            common_success_k2: both.then_some(self.pc_gap.count),
            pc_gap_mean: (both && !masked).then(|| self.pc_gap.mean()),
            pc_gap_se: (both && !masked).then(|| self.pc_gap.se()),
            pareto_loss_share: pareto.then(|| self.pareto_loss_share.mean()),
            pareto_loss_share_se: pareto.then(|| self.pareto_loss_share.se()),
            pareto_compensation: pareto.then(|| self.pareto_compensation.mean()),
            pareto_compensation_se: pareto.then(|| self.pareto_compensation.se()),
        }
    }
}
