//! The validated scenario's data: [`Scenario`] and what it is made of (its mechanisms, sweep
//! axes and where each swept value goes, variants, cells, trace level, adaptive rule). Only
//! types, imported by every reader; reading (`validate.rs` and the files it calls), the
//! canonical text (`normalize.rs`) and the grid are the `impl Scenario` in `lib.rs` and the
//! files it calls, so that no file of the crate imports another in a loop.

use std::sync::Arc;

use datapact_model::stats::TargetMetric;
use datapact_model::{Catalog, CostDist, CostProcess, Game, Learning, ParamValues, StrategyKind};

use crate::design::Design;

/// A mechanism a scenario runs: its index in the catalog and its name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MechanismRef {
    /// Index in [`Catalog::mechanisms`] (the canonical order of outputs).
    pub index: usize,
    /// Its name, as written in outputs.
    pub name: &'static str,
}

/// An ordered pair of a run's mechanisms compared in the `contrasts` table: every difference
/// is `a` − `b`, replication by replication.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ContrastPair {
    /// The minuend.
    pub a: MechanismRef,
    /// The subtrahend.
    pub b: MechanismRef,
}

impl ContrastPair {
    /// `"A-B"`, as written in `[output] contrasts`.
    pub fn label(&self) -> String {
        format!("{}-{}", self.a.name, self.b.name)
    }
}

/// How much a run records. Ordered: `Cells < Rounds < Events`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TraceLevel {
    /// One row per cell (aggregates only).
    #[default]
    Cells,
    /// Plus one row per round.
    Rounds,
    /// Plus one row per user of every campaign.
    Users,
    /// Plus every event (and the users).
    Events,
}

impl TraceLevel {
    /// Every level, from least to most detail.
    pub const ALL: [TraceLevel; 4] = [
        TraceLevel::Cells,
        TraceLevel::Rounds,
        TraceLevel::Users,
        TraceLevel::Events,
    ];

    /// The level's name in scenario files (`output.trace`) and in the manifest.
    pub fn as_str(self) -> &'static str {
        match self {
            TraceLevel::Cells => "cells",
            TraceLevel::Rounds => "rounds",
            TraceLevel::Users => "users",
            TraceLevel::Events => "events",
        }
    }

    /// Parse `"cells" | "rounds" | "users" | "events"`.
    pub fn parse(s: &str) -> Option<TraceLevel> {
        TraceLevel::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

/// One axis of the sweep grid.
#[derive(Clone, Debug, PartialEq)]
pub struct SweepAxis {
    /// The swept key, e.g. `game.value` or `population.cost.alpha`.
    pub key: String,
    /// Output column name: `game.X` → `X`, `population.users` → `users`,
    /// `population.cost.X` → `cost_X` (so `population.cost.dist` → `cost_dist`),
    /// `population.report.X` → `report_X` (so `population.report.strategy` →
    /// `report_strategy`), `population.withdraw.X` → `withdraw_X` (and so for `contribute`,
    /// `pledge`, `bid`), `dynamics.X` → `X`.
    pub column: String,
    /// The values, in order (non-empty, each range-checked like the key itself).
    pub values: Vec<f64>,
    /// Where a value goes in a cell's game.
    pub target: Target,
}

impl SweepAxis {
    /// The values of a categorical axis (its `values` are their positions 0, 1, …); empty for
    /// a numeric axis.
    pub fn categories(&self) -> &[Category] {
        match &self.target {
            Target::Category(c) => c,
            _ => &[],
        }
    }

    /// The canonical labels of a categorical axis's values (its output column is Utf8); empty
    /// for a numeric axis (Float64).
    pub fn labels(&self) -> Vec<String> {
        self.categories().iter().map(Category::label).collect()
    }

    /// Value `i` of the axis as text: the category's label, or the number.
    pub fn value_text(&self, i: usize) -> String {
        match self.categories().get(i) {
            Some(c) => c.label(),
            None => format!("{}", self.values[i]),
        }
    }
}

/// A validated scenario.
///
/// File format (TOML; unknown keys anywhere are an error):
///
/// ```toml
/// mechanisms = ["C", "S", "M"]   # or scenario.mechanisms; default C, S, M (async and plugins run when named)
/// [scenario]
/// name = "baseline"              # required
/// seed = 20260508                # required, integer >= 0
/// replications = 2000            # required, integer >= 1, or adaptive:
/// # replications = { target_se = 0.005, metric = "success_rate", min = 200, max = 100000,
/// #                  batch = 200, contrast = "M-S" }   # batch (default min), contrast optional
/// description = "..."            # optional
/// [population]
/// users = 20
/// cost = { dist = "uniform", low = 0.0, high = 1.0 }  # or beta{alpha,beta}, lognormal{mu,sigma}, constant{value}
/// [population.report]
/// strategy = "truthful"          # or "shade", or a plugin's report strategy
/// share = 0.0                    # [0, 1]: the first round(share*n) users hold it; give it with
///                                # a non-default strategy (an error if absent: 0 holds nobody)
/// factor = 0.0                   # > -1; a strategy's own keys sit beside strategy and share
/// [population.withdraw]
/// strategy = "sincere"           # or "free-rider", or a plugin's withdraw strategy
/// share = 1.0                    # [0, 1]: the last round(share*n) users hold it
/// [population.pledge]            # likewise [population.contribute] ("optimal": C's rule) and
/// strategy = "..."               # [population.bid]: a registered amount strategy of the kind,
/// share = 0.5                    # held by the first round(share*n) users (default share 0)
/// [mechanism.NAME]               # a listed mechanism's parameters (plugins declare them)
/// [game]
/// threshold = 0.6                # (0, 1]
/// value = 0.1
/// payment = 0.1
/// belief = 0.15
/// obs_noise = 0.0
/// drift = 0.5
/// irreversible = 0.0             # [0, 1]
/// recovery_rounds = 0            # integer in [0, 1000]
/// order = "small-first"          # large-first | random | cost-ascending
/// [sweep]
/// game.value = { from = 0.0, to = 0.3, steps = 31 }
/// game.payment = { values = [0.0, 0.1, 0.2] }
/// game.order = { values = ["small-first", "random"] }  # categorical keys: game.order,
/// population.cost.dist = { values = [{ dist = "uniform", low = 0.0, high = 1.0 },
///                                    { dist = "beta", alpha = 2.0, beta = 5.0 }] }
/// dynamics.cost_process = { values = ["iid", "ar1"] }  # and dynamics.learning
/// population.withdraw.strategy = { values = ["sincere", "free-rider"] }  # any strategy the app
/// population.report.strategy = { values = ["truthful", "shade"] }  # registers; its parameters
///                                # sit beside `strategy` (not axes of their own), and a report
///                                # strategy needs share > 0 (its default 0 means nobody)
/// mechanism.NAME.KEY = { values = [...] }   # any numeric plugin parameter
/// [design]                      # instead of, or crossed with, [sweep]
/// kind = "lhs"                   # grid | lhs | sobol | morris | points
/// samples = 64                   # lhs: points; sobol: base N (N·(2D+2) points); morris: trajectories
/// # second_order = false         # sobol only: N·(D+2) points, S1 and ST without S2
/// game.belief = { from = 0.05, to = 0.5, log = true }   # a sampled axis: from < to
/// # kind = "points": points = [{ game.value = 0.1, game.payment = 0.2 }, ...] or file = "p.csv"
/// [output]
/// trace = "cells"                # rounds | events
/// chunk_cells = 0                 # cells per part file; 0 = automatic (≤ ~10^7 user-campaigns
///                                 # and 16384 cells, ≥ 16 chunks when there are 16 cells)
/// ```
///
/// A key both set in its table and swept takes the swept values (the sweep wins); overriding a
/// swept key with `--set` is an error (override `sweep.<key>` instead).
#[derive(Clone, Debug, PartialEq)]
pub struct Scenario {
    /// Scenario name, recorded in every output.
    pub name: String,
    /// Root seed: every random stream derives from it, the cell and the replication.
    pub seed: u64,
    /// Replications per cell: the count, or with an adaptive rule its `max` (the most a cell
    /// plays, which bounds chunks, `--rep` and the size check).
    pub replications: u32,
    /// The adaptive rule of `replications = { target_se, … }`; `None` for a fixed count.
    pub adaptive: Option<Adaptive>,
    /// Free text from the file, if any.
    pub description: Option<String>,
    /// In catalog order (C, S, M, then plugins in registration order).
    pub mechanisms: Vec<MechanismRef>,
    /// The game before sweeping.
    pub base: Game,
    /// The grid axes (`[sweep]`, then a grid `[design]`), in the order written in the file,
    /// then the axes of a design's points (one value per point; see [`Design`]).
    pub sweep: Vec<SweepAxis>,
    /// How the cells are laid out: which axes of `sweep` are crossed and which are points.
    pub design: Design,
    /// Which tables are written (`output.trace`).
    pub trace: TraceLevel,
    /// `output.chunk_cells`: cells per output chunk (the unit of part files, sharding and
    /// resuming); `None` (or 0 in the file) lets the runner choose from the amount of work.
    pub chunk_cells: Option<usize>,
    /// `output.contrasts`: the mechanism pairs of the `contrasts` table when the file lists
    /// them; `None` for the default, every pair ([`Scenario::contrast_pairs`]).
    pub contrasts: Option<Vec<ContrastPair>>,
    /// File path (or `<builtin>/name.toml`) used in errors.
    pub origin: String,
    /// The exact text loaded, before overrides (the effective scenario, overrides included, is
    /// [`Scenario::normalized`]).
    pub source: String,
    /// The mechanisms and strategies the scenario could name (the core's, or a plugin app's),
    /// and after them its named variants.
    pub catalog: Arc<Catalog>,
    /// The named variants `[mechanism.NAME] of = "BASE"`, in catalog order (empty for most
    /// scenarios).
    pub variants: Vec<Variant>,
}

/// A named variant (`[mechanism.NAME] of = "BASE"`): a mechanism of the run that plays as the
/// registered BASE, with its own values of BASE's parameters and of some `[game]` keys that do
/// not change the draws. It is a mechanism in every output, paired with the others on the same
/// draws.
#[derive(Clone, Debug, PartialEq)]
pub struct Variant {
    /// Its index in the scenario's catalog (after every registered mechanism).
    pub index: usize,
    /// The catalog index of the registered mechanism it plays as.
    pub base: usize,
    /// Its `set` entries, in written order.
    pub set: Vec<VariantSet>,
}

impl Variant {
    /// The game the variant plays in a cell whose game is `cell`: its base's parameters take the
    /// variant's values and its `set` keys are applied. The draws are the cell's (a variant
    /// changes no key of the draw key), so it is paired with the other mechanisms.
    pub fn game(&self, cell: &Game) -> Game {
        let mut game = cell.clone();
        let params = game.mechanism_params(self.index).clone();
        if game.mechanism_params.len() <= self.base {
            game.mechanism_params
                .resize(self.base + 1, datapact_model::ParamValues::default());
        }
        game.mechanism_params[self.base] = params;
        for s in &self.set {
            s.target.apply(&mut game, s.value);
        }
        game
    }
}

/// One `set = { "game.KEY" = value }` entry of a variant.
#[derive(Clone, Debug, PartialEq)]
pub struct VariantSet {
    /// The key, e.g. `game.recovery_rounds`.
    pub key: String,
    /// Where the value goes.
    pub target: Target,
    /// The value (for a categorical key, 0: the target holds the one category).
    pub value: f64,
    /// The value as canonical TOML.
    pub toml: String,
}

/// One point of the sweep grid.
#[derive(Clone, Debug, PartialEq)]
pub struct Cell {
    /// Index in the grid (row-major, first axis varies slowest).
    pub index: usize,
    /// One value per sweep axis, in axis order.
    pub coords: Vec<f64>,
    /// The base game with the swept values set.
    pub game: Game,
}

/// Upper bound on cells × replications × mechanisms × max users × rounds (`dynamics.rounds`).
pub const MAX_CAMPAIGN_USERS: u128 = 100_000_000_000;

/// Where a swept value goes in a cell's game.
#[derive(Clone, Debug, PartialEq)]
pub enum Target {
    /// A numeric key of a game: its position in [`GAME_KEYS`](datapact_model::GAME_KEYS) (`population.users` or a `[game]`
    /// key).
    Game(usize),
    /// A parameter of the cost distribution: its position in the distribution's declaration.
    Cost(usize),
    /// The share of users holding the strategy of a kind (`population.KIND.share`).
    Share(StrategyKind),
    /// Parameter `i` of the strategy of a kind (`population.KIND.KEY`).
    StrategyParam(StrategyKind, usize),
    /// A numeric key of `[population.network]` (of the base game's model).
    Network(&'static str),
    /// Parameter `param` of the mechanism with catalog index `mechanism`.
    Mechanism {
        /// Catalog index.
        mechanism: usize,
        /// Position among its parameters.
        param: usize,
    },
    /// A categorical key: the axis's values are the positions 0, 1, … in this list.
    Category(Vec<Category>),
}

/// One value of a categorical axis (an enumerated key swept with `{ values = [...] }`).
#[derive(Clone, Debug, PartialEq)]
pub enum Category {
    /// A `[game]` key written as a name, such as `game.order`: the key's position in
    /// [`GAME_KEYS`](datapact_model::GAME_KEYS) and the name's position among its choices.
    Choice {
        /// The key's position in [`GAME_KEYS`](datapact_model::GAME_KEYS).
        key: usize,
        /// The value's position among the key's names.
        value: usize,
    },
    /// `population.cost.dist`, with its parameters.
    Cost(CostDist),
    /// `dynamics.cost_process` (an AR(1)'s persistence is `[dynamics] persistence`).
    CostProcess(CostProcess),
    /// `dynamics.learning` (an adaptive rule's rate is `[dynamics] learning_rate`).
    Learning(Learning),
    /// `population.KIND.strategy` (its share and parameters are `[population.KIND]`'s).
    Strategy(StrategyKind, StrategyChoice),
    /// A categorical parameter of a mechanism or strategy (`Rule::OneOf`): one of its labels.
    Label {
        /// Which parameter.
        target: ParamTarget,
        /// The label's position among the parameter's labels (its stored value).
        index: usize,
        /// The label.
        label: &'static str,
    },
    /// `population.network.model`, with the keys `[population.network]` gives it (`None`: no
    /// network).
    Network(Option<datapact_model::Network>),
}

/// Where a parameter's value goes in a cell's game.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParamTarget {
    /// Parameter `param` of the mechanism with catalog index `mechanism`.
    Mechanism {
        /// Catalog index.
        mechanism: usize,
        /// Position among its parameters.
        param: usize,
    },
    /// Parameter `i` of the strategy of a kind.
    Strategy(StrategyKind, usize),
}

/// A strategy as a value of a swept `population.KIND.strategy` (report, withdraw, contribute,
/// pledge, bid): a strategy of the catalog with the parameters written beside `strategy` in its
/// `[population.KIND]` table (its own keys; defaults where absent). The cell's share is the
/// table's `share`, or a swept `population.KIND.share`.
#[derive(Clone, Debug, PartialEq)]
pub struct StrategyChoice {
    /// Index among the catalog's strategies of the kind (0: the default, which every user then
    /// holds).
    pub index: usize,
    /// Its registered name: the value's label.
    pub name: &'static str,
    /// Its parameter values (empty for the default strategy, whose rule takes none).
    pub params: ParamValues,
}

/// An adaptive replication rule: each cell plays `min` replications, then `batch` more at a
/// time, and stops after the first batch at whose end the SE of `metric` is at most
/// `target_se` for every mechanism of the run in every round (or, with `contrast`, the SE of
/// that paired difference in every round), or at `max`.
#[derive(Clone, Debug, PartialEq)]
pub struct Adaptive {
    /// The SE to reach, > 0.
    pub target_se: f64,
    /// The `cells` metric whose SE is targeted: a core outcome metric or a plugin's.
    pub metric: TargetMetric,
    /// Replications played before the rule is first read, in `[2, max]`.
    pub min: u32,
    /// Replications at most, in `[min, MAX_ADAPTIVE_REPLICATIONS]`.
    pub max: u32,
    /// Replications per batch after the first (default `min`).
    pub batch: u32,
    /// Target the SE of this paired contrast's difference (`contrasts` table) instead of each
    /// mechanism's.
    pub contrast: Option<ContrastPair>,
}

/// Output column name of a sweep key.
pub fn column_name(key: &str) -> String {
    if let Some(x) = key.strip_prefix("game.") {
        x.to_string()
    } else if key == "population.users" {
        "users".to_string()
    } else if let Some(x) = key.strip_prefix("population.cost.") {
        format!("cost_{x}")
    } else if let Some(x) = key.strip_prefix("population.report.") {
        format!("report_{x}")
    } else if let Some(x) = key.strip_prefix("population.withdraw.") {
        format!("withdraw_{x}")
    } else if let Some(x) = key.strip_prefix("population.network.") {
        format!("network_{x}")
    } else if let Some((kind, x)) = key
        .strip_prefix("population.")
        .and_then(|rest| rest.split_once('.'))
        .filter(|(kind, _)| {
            datapact_model::AmountKind::ALL
                .iter()
                .any(|a| a.as_str() == *kind)
        })
    {
        format!("{kind}_{x}")
    } else if let Some(x) = key.strip_prefix("dynamics.") {
        x.to_string()
    } else if let Some(x) = key.strip_prefix("mechanism.") {
        x.replace(['.', '-'], "_")
    } else {
        key.replace('.', "_")
    }
}
