//! `datapact plugins`: what the app registered, with every parameter's key, range, default and
//! meaning, derived from the declarations (nothing here is written twice), then the core's own
//! keys ([`datapact_model::GAME_KEYS`]) and cost distributions ([`datapact_model::COST_DISTS`]).

use datapact_model::param::ParamSpec;
use datapact_sim::PluginSet;

fn params(prefix: &str, specs: &[ParamSpec]) {
    for s in specs {
        println!(
            "      {prefix}{:<16} default {:<8} {:<20} {}",
            s.key,
            s.default,
            s.rule.desc(),
            s.doc
        );
    }
}

pub(crate) fn print(plugins: &PluginSet) {
    println!("plugins");
    for p in plugins.plugins() {
        println!("  {} {}", p.name, p.version);
    }
    let catalog = plugins.catalog();
    println!("mechanisms (mechanisms = [...], parameters in [mechanism.NAME])");
    for m in &catalog.mechanisms {
        println!("  {:<12} {}", m.name, m.description);
        params(&format!("mechanism.{}.", m.name), m.params);
    }
    println!("report strategies ([population.report] strategy = ..., share, parameters)");
    for (i, s) in catalog.report.iter().enumerate() {
        let default = if i == 0 { " (default)" } else { "" };
        println!("  {:<12} {}{default}", s.name, s.description);
        params("population.report.", s.params);
    }
    println!("withdraw strategies ([population.withdraw] strategy = ..., share, parameters)");
    for (i, s) in catalog.withdraw.iter().enumerate() {
        let default = if i == 0 { " (default)" } else { "" };
        println!("  {:<12} {}{default}", s.name, s.description);
        params("population.withdraw.", s.params);
    }
    println!("metrics (rounds: NAME; cells: NAME_mean, NAME_se)");
    for m in plugins.metrics() {
        println!("  {:<20} {}", m.name, m.description);
    }
    core_keys();
}

/// The keys of a game and the cost distributions, as declared.
fn core_keys() {
    println!("game keys (population.users and [game]; each sweepable under [sweep])");
    for k in &datapact_model::GAME_KEYS {
        let (default, allowed) = match k.choice(k.default) {
            Some(name) => (name.to_string(), format!("one of {}", k.choices.join(", "))),
            None => (k.default.to_string(), k.rule.desc()),
        };
        let drawn = if k.drawn {
            " (enters the draw key)"
        } else {
            ""
        };
        let doc = match k.symbol {
            "" => k.doc.to_string(),
            symbol => format!("{symbol}: {}", k.doc),
        };
        println!(
            "  {:<22} default {default:<12} {allowed:<24} {doc}{drawn}",
            k.path()
        );
    }
    println!(
        "cost distributions (population.cost = {{ dist = NAME, parameters }}; each enters the draw key)"
    );
    for d in &datapact_model::COST_DISTS {
        println!("  {:<12} {}", d.name, d.doc);
        for p in d.params {
            let default = p
                .default
                .map_or("required".to_string(), |v| format!("default {v}"));
            println!(
                "      population.cost.{:<10} {default:<12} {:<20} {}",
                p.name,
                p.rule.desc(),
                p.doc
            );
        }
    }
}
