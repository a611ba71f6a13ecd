//! Helpers the examples' tests share: a plugin set with the core, one cell run under named
//! mechanisms, a game with a mechanism's parameters set.

#![allow(dead_code)] // each test file uses some of them

use std::sync::Arc;

pub use datapact::prelude::*;
use datapact_model::ParamValues;
pub use datapact_sim::{Backend, CellJob, CellOutput, Depth, RunSpec, run_cell};

pub fn plugins(extra: impl datapact::Plugins) -> Arc<PluginSet> {
    let mut set = PluginSet::core();
    set.add_plugins(extra);
    set.validate().expect("plugins register");
    Arc::new(set)
}

/// Runs one cell of `game` under the named mechanisms, with per-campaign records.
pub fn run(plugins: &Arc<PluginSet>, game: Game, names: &[&str], depth: Depth) -> CellOutput {
    let catalog = plugins.catalog();
    let spec = RunSpec {
        seed: 11,
        replications: 300,
        first_replication: 0,
        adaptive: None,
        mechanisms: names
            .iter()
            .map(|n| catalog.mechanism(n).expect("registered") as u16)
            .collect(),
        depth,
        backend: Backend::Ecs,
        plugins: plugins.clone(),
        variants: Vec::new(),
    };
    run_cell(&CellJob { index: 3, game }, &spec).expect("invariants hold")
}

/// `game` with mechanism `name`'s parameters set to `values`.
pub fn with_params(plugins: &PluginSet, mut game: Game, name: &str, values: Vec<f64>) -> Game {
    let id = plugins.catalog().mechanism(name).unwrap();
    game.mechanism_params.resize(id + 1, ParamValues::default());
    game.mechanism_params[id] = ParamValues(values);
    game
}

pub fn typical() -> Game {
    Game {
        value: 0.1,
        payment: 0.05,
        ..Game::default()
    }
}

/// The records of mechanism k (0-based in the run) of a two-mechanism run, in replication order.
pub fn records(out: &CellOutput, k: usize) -> Vec<&datapact_sim::RoundRecord> {
    let id = out.summaries[0].stats[k].0;
    out.rounds.iter().filter(|r| r.mechanism == id).collect()
}
