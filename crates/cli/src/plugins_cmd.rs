//! `datapact plugins`: what the app registered, with every parameter's key, range, default and
//! meaning, derived from the declarations (nothing here is written twice).

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
}
