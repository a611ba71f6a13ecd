//! Plugin parameters declared once: a [`ParamSpec`] per key (name, kind, range, default, meaning)
//! from which the scenario loader validates `[mechanism.NAME]` and strategy tables, sweeps take
//! their ranges, `datapact schema`-style docs are written, and the typed struct is filled.
//!
//! Values travel as [`ParamValues`], one `f64` per spec in declaration order (integers are stored
//! exactly as `f64`, a categorical value as the position of its label), so a sweep can set any of
//! them and a cell's parameters hash bit for bit. The [`params!`](crate::params!) macro declares
//! a typed struct and its specs in one place; [`labels!`](crate::labels!) a categorical type.

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
    /// One of these labels (written as a string in scenarios, swept by label, a Utf8 column in
    /// outputs); the value is the label's position.
    OneOf(&'static [&'static str]),
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
                Rule::OneOf(labels) => v.fract() == 0.0 && v >= 0.0 && v < labels.len() as f64,
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
            Rule::OneOf(labels) => format!(
                "one of {}",
                labels
                    .iter()
                    .map(|l| format!("\"{l}\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }

    /// Whether values must be integers.
    pub fn is_int(self) -> bool {
        matches!(self, Rule::Int { .. })
    }

    /// The labels of a categorical rule ([`Rule::OneOf`]); `None` for a numeric one.
    pub fn labels(self) -> Option<&'static [&'static str]> {
        match self {
            Rule::OneOf(labels) => Some(labels),
            _ => None,
        }
    }

    /// The label of value `v` of a categorical rule, if it is one.
    pub fn label(self, v: f64) -> Option<&'static str> {
        self.labels()
            .filter(|_| self.ok(v))
            .map(|labels| labels[v as usize])
    }
}

/// A categorical parameter type: a closed set of labels (declared with
/// [`labels!`](crate::labels!)), stored as the position of its label.
pub trait Categorical: Copy + std::fmt::Debug + PartialEq + Send + Sync + 'static {
    /// The labels, in order.
    const LABELS: &'static [&'static str];
    /// The value at position `i` of [`Categorical::LABELS`].
    fn from_index(i: usize) -> Self;
}

/// The position of `label` in `labels` (a compile-time check of a `params!` default: an unknown
/// label fails to compile).
pub const fn label_index(labels: &[&str], label: &str) -> usize {
    let mut i = 0;
    while i < labels.len() {
        let (a, b) = (labels[i].as_bytes(), label.as_bytes());
        if a.len() == b.len() {
            let mut k = 0;
            while k < a.len() && a[k] == b[k] {
                k += 1;
            }
            if k == a.len() {
                return i;
            }
        }
        i += 1;
    }
    panic!("the default is not one of the labels")
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
/// datapact_model::labels! {
///     /// How the excess over the provision point goes back to its contributors.
///     pub enum Rebate {
///         /// The provider keeps it.
///         None = "none",
///         /// Back in proportion to each contribution.
///         Proportional = "proportional",
///     }
/// }
/// datapact_model::params! {
///     /// Parameters of the deposit mechanism.
///     pub struct DepositParams {
///         /// Deposit per unit of data, forfeited by a user who withdraws.
///         amount: f64 = 0.05, NonNeg;
///         /// Users allowed to withdraw.
///         limit: u32 = 5, Int { min: 0, max: 1000 };
///         /// What happens to the excess.
///         rebate: Rebate = "none", OneOf;
///     }
/// }
/// let p = <DepositParams as datapact_model::param::Params>::from_values(
///     &datapact_model::param::ParamValues(vec![0.2, 3.0, 1.0]),
/// );
/// assert_eq!((p.amount, p.limit, p.rebate), (0.2, 3, Rebate::Proportional));
/// assert_eq!(DepositParams::default().rebate, Rebate::None);
/// ```
///
/// Each field is `name: type = default, rule;` with a numeric type (`f64`, or an integer type
/// with an `Int` rule) and a [`Rule`], or a categorical type declared with
/// [`labels!`](crate::labels!), its default label and the rule `OneOf`; its doc comment becomes
/// the key's documentation.
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
                $name { $($field: $crate::__param_default!($ty, $default, $rule)),* }
            }
        }

        impl $crate::param::Params for $name {
            const SPECS: &'static [$crate::param::ParamSpec] = &[
                $($crate::param::ParamSpec {
                    key: stringify!($field),
                    rule: $crate::__param_rule!($ty, $rule $({ $($rule_args)* })?),
                    default: $crate::__param_spec_default!($ty, $default, $rule),
                    doc: $doc.trim_ascii(),
                }),*
            ];

            #[allow(unused_assignments, unused_variables, unused_mut)]
            fn from_values(values: &$crate::param::ParamValues) -> Self {
                let mut i = 0;
                $(
                    let $field = $crate::__param_from!($ty, values.at(Self::SPECS, i), $rule);
                    i += 1;
                )*
                $name { $($field),* }
            }
        }
    };
}

/// Declares a categorical parameter type for [`params!`](crate::params!): an enum whose
/// variants are its labels, in order.
#[macro_export]
macro_rules! labels {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $(
                $(#[$vmeta:meta])*
                $variant:ident = $label:literal
            ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        $vis enum $name {
            $(
                $(#[$vmeta])*
                $variant,
            )+
        }

        impl $crate::param::Categorical for $name {
            const LABELS: &'static [&'static str] = &[$($label),+];
            fn from_index(i: usize) -> Self {
                const ALL: &[$name] = &[$($name::$variant),+];
                ALL[i.min(ALL.len() - 1)]
            }
        }

        impl $name {
            /// The value's label.
            pub fn label(self) -> &'static str {
                <$name as $crate::param::Categorical>::LABELS[self as usize]
            }
        }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __param_rule {
    ($ty:ty, OneOf) => {
        $crate::param::Rule::OneOf(<$ty as $crate::param::Categorical>::LABELS)
    };
    ($ty:ty, $rule:ident $({ $($rule_args:tt)* })?) => {
        $crate::param::Rule::$rule $({ $($rule_args)* })?
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __param_spec_default {
    ($ty:ty, $default:literal, OneOf) => {
        $crate::param::label_index(<$ty as $crate::param::Categorical>::LABELS, $default) as f64
    };
    ($ty:ty, $default:literal, $rule:ident) => {
        $default as f64
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __param_default {
    ($ty:ty, $default:literal, OneOf) => {
        <$ty as $crate::param::Categorical>::from_index($crate::param::label_index(
            <$ty as $crate::param::Categorical>::LABELS,
            $default,
        ))
    };
    ($ty:ty, $default:literal, $rule:ident) => {
        $default as $ty
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __param_from {
    ($ty:ty, $v:expr, OneOf) => {
        <$ty as $crate::param::Categorical>::from_index($v as usize)
    };
    ($ty:ty, $v:expr, $rule:ident) => {
        $v as $ty
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
