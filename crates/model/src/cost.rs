//! Cost distributions F and the privacy cost κ.

use crate::variates::{Beta, LogNormal};
use rand::Rng;
use rand::distr::Distribution;

use crate::param::Rule;

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
    Beta(Beta),
    /// exp(μ + σZ).
    LogNormal(LogNormal),
    /// A fixed cost.
    Constant(f64),
}

/// One parameter of a cost distribution, written beside `dist` in
/// `population.cost = { dist = "...", NAME = ... }` and sweepable as `population.cost.NAME`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CostParam {
    /// Its key.
    pub name: &'static str,
    /// Its allowed values.
    pub rule: Rule,
    /// What it means (docs and listings).
    pub doc: &'static str,
    /// `None`: required, and always written into the canonical scenario text, the draw key and
    /// the output labels (the parameters datapact had when the embedded scenarios' hashes were
    /// pinned). `Some(d)`: optional with default `d`, and written only when it differs from `d`:
    /// how a parameter added later is declared, so that adding it changes no existing run's
    /// hash, draws or files.
    pub default: Option<f64>,
}

impl CostParam {
    /// A required parameter (see [`CostParam::default`]).
    pub const fn required(name: &'static str, rule: Rule, doc: &'static str) -> CostParam {
        CostParam {
            name,
            rule,
            doc,
            default: None,
        }
    }

    /// Whether value `v` is written (required, or away from its default).
    pub fn is_written(&self, v: f64) -> bool {
        self.default.is_none_or(|d| v != d)
    }
}

/// One cost distribution F: its name in `population.cost.dist`, its parameters, and how their
/// values make a [`CostDist`]. The one declaration the scenario reader, the sweep, the
/// canonical text (the scenario hash), the draw key ([`crate::draw_key`]), the output labels
/// and the listings iterate; its formula is [`CostDist::sampler`].
#[derive(Clone, Copy, Debug)]
pub struct CostDistSpec {
    /// Its name (`population.cost.dist`).
    pub name: &'static str,
    /// What it draws (docs and listings).
    pub doc: &'static str,
    /// Its parameters, in the order they are written.
    pub params: &'static [CostParam],
    /// The distribution with these values, one per parameter in order.
    pub make: fn(&[f64]) -> CostDist,
}

/// `uniform`.
pub const UNIFORM: CostDistSpec = CostDistSpec {
    name: "uniform",
    doc: "c = low + (high − low)·U, U uniform on [0, 1) with 53 random bits",
    params: &[
        CostParam::required("low", Rule::NonNeg, "lower end of the support"),
        CostParam::required("high", Rule::NonNeg, "upper end of the support (>= low)"),
    ],
    make: |v| CostDist::Uniform {
        low: v[0],
        high: v[1],
    },
};

/// `beta`.
pub const BETA: CostDistSpec = CostDistSpec {
    name: "beta",
    doc: "Beta(alpha, beta) on [0, 1]",
    params: &[
        CostParam::required("alpha", Rule::Pos, "shape alpha"),
        CostParam::required("beta", Rule::Pos, "shape beta"),
    ],
    make: |v| CostDist::Beta {
        alpha: v[0],
        beta: v[1],
    },
};

/// `lognormal`.
pub const LOGNORMAL: CostDistSpec = CostDistSpec {
    name: "lognormal",
    doc: "c = exp(mu + sigma·Z), Z ~ N(0, 1)",
    params: &[
        CostParam::required("mu", Rule::Any, "location of log c"),
        CostParam::required("sigma", Rule::NonNeg, "scale of log c"),
    ],
    make: |v| CostDist::LogNormal {
        mu: v[0],
        sigma: v[1],
    },
};

/// `constant`.
pub const CONSTANT: CostDistSpec = CostDistSpec {
    name: "constant",
    doc: "every user has the same cost",
    params: &[CostParam::required("value", Rule::NonNeg, "the cost c")],
    make: |v| CostDist::Constant { value: v[0] },
};

/// Every cost distribution a scenario may name, in the order listings and errors give them.
pub const COST_DISTS: [CostDistSpec; 4] = [UNIFORM, BETA, LOGNORMAL, CONSTANT];

impl CostDist {
    /// Its declaration and its parameter values, in the declaration's order: the one place
    /// that lists a variant's fields.
    pub fn parts(&self) -> (&'static CostDistSpec, Vec<f64>) {
        match *self {
            CostDist::Uniform { low, high } => (&UNIFORM, vec![low, high]),
            CostDist::Beta { alpha, beta } => (&BETA, vec![alpha, beta]),
            CostDist::LogNormal { mu, sigma } => (&LOGNORMAL, vec![mu, sigma]),
            CostDist::Constant { value } => (&CONSTANT, vec![value]),
        }
    }

    /// The distribution's name as written in scenarios (`population.cost.dist`).
    pub fn name(&self) -> &'static str {
        self.parts().0.name
    }

    /// The distribution's parameters as written: (name, value) in declaration order, without an
    /// optional parameter at its default ([`CostParam::is_written`]).
    pub fn params(&self) -> Vec<(&'static str, f64)> {
        let (spec, values) = self.parts();
        spec.params
            .iter()
            .zip(values)
            .filter(|(p, v)| p.is_written(*v))
            .map(|(p, v)| (p.name, v))
            .collect()
    }

    /// The same distribution with parameter `i` (of its declaration) set to `v`.
    pub fn with_param(&self, i: usize, v: f64) -> CostDist {
        let (spec, mut values) = self.parts();
        values[i] = v;
        (spec.make)(&values)
    }

    /// The smallest and largest values it can draw (the closure of its support): what a draw
    /// that must lie in a range (a threshold in [0, 1]) is checked against.
    pub fn support(&self) -> (f64, f64) {
        match *self {
            CostDist::Uniform { low, high } => (low, high),
            CostDist::Beta { .. } => (0.0, 1.0),
            CostDist::LogNormal { sigma: 0.0, mu } => {
                (crate::variates::exp(mu), crate::variates::exp(mu))
            }
            CostDist::LogNormal { .. } => (0.0, f64::INFINITY),
            CostDist::Constant { value } => (value, value),
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Each declaration makes its own variant, and the variant lists its values in the
    /// declaration's order: `make` and `parts` are inverse.
    #[test]
    fn declarations_and_variants_agree() {
        let mut names = std::collections::BTreeSet::new();
        for spec in &COST_DISTS {
            assert!(names.insert(spec.name), "{} declared twice", spec.name);
            let values: Vec<f64> = (0..spec.params.len())
                .map(|i| 0.25 + 0.5 * i as f64)
                .collect();
            let dist = (spec.make)(&values);
            let (found, back) = dist.parts();
            assert_eq!((found.name, back.clone()), (spec.name, values.clone()));
            assert_eq!(dist.name(), spec.name);
            for i in 0..values.len() {
                let moved = dist.with_param(i, 9.0);
                let mut expected = values.clone();
                expected[i] = 9.0;
                assert_eq!(moved.parts().1, expected, "{} param {i}", spec.name);
            }
        }
    }

    /// A parameter added later (with a default) is written only away from it.
    #[test]
    fn parameters_added_later_are_written_only_away_from_their_default() {
        let later = CostParam {
            default: Some(0.0),
            ..CostParam::required("shift", Rule::Any, "")
        };
        assert!(!later.is_written(0.0));
        assert!(later.is_written(0.5));
        assert!(CostParam::required("mu", Rule::Any, "").is_written(0.0));
        for spec in &COST_DISTS {
            assert!(
                spec.params.iter().all(|p| p.default.is_none()),
                "{}",
                spec.name
            );
        }
    }
}
