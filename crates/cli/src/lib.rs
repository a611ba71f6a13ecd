//! datapact as a library: the [`App`] that gathers plugins into a command-line program, and the
//! [`prelude`] a plugin author imports. A researcher's binary is three lines:
//!
//! ```no_run
//! use datapact::{App, CorePlugins};
//! # struct MyPlugin;
//! # impl datapact::Plugin for MyPlugin { fn build(&self, _: &mut datapact::PluginSet) {} }
//! fn main() -> std::process::ExitCode {
//!     App::new().add_plugins((CorePlugins, MyPlugin)).run_cli()
//! }
//! ```
//!
//! It has every subcommand and flag of the `datapact` binary (run, validate, schema, status,
//! verify, report, reproduce, `--shard`, `--resume`), with the plugins' mechanisms, strategies
//! and metrics named in scenario files and written to the outputs. `docs/extending.md` is the
//! tutorial.

#![warn(missing_docs)]

mod audit_cmd;
mod calibrate_cmd;
mod cli;
mod context;
mod diff_cmd;
pub mod embedded;
mod failure;
mod new_cmd;
mod oom;
mod optimize_cmd;
mod plugins_cmd;
mod report_cmd;
mod reproduce_cmd;
mod run_arg;
mod run_cmd;
mod scenarios_cmd;
mod schema_cmd;
mod sensitivity_cmd;
mod signals;
mod status_cmd;
mod submit_cmd;
mod tutorial;
mod validate_cmd;
mod verify_cmd;

use std::process::ExitCode;
use std::sync::Arc;

pub use datapact_model as model;
pub use datapact_runner as runner;
pub use datapact_scenario as scenario;
pub use datapact_sim as sim;
pub use datapact_sim::{CorePlugins, Plugin, PluginSet, Plugins};
pub use embedded::{paper_reference, paper_reference_seeded, paper_scenario};
pub use oom::ExitOnOutOfMemory;

/// A datapact program: the plugins it runs and its command line.
#[derive(Default)]
pub struct App {
    plugins: PluginSet,
}

impl App {
    /// An app with no plugins yet (add [`CorePlugins`] for C, S, M, async, vcg and the core
    /// strategies).
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds plugins (one, or a tuple), in order: their registration order is the order of
    /// mechanisms in outputs.
    pub fn add_plugins(mut self, plugins: impl Plugins) -> Self {
        self.plugins.add_plugins(plugins);
        self
    }

    /// The registered plugins (for running scenarios from code: `datapact_runner::run` with
    /// `RunOptions { plugins: Arc::new(app.into_plugins()), .. }`).
    pub fn plugins(&self) -> &PluginSet {
        &self.plugins
    }

    /// The plugin set, to run scenarios from code.
    pub fn into_plugins(self) -> PluginSet {
        self.plugins
    }

    /// Parses the command line and runs it; returns the process exit code.
    pub fn run_cli(self) -> ExitCode {
        cli::main(Arc::new(self.plugins))
    }

    /// Runs the command line on `args` (the program's name first) instead of the process's
    /// own, and returns the exit code: for a program that embeds datapact, such as the Python
    /// package's `datapact` console script.
    pub fn run_cli_from(self, args: impl IntoIterator<Item = std::ffi::OsString>) -> u8 {
        cli::main_from(Arc::new(self.plugins), args)
    }
}

/// What a plugin author imports: bevy_ecs's prelude, the plugin API, the components and
/// resources systems read, the parameter and strategy traits.
pub mod prelude {
    pub use bevy_ecs::prelude::*;
    pub use datapact_model::catalog::{Stage, Stages};
    pub use datapact_model::events::{EventKind, EventSink};
    pub use datapact_model::param::Categorical;
    pub use datapact_model::param::{NoParams, ParamSpec, Params, Rule};
    pub use datapact_model::settle::{Outcome, Settled, Settling, Status, Terms};
    pub use datapact_model::strategy::{
        AmountKind, AmountRule, AmountStrategy, Choosing, Deciding, ReportRule, ReportStrategy,
        WithdrawRule, WithdrawStrategy,
    };
    pub use datapact_model::withdraw::{Decision, ProtocolEnd, WithdrawState};
    pub use datapact_model::{Game, labels, params};
    pub use datapact_sim::batch::{Batch, CampaignTable, Columns, Sinks};
    pub use datapact_sim::components::*;
    pub use datapact_sim::{
        CorePlugins, Mechanism, Metric, Metrics, Phase, PhaseSystems, Plugin, PluginSet, Protocol,
        Sink, Systems, This, WithdrawPhase, campaign_blocks, campaign_blocks_of,
    };

    pub use crate::App;
}
