//! The search tables of a scenario file: `[optimize]` (NSGA-II over design keys, for
//! `datapact optimize`) and `[calibrate]` (ABC-SMC fitting model keys to target moments, for
//! `datapact calibrate`), read and checked like every other table (errors name the file, line,
//! key and allowed range), and the points scenarios a search runs (`docs/optimize.md`).
//!
//! The rest of the file is an ordinary scenario: the settings every candidate shares. It must
//! not sweep (the search chooses the points); `datapact run` refuses a file with a search table.

use std::fmt::Write as _;

use datapact_model::stats::{Stat, TargetMetric};
use datapact_model::{Catalog, Rule};

use crate::axes::{AxisCx, Sweepable, read_axis, walk_sweep};
use crate::read::{Cx, Res, Tbl, as_table, integer, number, string};
use crate::tree::{self, Entries, Loc, Node, Val};
use crate::{Category, ContrastPair, MechanismRef, Scenario, ScenarioError, column_name};

/// The most generations of either search.
pub const MAX_GENERATIONS: i64 = 100_000;

/// The largest NSGA-II population, ABC particle count or proposal count.
pub const MAX_POPULATION: i64 = 1_000_000;

/// What a searched key ranges over.
#[derive(Clone, Debug, PartialEq)]
pub enum Domain {
    /// A real key: `{ from, to }`, optionally searched on a log scale (`log = true`).
    Real {
        /// Lower end.
        from: f64,
        /// Upper end (> from).
        to: f64,
        /// Searched in ln(value) (from > 0).
        log: bool,
    },
    /// An integer key (`population.users`, an integer plugin parameter): `{ from, to }`.
    Integer {
        /// Lower end.
        from: i64,
        /// Upper end (> from).
        to: i64,
    },
    /// A categorical key: `{ values = [...] }`, at least two.
    Labels(Vec<Category>),
}

/// One key a search chooses.
#[derive(Clone, Debug, PartialEq)]
pub struct SearchKey {
    /// The key as in `[sweep]`, e.g. `game.payment`.
    pub key: String,
    /// Its column in `cells` (and in the search's tables), e.g. `payment`.
    pub column: String,
    /// Its range or labels.
    pub domain: Domain,
}

/// A statistic read back from a run: a `cells` metric of one mechanism, or the paired
/// difference of a core metric between two mechanisms (`contrasts`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Measure {
    /// `cells`: `metric` (with its SE column) of `mechanism`, last round.
    Cells {
        /// The mechanism.
        mechanism: MechanismRef,
        /// The metric.
        metric: TargetMetric,
    },
    /// `contrasts`: `<metric>_diff` (and `_se`) of the pair A − B, last round.
    Contrast {
        /// The pair.
        pair: ContrastPair,
        /// The core metric (any but leakage, which is not contrasted).
        metric: Stat,
    },
}

/// The stem of a core metric's `contrasts` columns: `welfare` for `welfare_mean`, `success`
/// for `success_rate` (its columns are `<stem>_diff`, `<stem>_diff_se`), as declared.
pub fn contrast_stem(metric: Stat) -> &'static str {
    metric.spec().stem
}

/// The SE column of a `cells` metric: `success_se` for `success_rate`, `welfare_se` for
/// `welfare_mean`, `forfeited_se` for a plugin's `forfeited_mean`.
pub fn se_column(metric: &TargetMetric) -> String {
    match metric {
        TargetMetric::Core(m) => m
            .spec()
            .se_column
            .expect("a targeted statistic has an SE column")
            .to_string(),
        TargetMetric::Plugin { name, .. } => format!("{name}_se"),
    }
}

impl Measure {
    /// The column it is read from: `welfare_mean` in `cells`, `welfare_diff` in `contrasts`.
    pub fn source_column(&self) -> String {
        match self {
            Measure::Cells { metric, .. } => metric.column(),
            Measure::Contrast { metric, .. } => format!("{}_diff", contrast_stem(*metric)),
        }
    }

    /// The column of its SE in the same table.
    pub fn source_se_column(&self) -> String {
        match self {
            Measure::Cells { metric, .. } => se_column(metric),
            Measure::Contrast { metric, .. } => format!("{}_diff_se", contrast_stem(*metric)),
        }
    }

    /// Its column in the search's tables: `<mechanism>_<metric>` (`M_welfare_mean`), or
    /// `<A>_minus_<B>_<stem>_diff` for a contrast (`M_minus_S_welfare_diff`); the SE is this
    /// plus `_se`.
    pub fn column(&self) -> String {
        match self {
            Measure::Cells { mechanism, metric } => {
                format!("{}_{}", mechanism.name, metric.column())
            }
            Measure::Contrast { pair, .. } => format!(
                "{}_minus_{}_{}",
                pair.a.name,
                pair.b.name,
                self.source_column()
            ),
        }
    }

    /// As written in a search table: `{ metric = "welfare_mean", mechanism = "M" }`.
    fn toml(&self) -> String {
        match self {
            Measure::Cells { mechanism, metric } => format!(
                "metric = {}, mechanism = {}",
                crate::toml_text::string(&metric.column()),
                crate::toml_text::string(mechanism.name)
            ),
            Measure::Contrast { pair, metric } => format!(
                "metric = {}, contrast = {}",
                crate::toml_text::string(metric.column()),
                crate::toml_text::string(&pair.label())
            ),
        }
    }
}

/// Whether an objective is maximised or minimised.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sense {
    /// Larger is better.
    Max,
    /// Smaller is better.
    Min,
}

impl Sense {
    /// `"max"` or `"min"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Sense::Max => "max",
            Sense::Min => "min",
        }
    }
}

/// One objective of `[optimize]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Objective {
    /// What is optimised.
    pub measure: Measure,
    /// Up or down.
    pub sense: Sense,
    /// The hypervolume's reference value for this objective, in the metric's units (a value
    /// worse than every point of interest); `None`: the nadir rule of `docs/optimize.md`.
    pub reference: Option<f64>,
}

/// One constraint: `min <= measure` and/or `measure <= max`.
#[derive(Clone, Debug, PartialEq)]
pub struct Constraint {
    /// What is bounded.
    pub measure: Measure,
    /// Lower bound.
    pub min: Option<f64>,
    /// Upper bound.
    pub max: Option<f64>,
}

/// The `[optimize]` table.
#[derive(Clone, Debug, PartialEq)]
pub struct Optimize {
    /// Generations after the initial sample... counted with it: generation 0 is the sample.
    pub generations: u32,
    /// The population size.
    pub population: usize,
    /// The search's seed (default: the scenario's).
    pub seed: u64,
    /// At least one.
    pub objectives: Vec<Objective>,
    /// Possibly none.
    pub constraints: Vec<Constraint>,
    /// Front members re-evaluated per generation with a fresh block of replications (0: off).
    pub reevaluations: usize,
    /// Blocks of replications a front member gets at most (its first included).
    pub max_batches: u32,
    /// The keys searched, in written order.
    pub keys: Vec<SearchKey>,
}

/// One target moment of `[calibrate]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Target {
    /// What is matched.
    pub measure: Measure,
    /// The observed value.
    pub value: f64,
    /// Its standard error (> 0).
    pub se: f64,
}

/// The `[calibrate]` table.
#[derive(Clone, Debug, PartialEq)]
pub struct Calibrate {
    /// ABC-SMC generations (generation 0 samples the prior).
    pub generations: u32,
    /// Particles kept per generation (the posterior sample).
    pub particles: usize,
    /// Proposals simulated per generation (≥ particles).
    pub proposals: usize,
    /// The search's seed (default: the scenario's).
    pub seed: u64,
    /// The moments to match.
    pub targets: Vec<Target>,
    /// The keys fitted (uniform prior on their ranges and labels).
    pub keys: Vec<SearchKey>,
}

/// A scenario file with its search tables.
#[derive(Clone, Debug)]
pub struct SearchFile {
    /// The scenario every candidate shares (no sweep, no design).
    pub scenario: Scenario,
    /// `[optimize]`, if written.
    pub optimize: Option<Optimize>,
    /// `[calibrate]`, if written.
    pub calibrate: Option<Calibrate>,
}

impl SearchFile {
    /// The strategies other than the defaults its candidates may give users: the scenario's
    /// ([`Scenario::strategies_named`]) and each searched strategy label.
    pub fn strategies_named(&self) -> Vec<(datapact_model::StrategyKind, usize)> {
        let keys = self.optimize.iter().flat_map(|o| &o.keys);
        let keys = keys.chain(self.calibrate.iter().flat_map(|c| &c.keys));
        let mut named = self.scenario.strategies_named();
        for k in keys {
            if let Domain::Labels(labels) = &k.domain {
                named.extend(labels.iter().filter_map(|c| match c {
                    crate::Category::Strategy(kind, choice) if choice.index != 0 => {
                        Some((*kind, choice.index))
                    }
                    _ => None,
                }));
            }
        }
        named.sort_by_key(|&(kind, i)| (kind.index(), i));
        named.dedup();
        named
    }

    /// The effective file as canonical text: the scenario's normalised text, then the search
    /// tables in canonical form. It loads back to the same file; a search's identity (what
    /// `--resume` compares) is its hash.
    pub fn normalized(&self) -> String {
        let mut o = self.scenario.normalized();
        if let Some(opt) = &self.optimize {
            let _ = writeln!(o, "\n[optimize]");
            let _ = writeln!(o, "algorithm = \"nsga2\"");
            let _ = writeln!(o, "generations = {}", opt.generations);
            let _ = writeln!(o, "population = {}", opt.population);
            let _ = writeln!(o, "seed = {}", opt.seed);
            let _ = writeln!(o, "reevaluations = {}", opt.reevaluations);
            let _ = writeln!(o, "max_batches = {}", opt.max_batches);
            let objectives: Vec<String> = opt
                .objectives
                .iter()
                .map(|ob| {
                    let reference = ob
                        .reference
                        .map(|r| format!(", reference = {}", crate::toml_text::float(r)))
                        .unwrap_or_default();
                    format!(
                        "  {{ {}, sense = \"{}\"{reference} }},",
                        ob.measure.toml(),
                        ob.sense.as_str()
                    )
                })
                .collect();
            let _ = writeln!(o, "objectives = [\n{}\n]", objectives.join("\n"));
            let constraints: Vec<String> = opt
                .constraints
                .iter()
                .map(|c| {
                    let mut bounds = String::new();
                    if let Some(m) = c.min {
                        let _ = write!(bounds, ", min = {}", crate::toml_text::float(m));
                    }
                    if let Some(m) = c.max {
                        let _ = write!(bounds, ", max = {}", crate::toml_text::float(m));
                    }
                    format!("  {{ {}{bounds} }},", c.measure.toml())
                })
                .collect();
            let _ = writeln!(o, "constraints = [\n{}\n]", constraints.join("\n"));
            keys_toml(&mut o, "optimize", &opt.keys);
        }
        if let Some(cal) = &self.calibrate {
            let _ = writeln!(o, "\n[calibrate]");
            let _ = writeln!(o, "generations = {}", cal.generations);
            let _ = writeln!(o, "particles = {}", cal.particles);
            let _ = writeln!(o, "proposals = {}", cal.proposals);
            let _ = writeln!(o, "seed = {}", cal.seed);
            let targets: Vec<String> = cal
                .targets
                .iter()
                .map(|t| {
                    format!(
                        "  {{ {}, value = {}, se = {} }},",
                        t.measure.toml(),
                        crate::toml_text::float(t.value),
                        crate::toml_text::float(t.se)
                    )
                })
                .collect();
            let _ = writeln!(o, "targets = [\n{}\n]", targets.join("\n"));
            keys_toml(&mut o, "calibrate", &cal.keys);
        }
        o
    }

    /// Hex SHA-256 of [`SearchFile::normalized`].
    pub fn hash(&self) -> String {
        crate::toml_text::sha256_hex(&self.normalized())
    }
}

fn keys_toml(o: &mut String, table: &str, keys: &[SearchKey]) {
    let _ = writeln!(o, "\n[{table}.keys]");
    for k in keys {
        let spec = match &k.domain {
            Domain::Real { from, to, log } => format!(
                "{{ from = {}, to = {}, log = {log} }}",
                crate::toml_text::float(*from),
                crate::toml_text::float(*to)
            ),
            Domain::Integer { from, to } => format!("{{ from = {from}, to = {to} }}"),
            Domain::Labels(c) => {
                let v: Vec<String> = c.iter().map(Category::toml).collect();
                format!("{{ values = [{}] }}", v.join(", "))
            }
        };
        let _ = writeln!(o, "{} = {spec}", crate::toml_text::string(&k.key));
    }
}

/// A key's value at one point of a search.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum KeyValue {
    /// A real or integer value.
    Number(f64),
    /// The index of a label among the key's values.
    Label(usize),
}

/// The scenario that evaluates `points` (each one value per key of `keys`, in order) under
/// `base` with seed `seed`, as canonical text: `base` with a points design over the numeric
/// keys and, when there are categorical keys, each fixed to one label by a one-value `[sweep]`
/// axis (so its column is in `cells` as in any run); every point must then hold the labels
/// `labels`. The caller groups points by their labels (one scenario per group).
///
/// # Errors
/// If the result does not load (a value out of its key's range: the search's ranges are
/// checked, so this means a key's range was not).
pub fn points_scenario(
    base: &Scenario,
    keys: &[SearchKey],
    labels: &[usize],
    points: &[Vec<f64>],
    seed: u64,
) -> Result<Scenario, ScenarioError> {
    let mut o = base.normalized();
    let categorical: Vec<(&SearchKey, &Vec<Category>)> = keys
        .iter()
        .filter_map(|k| match &k.domain {
            Domain::Labels(c) => Some((k, c)),
            _ => None,
        })
        .collect();
    if !categorical.is_empty() {
        let _ = writeln!(o, "\n[sweep]");
        for ((k, c), &l) in categorical.iter().zip(labels) {
            let _ = writeln!(o, "{} = {{ values = [{}] }}", k.key, c[l].toml());
        }
    }
    let numeric: Vec<&SearchKey> = keys
        .iter()
        .filter(|k| !matches!(k.domain, Domain::Labels(_)))
        .collect();
    if !numeric.is_empty() {
        let _ = writeln!(o, "\n[design]\nkind = \"points\"\npoints = [");
        for p in points {
            let kv: Vec<String> = numeric
                .iter()
                .zip(p)
                .map(|(k, v)| match k.domain {
                    Domain::Integer { .. } => format!("{} = {}", k.key, *v as i64),
                    _ => format!("{} = {}", k.key, crate::toml_text::float(*v)),
                })
                .collect();
            let _ = writeln!(o, "  {{ {} }},", kv.join(", "));
        }
        let _ = writeln!(o, "]");
    }
    let seed = format!("scenario.seed={seed}");
    Scenario::from_str_with(&base.catalog, &o, &base.origin, &[seed])
}

/// What the reader of `[optimize]` and `[calibrate]` needs from the scenario's reading.
pub(crate) struct SearchCx<'a> {
    pub cx: &'a Cx<'a>,
    pub root: &'a Entries,
    pub allowed: &'a [Sweepable],
    pub ax: &'a AxisCx<'a>,
    pub mechanisms: &'a [MechanismRef],
    pub catalog: &'a Catalog,
    pub dist: &'a str,
    pub seed: u64,
}

/// `[optimize]` and `[calibrate]` of `top`, if written.
pub(crate) fn read(s: &SearchCx, top: &Tbl) -> Res<(Option<Optimize>, Option<Calibrate>)> {
    let optimize = match top.sub(s.cx, "optimize")? {
        Some(t) => Some(read_optimize(s, &t)?),
        None => None,
    };
    let calibrate = match top.sub(s.cx, "calibrate")? {
        Some(t) => Some(read_calibrate(s, &t)?),
        None => None,
    };
    Ok((optimize, calibrate))
}

fn count(s: &SearchCx, t: &Tbl, key: &str, min: i64, max: i64, default: Option<i64>) -> Res<i64> {
    match (t.get(key), default) {
        (Some(n), _) => integer(s.cx, &t.full(key), n, Rule::Int { min, max }),
        (None, Some(d)) => Ok(d),
        (None, None) => Err(s.cx.err(
            &t.loc,
            &t.full(key),
            format!(
                "missing required key `{}` (an integer in [{min}, {max}])",
                t.full(key)
            ),
        )),
    }
}

fn seed_of(s: &SearchCx, t: &Tbl) -> Res<u64> {
    Ok(count(s, t, "seed", 0, i64::MAX, Some(s.seed as i64))? as u64)
}

fn read_optimize(s: &SearchCx, t: &Tbl) -> Res<Optimize> {
    t.check_keys(
        s.cx,
        &[
            "algorithm",
            "generations",
            "population",
            "seed",
            "objectives",
            "constraints",
            "reevaluations",
            "max_batches",
            "keys",
        ],
    )?;
    if let Some(n) = t.get("algorithm") {
        crate::read::choice(s.cx, &t.full("algorithm"), n, &["nsga2"])?;
    }
    let generations = count(s, t, "generations", 1, MAX_GENERATIONS, None)? as u32;
    let population = count(s, t, "population", 2, MAX_POPULATION, None)? as usize;
    let seed = seed_of(s, t)?;
    let reevaluations = count(
        s,
        t,
        "reevaluations",
        0,
        population as i64,
        Some(population.div_ceil(4) as i64),
    )? as usize;
    let max_batches = count(s, t, "max_batches", 2, 1000, Some(4))? as u32;
    let objectives: Vec<Objective> = list(s, t, "objectives", true)?
        .into_iter()
        .map(|(key, n)| {
            let item = as_table(s.cx, &key, n)?;
            item.check_keys(
                s.cx,
                &["metric", "mechanism", "contrast", "sense", "reference"],
            )?;
            let measure = measure(s, &item, &key)?;
            let sense = match crate::read::choice(
                s.cx,
                &item.full("sense"),
                item.require(s.cx, "sense")?,
                &["max", "min"],
            )?
            .as_str()
            {
                "max" => Sense::Max,
                _ => Sense::Min,
            };
            let reference = match item.get("reference") {
                Some(r) => Some(number(s.cx, &item.full("reference"), r, Rule::Any)?),
                None => None,
            };
            Ok((
                n,
                Objective {
                    measure,
                    sense,
                    reference,
                },
            ))
        })
        .collect::<Res<Vec<_>>>()
        .and_then(|v| unique(s, &v, |o| o.measure.column(), "objective"))?;
    let constraints: Vec<Constraint> = list(s, t, "constraints", false)?
        .into_iter()
        .map(|(key, n)| {
            let item = as_table(s.cx, &key, n)?;
            item.check_keys(s.cx, &["metric", "mechanism", "contrast", "min", "max"])?;
            let measure = measure(s, &item, &key)?;
            let bound = |k: &str| -> Res<Option<f64>> {
                item.get(k)
                    .map(|b| number(s.cx, &item.full(k), b, Rule::Any))
                    .transpose()
            };
            let (min, max) = (bound("min")?, bound("max")?);
            match (min, max) {
                (None, None) => Err(s.cx.err(
                    &n.loc,
                    &key,
                    format!("{key} needs min = ... or max = ... (or both)"),
                )),
                (Some(lo), Some(hi)) if lo > hi => Err(s.cx.err(
                    &n.loc,
                    &key,
                    format!("{key}: min = {lo} is above max = {hi}; no value meets both"),
                )),
                _ => Ok((n, Constraint { measure, min, max })),
            }
        })
        .collect::<Res<Vec<_>>>()
        .and_then(|v| unique(s, &v, |c| c.measure.column(), "constraint"))?;
    let keys = keys(s, t, true)?;
    Ok(Optimize {
        generations,
        population,
        seed,
        objectives,
        constraints,
        reevaluations,
        max_batches,
        keys,
    })
}

fn read_calibrate(s: &SearchCx, t: &Tbl) -> Res<Calibrate> {
    t.check_keys(
        s.cx,
        &[
            "generations",
            "particles",
            "proposals",
            "seed",
            "targets",
            "keys",
        ],
    )?;
    let generations = count(s, t, "generations", 1, MAX_GENERATIONS, Some(4))? as u32;
    let particles = count(s, t, "particles", 2, MAX_POPULATION, Some(100))? as usize;
    let proposals = count(
        s,
        t,
        "proposals",
        particles as i64,
        MAX_POPULATION.max(particles as i64),
        Some((particles as i64 * 20).min(MAX_POPULATION)),
    )? as usize;
    let seed = seed_of(s, t)?;
    let targets: Vec<Target> = list(s, t, "targets", true)?
        .into_iter()
        .map(|(key, n)| {
            let item = as_table(s.cx, &key, n)?;
            item.check_keys(s.cx, &["metric", "mechanism", "contrast", "value", "se"])?;
            let measure = measure(s, &item, &key)?;
            let value = number(
                s.cx,
                &item.full("value"),
                item.require(s.cx, "value")?,
                Rule::Any,
            )?;
            let se = number(s.cx, &item.full("se"), item.require(s.cx, "se")?, Rule::Pos)?;
            Ok((n, Target { measure, value, se }))
        })
        .collect::<Res<Vec<_>>>()
        .and_then(|v| unique(s, &v, |t| t.measure.column(), "target"))?;
    let keys = keys(s, t, false)?;
    if let Some(k) = keys
        .iter()
        .find(|k| matches!(k.domain, Domain::Integer { .. }))
    {
        let key = format!("calibrate.keys.{}", k.key);
        return Err(s.cx.err(
            &key_loc(t, &k.key),
            &key,
            format!(
                "{key}: ABC-SMC fits real keys and categorical keys; {} is an integer key \
                 (fix it in the scenario, or calibrate a real key)",
                k.key
            ),
        ));
    }
    Ok(Calibrate {
        generations,
        particles,
        proposals,
        seed,
        targets,
        keys,
    })
}

/// The location of `keys.KEY` in `t` (quoted or dotted), for errors found after reading.
fn key_loc(t: &Tbl, key: &str) -> Loc {
    let Some(keys) = t.get("keys") else {
        return t.loc.clone();
    };
    let Val::Table(entries) = &keys.val else {
        return keys.loc.clone();
    };
    if let Some((_, n)) = entries.iter().find(|(k, _)| k == key) {
        return n.loc.clone();
    }
    let segs: Vec<&str> = key.split('.').collect();
    tree::get_path(entries, &segs).map_or(keys.loc.clone(), |n| n.loc.clone())
}

/// The items of array `key` of `t`, each with its full key (`optimize.objectives[2]`).
fn list<'a>(s: &SearchCx, t: &Tbl<'a>, key: &str, required: bool) -> Res<Vec<(String, &'a Node)>> {
    let full = t.full(key);
    let Some(n) = t.get(key) else {
        if required {
            return Err(s.cx.err(
                &t.loc,
                &full,
                format!("missing required key `{full}` (a list of tables)"),
            ));
        }
        return Ok(Vec::new());
    };
    let Val::Array(items) = &n.val else {
        return Err(s.cx.err(
            &n.loc,
            &full,
            format!(
                "{full} must be an array of tables, found {}",
                n.val.type_name()
            ),
        ));
    };
    if required && items.is_empty() {
        return Err(s
            .cx
            .err(&n.loc, &full, format!("{full} is empty: give at least one")));
    }
    Ok(items
        .iter()
        .enumerate()
        .map(|(i, item)| (format!("{full}[{i}]"), item))
        .collect())
}

/// Refuses two items that measure the same column.
fn unique<T>(
    s: &SearchCx,
    items: &[(&Node, T)],
    column: impl Fn(&T) -> String,
    what: &str,
) -> Res<Vec<T>>
where
    T: Clone,
{
    for (i, (n, x)) in items.iter().enumerate() {
        let c = column(x);
        if items[..i].iter().any(|(_, y)| column(y) == c) {
            return Err(s
                .cx
                .err(&n.loc, &c, format!("two {what}s measure {c}; keep one")));
        }
    }
    Ok(items.iter().map(|(_, x)| x.clone()).collect())
}

/// `metric` with `mechanism` (a `cells` column) or `contrast` (a `contrasts` pair).
fn measure(s: &SearchCx, item: &Tbl, key: &str) -> Res<Measure> {
    let metric_n = item.require(s.cx, "metric")?;
    let metric_key = item.full("metric");
    let name = string(s.cx, &metric_key, metric_n)?;
    match (item.get("mechanism"), item.get("contrast")) {
        (Some(m), None) => {
            let mkey = item.full("mechanism");
            let mname = string(s.cx, &mkey, m)?;
            let Some(mechanism) = s.mechanisms.iter().find(|x| x.name == mname).copied() else {
                let names: Vec<&str> = s.mechanisms.iter().map(|x| x.name).collect();
                return Err(s.cx.err(
                    &m.loc,
                    &mkey,
                    format!(
                        "{mkey} = {mname:?} is not a mechanism of the run; it runs {} (list it \
                         in `mechanisms`)",
                        names.join(", ")
                    ),
                ));
            };
            let Some(metric) = TargetMetric::parse(name, &s.catalog.metrics) else {
                let allowed: Vec<String> = Stat::WITH_SE
                    .iter()
                    .map(|m| m.column().to_string())
                    .chain(s.catalog.metrics.iter().map(|m| format!("{m}_mean")))
                    .map(|c| format!("\"{c}\""))
                    .collect();
                return Err(s.cx.err(
                    &metric_n.loc,
                    &metric_key,
                    format!(
                        "{metric_key} = {name:?} is not a cells column with a standard error; \
                         allowed: {}",
                        allowed.join(", ")
                    ),
                ));
            };
            Ok(Measure::Cells { mechanism, metric })
        }
        (None, Some(c)) => {
            let pair =
                crate::sections::contrast_pair(s.cx, &item.full("contrast"), c, s.mechanisms)?;
            let contrasted = Stat::CONTRASTED;
            let Some(metric) = Stat::parse(name).filter(|m| contrasted.contains(m)) else {
                let allowed: Vec<String> = contrasted
                    .iter()
                    .map(|m| format!("\"{}\"", m.column()))
                    .collect();
                return Err(s.cx.err(
                    &metric_n.loc,
                    &metric_key,
                    format!(
                        "{metric_key} = {name:?} has no paired contrast; with contrast, allowed: {}",
                        allowed.join(", ")
                    ),
                ));
            };
            Ok(Measure::Contrast { pair, metric })
        }
        (Some(_), Some(c)) => Err(s.cx.err(
            &c.loc,
            key,
            format!("{key}: give either mechanism = \"M\" or contrast = \"M-S\", not both"),
        )),
        (None, None) => Err(s.cx.err(
            &item.loc,
            key,
            format!(
                "{key} needs mechanism = \"M\" (a cells metric of one mechanism) or contrast = \
                 \"M-S\" (a paired difference)"
            ),
        )),
    }
}

/// `[optimize.keys]` or `[calibrate.keys]`: each a sweepable key with `{ from, to[, log] }` or,
/// for a categorical key, `{ values = [...] }` (at least two).
fn keys(s: &SearchCx, t: &Tbl, optimize: bool) -> Res<Vec<SearchKey>> {
    let section = t.full("keys");
    let n = t.get("keys").ok_or_else(|| {
        s.cx.err(
            &t.loc,
            &section,
            format!(
                "missing required table [{section}] (e.g. \"game.payment\" = {{ from = 0.0, to = 0.3 }})"
            ),
        )
    })?;
    let kt = as_table(s.cx, &section, n)?;
    let mut found = Vec::new();
    for (k, n) in kt.entries {
        walk_sweep(s.cx, &section, k.clone(), n, s.allowed, s.dist, &mut found)?;
    }
    found.sort_by_key(|(_, n)| n.pos);
    if found.is_empty() {
        return Err(s
            .cx
            .err(&n.loc, &section, format!("[{section}] names no key")));
    }
    let mut keys: Vec<SearchKey> = Vec::with_capacity(found.len());
    for (sw, n) in found {
        let key = format!("{section}.{}", sw.key);
        if optimize && sw.key == "game.value" {
            return Err(s.cx.err(
                &n.loc,
                &key,
                format!(
                    "{key}: V (game.value) is the users' valuation of the improved model, not a \
                     design choice: optimise what a designer sets (payment, threshold, a \
                     deposit, a rule) at a given V — set V in [game] (or run one optimisation \
                     per value with --set game.value=...); to fit V to data, use [calibrate]"
                ),
            ));
        }
        if let Some(why) = &sw.no_effect {
            return Err(s.cx.err(&n.loc, &key, format!("{key} {why}")));
        }
        if keys.iter().any(|k| k.key == sw.key) {
            return Err(s.cx.err(&n.loc, &key, format!("{key} is named twice")));
        }
        if let Some(set) = tree::get_path(s.root, &sw.key.split('.').collect::<Vec<_>>())
            && let Loc::Set(_) = set.loc
        {
            return Err(s.cx.err(
                &set.loc,
                &sw.key,
                format!("{} is searched; override {key} instead", sw.key),
            ));
        }
        let domain = if sw.choices.is_some() {
            let axis = read_axis(s.cx, &section, &sw, n, s.ax)?;
            let categories = axis.categories().to_vec();
            if categories.len() < 2 {
                return Err(s.cx.err(
                    &n.loc,
                    &key,
                    format!("{key}: a categorical key needs at least two values to choose among"),
                ));
            }
            Domain::Labels(categories)
        } else {
            let r = crate::design::parse_range(s.cx, &section, &sw.key, sw.rule, n)?;
            if let Rule::Int { .. } = sw.rule {
                if r.log {
                    return Err(s.cx.err(
                        &n.loc,
                        &format!("{key}.log"),
                        format!("{key}: an integer key is searched on its integers; drop log"),
                    ));
                }
                Domain::Integer {
                    from: r.from as i64,
                    to: r.to as i64,
                }
            } else {
                Domain::Real {
                    from: r.from,
                    to: r.to,
                    log: r.log,
                }
            }
        };
        keys.push(SearchKey {
            column: column_name(&sw.key),
            key: sw.key.clone(),
            domain,
        });
    }
    Ok(keys)
}

/// Whether `[optimize.keys]` or `[calibrate.keys]` names `key` (quoted, `"a.b" = ...`, or
/// dotted, `a.b = ...`).
pub(crate) fn names_key(root: &Entries, key: &str) -> bool {
    ["optimize", "calibrate"].iter().any(|table| {
        let Some(keys) = tree::get_path(root, &[table, "keys"]) else {
            return false;
        };
        let Val::Table(entries) = &keys.val else {
            return false;
        };
        entries.iter().any(|(k, _)| k == key)
            || tree::get_path(entries, &key.split('.').collect::<Vec<_>>()).is_some()
    })
}

/// A search table is read only by the search commands, which need one.
pub(crate) fn check_tables(cx: &Cx, top: &Tbl, searching: bool) -> Res<()> {
    let written: Vec<(&str, &Node)> = ["optimize", "calibrate"]
        .into_iter()
        .filter_map(|k| top.get(k).map(|n| (k, n)))
        .collect();
    match (searching, written.first()) {
        (false, Some((table, n))) => Err(cx.err(
            &n.loc,
            table,
            format!(
                "[{table}] is a search over this scenario: run it with `datapact {table} FILE \
                 --out DIR` (`run` and `validate` read plain scenarios; see docs/optimize.md)"
            ),
        )),
        (true, None) => Err(cx.err(
            &Loc::File(None),
            "optimize",
            "no [optimize] or [calibrate] table: this is a plain scenario (use `datapact run`), \
             or add the search table (docs/optimize.md)",
        )),
        _ => Ok(()),
    }
}
