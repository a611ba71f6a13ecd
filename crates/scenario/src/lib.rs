//! Scenario files: TOML in, a validated `Scenario` and its sweep grid out; every error names the
//! file, line and key.
//!
//! The file format is described in [`Scenario`]'s documentation. Loading is strict: unknown keys,
//! wrong types, non-finite numbers and out-of-range values are all errors, and every error is a
//! [`ScenarioError`] that names its origin (the file, or `--set <key>` for an override), the line
//! when known, and the key.
//!
//! A key that is both set in its table and swept under `[sweep]` takes the swept values in every
//! cell (the sweep wins); the table value remains in [`Scenario::base`].

#![warn(missing_docs)]

mod axes;
pub mod design;
mod edges_file;
mod error;
mod linspace;
mod network;
mod normalize;
mod points_file;
mod read;
pub mod replications;
pub mod search;
mod sections;
mod toml_text;
mod tree;
mod validate;

use std::path::Path;
use std::sync::Arc;

use datapact_model::{Catalog, Game};

pub use axes::{Category, ParamTarget, StrategyChoice, Target};
pub use design::{AxisRange, Design, DesignKind};
pub use error::ScenarioError;
pub use read::MAX_MAGNITUDE;
pub use replications::{Adaptive, MAX_ADAPTIVE_REPLICATIONS};

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

impl Scenario {
    /// The mechanism pairs of the `contrasts` table: those of `[output] contrasts`, or by
    /// default every pair (A, B) with A after B in the scenario's mechanism order (M−S, M−C,
    /// S−C for C, S, M). Empty for a single mechanism.
    pub fn contrast_pairs(&self) -> Vec<ContrastPair> {
        if let Some(pairs) = &self.contrasts {
            return pairs.clone();
        }
        let m = &self.mechanisms;
        (0..m.len())
            .rev()
            .flat_map(|a| (0..a).rev().map(move |b| ContrastPair { a: m[a], b: m[b] }))
            .collect()
    }

    /// Read and validate a scenario file against the core catalog, applying `--set key=value`
    /// overrides first.
    pub fn load(path: &Path, overrides: &[String]) -> Result<Scenario, ScenarioError> {
        Scenario::load_with(&Arc::new(Catalog::core()), path, overrides)
    }

    /// Read and validate a scenario file against `catalog` (the mechanisms and strategies a
    /// plugin app registered), applying `--set key=value` overrides first.
    pub fn load_with(
        catalog: &Arc<Catalog>,
        path: &Path,
        overrides: &[String],
    ) -> Result<Scenario, ScenarioError> {
        let (text, origin) = read_source(path)?;
        Scenario::from_str_with(catalog, &text, &origin, overrides)
    }

    /// Validate scenario text against the core catalog; `origin` names it in errors.
    #[allow(clippy::should_implement_trait)]
    pub fn from_str(
        text: &str,
        origin: &str,
        overrides: &[String],
    ) -> Result<Scenario, ScenarioError> {
        Scenario::from_str_with(&Arc::new(Catalog::core()), text, origin, overrides)
    }

    /// Validate scenario text against `catalog`; `origin` names it in errors.
    pub fn from_str_with(
        catalog: &Arc<Catalog>,
        text: &str,
        origin: &str,
        overrides: &[String],
    ) -> Result<Scenario, ScenarioError> {
        validate::build(catalog, text, origin, overrides)
    }

    /// The names of the scenario's mechanisms, in output order.
    pub fn mechanism_names(&self) -> Vec<&'static str> {
        self.mechanisms.iter().map(|m| m.name).collect()
    }

    /// Number of cells: the product of the grid axes' lengths (1 without a sweep), times the
    /// number of design points if there are any.
    pub fn cell_count(&self) -> usize {
        let grid: usize = self.sweep[..self.design.first_axis]
            .iter()
            .map(|a| a.values.len())
            .product();
        grid * self.design.points.max(1)
    }

    /// Whether some cell has a network (`[population.network]`, or a swept model other than
    /// `none`): its output tables then carry their network columns
    /// (`datapact_trace::Table::network_columns`).
    pub fn has_network(&self) -> bool {
        network::any(self)
    }

    /// The largest mean degree of any cell's network (`None` without a network): what the
    /// memory estimate counts of the edges.
    pub fn max_mean_degree(&self) -> Option<f64> {
        network::max_mean_degree(self)
    }

    /// The cell at `index` in row-major order: the first grid axis varies slowest, the last
    /// fastest, and the design's point (if any) faster still.
    ///
    /// # Panics
    /// If `index >= self.cell_count()`.
    pub fn cell(&self, index: usize) -> Cell {
        assert!(
            index < self.cell_count(),
            "cell index {index} out of range (scenario has {} cells)",
            self.cell_count()
        );
        let mut coords = vec![0.0; self.sweep.len()];
        let first = self.design.first_axis;
        let points = self.design.points.max(1);
        let (mut rest, point) = (index / points, index % points);
        for (c, axis) in coords[first..].iter_mut().zip(&self.sweep[first..]) {
            *c = axis.values[point];
        }
        for (i, axis) in self.sweep[..first].iter().enumerate().rev() {
            let n = axis.values.len();
            coords[i] = axis.values[rest % n];
            rest /= n;
        }
        let mut game = self.base.clone();
        for (axis, &v) in self.sweep.iter().zip(&coords) {
            axis.target.apply(&mut game, v);
        }
        Cell {
            index,
            coords,
            game,
        }
    }

    /// The named variant at catalog index `index`, if it is one.
    pub fn variant(&self, index: usize) -> Option<&Variant> {
        self.variants.iter().find(|v| v.index == index)
    }

    /// The registered mechanisms a run plays (catalog indices; a named variant as its base).
    pub fn mechanisms_played(&self) -> Vec<usize> {
        self.mechanisms
            .iter()
            .map(|m| {
                self.catalog.mechanisms[m.index]
                    .variant_of
                    .unwrap_or(m.index)
            })
            .collect()
    }

    /// The strategies other than the defaults that the scenario names for its users (kind,
    /// catalog index): the base population's and every swept value's.
    pub fn strategies_named(&self) -> Vec<(datapact_model::StrategyKind, usize)> {
        let base = datapact_model::StrategyKind::ALL
            .into_iter()
            .map(|kind| (kind, self.base.population.of(kind).strategy));
        let swept = self
            .sweep
            .iter()
            .flat_map(|a| a.categories())
            .filter_map(|c| match c {
                Category::Strategy(kind, choice) => Some((*kind, choice.index)),
                _ => None,
            });
        let mut named: Vec<_> = base.chain(swept).filter(|&(_, i)| i != 0).collect();
        named.sort_by_key(|&(kind, i)| (kind.index(), i));
        named.dedup();
        named
    }

    /// cells × replications × mechanisms (with an adaptive rule, the most it may play).
    pub fn campaigns(&self) -> u128 {
        self.cell_count() as u128 * self.replications as u128 * self.mechanisms.len() as u128
    }

    /// TOML of the effective scenario (defaults filled, overrides applied), independent of key
    /// order, whitespace and comments in the source, every point of a listed design inline: what
    /// `validate` shows and a job array reads. It loads back to the same scenario (same
    /// [`Scenario::hash`]). It is [`Scenario::canonical`] but for a listed design.
    pub fn normalized(&self) -> String {
        normalize::normalized(self, None)
    }

    /// The canonical text of the scenario, which [`Scenario::hash`] hashes and a run stores
    /// (`_run.json`, `manifest.json`, each part's `datapact.scenario`): [`Scenario::normalized`],
    /// except that a listed design (`kind = "points"`) names its points instead of listing them:
    /// `file = "design_points.parquet"` ([`RUN_POINTS_FILE`], the run's one copy of them) and
    /// `points_sha256` ([`Scenario::points_sha256`]), so the points are stored once per run and
    /// the hash still tells any two sets of points apart. Saved next to a points file holding
    /// those points, it loads back to this scenario (a file with other points is refused).
    pub fn canonical(&self) -> String {
        normalize::normalized(self, Some(RUN_POINTS_FILE))
    }

    /// A listed design's (`kind = "points"`) keys and its points' values (point by point, in
    /// the keys' order); `None` for any other design.
    pub fn listed_points(&self) -> Option<(Vec<String>, Vec<Vec<f64>>)> {
        let (axes, points) = self.listed_axes()?;
        let keys = axes.iter().map(|a| a.key.clone()).collect();
        let points = (0..points)
            .map(|p| axes.iter().map(|a| a.values[p]).collect())
            .collect();
        Some((keys, points))
    }

    /// The digest of a listed design's keys and points
    /// ([`datapact_model::points::points_sha256_hex`]); `None` for any other design.
    pub fn points_sha256(&self) -> Option<String> {
        let (axes, points) = self.listed_axes()?;
        let keys: Vec<String> = axes.iter().map(|a| a.key.clone()).collect();
        let values = (0..points).flat_map(|p| axes.iter().map(move |a| &a.values[p]));
        Some(datapact_model::points::points_sha256_hex(
            &keys, points, values,
        ))
    }

    /// A listed design's axes and number of points.
    fn listed_axes(&self) -> Option<(&[SweepAxis], usize)> {
        let d = &self.design;
        if d.kind != DesignKind::Points || d.points == 0 {
            return None;
        }
        Some((&self.sweep[d.first_axis..], d.points))
    }

    /// Hex SHA-256 of [`Scenario::canonical`]: the scenario's identity (a run's `scenario_hash`).
    /// For any scenario but one with a listed design, the SHA-256 of [`Scenario::normalized`].
    pub fn hash(&self) -> String {
        sha256_hex(&self.canonical())
    }
}

/// The points file a listed design's canonical text names ([`Scenario::canonical`]): a run's
/// `design_points.parquet`, at its root beside `_run.json` and `manifest.json`.
pub const RUN_POINTS_FILE: &str = "design_points.parquet";

/// Hex SHA-256 of canonical text (a scenario's or a search file's identity).
pub(crate) fn sha256_hex(text: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(text.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// A scenario file's text and its origin (the path, as errors name it): unreadable or invalid
/// UTF-8 is an error at the file (and line) where it is.
pub(crate) fn read_source(path: &Path) -> Result<(String, String), ScenarioError> {
    let origin = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| ScenarioError {
        origin: origin.clone(),
        line: None,
        key: None,
        message: format!("cannot read file: {e}"),
    })?;
    match String::from_utf8(bytes) {
        Ok(text) => Ok((text, origin)),
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            let line =
                tree::LineIndex::new(&String::from_utf8_lossy(&e.as_bytes()[..at])).line_of(at);
            Err(ScenarioError {
                origin,
                line: Some(line),
                key: None,
                message: format!("file is not valid UTF-8 (invalid byte at offset {at})"),
            })
        }
    }
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
