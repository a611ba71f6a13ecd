//! Paired contrasts, folded while the campaigns play: for each pair of the run's mechanisms, the
//! per-replication differences of each outcome metric. The mechanisms of a replication play the
//! same draws (common random numbers), so these differences vary far less than either outcome:
//! their SE is the honest SE of a contrast, and √(se_A² + se_B²) overstates it. Folding here
//! means no per-campaign record is kept for the `contrasts` table.

use datapact_model::Outcome;
use datapact_model::stats::{Better, Stat, Welford, WelfordBank, WelfordLanes};

/// One metric's paired statistics for the pair (i, j), i before j in the run's mechanisms.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Paired {
    /// The per-replication differences i − j.
    pub diff: Welford,
    /// Replications where i is strictly better.
    pub i_better: u64,
    /// Replications where j is strictly better.
    pub j_better: u64,
}

impl Paired {
    /// Mean and SE of the difference `a − b` and the share of replications where `a` is
    /// strictly better, for `a` = i (`reversed` false) or `a` = j (`reversed` true).
    pub fn oriented(&self, reversed: bool) -> (f64, f64, f64) {
        let n = self.diff.count.max(1) as f64;
        let (sign, better) = if reversed {
            (-1.0, self.j_better)
        } else {
            (1.0, self.i_better)
        };
        let share = if self.diff.count == 0 {
            0.0
        } else {
            better as f64 / n
        };
        (sign * self.diff.mean(), self.diff.se(), share)
    }
}

/// The paired statistics of one pair in one round, one per statistic of
/// [`Stat::CONTRASTED`], read by the statistic ([`PairStats::get`]). Held as a structure of
/// arrays (the differences' accumulators share one count: [`WelfordLanes`]), so a replication's
/// six updates pack.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct PairStats {
    diff: WelfordLanes<N_CONTRASTED>,
    i_better: [u64; N_CONTRASTED],
    j_better: [u64; N_CONTRASTED],
}

impl PairStats {
    /// The paired statistics of `stat`; `None` when it is not contrasted.
    pub fn get(&self, stat: Stat) -> Option<Paired> {
        stat.contrast_index().map(|i| Paired {
            diff: self.diff.get(i),
            i_better: self.i_better[i],
            j_better: self.j_better[i],
        })
    }

    /// The paired replications folded in.
    pub fn reps(&self) -> u64 {
        self.diff.count()
    }

    /// The pair's differences held in `bank` from `start` (in [`Stat::CONTRASTED`]'s order)
    /// and its counts of who was strictly better (the same order).
    pub fn from_bank(
        bank: &WelfordBank,
        start: usize,
        i_better: [u64; N_CONTRASTED],
        j_better: [u64; N_CONTRASTED],
    ) -> PairStats {
        PairStats {
            diff: bank.lanes(start),
            i_better,
            j_better,
        }
    }
}

/// The paired contrasts of a round folded with its other statistics ([`WelfordBank`]): each
/// replication's differences are written where the bank folds them, and who was strictly better
/// is counted here, per pair and contrasted statistic (`N_CONTRASTED·p + c`).
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct PackedContrasts {
    i_better: Vec<u64>,
    j_better: Vec<u64>,
}

/// Per contrasted statistic: +1 where higher is better, −1 where lower is (`d·sign > 0` is "i is
/// strictly better": `−d > 0` exactly when `d < 0`, for every `d`, NaN included).
const SIGN: [f64; N_CONTRASTED] = {
    let mut out = [1.0; N_CONTRASTED];
    let mut c = 0;
    while c < N_CONTRASTED {
        if let Some(Better::Lower) = Stat::CONTRASTED[c].spec().better() {
            out[c] = -1.0;
        }
        c += 1;
    }
    out
};

/// One pair's differences `d = vi − vj` and who was strictly better, on arrays of one pair's
/// size (no bounds check; vectorised where the instruction set has the registers).
#[inline(always)]
fn pair(
    vi: &[f64; N_CONTRASTED],
    vj: &[f64; N_CONTRASTED],
    d: &mut [f64; N_CONTRASTED],
    i_better: &mut [u64; N_CONTRASTED],
    j_better: &mut [u64; N_CONTRASTED],
) {
    for c in 0..N_CONTRASTED {
        d[c] = vi[c] - vj[c];
        let oriented = d[c] * SIGN[c];
        i_better[c] += (oriented > 0.0) as u64;
        j_better[c] += (oriented < 0.0) as u64;
    }
}

impl PackedContrasts {
    /// Counters for the pairs of `mechanisms`.
    pub(crate) fn new(mechanisms: usize) -> Self {
        let len = pairs(mechanisms).count() * N_CONTRASTED;
        PackedContrasts {
            i_better: vec![0; len],
            j_better: vec![0; len],
        }
    }

    /// Folds one replication: `values` holds each mechanism's values of the contrasted
    /// statistics at `stride·k` (in [`Stat::CONTRASTED`]'s order), `diffs` receives every
    /// pair's differences v_i − v_j (`N_CONTRASTED` per pair, in [`pairs`] order) — the values
    /// [`PairStats`] folds — and the counters who was strictly better.
    #[inline(always)]
    pub(crate) fn fold(&mut self, values: &[f64], stride: usize, diffs: &mut [f64]) {
        let mechanisms = values.len() / stride;
        debug_assert_eq!(diffs.len(), self.i_better.len());
        let mut out = diffs.chunks_exact_mut(N_CONTRASTED).zip(
            self.i_better
                .chunks_exact_mut(N_CONTRASTED)
                .zip(self.j_better.chunks_exact_mut(N_CONTRASTED)),
        );
        let of = |k: usize| -> &[f64; N_CONTRASTED] {
            values[stride * k..][..N_CONTRASTED].try_into().unwrap()
        };
        for i in 0..mechanisms {
            for j in i + 1..mechanisms {
                let (d, (i_better, j_better)) = out.next().expect("one slot per pair");
                let d: &mut [f64; N_CONTRASTED] = d.try_into().unwrap();
                let i_better: &mut [u64; N_CONTRASTED] = i_better.try_into().unwrap();
                let j_better: &mut [u64; N_CONTRASTED] = j_better.try_into().unwrap();
                pair(of(i), of(j), d, i_better, j_better);
            }
        }
    }

    /// The paired statistics of pair `p` (in [`pairs`] order), its differences held in `bank`
    /// from `start`.
    pub(crate) fn pair(&self, p: usize, bank: &WelfordBank, start: usize) -> PairStats {
        let at = |v: &Vec<u64>| std::array::from_fn(|c| v[p * N_CONTRASTED + c]);
        PairStats::from_bank(bank, start, at(&self.i_better), at(&self.j_better))
    }
}

/// The unordered pairs (i, j), i < j, of `mechanisms` positions, in the order
/// [`RoundSummary::pairs`](crate::RoundSummary::pairs) holds them.
pub fn pairs(mechanisms: usize) -> impl Iterator<Item = (usize, usize)> {
    (0..mechanisms).flat_map(move |i| (i + 1..mechanisms).map(move |j| (i, j)))
}

/// The position of the pair {a, b} (a ≠ b) in [`pairs`] of `mechanisms`, and whether (a, b) is
/// the reverse of the stored (i, j).
pub fn pair_index(mechanisms: usize, a: usize, b: usize) -> (usize, bool) {
    let (i, j, reversed) = if a < b { (a, b, false) } else { (b, a, true) };
    // Pairs before row i: (m−1) + (m−2) + … + (m−i).
    let before = i * (2 * mechanisms - i - 1) / 2;
    (before + (j - i - 1), reversed)
}

/// Folds one replication's outcomes (one per mechanism, in run order) into `stats`.
#[inline]
pub fn fold(stats: &mut [PairStats], outcomes: &[Outcome]) {
    fold_each(stats, outcomes.len(), |k| &outcomes[k]);
}

/// [`fold`] reading the outcome of the `mechanisms` mechanisms where they lie (`outcome(k)`,
/// k in run order).
#[inline]
pub fn fold_each<'o>(
    stats: &mut [PairStats],
    mechanisms: usize,
    outcome: impl Fn(usize) -> &'o Outcome,
) {
    let mut values = [[0.0; N_CONTRASTED]; MAX_FOLDED];
    if mechanisms > MAX_FOLDED {
        // More mechanisms than the stack buffer holds: each outcome's values read per pair.
        for (s, (i, j)) in stats.iter_mut().zip(pairs(mechanisms)) {
            s.push(&contrasted(outcome(i)), &contrasted(outcome(j)));
        }
        return;
    }
    for (k, v) in values.iter_mut().take(mechanisms).enumerate() {
        *v = contrasted(outcome(k));
    }
    for (s, (i, j)) in stats.iter_mut().zip(pairs(mechanisms)) {
        s.push(&values[i], &values[j]);
    }
}

/// How many statistics the `contrasts` table compares.
pub(crate) const N_CONTRASTED: usize = Stat::CONTRASTED.len();

/// Up to this many mechanisms, [`fold`] reads each outcome's values once.
const MAX_FOLDED: usize = 8;

/// One outcome's values of the contrasted statistics, in [`Stat::CONTRASTED`]'s order.
#[inline]
fn contrasted(o: &Outcome) -> [f64; N_CONTRASTED] {
    Stat::CONTRASTED.map(|stat| (stat.spec().value)(o))
}

impl PairStats {
    /// Folds one replication's values of the pair (i, j): every statistic's difference (the
    /// accumulators share one count and are updated together) and who is strictly better.
    #[inline]
    fn push(&mut self, vi: &[f64; N_CONTRASTED], vj: &[f64; N_CONTRASTED]) {
        let d: [f64; N_CONTRASTED] = std::array::from_fn(|k| vi[k] - vj[k]);
        self.diff.push(d);
        for (k, stat) in Stat::CONTRASTED.into_iter().enumerate() {
            let (i_wins, j_wins) = match stat.spec().better() {
                Some(Better::Lower) => (d[k] < 0.0, d[k] > 0.0),
                _ => (d[k] > 0.0, d[k] < 0.0),
            };
            self.i_better[k] += i_wins as u64;
            self.j_better[k] += j_wins as u64;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each contrasted statistic's paired difference is the difference of the statistic the
    /// cells table averages, and its side is its declared better direction.
    #[test]
    fn contrasts_follow_the_declared_statistics() {
        let o = Outcome {
            status: datapact_model::Status::Success,
            welfare: 1.5,
            privacy_cost: 2.5,
            subsidy: 3.5,
            leakage: 0.0,
            data: 4.5,
            withdrawals: 6,
            backstoppers: 2,
        };
        let zero = Outcome::null(0);
        let mut stats = [PairStats::default()];
        fold(&mut stats, &[o, zero]);
        let mut cell = datapact_model::stats::CellStats::default();
        cell.push(&o);
        for stat in Stat::ALL {
            let Some(p) = stats[0].get(stat) else {
                assert_eq!(stat.spec().contrast, None, "{stat:?}");
                continue;
            };
            // The contrast of o against a null outcome is o's own value of the statistic.
            assert_eq!(p.diff.mean(), cell.get(stat).mean(), "{stat:?}");
            let higher = stat.spec().better() == Some(Better::Higher);
            assert_eq!(
                (p.i_better, p.j_better),
                (higher as u64, !higher as u64),
                "{stat:?}"
            );
        }
        assert_eq!(stats[0].reps(), 1);
    }

    #[test]
    fn pair_index_finds_every_pair_in_order() {
        for m in 2..7 {
            for (k, (i, j)) in pairs(m).enumerate() {
                assert_eq!(pair_index(m, i, j), (k, false));
                assert_eq!(pair_index(m, j, i), (k, true));
            }
        }
    }

    #[test]
    fn reversing_a_pair_negates_the_mean_and_swaps_the_share() {
        let mut p = Paired::default();
        for (d, i_wins) in [(0.5, true), (-0.25, false), (1.0, true), (0.0, false)] {
            p.diff.push(d);
            p.i_better += i_wins as u64;
            p.j_better += (d < 0.0) as u64;
        }
        let (m, se, share) = p.oriented(false);
        let (mr, ser, sharer) = p.oriented(true);
        assert_eq!((mr, ser), (-m, se));
        assert_eq!((share, sharer), (0.5, 0.25));
    }
}
