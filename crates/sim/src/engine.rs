//! The ECS engine: a `World` holding one batch of campaigns (users and campaigns as entities) and
//! a `Schedule` whose systems run the phases top to bottom. One engine per worker thread and
//! plugin set; it is reused across batches and cells, and rebuilt only when the population size
//! or batch shape changes.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use bevy_ecs::prelude::*;
use bevy_ecs::schedule::{LogLevel, ScheduleBuildSettings, SingleThreadedExecutor};
use datapact_model::{CostSampler, Game, Outcome, ProtocolEnd, Rules, Stage, Stages};

use crate::batch::{Batch, CampaignTable, Columns, Scratch, Sinks};
use crate::components::*;
use crate::phase::Phase;
use crate::plugin::{Metrics, PluginSet, SettleTerms, Shared, Sink};
use crate::systems::{assign, draw, learn, report, train, withdraw};

/// The phase schedule of `plugins`, read top to bottom: in each phase the shared systems (nature,
/// and the stages of [`datapact_model::Stage`], each serving the users of the mechanisms that
/// opted into it: they alone carry its components), then the plugins' systems. Ambiguity
/// detection is an error: any two systems that could touch the same data in an undetermined
/// order fail the build. Every registered system is in it; an [`Engine`] runs the smaller
/// schedule of what its world plays ([`Uses`]).
pub fn phase_schedule<S: Sink>(plugins: &PluginSet) -> Schedule {
    phase_schedule_for::<S>(plugins, &Uses::EVERYTHING)
}

/// What a world plays, which decides the systems its schedule holds: a system that would find
/// nothing to do in it is not scheduled (a mechanism's systems when the world plays none of its
/// campaigns, e.g. `async`'s and `vcg`'s in the baseline; the shared learning step of single
/// campaigns; the network's memory without a network).
#[derive(Clone, Debug, PartialEq)]
pub struct Uses {
    /// The catalog ids the world plays (`None`: every registered mechanism).
    pub mechanisms: Option<Vec<u16>>,
    /// Whether rounds follow one another (a repeated game: users learn between rounds).
    pub repeated: bool,
    /// Whether campaigns play on a network.
    pub networked: bool,
}

impl Uses {
    /// Everything registered: the full schedule.
    pub const EVERYTHING: Uses = Uses {
        mechanisms: None,
        repeated: true,
        networked: true,
    };

    /// What a world playing `mechanisms` (catalog ids) in `game` uses.
    pub fn of(mechanisms: &[u16], game: &Game) -> Uses {
        Uses {
            mechanisms: Some(mechanisms.to_vec()),
            repeated: game.dynamics.rounds > 1,
            networked: game.network.is_some(),
        }
    }

    /// Whether the world plays mechanism `id`.
    fn plays(&self, id: u16) -> bool {
        self.mechanisms.as_ref().is_none_or(|m| m.contains(&id))
    }
}

/// [`phase_schedule`] holding only the systems a world that plays `uses` runs; the others would
/// find no user or campaign of theirs (or, for the learning step, no next round) and return.
pub fn phase_schedule_for<S: Sink>(plugins: &PluginSet, uses: &Uses) -> Schedule {
    let mut schedule = Schedule::default();
    schedule.set_build_settings(ScheduleBuildSettings {
        ambiguity_detection: LogLevel::Error,
        ..Default::default()
    });
    schedule.set_executor(SingleThreadedExecutor::new());
    for pair in Phase::ALL.windows(2) {
        schedule.configure_sets(pair[1].after(pair[0]));
    }
    // A cancelled round skips its remaining phases: a huge campaign stops within one phase.
    for phase in Phase::ALL {
        schedule.configure_sets(phase.run_if(not_cancelled));
    }
    // The shared systems run whatever the world plays: besides their stage's users, they reset
    // the batch's per-campaign tables (assignments, ends, outcomes) every mechanism reads.
    schedule.add_systems((
        // Nature, for every user.
        draw::draw_nature.in_set(Shared(Phase::Draw)),
        // Stage::Report: reports by strategy and what the provider observes.
        report::report_costs::<S>.in_set(Shared(Phase::Report)),
        // Stage::Assign: caps, water-filling, the sustainability test.
        assign::assign_burdens::<S>.in_set(Shared(Phase::Assign)),
        // Stage::Withdraw: every campaign opens undecided (costs drifted in the draw).
        withdraw::open_withdrawal.in_set(Shared(Phase::Withdraw)),
        // Stage::Settle: training and settlement with each mechanism's terms.
        train::settle_withdrawal::<S>.in_set(Shared(Phase::Train)),
    ));
    if uses.repeated {
        // Stage::Withdraw: users remember whether withdrawals were absorbed (and, on a
        // network, which neighbours withdrew); nothing to remember without a next round.
        schedule.add_systems(learn::remember_outcome.in_set(Shared(Phase::Learn)));
        if uses.networked {
            schedule.add_systems(learn::remember_withdrawals.in_set(Shared(Phase::Learn)));
        }
    }
    plugins.schedule_into::<S>(&mut schedule, |id| uses.plays(id));
    schedule
}

/// The run's cancel flag (set by a signal handler), read between phases.
#[derive(Resource, Default)]
struct Cancel(Option<Arc<AtomicBool>>);

fn not_cancelled(cancel: Option<Res<Cancel>>) -> bool {
    cancel
        .and_then(|c| c.0.as_ref().map(|f| !f.load(Ordering::Relaxed)))
        .unwrap_or(true)
}

/// Shape of the entities in the world.
#[derive(Clone, Debug, PartialEq)]
struct Shape {
    users: usize,
    reps: usize,
    mechanisms: Vec<u16>,
}

/// What the engine keeps of its world's shape for every batch.
struct Shaped {
    shape: Shape,
    /// Each campaign slot's mechanism and stages (`Batch::by_slot`), for every slot of the world.
    by_slot: Arc<[(u16, Stages)]>,
}

/// How many schedules (one per [`Uses`]) an engine keeps for its world.
const SCHEDULES_KEPT: usize = 4;

/// A world and its schedules for one plugin set.
pub struct Engine<S: Sink> {
    world: World,
    /// The schedules built for this world, by what they play; the last one runs. Few: a run's
    /// cells differ at most in rounds and network.
    schedules: Vec<(Uses, Schedule)>,
    shape: Option<Shaped>,
    strategies_for: Option<datapact_model::PopulationKey>,
    plugins: Arc<PluginSet>,
    /// b0 of the fresh population the users hold (None: unknown, or changed by a repeated game).
    population_for: Option<u64>,
    _sink: std::marker::PhantomData<S>,
}

impl<S: Sink> Engine<S> {
    /// An engine running `plugins`' mechanisms.
    pub fn new(plugins: Arc<PluginSet>) -> Self {
        let mut world = World::new();
        world.insert_resource(Columns::default());
        world.insert_resource(crate::systems::Blocks::default());
        world.insert_resource(CampaignTable::default());
        world.insert_resource(Scratch::default());
        world.insert_resource(crate::network::Networks::default());
        world.insert_resource(Sinks::<S>(Vec::new()));
        world.insert_resource(Metrics::new(&plugins));
        world.insert_resource(SettleTerms::default());
        Engine {
            world,
            schedules: Vec::new(),
            shape: None,
            strategies_for: None,
            population_for: None,
            plugins,
            _sink: Default::default(),
        }
    }

    /// The plugin set this engine runs.
    pub fn plugins(&self) -> &Arc<PluginSet> {
        &self.plugins
    }

    /// Spawns `reps × mechanisms` campaigns of `users` users each, unless the world already
    /// holds exactly that.
    fn ensure_shape(&mut self, users: usize, reps: usize, mechanisms: &[u16]) {
        let shape = Shape {
            users,
            reps,
            mechanisms: mechanisms.to_vec(),
        };
        if self.shape.as_ref().is_some_and(|s| s.shape == shape) {
            return;
        }
        // A new shape starts from a fresh world (bevy_ecs 0.20.1's `despawn_all` panics on
        // batch-spawned entities here; a new world is as cheap and leaves nothing behind).
        *self = Self::new(self.plugins.clone());
        let m = mechanisms.len();
        let campaigns = reps * m;
        self.world.spawn_batch((0..campaigns).map(|c| Campaign {
            slot: c as u32,
            rep_in_batch: (c / m) as u32,
            mechanism: mechanisms[c % m],
        }));
        let member = |k: usize| Member {
            campaign: (k / users) as u32,
            slot: (k % users) as u32,
        };
        let catalog = self.plugins.catalog();
        let stages_of = |k: usize| catalog.mechanisms[mechanisms[(k / users) % m] as usize].stages;
        // Users carry what their mechanism's stages use; users of one layout live in one table,
        // whose rows are whole campaigns in slot order (what `campaign_blocks` relies on).
        let mut layouts: Vec<Stages> = Vec::new();
        for &id in mechanisms {
            let stages = catalog.mechanisms[id as usize].stages;
            if !layouts.contains(&stages) {
                layouts.push(stages);
            }
        }
        for layout in layouts {
            let members = (0..campaigns * users)
                .filter(|k| stages_of(*k) == layout)
                .map(member);
            spawn_users(&mut self.world, layout, members);
        }
        self.world
            .resource_mut::<Columns>()
            .resize(campaigns * users);
        let mut table = self.world.resource_mut::<CampaignTable>();
        table.end = vec![ProtocolEnd::Cancelled; campaigns];
        self.world.resource_mut::<Sinks<S>>().0 = (0..campaigns).map(|_| S::default()).collect();
        let plugins = self.plugins.clone();
        plugins.setup(&mut self.world, mechanisms);
        // Checked once per world (cheap next to a batch): what `campaign_blocks` relies on.
        if !users_in_campaign_order(&mut self.world, users) {
            let names: Vec<&str> = plugins.plugins().iter().map(|p| p.name.as_str()).collect();
            panic!(
                "a plugin's setup ({}) moved some users to another table; give components that \
                 only some users carry `#[component(storage = \"SparseSet\")]`",
                names.join(", ")
            );
        }
        let stages: Vec<Stages> = mechanisms
            .iter()
            .map(|&id| catalog.mechanisms[id as usize].stages)
            .collect();
        self.shape = Some(Shaped {
            by_slot: Batch::slots_of(mechanisms, &stages, reps),
            shape,
        });
    }

    /// Makes the schedule of `uses` the one [`Engine::run_round`] runs (built once per world).
    fn ensure_schedule(&mut self, uses: Uses) {
        let schedules = &mut self.schedules;
        match schedules.iter().position(|(u, _)| *u == uses) {
            Some(k) => {
                let last = schedules.len() - 1;
                schedules.swap(k, last);
            }
            None => {
                if schedules.len() == SCHEDULES_KEPT {
                    schedules.remove(0);
                }
                let schedule = phase_schedule_for::<S>(&self.plugins, &uses);
                schedules.push((uses, schedule));
            }
        }
    }

    /// Gives users their strategy indices for this cell's population.
    fn ensure_strategies(&mut self, game: &Game) {
        if self
            .strategies_for
            .as_ref()
            .is_some_and(|k| k.matches(game))
        {
            return;
        }
        let key = game.population_key();
        let mut users = self.world.query::<(&Member, &mut ReportsWith)>();
        for (member, mut strategy) in users.iter_mut(&mut self.world) {
            strategy.0 = game.report_strategy_of(member.slot as usize);
        }
        let mut users = self.world.query::<(&Member, &mut WithdrawsBy)>();
        for (member, mut strategy) in users.iter_mut(&mut self.world) {
            strategy.0 = game.withdraw_strategy_of(member.slot as usize);
        }
        self.strategies_for = Some(key);
    }

    /// Overrides the strategies of the batch's users after [`Engine::start_batch`]:
    /// `strategies(campaign, user)` gives the report and withdraw strategy indices (into the
    /// batch's rules) of user `user` of campaign slot `campaign` (an audit's deviations: one
    /// user of one campaign plays another strategy on the same draws). The next batch gives
    /// every user her population strategies again.
    pub fn set_strategies(&mut self, strategies: impl Fn(usize, usize) -> (u16, u16)) {
        let mut users = self
            .world
            .query::<(&Member, &mut ReportsWith, &mut WithdrawsBy)>();
        for (member, mut report, mut withdraw) in users.iter_mut(&mut self.world) {
            (report.0, withdraw.0) = strategies(member.campaign as usize, member.slot as usize);
        }
        self.strategies_for = None;
    }

    /// Prepares replications `first_rep .. first_rep + reps` of one cell under every mechanism
    /// (catalog ids): a fresh population (beliefs b0, no memory) for each. `rules` are the
    /// population's strategies in this cell; `capacity` is the batch size the world is shaped for
    /// (≥ reps), so that a cell's short last batch reuses the world; `draw_key` is the cell's
    /// `datapact_model::draw_key`. Then play its rounds with
    /// [`Engine::run_round`], in order from 0.
    #[allow(clippy::too_many_arguments)]
    pub fn start_batch(
        &mut self,
        game: &Game,
        rules: &Rules,
        sampler: &CostSampler,
        mechanisms: &[u16],
        seed: u64,
        draw_key: u64,
        first_rep: u64,
        reps: usize,
        capacity: usize,
    ) {
        self.ensure_shape(game.users, capacity, mechanisms);
        self.ensure_schedule(Uses::of(mechanisms, game));
        self.ensure_strategies(game);
        self.plugins.clone().bind(&mut self.world, game);
        let stages: Vec<Stages> = mechanisms
            .iter()
            .map(|&id| self.plugins.catalog().mechanisms[id as usize].stages)
            .collect();
        self.world.insert_resource(Batch {
            game: game.clone(),
            rules: rules.clone(),
            sampler: sampler.clone(),
            seed,
            draw_key,
            first_rep,
            reps,
            mechanisms: mechanisms.to_vec(),
            by_slot: self.shape.as_ref().expect("shaped above").by_slot.clone(),
            stages,
            round: 0,
            cost_mean: game.cost.mean(),
            // Untraced (no user read back), one round (no cost evolves from `TrueCost`), and
            // only systems that read the bank.
            costs_in_place: !S::ENABLED
                && game.dynamics.rounds <= 1
                && self.plugins.reads_costs_in_place(mechanisms),
        });
        // A fresh population: beliefs b0 and no memory. Only rounds after the first change them,
        // so single-round batches with the same b0 skip the pass over every user.
        if self.population_for != Some(game.belief.to_bits()) {
            let mut believers = self.world.query::<&mut Belief>();
            for mut b in believers.iter_mut(&mut self.world) {
                b.0 = game.belief;
            }
            let mut rememberers = self.world.query::<&mut Remembers>();
            for mut m in rememberers.iter_mut(&mut self.world) {
                m.0 = Default::default();
            }
        }
        self.population_for = (game.dynamics.rounds <= 1).then_some(game.belief.to_bits());
        // Nor does any campaign remember its neighbours' withdrawals of an earlier batch.
        self.world
            .resource_mut::<crate::network::Networks>()
            .forget();
    }

    /// Makes the rounds played from now on skip their remaining phases once `flag` is set (a
    /// cancelled round's outcomes are not to be read). `None`: rounds always play to the end.
    pub fn set_cancel(&mut self, flag: Option<&Arc<AtomicBool>>) {
        self.world.insert_resource(Cancel(flag.cloned()));
    }

    /// Plays round `round` of the batch started by [`Engine::start_batch`].
    pub fn run_round(&mut self, round: u32) -> BatchView<'_, S> {
        let (campaigns, users) = {
            let mut batch = self.world.resource_mut::<Batch>();
            batch.round = round;
            (batch.campaigns(), batch.users())
        };
        {
            let mut sinks = self.world.resource_mut::<Sinks<S>>();
            let len = campaigns.max(sinks.0.len());
            sinks.0.resize_with(len, S::default);
        }
        self.world.resource_mut::<Metrics>().reset(campaigns);
        let (_, schedule) = self
            .schedules
            .last_mut()
            .expect("a batch started (Engine::start_batch) before its rounds");
        schedule.run(&mut self.world);
        let events = std::mem::take(&mut self.world.resource_mut::<Sinks<S>>().0);
        BatchView {
            table: self.world.resource::<CampaignTable>(),
            columns: self.world.resource::<Columns>(),
            metrics: self.world.resource::<Metrics>(),
            networks: self.world.resource::<crate::network::Networks>(),
            batch: self.world.resource::<Batch>(),
            events,
            users,
        }
    }
}

impl<S: Sink> Engine<S> {
    /// Reads the users of the first `campaigns` campaign slots of the round just played (trace ≥
    /// users).
    pub(crate) fn read_users(&mut self, into: &mut crate::users::BatchUsers, campaigns: usize) {
        let n = self.world.resource::<Batch>().users();
        into.read(&mut self.world, n, campaigns);
    }
}

/// Spawns users of a mechanism with `stages`: every user's costs, burden and payoff, and
/// the components of each stage it opts into (report: strategy, reported and observed cost;
/// assign: cap; withdraw: decision, withdraw strategy, memory). Users of a mechanism without the
/// report stage choose their own amounts and carry a belief (C's perceived impact b_i).
fn spawn_users(world: &mut World, stages: Stages, members: impl Iterator<Item = Member>) {
    let base = || {
        (
            TrueCost::default(),
            RealizedCost::default(),
            Burden::default(),
            Payoff::default(),
        )
    };
    let reports = || {
        (
            ReportsWith::default(),
            ReportedCost::default(),
            ObservedCost::default(),
        )
    };
    let decides = || {
        (
            Choice::default(),
            WithdrawsBy::default(),
            Remembers::default(),
        )
    };
    let (report, assign, withdraw) = (
        stages.has(Stage::Report),
        stages.has(Stage::Assign),
        stages.has(Stage::Withdraw),
    );
    match (report, assign, withdraw) {
        (true, true, true) => {
            world.spawn_batch(members.map(|m| (m, base(), reports(), Cap::default(), decides())));
        }
        (true, true, false) => {
            world.spawn_batch(members.map(|m| (m, base(), reports(), Cap::default())));
        }
        (true, false, true) => {
            world.spawn_batch(members.map(|m| (m, base(), reports(), decides())));
        }
        (true, false, false) => {
            world.spawn_batch(members.map(|m| (m, base(), reports())));
        }
        (false, _, true) => {
            world.spawn_batch(members.map(|m| (m, base(), Belief::default(), decides())));
        }
        (false, _, false) => {
            world.spawn_batch(members.map(|m| (m, base(), Belief::default())));
        }
    }
}

/// Whether every table of users holds whole campaigns in slot order, as `campaign_blocks`
/// requires (checked row by row, once per world).
fn users_in_campaign_order(world: &mut World, n: usize) -> bool {
    let mut users = world.query::<&Member>();
    users
        .contiguous_iter(world)
        .expect("dense query")
        .all(|members| crate::systems::whole_campaigns(members, n))
}

/// Read access to a finished batch (resources fetched once, not per campaign).
pub struct BatchView<'w, S> {
    table: &'w CampaignTable,
    columns: &'w Columns,
    metrics: &'w Metrics,
    networks: &'w crate::network::Networks,
    batch: &'w Batch,
    events: Vec<S>,
    users: usize,
}

impl<S: Default> BatchView<'_, S> {
    /// The outcome of campaign slot `c`.
    ///
    /// # Panics
    /// If no system settled it (a mechanism plugin whose users are contributing must settle its
    /// campaigns in `Phase::Train`).
    #[inline]
    pub fn outcome(&self, c: usize) -> Outcome {
        self.table.outcome[c].expect("every active campaign is settled by its mechanism")
    }

    /// The outcome of campaign slot `c`, where the round left it ([`BatchView::outcome`]).
    ///
    /// # Panics
    /// As [`BatchView::outcome`].
    #[inline]
    pub fn settled(&self, c: usize) -> &Outcome {
        self.table.outcome[c]
            .as_ref()
            .expect("every active campaign is settled by its mechanism")
    }

    /// The payoffs of campaign slot `c`'s users.
    #[inline]
    pub fn payoffs(&self, c: usize) -> &[f64] {
        &self.columns.payoff[c * self.users..(c + 1) * self.users]
    }

    /// Metric number `m` of campaign slot `c` (`NaN` if its mechanism did not compute it).
    #[inline]
    pub fn metric(&self, m: usize, c: usize) -> f64 {
        self.metrics.get(m, c)
    }

    /// The cascade size of campaign slot `c` (its withdrawals through ties); `None` without a
    /// network.
    #[inline]
    pub fn cascade(&self, c: usize) -> Option<u32> {
        self.networks.cascade(self.batch, c)
    }

    /// Per user of campaign slot `c`, the neighbour whose withdrawal set off her withdrawal
    /// through ties ([`datapact_model::Peers::NOBODY`] for the others); `None` when its
    /// protocol did not play on a network.
    pub fn triggers(&self, c: usize) -> Option<&[u32]> {
        self.networks
            .of(self.batch, c)
            .map(|p| p.trigger.as_slice())
    }

    /// Takes the event log of campaign slot `c`, leaving it empty.
    pub fn take_events(&mut self, c: usize) -> S {
        std::mem::take(&mut self.events[c])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datapact_model::{Dynamics, NoEvents, TrailEvents};

    /// Whether a batch of `mechanisms` (names) in `game` reads costs in place.
    fn in_place<S: Sink>(plugins: &Arc<PluginSet>, mechanisms: &[&str], game: &Game) -> bool {
        let ids: Vec<u16> = mechanisms
            .iter()
            .map(|name| plugins.catalog().mechanism(name).expect("registered") as u16)
            .collect();
        let mut engine = Engine::<S>::new(plugins.clone());
        let rules = plugins.catalog().rules(game);
        let sampler = game.cost.sampler().expect("valid distribution");
        engine.start_batch(game, &rules, &sampler, &ids, 1, 2, 0, 3, 3);
        engine.world.resource::<Batch>().costs_in_place
    }

    /// Systems of a plugin's own, which might read any user's `TrueCost`.
    struct Reader;

    impl crate::plugin::Systems for Reader {
        fn systems<S: Sink>(systems: &mut crate::plugin::PhaseSystems) {
            systems.add(Phase::Assign, |users: Query<&TrueCost>| {
                users.iter().count();
            });
        }
    }

    /// The draw leaves `TrueCost` (and truthful reports `ReportedCost`) unwritten only where
    /// nothing reads them: an untraced single campaign whose systems are C's, S's and M's.
    #[test]
    fn only_untraced_single_campaigns_of_c_s_and_m_read_costs_in_place() {
        let core = Arc::new(PluginSet::core());
        let game = Game::default();
        assert!(in_place::<NoEvents>(&core, &["C", "S", "M"], &game));
        assert!(in_place::<NoEvents>(&core, &["M"], &game));
        // Users traced: read back from their components.
        assert!(!in_place::<TrailEvents>(&core, &["C", "S", "M"], &game));
        assert!(!in_place::<Vec<datapact_model::Event>>(
            &core,
            &["S"],
            &game
        ));
        // A next round evolves costs from `TrueCost`.
        let repeated = Game {
            dynamics: Dynamics {
                rounds: 2,
                ..Dynamics::default()
            },
            ..Game::default()
        };
        assert!(!in_place::<NoEvents>(&core, &["C", "S", "M"], &repeated));
        // Another mechanism's systems, or a plugin's own, may read the components.
        assert!(!in_place::<NoEvents>(&core, &["S", "async"], &game));
        assert!(!in_place::<NoEvents>(&core, &["vcg"], &game));
        let mut with_reader = PluginSet::core();
        with_reader.add_systems::<Reader>();
        let with_reader = Arc::new(with_reader);
        assert!(!in_place::<NoEvents>(&with_reader, &["C", "S", "M"], &game));
    }
}
