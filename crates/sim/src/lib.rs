//! The simulation engine: a bevy_ecs world in which users and campaigns are entities and each
//! phase of the game (draw, report, assign, withdraw, train) is one system; batches of campaigns
//! per world; cells run in parallel and delivered in order.
//!
//! Invariants: this crate knows nothing of files or formats; the game's mathematics lives in
//! `datapact-model` and is only orchestrated here; every random draw derives from
//! (seed, draw key, replication, round), the draw key being `datapact_model::draw_key`, a hash
//! of the cell's n and cost distribution F (never its grid index), so results do not depend on
//! threads, batch sizes, sharding or the other cells of a sweep.

#![warn(missing_docs)]
// Bevy systems take their world access as parameters; long parameter lists are idiomatic there.
#![allow(clippy::too_many_arguments, clippy::type_complexity)]

pub mod asynchronous;
pub mod batch;
pub mod components;
pub mod contrasts;
pub mod core;
pub mod engine;
pub mod large;
mod mechanisms;
pub mod network;
pub mod phase;
pub mod plugin;
pub mod profiles;
pub mod sweep;
pub mod systems;
pub mod users;
pub mod vcg;

pub use core::CorePlugins;
pub use engine::{Engine, Uses, phase_schedule, phase_schedule_for};
pub use phase::Phase;
pub use plugin::{
    Mechanism, Metric, MetricDecl, Metrics, PhaseSystems, Plugin, PluginError, PluginInfo,
    PluginSet, Plugins, Sink, Systems, This,
};
pub use sweep::{
    Backend, CellJob, CellOutput, Depth, EventRecord, InvariantViolation, RoundRecord,
    RoundSummary, RunError, RunSpec, StopRule, VariantSpec, run_cell, run_cells,
};
pub use systems::withdraw::{Protocol, WithdrawPhase};
pub use systems::{campaign_blocks, campaign_blocks_of};
pub use users::UserRecord;
