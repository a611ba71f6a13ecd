//! Canonical TOML of an effective scenario.

use std::fmt::Write;

use datapact_model::GAME_KEYS;

use crate::Scenario;
use crate::linspace::linspace;
use crate::toml_text::{distribution, float, string};

/// A parameter value as TOML: an integer for integer keys, the label for categorical ones.
pub(crate) fn number(v: f64, rule: datapact_model::Rule) -> String {
    if let Some(label) = rule.label(v) {
        string(label)
    } else if rule.is_int() {
        format!("{}", v as i64)
    } else {
        float(v)
    }
}

/// The keys of `table` declared in [`GAME_KEYS`], in declaration order, each that is written
/// ([`datapact_model::GameKey::is_written`]: a key added later only away from its default).
fn keys(o: &mut String, table: &str, g: &datapact_model::Game) {
    for k in GAME_KEYS
        .iter()
        .filter(|k| k.table == table && k.is_written(g))
    {
        let v = (k.get)(g);
        let text = match k.choice(v) {
            Some(name) => string(name),
            None => number(v, k.rule),
        };
        let _ = writeln!(o, "{} = {text}", k.name);
    }
}

fn axis_spec(axis: &crate::SweepAxis) -> String {
    let values = &axis.values;
    let categories = axis.categories();
    if !categories.is_empty() {
        let vals: Vec<String> = categories.iter().map(|c| c.toml()).collect();
        return format!("{{ values = [{}] }}", vals.join(", "));
    }
    let n = values.len();
    if n >= 2 {
        let (from, to) = (values[0], values[n - 1]);
        let lin = linspace(from, to, n);
        if lin
            .iter()
            .zip(values)
            .all(|(a, b)| a.to_bits() == b.to_bits())
        {
            return format!(
                "{{ from = {}, to = {}, steps = {n} }}",
                float(from),
                float(to)
            );
        }
    }
    let vals: Vec<String> = values.iter().map(|&v| float(v)).collect();
    format!("{{ values = [{}] }}", vals.join(", "))
}

/// A design's points: its sampled axes' ranges (the points follow from them and the seed), or
/// the listed points inline (so a `file` design loads back without its file), or, given
/// `points_file`, `file = "FILE"` and `points_sha256` (their digest) in their place: a file that
/// holds them, and which points it must hold.
fn design(o: &mut String, s: &Scenario, axes: &[crate::SweepAxis], points_file: Option<&str>) {
    use crate::DesignKind;
    let d = &s.design;
    if axes.is_empty() {
        return;
    }
    let _ = writeln!(o, "\n[design]");
    let _ = writeln!(o, "kind = {}", string(d.kind.as_str()));
    if let (DesignKind::Points, Some(file)) = (d.kind, points_file) {
        let _ = writeln!(o, "file = {}", string(file));
        let digest = s.points_sha256().unwrap_or_default();
        let _ = writeln!(o, "points_sha256 = {}", string(&digest));
    } else if d.kind == DesignKind::Points {
        let _ = writeln!(o, "points = [");
        for p in 0..d.points {
            let kv: Vec<String> = axes
                .iter()
                .map(|a| format!("{} = {}", a.key, float(a.values[p])))
                .collect();
            let _ = writeln!(o, "  {{ {} }},", kv.join(", "));
        }
        let _ = writeln!(o, "]");
    } else {
        let _ = writeln!(o, "samples = {}", d.samples);
        // Written only away from its default, so existing designs keep their hashes.
        if d.first_order_only {
            let _ = writeln!(o, "second_order = false");
        }
        for (a, r) in axes.iter().zip(&d.ranges) {
            let _ = writeln!(
                o,
                "{} = {{ from = {}, to = {}, log = {} }}",
                a.key,
                float(r.from),
                float(r.to),
                r.log
            );
        }
    }
}

pub(crate) fn normalized(s: &Scenario, points_file: Option<&str>) -> String {
    let g = &s.base;
    // Every field of a game reaches the text below: a field added to `Game` stops this from
    // compiling until it is declared in `GAME_KEYS` (written by `keys`) or written here.
    let datapact_model::Game {
        users: _,
        threshold: _,
        value: _,
        payment: _,
        belief: _,
        obs_noise: _,
        drift: _,
        irreversible: _,
        recovery_rounds: _,
        order: _,
        cost: _,
        population: _,
        mechanism_params: _,
        dynamics: _,
        // Written by `crate::network::normalized`, only when there is a network.
        network: _,
        // Written with the `threshold` strategy's parameters below, only when drawn.
        peer_threshold: _,
    } = g;
    let mut o = String::new();
    let mechs: Vec<String> = s.mechanisms.iter().map(|m| string(m.name)).collect();
    let _ = writeln!(o, "mechanisms = [{}]", mechs.join(", "));
    for m in &s.mechanisms {
        let specs = s.catalog.mechanisms[m.index].params;
        let variant = s.variant(m.index);
        if specs.is_empty() && variant.is_none() {
            continue;
        }
        let _ = writeln!(o, "\n[mechanism.{}]", string(m.name));
        // Written only for variants, so that scenarios without them keep their hash.
        if let Some(v) = variant {
            let _ = writeln!(o, "of = {}", string(s.catalog.mechanisms[v.base].name));
            let set: Vec<String> = v
                .set
                .iter()
                .map(|e| format!("{} = {}", string(&e.key), e.toml))
                .collect();
            if !set.is_empty() {
                let _ = writeln!(o, "set = {{ {} }}", set.join(", "));
            }
        }
        let values = g.mechanism_params(m.index);
        for (i, spec) in specs.iter().enumerate() {
            let _ = writeln!(
                o,
                "{} = {}",
                spec.key,
                number(values.at(specs, i), spec.rule)
            );
        }
    }

    let _ = writeln!(o, "\n[scenario]");
    let _ = writeln!(o, "name = {}", string(&s.name));
    let _ = writeln!(o, "seed = {}", s.seed);
    match &s.adaptive {
        None => {
            let _ = writeln!(o, "replications = {}", s.replications);
        }
        Some(a) => {
            let contrast = a
                .contrast
                .map(|p| format!(", contrast = {}", string(&p.label())))
                .unwrap_or_default();
            let _ = writeln!(
                o,
                "replications = {{ target_se = {}, metric = {}, min = {}, max = {}, batch = {}{contrast} }}",
                float(a.target_se),
                string(&a.metric.column()),
                a.min,
                a.max,
                a.batch
            );
        }
    }
    if let Some(d) = &s.description {
        let _ = writeln!(o, "description = {}", string(d));
    }

    let _ = writeln!(o, "\n[population]");
    keys(&mut o, "population", g);
    let _ = writeln!(o, "cost = {}", distribution(&g.cost));

    // Only the chosen strategies are written (the loader folds an unheld, unswept strategy into
    // the default, so equal games normalise alike). A swept strategy name writes the share and
    // the parameters of the strategies it takes (the base game then holds the default).
    for strategy_kind in datapact_model::StrategyKind::ALL {
        let (kind, share) = (strategy_kind.as_str(), g.population.of(strategy_kind));
        let strategies = s.catalog.strategies(strategy_kind);
        let swept: Vec<&crate::StrategyChoice> = s
            .sweep
            .iter()
            .filter(|a| a.key == format!("population.{kind}.strategy"))
            .flat_map(|a| a.categories())
            .filter_map(|c| c.strategy())
            .collect();
        // Amount kinds are written only when used, so scenarios without them keep their hash.
        if !strategy_kind.always_written() && share.strategy == 0 && swept.is_empty() {
            continue;
        }
        let (name, specs) = strategies[share.strategy];
        let _ = writeln!(o, "\n[population.{kind}]");
        let _ = writeln!(o, "strategy = {}", string(name));
        if share.strategy != 0 || !swept.is_empty() {
            let _ = writeln!(o, "share = {}", float(share.share));
            let mut written: Vec<&str> = Vec::new();
            let held = swept
                .iter()
                .map(|c| (&c.params, strategies[c.index].1))
                .chain((share.strategy != 0).then_some((&share.params, specs)));
            for (params, specs) in held {
                for (i, spec) in specs.iter().enumerate() {
                    if written.contains(&spec.key) {
                        continue;
                    }
                    written.push(spec.key);
                    // The `threshold` strategy's φ drawn per user: its distribution instead.
                    let drawn = (strategy_kind == datapact_model::StrategyKind::Withdraw
                        && spec.key == crate::sections::drawn_threshold_key())
                    .then_some(g.peer_threshold.as_ref())
                    .flatten();
                    let value = match drawn {
                        Some(dist) => distribution(dist),
                        None => number(params.at(specs, i), spec.rule),
                    };
                    let _ = writeln!(o, "{} = {value}", spec.key);
                }
            }
        }
    }
    crate::network::normalized(&mut o, s);
    // Written only when not the single-campaign default, so `rounds = 1` hashes like no [dynamics];
    // a swept cost process or learning rule writes the parameter its values use.
    let swept = |pick: fn(&crate::Category) -> Option<f64>| {
        s.sweep.iter().flat_map(|a| a.categories()).find_map(pick)
    };
    let persistence = swept(|c| match c {
        crate::Category::CostProcess(datapact_model::CostProcess::Ar1 { persistence }) => {
            Some(*persistence)
        }
        _ => None,
    });
    let rate = swept(|c| match c {
        crate::Category::Learning(datapact_model::Learning::Adaptive { rate }) => Some(*rate),
        _ => None,
    });
    if g.dynamics != datapact_model::Dynamics::default() || persistence.is_some() || rate.is_some()
    {
        let d = &g.dynamics;
        let _ = writeln!(o, "\n[dynamics]");
        let _ = writeln!(o, "rounds = {}", d.rounds);
        match d.cost_process {
            datapact_model::CostProcess::Iid => {
                let _ = writeln!(o, "cost_process = \"iid\"");
            }
            datapact_model::CostProcess::Persistent => {
                let _ = writeln!(o, "cost_process = \"persistent\"");
            }
            datapact_model::CostProcess::Ar1 { .. } => {
                let _ = writeln!(o, "cost_process = \"ar1\"");
            }
        }
        if let datapact_model::CostProcess::Ar1 { persistence } = d.cost_process {
            let _ = writeln!(o, "persistence = {}", float(persistence));
        } else if let Some(p) = persistence {
            let _ = writeln!(o, "persistence = {}", float(p));
        }
        match d.learning {
            datapact_model::Learning::None => {
                let _ = writeln!(o, "learning = \"none\"");
            }
            datapact_model::Learning::Adaptive { .. } => {
                let _ = writeln!(o, "learning = \"adaptive\"");
            }
        }
        if let datapact_model::Learning::Adaptive { rate } = d.learning {
            let _ = writeln!(o, "learning_rate = {}", float(rate));
        } else if let Some(r) = rate {
            let _ = writeln!(o, "learning_rate = {}", float(r));
        }
    }

    let _ = writeln!(o, "\n[game]");
    keys(&mut o, "game", g);

    // A grid [design] is written as [sweep]: the same cells, the same hash.
    let (grid, points) = s.sweep.split_at(s.design.first_axis);
    if !grid.is_empty() {
        let _ = writeln!(o, "\n[sweep]");
        for a in grid {
            let _ = writeln!(o, "{} = {}", a.key, axis_spec(a));
        }
    }
    design(&mut o, s, points, points_file);

    let _ = writeln!(o, "\n[output]");
    let _ = writeln!(o, "trace = {}", string(s.trace.as_str()));
    if let Some(k) = s.chunk_cells {
        let _ = writeln!(o, "chunk_cells = {k}");
    }
    // Written only when listed, so that the default keeps every earlier scenario's hash.
    if let Some(pairs) = &s.contrasts {
        let list: Vec<String> = pairs.iter().map(|p| string(&p.label())).collect();
        let _ = writeln!(o, "contrasts = [{}]", list.join(", "));
    }
    o
}
