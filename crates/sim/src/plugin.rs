//! The extension API, in the spirit of bevy's `Plugin`: a [`Plugin`] registers mechanisms, user
//! strategies, metrics and systems into a [`PluginSet`]; the engine builds its schedule from the
//! set; the scenario loader validates names and parameters against the set's catalog. C, S and
//! M are plugins of this API (see [`crate::core`]).
//!
//! ```ignore
//! struct MyPlugin;
//! impl Plugin for MyPlugin {
//!     fn build(&self, app: &mut PluginSet) {
//!         app.add_mechanism::<Deposit>()
//!             .add_withdraw_strategy::<Pivotal>()
//!             .add_metric::<Forfeited>();
//!     }
//! }
//! ```

use std::any::TypeId;
use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::Arc;

use bevy_ecs::prelude::*;
use bevy_ecs::schedule::IntoScheduleConfigs;
use bevy_ecs::system::ScheduleSystem;
use datapact_model::catalog::DuplicateName;
use datapact_model::settle::Terms;
use datapact_model::{
    AmountKind, AmountStrategy, Catalog, EventSink, MechanismDecl, ParamValues, Params,
    ReportStrategy, Stage, Stages, StrategyKind, WithdrawStrategy,
};

use crate::phase::Phase;

/// The event sinks systems are generic over: `NoEvents` when events are not traced (every
/// emission compiles away), `TrailEvents` for the users trace (assignments and decisions),
/// `Vec<Event>` when every event is traced.
pub trait Sink: EventSink + Send + Sync + Default + 'static {}
impl<S: EventSink + Send + Sync + Default + 'static> Sink for S {}

/// A group of registrations, added to a [`PluginSet`] (and so to an app) by name.
pub trait Plugin: Send + Sync + 'static {
    /// Registers the plugin's mechanisms, strategies, metrics and systems.
    fn build(&self, app: &mut PluginSet);
    /// Recorded in every output's metadata and manifest (the type name by default).
    fn name(&self) -> &str {
        std::any::type_name::<Self>()
    }
    /// Recorded beside the name (e.g. `env!("CARGO_PKG_VERSION")`); part of the run identity.
    fn version(&self) -> &str {
        ""
    }
}

/// One plugin or a tuple of plugins, as [`PluginSet::add_plugins`] takes them.
pub trait Plugins {
    /// Builds each plugin into `set`, in order.
    fn add_to(self, set: &mut PluginSet);
}

impl<P: Plugin> Plugins for P {
    fn add_to(self, set: &mut PluginSet) {
        set.add_plugin(self);
    }
}

macro_rules! tuple_plugins {
    ($($p:ident),+) => {
        impl<$($p: Plugins),+> Plugins for ($($p,)+) {
            #[allow(non_snake_case)]
            fn add_to(self, set: &mut PluginSet) {
                let ($($p,)+) = self;
                $($p.add_to(set);)+
            }
        }
    };
}
tuple_plugins!(A);
tuple_plugins!(A, B);
tuple_plugins!(A, B, C);
tuple_plugins!(A, B, C, D);
tuple_plugins!(A, B, C, D, E);
tuple_plugins!(A, B, C, D, E, F);
tuple_plugins!(A, B, C, D, E, F, G);
tuple_plugins!(A, B, C, D, E, F, G, H);

/// A mechanism: its name and parameters (from which the scenario loader validates
/// `[mechanism.NAME]` and sweeps `mechanism.NAME.KEY`), the shared stages it opts into, and its
/// own systems.
///
/// The shared stages ([`datapact_model::Stage`]: report, assign, withdraw, settle) are systems
/// the engine runs once for every mechanism that declares them in [`Mechanism::STAGES`]. S, M
/// and `async` declare all four ([`Stages::REPORTING`]) and supply their withdraw protocol: a
/// system in `Phase::Withdraw` that sets `CampaignTable::end` of its campaigns (see
/// `core::Sequential`); the shared settlement then settles them with the mechanism's
/// [`Mechanism::terms`]. C declares none and supplies every phase itself (see
/// `core::Subsidy`); a mechanism may take any subset (a pledging mechanism: its own pledges in
/// `Phase::Assign`, then the shared withdraw and settle stages).
pub trait Mechanism: Send + Sync + 'static {
    /// The name in `mechanisms = [...]` and in every output's `mechanism` column.
    const NAME: &'static str;
    /// One sentence for docs and `--help`.
    const DESCRIPTION: &'static str;
    /// The shared stages its campaigns go through (none by default: every phase is its own).
    const STAGES: Stages = Stages::NONE;
    /// Whether it must never pay without improvement (checked on every campaign).
    const PAYS_ONLY_ON_SUCCESS: bool = true;
    /// The amounts its users choose by an amount strategy (`rules.amount(kind)`): C's users
    /// contribute. Only the plugins a run lists depend on it: a run uses the plugin that
    /// registered the default strategy of each kind its mechanisms ask for.
    const AMOUNTS: &'static [AmountKind] = &[];
    /// The keys of `[mechanism.NAME]`.
    type Params: Params;
    /// Adds its systems, each in a phase: `systems.add(Phase::Withdraw, my_protocol::<S>)`.
    /// They are scheduled only in worlds that play the mechanism's campaigns
    /// ([`crate::Uses`]), so they act on its own campaigns only
    /// ([`crate::systems::campaign_blocks_of`]).
    fn systems<S: Sink>(systems: &mut PhaseSystems);
    /// Its per-user terms in the shared settlement ([`datapact_model::Stage::Settle`]) for one
    /// cell's parameters: the data of a stayer kept, the value of the improvement to each user,
    /// a stayer's payment. `None` (the default): the terms of `docs/model.md` section 6.
    fn terms(params: &Self::Params) -> Option<Arc<dyn Terms>> {
        let _ = params;
        None
    }
    /// Inserts the resources its own systems share across phases (per-campaign buffers, say)
    /// into a fresh world; none by default. Runs only in worlds that play it (its systems are
    /// scheduled in every world of the app: take such a resource as `Option<Res<_>>` and return
    /// when it is absent), so a run without it pays nothing for it.
    fn init(world: &mut World) {
        let _ = world;
    }
}

/// Systems that are not a mechanism's (a metric computed for every mechanism, say).
pub trait Systems: Send + Sync + 'static {
    /// Adds the systems, each in a phase.
    fn systems<S: Sink>(systems: &mut PhaseSystems);
}

/// A per-campaign statistic a plugin computes: a column of `rounds` and a mean and standard
/// error column pair of `cells`.
pub trait Metric: Send + Sync + 'static {
    /// Column name (`[a-z][a-z0-9_]*`); `cells` gets `NAME_mean` and `NAME_se`.
    const NAME: &'static str;
    /// What it measures (written to the schema and `datapact schema`).
    const DESCRIPTION: &'static str;
}

/// A registered metric.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MetricDecl {
    /// Column name.
    pub name: &'static str,
    /// What it measures.
    pub description: &'static str,
}

/// A plugin as recorded in outputs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PluginInfo {
    /// [`Plugin::name`].
    pub name: String,
    /// [`Plugin::version`].
    pub version: String,
}

/// The running mechanism `T` of the current batch: its catalog id (compare with
/// `Batch::mechanism(campaign)`) and its parameters in the current cell.
#[derive(Resource)]
pub struct This<T: Mechanism> {
    /// The mechanism's index in the catalog.
    pub id: u16,
    /// `[mechanism.NAME]` in the current cell.
    pub params: T::Params,
    _mechanism: PhantomData<T>,
}

/// A registration's systems within each phase: its own set per phase, chained after the shared
/// systems and after earlier registrations, so that ambiguity detection stays an error and
/// results never depend on system order.
#[derive(SystemSet, Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Slot {
    /// Registration order.
    pub index: usize,
    /// The phase.
    pub phase: Phase,
}

/// The shared systems of a phase (nature, the reporting pipeline), before every slot.
#[derive(SystemSet, Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Shared(pub Phase);

/// Adds one registration's systems to the schedule, each in a phase.
pub struct PhaseSystems<'a> {
    schedule: &'a mut Schedule,
    slot: usize,
}

impl PhaseSystems<'_> {
    /// Adds `systems` to `phase`, after the phase's shared systems and earlier plugins'.
    pub fn add<M>(
        &mut self,
        phase: Phase,
        systems: impl IntoScheduleConfigs<ScheduleSystem, M>,
    ) -> &mut Self {
        self.schedule
            .add_systems(systems.in_set(phase).in_set(Slot {
                index: self.slot,
                phase,
            }));
        self
    }
}

type AddSystems = fn(&mut PhaseSystems);

/// A registration's systems, monomorphised for each sink type (see [`Sink`]).
#[derive(Clone, Copy)]
struct SlotFns {
    plain: AddSystems,
    trails: AddSystems,
    traced: AddSystems,
    /// For a mechanism: inserts `This<T>` with its id and its settlement terms; refreshes
    /// both per cell.
    bind: Option<fn(&mut World, u16, &ParamValues)>,
    /// For a mechanism: [`Mechanism::init`].
    init: Option<fn(&mut World)>,
    mechanism: Option<u16>,
}

fn add_mechanism_systems<T: Mechanism, S: Sink>(p: &mut PhaseSystems) {
    T::systems::<S>(p)
}

fn add_plugin_systems<T: Systems, S: Sink>(p: &mut PhaseSystems) {
    T::systems::<S>(p)
}

fn bind_mechanism<T: Mechanism>(world: &mut World, id: u16, params: &ParamValues) {
    let params = T::Params::from_values(params);
    let terms = T::terms(&params);
    world.resource_mut::<SettleTerms>().set(id, terms);
    world.insert_resource(This::<T> {
        id,
        params,
        _mechanism: PhantomData,
    });
}

/// Each mechanism's settlement terms in the current cell, by catalog id (`None`: the paper's),
/// read by the shared settlement.
#[derive(Resource, Default)]
pub struct SettleTerms(Vec<Option<Arc<dyn Terms>>>);

impl SettleTerms {
    fn set(&mut self, id: u16, terms: Option<Arc<dyn Terms>>) {
        let id = id as usize;
        if self.0.len() <= id {
            self.0.resize(id + 1, None);
        }
        self.0[id] = terms;
    }

    /// The terms of the mechanism with catalog id `id` (`None`: the paper's).
    #[inline]
    pub fn of(&self, id: u16) -> Option<&dyn Terms> {
        self.0.get(id as usize).and_then(|t| t.as_deref())
    }
}

/// Everything plugins registered: the catalog the scenario loader validates against, the
/// systems the engine schedules, the metrics the writers add as columns, and the plugins
/// themselves (recorded in outputs).
#[derive(Default)]
pub struct PluginSet {
    catalog: Catalog,
    slots: Vec<SlotFns>,
    setups: Vec<fn(&mut World)>,
    metrics: Vec<MetricDecl>,
    metric_ids: HashMap<TypeId, usize>,
    plugins: Vec<PluginInfo>,
    added: Vec<TypeId>,
    errors: Vec<String>,
    provenance: Provenance,
    /// The catalog ids of C, S and M, whose systems read nature's costs where they are banked
    /// (`Batch::costs_in_place`).
    in_place: Vec<u16>,
}

/// Which plugin registered what, so that a run lists only the plugins it uses
/// ([`PluginSet::plugins_used`]). Registrations made outside any plugin have no owner.
#[derive(Default)]
struct Provenance {
    /// The plugin whose `build` is running (the innermost, for a group adding members).
    building: Option<usize>,
    /// Per plugin, the plugin that added it (a group's members name the group).
    parent: Vec<Option<usize>>,
    /// Per registered mechanism (catalog index): its plugin and the amount kinds it asks for.
    mechanisms: Vec<(usize, Option<usize>, &'static [AmountKind])>,
    /// Per registered strategy (kind, index among the kind's): its plugin.
    strategies: Vec<(StrategyKind, usize, Option<usize>)>,
    /// Plugins that registered what acts on every run: a metric, systems or a setup.
    every_run: Vec<usize>,
}

impl std::fmt::Debug for PluginSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginSet")
            .field("plugins", &self.plugins)
            .field("mechanisms", &self.catalog.mechanisms)
            .field("metrics", &self.metrics)
            .finish()
    }
}

/// Why a plugin set cannot run.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("plugins: {}", .0.join("; "))]
pub struct PluginError(pub Vec<String>);

impl PluginSet {
    /// An empty set (no mechanism at all: add [`crate::CorePlugins`] first).
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds plugins (one, or a tuple), building each in order.
    pub fn add_plugins(&mut self, plugins: impl Plugins) -> &mut Self {
        plugins.add_to(self);
        self
    }

    /// Adds one plugin; adding the same plugin type twice builds it once (bevy's rule, so that
    /// plugin groups can share a dependency).
    pub fn add_plugin<P: Plugin>(&mut self, plugin: P) -> &mut Self {
        let id = TypeId::of::<P>();
        if self.added.contains(&id) {
            return self;
        }
        self.added.push(id);
        let index = self.plugins.len();
        self.plugins.push(PluginInfo {
            name: plugin.name().to_string(),
            version: plugin.version().to_string(),
        });
        self.provenance.parent.push(self.provenance.building);
        let outer = self.provenance.building.replace(index);
        plugin.build(self);
        self.provenance.building = outer;
        self
    }

    /// Registers mechanism `T`.
    pub fn add_mechanism<T: Mechanism>(&mut self) -> &mut Self {
        let decl = MechanismDecl {
            name: T::NAME,
            description: T::DESCRIPTION,
            params: T::Params::SPECS,
            stages: T::STAGES,
            pays_only_on_success: T::PAYS_ONLY_ON_SUCCESS,
            variant_of: None,
        };
        if let Err(why) = decl.stages.check() {
            self.errors
                .push(format!("mechanism {:?}: {why}", decl.name));
            return self;
        }

        if !valid_name(decl.name) {
            self.errors.push(format!(
                "mechanism name {:?} must be 1-32 characters of letters, digits, '-' or '_'",
                decl.name
            ));
            return self;
        }
        match self.catalog.add_mechanism(decl) {
            Ok(id) => {
                let in_place = [
                    TypeId::of::<crate::mechanisms::Subsidy>(),
                    TypeId::of::<crate::mechanisms::Simultaneous>(),
                    TypeId::of::<crate::mechanisms::Sequential>(),
                ];
                if in_place.contains(&TypeId::of::<T>()) {
                    self.in_place.push(id as u16);
                }
                self.provenance
                    .mechanisms
                    .push((id, self.provenance.building, T::AMOUNTS));
                self.slots.push(SlotFns {
                    plain: add_mechanism_systems::<T, datapact_model::NoEvents>,
                    trails: add_mechanism_systems::<T, datapact_model::TrailEvents>,
                    traced: add_mechanism_systems::<T, Vec<datapact_model::Event>>,
                    bind: Some(bind_mechanism::<T>),
                    init: Some(T::init),
                    mechanism: Some(id as u16),
                })
            }
            Err(e) => self.errors.push(e.to_string()),
        }
        self
    }

    /// Registers report strategy `T` (usable under every mechanism with reporting users).
    pub fn add_report_strategy<T: ReportStrategy>(&mut self) -> &mut Self {
        self.check(StrategyKind::Report, |c| c.add_report_strategy::<T>())
    }

    /// Registers withdraw strategy `T` (usable under every protocol that asks users to decide).
    pub fn add_withdraw_strategy<T: WithdrawStrategy>(&mut self) -> &mut Self {
        self.check(StrategyKind::Withdraw, |c| c.add_withdraw_strategy::<T>())
    }

    /// Registers amount strategy `T` of its kind (`contribute`, `pledge` or `bid`): usable under
    /// every mechanism that asks its users for that kind of amount
    /// ([`datapact_model::strategy::AmountRules::choose`]). The first of a kind is its default.
    pub fn add_amount_strategy<T: AmountStrategy>(&mut self) -> &mut Self {
        self.check(StrategyKind::Amount(T::KIND), |c| {
            c.add_amount_strategy::<T>()
        })
    }

    fn check(
        &mut self,
        kind: StrategyKind,
        add: impl FnOnce(&mut Catalog) -> Result<usize, DuplicateName>,
    ) -> &mut Self {
        match add(&mut self.catalog) {
            Ok(index) => self
                .provenance
                .strategies
                .push((kind, index, self.provenance.building)),
            Err(e) => self.errors.push(e.to_string()),
        }
        self
    }

    /// The plugin being built acts on every run (a metric, systems, a setup).
    fn acts_on_every_run(&mut self) {
        if let Some(p) = self.provenance.building {
            self.provenance.every_run.push(p);
        }
    }

    /// Registers metric `T`: a column of `rounds`, and `NAME_mean`, `NAME_se` of `cells`.
    pub fn add_metric<T: Metric>(&mut self) -> &mut Self {
        let ok = T::NAME.len() <= 48
            && T::NAME.starts_with(|c: char| c.is_ascii_lowercase())
            && T::NAME
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !ok {
            self.errors.push(format!(
                "metric name {:?} must match [a-z][a-z0-9_]* (at most 48 characters)",
                T::NAME
            ));
        } else if self.metrics.iter().any(|m| m.name == T::NAME) {
            self.errors
                .push(format!("metric {:?} is registered twice", T::NAME));
        } else {
            self.metric_ids
                .insert(TypeId::of::<T>(), self.metrics.len());
            self.metrics.push(MetricDecl {
                name: T::NAME,
                description: T::DESCRIPTION,
            });
            self.catalog.metrics.push(T::NAME);
            self.acts_on_every_run();
        }
        self
    }

    /// Registers systems that belong to no mechanism.
    pub fn add_systems<T: Systems>(&mut self) -> &mut Self {
        self.slots.push(SlotFns {
            plain: add_plugin_systems::<T, datapact_model::NoEvents>,
            trails: add_plugin_systems::<T, datapact_model::TrailEvents>,
            traced: add_plugin_systems::<T, Vec<datapact_model::Event>>,
            bind: None,
            init: None,
            mechanism: None,
        });
        self.acts_on_every_run();
        self
    }

    /// Runs `setup` on every fresh world after its users are spawned: add components (only
    /// some users may carry `SparseSet` ones) or resources.
    pub fn add_setup(&mut self, setup: fn(&mut World)) -> &mut Self {
        self.setups.push(setup);
        self.acts_on_every_run();
        self
    }

    /// The mechanisms and strategies registered, for the scenario loader.
    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// The metrics registered, in column order.
    pub fn metrics(&self) -> &[MetricDecl] {
        &self.metrics
    }

    /// Whether nothing but mechanisms' own systems and strategies was registered (no metric,
    /// setup or free-standing systems): then a core mechanism's campaigns are exactly its direct
    /// kernel's, and may be played off the ECS (the large-campaign path, `crate::large`).
    pub fn plays_kernels_only(&self) -> bool {
        self.metrics.is_empty()
            && self.setups.is_empty()
            && self.slots.iter().all(|s| s.mechanism.is_some())
    }

    /// The plugins added, in order.
    pub fn plugins(&self) -> &[PluginInfo] {
        &self.plugins
    }

    /// The plugins a run uses, in the order they were added: those that registered a
    /// mechanism in `mechanisms` (catalog indices of registered mechanisms: a named variant
    /// counts as its base), a strategy in `held` (kind, index: the strategies the scenario
    /// gives its users), the default strategy of each kind those mechanisms ask for (report and
    /// withdraw by their stages, amounts by [`Mechanism::AMOUNTS`]), or anything that acts on
    /// every run (a metric, systems, a setup); and the groups that added them. So adding a
    /// plugin to an app changes no earlier run's identity or files.
    pub fn plugins_used(
        &self,
        mechanisms: &[usize],
        held: &[(StrategyKind, usize)],
    ) -> Vec<&PluginInfo> {
        let p = &self.provenance;
        let mut used = vec![false; self.plugins.len()];
        let mut kinds: Vec<(StrategyKind, usize)> = held.to_vec();
        for &(id, owner, amounts) in &p.mechanisms {
            if !mechanisms.contains(&id) {
                continue;
            }
            if let Some(o) = owner {
                used[o] = true;
            }
            let stages = self.catalog.mechanisms[id].stages;
            for (stage, kind) in [
                (Stage::Report, StrategyKind::Report),
                (Stage::Withdraw, StrategyKind::Withdraw),
            ] {
                if stages.has(stage) {
                    kinds.push((kind, 0));
                }
            }
            kinds.extend(amounts.iter().map(|&a| (StrategyKind::Amount(a), 0)));
        }
        for &(kind, index, owner) in &p.strategies {
            if let Some(o) = owner.filter(|_| kinds.contains(&(kind, index))) {
                used[o] = true;
            }
        }
        for &o in &p.every_run {
            used[o] = true;
        }
        // A group is used when a member is (members are added after their group).
        for i in (0..used.len()).rev() {
            if let (true, Some(parent)) = (used[i], p.parent[i]) {
                used[parent] = true;
            }
        }
        self.plugins
            .iter()
            .zip(used)
            .filter_map(|(info, u)| u.then_some(info))
            .collect()
    }

    /// Every registration error (duplicate or malformed names); empty if the set can run.
    pub fn validate(&self) -> Result<(), PluginError> {
        let mut errors = self.errors.clone();
        let missing = [
            (self.catalog.mechanisms.is_empty(), "no mechanism"),
            (self.catalog.report.is_empty(), "no report strategy"),
            (self.catalog.withdraw.is_empty(), "no withdraw strategy"),
        ];
        for (empty, what) in missing {
            if empty {
                errors.push(format!("{what} is registered (add CorePlugins first)"));
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(PluginError(errors))
        }
    }

    /// Adds the registrations' systems to `schedule` (monomorphised for the sink `S`), a
    /// mechanism's only when `plays(its id)`, and orders their slots within each phase.
    pub(crate) fn schedule_into<S: Sink>(
        &self,
        schedule: &mut Schedule,
        plays: impl Fn(u16) -> bool,
    ) {
        for (index, slot) in self.slots.iter().enumerate() {
            // A mechanism's systems only where its campaigns are played.
            if slot.mechanism.is_some_and(|id| !plays(id)) {
                continue;
            }
            let mut systems = PhaseSystems {
                schedule,
                slot: index,
            };
            let add = if TypeId::of::<S>() == TypeId::of::<datapact_model::TrailEvents>() {
                slot.trails
            } else if S::ENABLED {
                slot.traced
            } else {
                slot.plain
            };
            add(&mut systems);
        }
        for phase in Phase::ALL {
            schedule.configure_sets(Shared(phase).in_set(phase));
            let mut before: Option<Slot> = None;
            for index in 0..self.slots.len() {
                let slot = Slot { index, phase };
                schedule.configure_sets(slot.in_set(phase).after(Shared(phase)));
                if let Some(b) = before {
                    schedule.configure_sets(slot.after(b));
                }
                before = Some(slot);
            }
        }
    }

    /// Whether every system of a world playing `mechanisms` (catalog ids) reads the users' true
    /// costs where nature banked them ([`crate::batch::Batch::costs_in_place`]): the world plays
    /// only C, S and M, and no plugin registered systems of its own (they might read `TrueCost`
    /// or `ReportedCost`).
    pub(crate) fn reads_costs_in_place(&self, mechanisms: &[u16]) -> bool {
        self.slots.iter().all(|s| s.mechanism.is_some())
            && mechanisms.iter().all(|id| self.in_place.contains(id))
    }

    /// Inserts every mechanism's `This<T>` resource with its parameters in `game`.
    pub(crate) fn bind(&self, world: &mut World, game: &datapact_model::Game) {
        for slot in &self.slots {
            if let (Some(bind), Some(id)) = (slot.bind, slot.mechanism) {
                bind(world, id, game.mechanism_params(id as usize));
            }
        }
    }

    /// Runs, on a fresh world, the [`Mechanism::init`] of each mechanism among `mechanisms`
    /// (catalog ids the world plays), then every setup hook.
    pub(crate) fn setup(&self, world: &mut World, mechanisms: &[u16]) {
        for slot in &self.slots {
            if let (Some(init), Some(id)) = (slot.init, slot.mechanism)
                && mechanisms.contains(&id)
            {
                init(world);
            }
        }
        for setup in &self.setups {
            setup(world);
        }
    }
}

/// A mechanism name as outputs and file systems can hold it.
fn valid_name(name: &str) -> bool {
    (1..=32).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// Per-campaign values of the registered metrics for the current batch (`NaN`: not computed).
#[derive(Resource, Default)]
pub struct Metrics {
    /// Metric-major: metric `m` of campaign `c` at `m·campaigns + c`.
    values: Vec<f64>,
    campaigns: usize,
    ids: HashMap<TypeId, usize>,
}

impl Metrics {
    pub(crate) fn new(set: &PluginSet) -> Self {
        Metrics {
            values: Vec::new(),
            campaigns: 0,
            ids: set.metric_ids.clone(),
        }
    }

    /// Clears every value for a batch of `campaigns` campaigns.
    pub(crate) fn reset(&mut self, campaigns: usize) {
        self.campaigns = campaigns;
        self.values.clear();
        self.values.resize(self.ids.len() * campaigns, f64::NAN);
    }

    /// Metric `T`'s values by campaign slot, to write.
    ///
    /// # Panics
    /// If `T` was not registered with [`PluginSet::add_metric`] (a plugin bug, found by its
    /// first test).
    pub fn column_mut<T: Metric>(&mut self) -> &mut [f64] {
        let m = *self
            .ids
            .get(&TypeId::of::<T>())
            .unwrap_or_else(|| panic!("metric {:?} is not registered", T::NAME));
        &mut self.values[m * self.campaigns..(m + 1) * self.campaigns]
    }

    /// Metric number `metric` of campaign slot `campaign` (`NaN` if not computed).
    pub fn get(&self, metric: usize, campaign: usize) -> f64 {
        self.values[metric * self.campaigns + campaign]
    }

    /// How many metrics are registered.
    pub fn count(&self) -> usize {
        self.ids.len()
    }
}
