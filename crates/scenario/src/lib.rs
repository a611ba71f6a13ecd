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
mod types;
mod validate;

use std::path::Path;
use std::sync::Arc;

use datapact_model::Catalog;

pub use design::{AxisRange, Design, DesignKind};
pub use error::ScenarioError;
pub use read::MAX_MAGNITUDE;
use read::read_source;
pub use replications::{Adaptive, MAX_ADAPTIVE_REPLICATIONS};
use toml_text::sha256_hex;
pub use types::{
    Category, Cell, ContrastPair, MAX_CAMPAIGN_USERS, MechanismRef, ParamTarget, Scenario,
    StrategyChoice, SweepAxis, Target, TraceLevel, Variant, VariantSet, column_name,
};

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
