//! Variation operators: simulated binary crossover (SBX) and polynomial mutation (PM) for
//! numeric variables, exactly as pymoo 0.6 applies them in its NSGA-II, and uniform crossover
//! with a random-reset mutation for categorical ones.
//!
//! pymoo's defaults, read from its source (`pymoo/algorithms/moo/nsga2.py`,
//! `operators/crossover/sbx.py`, `operators/mutation/pm.py`, `core/crossover.py`,
//! `core/mutation.py`): `SBX(eta=15, prob=0.9)` crosses a mating with probability 0.9, and then
//! each variable with probability 0.5 (`prob_var`), after which the two children's values of
//! that variable are exchanged with probability 0.5 (`prob_bin`); `PM(eta=20)` mutates an
//! offspring with probability 0.9 (`prob`), and then each variable with probability
//! `min(0.5, 1/n_var)`. Integers are varied as reals and rounded (pymoo's rounding repair).

use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::exact;
use crate::rng::{below, uniform};
use crate::space::{Point, Space, Value, Variable};

/// Simulated binary crossover (Deb & Agrawal 1995) with pymoo's parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Crossover {
    /// The probability that a mating crosses at all (else the children copy the parents): 0.9.
    #[serde(with = "exact")]
    pub probability: f64,
    /// The probability that a numeric variable of a crossing mating is crossed: 0.5.
    #[serde(with = "exact")]
    pub variable_probability: f64,
    /// The distribution index η_c (larger keeps children nearer their parents): 15.
    #[serde(with = "exact")]
    pub eta: f64,
    /// The probability that the two children exchange a variable's values: 0.5. For a
    /// categorical variable this is the whole crossover (uniform crossover).
    #[serde(with = "exact")]
    pub exchange_probability: f64,
}

impl Default for Crossover {
    fn default() -> Self {
        Crossover {
            probability: 0.9,
            variable_probability: 0.5,
            eta: 15.0,
            exchange_probability: 0.5,
        }
    }
}

/// Polynomial mutation (Deb & Goyal 1996, the bounded form) with pymoo's parameters; a
/// categorical variable chosen for mutation takes a different label, uniformly.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Mutation {
    /// The probability that an offspring is mutated at all: 0.9.
    #[serde(with = "exact")]
    pub probability: f64,
    /// The probability that a variable of a mutated offspring mutates; `None` is pymoo's
    /// `min(0.5, 1 / n_var)`.
    pub variable_probability: Option<f64>,
    /// The distribution index η_m: 20.
    #[serde(with = "exact")]
    pub eta: f64,
}

impl Default for Mutation {
    fn default() -> Self {
        Mutation {
            probability: 0.9,
            variable_probability: None,
            eta: 20.0,
        }
    }
}

impl Mutation {
    /// The per-variable probability for a space of `n_var` variables.
    pub fn variable_probability(&self, n_var: usize) -> f64 {
        self.variable_probability
            .unwrap_or_else(|| (1.0 / n_var as f64).min(0.5))
    }
}

/// Closer than this, two parents' values are not crossed (pymoo's `eps`).
const TOO_CLOSE: f64 = 1e-14;

/// Two children of parents `a` and `b`.
pub(crate) fn crossover(
    space: &Space,
    c: &Crossover,
    a: &Point,
    b: &Point,
    rng: &mut ChaCha8Rng,
) -> (Point, Point) {
    let (mut x, mut y) = (a.clone(), b.clone());
    if uniform(rng) >= c.probability {
        return (x, y);
    }
    for (i, var) in space.variables().iter().enumerate() {
        match var {
            Variable::Categorical { .. } => {
                if uniform(rng) < c.exchange_probability {
                    std::mem::swap(&mut x[i], &mut y[i]);
                }
            }
            Variable::Real { .. } | Variable::Integer { .. } => {
                let (lower, upper) = var.bounds().expect("numeric variable");
                if uniform(rng) >= c.variable_probability {
                    continue;
                }
                let (p1, p2) = (a[i].as_f64(), b[i].as_f64());
                if (p1 - p2).abs() <= TOO_CLOSE {
                    continue;
                }
                let (c1, c2) = sbx_pair(p1, p2, lower, upper, c.eta, uniform(rng));
                // c1 lies nearer the smaller parent: give it to that parent's child.
                let (mut u, mut v) = if p1 < p2 { (c1, c2) } else { (c2, c1) };
                if uniform(rng) < c.exchange_probability {
                    std::mem::swap(&mut u, &mut v);
                }
                x[i] = numeric(var, u);
                y[i] = numeric(var, v);
            }
        }
    }
    (x, y)
}

/// The SBX children of `p1 ≠ p2` in `[lower, upper]` for the uniform draw `r`, smaller first
/// (pymoo's `cross_sbx`, one variable).
fn sbx_pair(p1: f64, p2: f64, lower: f64, upper: f64, eta: f64, r: f64) -> (f64, f64) {
    let (y1, y2) = if p1 < p2 { (p1, p2) } else { (p2, p1) };
    let delta = y2 - y1;
    let betaq = |beta: f64| {
        let alpha = 2.0 - libm::pow(beta, -(eta + 1.0));
        if r <= 1.0 / alpha {
            libm::pow(r * alpha, 1.0 / (eta + 1.0))
        } else {
            libm::pow(1.0 / (2.0 - r * alpha), 1.0 / (eta + 1.0))
        }
    };
    let c1 = 0.5 * ((y1 + y2) - betaq(1.0 + 2.0 * (y1 - lower) / delta) * delta);
    let c2 = 0.5 * ((y1 + y2) + betaq(1.0 + 2.0 * (upper - y2) / delta) * delta);
    (c1.clamp(lower, upper), c2.clamp(lower, upper))
}

/// Mutates `x` in place.
pub(crate) fn mutate(space: &Space, m: &Mutation, x: &mut Point, rng: &mut ChaCha8Rng) {
    if uniform(rng) >= m.probability {
        return;
    }
    let pv = m.variable_probability(space.len());
    for (i, var) in space.variables().iter().enumerate() {
        if uniform(rng) >= pv {
            continue;
        }
        match var {
            Variable::Categorical { labels, .. } => {
                let Value::Label(current) = x[i] else {
                    continue;
                };
                // A different label, uniformly among the others.
                let k = below(rng, labels.len() - 1);
                x[i] = Value::Label(if k >= current { k + 1 } else { k });
            }
            Variable::Real { .. } | Variable::Integer { .. } => {
                let (lower, upper) = var.bounds().expect("numeric variable");
                let y = polynomial(x[i].as_f64(), lower, upper, m.eta, uniform(rng));
                x[i] = numeric(var, y);
            }
        }
    }
}

/// The bounded polynomial mutation of `x` in `[lower, upper]` for the uniform draw `r`
/// (pymoo's `mut_pm`, one variable).
fn polynomial(x: f64, lower: f64, upper: f64, eta: f64, r: f64) -> f64 {
    let range = upper - lower;
    let (delta1, delta2) = ((x - lower) / range, (upper - x) / range);
    let power = 1.0 / (eta + 1.0);
    let deltaq = if r <= 0.5 {
        let val = 2.0 * r + (1.0 - 2.0 * r) * libm::pow(1.0 - delta1, eta + 1.0);
        libm::pow(val, power) - 1.0
    } else {
        let val = 2.0 * (1.0 - r) + 2.0 * (r - 0.5) * libm::pow(1.0 - delta2, eta + 1.0);
        1.0 - libm::pow(val, power)
    };
    (x + deltaq * range).clamp(lower, upper)
}

/// The value of numeric variable `var` at real `x` (rounded and clamped for an integer).
fn numeric(var: &Variable, x: f64) -> Value {
    match *var {
        Variable::Integer { lower, upper, .. } => {
            Value::Integer((x.round() as i64).clamp(lower, upper))
        }
        _ => Value::Real(x),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{Phase, stream};

    #[test]
    fn sbx_children_are_symmetric_about_the_parents_mean_and_stay_in_bounds() {
        let mut rng = stream(3, 0, Phase::Ask);
        for _ in 0..2000 {
            let (p1, p2) = (0.2 + 0.1 * uniform(&mut rng), 0.6 * uniform(&mut rng));
            let (c1, c2) = sbx_pair(p1, p2, 0.0, 1.0, 15.0, uniform(&mut rng));
            assert!((0.0..=1.0).contains(&c1) && (0.0..=1.0).contains(&c2));
            assert!(c1 <= c2);
        }
        // Far from the bounds the spread factor is the unbounded SBX's: with r = 0.5 the
        // children equal the parents (β = 1 up to the bound correction), and a small r
        // contracts them.
        let (c1, c2) = sbx_pair(0.49, 0.51, 0.0, 1.0, 15.0, 0.5);
        assert!((c1 + c2 - 1.0).abs() < 1e-12);
        assert!(
            (c1 - 0.49).abs() < 1e-6 && (c2 - 0.51).abs() < 1e-6,
            "{c1} {c2}"
        );
        let (c1, c2) = sbx_pair(0.4, 0.6, 0.0, 1.0, 15.0, 0.01);
        assert!((c1 + c2 - 1.0).abs() < 1e-12);
        assert!(c2 - c1 < 0.2);
    }

    #[test]
    fn polynomial_mutation_stays_in_bounds_and_is_centred_on_the_parent() {
        let mut rng = stream(4, 0, Phase::Ask);
        let n = 20_000;
        let ys: Vec<f64> = (0..n)
            .map(|_| polynomial(0.5, 0.0, 1.0, 20.0, uniform(&mut rng)))
            .collect();
        assert!(ys.iter().all(|y| (0.0..=1.0).contains(y)));
        let mean = ys.iter().sum::<f64>() / n as f64;
        assert!((mean - 0.5).abs() < 0.002, "{mean}");
        // At a bound, the mutation only moves inwards.
        assert!(polynomial(0.0, 0.0, 1.0, 20.0, 0.3) >= 0.0);
        assert_eq!(polynomial(1.0, 0.0, 1.0, 20.0, 0.5), 1.0);
    }

    #[test]
    fn categorical_and_integer_variables_stay_valid_and_do_vary() {
        let space = Space::new(vec![
            Variable::categorical("rule", ["a", "b", "c"]),
            Variable::integer("n", 0, 4),
        ])
        .unwrap();
        let mut rng = stream(5, 0, Phase::Ask);
        let every = Mutation {
            probability: 1.0,
            variable_probability: Some(1.0),
            eta: 20.0,
        };
        let mut seen_labels = [false; 3];
        let mut seen_ints = [false; 5];
        for _ in 0..500 {
            let mut x = vec![Value::Label(1), Value::Integer(2)];
            mutate(&space, &every, &mut x, &mut rng);
            assert!(space.contains(&x));
            assert_ne!(x[0], Value::Label(1), "a mutated label always changes");
            let Value::Label(l) = x[0] else { panic!() };
            let Value::Integer(k) = x[1] else { panic!() };
            seen_labels[l] = true;
            seen_ints[k as usize] = true;
            let (u, v) = crossover(
                &space,
                &Crossover::default(),
                &vec![Value::Label(0), Value::Integer(0)],
                &vec![Value::Label(2), Value::Integer(4)],
                &mut rng,
            );
            assert!(space.contains(&u) && space.contains(&v));
            // Uniform crossover: the children hold the parents' labels between them.
            let mut labels = [u[0], v[0]];
            labels.sort_by_key(|v| v.as_f64() as usize);
            assert_eq!(labels, [Value::Label(0), Value::Label(2)]);
        }
        assert_eq!(seen_labels, [true, false, true]);
        assert!(
            seen_ints.iter().filter(|&&s| s).count() >= 3,
            "{seen_ints:?}"
        );
    }

    #[test]
    fn default_variable_probability_is_pymoos() {
        let m = Mutation::default();
        assert_eq!(m.variable_probability(30), 1.0 / 30.0);
        assert_eq!(m.variable_probability(1), 0.5);
    }
}
