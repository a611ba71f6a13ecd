//! Repeated campaigns: the same population meets the mechanism round after round. How costs
//! evolve between rounds, how C's users learn their belief, and what S/M users remember.
//!
//! Round 0 uses exactly the draws of a single campaign, so `rounds = 1` reproduces the
//! single-campaign outputs; round r ≥ 1 draws from its own stream keyed by the round.

use crate::cost::CostDist;
pub use crate::rng::round_rng;

/// How a user's cost moves from one round to the next.
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub enum CostProcess {
    /// A fresh draw from F every round.
    #[default]
    Iid,
    /// The round-0 cost for ever.
    Persistent,
    /// c_r = c̄ + φ·(c_{r−1} − c̄) + √(1−φ²)·(fresh_r − c̄), floored at 0: stationary mean c̄ and,
    /// before flooring, the variance of F; φ = 0 is i.i.d., φ → 1 persistent.
    Ar1 {
        /// φ in [0, 1].
        persistence: f64,
    },
}

/// How C's users update their perceived marginal impact b between rounds.
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub enum Learning {
    /// b stays at `game.belief`.
    #[default]
    None,
    /// b ← b + rate·(π − b), where π = 1 if the user's own contribution was pivotal in the round
    /// (|X − Q| ≤ x_i: her data alone could have flipped the outcome) and 0 otherwise. b tracks how
    /// often her data mattered, starting from `game.belief`.
    Adaptive {
        /// Learning rate η in [0, 1].
        rate: f64,
    },
}

/// The repeated-game settings of a scenario (`[dynamics]`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Dynamics {
    /// Rounds played per replication (1: a single campaign).
    pub rounds: u32,
    /// How costs evolve from round to round.
    pub cost_process: CostProcess,
    /// How C's beliefs b evolve from round to round.
    pub learning: Learning,
}

impl Default for Dynamics {
    fn default() -> Self {
        Dynamics {
            rounds: 1,
            cost_process: CostProcess::Iid,
            learning: Learning::None,
        }
    }
}

/// This round's cost from last round's and this round's fresh draw.
#[inline]
pub fn next_cost(process: CostProcess, previous: f64, fresh: f64, mean: f64) -> f64 {
    match process {
        CostProcess::Iid => fresh,
        CostProcess::Persistent => previous,
        CostProcess::Ar1 { persistence: phi } => {
            (mean + phi * (previous - mean) + (1.0 - phi * phi).sqrt() * (fresh - mean)).max(0.0)
        }
    }
}

/// The step between rounds for costs: round 0 takes the fresh draws; from round 1 on, each
/// user's cost moves from last round's by the cost process. `cost` holds last round's costs in
/// and this round's out. The one definition the ECS draw system and the direct kernel share.
pub fn evolve_costs(process: CostProcess, round: u32, mean: f64, fresh: &[f64], cost: &mut [f64]) {
    if round == 0 {
        cost.copy_from_slice(fresh);
    } else {
        for (c, f) in cost.iter_mut().zip(fresh) {
            *c = next_cost(process, *c, *f, mean);
        }
    }
}

/// The step between rounds for C's users: each belief updates from her contribution and the
/// round's total data `total`. The one definition the ECS learn system and the direct kernel
/// share.
pub fn learn_beliefs(
    learning: Learning,
    beliefs: &mut [f64],
    contributions: &[f64],
    total: f64,
    need: f64,
) {
    for (b, x) in beliefs.iter_mut().zip(contributions) {
        *b = update_belief(learning, *b, *x, total, need);
    }
}

/// Next round's belief of a C user who contributed `contribution` when the total was `total`.
#[inline]
pub fn update_belief(
    learning: Learning,
    belief: f64,
    contribution: f64,
    total: f64,
    need: f64,
) -> f64 {
    match learning {
        Learning::None => belief,
        Learning::Adaptive { rate } => {
            let pivotal = contribution > 0.0 && (total - need).abs() <= contribution;
            belief + rate * ((pivotal as u8 as f64) - belief)
        }
    }
}

/// What an S/M user remembers of past rounds: how often withdrawals happened and were absorbed
/// (the model still improved).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Memory {
    /// Past rounds in which at least one user withdrew.
    pub rounds_with_withdrawals: u32,
    /// Of those, rounds in which the model still improved.
    pub absorbed: u32,
}

impl Memory {
    /// Folds a round in which `withdrawals` users withdrew and the campaign did or did not succeed.
    #[inline]
    pub fn remember(&mut self, withdrawals: u32, success: bool) {
        if withdrawals > 0 {
            self.rounds_with_withdrawals += 1;
            self.absorbed += success as u32;
        }
    }

    /// Past withdrawals were absorbed more often than not.
    #[inline]
    pub fn withdrawals_absorbed(&self) -> bool {
        2 * self.absorbed > self.rounds_with_withdrawals
    }
}

impl CostDist {
    /// The mean of F (used by the AR(1) cost process).
    pub fn mean(&self) -> f64 {
        match *self {
            CostDist::Uniform { low, high } => 0.5 * (low + high),
            CostDist::Beta { alpha, beta } => alpha / (alpha + beta),
            CostDist::LogNormal { mu, sigma } => crate::variates::exp(mu + 0.5 * sigma * sigma),
            CostDist::Constant { value } => value,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    #[test]
    fn round_zero_is_the_single_campaign_stream() {
        let mut a = round_rng(1, 2, 3, 0);
        let mut b = crate::campaign_rng(1, 2, 3);
        assert_eq!(a.next_u64(), b.next_u64());
        let mut c = round_rng(1, 2, 3, 1);
        assert_ne!(c.next_u64(), crate::campaign_rng(1, 2, 3).next_u64());
    }

    #[test]
    fn cost_processes() {
        assert_eq!(next_cost(CostProcess::Iid, 0.2, 0.7, 0.5), 0.7);
        assert_eq!(next_cost(CostProcess::Persistent, 0.2, 0.7, 0.5), 0.2);
        assert_eq!(
            next_cost(CostProcess::Ar1 { persistence: 0.0 }, 0.2, 0.7, 0.5),
            0.7
        );
        let x = next_cost(CostProcess::Ar1 { persistence: 0.5 }, 0.2, 0.7, 0.5);
        assert!((x - (0.5 - 0.15 + 0.75f64.sqrt() * 0.2)).abs() < 1e-12);
    }

    #[test]
    fn adaptive_belief_moves_toward_pivotality() {
        let l = Learning::Adaptive { rate: 0.5 };
        assert!((update_belief(l, 0.2, 0.5, 12.3, 12.0) - 0.6).abs() < 1e-12); // pivotal: |X − Q| = 0.3 ≤ 0.5
        assert!((update_belief(l, 0.2, 0.5, 14.0, 12.0) - 0.1).abs() < 1e-12); // not pivotal
        assert_eq!(update_belief(Learning::None, 0.2, 0.5, 12.3, 12.0), 0.2);
    }
}
