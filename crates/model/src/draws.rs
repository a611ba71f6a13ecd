//! The random draws of one campaign, derived from (scenario seed, cell, replication) alone.
//!
//! Every mechanism of a (cell, replication) reads the same [`Draws`]: common random numbers, so
//! that mechanisms are compared pair by pair. Normal draws are stored standardised (ζ, η), and
//! scaled by σ_w and σ_o only when used, so sweeping a σ keeps the same underlying draws.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

use crate::cost::CostSampler;

/// A uniform draw in [0, 1) with 53 random bits.
#[inline]
pub fn unit_f64<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// The random stream of one campaign: ChaCha8 keyed by
/// `le(seed) ‖ le(cell) ‖ le(replication) ‖ "datapact"`, so that streams of different
/// (seed, cell, replication) are independent and no stream depends on threads or sharding.
/// It is round 0 of [`crate::dynamics::round_rng`].
pub fn campaign_rng(seed: u64, cell: u64, replication: u64) -> ChaCha8Rng {
    stream(seed, cell, replication, u64::from_le_bytes(*b"datapact"))
}

/// ChaCha8 keyed by `le(seed) ‖ le(cell) ‖ le(replication) ‖ le(tag)`.
pub(crate) fn stream(seed: u64, cell: u64, replication: u64, tag: u64) -> ChaCha8Rng {
    let mut key = [0u8; 32];
    key[0..8].copy_from_slice(&seed.to_le_bytes());
    key[8..16].copy_from_slice(&cell.to_le_bytes());
    key[16..24].copy_from_slice(&replication.to_le_bytes());
    key[24..32].copy_from_slice(&tag.to_le_bytes());
    ChaCha8Rng::from_seed(key)
}

/// Per-user draws of one campaign (structure of arrays, length n each).
#[derive(Clone, Debug, Default)]
pub struct Draws {
    /// c_i ~ F, the true cost at reporting time.
    pub cost: Vec<f64>,
    /// ζ_i ~ N(0,1), the drift shock.
    pub drift_shock: Vec<f64>,
    /// η_i ~ N(0,1), the observation shock.
    pub obs_shock: Vec<f64>,
    /// A uniform key for the random decision order of M.
    pub order_key: Vec<f64>,
}

impl Draws {
    /// Fills the draws of `n` users from `rng`, in a fixed order: per user, cost, ζ, η, order key.
    pub fn fill<R: Rng + ?Sized>(&mut self, n: usize, sampler: &CostSampler, rng: &mut R) {
        self.cost.clear();
        self.drift_shock.clear();
        self.obs_shock.clear();
        self.order_key.clear();
        for _ in 0..n {
            self.cost.push(sampler.sample(rng));
            self.drift_shock.push(StandardNormal.sample(rng));
            self.obs_shock.push(StandardNormal.sample(rng));
            self.order_key.push(unit_f64(rng));
        }
    }

    /// Number of users n the draws were made for.
    pub fn len(&self) -> usize {
        self.cost.len()
    }

    /// Whether no user was drawn (n = 0).
    pub fn is_empty(&self) -> bool {
        self.cost.is_empty()
    }
}

/// The log-normal multiplier exp(σ·z − σ²/2) (mean one), used for drift and observation noise.
#[inline]
pub fn mean_one_factor(sigma: f64, z: f64) -> f64 {
    if sigma == 0.0 {
        1.0
    } else {
        (sigma * z - 0.5 * sigma * sigma).exp()
    }
}
