//! One reader per table of a scenario file: `mechanisms` and `[mechanism.NAME]`, `[population]`
//! (cost and strategies), `[game]`, `[dynamics]`, `[output]`. Each fills its part of the
//! [`Game`] or returns its value; the sweep and the cross-key checks come after (`validate.rs`).

use std::sync::Arc;

use datapact_model::params::USERS;
use datapact_model::{
    COST_DISTS, Catalog, CostDist, CostDistSpec, CostProcess, GAME_KEYS, Game, Learning,
    ParamValues, Rule, StrategyKind, StrategyShare,
};

use crate::read::{Cx, Res, Tbl, choice, integer, number, string};
use crate::tree::Node;
use crate::tree::Val;
use crate::{MechanismRef, TraceLevel};

/// The cost distribution declared as `name`.
pub(crate) fn dist_spec(name: &str) -> Option<&'static CostDistSpec> {
    COST_DISTS.iter().find(|d| d.name == name)
}

/// `mechanisms = [...]`: registered names, no duplicates, in catalog order.
pub(crate) fn mechanisms(
    cx: &Cx,
    catalog: &Catalog,
    key: &str,
    n: &Node,
) -> Res<Vec<MechanismRef>> {
    let names: Vec<&str> = catalog.mechanisms.iter().map(|m| m.name).collect();
    let quoted = names
        .iter()
        .map(|m| format!("\"{m}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let Val::Array(items) = &n.val else {
        return Err(cx.err(
            &n.loc,
            key,
            format!(
                "{key} must be an array of {quoted}, found {}",
                n.val.type_name()
            ),
        ));
    };
    if items.is_empty() {
        return Err(cx.err(&n.loc, key, format!("{key} must not be empty")));
    }
    let mut out: Vec<MechanismRef> = Vec::new();
    for item in items {
        let s = choice(cx, key, item, &names)?;
        let index = catalog.mechanism(&s).expect("choice is a registered name");
        if out.iter().any(|m| m.index == index) {
            return Err(cx.err(
                &item.loc,
                key,
                format!("{key}: duplicate mechanism \"{s}\""),
            ));
        }
        out.push(MechanismRef {
            index,
            name: catalog.mechanisms[index].name,
        });
    }
    out.sort_by_key(|m| m.index);
    Ok(out)
}

/// A named variant as its `[mechanism.NAME]` table declares it: `of = "BASE"`, BASE's own
/// parameters, and `set = { "game.KEY" = value }` (read once the sweep is known).
pub(crate) struct VariantRead<'a> {
    /// Its index in the scenario's catalog (after every registered mechanism).
    pub index: usize,
    /// The registered mechanism it runs as.
    pub base: usize,
    /// Its `set` table, if any.
    pub set: Option<&'a Node>,
}

/// A mechanism or variant name as outputs and file systems can hold it.
fn valid_mechanism_name(name: &str) -> bool {
    (1..=32).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// `name` as a `&'static str` (variant names live as long as the registered ones; each distinct
/// name is kept once, however many scenarios name it).
fn intern(name: &str) -> &'static str {
    use std::collections::HashSet;
    use std::sync::{Mutex, OnceLock};
    static NAMES: OnceLock<Mutex<HashSet<&'static str>>> = OnceLock::new();
    let mut names = NAMES
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if let Some(known) = names.get(name) {
        return known;
    }
    let leaked: &'static str = Box::leak(name.to_string().into_boxed_str());
    names.insert(leaked);
    leaked
}

/// The named variants of `[mechanism]`: each table with `of = "BASE"` declares a mechanism
/// that runs as the registered BASE with its own parameters and game keys. Returns the catalog
/// with the variants appended (the app's own when there are none, so that a scenario without
/// variants is exactly as before).
pub(crate) fn variants<'a>(
    cx: &Cx,
    catalog: &Arc<Catalog>,
    table: Option<&Tbl<'a>>,
) -> Res<(Arc<Catalog>, Vec<VariantRead<'a>>)> {
    let mut reads = Vec::new();
    let Some(table) = table else {
        return Ok((catalog.clone(), reads));
    };
    let registered: Vec<&str> = catalog.mechanisms.iter().map(|m| m.name).collect();
    let mut extended: Option<Catalog> = None;
    for (name, node) in table.entries {
        let Val::Table(_) = &node.val else { continue };
        let sub = crate::read::as_table(cx, &table.full(name), node)?;
        let Some(of) = sub.get("of") else { continue };
        let key = sub.full("of");
        let base_name = choice(cx, &key, of, &registered)?;
        let base = catalog.mechanism(&base_name).expect("choice is registered");
        if catalog.mechanism(name).is_some() {
            return Err(cx.err(
                &of.loc,
                &key,
                format!(
                    "[{}] declares a variant, but \"{name}\" is a registered mechanism: give \
                     the variant its own name, e.g. [mechanism.{name}_v]",
                    table.full(name)
                ),
            ));
        }
        if !valid_mechanism_name(name) {
            return Err(cx.err(
                &of.loc,
                &key,
                format!(
                    "variant name {name:?} must be 1-32 characters of letters, digits, '-' or '_'"
                ),
            ));
        }
        let decl = catalog.mechanisms[base];
        let ext = extended.get_or_insert_with(|| (**catalog).clone());
        let index = ext
            .add_mechanism(datapact_model::MechanismDecl {
                name: intern(name),
                description: intern(&format!("variant of {}", decl.name)),
                variant_of: Some(base),
                ..decl
            })
            .map_err(|e| cx.err(&of.loc, &key, e.to_string()))?;
        reads.push(VariantRead {
            index,
            base,
            set: sub.get("set"),
        });
    }
    Ok((extended.map_or_else(|| catalog.clone(), Arc::new), reads))
}

/// `[mechanism.NAME]` tables: each names a mechanism of the run; its keys are the mechanism's
/// parameters. Returns the values of every catalog mechanism: defaults for the run's where
/// absent, nothing for the others (so a game does not depend on mechanisms it does not run).
pub(crate) fn mechanism_params(
    cx: &Cx,
    catalog: &Catalog,
    chosen: &[MechanismRef],
    table: Option<Tbl>,
) -> Res<Vec<ParamValues>> {
    let mut values: Vec<ParamValues> = catalog
        .mechanisms
        .iter()
        .enumerate()
        .map(|(index, m)| {
            if chosen.iter().any(|c| c.index == index) {
                ParamValues::defaults(m.params)
            } else {
                ParamValues::default()
            }
        })
        .collect();
    // Mechanisms without parameters at the end hold nothing (the core's game equals
    // `Game::default()`).
    let trim = |mut values: Vec<ParamValues>| {
        while values.last().is_some_and(|v| v.0.is_empty()) {
            values.pop();
        }
        values
    };
    let Some(table) = table else {
        return Ok(trim(values));
    };
    let chosen_names: Vec<&str> = chosen.iter().map(|m| m.name).collect();
    for (name, node) in table.entries {
        let key = table.full(name);
        let Some(index) = catalog.mechanism(name) else {
            let all: Vec<&str> = catalog.mechanisms.iter().map(|m| m.name).collect();
            return Err(cx.err(
                &node.loc,
                &key,
                format!(
                    "unknown mechanism `{name}` in [{key}]; registered: {}",
                    all.join(", ")
                ),
            ));
        };
        if !chosen_names.contains(&name.as_str()) {
            return Err(cx.err(
                &node.loc,
                &key,
                format!(
                    "[{key}] has no effect: \"{name}\" is not in mechanisms ({})",
                    chosen_names.join(", ")
                ),
            ));
        }
        let sub = crate::read::as_table(cx, &key, node)?;
        let specs = catalog.mechanisms[index].params;
        let mut allowed: Vec<&str> = specs.iter().map(|s| s.key).collect();
        let variant = catalog.mechanisms[index].variant_of.is_some();
        if variant {
            allowed.extend(["of", "set"]);
        }
        if allowed.is_empty()
            && let Some((k, n)) = sub.entries.first()
        {
            return Err(cx.err(
                &n.loc,
                &sub.full(k),
                format!(
                    "unknown key `{}`: mechanism \"{name}\" has no parameters",
                    sub.full(k)
                ),
            ));
        }
        sub.check_keys(cx, &allowed)?;
        values[index] = sub.params(cx, specs)?;
        // A variant's parameters also stand in for its base's when it plays (see
        // `Scenario::variant_game`).
    }
    Ok(trim(values))
}

/// What `[population]` decided beyond the game: the cost distribution's name (its parameters
/// are sweepable) and what the report and withdraw tables wrote (a swept strategy name reads
/// its share and parameters there).
pub(crate) struct PopulationRead {
    pub dist: String,
    /// What `[population.network]` wrote (a swept `population.network.model` reads its keys).
    pub network: crate::network::NetworkRead,
    /// What each kind's table wrote, by [`StrategyKind::index`].
    pub strategies: Vec<StrategyRead>,
}

impl PopulationRead {
    /// What `[population.KIND]` wrote.
    pub fn of(&self, kind: StrategyKind) -> &StrategyRead {
        &self.strategies[kind.index()]
    }
}

/// What `[population.report|withdraw]` wrote, whichever strategy it chose: the share (the
/// kind's default when absent) and the parameters of every registered strategy of the kind, by
/// catalog index (each strategy's own keys as written beside `strategy`, defaults where absent).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct StrategyRead {
    pub share: f64,
    /// Whether `share` was written (not the kind's default).
    pub share_written: bool,
    pub params: Vec<ParamValues>,
}

impl StrategyRead {
    fn defaults(strategies: &[(&str, &[datapact_model::ParamSpec])], share: f64) -> Self {
        StrategyRead {
            share,
            share_written: false,
            params: strategies
                .iter()
                .map(|(_, specs)| ParamValues::defaults(specs))
                .collect(),
        }
    }
}

/// `[population]`: users, cost distribution, and the strategies of each kind
/// (`[population.report|withdraw|contribute|pledge|bid]`).
pub(crate) fn population(
    cx: &Cx,
    catalog: &Catalog,
    pop: Option<Tbl>,
    game: &mut Game,
) -> Res<PopulationRead> {
    let declared: Vec<Vec<(&str, &[datapact_model::ParamSpec])>> = StrategyKind::ALL
        .iter()
        .map(|k| catalog.strategies(*k))
        .collect();
    let mut read = PopulationRead {
        dist: "uniform".into(),
        network: Default::default(),
        strategies: StrategyKind::ALL
            .iter()
            .map(|k| StrategyRead::defaults(&declared[k.index()], k.default_share()))
            .collect(),
    };
    let Some(pop) = pop else {
        return Ok(read);
    };
    let mut allowed = vec!["users", "cost", "network"];
    allowed.extend(StrategyKind::ALL.iter().map(|k| k.as_str()));
    pop.check_keys(cx, &allowed)?;
    if let Some(t) = pop.sub(cx, "network")? {
        read.network = crate::network::read(cx, &t, game)?;
    }
    let users = pop.int(cx, USERS.name, USERS.rule, USERS.default as i64)?;
    (USERS.set)(game, users as f64);
    if let Some(cost) = pop.sub(cx, "cost")? {
        game.cost = cost_dist(cx, &cost)?;
        read.dist = game.cost.name().to_string();
    }
    for kind in StrategyKind::ALL {
        let Some(t) = pop.sub(cx, kind.as_str())? else {
            continue;
        };
        let strategies = &declared[kind.index()];
        if strategies.is_empty() {
            let key = format!("population.{}", kind.as_str());
            return Err(cx.err(
                &t.loc,
                &key,
                format!(
                    "[{key}]: no {} strategy is registered (a plugin registers one with \
                     `add_amount_strategy`)",
                    kind.as_str()
                ),
            ));
        }
        // `threshold = { dist = ... }`: φ drawn per user; the strategy's number keeps its
        // default (read from the table without the key).
        let kept: Vec<(String, Node)>;
        let t = match (kind, drawn_threshold(cx, &t)?) {
            (StrategyKind::Withdraw, Some(dist)) => {
                game.peer_threshold = Some(dist);
                let key = drawn_threshold_key();
                kept = t
                    .entries
                    .iter()
                    .filter(|(k, _)| k != key)
                    .cloned()
                    .collect();
                Tbl {
                    path: t.path.clone(),
                    loc: t.loc.clone(),
                    entries: &kept,
                }
            }
            _ => t,
        };
        (*game.population.of_mut(kind), read.strategies[kind.index()]) =
            strategy_share(cx, &t, strategies, kind.default_share())?;
    }
    Ok(read)
}

/// The key of the `threshold` withdraw strategy's φ in `[population.withdraw]` (its
/// declaration's), which may also hold a distribution ([`drawn_threshold`]).
pub(crate) fn drawn_threshold_key() -> &'static str {
    use datapact_model::Params;
    datapact_model::strategy::PeerThresholdParams::SPECS[0].key
}

/// `[population.withdraw] threshold = { dist = "...", <its parameters> }`: the `threshold`
/// strategy's φ drawn per user from a distribution, read as a cost distribution is
/// ([`cost_dist_at`], its parameters named `population.withdraw.threshold.<p>`), which must
/// draw in [0, 1] ([`datapact_model::Threshold::validate`]). `None` when the key is absent or
/// a number.
pub(crate) fn drawn_threshold(cx: &Cx, t: &Tbl) -> Res<Option<CostDist>> {
    let key = t.full(drawn_threshold_key());
    let Some(n) = t.get(drawn_threshold_key()) else {
        return Ok(None);
    };
    if !matches!(n.val, Val::Table(_)) {
        return Ok(None);
    }
    let dist = cost_dist_at(cx, &crate::read::as_table(cx, &key, n)?, &key)?;
    datapact_model::Threshold::Drawn(dist.clone())
        .validate()
        .map_err(|e| cx.err(&n.loc, &key, format!("{key}: {e}")))?;
    Ok(Some(dist))
}

/// A cost distribution table `{ dist = "...", <its parameters> }` (`population.cost`, or a value
/// of a swept `population.cost.dist`): the one reader of both, over the declarations
/// ([`COST_DISTS`]). Parameters are range-checked as `population.cost.<p>`.
pub(crate) fn cost_dist(cx: &Cx, cost: &Tbl) -> Res<CostDist> {
    cost_dist_at(cx, cost, "population.cost")
}

/// [`cost_dist`] of a distribution written at `key` (its parameters range-checked as
/// `key.<p>`): the reader of every table of a [`COST_DISTS`] distribution.
pub(crate) fn cost_dist_at(cx: &Cx, cost: &Tbl, key: &str) -> Res<CostDist> {
    let dist_n = cost.require(cx, "dist")?;
    let names: Vec<&str> = COST_DISTS.iter().map(|d| d.name).collect();
    let dist = choice(cx, &cost.full("dist"), dist_n, &names)?;
    let spec = dist_spec(&dist).expect("choice is a declared name");
    let mut allowed = vec!["dist"];
    allowed.extend(spec.params.iter().map(|p| p.name));
    cost.check_keys(cx, &allowed)?;
    let mut vals = Vec::new();
    for p in spec.params {
        let key = format!("{key}.{}", p.name);
        vals.push(match (cost.get(p.name), p.default) {
            (Some(n), _) => number(cx, &key, n, p.rule)?,
            (None, Some(default)) => default,
            (None, None) => number(cx, &key, cost.require(cx, p.name)?, p.rule)?,
        });
    }
    Ok((spec.make)(&vals))
}

/// `[population.report|withdraw]`: `strategy` (a registered name; the first is the default),
/// `share` of users who hold it, and the strategy's own parameters. Keys of every registered
/// strategy of the kind are accepted (so a file may keep, say, `factor` while it tries
/// `strategy = "truthful"`); only the chosen strategy's are used, unless `strategy` is swept
/// (then each value takes its own keys from the returned [`StrategyRead`]).
fn strategy_share(
    cx: &Cx,
    t: &Tbl,
    strategies: &[(&str, &[datapact_model::ParamSpec])],
    default_share: f64,
) -> Res<(StrategyShare, StrategyRead)> {
    let mut allowed = vec!["strategy", "share"];
    for (_, specs) in strategies {
        for s in *specs {
            if !allowed.contains(&s.key) {
                allowed.push(s.key);
            }
        }
    }
    t.check_keys(cx, &allowed)?;
    let names: Vec<&str> = strategies.iter().map(|(n, _)| *n).collect();
    let name = t.choice(cx, "strategy", &names, names[0])?;
    let strategy = names.iter().position(|n| *n == name).unwrap_or(0);
    let share = t.num(cx, "share", Rule::Unit, default_share)?;
    // Every strategy's keys are range-checked, whichever is chosen.
    let all = strategies
        .iter()
        .map(|(_, specs)| t.params(cx, specs))
        .collect::<Res<Vec<_>>>()?;
    let chosen = if strategy == 0 {
        StrategyShare::default()
    } else {
        StrategyShare {
            strategy,
            share,
            params: all[strategy].clone(),
        }
    };
    let read = StrategyRead {
        share,
        share_written: t.get("share").is_some(),
        params: all,
    };
    Ok((chosen, read))
}

/// `[game]`: its keys as declared in [`GAME_KEYS`] (numbers, and names such as M's decision
/// order).
pub(crate) fn game_table(cx: &Cx, g: Option<Tbl>, game: &mut Game) -> Res<()> {
    let Some(g) = g else { return Ok(()) };
    let keys = GAME_KEYS.iter().filter(|k| k.table == "game");
    let allowed: Vec<&str> = keys.clone().map(|k| k.name).collect();
    g.check_keys(cx, &allowed)?;
    for k in keys {
        if !k.choices.is_empty() {
            let default = k
                .choice(k.default)
                .expect("a choice's default is one of its names");
            let name = g.choice(cx, k.name, k.choices, default)?;
            let position = k.choices.iter().position(|c| *c == name);
            (k.set)(game, position.unwrap_or(k.default as usize) as f64);
            continue;
        }
        if g.get(k.name).is_none() {
            continue;
        }
        let v = if k.rule.is_int() {
            g.int(cx, k.name, k.rule, 0)? as f64
        } else {
            g.num(cx, k.name, k.rule, 0.0)?
        };
        (k.set)(game, v);
    }
    Ok(())
}

/// The parameters `[dynamics]` gives the cost process and learning rule, whichever is chosen
/// (a swept `dynamics.cost_process` or `dynamics.learning` uses them).
#[derive(Clone, Copy, Debug)]
pub(crate) struct DynamicsRead {
    pub persistence: f64,
    pub rate: f64,
}

impl Default for DynamicsRead {
    fn default() -> Self {
        DynamicsRead {
            persistence: 0.5,
            rate: 0.2,
        }
    }
}

/// The cost processes of `dynamics.cost_process`.
pub(crate) const COST_PROCESSES: [&str; 3] = ["iid", "persistent", "ar1"];
/// The learning rules of `dynamics.learning`.
pub(crate) const LEARNINGS: [&str; 2] = ["none", "adaptive"];

/// The cost process named `name` (one of [`COST_PROCESSES`]).
pub(crate) fn cost_process(name: &str, read: DynamicsRead) -> CostProcess {
    match name {
        "persistent" => CostProcess::Persistent,
        "ar1" => CostProcess::Ar1 {
            persistence: read.persistence,
        },
        _ => CostProcess::Iid,
    }
}

/// The learning rule named `name` (one of [`LEARNINGS`]).
pub(crate) fn learning(name: &str, read: DynamicsRead) -> Learning {
    if name == "adaptive" {
        Learning::Adaptive { rate: read.rate }
    } else {
        Learning::None
    }
}

/// `[dynamics]`: rounds, cost process, learning.
pub(crate) fn dynamics(cx: &Cx, d: Option<Tbl>, game: &mut Game) -> Res<DynamicsRead> {
    let Some(d) = d else {
        return Ok(DynamicsRead::default());
    };
    d.check_keys(
        cx,
        &[
            "rounds",
            "cost_process",
            "persistence",
            "learning",
            "learning_rate",
        ],
    )?;
    game.dynamics.rounds = d.int(
        cx,
        "rounds",
        Rule::Int {
            min: 1,
            max: 100_000,
        },
        1,
    )? as u32;
    let process = d.choice(cx, "cost_process", &COST_PROCESSES, "iid")?;
    let read = DynamicsRead {
        persistence: d.num(cx, "persistence", Rule::Unit, 0.5)?,
        rate: d.num(cx, "learning_rate", Rule::Unit, 0.2)?,
    };
    game.dynamics.cost_process = cost_process(&process, read);
    let learning_name = d.choice(cx, "learning", &LEARNINGS, "none")?;
    game.dynamics.learning = learning(&learning_name, read);
    Ok(read)
}

/// `[output]`: trace level and cells per chunk.
pub(crate) fn output(cx: &Cx, out: Option<&Tbl>) -> Res<(TraceLevel, Option<usize>)> {
    let Some(out) = out else {
        return Ok((TraceLevel::Cells, None));
    };
    out.check_keys(cx, &["trace", "chunk_cells", "contrasts"])?;
    let t = out.choice(
        cx,
        "trace",
        &["cells", "rounds", "users", "events"],
        "cells",
    )?;
    let trace = TraceLevel::parse(&t).unwrap_or_default();
    let k = out.int(
        cx,
        "chunk_cells",
        Rule::Int {
            min: 0,
            max: 1 << 40,
        },
        0,
    )?;
    Ok((trace, (k > 0).then_some(k as usize)))
}

/// `[output] contrasts`: a non-empty array of distinct `"A-B"` strings, A and B two different
/// mechanisms of the run; `None` when absent (the default pairs).
pub(crate) fn contrasts(
    cx: &Cx,
    out: Option<&Tbl>,
    mechs: &[MechanismRef],
) -> Res<Option<Vec<crate::ContrastPair>>> {
    let Some(n) = out.and_then(|o| o.get("contrasts")) else {
        return Ok(None);
    };
    let key = "output.contrasts";
    let names = mechs.iter().map(|m| m.name).collect::<Vec<_>>().join(", ");
    let Val::Array(items) = &n.val else {
        return Err(cx.err(
            &n.loc,
            key,
            format!(
                "{key} must be an array of \"A-B\" strings (A, B among the run's mechanisms {names}), found {}",
                n.val.type_name()
            ),
        ));
    };
    if items.is_empty() {
        return Err(cx.err(&n.loc, key, format!("{key} must not be empty")));
    }
    let mut pairs: Vec<crate::ContrastPair> = Vec::new();
    for item in items {
        let pair = contrast_pair(cx, key, item, mechs)?;
        if pairs.contains(&pair) {
            let s = string(cx, key, item)?;
            return Err(cx.err(&item.loc, key, format!("{key}: duplicate pair \"{s}\"")));
        }
        pairs.push(pair);
    }
    Ok(Some(pairs))
}

/// `"A-B"`, A and B two different mechanisms of the run (`[output] contrasts`, the contrast of
/// adaptive replications).
pub(crate) fn contrast_pair(
    cx: &Cx,
    key: &str,
    item: &Node,
    mechs: &[MechanismRef],
) -> Res<crate::ContrastPair> {
    let s = string(cx, key, item)?;
    // Split at the '-' that leaves a mechanism of the run on both sides (names may hold '-').
    let pair = s.match_indices('-').find_map(|(i, _)| {
        let find = |name: &str| mechs.iter().find(|m| m.name == name).copied();
        Some(crate::ContrastPair {
            a: find(&s[..i])?,
            b: find(&s[i + 1..])?,
        })
    });
    pair.filter(|p| p.a != p.b).ok_or_else(|| {
        let names = mechs.iter().map(|m| m.name).collect::<Vec<_>>().join(", ");
        cx.err(
            &item.loc,
            key,
            format!(
                "{key}: \"{s}\" is not \"A-B\" with A and B two different mechanisms of the run ({names})"
            ),
        )
    })
}

/// `[scenario]`: name, seed, description (`replications` is read once the mechanisms are
/// known, by `replications::read`).
pub(crate) fn scenario_table(cx: &Cx, sc: &Tbl) -> Res<(String, u64, Option<String>)> {
    sc.check_keys(
        cx,
        &["name", "seed", "replications", "description", "mechanisms"],
    )?;
    let name_n = sc.require(cx, "name")?;
    let name = string(cx, "scenario.name", name_n)?.to_string();
    if name.trim().is_empty() {
        return Err(cx.err(
            &name_n.loc,
            "scenario.name",
            "scenario.name must be a non-empty string",
        ));
    }
    // The name is the default output directory (results/<name>): it must stay one plain
    // path component inside the results directory.
    if let Some(why) = unsafe_name(&name) {
        return Err(cx.err(
            &name_n.loc,
            "scenario.name",
            format!(
                "scenario.name = {name:?} {why}; allowed: one path component of at most \
                 {MAX_NAME_BYTES} bytes without `/`, `\\`, control characters, `.` or `..`"
            ),
        ));
    }
    let seed = integer(
        cx,
        "scenario.seed",
        sc.require(cx, "seed")?,
        Rule::Int {
            min: 0,
            max: i64::MAX,
        },
    )? as u64;
    let description = match sc.get("description") {
        None => None,
        Some(n) => Some(string(cx, "scenario.description", n)?.to_string()),
    };
    Ok((name, seed, description))
}

/// Longest scenario name, in bytes (a directory name on common file systems).
pub(crate) const MAX_NAME_BYTES: usize = 200;

/// Why `name` cannot be a directory name under `results/`, if it cannot.
fn unsafe_name(name: &str) -> Option<&'static str> {
    if name.len() > MAX_NAME_BYTES {
        Some("is too long")
    } else if name.contains(['/', '\\']) {
        Some("contains a path separator")
    } else if name.chars().any(char::is_control) {
        Some("contains a control character")
    } else if name == "." || name == ".." {
        Some("names a directory, not a scenario")
    } else {
        None
    }
}
