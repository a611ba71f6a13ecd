//! The random draws of one campaign, derived from (scenario seed, draw key, replication) alone.
//!
//! Every mechanism of a (cell, replication) reads the same [`Draws`]: common random numbers, so
//! that mechanisms are compared pair by pair. The draw key ([`draw_key`]) is a hash of the cell's
//! own population (n and F), never its position in the grid: cells that differ only in
//! parameters that do not enter the draws (θ, V, p, b0, σ's, strategies, ...) read the same
//! draws, and adding a value to a sweep changes no other cell. Normal draws are stored
//! standardised (ζ, η), and scaled by σ_w and σ_o only when used, so sweeping a σ keeps the same
//! underlying draws.

use crate::variates::StandardNormal;
use rand::Rng;
use rand::distr::Distribution;

use sha2::{Digest, Sha256};

use crate::cost::CostSampler;
use crate::params::{GAME_KEYS, Game};
pub(crate) use crate::rng::stream;
pub use crate::rng::{campaign_rng, unit_f64};

/// The key of a cell's random streams: the first 8 bytes (little-endian) of the SHA-256 of
/// `"datapact.draws.v1"`, then per parameter that changes what is drawn its name, `=`, and its
/// value's little-endian bits, `;`-separated: each key of [`GAME_KEYS`] declared `drawn`
/// (today `population.users`, n as a `u64`; a key declared [`crate::Written::UnlessDefault`]
/// only away from its default), then `population.cost.dist` (its name) and each written
/// parameter of F ([`crate::CostDist::params`], `f64` bits).
///
/// Everything else (θ, V, p, b0, σ_o, σ_w, ρ, R, the order, strategies, mechanism parameters,
/// dynamics) leaves the draws unchanged: the shocks are standardised and every user draws the
/// same four numbers whatever the options. So cells that differ only in those share their draws
/// (common random numbers across cells as well as across mechanisms), and the key, unlike a grid
/// index, does not move when values are added to or removed from a sweep.
pub fn draw_key(game: &Game) -> u64 {
    // Whether each field of a game changes what is drawn is decided here: a field added to
    // `Game` stops this from compiling until it is declared in `GAME_KEYS` (with its `drawn`) or
    // placed below.
    let Game {
        // GAME_KEYS: keyed when declared `drawn` (today only `users`).
        users: _,
        threshold: _,
        value: _,
        payment: _,
        belief: _,
        obs_noise: _,
        drift: _,
        irreversible: _,
        recovery_rounds: _,
        order: _,
        // Keyed: its name and every written parameter.
        cost: _,
        // Not drawn: strategies, mechanism parameters and dynamics use the same draws.
        population: _,
        mechanism_params: _,
        dynamics: _,
        // Not drawn here: the graph has a stream of its own, keyed by its own parameters
        // (`Network::key`), so adding a network leaves every cost and shock as it was.
        network: _,
        // Not drawn here: drawn thresholds have a stream of their own (`Threshold::key`).
        peer_threshold: _,
    } = game;
    let mut h = Sha256::new();
    h.update(b"datapact.draws.v1");
    for k in GAME_KEYS.iter().filter(|k| k.drawn && k.is_written(game)) {
        h.update(format!(";{}=", k.path()).as_bytes());
        let v = (k.get)(game);
        if k.rule.is_int() {
            h.update((v as u64).to_le_bytes());
        } else {
            // +0.0 and -0.0 draw alike; give them one key.
            h.update((v + 0.0).to_bits().to_le_bytes());
        }
    }
    h.update(b";population.cost.dist=");
    h.update(game.cost.name().as_bytes());
    for (name, v) in game.cost.params() {
        h.update(b";population.cost.");
        h.update(name.as_bytes());
        h.update(b"=");
        // +0.0 and -0.0 draw alike; give them one key.
        h.update((v + 0.0).to_bits().to_le_bytes());
    }
    let digest = h.finalize();
    u64::from_le_bytes(digest[..8].try_into().expect("SHA-256 has 32 bytes"))
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
    /// Successive calls on one `rng` continue the stream: filling blocks of users in user order
    /// gives the numbers of one call for all of them (the large-campaign path streams so).
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
        crate::variates::exp(sigma * z - 0.5 * sigma * sigma)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cost::CostDist;

    #[test]
    fn draw_key_follows_the_population_only() {
        let base = Game::default();
        let key = draw_key(&base);
        let same_population = Game {
            value: 0.37,
            payment: 0.01,
            threshold: 0.9,
            drift: 0.0,
            ..base.clone()
        };
        assert_eq!(draw_key(&same_population), key);
        let more_users = Game {
            users: base.users + 1,
            ..base.clone()
        };
        assert_ne!(draw_key(&more_users), key);
        let other_cost = Game {
            cost: CostDist::Uniform {
                low: 0.0,
                high: 2.0,
            },
            ..base.clone()
        };
        assert_ne!(draw_key(&other_cost), key);
        // Same parameter values, another distribution.
        let beta = Game {
            cost: CostDist::Beta {
                alpha: 0.0,
                beta: 1.0,
            },
            ..base
        };
        assert_ne!(draw_key(&beta), key);
    }
}
