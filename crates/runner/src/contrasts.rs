//! Paired contrasts: for each ordered pair of mechanisms (A, B) of a cell, the mean over the
//! replications of the difference A − B of each outcome metric, its standard error and the share
//! of replications where A is better. A and B play the same draws in a replication (common random
//! numbers), so the per-replication differences are far less variable than either outcome: the
//! paired SE is the honest one, √(se_A² + se_B²) overstates it.

use datapact_model::Outcome;
use datapact_model::stats::Welford;
use datapact_sim::RoundRecord;

/// A contrasted metric: its value in an outcome, and whether higher is better.
type Contrasted = (fn(&Outcome) -> f64, bool);

/// The contrasted metrics, in the `contrasts` table's column order.
const CONTRASTED: [Contrasted; 6] = [
    (|o| o.success() as u8 as f64, true),
    (|o| o.welfare, true),
    (|o| o.privacy_cost, false),
    (|o| o.subsidy, false),
    (|o| o.data, true),
    (|o| o.withdrawals as f64, false),
];

/// One metric's paired statistics over a cell's replications.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Paired {
    /// The per-replication differences A − B.
    pub(crate) diff: Welford,
    /// Replications where A is strictly better.
    better: u64,
}

impl Paired {
    /// Share of replications where A is strictly better (0 when empty).
    pub(crate) fn a_better(&self) -> f64 {
        if self.diff.count == 0 {
            0.0
        } else {
            self.better as f64 / self.diff.count as f64
        }
    }
}

/// The paired statistics of one round of one cell for one pair: `[success, welfare,
/// privacy_cost, subsidy, data, withdrawals]`.
pub(crate) type PairStats = [Paired; 6];

/// Folds a cell's campaign records (sorted by round, rep, mechanism, as the simulator delivers
/// them) into paired statistics: `result[round][p]` for pair `p` of `pairs`, given as positions
/// in `mechanisms` (the run's mechanism ids, in output order).
pub(crate) fn paired_stats(
    records: &[RoundRecord],
    mechanisms: &[u16],
    pairs: &[(usize, usize)],
    rounds: usize,
) -> Vec<Vec<PairStats>> {
    let mut out = vec![vec![PairStats::default(); pairs.len()]; rounds];
    let mut outcomes: Vec<Option<&Outcome>> = vec![None; mechanisms.len()];
    for campaign in records.chunk_by(|x, y| (x.round, x.rep) == (y.round, y.rep)) {
        outcomes.iter_mut().for_each(|o| *o = None);
        for r in campaign {
            if let Some(k) = mechanisms.iter().position(|&m| m == r.mechanism) {
                outcomes[k] = Some(&r.outcome);
            }
        }
        let round = campaign[0].round as usize;
        for (stats, &(a, b)) in out[round].iter_mut().zip(pairs) {
            let (Some(oa), Some(ob)) = (outcomes[a], outcomes[b]) else {
                continue;
            };
            for (s, (value, higher_is_better)) in stats.iter_mut().zip(CONTRASTED) {
                let d = value(oa) - value(ob);
                s.diff.push(d);
                s.better += (if higher_is_better { d > 0.0 } else { d < 0.0 }) as u64;
            }
        }
    }
    out
}
