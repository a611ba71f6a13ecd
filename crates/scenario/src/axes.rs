//! The sweep: which keys may be swept (with their ranges and where each value goes in a cell's
//! [`Game`]), and the axes written under `[sweep]`.

use datapact_model::{
    COST_DISTS, Catalog, CostDist, CostProcess, GAME_KEYS, Game, Learning, ParamValues, Rule,
    StrategyKind, StrategyShare,
};

use crate::linspace::{MAX_STEPS, linspace};
use crate::read::{Cx, Res, as_table, check, choice, integer, raw_number};
use crate::sections::{
    COST_PROCESSES, DynamicsRead, LEARNINGS, StrategyRead, cost_dist, dist_spec,
};
use crate::tree::{Node, Val};
use crate::types::{Category, ParamTarget, StrategyChoice, Target};
use crate::{MechanismRef, column_name};

impl ParamTarget {
    fn set(self, game: &mut Game, v: f64) {
        match self {
            ParamTarget::Mechanism { mechanism, param } => {
                game.mechanism_params[mechanism].0[param] = v
            }
            ParamTarget::Strategy(kind, i) => game.population.of_mut(kind).params.0[i] = v,
        }
    }

    /// The numeric target of the same parameter.
    fn numeric(self) -> Target {
        match self {
            ParamTarget::Mechanism { mechanism, param } => Target::Mechanism { mechanism, param },
            ParamTarget::Strategy(kind, i) => Target::StrategyParam(kind, i),
        }
    }
}

impl StrategyChoice {
    fn apply(&self, share: &mut StrategyShare) {
        share.strategy = self.index;
        share.params = self.params.clone();
    }
}

/// A number as a category label: shortest round-trip decimal, -0 folded into 0.
fn label_num(v: f64) -> String {
    crate::read::fmt_num(v + 0.0)
}

impl Category {
    /// The canonical text of the value, written in the output's Utf8 swept column and accepted
    /// by `--only`: `small-first`, `beta(alpha=2,beta=5)`, `ar1`, `adaptive`. The parameters of
    /// a cost process, learning rule or strategy are the scenario's (one per run), so their name
    /// suffices.
    pub fn label(&self) -> String {
        match self {
            Category::Choice { key, value } => GAME_KEYS[*key].choices[*value].to_string(),
            Category::Cost(c) => {
                let p: Vec<String> = c
                    .params()
                    .iter()
                    .map(|(k, v)| format!("{k}={}", label_num(*v)))
                    .collect();
                format!("{}({})", c.name(), p.join(","))
            }
            Category::CostProcess(p) => match p {
                CostProcess::Iid => "iid",
                CostProcess::Persistent => "persistent",
                CostProcess::Ar1 { .. } => "ar1",
            }
            .to_string(),
            Category::Learning(l) => match l {
                Learning::None => "none",
                Learning::Adaptive { .. } => "adaptive",
            }
            .to_string(),
            Category::Strategy(_, s) => s.name.to_string(),
            Category::Label { label, .. } => label.to_string(),
            Category::Network(n) => crate::network::name(n).to_string(),
        }
    }

    /// The strategy of a `population.KIND.strategy` value.
    pub fn strategy(&self) -> Option<&StrategyChoice> {
        match self {
            Category::Strategy(_, s) => Some(s),
            _ => None,
        }
    }

    /// The value as TOML, as written in `values = [...]` (the canonical form the hash is taken of).
    pub fn toml(&self) -> String {
        match self {
            Category::Cost(c) => crate::toml_text::distribution(c),
            other => crate::toml_text::string(&other.label()),
        }
    }

    fn apply(&self, game: &mut Game) {
        match self {
            Category::Choice { key, value } => (GAME_KEYS[*key].set)(game, *value as f64),
            Category::Cost(c) => game.cost = c.clone(),
            Category::CostProcess(p) => game.dynamics.cost_process = *p,
            Category::Learning(l) => game.dynamics.learning = *l,
            Category::Strategy(kind, s) => s.apply(game.population.of_mut(*kind)),
            Category::Label { target, index, .. } => target.set(game, *index as f64),
            Category::Network(n) => game.network = n.clone(),
        }
    }
}

/// The enumerated keys that may be swept, and how one value of each is read.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Choices {
    /// A `[game]` key written as a name (its position in [`GAME_KEYS`]).
    Key(usize),
    Cost,
    CostProcess,
    Learning,
    Strategy(StrategyKind),
    /// A categorical parameter's labels.
    Labels(&'static [&'static str], ParamTarget),
    NetworkModel,
}

/// What reading an axis's values needs beyond the value itself: the catalog's strategy names
/// and the parameters the scenario's tables give the cost process, learning rule and strategies.
pub(crate) struct AxisCx<'a> {
    pub catalog: &'a Catalog,
    pub dynamics: DynamicsRead,
    /// What each kind's `[population.KIND]` table wrote, by [`StrategyKind::index`].
    pub strategies: &'a [StrategyRead],
    /// What `[population.network]` wrote.
    pub network: crate::network::NetworkRead,
}

impl AxisCx<'_> {
    /// The names of the catalog's strategies of a kind, and what its table wrote.
    fn strategies(&self, kind: StrategyKind) -> (Vec<&'static str>, &StrategyRead) {
        (
            self.catalog
                .strategies(kind)
                .iter()
                .map(|(n, _)| *n)
                .collect(),
            &self.strategies[kind.index()],
        )
    }
}

impl Choices {
    /// The allowed values, for errors.
    fn allowed(self, ax: &AxisCx) -> String {
        let quote = |v: &[&str]| {
            v.iter()
                .map(|s| format!("\"{s}\""))
                .collect::<Vec<_>>()
                .join(", ")
        };
        match self {
            Choices::Key(k) => quote(GAME_KEYS[k].choices),
            Choices::Cost => {
                let tables: Vec<String> = COST_DISTS
                    .iter()
                    .map(|d| {
                        let params: String = d
                            .params
                            .iter()
                            .map(|p| format!(", {} = ..", p.name))
                            .collect();
                        format!("{{ dist = \"{}\"{params} }}", d.name)
                    })
                    .collect();
                match tables.split_last() {
                    Some((last, [])) => format!("cost tables {last}"),
                    Some((last, rest)) => format!("cost tables {} or {last}", rest.join(", ")),
                    None => "cost tables".to_string(),
                }
            }
            Choices::CostProcess => quote(&COST_PROCESSES),
            Choices::Learning => quote(&LEARNINGS),
            Choices::Strategy(kind) => quote(&ax.strategies(kind).0),
            Choices::Labels(labels, _) => quote(labels),
            Choices::NetworkModel => quote(&crate::network::MODELS),
        }
    }

    /// One value of the axis (`key` names it in errors, e.g. `sweep.game.order.values`).
    pub(crate) fn read(self, cx: &Cx, key: &str, n: &Node, ax: &AxisCx) -> Res<Category> {
        let pick = |options: &[&str]| -> Res<String> {
            if !matches!(n.val, Val::Str(_)) {
                return Err(cx.err(
                    &n.loc,
                    key,
                    format!(
                        "{key}: each value must be a string, found {}; allowed: {}",
                        n.val.type_name(),
                        self.allowed(ax)
                    ),
                ));
            }
            choice(cx, key, n, options)
        };
        Ok(match self {
            Choices::Key(key) => {
                let names = GAME_KEYS[key].choices;
                let s = pick(names)?;
                let value = names.iter().position(|n| *n == s).unwrap_or(0);
                Category::Choice { key, value }
            }
            Choices::Cost => {
                let Val::Table(_) = &n.val else {
                    return Err(cx.err(
                        &n.loc,
                        key,
                        format!(
                            "{key}: each value must be a table, found {}; allowed: {}",
                            n.val.type_name(),
                            self.allowed(ax)
                        ),
                    ));
                };
                let c = cost_dist(cx, &as_table(cx, key, n)?)?;
                if let CostDist::Uniform { low, high } = c
                    && high < low
                {
                    return Err(cx.err(
                        &n.loc,
                        key,
                        format!("{key}: uniform high = {high} must be >= low = {low}"),
                    ));
                }
                Category::Cost(c)
            }
            Choices::CostProcess => {
                let s = pick(&COST_PROCESSES)?;
                Category::CostProcess(crate::sections::cost_process(&s, ax.dynamics))
            }
            Choices::Learning => {
                let s = pick(&LEARNINGS)?;
                Category::Learning(crate::sections::learning(&s, ax.dynamics))
            }
            Choices::Labels(labels, target) => {
                let s = pick(labels)?;
                let index = labels.iter().position(|l| *l == s).unwrap_or(0);
                Category::Label {
                    target,
                    index,
                    label: labels[index],
                }
            }
            Choices::Strategy(kind) => {
                let (names, read) = ax.strategies(kind);
                let s = pick(&names)?;
                let index = names.iter().position(|n| *n == s).unwrap_or(0);
                let choice = StrategyChoice {
                    index,
                    name: names[index],
                    params: if index == 0 {
                        ParamValues::default()
                    } else {
                        read.params[index].clone()
                    },
                };
                Category::Strategy(kind, choice)
            }
            Choices::NetworkModel => {
                let s = pick(&crate::network::MODELS)?;
                if s == "file" && ax.network.1.is_none() {
                    return Err(cx.err(
                        &n.loc,
                        key,
                        format!(
                            "{key}: \"file\" needs population.network.path (the edge list) in \
                             [population.network]"
                        ),
                    ));
                }
                Category::Network(crate::network::model(&s, &ax.network))
            }
        })
    }
}

impl Target {
    /// Sets this target of `game` to `v` (validated at load time).
    pub fn apply(&self, game: &mut Game, v: f64) {
        match *self {
            Target::Game(i) => (GAME_KEYS[i].set)(game, v),
            Target::Cost(i) => game.cost = game.cost.with_param(i, v),
            Target::Share(kind) => game.population.of_mut(kind).share = v,
            Target::StrategyParam(kind, i) => game.population.of_mut(kind).params.0[i] = v,
            Target::Network(p) => crate::network::set(&mut game.network, p, v),
            Target::Mechanism { mechanism, param } => game.mechanism_params[mechanism].0[param] = v,
            Target::Category(ref values) => values[v as usize].apply(game),
        }
    }
}

/// A key that may be swept: its name, range and target.
#[derive(Clone, Debug)]
pub(crate) struct Sweepable {
    pub key: String,
    pub rule: Rule,
    pub target: Target,
    /// Why sweeping it would do nothing (a strategy key while the default strategy is chosen),
    /// reported instead of sweeping.
    pub no_effect: Option<String>,
    /// For an enumerated key, how its values are read (its target is then a
    /// [`Target::Category`] filled by [`axis`]).
    pub choices: Option<Choices>,
}

fn key(key: String, rule: Rule, target: Target) -> Sweepable {
    Sweepable {
        key,
        rule,
        target,
        no_effect: None,
        choices: None,
    }
}

fn categorical(k: &str, choices: Choices) -> Sweepable {
    Sweepable {
        choices: Some(choices),
        ..key(k.to_string(), Rule::Any, Target::Category(Vec::new()))
    }
}

/// A parameter's sweepable key: numeric, or categorical for a `Rule::OneOf` parameter.
fn param_key(k: String, rule: Rule, target: ParamTarget) -> Sweepable {
    match rule.labels() {
        Some(labels) => categorical(&k, Choices::Labels(labels, target)),
        None => key(k, rule, target.numeric()),
    }
}

impl Sweepable {
    /// The strategy parameter this key sets, if it is one (numeric or categorical).
    fn strategy_param(&self) -> Option<(StrategyKind, usize)> {
        match (&self.target, self.choices) {
            (Target::StrategyParam(kind, i), _) => Some((*kind, *i)),
            (_, Some(Choices::Labels(_, ParamTarget::Strategy(kind, i)))) => Some((kind, i)),
            _ => None,
        }
    }
}

/// A strategy's name and parameters.
type Declared = (&'static str, &'static [datapact_model::ParamSpec]);

/// The sweepable keys of a scenario whose cost distribution, mechanisms and strategies are
/// known; `names_swept` says, per [`StrategyKind`], whether `population.KIND.strategy` is
/// swept (then the share is sweepable whatever the table chose, and the strategies' parameters
/// are not: they are written beside `strategy`).
pub(crate) fn sweepable(
    catalog: &Catalog,
    dist: &str,
    mechanisms: &[MechanismRef],
    game: &Game,
    names_swept: [bool; 5],
) -> Vec<Sweepable> {
    // The [game] keys, then the population's (users), as declared.
    let mut v: Vec<Sweepable> = Vec::new();
    for table in ["game", "population"] {
        for (i, k) in GAME_KEYS
            .iter()
            .enumerate()
            .filter(|(_, k)| k.table == table)
        {
            v.push(if k.choices.is_empty() {
                key(k.path(), k.rule, Target::Game(i))
            } else {
                categorical(&k.path(), Choices::Key(i))
            });
        }
    }
    v.push(categorical("population.cost.dist", Choices::Cost));
    let params = dist_spec(dist).map_or(&[][..], |d| d.params);
    for (i, p) in params.iter().enumerate() {
        v.push(key(
            format!("population.cost.{}", p.name),
            p.rule,
            Target::Cost(i),
        ));
    }
    for kind in StrategyKind::ALL {
        let strategies: Vec<Declared> = catalog.strategies(kind);
        if strategies.is_empty() {
            continue;
        }
        let (name, chosen) = (kind.as_str(), game.population.of(kind).strategy);
        let name_swept = names_swept[kind.index()];
        let first = v.len();
        v.push(categorical(
            &format!("population.{name}.strategy"),
            Choices::Strategy(kind),
        ));
        let others: Vec<String> = strategies[1..]
            .iter()
            .map(|(n, _)| format!("\"{n}\""))
            .collect();
        let unless = format!(
            "has no effect unless population.{name}.strategy = {}",
            if others.is_empty() {
                "another strategy (none other is registered)".to_string()
            } else {
                others.join(" or ")
            }
        );
        let mut share_key = key(
            format!("population.{name}.share"),
            Rule::Unit,
            Target::Share(kind),
        );
        if chosen == 0 {
            share_key.no_effect = Some(unless.clone());
        }
        v.push(share_key);
        for (s, (sname, specs)) in strategies.iter().enumerate() {
            for (i, spec) in specs.iter().enumerate() {
                let k = format!("population.{name}.{}", spec.key);
                if v.iter().any(|x| x.key == k) {
                    continue;
                }
                let mut sw = param_key(k, spec.rule, ParamTarget::Strategy(kind, i));
                if s != chosen {
                    sw.no_effect = Some(if chosen == 0 {
                        unless.clone()
                    } else {
                        format!(
                            "has no effect: `{}` is a parameter of strategy \"{sname}\", not of \"{}\"",
                            spec.key, strategies[chosen].0
                        )
                    });
                }
                v.push(sw);
            }
        }
        // A key two strategies share maps to the chosen one's position.
        if chosen != 0 {
            for (i, spec) in strategies[chosen].1.iter().enumerate() {
                let k = format!("population.{name}.{}", spec.key);
                if let Some(x) = v.iter_mut().find(|x| x.key == k) {
                    *x = param_key(k, spec.rule, ParamTarget::Strategy(kind, i));
                }
            }
        }
        // With the name swept, the share applies to every cell's strategy and the parameters
        // are read beside `strategy` (each value takes its own).
        if name_swept {
            for x in &mut v[first..] {
                if let Target::Share(_) = x.target {
                    x.no_effect = None;
                } else if x.strategy_param().is_some() {
                    {
                        x.no_effect = Some(format!(
                            "cannot be swept while population.{name}.strategy is swept: a \
                             strategy's parameters are written beside `strategy` in \
                             [population.{name}] (each applies to the swept strategies that have \
                             it); to sweep one, fix population.{name}.strategy instead"
                        ));
                    }
                }
            }
        }
    }
    for m in mechanisms {
        for (i, spec) in catalog.mechanisms[m.index].params.iter().enumerate() {
            v.push(param_key(
                format!("mechanism.{}.{}", m.name, spec.key),
                spec.rule,
                ParamTarget::Mechanism {
                    mechanism: m.index,
                    param: i,
                },
            ));
        }
    }
    v.push(categorical(
        "population.network.model",
        Choices::NetworkModel,
    ));
    let model = crate::network::name(&game.network);
    for (k, rule, _, of) in crate::network::KEYS {
        let mut sw = key(format!("population.network.{k}"), rule, Target::Network(k));
        if of != model {
            sw.no_effect = Some(format!(
                "has no effect unless population.network.model = \"{of}\" (it is \"{model}\")"
            ));
        }
        v.push(sw);
    }
    v.push(categorical("dynamics.cost_process", Choices::CostProcess));
    v.push(categorical("dynamics.learning", Choices::Learning));
    v
}

/// One axis of the sweep, before it becomes a [`crate::SweepAxis`].
pub(crate) fn axis(s: &Sweepable, values: Vec<f64>) -> crate::SweepAxis {
    crate::SweepAxis {
        column: column_name(&s.key),
        key: s.key.clone(),
        values,
        target: s.target.clone(),
    }
}

/// The axis `section.KEY = n` of a sweepable key: numeric (`{ from, to, steps }` or
/// `{ values }`) or, for an enumerated key, `{ values = [...] }` of distinct categories whose
/// positions are the axis's values.
pub(crate) fn read_axis(
    cx: &Cx,
    section: &str,
    s: &Sweepable,
    n: &Node,
    ax: &AxisCx,
) -> Res<crate::SweepAxis> {
    let Some(choices) = s.choices else {
        return Ok(axis(s, parse_axis(cx, section, &s.key, s.rule, n)?));
    };
    let skey = format!("{section}.{}", s.key);
    let form = format!(
        "{skey} is categorical: write {{ values = [..] }} with values among {}",
        choices.allowed(ax)
    );
    let Val::Table(_) = &n.val else {
        return Err(cx.err(
            &n.loc,
            &skey,
            format!("{form}, found {}", n.val.type_name()),
        ));
    };
    let t = as_table(cx, &skey, n)?;
    if let Some((k, other)) = t.entries.iter().find(|(k, _)| k != "values") {
        return Err(cx.err(&other.loc, &skey, format!("{form} (found `{k}`)")));
    }
    let vn = t.require(cx, "values")?;
    let vkey = format!("{skey}.values");
    let Val::Array(items) = &vn.val else {
        return Err(cx.err(
            &vn.loc,
            &vkey,
            format!(
                "{vkey} must be an array, found {}; allowed values: {}",
                vn.val.type_name(),
                choices.allowed(ax)
            ),
        ));
    };
    if items.is_empty() {
        return Err(cx.err(
            &vn.loc,
            &vkey,
            format!(
                "{vkey} must not be empty; allowed values: {}",
                choices.allowed(ax)
            ),
        ));
    }
    let mut values: Vec<Category> = Vec::with_capacity(items.len());
    for item in items {
        let c = choices.read(cx, &vkey, item, ax)?;
        if values.contains(&c) {
            return Err(cx.err(
                &item.loc,
                &vkey,
                format!("{vkey}: duplicate value {}", c.label()),
            ));
        }
        values.push(c);
    }
    let positions = (0..values.len()).map(|i| i as f64).collect();
    let mut a = axis(s, positions);
    a.target = Target::Category(values);
    Ok(a)
}

enum AxisSpec {
    Range { from: f64, to: f64, steps: usize },
    Values(Vec<f64>),
}

pub(crate) fn parse_axis(cx: &Cx, section: &str, key: &str, rule: Rule, n: &Node) -> Res<Vec<f64>> {
    let skey = format!("{section}.{key}");
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
        // Checked below against the key's own rule and bound, not the generic 1e6 of real keys.
        let from = raw_number(cx, &format!("{skey}.from"), from_n)?;
        let to = raw_number(cx, &format!("{skey}.to"), to_n)?;
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

/// Collect the axes under `[sweep]` (or `[design]`: `section`), in written order.
pub(crate) fn walk_sweep<'a>(
    cx: &Cx,
    section: &str,
    path: String,
    n: &'a Node,
    allowed: &[Sweepable],
    dist: &str,
    out: &mut Vec<(Sweepable, &'a Node)>,
) -> Res<()> {
    if let Some(s) = allowed.iter().find(|s| s.key == path) {
        out.push((s.clone(), n));
        return Ok(());
    }
    let prefix = format!("{path}.");
    if let Val::Table(t) = &n.val
        && allowed.iter().any(|s| s.key.starts_with(&prefix))
    {
        for (k, child) in t {
            walk_sweep(
                cx,
                section,
                format!("{prefix}{k}"),
                child,
                allowed,
                dist,
                out,
            )?;
        }
        return Ok(());
    }
    let skey = format!("{section}.{path}");
    if path == "mechanisms" || path == "scenario.mechanisms" {
        return Err(cx.err(
            &n.loc,
            &skey,
            format!(
                "{skey}: the mechanism list cannot be swept: every cell already runs all of the \
                 run's mechanisms side by side on common random numbers (a `mechanism` column in \
                 every table); list them all in `mechanisms` and select rows by mechanism"
            ),
        ));
    }
    let list: Vec<&str> = allowed.iter().map(|s| s.key.as_str()).collect();
    let hint = if path.starts_with("population.cost.") {
        format!(" (population.cost.* must be a parameter of the chosen dist \"{dist}\")")
    } else {
        String::new()
    };
    Err(cx.err(
        &n.loc,
        &skey,
        format!(
            "unknown {section} key `{path}`{hint}; allowed: {}",
            list.join(", ")
        ),
    ))
}
