//! `datapact validate`: a scenario checked, and what it would run printed.

use datapact_scenario::Scenario;
use datapact_sim::Backend;

use crate::context::{Context, load, memory_line, thread_count};
use crate::failure::Failure;

/// `datapact validate SCENARIO [--set K=V]...`.
pub(crate) fn validate(cx: &Context, scenario: String, set: Vec<String>) -> Result<(), Failure> {
    let s = load(cx, &scenario, &set)?;
    println!("{}: ok", s.origin);
    match &s.adaptive {
        None => println!(
            "  scenario     {} (seed {}, {} replications)",
            s.name, s.seed, s.replications
        ),
        Some(a) => println!(
            "  scenario     {} (seed {}, replications {})",
            s.name,
            s.seed,
            a.describe()
        ),
    }
    println!("  mechanisms   {}", s.mechanism_names().join(", "));
    for m in &s.mechanisms {
        let specs = s.catalog.mechanisms[m.index].params;
        let values = s.base.mechanism_params(m.index);
        for (i, spec) in specs.iter().enumerate() {
            println!(
                "  mechanism.{}.{} = {}",
                m.name,
                spec.key,
                values.at(specs, i)
            );
        }
    }
    for axis in &s.sweep {
        if !axis.categories().is_empty() {
            println!(
                "  sweep        {} -> column `{}` (Utf8): {} categories: {}",
                axis.key,
                axis.column,
                axis.values.len(),
                axis.labels().join(", ")
            );
            if let Some(line) = strategy_axis_line(&s, axis) {
                println!("               {line}");
            }
            continue;
        }
        let (lo, hi) = axis
            .values
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
                (a.min(*v), b.max(*v))
            });
        println!(
            "  sweep        {} -> column `{}`: {} values in [{lo}, {hi}]",
            axis.key,
            axis.column,
            axis.values.len()
        );
    }
    println!("  cells        {}", s.cell_count());
    let plan = datapact_runner::chunk_plan(&s);
    println!(
        "  chunks       {} of up to {} cells (shards beyond {} get no work)",
        plan.chunks(),
        plan.chunk_cells,
        plan.chunks()
    );
    println!("  campaigns    {}", s.campaigns());
    println!("  trace        {}", s.trace.as_str());
    let threads = thread_count(None)?;
    println!(
        "  memory       {}",
        memory_line(cx, &s, threads, Backend::Ecs, s.replications)
    );
    println!("  hash         {}", s.hash());
    Ok(())
}

/// What the cells of a swept strategy name hold beside the strategy: the share (the table's,
/// or "swept") and each swept strategy's parameters, e.g. `share 1; shade: factor = -0.2`.
fn strategy_axis_line(s: &Scenario, axis: &datapact_scenario::SweepAxis) -> Option<String> {
    let kind = axis
        .key
        .strip_prefix("population.")?
        .strip_suffix(".strategy")?;
    let (share, specs): (f64, Vec<&[datapact_model::ParamSpec]>) = if kind == "report" {
        let decls = s.catalog.report.iter().map(|d| d.params).collect();
        (s.base.population.report.share, decls)
    } else {
        let decls = s.catalog.withdraw.iter().map(|d| d.params).collect();
        (s.base.population.withdraw.share, decls)
    };
    let share_key = format!("population.{kind}.share");
    let mut parts = vec![if s.sweep.iter().any(|a| a.key == share_key) {
        format!("share swept ({share_key})")
    } else {
        format!("share {share}")
    }];
    for c in axis.categories().iter().filter_map(|c| c.strategy()) {
        let specs = specs[c.index];
        if c.index == 0 || specs.is_empty() {
            continue;
        }
        let values: Vec<String> = specs
            .iter()
            .enumerate()
            .map(|(i, spec)| format!("{} = {}", spec.key, c.params.at(specs, i)))
            .collect();
        parts.push(format!("{}: {}", c.name, values.join(", ")));
    }
    Some(parts.join("; "))
}
