//! From text (+ overrides) to a validated [`Scenario`].

use datapact_model::{CostDist, CostProcess, Game, Learning, Mechanism, Order};

use crate::tree::{self, Entries, Loc, Node, Val};
use crate::{MAX_CAMPAIGN_USERS, Scenario, ScenarioError, SweepAxis, TraceLevel, column_name};

/// Largest `steps` of one sweep axis.
pub(crate) const MAX_STEPS: i64 = 1_000_000;

type Res<T> = Result<T, ScenarioError>;

/// The range rule of a numeric key; every rule also requires a finite value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Rule {
    Any,
    NonNeg,
    Pos,
    Unit,
    UnitOpen0,
    GtNeg1,
    Int { min: i64, max: i64 },
}

impl Rule {
    fn ok(self, v: f64) -> bool {
        v.is_finite()
            && match self {
                Rule::Any => true,
                Rule::NonNeg => v >= 0.0,
                Rule::Pos => v > 0.0,
                Rule::Unit => (0.0..=1.0).contains(&v),
                Rule::UnitOpen0 => v > 0.0 && v <= 1.0,
                Rule::GtNeg1 => v > -1.0,
                Rule::Int { min, max } => v.fract() == 0.0 && v >= min as f64 && v <= max as f64,
            }
    }

    fn desc(self) -> String {
        match self {
            Rule::Any => "any finite number".into(),
            Rule::NonNeg => "[0, inf)".into(),
            Rule::Pos => "(0, inf)".into(),
            Rule::Unit => "[0, 1]".into(),
            Rule::UnitOpen0 => "(0, 1]".into(),
            Rule::GtNeg1 => "(-1, inf)".into(),
            Rule::Int { min, max } if max == i64::MAX => format!("integers >= {min}"),
            Rule::Int { min, max } => format!("integers in [{min}, {max}]"),
        }
    }

    fn is_int(self) -> bool {
        matches!(self, Rule::Int { .. })
    }
}

const GAME_NUM: [(&str, Rule); 8] = [
    ("threshold", Rule::UnitOpen0),
    ("value", Rule::NonNeg),
    ("payment", Rule::NonNeg),
    ("belief", Rule::NonNeg),
    ("obs_noise", Rule::NonNeg),
    ("drift", Rule::NonNeg),
    ("irreversible", Rule::Unit),
    ("recovery_rounds", Rule::Int { min: 0, max: 1000 }),
];
const USERS_RULE: Rule = Rule::Int {
    min: 1,
    max: MAX_CAMPAIGN_USERS as i64,
};
const ORDERS: [Order; 4] = [
    Order::SmallFirst,
    Order::LargeFirst,
    Order::Random,
    Order::CostAscending,
];

fn dist_params(dist: &str) -> Option<&'static [(&'static str, Rule)]> {
    Some(match dist {
        "uniform" => &[("low", Rule::NonNeg), ("high", Rule::NonNeg)],
        "beta" => &[("alpha", Rule::Pos), ("beta", Rule::Pos)],
        "lognormal" => &[("mu", Rule::Any), ("sigma", Rule::NonNeg)],
        "constant" => &[("value", Rule::NonNeg)],
        _ => return None,
    })
}

/// The sweepable keys, given the chosen cost distribution.
pub(crate) fn sweepable(dist: &str) -> Vec<(String, Rule)> {
    let mut v: Vec<(String, Rule)> = GAME_NUM
        .iter()
        .map(|(k, r)| (format!("game.{k}"), *r))
        .collect();
    v.push(("population.users".into(), USERS_RULE));
    for (p, r) in dist_params(dist).unwrap_or(&[]) {
        v.push((format!("population.cost.{p}"), *r));
    }
    v.push(("population.report.share".into(), Rule::Unit));
    v.push(("population.report.factor".into(), Rule::GtNeg1));
    v.push(("population.withdraw.share".into(), Rule::Unit));
    v
}

/// The linearly spaced values of a `{ from, to, steps }` axis; both endpoints exact.
///
/// Each point is the decimal a person would write: when `from`, `to` and the step
/// (to − from)/(steps − 1) are all finite decimals and every point fits in 15 significant digits,
/// point i is the f64 nearest to the exact decimal from + i·step (so `{ from = 0, to = 0.3,
/// steps = 31 }` holds 0.03, not 0.029999999999999995, and `WHERE value = 0.03` finds it).
/// Otherwise (e.g. a step of 1/3) point i is from + (to − from)·i/(steps − 1) in f64.
pub(crate) fn linspace(from: f64, to: f64, steps: usize) -> Vec<f64> {
    if steps <= 1 {
        return vec![from];
    }
    let last = steps - 1;
    let decimal = DecimalAxis::new(from, to, last);
    (0..steps)
        .map(|i| {
            if i == 0 {
                from
            } else if i == last {
                to
            } else if let Some(axis) = &decimal {
                axis.point(i)
            } else {
                from + (to - from) * (i as f64) / (last as f64)
            }
        })
        .collect()
}

/// An axis whose points are exact decimals: point i = (start + i·step)·10^−decimals, all
/// integers below 10^15 in magnitude (15 significant digits, so each is exact in f64 and the
/// division by 10^decimals ≤ 10^22, also exact, rounds once: to the f64 nearest the decimal, the
/// same value as parsing its literal).
struct DecimalAxis {
    start: i64,
    step: i64,
    scale: f64,
}

impl DecimalAxis {
    /// Largest |numerator| of a point: 15 significant digits.
    const MAX_NUMERATOR: i128 = 1_000_000_000_000_000;
    /// Largest power of ten that is exact in f64.
    const MAX_DECIMALS: i32 = 22;

    fn new(from: f64, to: f64, intervals: usize) -> Option<DecimalAxis> {
        let (from_digits, from_exp) = shortest_decimal(from)?;
        let (to_digits, to_exp) = shortest_decimal(to)?;
        let intervals = i128::try_from(intervals).ok()?;
        // Write both endpoints over the same power of ten, then add decimals until the interval
        // count divides the span exactly.
        let mut decimals = (-from_exp.min(to_exp)).max(0);
        let scaled = |digits: i128, exp: i32, decimals: i32| {
            digits.checked_mul(10i128.checked_pow(u32::try_from(exp + decimals).ok()?)?)
        };
        loop {
            if decimals > Self::MAX_DECIMALS {
                return None;
            }
            let start = scaled(from_digits, from_exp, decimals)?;
            let end = scaled(to_digits, to_exp, decimals)?;
            if start.abs() >= Self::MAX_NUMERATOR || end.abs() >= Self::MAX_NUMERATOR {
                return None;
            }
            let span = end - start;
            if span % intervals == 0 {
                return Some(DecimalAxis {
                    start: i64::try_from(start).ok()?,
                    step: i64::try_from(span / intervals).ok()?,
                    // 10^d = 2^d·5^d with 5^d < 2^53 for d ≤ 22: exact in f64.
                    scale: 10i128.pow(decimals as u32) as f64,
                });
            }
            decimals += 1;
        }
    }

    /// Point i, for 0 ≤ i ≤ intervals (between the endpoints, so below 10^15 too).
    fn point(&self, i: usize) -> f64 {
        (self.start + i as i64 * self.step) as f64 / self.scale
    }
}

/// x = digits·10^exp with the fewest digits that read back as x (Rust's shortest round-trip
/// formatting); `None` for non-finite x.
fn shortest_decimal(x: f64) -> Option<(i128, i32)> {
    if !x.is_finite() {
        return None;
    }
    let text = format!("{x:e}");
    let (mantissa, exp) = text.split_once('e')?;
    let exp: i32 = exp.parse().ok()?;
    let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits: i128 = format!("{int_part}{frac_part}").parse().ok()?;
    Some((digits, exp - frac_part.len() as i32))
}

struct Cx<'a> {
    origin: &'a str,
}

impl Cx<'_> {
    fn err(&self, loc: &Loc, key: &str, message: impl Into<String>) -> ScenarioError {
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
struct Tbl<'a> {
    path: String,
    loc: Loc,
    entries: &'a [(String, Node)],
}

impl<'a> Tbl<'a> {
    fn full(&self, k: &str) -> String {
        if self.path.is_empty() {
            k.to_string()
        } else {
            format!("{}.{k}", self.path)
        }
    }

    fn check_keys(&self, cx: &Cx, allowed: &[&str]) -> Res<()> {
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

    fn get(&self, k: &str) -> Option<&'a Node> {
        self.entries
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, n)| n)
    }

    fn require(&self, cx: &Cx, k: &str) -> Res<&'a Node> {
        self.get(k).ok_or_else(|| {
            let full = self.full(k);
            cx.err(&self.loc, &full, format!("missing required key `{full}`"))
        })
    }

    fn sub(&self, cx: &Cx, k: &str) -> Res<Option<Tbl<'a>>> {
        match self.get(k) {
            None => Ok(None),
            Some(n) => Ok(Some(as_table(cx, &self.full(k), n)?)),
        }
    }

    fn num(&self, cx: &Cx, k: &str, rule: Rule, default: f64) -> Res<f64> {
        match self.get(k) {
            None => Ok(default),
            Some(n) => number(cx, &self.full(k), n, rule),
        }
    }

    fn int(&self, cx: &Cx, k: &str, rule: Rule, default: i64) -> Res<i64> {
        match self.get(k) {
            None => Ok(default),
            Some(n) => integer(cx, &self.full(k), n, rule),
        }
    }

    fn choice(&self, cx: &Cx, k: &str, options: &[&str], default: &str) -> Res<String> {
        match self.get(k) {
            None => Ok(default.to_string()),
            Some(n) => choice(cx, &self.full(k), n, options),
        }
    }
}

fn as_table<'a>(cx: &Cx, key: &str, n: &'a Node) -> Res<Tbl<'a>> {
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

fn fmt_num(v: f64) -> String {
    if v.is_nan() {
        "nan".into()
    } else {
        format!("{v}")
    }
}

fn check(cx: &Cx, key: &str, loc: &Loc, v: f64, rule: Rule, what: &str) -> Res<f64> {
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
fn raw_number(cx: &Cx, key: &str, n: &Node) -> Res<f64> {
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
fn number(cx: &Cx, key: &str, n: &Node, rule: Rule) -> Res<f64> {
    let v = raw_number(cx, key, n)?;
    check(cx, key, &n.loc, v, rule, "")
}

/// An integer for an integer key (floats rejected), range-checked.
fn integer(cx: &Cx, key: &str, n: &Node, rule: Rule) -> Res<i64> {
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

fn string<'a>(cx: &Cx, key: &str, n: &'a Node) -> Res<&'a str> {
    match &n.val {
        Val::Str(s) => Ok(s),
        other => Err(cx.err(
            &n.loc,
            key,
            format!("{key} must be a string, found {}", other.type_name()),
        )),
    }
}

fn choice(cx: &Cx, key: &str, n: &Node, options: &[&str]) -> Res<String> {
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

/// Parse `key=value` overrides into the tree.
fn apply_overrides(root: &mut Entries, overrides: &[String]) -> Res<()> {
    for ov in overrides {
        let (key, value) = match ov.split_once('=') {
            Some((k, v)) => (k.trim(), v.trim()),
            None => {
                return Err(ScenarioError {
                    origin: format!("--set {}", ov.trim()),
                    line: None,
                    key: None,
                    message: format!("override `{ov}` must look like key=value"),
                });
            }
        };
        let segs: Vec<&str> = key.split('.').map(str::trim).collect();
        let bad_seg = segs.iter().any(|s| {
            s.is_empty()
                || !s
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        });
        if bad_seg {
            return Err(ScenarioError {
                origin: format!("--set {key}"),
                line: None,
                key: Some(key.to_string()),
                message: format!(
                    "invalid override key `{key}`: use dotted bare keys like game.value"
                ),
            });
        }
        let key = segs.join(".");
        let node = tree::parse_override_value(value, &key);
        // The mechanisms may live at top level or under [scenario]; an override replaces either.
        if key == "mechanisms" {
            tree::remove_path(root, &["scenario", "mechanisms"]);
        } else if key == "scenario.mechanisms" {
            tree::remove_path(root, &["mechanisms"]);
        }
        tree::set_path(root, &segs, node, 0, &key).map_err(|m| ScenarioError {
            origin: format!("--set {key}"),
            line: None,
            key: Some(key.clone()),
            message: format!("cannot set {key}: {m}"),
        })?;
    }
    Ok(())
}

fn mechanisms(cx: &Cx, key: &str, n: &Node) -> Res<Vec<Mechanism>> {
    let Val::Array(items) = &n.val else {
        return Err(cx.err(
            &n.loc,
            key,
            format!(
                "{key} must be an array of \"C\", \"S\", \"M\", found {}",
                n.val.type_name()
            ),
        ));
    };
    if items.is_empty() {
        return Err(cx.err(&n.loc, key, format!("{key} must not be empty")));
    }
    let mut out = Vec::new();
    for item in items {
        let s = choice(cx, key, item, &["C", "S", "M"])?;
        let m = Mechanism::ALL
            .into_iter()
            .find(|m| m.as_str() == s)
            .unwrap_or(Mechanism::C);
        if out.contains(&m) {
            return Err(cx.err(
                &item.loc,
                key,
                format!("{key}: duplicate mechanism \"{s}\""),
            ));
        }
        out.push(m);
    }
    out.sort();
    Ok(out)
}

enum AxisSpec {
    Range { from: f64, to: f64, steps: usize },
    Values(Vec<f64>),
}

fn parse_axis(cx: &Cx, key: &str, rule: Rule, n: &Node) -> Res<Vec<f64>> {
    let skey = format!("sweep.{key}");
    let Val::Table(_) = &n.val else {
        return Err(cx.err(
            &n.loc,
            &skey,
            format!(
                "{skey} must be a table: {{ from = .., to = .., steps = .. }} or {{ values = [..] }}, found {}",
                n.val.type_name()
            ),
        ));
    };
    let t = as_table(cx, &skey, n)?;
    t.check_keys(cx, &["from", "to", "steps", "values"])?;
    let spec = if let Some(vn) = t.get("values") {
        if let Some((k, other)) = t.entries.iter().find(|(k, _)| k != "values") {
            return Err(cx.err(
                &other.loc,
                &skey,
                format!("{skey}: give either from/to/steps or values, not both (found `{k}`)"),
            ));
        }
        let vkey = format!("{skey}.values");
        let Val::Array(items) = &vn.val else {
            return Err(cx.err(
                &vn.loc,
                &vkey,
                format!(
                    "{vkey} must be an array of numbers, found {}",
                    vn.val.type_name()
                ),
            ));
        };
        if items.is_empty() {
            return Err(cx.err(&vn.loc, &vkey, format!("{vkey} must not be empty")));
        }
        let mut vals = Vec::with_capacity(items.len());
        for item in items {
            let v = raw_number(cx, &vkey, item)?;
            vals.push((v, item.loc.clone()));
        }
        for (v, loc) in &vals {
            check(cx, key, loc, *v, rule, &format!(" (in {vkey})"))?;
        }
        AxisSpec::Values(vals.into_iter().map(|(v, _)| v).collect())
    } else {
        let from_n = t.require(cx, "from")?;
        let to_n = t.require(cx, "to")?;
        let steps_n = t.require(cx, "steps")?;
        let from = number(cx, &format!("{skey}.from"), from_n, Rule::Any)?;
        let to = number(cx, &format!("{skey}.to"), to_n, Rule::Any)?;
        let steps = integer(
            cx,
            &format!("{skey}.steps"),
            steps_n,
            Rule::Int {
                min: 1,
                max: MAX_STEPS,
            },
        )? as usize;
        check(
            cx,
            key,
            &from_n.loc,
            from,
            rule,
            &format!(" (in {skey}.from)"),
        )?;
        check(cx, key, &to_n.loc, to, rule, &format!(" (in {skey}.to)"))?;
        AxisSpec::Range { from, to, steps }
    };
    let values = match spec {
        AxisSpec::Values(v) => v,
        AxisSpec::Range { from, to, steps } => {
            let mut vals = linspace(from, to, steps);
            for (i, v) in vals.iter_mut().enumerate() {
                if rule.is_int() {
                    let r = v.round();
                    if (*v - r).abs() <= 1e-9 * r.abs().max(1.0) {
                        *v = r;
                    }
                }
                check(
                    cx,
                    key,
                    &n.loc,
                    *v,
                    rule,
                    &format!(" (step {} of {steps} in {skey})", i + 1),
                )?;
            }
            vals
        }
    };
    Ok(values)
}

/// Collect the axes under `[sweep]`, in written order.
fn walk_sweep<'a>(
    cx: &Cx,
    path: String,
    n: &'a Node,
    allowed: &[(String, Rule)],
    dist: &str,
    out: &mut Vec<(String, Rule, &'a Node)>,
) -> Res<()> {
    if let Some((_, rule)) = allowed.iter().find(|(k, _)| *k == path) {
        out.push((path, *rule, n));
        return Ok(());
    }
    let prefix = format!("{path}.");
    if let Val::Table(t) = &n.val
        && allowed.iter().any(|(k, _)| k.starts_with(&prefix))
    {
        for (k, child) in t {
            walk_sweep(cx, format!("{prefix}{k}"), child, allowed, dist, out)?;
        }
        return Ok(());
    }
    let list: Vec<&str> = allowed.iter().map(|(k, _)| k.as_str()).collect();
    let hint = if path.starts_with("population.cost.") {
        format!(" (population.cost.* must be a parameter of the chosen dist \"{dist}\")")
    } else {
        String::new()
    };
    let skey = format!("sweep.{path}");
    Err(cx.err(
        &n.loc,
        &skey,
        format!(
            "unknown sweep key `{path}`{hint}; allowed: {}",
            list.join(", ")
        ),
    ))
}

pub(crate) fn build(text: &str, origin: &str, overrides: &[String]) -> Res<Scenario> {
    let cx = Cx { origin };
    let mut root = tree::parse_document(text).map_err(|(line, message)| ScenarioError {
        origin: origin.to_string(),
        line,
        key: None,
        message,
    })?;
    apply_overrides(&mut root, overrides)?;

    let top = Tbl {
        path: String::new(),
        loc: Loc::File(None),
        entries: &root,
    };
    top.check_keys(
        &cx,
        &[
            "mechanisms",
            "scenario",
            "population",
            "game",
            "sweep",
            "dynamics",
            "output",
        ],
    )?;

    // [scenario]
    let Some(sc) = top.sub(&cx, "scenario")? else {
        return Err(cx.err(
            &Loc::File(None),
            "scenario",
            "missing required table [scenario] (with name, seed, replications)",
        ));
    };
    sc.check_keys(
        &cx,
        &["name", "seed", "replications", "description", "mechanisms"],
    )?;
    let name_n = sc.require(&cx, "name")?;
    let name = string(&cx, "scenario.name", name_n)?.to_string();
    if name.trim().is_empty() {
        return Err(cx.err(
            &name_n.loc,
            "scenario.name",
            "scenario.name must be a non-empty string",
        ));
    }
    let seed = integer(
        &cx,
        "scenario.seed",
        sc.require(&cx, "seed")?,
        Rule::Int {
            min: 0,
            max: i64::MAX,
        },
    )? as u64;
    let replications = integer(
        &cx,
        "scenario.replications",
        sc.require(&cx, "replications")?,
        Rule::Int {
            min: 1,
            max: u32::MAX as i64,
        },
    )? as u32;
    let description = match sc.get("description") {
        None => None,
        Some(n) => Some(string(&cx, "scenario.description", n)?.to_string()),
    };

    // mechanisms
    let mechs = match (top.get("mechanisms"), sc.get("mechanisms")) {
        (Some(_), Some(n)) => {
            return Err(cx.err(
                &n.loc,
                "scenario.mechanisms",
                "mechanisms given both at top level and as scenario.mechanisms; keep one",
            ));
        }
        (Some(n), None) => mechanisms(&cx, "mechanisms", n)?,
        (None, Some(n)) => mechanisms(&cx, "scenario.mechanisms", n)?,
        (None, None) => Mechanism::ALL.to_vec(),
    };

    let mut game = Game::default();

    // [population]
    let mut dist_name = "uniform".to_string();
    let mut shade = false;
    let mut free_riders = false;
    if let Some(pop) = top.sub(&cx, "population")? {
        pop.check_keys(&cx, &["users", "cost", "report", "withdraw"])?;
        game.users = pop.int(&cx, "users", USERS_RULE, 20)? as usize;
        if let Some(cost) = pop.sub(&cx, "cost")? {
            let dist_n = cost.require(&cx, "dist")?;
            dist_name = choice(
                &cx,
                "population.cost.dist",
                dist_n,
                &["uniform", "beta", "lognormal", "constant"],
            )?;
            let params = dist_params(&dist_name).unwrap_or(&[]);
            let mut allowed = vec!["dist"];
            allowed.extend(params.iter().map(|(p, _)| *p));
            cost.check_keys(&cx, &allowed)?;
            let mut vals = Vec::new();
            for (p, rule) in params {
                let key = format!("population.cost.{p}");
                vals.push(number(&cx, &key, cost.require(&cx, p)?, *rule)?);
            }
            game.cost = match dist_name.as_str() {
                "uniform" => CostDist::Uniform {
                    low: vals[0],
                    high: vals[1],
                },
                "beta" => CostDist::Beta {
                    alpha: vals[0],
                    beta: vals[1],
                },
                "lognormal" => CostDist::LogNormal {
                    mu: vals[0],
                    sigma: vals[1],
                },
                _ => CostDist::Constant { value: vals[0] },
            };
        }
        if let Some(rep) = pop.sub(&cx, "report")? {
            rep.check_keys(&cx, &["strategy", "share", "factor"])?;
            let strategy = rep.choice(&cx, "strategy", &["truthful", "shade"], "truthful")?;
            let share = rep.num(&cx, "share", Rule::Unit, 0.0)?;
            let factor = rep.num(&cx, "factor", Rule::GtNeg1, 0.0)?;
            if strategy == "shade" {
                shade = true;
                game.shade_share = share;
                game.shade_factor = factor;
            }
        }
        if let Some(w) = pop.sub(&cx, "withdraw")? {
            w.check_keys(&cx, &["strategy", "share"])?;
            let strategy = w.choice(&cx, "strategy", &["sincere", "free-rider"], "sincere")?;
            let share = w.num(&cx, "share", Rule::Unit, 1.0)?;
            if strategy == "free-rider" {
                free_riders = true;
                game.free_rider_share = share;
            }
        }
    }

    // [game]
    if let Some(g) = top.sub(&cx, "game")? {
        let mut allowed: Vec<&str> = GAME_NUM.iter().map(|(k, _)| *k).collect();
        allowed.push("order");
        g.check_keys(&cx, &allowed)?;
        for (k, rule) in GAME_NUM {
            if g.get(k).is_none() {
                continue;
            }
            let v = if rule.is_int() {
                g.int(&cx, k, rule, 0)? as f64
            } else {
                g.num(&cx, k, rule, 0.0)?
            };
            crate::apply(&mut game, &format!("game.{k}"), v);
        }
        let names: Vec<&str> = ORDERS.iter().map(|o| o.as_str()).collect();
        let order = g.choice(&cx, "order", &names, Order::SmallFirst.as_str())?;
        game.order = ORDERS
            .into_iter()
            .find(|o| o.as_str() == order)
            .unwrap_or_default();
    }

    // [dynamics]
    if let Some(d) = top.sub(&cx, "dynamics")? {
        d.check_keys(
            &cx,
            &[
                "rounds",
                "cost_process",
                "persistence",
                "learning",
                "learning_rate",
            ],
        )?;
        game.dynamics.rounds = d.int(
            &cx,
            "rounds",
            Rule::Int {
                min: 1,
                max: 100_000,
            },
            1,
        )? as u32;
        let process = d.choice(&cx, "cost_process", &["iid", "persistent", "ar1"], "iid")?;
        let persistence = d.num(&cx, "persistence", Rule::Unit, 0.5)?;
        game.dynamics.cost_process = match process.as_str() {
            "persistent" => CostProcess::Persistent,
            "ar1" => CostProcess::Ar1 { persistence },
            _ => CostProcess::Iid,
        };
        let learning = d.choice(&cx, "learning", &["none", "adaptive"], "none")?;
        let rate = d.num(&cx, "learning_rate", Rule::Unit, 0.2)?;
        game.dynamics.learning = if learning == "adaptive" {
            Learning::Adaptive { rate }
        } else {
            Learning::None
        };
    }

    // [output]
    let mut trace = TraceLevel::Cells;
    let mut chunk_cells = None;
    if let Some(out) = top.sub(&cx, "output")? {
        out.check_keys(&cx, &["trace", "chunk_cells"])?;
        let t = out.choice(&cx, "trace", &["cells", "rounds", "events"], "cells")?;
        trace = TraceLevel::parse(&t).unwrap_or_default();
        let k = out.int(
            &cx,
            "chunk_cells",
            Rule::Int {
                min: 0,
                max: 1 << 40,
            },
            0,
        )?;
        chunk_cells = (k > 0).then_some(k as usize);
    }

    // [sweep]
    let mut sweep = Vec::new();
    let mut axis_locs = Vec::new();
    if let Some(sw) = top.get("sweep") {
        let swt = as_table(&cx, "sweep", sw)?;
        let allowed = sweepable(&dist_name);
        let mut found = Vec::new();
        for (k, n) in swt.entries {
            walk_sweep(&cx, k.clone(), n, &allowed, &dist_name, &mut found)?;
        }
        // Dotted keys are grouped into nested tables by the parser: restore the written order.
        found.sort_by_key(|(_, _, n)| n.pos);
        for (key, rule, n) in found {
            let segs: Vec<&str> = key.split('.').collect();
            if let Some(set) = tree::get_path(&root, &segs)
                && let Loc::Set(_) = set.loc
            {
                return Err(cx.err(
                    &set.loc,
                    &key,
                    format!("{key} is swept; override sweep.{key} instead"),
                ));
            }
            if key.starts_with("population.report.") && !shade {
                return Err(cx.err(
                    &n.loc,
                    &format!("sweep.{key}"),
                    format!(
                        "sweep.{key} has no effect unless population.report.strategy = \"shade\""
                    ),
                ));
            }
            if key.starts_with("population.withdraw.") && !free_riders {
                return Err(cx.err(
                    &n.loc,
                    &format!("sweep.{key}"),
                    format!("sweep.{key} has no effect unless population.withdraw.strategy = \"free-rider\""),
                ));
            }
            let values = parse_axis(&cx, &key, rule, n)?;
            axis_locs.push(n.loc.clone());
            sweep.push(SweepAxis {
                column: column_name(&key),
                key,
                values,
            });
        }
    }

    // Cross-key check: uniform high >= low in every cell.
    if let CostDist::Uniform { low, high } = game.cost {
        let find = |k: &str| sweep.iter().position(|a| a.key == k);
        let (li, hi) = (find("population.cost.low"), find("population.cost.high"));
        let max_low = li.map_or(low, |i| {
            sweep[i].values.iter().copied().fold(f64::MIN, f64::max)
        });
        let min_high = hi.map_or(high, |i| {
            sweep[i].values.iter().copied().fold(f64::MAX, f64::min)
        });
        if max_low > min_high {
            let (loc, key) = match (hi, li) {
                (Some(i), _) | (None, Some(i)) => {
                    (axis_locs[i].clone(), format!("sweep.{}", sweep[i].key))
                }
                (None, None) => (
                    tree::get_path(&root, &["population", "cost", "high"])
                        .map_or(Loc::File(None), |n| n.loc.clone()),
                    "population.cost.high".to_string(),
                ),
            };
            return Err(cx.err(
                &loc,
                &key,
                format!(
                    "population.cost.high must be >= population.cost.low in every cell, \
                     but high can be {min_high} while low can be {max_low}"
                ),
            ));
        }
    }

    // Size guard.
    let cells: u128 = sweep
        .iter()
        .fold(1u128, |acc, a| acc.saturating_mul(a.values.len() as u128));
    let max_users = sweep
        .iter()
        .find(|a| a.key == "population.users")
        .map_or(game.users as f64, |a| {
            a.values.iter().copied().fold(0.0, f64::max)
        }) as u128;
    let total = cells
        .saturating_mul(replications as u128)
        .saturating_mul(mechs.len() as u128)
        .saturating_mul(max_users);
    if total > MAX_CAMPAIGN_USERS {
        return Err(ScenarioError {
            origin: origin.to_string(),
            line: None,
            key: None,
            message: format!(
                "scenario too large: {cells} cells x {replications} replications x {} mechanisms \
                 x {max_users} users = {total} campaign-users, more than the limit of {MAX_CAMPAIGN_USERS}",
                mechs.len()
            ),
        });
    }

    Ok(Scenario {
        name,
        seed,
        replications,
        description,
        mechanisms: mechs,
        base: game,
        sweep,
        trace,
        chunk_cells,
        origin: origin.to_string(),
        source: text.to_string(),
    })
}
