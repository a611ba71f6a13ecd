//! Plugin parameters declared once: a [`ParamSpec`] per key (name, kind, range, default, meaning)
//! from which the scenario loader validates `[mechanism.NAME]` and strategy tables, sweeps take
//! their ranges, `datapact schema`-style docs are written, and the typed struct is filled.
//!
//! Values travel as [`ParamValues`], one `f64` per spec in declaration order (integers are stored
//! exactly as `f64`), so a sweep can set any of them and a cell's parameters hash bit for bit. The
//! [`params!`](crate::params!) macro declares a typed struct and its specs in one place.

/// The range rule of a numeric value; every rule also requires a finite value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Rule {
    /// Any finite number.
    Any,
    /// `[0, inf)`.
    NonNeg,
    /// `(0, inf)`.
    Pos,
    /// `[0, 1]`.
    Unit,
    /// `(0, 1]`.
    UnitOpen0,
    /// `(-1, inf)`.
    GtNeg1,
    /// `[1, inf)`.
    AtLeast1,
    /// Integers in `[min, max]`.
    Int {
        /// Smallest allowed value.
        min: i64,
        /// Largest allowed value.
        max: i64,
    },
}

impl Rule {
    /// Whether `v` satisfies the rule (finite, in range, integral for `Int`).
    pub fn ok(self, v: f64) -> bool {
        v.is_finite()
            && match self {
                Rule::Any => true,
                Rule::NonNeg => v >= 0.0,
                Rule::Pos => v > 0.0,
                Rule::Unit => (0.0..=1.0).contains(&v),
                Rule::UnitOpen0 => v > 0.0 && v <= 1.0,
                Rule::GtNeg1 => v > -1.0,
                Rule::AtLeast1 => v >= 1.0,
                Rule::Int { min, max } => v.fract() == 0.0 && v >= min as f64 && v <= max as f64,
            }
    }

    /// The allowed range as written in error messages and docs.
    pub fn desc(self) -> String {
        match self {
            Rule::Any => "any finite number".into(),
            Rule::NonNeg => "[0, inf)".into(),
            Rule::Pos => "(0, inf)".into(),
            Rule::Unit => "[0, 1]".into(),
            Rule::UnitOpen0 => "(0, 1]".into(),
            Rule::GtNeg1 => "(-1, inf)".into(),
            Rule::AtLeast1 => "[1, inf)".into(),
            Rule::Int { min, max } if max == i64::MAX => format!("integers >= {min}"),
            Rule::Int { min, max } => format!("integers in [{min}, {max}]"),
        }
    }

    /// Whether values must be integers.
    pub fn is_int(self) -> bool {
        matches!(self, Rule::Int { .. })
    }
}

/// One parameter of a plugin: the key in its scenario table, its range, default and meaning.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ParamSpec {
    /// Key in the scenario table (`[mechanism.NAME] key = ...`).
    pub key: &'static str,
    /// Allowed values (`Rule::Int` for integer keys).
    pub rule: Rule,
    /// Value when the key is absent.
    pub default: f64,
    /// What the parameter means (for docs and `datapact schema`).
    pub doc: &'static str,
}

/// A plugin's parameter values, one per [`ParamSpec`] in declaration order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ParamValues(pub Vec<f64>);

impl ParamValues {
    /// Every spec at its default.
    pub fn defaults(specs: &[ParamSpec]) -> Self {
        ParamValues(specs.iter().map(|s| s.default).collect())
    }

    /// The value at position `i` (the default if the values are shorter, e.g. `Game::default()`).
    pub fn at(&self, specs: &[ParamSpec], i: usize) -> f64 {
        self.0.get(i).copied().unwrap_or(specs[i].default)
    }

    /// Sets the value of `key`; false if `specs` has no such key.
    pub fn set(&mut self, specs: &[ParamSpec], key: &str, v: f64) -> bool {
        let Some(i) = specs.iter().position(|s| s.key == key) else {
            return false;
        };
        if self.0.len() < specs.len() {
            let from = self.0.len();
            self.0.extend(specs[from..].iter().map(|s| s.default));
        }
        self.0[i] = v;
        true
    }

    /// Whether two value sets are equal bit for bit (a cache key: `-0.0 != 0.0`, NaN equal).
    pub fn same_bits(&self, other: &ParamValues) -> bool {
        self.0.len() == other.0.len()
            && self
                .0
                .iter()
                .zip(&other.0)
                .all(|(a, b)| a.to_bits() == b.to_bits())
    }
}

/// A typed parameter struct (usually written with [`params!`](crate::params!)).
pub trait Params: Clone + std::fmt::Debug + Send + Sync + 'static {
    /// The declaration of every key, in field order.
    const SPECS: &'static [ParamSpec];
    /// The struct from validated values (one per spec).
    fn from_values(values: &ParamValues) -> Self;
}

/// A plugin without parameters.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct NoParams;

impl Params for NoParams {
    const SPECS: &'static [ParamSpec] = &[];
    fn from_values(_: &ParamValues) -> Self {
        NoParams
    }
}

/// Declares a plugin's parameter struct and its [`ParamSpec`]s in one place.
///
/// ```
/// datapact_model::params! {
///     /// Parameters of the deposit mechanism.
///     pub struct DepositParams {
///         /// Deposit per unit of data, forfeited by a user who withdraws.
///         amount: f64 = 0.05, NonNeg;
///         /// Users allowed to withdraw.
///         limit: u32 = 5, Int { min: 0, max: 1000 };
///     }
/// }
/// let p = <DepositParams as datapact_model::param::Params>::from_values(
///     &datapact_model::param::ParamValues(vec![0.2, 3.0]),
/// );
/// assert_eq!((p.amount, p.limit), (0.2, 3));
/// ```
///
/// Each field is `name: type = default, rule;` with a numeric type (`f64`, or an integer type
/// with an `Int` rule) and a [`Rule`]; its doc comment becomes the key's documentation.
#[macro_export]
macro_rules! params {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident {
            $(
                #[doc = $doc:literal]
                $field:ident : $ty:ty = $default:literal, $rule:ident $({ $($rule_args:tt)* })?
            );* $(;)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq)]
        $vis struct $name {
            $(
                #[doc = $doc]
                pub $field: $ty,
            )*
        }

        impl Default for $name {
            fn default() -> Self {
                $name { $($field: $default as $ty),* }
            }
        }

        impl $crate::param::Params for $name {
            const SPECS: &'static [$crate::param::ParamSpec] = &[
                $($crate::param::ParamSpec {
                    key: stringify!($field),
                    rule: $crate::param::Rule::$rule $({ $($rule_args)* })?,
                    default: $default as f64,
                    doc: $doc.trim_ascii(),
                }),*
            ];

            #[allow(unused_assignments, unused_variables, unused_mut)]
            fn from_values(values: &$crate::param::ParamValues) -> Self {
                let mut i = 0;
                $(
                    let $field = values.at(Self::SPECS, i) as $ty;
                    i += 1;
                )*
                $name { $($field),* }
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    crate::params! {
        /// Test parameters.
        struct Two {
            /// A share.
            share: f64 = 0.25, Unit;
            /// A count.
            count: u32 = 3, Int { min: 1, max: 9 };
        }
    }

    #[test]
    fn specs_follow_the_declaration() {
        let specs = <Two as Params>::SPECS;
        assert_eq!(specs.len(), 2);
        assert_eq!(
            (specs[0].key, specs[0].rule, specs[0].default),
            ("share", Rule::Unit, 0.25)
        );
        assert_eq!(specs[0].doc, "A share.");
        assert_eq!(specs[1].rule, Rule::Int { min: 1, max: 9 });
        assert_eq!(
            Two::default(),
            Two {
                share: 0.25,
                count: 3
            }
        );
    }

    #[test]
    fn values_fill_fields_in_order_and_missing_ones_default() {
        let two = Two::from_values(&ParamValues(vec![0.5, 7.0]));
        assert_eq!(
            two,
            Two {
                share: 0.5,
                count: 7
            }
        );
        assert_eq!(Two::from_values(&ParamValues::default()), Two::default());
        let mut v = ParamValues::default();
        assert!(v.set(<Two as Params>::SPECS, "count", 2.0));
        assert!(!v.set(<Two as Params>::SPECS, "missing", 2.0));
        assert_eq!(v.0, vec![0.25, 2.0]);
    }

    #[test]
    fn rules_check_ranges_and_finiteness() {
        assert!(Rule::Unit.ok(1.0) && !Rule::Unit.ok(1.5) && !Rule::Any.ok(f64::NAN));
        assert!(Rule::Int { min: 0, max: 3 }.ok(3.0) && !Rule::Int { min: 0, max: 3 }.ok(2.5));
        assert!(Rule::AtLeast1.ok(1.0) && !Rule::AtLeast1.ok(0.99));
    }
}
