//! From text (+ overrides) to a validated [`Scenario`]: parse, apply overrides, read each table
//! (`sections.rs`), the sweep (`axes.rs`), then the checks that span tables.

use std::sync::Arc;

use datapact_model::{Catalog, CostDist, Game, StrategyKind, StrategyShare};

use crate::axes::{AxisCx, axis, read_axis, sweepable, walk_sweep};
use crate::design::{self, Design, DesignKind};
use crate::read::{Cx, Res, Tbl, as_table, check};
use crate::search::{self, SearchFile};
use crate::sections;
use crate::tree::{self, Entries, Loc, Val};
use crate::{MAX_CAMPAIGN_USERS, Scenario, ScenarioError};

/// The mechanisms of a scenario that names none: the paper's C, S and M.
const DEFAULT_MECHANISMS: [&str; 3] = [
    datapact_model::catalog::SUBSIDY.name,
    datapact_model::catalog::SIMULTANEOUS.name,
    datapact_model::catalog::SEQUENTIAL.name,
];

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

pub(crate) fn build(
    catalog: &Arc<Catalog>,
    text: &str,
    origin: &str,
    overrides: &[String],
) -> Res<Scenario> {
    build_all(catalog, text, origin, overrides, false).map(|(scenario, _)| scenario)
}

/// Reading a scenario file with its `[optimize]` and `[calibrate]` tables (at least one of
/// them): here, beside the scenario's reader it shares, rather than in `search.rs`, which the
/// reader imports (the search tables' readers).
impl SearchFile {
    /// Reads and checks a scenario file with search tables against `catalog`, `--set`
    /// overrides applied first (they may set search keys too, e.g.
    /// `optimize.generations=4`).
    pub fn load_with(
        catalog: &Arc<Catalog>,
        path: &std::path::Path,
        overrides: &[String],
    ) -> Result<SearchFile, ScenarioError> {
        let (text, origin) = crate::read::read_source(path)?;
        SearchFile::from_str_with(catalog, &text, &origin, overrides)
    }

    /// Reads and checks scenario text with search tables; `origin` names it in errors.
    pub fn from_str_with(
        catalog: &Arc<Catalog>,
        text: &str,
        origin: &str,
        overrides: &[String],
    ) -> Result<SearchFile, ScenarioError> {
        let (scenario, (optimize, calibrate)) = build_all(catalog, text, origin, overrides, true)?;
        Ok(SearchFile {
            scenario,
            optimize,
            calibrate,
        })
    }
}

type Searches = (Option<search::Optimize>, Option<search::Calibrate>);

fn build_all(
    catalog: &Arc<Catalog>,
    text: &str,
    origin: &str,
    overrides: &[String],
    searching: bool,
) -> Res<(Scenario, Searches)> {
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
            "mechanism",
            "scenario",
            "population",
            "game",
            "sweep",
            "design",
            "dynamics",
            "output",
            "optimize",
            "calibrate",
        ],
    )?;
    search::check_tables(&cx, &top, searching)?;

    let Some(sc) = top.sub(&cx, "scenario")? else {
        return Err(cx.err(
            &Loc::File(None),
            "scenario",
            "missing required table [scenario] (with name, seed, replications)",
        ));
    };
    let (name, seed, description) = sections::scenario_table(&cx, &sc)?;

    // Named variants extend the catalog the rest of the file is read against.
    let mechanism_table = top.sub(&cx, "mechanism")?;
    let (catalog, variant_reads) = sections::variants(&cx, catalog, mechanism_table.as_ref())?;
    let catalog = &catalog;

    let mechs = match (top.get("mechanisms"), sc.get("mechanisms")) {
        (Some(_), Some(n)) => {
            return Err(cx.err(
                &n.loc,
                "scenario.mechanisms",
                "mechanisms given both at top level and as scenario.mechanisms; keep one",
            ));
        }
        (Some(n), None) => sections::mechanisms(&cx, catalog, "mechanisms", n)?,
        (None, Some(n)) => sections::mechanisms(&cx, catalog, "scenario.mechanisms", n)?,
        // The paper's three; other mechanisms (async, plugins) are run when named.
        (None, None) => catalog
            .mechanisms
            .iter()
            .enumerate()
            .filter(|(_, m)| DEFAULT_MECHANISMS.contains(&m.name))
            .map(|(index, m)| crate::MechanismRef {
                index,
                name: m.name,
            })
            .collect(),
    };

    let (replications, adaptive) = crate::replications::read(
        &cx,
        sc.require(&cx, "replications")?,
        &mechs,
        &catalog.metrics,
    )?;

    let mut game = Game {
        mechanism_params: sections::mechanism_params(&cx, catalog, &mechs, mechanism_table)?,
        ..Game::default()
    };
    let population = sections::population(&cx, catalog, top.sub(&cx, "population")?, &mut game)?;
    sections::game_table(&cx, top.sub(&cx, "game")?, &mut game)?;
    let dynamics = sections::dynamics(&cx, top.sub(&cx, "dynamics")?, &mut game)?;
    let output_table = top.sub(&cx, "output")?;
    let (trace, chunk_cells) = sections::output(&cx, output_table.as_ref())?;
    let contrasts = sections::contrasts(&cx, output_table.as_ref(), &mechs)?;
    let dist_name = population.dist.clone();
    let ax = AxisCx {
        catalog,
        dynamics,
        strategies: &population.strategies,
        network: population.network.clone(),
    };

    // [sweep], then [design]
    let names_swept = StrategyKind::ALL.map(|kind| {
        ["sweep", "design"].iter().any(|section| {
            tree::get_path(&root, &[section, "population", kind.as_str(), "strategy"]).is_some()
        }) || search::names_key(&root, &format!("population.{}.strategy", kind.as_str()))
    });
    let allowed = sweepable(catalog, &dist_name, &mechs, &game, names_swept);
    let mut sweep = Vec::new();
    let mut axis_locs = Vec::new();
    if let Some(sw) = top.get("sweep") {
        let swt = as_table(&cx, "sweep", sw)?;
        for (s, n) in section_axes(&cx, &root, "sweep", &swt, &[], &allowed, &dist_name)? {
            axis_locs.push(n.loc.clone());
            sweep.push(read_axis(&cx, "sweep", &s, n, &ax)?);
        }
    }
    let mut design = Design::default();
    if let Some(dn) = top.get("design") {
        let dt = as_table(&cx, "design", dn)?;
        let found = section_axes(
            &cx,
            &root,
            "design",
            &dt,
            &design::RESERVED,
            &allowed,
            &dist_name,
        )?;
        let numeric = found.iter().filter(|(s, _)| s.choices.is_none()).count();
        let (kind, samples, first_order_only) = design::kind_and_samples(&cx, &dt, numeric)?;
        // A categorical axis of a sampled or listed design is crossed with its points: it joins
        // the grid (every point × every category), exactly as if written under [sweep].
        let (categorical, found): (Vec<_>, Vec<_>) = found
            .into_iter()
            .partition(|(s, _)| kind != DesignKind::Grid && s.choices.is_some());
        for (s, n) in &categorical {
            if sweep.iter().any(|a| a.key == s.key) {
                return Err(cx.err(
                    &n.loc,
                    &format!("design.{}", s.key),
                    format!("{} is both under [sweep] and [design]; keep one", s.key),
                ));
            }
            axis_locs.push(n.loc.clone());
            sweep.push(read_axis(&cx, "design", s, n, &ax)?);
        }
        design.kind = kind;
        design.samples = samples;
        design.first_order_only = first_order_only;
        let duplicate = |key: &str, loc: &Loc, sweep: &[crate::SweepAxis]| {
            if sweep.iter().any(|a| a.key == key) {
                Err(cx.err(
                    loc,
                    &format!("design.{key}"),
                    format!("{key} is both under [sweep] and [design]; keep one"),
                ))
            } else {
                Ok(())
            }
        };
        match kind {
            DesignKind::Grid => {
                for (s, n) in found {
                    duplicate(&s.key, &n.loc, &sweep)?;
                    axis_locs.push(n.loc.clone());
                    sweep.push(read_axis(&cx, "design", &s, n, &ax)?);
                }
            }
            DesignKind::Points => {
                // A points file's own errors (unknown key, value out of range) are shown at its
                // path and line; what concerns the scenario (a key also swept, the grid's later
                // checks) at the scenario's `file =` line.
                let (listed, points_origin, file_loc, lines) = match (
                    dt.get("points"),
                    dt.get("file"),
                ) {
                    (Some(p), None) => (
                        design::inline_points(&cx, p)?,
                        origin.to_string(),
                        None,
                        Vec::new(),
                    ),
                    (None, Some(f)) => {
                        let (listed, shown, lines) = design::file_points(&cx, f)?;
                        (listed, shown, Some(f.loc.clone()), lines)
                    }
                    (Some(_), Some(f)) => {
                        return Err(cx.err(
                            &f.loc,
                            "design.file",
                            "give either design.points or design.file, not both",
                        ));
                    }
                    (None, None) => {
                        return Err(cx.err(
                            &dt.loc,
                            "design.points",
                            "design.kind = \"points\" needs design.points = [...] or design.file = \"points.csv\"",
                        ));
                    }
                };
                if let Some((_, n)) = found.first() {
                    return Err(cx.err(
                        &n.loc,
                        "design",
                        "a points design lists its keys in its points, not as axes",
                    ));
                }
                let shown = match &file_loc {
                    Some(_) => format!("design.file {points_origin}"),
                    None => "design.points".to_string(),
                };
                design::check_points_sha256(&cx, dt.get("points_sha256"), &listed, &shown)?;
                design.first_axis = sweep.len();
                let pcx = Cx {
                    origin: &points_origin,
                };
                for (key, values, loc) in listed {
                    let Some(s) = allowed.iter().find(|s| s.key == key && s.choices.is_none())
                    else {
                        let list: Vec<&str> = allowed.iter().map(|s| s.key.as_str()).collect();
                        return Err(pcx.err(
                            &loc,
                            &format!("design.points.{key}"),
                            format!("unknown design key `{key}`; allowed: {}", list.join(", ")),
                        ));
                    };
                    if let Some(why) = &s.no_effect {
                        return Err(pcx.err(
                            &loc,
                            &format!("design.{key}"),
                            format!("design.{key} {why}"),
                        ));
                    }
                    // a key also swept concerns the scenario: shown at its `file =` line
                    let scenario_loc = file_loc.clone().unwrap_or_else(|| loc.clone());
                    duplicate(&key, &scenario_loc, &sweep)?;
                    for (i, &v) in values.iter().enumerate() {
                        check(
                            &pcx,
                            &key,
                            lines.get(i).unwrap_or(&loc),
                            v,
                            s.rule,
                            &match dt.get("file").map(|f| &f.val) {
                                Some(Val::Str(file)) => {
                                    format!(" (point {} of design.file {file})", i + 1)
                                }
                                _ => format!(" (point {} of the design)", i + 1),
                            },
                        )?;
                    }
                    design.points = values.len();
                    axis_locs.push(scenario_loc);
                    sweep.push(axis(s, values));
                }
            }
            _ => {
                design.first_axis = sweep.len();
                let mut axes = Vec::new();
                for (s, n) in found {
                    duplicate(&s.key, &n.loc, &sweep)?;
                    design
                        .ranges
                        .push(design::parse_range(&cx, "design", &s.key, s.rule, n)?);
                    axes.push((s, n));
                }
                design.unit =
                    design::unit_points(kind, samples, axes.len(), first_order_only, seed);
                design.points = design.unit.len();
                for (d, (s, n)) in axes.into_iter().enumerate() {
                    let range = design.ranges[d];
                    let values = design.unit.iter().map(|u| range.at(u[d], s.rule)).collect();
                    axis_locs.push(n.loc.clone());
                    sweep.push(axis(&s, values));
                }
            }
        }
    }
    if design.points == 0 {
        design.first_axis = sweep.len();
    }

    // A swept distribution carries its parameters in each value.
    if sweep.iter().any(|a| a.key == "population.cost.dist")
        && let Some(i) = sweep
            .iter()
            .position(|a| matches!(a.target, crate::Target::Cost(_)))
    {
        return Err(cx.err(
            &axis_locs[i],
            &sweep[i].key,
            format!(
                "{} cannot be swept while population.cost.dist is swept: give the parameters \
                 in each distribution of population.cost.dist's values",
                sweep[i].key
            ),
        ));
    }

    strategy_axes(&cx, &sweep, &axis_locs, &population, &mut game)?;
    crate::network::model_axis(&cx, &sweep, &axis_locs, &mut game)?;
    crate::network::check(&cx, &root, &game, &sweep, &axis_locs)?;
    let variants = variant_reads
        .iter()
        .map(|v| variant_set(&cx, catalog, v, &allowed, &sweep, &ax))
        .collect::<Res<Vec<_>>>()?;

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
    let cells: u128 = sweep[..design.first_axis]
        .iter()
        .fold(design.points.max(1) as u128, |acc, a| {
            acc.saturating_mul(a.values.len() as u128)
        });
    let max_users = sweep
        .iter()
        .find(|a| a.key == "population.users")
        .map_or(game.users as f64, |a| {
            a.values.iter().copied().fold(0.0, f64::max)
        }) as u128;
    // A repeated game plays every user-campaign once per round (`dynamics.rounds`).
    let rounds = u128::from(game.dynamics.rounds.max(1));
    let total = cells
        .saturating_mul(replications as u128)
        .saturating_mul(mechs.len() as u128)
        .saturating_mul(max_users)
        .saturating_mul(rounds);
    if total > MAX_CAMPAIGN_USERS {
        let per_round = if rounds > 1 {
            format!(" x {rounds} rounds")
        } else {
            String::new()
        };
        return Err(ScenarioError {
            origin: origin.to_string(),
            line: None,
            key: None,
            message: format!(
                "scenario too large: {cells} cells x {replications} replications x {} mechanisms \
                 x {max_users} users{per_round} = {total} campaign-users, more than the limit of \
                 {MAX_CAMPAIGN_USERS}",
                mechs.len()
            ),
        });
    }

    // A strategy nobody holds and nobody sweeps is the default: equal games, equal scenarios.
    let swept = |t: &dyn Fn(&crate::Target) -> bool| sweep.iter().any(|a| t(&a.target));
    for kind in StrategyKind::ALL {
        let held = game.population.of(kind);
        // A strategy named without a share, where the default share is 0, is a mistake, not a
        // choice: it would silently stay unheld. (`share = 0.0` written keeps it unheld on
        // purpose.)
        if held.strategy != 0
            && kind.default_share() == 0.0
            && !population.of(kind).share_written
            && !swept(&|t| *t == crate::Target::Share(kind))
        {
            let name = catalog.strategies(kind)[held.strategy].0;
            let table = kind.as_str();
            let key = format!("population.{table}.strategy");
            return Err(cx.err(
                &tree::get_path(&root, &["population", table, "strategy"])
                    .map_or(Loc::File(None), |n| n.loc.clone()),
                &key,
                format!(
                    "{key} = \"{name}\" but population.{table}.share is not given, and its \
                     default 0 means nobody holds \"{name}\"; set share in [population.{table}] \
                     (in (0, 1]: the share of users holding it, e.g. share = 1.0), sweep \
                     population.{table}.share, or write share = 0.0 to leave it unheld"
                ),
            ));
        }
        if held.share == 0.0
            && !swept(&|t| {
                match t {
                crate::Target::Share(k) | crate::Target::StrategyParam(k, _) => *k == kind,
                crate::Target::Category(values) => values.iter().any(|c| {
                    matches!(c, crate::Category::Label { target: crate::ParamTarget::Strategy(k, _), .. } if *k == kind)
                }),
                _ => false,
            }
            })
        {
            *game.population.of_mut(kind) = StrategyShare::default();
        }
    }

    drawn_threshold(&cx, catalog, &sweep, &axis_locs, &mut game)?;

    let searches = if searching {
        if let Some((axis, loc)) = sweep.iter().zip(&axis_locs).next() {
            return Err(cx.err(
                loc,
                &axis.key,
                format!(
                    "{} is swept, but a file with [optimize] or [calibrate] sets one scenario \
                     for every candidate: the search chooses the points (name the key under \
                     [optimize.keys] or [calibrate.keys]), so drop [sweep] and [design]",
                    axis.key
                ),
            ));
        }
        search::read(
            &search::SearchCx {
                cx: &cx,
                root: &root,
                allowed: &allowed,
                ax: &ax,
                mechanisms: &mechs,
                catalog,
                dist: &dist_name,
                seed,
            },
            &top,
        )?
    } else {
        (None, None)
    };

    let scenario = Scenario {
        name,
        seed,
        replications,
        adaptive,
        description,
        mechanisms: mechs,
        base: game,
        sweep,
        design,
        trace,
        chunk_cells,
        contrasts,
        origin: origin.to_string(),
        source: text.to_string(),
        catalog: catalog.clone(),
        variants,
    };
    Ok((scenario, searches))
}

/// A variant's `set` table: `[game]` keys that do not change the draws, each once, none swept.
/// Dotted keys may be quoted (`"game.value" = 0.2`) or nested (`game.value = 0.2`).
fn variant_set(
    cx: &Cx,
    catalog: &Catalog,
    v: &sections::VariantRead,
    allowed: &[crate::axes::Sweepable],
    sweep: &[crate::SweepAxis],
    ax: &AxisCx,
) -> Res<crate::Variant> {
    let name = catalog.mechanisms[v.index].name;
    let table = format!("mechanism.{name}.set");
    let mut out = crate::Variant {
        index: v.index,
        base: v.base,
        set: Vec::new(),
    };
    let Some(set) = v.set else {
        return Ok(out);
    };
    let Val::Table(_) = &set.val else {
        return Err(cx.err(
            &set.loc,
            &table,
            format!(
                "{table} must be a table of [game] keys, e.g. set = {{ \"game.recovery_rounds\" = 1 }}, found {}",
                set.val.type_name()
            ),
        ));
    };
    let settable: Vec<&crate::axes::Sweepable> = allowed
        .iter()
        .filter(|s| s.key.starts_with("game."))
        .collect();
    let list = settable
        .iter()
        .map(|s| s.key.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    let mut entries = Vec::new();
    flatten(set, String::new(), &mut entries);
    for (key, node) in entries {
        let full = format!("{table}.\"{key}\"");
        let Some(s) = settable.iter().find(|s| s.key == key) else {
            let why = if key.starts_with("population.users") || key.starts_with("population.cost") {
                format!(
                    "{key} changes the draws, which every mechanism of a cell shares (common \
                     random numbers): sweep it instead"
                )
            } else {
                format!("unknown key `{key}`")
            };
            return Err(cx.err(
                &node.loc,
                &full,
                format!(
                    "{table}: {why}; a variant may set the [game] keys that do not change the draws: {list}"
                ),
            ));
        };
        if sweep.iter().any(|a| a.key == key) {
            return Err(cx.err(
                &node.loc,
                &full,
                format!(
                    "{table} sets {key}, which is also swept: every cell would set it twice; sweep \
                     it or set it in the variant, not both"
                ),
            ));
        }
        if out.set.iter().any(|e| e.key == key) {
            return Err(cx.err(&node.loc, &full, format!("{table}: {key} is set twice")));
        }
        let (target, value, toml) = match s.choices {
            Some(choices) => {
                let c = choices.read(cx, &full, node, ax)?;
                let toml = c.toml();
                (crate::Target::Category(vec![c]), 0.0, toml)
            }
            None => {
                let value = crate::read::param_value(cx, &full, node, s.rule)?;
                (
                    s.target.clone(),
                    value,
                    crate::normalize::number(value, s.rule),
                )
            }
        };
        out.set.push(crate::VariantSet {
            key,
            target,
            value,
            toml,
        });
    }
    Ok(out)
}

/// The leaves of a table as (dotted key, node), in written order.
fn flatten<'a>(n: &'a tree::Node, prefix: String, out: &mut Vec<(String, &'a tree::Node)>) {
    match &n.val {
        Val::Table(t) => {
            for (k, child) in t {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                if let Val::Table(_) = child.val {
                    flatten(child, key, out);
                } else {
                    out.push((key, child));
                }
            }
        }
        _ => out.push((prefix, n)),
    }
}

/// The axes of `[sweep]` or `[design]` (skipping `reserved` keys), in written order, each a
/// sweepable key that is not overridden directly and has an effect.
fn section_axes<'a>(
    cx: &Cx,
    root: &Entries,
    section: &str,
    table: &Tbl<'a>,
    reserved: &[&str],
    allowed: &[crate::axes::Sweepable],
    dist: &str,
) -> Res<Vec<(crate::axes::Sweepable, &'a tree::Node)>> {
    let mut found = Vec::new();
    for (k, n) in table.entries {
        if !reserved.contains(&k.as_str()) {
            walk_sweep(cx, section, k.clone(), n, allowed, dist, &mut found)?;
        }
    }
    // Dotted keys are grouped into nested tables by the parser: restore the written order.
    found.sort_by_key(|(_, n)| n.pos);
    for (s, n) in &found {
        let key = &s.key;
        let segs: Vec<&str> = key.split('.').collect();
        if let Some(set) = tree::get_path(root, &segs)
            && let Loc::Set(_) = set.loc
        {
            return Err(cx.err(
                &set.loc,
                key,
                format!("{key} is swept; override {section}.{key} instead"),
            ));
        }
        if let Some(why) = &s.no_effect {
            return Err(cx.err(
                &n.loc,
                &format!("{section}.{key}"),
                format!("{section}.{key} {why}"),
            ));
        }
    }
    Ok(found)
}

/// `[population.withdraw] threshold = { dist = ... }` (φ drawn per user): its number cannot also
/// be swept, and it is kept only when some cell's withdraw strategy reads it (the `threshold`
/// strategy held or swept), so that equal games normalise alike.
fn drawn_threshold(
    cx: &Cx,
    catalog: &Catalog,
    sweep: &[crate::SweepAxis],
    axis_locs: &[Loc],
    game: &mut Game,
) -> Res<()> {
    if game.peer_threshold.is_none() {
        return Ok(());
    }
    let name = crate::sections::drawn_threshold_key();
    let key = format!("population.withdraw.{name}");
    if let Some(i) = sweep.iter().position(|a| a.key == key) {
        return Err(cx.err(
            &axis_locs[i],
            &key,
            format!(
                "{key} is swept, but [population.withdraw] draws it from a distribution \
                 ({key} = {{ dist = ... }}): give one number in [0, 1] to sweep it, or a \
                 distribution without sweeping it"
            ),
        ));
    }
    let strategies = catalog.strategies(StrategyKind::Withdraw);
    let reads = |i: usize| i != 0 && strategies[i].1.iter().any(|s| s.key == name);
    let swept = sweep
        .iter()
        .filter(|a| a.key == "population.withdraw.strategy")
        .flat_map(|a| a.categories())
        .filter_map(|c| c.strategy())
        .any(|c| reads(c.index));
    if !swept && !reads(game.population.withdraw.strategy) {
        game.peer_threshold = None;
    }
    Ok(())
}

/// A swept strategy name: some cell must hold a non-default strategy (a share above 0 in some
/// cell), and the base game holds the default strategy with the table's share (the sweep sets
/// each cell's strategy and parameters; which strategy the table chose does not matter, so
/// equivalent files hash alike).
fn strategy_axes(
    cx: &Cx,
    sweep: &[crate::SweepAxis],
    axis_locs: &[Loc],
    population: &sections::PopulationRead,
    game: &mut Game,
) -> Res<()> {
    for strategy_kind in StrategyKind::ALL {
        let (kind, read) = (strategy_kind.as_str(), population.of(strategy_kind));
        let key = format!("population.{kind}.strategy");
        let Some(i) = sweep.iter().position(|a| a.key == key) else {
            continue;
        };
        *game.population.of_mut(strategy_kind) = StrategyShare {
            strategy: 0,
            share: read.share,
            params: Default::default(),
        };
        let held: Vec<&str> = sweep[i]
            .categories()
            .iter()
            .filter_map(|c| c.strategy())
            .filter(|s| s.index != 0)
            .map(|s| s.name)
            .collect();
        let share_key = format!("population.{kind}.share");
        let max_share = sweep
            .iter()
            .find(|a| a.key == share_key)
            .map_or(read.share, |a| a.values.iter().copied().fold(0.0, f64::max));
        if let Some(first) = held.first()
            && max_share == 0.0
        {
            let written = if sweep.iter().any(|a| a.key == share_key) {
                format!("swept {share_key} is 0 in every cell")
            } else if read.share_written {
                format!("{share_key} = 0")
            } else {
                format!("{share_key} is 0 (its default for {kind} strategies)")
            };
            return Err(cx.err(
                &axis_locs[i],
                &key,
                format!(
                    "{key} is swept but {written}: no user would hold \"{first}\"; set share in \
                     [population.{kind}] (in (0, 1]: the share of users holding each cell's \
                     strategy, e.g. share = 1.0) or sweep {share_key}"
                ),
            ));
        }
    }
    Ok(())
}
