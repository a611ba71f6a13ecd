//! The core mechanisms and strategies as plugins of the same API a researcher uses: C
//! ([`Subsidy`]), S ([`Simultaneous`]), M ([`Sequential`]) and async
//! ([`crate::asynchronous::Asynchronous`], event-driven), `vcg` ([`crate::vcg::Vcg`], Clarke
//! payments), and the strategies truthful, shade,
//! sincere and free-rider, gathered by [`CorePlugins`]. Their systems live in the phase files of
//! [`crate::systems`]; their declarations (names, descriptions) once, in
//! `datapact_model::catalog`.

use datapact_model::catalog::{SEQUENTIAL, SIMULTANEOUS, SUBSIDY};
use datapact_model::strategy::{FreeRider, Optimal, PeerThreshold, Shade, Sincere, Truthful};
use datapact_model::{AmountKind, NoParams, Stages};

use crate::phase::Phase;
use crate::plugin::{Mechanism, PhaseSystems, Plugin, PluginSet, Sink};
use crate::systems::{assign, learn, train, withdraw};

pub use crate::mechanisms::{Sequential, Simultaneous, Subsidy};

impl Mechanism for Subsidy {
    const NAME: &'static str = SUBSIDY.name;
    const DESCRIPTION: &'static str = SUBSIDY.description;
    const STAGES: Stages = SUBSIDY.stages;
    const PAYS_ONLY_ON_SUCCESS: bool = SUBSIDY.pays_only_on_success;
    const AMOUNTS: &'static [AmountKind] = &[AmountKind::Contribute];
    type Params = NoParams;
    fn systems<S: Sink>(systems: &mut PhaseSystems) {
        systems
            .add(Phase::Assign, assign::respond_to_subsidy::<S>)
            .add(Phase::Withdraw, withdraw::commit_contributions)
            .add(Phase::Train, train::settle_contributions::<S>)
            .add(Phase::Learn, learn::learn_beliefs_from_outcome);
    }
}

impl Mechanism for Simultaneous {
    const NAME: &'static str = SIMULTANEOUS.name;
    const DESCRIPTION: &'static str = SIMULTANEOUS.description;
    const STAGES: Stages = SIMULTANEOUS.stages;
    const PAYS_ONLY_ON_SUCCESS: bool = SIMULTANEOUS.pays_only_on_success;
    type Params = NoParams;
    fn systems<S: Sink>(systems: &mut PhaseSystems) {
        systems.add(Phase::Withdraw, withdraw::withdraw_simultaneously::<S>);
    }
}

impl Mechanism for Sequential {
    const NAME: &'static str = SEQUENTIAL.name;
    const DESCRIPTION: &'static str = SEQUENTIAL.description;
    const STAGES: Stages = SEQUENTIAL.stages;
    const PAYS_ONLY_ON_SUCCESS: bool = SEQUENTIAL.pays_only_on_success;
    type Params = NoParams;
    fn systems<S: Sink>(systems: &mut PhaseSystems) {
        systems.add(Phase::Withdraw, withdraw::withdraw_sequentially::<S>);
    }
}

/// Registers one core mechanism, named `datapact-core/NAME` in outputs.
pub struct CoreMechanism<T: Mechanism> {
    name: String,
    _mechanism: std::marker::PhantomData<fn() -> T>,
}

impl<T: Mechanism> Default for CoreMechanism<T> {
    fn default() -> Self {
        CoreMechanism {
            name: format!("datapact-core/{}", T::NAME),
            _mechanism: std::marker::PhantomData,
        }
    }
}

impl<T: Mechanism> Plugin for CoreMechanism<T> {
    fn build(&self, app: &mut PluginSet) {
        app.add_mechanism::<T>();
    }
    fn name(&self) -> &str {
        &self.name
    }
    fn version(&self) -> &str {
        env!("CARGO_PKG_VERSION")
    }
}

/// Registers truthful (the default) and shade reporting, sincere (the default), free-rider and
/// threshold (users on a network) withdrawal, and the optimal contribution (C's users).
pub struct CoreStrategiesPlugin;

impl Plugin for CoreStrategiesPlugin {
    fn build(&self, app: &mut PluginSet) {
        app.add_report_strategy::<Truthful>()
            .add_report_strategy::<Shade>()
            .add_withdraw_strategy::<Sincere>()
            .add_withdraw_strategy::<FreeRider>()
            .add_withdraw_strategy::<PeerThreshold>()
            .add_amount_strategy::<Optimal>();
    }
    fn name(&self) -> &str {
        "datapact-core/strategies"
    }
    fn version(&self) -> &str {
        env!("CARGO_PKG_VERSION")
    }
}

/// C, S, M, async, vcg and the core strategies: the plugin group every app starts from.
pub struct CorePlugins;

impl Plugin for CorePlugins {
    fn build(&self, app: &mut PluginSet) {
        app.add_plugins((
            CoreStrategiesPlugin,
            CoreMechanism::<Subsidy>::default(),
            CoreMechanism::<Simultaneous>::default(),
            CoreMechanism::<Sequential>::default(),
            CoreMechanism::<crate::asynchronous::Asynchronous>::default(),
            CoreMechanism::<crate::vcg::Vcg>::default(),
        ));
    }
    fn name(&self) -> &str {
        "datapact-core"
    }
    fn version(&self) -> &str {
        env!("CARGO_PKG_VERSION")
    }
}

impl PluginSet {
    /// The core mechanisms (C, S, M, async, vcg) with the core strategies: what the `datapact`
    /// binary runs.
    pub fn core() -> Self {
        let mut set = Self::new();
        set.add_plugins(CorePlugins);
        set
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_plugins_declare_the_core_catalog() {
        let set = PluginSet::core();
        assert_eq!(set.catalog(), &datapact_model::Catalog::core());
        assert!(set.validate().is_ok());
    }

    #[test]
    fn adding_a_mechanism_twice_is_an_error_naming_it() {
        let mut set = PluginSet::core();
        set.add_mechanism::<Sequential>();
        let err = set.validate().unwrap_err().to_string();
        assert!(err.contains("mechanism \"M\" is registered twice"), "{err}");
    }
}
