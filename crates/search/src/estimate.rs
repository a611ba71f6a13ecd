//! A noisy value: the mean over replications and its standard error.

use serde::{Deserialize, Serialize};

use crate::exact;

/// A mean over replications with its standard error (SE 0 for an exact value).
///
/// Objectives are minimised and a constraint is met when its value is at most 0; the helpers
/// turn a maximised metric or a bound on a metric into that form without touching the SE.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    /// The mean.
    #[serde(with = "exact")]
    pub mean: f64,
    /// The standard error of the mean.
    #[serde(with = "exact")]
    pub se: f64,
}

impl Estimate {
    /// A mean with its standard error.
    pub fn new(mean: f64, se: f64) -> Self {
        Estimate { mean, se }
    }

    /// An exact value (SE 0).
    pub fn exact(value: f64) -> Self {
        Estimate {
            mean: value,
            se: 0.0,
        }
    }

    /// The negated estimate: a metric to maximise becomes an objective to minimise.
    pub fn negated(self) -> Self {
        Estimate {
            mean: -self.mean,
            se: self.se,
        }
    }

    /// The constraint "metric ≥ `min`" as a value that is ≤ 0 when met: `min − mean`.
    pub fn at_least(self, min: f64) -> Self {
        Estimate {
            mean: min - self.mean,
            se: self.se,
        }
    }

    /// The constraint "metric ≤ `max`" as a value that is ≤ 0 when met: `mean − max`.
    pub fn at_most(self, max: f64) -> Self {
        Estimate {
            mean: self.mean - max,
            se: self.se,
        }
    }

    /// The estimate over the replications of both `self` (`n_self` of them) and `other`
    /// (`n_other`), independent batches: the mean weighted by replications and the SE of that
    /// weighted mean, `sqrt((n₁² se₁² + n₂² se₂²)) / (n₁ + n₂)`. Weights by replication count, not
    /// by inverse estimated variance, which would favour batches whose SE came out small by
    /// chance and bias the pooled mean.
    pub fn pooled(self, n_self: u64, other: Estimate, n_other: u64) -> Estimate {
        let (a, b) = (n_self as f64, n_other as f64);
        let n = a + b;
        Estimate {
            mean: (a * self.mean + b * other.mean) / n,
            se: ((a * self.se).powi(2) + (b * other.se).powi(2)).sqrt() / n,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pooling_two_batches_equals_the_statistics_of_all_replications() {
        // Replications 1..=4 and 5..=10 of x_i = i²; the pooled mean is the mean of all ten and
        // the pooled SE squares to the sum of each batch's contribution to the overall mean.
        let xs: Vec<f64> = (1..=10).map(|i| f64::from(i * i)).collect();
        let stats = |s: &[f64]| {
            let n = s.len() as f64;
            let m = s.iter().sum::<f64>() / n;
            let v = s.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0);
            Estimate::new(m, (v / n).sqrt())
        };
        let (a, b) = (stats(&xs[..4]), stats(&xs[4..]));
        let p = a.pooled(4, b, 6);
        assert!((p.mean - xs.iter().sum::<f64>() / 10.0).abs() < 1e-12);
        let expected = ((4.0 * a.se / 10.0).powi(2) + (6.0 * b.se / 10.0).powi(2)).sqrt();
        assert!((p.se - expected).abs() < 1e-12);
        // Equal batches of equal SE: the SE falls by √2.
        let e = Estimate::new(1.0, 0.2).pooled(5, Estimate::new(3.0, 0.2), 5);
        assert_eq!(e.mean, 2.0);
        assert!((e.se - 0.2 / 2f64.sqrt()).abs() < 1e-15);
    }

    #[test]
    fn senses_and_bounds_become_minimised_values_and_violations() {
        let e = Estimate::new(0.95, 0.01);
        assert_eq!(e.negated(), Estimate::new(-0.95, 0.01));
        assert!(e.at_least(0.9).mean <= 0.0);
        assert!(e.at_least(0.99).mean > 0.0);
        assert!(e.at_most(1.0).mean <= 0.0);
        assert!(e.at_most(0.5).mean > 0.0);
        assert_eq!(e.at_least(0.9).se, 0.01);
    }
}
