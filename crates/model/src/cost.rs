//! Cost distributions F and the privacy cost κ.

use rand::Rng;
use rand_distr::{Beta, Distribution, LogNormal};

/// The distribution of private unit costs c_i. Parameters are validated by the scenario loader;
/// [`CostDist::sampler`] re-checks them and reports what is wrong.
#[derive(Clone, Debug, PartialEq)]
pub enum CostDist {
    /// Uniform on [low, high]: c = low + (high − low)·U.
    Uniform {
        /// Lower end of the support (≥ 0).
        low: f64,
        /// Upper end of the support (≥ low).
        high: f64,
    },
    /// Beta(α, β) on [0, 1].
    Beta {
        /// Shape α > 0.
        alpha: f64,
        /// Shape β > 0.
        beta: f64,
    },
    /// c = exp(μ + σZ), Z ~ N(0, 1).
    LogNormal {
        /// Location μ of log c.
        mu: f64,
        /// Scale σ ≥ 0 of log c.
        sigma: f64,
    },
    /// Every user has the same cost.
    Constant {
        /// The cost c (≥ 0).
        value: f64,
    },
}

/// A ready-to-draw cost distribution (construction of Beta/LogNormal is done once per cell).
#[derive(Clone, Debug)]
pub enum CostSampler {
    /// Uniform on [low, low + width].
    Uniform {
        /// Lower end of the support.
        low: f64,
        /// high − low.
        width: f64,
    },
    /// Beta(α, β).
    Beta(Beta<f64>),
    /// exp(μ + σZ).
    LogNormal(LogNormal<f64>),
    /// A fixed cost.
    Constant(f64),
}

impl CostDist {
    /// The distribution's name as written in scenarios (`population.cost.dist`).
    pub fn name(&self) -> &'static str {
        match self {
            CostDist::Uniform { .. } => "uniform",
            CostDist::Beta { .. } => "beta",
            CostDist::LogNormal { .. } => "lognormal",
            CostDist::Constant { .. } => "constant",
        }
    }

    /// The distribution's parameters as (name, value) pairs, in a fixed order.
    pub fn params(&self) -> Vec<(&'static str, f64)> {
        match *self {
            CostDist::Uniform { low, high } => vec![("low", low), ("high", high)],
            CostDist::Beta { alpha, beta } => vec![("alpha", alpha), ("beta", beta)],
            CostDist::LogNormal { mu, sigma } => vec![("mu", mu), ("sigma", sigma)],
            CostDist::Constant { value } => vec![("value", value)],
        }
    }

    /// Checks the parameters and prepares a sampler; the error says which parameter is wrong.
    pub fn sampler(&self) -> Result<CostSampler, String> {
        let finite = |v: f64, k: &str| {
            if v.is_finite() {
                Ok(())
            } else {
                Err(format!("{k} must be finite"))
            }
        };
        match *self {
            CostDist::Uniform { low, high } => {
                finite(low, "low")?;
                finite(high, "high")?;
                if low < 0.0 || high < low {
                    return Err("uniform needs 0 <= low <= high".into());
                }
                Ok(CostSampler::Uniform {
                    low,
                    width: high - low,
                })
            }
            CostDist::Beta { alpha, beta } => Beta::new(alpha, beta)
                .map(CostSampler::Beta)
                .map_err(|e| format!("beta(alpha={alpha}, beta={beta}): {e}")),
            CostDist::LogNormal { mu, sigma } => LogNormal::new(mu, sigma)
                .map(CostSampler::LogNormal)
                .map_err(|e| format!("lognormal(mu={mu}, sigma={sigma}): {e}")),
            CostDist::Constant { value } => {
                finite(value, "value")?;
                if value < 0.0 {
                    return Err("constant cost must be >= 0".into());
                }
                Ok(CostSampler::Constant(value))
            }
        }
    }
}

impl CostSampler {
    /// Draws one unit cost c ≥ 0 (uniform draws use 53 random bits, as in `rng::unit_f64`).
    #[inline]
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        match self {
            CostSampler::Uniform { low, width } => low + width * crate::rng::unit_f64(rng),
            CostSampler::Beta(d) => d.sample(rng),
            CostSampler::LogNormal(d) => d.sample(rng),
            CostSampler::Constant(v) => *v,
        }
    }
}

/// Privacy cost κ(c, x) = c·x²/2.
#[inline]
pub fn kappa(c: f64, x: f64) -> f64 {
    0.5 * c * x * x
}
