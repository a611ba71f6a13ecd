//! What is searched over: named variables, each a real range, an integer range or a choice among
//! labels, and the points of that space.

use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::error::SearchError;
use crate::exact;
use crate::rng;

/// One searched variable. The integration maps a numeric scenario key to [`Variable::Real`] (or
/// [`Variable::Integer`]) and a key with a set of labels to [`Variable::Categorical`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Variable {
    /// A real number in `[lower, upper]`.
    Real {
        /// The variable's name (for the integration: the key's column name).
        name: String,
        /// The smallest value.
        #[serde(with = "exact")]
        lower: f64,
        /// The largest value.
        #[serde(with = "exact")]
        upper: f64,
    },
    /// An integer in `lower..=upper`. NSGA-II varies it as a real and rounds (as pymoo's
    /// rounding repair does); ABC-SMC does not take it.
    Integer {
        /// The variable's name.
        name: String,
        /// The smallest value.
        lower: i64,
        /// The largest value.
        upper: i64,
    },
    /// One label among `labels` (no order among them).
    Categorical {
        /// The variable's name.
        name: String,
        /// The labels, at least two, all different.
        labels: Vec<String>,
    },
}

impl Variable {
    /// A real variable on `[lower, upper]`.
    pub fn real(name: impl Into<String>, lower: f64, upper: f64) -> Self {
        Variable::Real {
            name: name.into(),
            lower,
            upper,
        }
    }

    /// An integer variable on `lower..=upper`.
    pub fn integer(name: impl Into<String>, lower: i64, upper: i64) -> Self {
        Variable::Integer {
            name: name.into(),
            lower,
            upper,
        }
    }

    /// A categorical variable over `labels`.
    pub fn categorical<S: Into<String>>(
        name: impl Into<String>,
        labels: impl IntoIterator<Item = S>,
    ) -> Self {
        Variable::Categorical {
            name: name.into(),
            labels: labels.into_iter().map(Into::into).collect(),
        }
    }

    /// The variable's name.
    pub fn name(&self) -> &str {
        match self {
            Variable::Real { name, .. }
            | Variable::Integer { name, .. }
            | Variable::Categorical { name, .. } => name,
        }
    }

    /// The bounds of a numeric variable as reals (`None` for a categorical one).
    pub fn bounds(&self) -> Option<(f64, f64)> {
        match *self {
            Variable::Real { lower, upper, .. } => Some((lower, upper)),
            Variable::Integer { lower, upper, .. } => Some((lower as f64, upper as f64)),
            Variable::Categorical { .. } => None,
        }
    }

    /// A uniform draw from the variable's range or labels.
    pub(crate) fn sample(&self, rng: &mut ChaCha8Rng) -> Value {
        match self {
            Variable::Real { lower, upper, .. } => {
                Value::Real(lower + rng::uniform(rng) * (upper - lower))
            }
            Variable::Integer { lower, upper, .. } => {
                let span = (upper - lower) as usize + 1;
                Value::Integer(lower + rng::below(rng, span) as i64)
            }
            Variable::Categorical { labels, .. } => Value::Label(rng::below(rng, labels.len())),
        }
    }

    /// Whether `value` is of this variable's kind and inside its range.
    pub fn contains(&self, value: &Value) -> bool {
        match (self, *value) {
            (Variable::Real { lower, upper, .. }, Value::Real(x)) => *lower <= x && x <= *upper,
            (Variable::Integer { lower, upper, .. }, Value::Integer(k)) => {
                *lower <= k && k <= *upper
            }
            (Variable::Categorical { labels, .. }, Value::Label(i)) => i < labels.len(),
            _ => false,
        }
    }
}

/// The value of one variable at a point.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum Value {
    /// The value of a [`Variable::Real`].
    Real(#[serde(with = "exact")] f64),
    /// The value of a [`Variable::Integer`].
    Integer(i64),
    /// The index of the chosen label of a [`Variable::Categorical`].
    Label(usize),
}

impl Value {
    /// The value as a real: the number itself, or the label's index.
    pub fn as_f64(&self) -> f64 {
        match *self {
            Value::Real(x) => x,
            Value::Integer(k) => k as f64,
            Value::Label(i) => i as f64,
        }
    }
}

/// A point of a [`Space`]: one value per variable, in the space's order.
pub type Point = Vec<Value>;

/// The variables searched over, in a fixed order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Space {
    variables: Vec<Variable>,
}

impl Space {
    /// A space over `variables`; an error names the first variable that is malformed (a range
    /// that is empty, reversed or not finite; fewer than two labels or a repeated label; a name
    /// used twice).
    pub fn new(variables: Vec<Variable>) -> Result<Self, SearchError> {
        if variables.is_empty() {
            return Err(SearchError::Space("no variables to search over".into()));
        }
        for (i, v) in variables.iter().enumerate() {
            let name = v.name();
            if variables[..i].iter().any(|w| w.name() == name) {
                return Err(SearchError::Space(format!(
                    "variable `{name}` is named twice"
                )));
            }
            match v {
                Variable::Real { lower, upper, .. } => {
                    if !(lower.is_finite() && upper.is_finite() && lower < upper) {
                        return Err(SearchError::Space(format!(
                            "variable `{name}`: the range from {lower} to {upper} must be finite with from < to"
                        )));
                    }
                }
                Variable::Integer { lower, upper, .. } => {
                    if lower >= upper {
                        return Err(SearchError::Space(format!(
                            "variable `{name}`: the integer range from {lower} to {upper} needs from < to"
                        )));
                    }
                }
                Variable::Categorical { labels, .. } => {
                    if labels.len() < 2 {
                        return Err(SearchError::Space(format!(
                            "variable `{name}`: a choice needs at least two labels, got {}",
                            labels.len()
                        )));
                    }
                    for (j, l) in labels.iter().enumerate() {
                        if labels[..j].contains(l) {
                            return Err(SearchError::Space(format!(
                                "variable `{name}`: label `{l}` is listed twice"
                            )));
                        }
                    }
                }
            }
        }
        Ok(Space { variables })
    }

    /// The variables, in order.
    pub fn variables(&self) -> &[Variable] {
        &self.variables
    }

    /// The number of variables.
    pub fn len(&self) -> usize {
        self.variables.len()
    }

    /// Never true for a space built by [`Space::new`].
    pub fn is_empty(&self) -> bool {
        self.variables.is_empty()
    }

    /// The label a categorical value stands for (`None` for a numeric value or a bad index).
    pub fn label(&self, variable: usize, value: &Value) -> Option<&str> {
        match (self.variables.get(variable)?, value) {
            (Variable::Categorical { labels, .. }, Value::Label(i)) => {
                labels.get(*i).map(String::as_str)
            }
            _ => None,
        }
    }

    /// Whether `point` has one value per variable, each of its kind and in its range.
    pub fn contains(&self, point: &[Value]) -> bool {
        point.len() == self.variables.len()
            && self.variables.iter().zip(point).all(|(v, x)| v.contains(x))
    }

    /// A point drawn uniformly (each variable independently).
    pub(crate) fn sample(&self, rng: &mut ChaCha8Rng) -> Point {
        self.variables.iter().map(|v| v.sample(rng)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{Phase, stream};

    #[test]
    fn malformed_spaces_are_refused_with_the_variable_named() {
        let bad = [
            (vec![], "no variables"),
            (vec![Variable::real("p", 0.3, 0.3)], "`p`"),
            (vec![Variable::real("p", 1.0, 0.0)], "`p`"),
            (vec![Variable::real("p", 0.0, f64::INFINITY)], "`p`"),
            (vec![Variable::integer("n", 5, 5)], "`n`"),
            (vec![Variable::categorical("rule", ["a"])], "`rule`"),
            (
                vec![Variable::categorical("rule", ["a", "b", "a"])],
                "label `a`",
            ),
            (
                vec![Variable::real("p", 0.0, 1.0), Variable::integer("p", 0, 3)],
                "named twice",
            ),
        ];
        for (vars, needle) in bad {
            let err = Space::new(vars).unwrap_err().to_string();
            assert!(err.contains(needle), "{err} lacks {needle}");
        }
    }

    #[test]
    fn samples_lie_in_the_space_and_cover_every_label_and_integer() {
        let space = Space::new(vec![
            Variable::real("p", -1.0, 2.0),
            Variable::integer("n", 3, 5),
            Variable::categorical("rule", ["a", "b", "c"]),
        ])
        .unwrap();
        let mut rng = stream(1, 0, Phase::Ask);
        let points: Vec<Point> = (0..300).map(|_| space.sample(&mut rng)).collect();
        assert!(points.iter().all(|p| space.contains(p)));
        for k in 3..=5 {
            assert!(points.iter().any(|p| p[1] == Value::Integer(k)));
        }
        for i in 0..3 {
            assert!(points.iter().any(|p| p[2] == Value::Label(i)));
        }
        assert_eq!(space.label(2, &Value::Label(1)), Some("b"));
        assert_eq!(space.label(0, &Value::Label(1)), None);
        assert!(!space.contains(&[Value::Real(0.0)]));
        assert!(!space.contains(&[Value::Real(3.0), Value::Integer(3), Value::Label(0)]));
    }
}
