//! The ECS engine: a `World` holding one batch of campaigns (users and campaigns as entities) and
//! a `Schedule` whose systems run the phases top to bottom. One engine per worker thread; it is
//! reused across batches and cells, and rebuilt only when the population size or batch shape
//! changes.

use bevy_ecs::prelude::*;
use bevy_ecs::schedule::{LogLevel, ScheduleBuildSettings, SingleThreadedExecutor};
use datapact_model::{CostSampler, EventSink, Game, Mechanism, Outcome, ProtocolEnd};

use crate::batch::{Batch, CampaignTable, Columns, ProtocolOverride, Scratch, Sinks};
use crate::components::*;
use crate::systems::{assign, draw, learn, report, train, withdraw};

/// The phases of a round, in time order. Core systems live in these sets; an [`Extension`]
/// adds its own systems to them (e.g. a new withdrawal protocol in `Phase::Withdraw`, after
/// [`CoreProtocol`]).
#[derive(SystemSet, Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Phase {
    Draw,
    Report,
    Assign,
    Withdraw,
    Train,
    Learn,
}

/// The core withdrawal protocols (S and M) within `Phase::Withdraw`.
#[derive(SystemSet, Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CoreProtocol;

/// A researcher's addition to the simulator, written outside the core crates: its own
/// components, resources and systems, run through the same sweep, trace and report machinery.
/// See `examples/large_first_deadline.rs`.
#[derive(Clone, Copy, Debug)]
pub struct Extension {
    /// Recorded in every output's metadata and manifest.
    pub name: &'static str,
    /// Adds the extension's systems to the phase schedule (use `in_set(Phase::…)`).
    pub systems: fn(&mut Schedule),
    /// Adds components to the users and campaigns and inserts resources, each time the world's
    /// entities are (re)built. A component given to only some users must use
    /// `#[component(storage = "SparseSet")]`: systems hand each table's columns to the model in
    /// campaign blocks, and a table-stored component on some users would move them to another
    /// table out of order (the engine checks this after `setup` and panics naming the extension).
    pub setup: fn(&mut World),
}

/// The phase schedule, read top to bottom. Ambiguity detection is an error: any two systems
/// that could touch the same data in an undetermined order fail the build.
pub fn phase_schedule<S: EventSink + Send + Sync + Default + 'static>() -> Schedule {
    let mut schedule = Schedule::default();
    schedule.set_build_settings(ScheduleBuildSettings {
        ambiguity_detection: LogLevel::Error,
        ..Default::default()
    });
    schedule.set_executor(SingleThreadedExecutor::new());
    schedule.configure_sets(
        (
            Phase::Draw,
            Phase::Report,
            Phase::Assign,
            Phase::Withdraw,
            Phase::Train,
            Phase::Learn,
        )
            .chain(),
    );
    schedule.add_systems((
        draw::draw_nature.in_set(Phase::Draw),
        (report::report_costs::<S>, report::observe_costs)
            .chain()
            .in_set(Phase::Report),
        assign::assign_burdens::<S>.in_set(Phase::Assign),
        (
            withdraw::drift_costs,
            withdraw::withdraw::<S>.in_set(CoreProtocol),
        )
            .chain()
            .in_set(Phase::Withdraw),
        train::train_and_settle::<S>.in_set(Phase::Train),
        learn::learn_from_outcome.in_set(Phase::Learn),
    ));
    schedule
}

/// Shape of the entities in the world.
#[derive(Clone, Debug, PartialEq)]
struct Shape {
    users: usize,
    reps: usize,
    mechanisms: Vec<Mechanism>,
}

pub struct Engine<S: EventSink + Send + Sync + Default + 'static> {
    world: World,
    schedule: Schedule,
    shape: Option<Shape>,
    strategies_for: Option<datapact_model::PopulationKey>,
    extension: Option<Extension>,
    /// b0 of the fresh population the users hold (None: unknown, or changed by a repeated game).
    population_for: Option<u64>,
    _sink: std::marker::PhantomData<S>,
}

impl<S: EventSink + Send + Sync + Default + 'static> Default for Engine<S> {
    fn default() -> Self {
        Self::new()
    }
}

impl<S: EventSink + Send + Sync + Default + 'static> Engine<S> {
    pub fn new() -> Self {
        Self::with_extension(None)
    }

    /// An engine whose schedule also runs `extension`'s systems.
    pub fn with_extension(extension: Option<Extension>) -> Self {
        let mut world = World::new();
        world.insert_resource(Columns::default());
        world.insert_resource(CampaignTable::default());
        world.insert_resource(Scratch::default());
        world.insert_resource(Sinks::<S>(Vec::new()));
        world.insert_resource(ProtocolOverride::default());
        let mut schedule = phase_schedule::<S>();
        if let Some(x) = extension {
            (x.systems)(&mut schedule);
        }
        Engine {
            world,
            schedule,
            shape: None,
            strategies_for: None,
            population_for: None,
            extension,
            _sink: Default::default(),
        }
    }

    /// The extension this engine runs, if any.
    pub fn extension(&self) -> Option<Extension> {
        self.extension
    }

    /// Spawns `reps × mechanisms` campaigns of `users` users each, unless the world already
    /// holds exactly that.
    fn ensure_shape(&mut self, users: usize, reps: usize, mechanisms: &[Mechanism]) {
        let shape = Shape {
            users,
            reps,
            mechanisms: mechanisms.to_vec(),
        };
        if self.shape.as_ref() == Some(&shape) {
            return;
        }
        // A new shape starts from a fresh world (bevy_ecs 0.20.1's `despawn_all` panics on
        // batch-spawned entities here; a new world is as cheap and leaves nothing behind).
        *self = Self::with_extension(self.extension);
        let m = mechanisms.len();
        let campaigns = reps * m;
        self.world.spawn_batch((0..campaigns).map(|c| Campaign {
            slot: c as u32,
            rep_in_batch: (c / m) as u32,
            mechanism: mechanisms[c % m],
        }));
        // C users only choose a contribution: they carry no report, cap or withdrawal components,
        // so they live in their own archetype and the S/M phases never visit them.
        let member = |k: usize| Member {
            campaign: (k / users) as u32,
            slot: (k % users) as u32,
        };
        let is_c = |k: usize| mechanisms[(k / users) % m] == Mechanism::C;
        self.world
            .spawn_batch((0..campaigns * users).filter(|k| !is_c(*k)).map(|k| {
                (
                    member(k),
                    (
                        TrueCost::default(),
                        Shocks::default(),
                        Strategy::default(),
                        ReportedCost::default(),
                    ),
                    (
                        ObservedCost::default(),
                        RealizedCost::default(),
                        Cap::default(),
                        Burden::default(),
                    ),
                    (
                        Choice::default(),
                        Payoff::default(),
                        WithdrawStrategy::default(),
                        Remembers::default(),
                    ),
                )
            }));
        self.world
            .spawn_batch((0..campaigns * users).filter(|k| is_c(*k)).map(|k| {
                (
                    member(k),
                    TrueCost::default(),
                    Shocks::default(),
                    RealizedCost::default(),
                    Burden::default(),
                    Payoff::default(),
                    Belief::default(),
                )
            }));
        self.world
            .resource_mut::<Columns>()
            .resize(campaigns * users);
        let mut table = self.world.resource_mut::<CampaignTable>();
        table.end = vec![ProtocolEnd::Cancelled; campaigns];
        self.world.resource_mut::<Sinks<S>>().0 = (0..campaigns).map(|_| S::default()).collect();
        if let Some(x) = self.extension {
            (x.setup)(&mut self.world);
        }
        // Checked once per world (cheap next to a batch): what `campaign_blocks` relies on.
        assert!(
            users_in_campaign_order(&mut self.world, users),
            "extension {:?} moved some users to another table in its setup; give components that \
             only some users carry `#[component(storage = \"SparseSet\")]`",
            self.extension.map_or("none", |x| x.name)
        );
        self.shape = Some(shape);
    }

    /// Gives users their report strategies for this cell's population.
    fn ensure_strategies(&mut self, game: &Game) {
        let key = game.population_key();
        if self.strategies_for == Some(key) {
            return;
        }
        let mut users = self.world.query::<(&Member, &mut Strategy)>();
        for (member, mut strategy) in users.iter_mut(&mut self.world) {
            strategy.0 = game.strategy_of(member.slot as usize);
        }
        let mut users = self.world.query::<(&Member, &mut WithdrawStrategy)>();
        for (member, mut strategy) in users.iter_mut(&mut self.world) {
            strategy.0 = game.withdraw_rule_of(member.slot as usize);
        }
        self.strategies_for = Some(key);
    }

    /// Prepares replications `first_rep .. first_rep + reps` of one cell under every mechanism:
    /// a fresh population (beliefs b0, no memory) for each. `capacity` is the batch size the world
    /// is shaped for (≥ reps), so that a cell's short last batch reuses the world. Then play its
    /// rounds with [`Engine::run_round`], in order from 0.
    #[allow(clippy::too_many_arguments)]
    pub fn start_batch(
        &mut self,
        game: &Game,
        sampler: &CostSampler,
        mechanisms: &[Mechanism],
        seed: u64,
        cell: u64,
        first_rep: u64,
        reps: usize,
        capacity: usize,
    ) {
        self.ensure_shape(game.users, capacity, mechanisms);
        self.ensure_strategies(game);
        self.world.insert_resource(Batch {
            game: game.clone(),
            sampler: sampler.clone(),
            seed,
            cell,
            first_rep,
            reps,
            mechanisms: mechanisms.to_vec(),
            round: 0,
            cost_mean: game.cost.mean(),
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
        self.schedule.run(&mut self.world);
        let events = std::mem::take(&mut self.world.resource_mut::<Sinks<S>>().0);
        BatchView {
            table: self.world.resource::<CampaignTable>(),
            columns: self.world.resource::<Columns>(),
            events,
            users,
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
    events: Vec<S>,
    users: usize,
}

impl<S: Default> BatchView<'_, S> {
    /// The outcome of campaign slot `c`.
    #[inline]
    pub fn outcome(&self, c: usize) -> Outcome {
        self.table.outcome[c].expect("every active campaign is settled")
    }

    /// The payoffs of campaign slot `c`'s users.
    #[inline]
    pub fn payoffs(&self, c: usize) -> &[f64] {
        &self.columns.payoff[c * self.users..(c + 1) * self.users]
    }

    /// Takes the event log of campaign slot `c`, leaving it empty.
    pub fn take_events(&mut self, c: usize) -> S {
        std::mem::take(&mut self.events[c])
    }
}
