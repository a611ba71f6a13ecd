//! Typed readers over the located TOML tree: every value is checked for its type and range, and
//! every error names the origin, line and key.

use datapact_model::Rule;

use std::path::Path;

use crate::ScenarioError;
use crate::tree::{Loc, Node, Val};

pub(crate) type Res<T> = Result<T, ScenarioError>;

pub(crate) struct Cx<'a> {
    pub origin: &'a str,
}

impl Cx<'_> {
    pub(crate) fn err(&self, loc: &Loc, key: &str, message: impl Into<String>) -> ScenarioError {
        let (origin, line) = match loc {
            Loc::File(line) => (self.origin.to_string(), *line),
            Loc::Set(k) => (format!("--set {k}"), None),
        };
        ScenarioError {
            origin,
            line,
            key: (!key.is_empty()).then(|| key.to_string()),
            message: message.into(),
        }
    }
}

/// A view of one table of the tree.
pub(crate) struct Tbl<'a> {
    pub path: String,
    pub loc: Loc,
    pub entries: &'a [(String, Node)],
}

impl<'a> Tbl<'a> {
    pub(crate) fn full(&self, k: &str) -> String {
        if self.path.is_empty() {
            k.to_string()
        } else {
            format!("{}.{k}", self.path)
        }
    }

    pub(crate) fn check_keys(&self, cx: &Cx, allowed: &[&str]) -> Res<()> {
        for (k, n) in self.entries {
            if !allowed.contains(&k.as_str()) {
                let full = self.full(k);
                return Err(cx.err(
                    &n.loc,
                    &full,
                    format!("unknown key `{full}`; allowed: {}", allowed.join(", ")),
                ));
            }
        }
        Ok(())
    }

    pub(crate) fn get(&self, k: &str) -> Option<&'a Node> {
        self.entries
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, n)| n)
    }

    pub(crate) fn require(&self, cx: &Cx, k: &str) -> Res<&'a Node> {
        self.get(k).ok_or_else(|| {
            let full = self.full(k);
            cx.err(&self.loc, &full, format!("missing required key `{full}`"))
        })
    }

    pub(crate) fn sub(&self, cx: &Cx, k: &str) -> Res<Option<Tbl<'a>>> {
        match self.get(k) {
            None => Ok(None),
            Some(n) => Ok(Some(as_table(cx, &self.full(k), n)?)),
        }
    }

    pub(crate) fn num(&self, cx: &Cx, k: &str, rule: Rule, default: f64) -> Res<f64> {
        match self.get(k) {
            None => Ok(default),
            Some(n) => number(cx, &self.full(k), n, rule),
        }
    }

    pub(crate) fn int(&self, cx: &Cx, k: &str, rule: Rule, default: i64) -> Res<i64> {
        match self.get(k) {
            None => Ok(default),
            Some(n) => integer(cx, &self.full(k), n, rule),
        }
    }

    pub(crate) fn choice(&self, cx: &Cx, k: &str, options: &[&str], default: &str) -> Res<String> {
        match self.get(k) {
            None => Ok(default.to_string()),
            Some(n) => choice(cx, &self.full(k), n, options),
        }
    }
}

pub(crate) fn as_table<'a>(cx: &Cx, key: &str, n: &'a Node) -> Res<Tbl<'a>> {
    match &n.val {
        Val::Table(t) => Ok(Tbl {
            path: key.to_string(),
            loc: n.loc.clone(),
            entries: t,
        }),
        other => Err(cx.err(
            &n.loc,
            key,
            format!("{key} must be a table, found {}", other.type_name()),
        )),
    }
}

pub(crate) fn fmt_num(v: f64) -> String {
    if v.is_nan() {
        "nan".into()
    } else if v.abs() >= 1e16 {
        // 1e300 as written, not as 301 digits.
        format!("{v:e}")
    } else {
        format!("{v}")
    }
}

/// Largest magnitude of any real-valued key: with it, every quantity the model computes (sums
/// of costs, payments and values over users, rounds and replications) stays finite, so `run`
/// never meets an overflow that `validate` let through.
pub const MAX_MAGNITUDE: f64 = 1e6;

/// Keys with a tighter bound than [`MAX_MAGNITUDE`]: a lognormal cost is exp(mu + sigma·z),
/// which overflows long before mu or sigma reach it.
const TIGHTER_BOUNDS: &[(&str, f64)] = &[
    ("population.cost.mu", 100.0),
    ("population.cost.sigma", 10.0),
];

/// The largest magnitude `key` may take.
pub(crate) fn magnitude_bound(key: &str) -> f64 {
    TIGHTER_BOUNDS
        .iter()
        .find(|(k, _)| *k == key)
        .map_or(MAX_MAGNITUDE, |(_, b)| *b)
}

pub(crate) fn check(cx: &Cx, key: &str, loc: &Loc, v: f64, rule: Rule, what: &str) -> Res<f64> {
    if !v.is_finite() {
        return Err(cx.err(
            loc,
            key,
            format!(
                "{key} = {}{what} is not finite (NaN and infinity are not allowed)",
                fmt_num(v)
            ),
        ));
    }
    let bound = magnitude_bound(key);
    if !rule.is_int() && v.abs() > bound {
        return Err(cx.err(
            loc,
            key,
            format!(
                "{key} = {}{what} is out of range: allowed {} with |{key}| <= {bound:e} \
                 (larger values overflow the model's arithmetic)",
                fmt_num(v),
                rule.desc()
            ),
        ));
    }
    if !rule.ok(v) {
        return Err(cx.err(
            loc,
            key,
            format!(
                "{key} = {}{what} is out of range: allowed {}",
                fmt_num(v),
                rule.desc()
            ),
        ));
    }
    Ok(v)
}

/// A raw finite-or-not number (integer or float), no range check.
pub(crate) fn raw_number(cx: &Cx, key: &str, n: &Node) -> Res<f64> {
    match &n.val {
        Val::Int(Some(i)) => Ok(*i as f64),
        Val::Int(None) => Err(cx.err(
            &n.loc,
            key,
            format!("{key}: integer does not fit in 64 bits"),
        )),
        Val::Float(f) => Ok(*f),
        other => Err(cx.err(
            &n.loc,
            key,
            format!("{key} must be a number, found {}", other.type_name()),
        )),
    }
}

/// A number for a float key (integers accepted), range-checked.
pub(crate) fn number(cx: &Cx, key: &str, n: &Node, rule: Rule) -> Res<f64> {
    let v = raw_number(cx, key, n)?;
    check(cx, key, &n.loc, v, rule, "")
}

/// An integer for an integer key (floats rejected), range-checked.
pub(crate) fn integer(cx: &Cx, key: &str, n: &Node, rule: Rule) -> Res<i64> {
    match &n.val {
        Val::Int(Some(i)) => {
            check(cx, key, &n.loc, *i as f64, rule, "")?;
            Ok(*i)
        }
        Val::Int(None) => Err(cx.err(
            &n.loc,
            key,
            format!("{key}: integer does not fit in 64 bits"),
        )),
        Val::Float(f) => Err(cx.err(
            &n.loc,
            key,
            format!("{key} must be an integer, found float {}", fmt_num(*f)),
        )),
        other => Err(cx.err(
            &n.loc,
            key,
            format!("{key} must be an integer, found {}", other.type_name()),
        )),
    }
}

pub(crate) fn string<'a>(cx: &Cx, key: &str, n: &'a Node) -> Res<&'a str> {
    match &n.val {
        Val::Str(s) => Ok(s),
        other => Err(cx.err(
            &n.loc,
            key,
            format!("{key} must be a string, found {}", other.type_name()),
        )),
    }
}

pub(crate) fn choice(cx: &Cx, key: &str, n: &Node, options: &[&str]) -> Res<String> {
    let s = string(cx, key, n)?;
    if options.contains(&s) {
        Ok(s.to_string())
    } else {
        Err(cx.err(
            &n.loc,
            key,
            format!(
                "{key} = {s:?} is not allowed; allowed: {}",
                options
                    .iter()
                    .map(|o| format!("\"{o}\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ))
    }
}

/// A value for a plugin parameter: an integer for `Rule::Int` keys, one of the labels for
/// `Rule::OneOf` keys (its position), a number otherwise.
pub(crate) fn param_value(cx: &Cx, key: &str, n: &Node, rule: Rule) -> Res<f64> {
    if let Some(labels) = rule.labels() {
        if !matches!(n.val, Val::Str(_)) {
            return Err(cx.err(
                &n.loc,
                key,
                format!("{key} must be {}, found {}", rule.desc(), n.val.type_name()),
            ));
        }
        let s = choice(cx, key, n, labels)?;
        return Ok(labels.iter().position(|l| *l == s).unwrap_or(0) as f64);
    }
    if rule.is_int() {
        Ok(integer(cx, key, n, rule)? as f64)
    } else {
        number(cx, key, n, rule)
    }
}

impl Tbl<'_> {
    /// The values of `specs` in this table (defaults for absent keys).
    pub(crate) fn params(
        &self,
        cx: &Cx,
        specs: &[datapact_model::ParamSpec],
    ) -> Res<datapact_model::ParamValues> {
        let mut values = Vec::with_capacity(specs.len());
        for spec in specs {
            values.push(match self.get(spec.key) {
                None => spec.default,
                Some(n) => param_value(cx, &self.full(spec.key), n, spec.rule)?,
            });
        }
        Ok(datapact_model::ParamValues(values))
    }
}

/// A scenario file's text and its origin (the path, as errors name it): unreadable or invalid
/// UTF-8 is an error at the file (and line) where it is.
pub(crate) fn read_source(path: &Path) -> Result<(String, String), ScenarioError> {
    let origin = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| ScenarioError {
        origin: origin.clone(),
        line: None,
        key: None,
        message: format!("cannot read file: {e}"),
    })?;
    match String::from_utf8(bytes) {
        Ok(text) => Ok((text, origin)),
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            let line = crate::tree::LineIndex::new(&String::from_utf8_lossy(&e.as_bytes()[..at]))
                .line_of(at);
            Err(ScenarioError {
                origin,
                line: Some(line),
                key: None,
                message: format!("file is not valid UTF-8 (invalid byte at offset {at})"),
            })
        }
    }
}
