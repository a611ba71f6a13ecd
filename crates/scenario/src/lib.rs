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

mod error;
mod normalize;
mod tree;
mod validate;

use std::path::Path;

use datapact_model::{CostDist, Game, Mechanism};

pub use error::ScenarioError;

/// How much a run records. Ordered: `Cells < Rounds < Events`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TraceLevel {
    /// One row per cell (aggregates only).
    #[default]
    Cells,
    /// Plus one row per round.
    Rounds,
    /// Plus every event.
    Events,
}

impl TraceLevel {
    pub const ALL: [TraceLevel; 3] = [TraceLevel::Cells, TraceLevel::Rounds, TraceLevel::Events];

    pub fn as_str(self) -> &'static str {
        match self {
            TraceLevel::Cells => "cells",
            TraceLevel::Rounds => "rounds",
            TraceLevel::Events => "events",
        }
    }

    /// Parse `"cells" | "rounds" | "events"`.
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
    /// `population.cost.X` → `cost_X`, `population.report.X` → `report_X`.
    pub column: String,
    /// The values, in order (non-empty, each range-checked like the key itself).
    pub values: Vec<f64>,
}

/// A validated scenario.
///
/// File format (TOML; unknown keys anywhere are an error):
///
/// ```toml
/// mechanisms = ["C", "S", "M"]   # or scenario.mechanisms; default all three
/// [scenario]
/// name = "baseline"              # required
/// seed = 20260508                # required, integer >= 0
/// replications = 2000            # required, integer >= 1
/// description = "..."            # optional
/// [population]
/// users = 20
/// cost = { dist = "uniform", low = 0.0, high = 1.0 }  # or beta{alpha,beta}, lognormal{mu,sigma}, constant{value}
/// [population.report]
/// strategy = "truthful"          # or "shade"
/// share = 0.0                    # [0, 1]
/// factor = 0.0                   # > -1
/// [population.withdraw]
/// strategy = "sincere"
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
/// [output]
/// trace = "cells"                # rounds | events
/// chunk_cells = 0                 # cells per part file; 0 = automatic (~10^7 user-campaigns)
/// ```
///
/// A key both set in its table and swept takes the swept values (the sweep wins); overriding a
/// swept key with `--set` is an error (override `sweep.<key>` instead).
#[derive(Clone, Debug, PartialEq)]
pub struct Scenario {
    pub name: String,
    pub seed: u64,
    pub replications: u32,
    pub description: Option<String>,
    /// In canonical order C, S, M.
    pub mechanisms: Vec<Mechanism>,
    /// The game before sweeping.
    pub base: Game,
    /// In the order written in the file.
    pub sweep: Vec<SweepAxis>,
    pub trace: TraceLevel,
    /// `output.chunk_cells`: cells per output chunk (the unit of part files, sharding and
    /// resuming); `None` (or 0 in the file) lets the runner choose from the amount of work.
    pub chunk_cells: Option<usize>,
    /// File path (or `<builtin>/name.toml`) used in errors.
    pub origin: String,
    /// The exact text loaded, before overrides (the effective scenario, overrides included, is
    /// [`Scenario::normalized`]).
    pub source: String,
}

/// One point of the sweep grid.
#[derive(Clone, Debug, PartialEq)]
pub struct Cell {
    pub index: usize,
    /// One value per sweep axis, in axis order.
    pub coords: Vec<f64>,
    /// The base game with the swept values set.
    pub game: Game,
}

/// Upper bound on cells × replications × mechanisms × max users.
pub const MAX_CAMPAIGN_USERS: u128 = 100_000_000_000;

impl Scenario {
    /// Read and validate a scenario file, applying `--set key=value` overrides first.
    pub fn load(path: &Path, overrides: &[String]) -> Result<Scenario, ScenarioError> {
        let origin = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|e| ScenarioError {
            origin: origin.clone(),
            line: None,
            key: None,
            message: format!("cannot read file: {e}"),
        })?;
        let text = match String::from_utf8(bytes) {
            Ok(t) => t,
            Err(e) => {
                let at = e.utf8_error().valid_up_to();
                let line = tree::line_of(&String::from_utf8_lossy(&e.as_bytes()[..at]), at);
                return Err(ScenarioError {
                    origin,
                    line: Some(line),
                    key: None,
                    message: format!("file is not valid UTF-8 (invalid byte at offset {at})"),
                });
            }
        };
        Scenario::from_str(&text, &origin, overrides)
    }

    /// Validate scenario text; `origin` names it in errors.
    #[allow(clippy::should_implement_trait)]
    pub fn from_str(
        text: &str,
        origin: &str,
        overrides: &[String],
    ) -> Result<Scenario, ScenarioError> {
        validate::build(text, origin, overrides)
    }

    /// Number of grid cells: the product of the axis lengths (1 without a sweep).
    pub fn cell_count(&self) -> usize {
        self.sweep.iter().map(|a| a.values.len()).product()
    }

    /// The cell at `index` in row-major order: the first axis varies slowest, the last fastest.
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
        let mut rest = index;
        for (i, axis) in self.sweep.iter().enumerate().rev() {
            let n = axis.values.len();
            coords[i] = axis.values[rest % n];
            rest /= n;
        }
        let mut game = self.base.clone();
        for (axis, &v) in self.sweep.iter().zip(&coords) {
            apply(&mut game, &axis.key, v);
        }
        Cell {
            index,
            coords,
            game,
        }
    }

    /// cells × replications × mechanisms.
    pub fn campaigns(&self) -> u128 {
        self.cell_count() as u128 * self.replications as u128 * self.mechanisms.len() as u128
    }

    /// Canonical TOML of the effective scenario (defaults filled, overrides applied), independent
    /// of key order, whitespace and comments in the source. It loads back to the same scenario.
    pub fn normalized(&self) -> String {
        normalize::normalized(self)
    }

    /// Hex SHA-256 of [`Scenario::normalized`].
    pub fn hash(&self) -> String {
        use sha2::{Digest, Sha256};
        let digest = Sha256::digest(self.normalized().as_bytes());
        digest.iter().map(|b| format!("{b:02x}")).collect()
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
    } else {
        key.replace('.', "_")
    }
}

/// Set a sweepable key of `game` to `v` (values are validated at load time).
pub(crate) fn apply(game: &mut Game, key: &str, v: f64) {
    match key {
        "game.threshold" => game.threshold = v,
        "game.value" => game.value = v,
        "game.payment" => game.payment = v,
        "game.belief" => game.belief = v,
        "game.obs_noise" => game.obs_noise = v,
        "game.drift" => game.drift = v,
        "game.irreversible" => game.irreversible = v,
        "game.recovery_rounds" => game.recovery_rounds = v as u32,
        "population.users" => game.users = v as usize,
        "population.report.share" => game.shade_share = v,
        "population.report.factor" => game.shade_factor = v,
        "population.withdraw.share" => game.free_rider_share = v,
        _ => {
            if let Some(p) = key.strip_prefix("population.cost.") {
                match (&mut game.cost, p) {
                    (CostDist::Uniform { low, .. }, "low") => *low = v,
                    (CostDist::Uniform { high, .. }, "high") => *high = v,
                    (CostDist::Beta { alpha, .. }, "alpha") => *alpha = v,
                    (CostDist::Beta { beta, .. }, "beta") => *beta = v,
                    (CostDist::LogNormal { mu, .. }, "mu") => *mu = v,
                    (CostDist::LogNormal { sigma, .. }, "sigma") => *sigma = v,
                    (CostDist::Constant { value }, "value") => *value = v,
                    _ => {}
                }
            }
        }
    }
}
