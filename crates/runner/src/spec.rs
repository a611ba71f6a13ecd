//! What a scenario asks of the simulator and the writers: the depth of detail kept, the tables
//! written, the plugin list recorded, the adaptive rule and the contrast pairs as positions in
//! the run's mechanisms.

use datapact_model::StrategyKind;
use datapact_scenario::{Scenario, TraceLevel};
use datapact_sim::{Depth, PluginSet};
use datapact_trace::Table;

/// The plugins a run of `scenario` uses, as recorded in outputs: `name version` per plugin, in
/// the order they were added ([`PluginSet::plugins_used`]).
pub fn plugin_list(plugins: &PluginSet, scenario: &Scenario) -> Vec<String> {
    plugin_names(
        plugins,
        &scenario.mechanisms_played(),
        &scenario.strategies_named(),
    )
}

/// `name version` of each plugin a run of `mechanisms` whose users hold `strategies` uses.
pub(crate) fn plugin_names(
    plugins: &PluginSet,
    mechanisms: &[usize],
    strategies: &[(StrategyKind, usize)],
) -> Vec<String> {
    plugins
        .plugins_used(mechanisms, strategies)
        .iter()
        .map(|p| {
            if p.version.is_empty() {
                p.name.clone()
            } else {
                format!("{} {}", p.name, p.version)
            }
        })
        .collect()
}

/// How much per-campaign detail the simulator must keep for a scenario's trace level.
pub fn depth_of(trace: TraceLevel) -> Depth {
    match trace {
        TraceLevel::Cells => Depth::Cells,
        TraceLevel::Rounds => Depth::Rounds,
        TraceLevel::Users => Depth::Users,
        TraceLevel::Events => Depth::Events,
    }
}

/// The tables a scenario writes (`contrasts` at every level, empty for a single mechanism).
pub fn tables_of(trace: TraceLevel) -> Vec<Table> {
    let mut tables = vec![Table::Cells, Table::Diagnostics, Table::Contrasts];
    if trace >= TraceLevel::Rounds {
        tables.push(Table::Rounds);
    }
    if trace >= TraceLevel::Users {
        tables.push(Table::Users);
    }
    if trace >= TraceLevel::Events {
        tables.push(Table::Events);
    }
    tables
}

/// The simulator's view of a scenario's adaptive rule: its contrast as positions in the run's
/// mechanisms.
pub fn stop_rule(scenario: &Scenario, a: &datapact_scenario::Adaptive) -> datapact_sim::StopRule {
    let position = |m: datapact_scenario::MechanismRef| {
        scenario
            .mechanisms
            .iter()
            .position(|x| *x == m)
            .expect("the scenario reader takes a contrast's mechanisms from the run's")
    };
    datapact_sim::StopRule {
        target_se: a.target_se,
        metric: a.metric,
        min: a.min,
        max: a.max,
        batch: a.batch,
        contrast: a.contrast.map(|p| (position(p.a), position(p.b))),
    }
}

/// The scenario's contrast pairs as positions (A, B) in its mechanism list.
pub(crate) fn contrast_positions(scenario: &Scenario) -> Vec<(usize, usize)> {
    let position = |m: datapact_scenario::MechanismRef| {
        scenario
            .mechanisms
            .iter()
            .position(|x| *x == m)
            .expect("contrast pairs name mechanisms of the run")
    };
    scenario
        .contrast_pairs()
        .into_iter()
        .map(|p| (position(p.a), position(p.b)))
        .collect()
}

/// The scenario's named variants as the simulator plays them.
pub(crate) fn variant_specs(scenario: &Scenario) -> Vec<datapact_sim::VariantSpec> {
    scenario
        .variants
        .iter()
        .map(|v| {
            let variant = std::sync::Arc::new(v.clone());
            datapact_sim::VariantSpec {
                id: v.index as u16,
                decl: scenario.catalog.mechanisms[v.index],
                base: v.base as u16,
                game: std::sync::Arc::new(move |cell| variant.game(cell)),
            }
        })
        .collect()
}
