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
            // Branch-free (who loses is a coin flip per user); adding +0.0 leaves the sum's bits.
            for (c, m) in uc.iter().zip(um) {
                let loss = c - m;
                let loses = loss > 1e-12;
                losers += loses as usize;
                compensation += if loses { loss } else { 0.0 };
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

/// An outcome metric whose mean and standard error the `cells` table holds: what an adaptive
/// replication rule may target (`replications = { target_se, metric, … }`). Declared once here;
/// the scenario reader lists the names and the simulator reads the SE through [`SeMetric::of`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SeMetric {
    /// `success_rate` (SE `success_se`).
    Success,
    /// `welfare_mean` (SE `welfare_se`).
    Welfare,
    /// `privacy_cost_mean` (SE `privacy_cost_se`).
    PrivacyCost,
    /// `subsidy_mean` (SE `subsidy_se`).
    Subsidy,
    /// `leakage_mean` (SE `leakage_se`).
    Leakage,
    /// `data_mean` (SE `data_se`).
    Data,
    /// `withdrawals_mean` (SE `withdrawals_se`).
    Withdrawals,
}

impl SeMetric {
    /// Every metric, in `cells` column order.
    pub const ALL: [SeMetric; 7] = [
        SeMetric::Success,
        SeMetric::Welfare,
        SeMetric::PrivacyCost,
        SeMetric::Subsidy,
        SeMetric::Leakage,
        SeMetric::Data,
        SeMetric::Withdrawals,
    ];

    /// The metric's `cells` column, as written in scenario files.
    pub fn column(self) -> &'static str {
        match self {
            SeMetric::Success => "success_rate",
            SeMetric::Welfare => "welfare_mean",
            SeMetric::PrivacyCost => "privacy_cost_mean",
            SeMetric::Subsidy => "subsidy_mean",
            SeMetric::Leakage => "leakage_mean",
            SeMetric::Data => "data_mean",
            SeMetric::Withdrawals => "withdrawals_mean",
        }
    }

    /// The metric named by its `cells` column.
    pub fn parse(column: &str) -> Option<SeMetric> {
        SeMetric::ALL.into_iter().find(|m| m.column() == column)
    }

    /// The metric's running statistics in a cell's.
    pub fn of(self, s: &CellStats) -> &Welford {
        match self {
            SeMetric::Success => &s.success,
            SeMetric::Welfare => &s.welfare,
            SeMetric::PrivacyCost => &s.privacy_cost,
            SeMetric::Subsidy => &s.subsidy,
            SeMetric::Leakage => &s.leakage,
            SeMetric::Data => &s.data,
            SeMetric::Withdrawals => &s.withdrawals,
        }
    }
}

/// What an adaptive rule targets: a core outcome metric, or a metric a plugin registered (its
/// `cells` column `NAME_mean`, SE `NAME_se`), by its position among the app's metrics.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TargetMetric {
    /// A core outcome metric.
    Core(SeMetric),
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
        SeMetric::parse(column).map(TargetMetric::Core).or_else(|| {
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
        for m in SeMetric::ALL {
            assert_eq!(SeMetric::parse(m.column()), Some(m));
        }
        assert_eq!(SeMetric::parse("null_rate"), None);
    }
}
