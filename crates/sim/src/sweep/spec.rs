//! What every cell of a run shares: the detail kept, the backend, the mechanisms and plugins.

use std::sync::Arc;

use std::borrow::Cow;

use datapact_model::stats::TargetMetric;
use datapact_model::{Game, Kernel, MechanismDecl};

use crate::plugin::PluginSet;

/// How much per-campaign detail a run keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Depth {
    /// Per-cell statistics and diagnostics only.
    Cells,
    /// Also one record per campaign.
    Rounds,
    /// Also one record per user of every campaign (plays with the events that give each user's
    /// assignment and decision time, [`datapact_model::TrailEvents`], and keeps none).
    Users,
    /// Also every event of every campaign.
    Events,
}

/// Which implementation plays the campaigns. Both give identical numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// Users as ECS entities, one system per phase (the product).
    Ecs,
    /// The model's phase functions called in a plain loop (the reference and the speed limit).
    Direct,
}

/// What every cell of a run shares.
#[derive(Clone, Debug)]
pub struct RunSpec {
    /// The scenario seed.
    pub seed: u64,
    /// Replications per cell (with an adaptive rule, its `max`).
    pub replications: u32,
    /// Play each cell until a metric's SE reaches a target, instead of `replications` times
    /// (`None`: a fixed count). Requires `first_replication` = 0.
    pub adaptive: Option<StopRule>,
    /// Index of the first replication played (0 for a whole run): a cell plays replications
    /// `first_replication .. first_replication + replications`, each from its own stream, so
    /// one replication can be re-run alone (`datapact run --rep`).
    pub first_replication: u32,
    /// Catalog ids of the mechanisms, in output order.
    pub mechanisms: Vec<u16>,
    /// Per-campaign detail to keep.
    pub depth: Depth,
    /// Which implementation plays the campaigns.
    pub backend: Backend,
    /// The mechanisms, strategies and metrics of the app.
    pub plugins: Arc<PluginSet>,
    /// The run's named variants (ids after the app's mechanisms; empty for most runs).
    pub variants: Vec<VariantSpec>,
}

/// A named variant in a run (`[mechanism.NAME] of = "BASE"`): an id of its own in
/// [`RunSpec::mechanisms`] and every record, played as the registered mechanism `base` in the
/// game its scenario gives it, on the same draws as the run's other mechanisms.
#[derive(Clone)]
pub struct VariantSpec {
    /// Its id.
    pub id: u16,
    /// Its declaration: its name, and its base's parameters, stages and invariants.
    pub decl: MechanismDecl,
    /// The catalog id of the registered mechanism it plays as.
    pub base: u16,
    /// The game it plays in a cell whose game is the argument.
    pub game: Arc<dyn Fn(&Game) -> Game + Send + Sync>,
}

impl std::fmt::Debug for VariantSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VariantSpec")
            .field("id", &self.id)
            .field("name", &self.decl.name)
            .field("base", &self.base)
            .finish()
    }
}

impl RunSpec {
    /// The declaration of the mechanism with id `id` (a registered one, or a variant).
    pub fn decl(&self, id: u16) -> MechanismDecl {
        match self.variant(id) {
            Some(v) => v.decl,
            None => self.plugins.catalog().mechanisms[id as usize],
        }
    }

    /// The variant with id `id`, if it is one.
    fn variant(&self, id: u16) -> Option<&VariantSpec> {
        self.variants.iter().find(|v| v.id == id)
    }

    /// The name of the mechanism with id `id`.
    pub fn name(&self, id: u16) -> &'static str {
        self.decl(id).name
    }

    /// The registered mechanism that id `id` plays as: its base for a variant, else itself.
    pub fn plays_as(&self, id: u16) -> u16 {
        self.variant(id).map_or(id, |v| v.base)
    }

    /// The game mechanism `id` plays in a cell whose game is `game`.
    pub fn game_of<'a>(&self, id: u16, game: &'a Game) -> Cow<'a, Game> {
        match self.variant(id) {
            Some(v) => Cow::Owned((v.game)(game)),
            None => Cow::Borrowed(game),
        }
    }

    /// Whether every mechanism of the run has a direct kernel (C, S and M do, and their
    /// variants; `async`, `vcg` and plugins' mechanisms run on the ECS only).
    pub fn direct_kernels(&self) -> Result<Vec<Kernel>, String> {
        self.mechanisms
            .iter()
            .map(|&m| {
                Kernel::of(self.name(self.plays_as(m))).ok_or_else(|| {
                    format!(
                        "mechanism {:?} has no direct kernel and runs on the ECS only (drop --direct)",
                        self.name(m)
                    )
                })
            })
            .collect()
    }
}

/// An adaptive replication rule (the scenario's `replications = { target_se, … }`): a cell
/// plays `min` replications, then `batch` at a time, and stops after the first batch at whose
/// end the SE of `metric` is at most `target_se` in every round, for every mechanism (or for the
/// paired contrast `contrast`), or at `max`. Batches are a function of the count played and the
/// rule reads statistics folded in replication order, so a cell's replications, and its
/// outputs, are the same on any thread count, shard or resume.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StopRule {
    /// The SE to reach.
    pub target_se: f64,
    /// The metric whose SE is read: a core outcome metric, or a registered metric (the SE over
    /// the campaigns of each mechanism that computes it).
    pub metric: TargetMetric,
    /// Replications before the rule is first read (≥ 2: one replication has no SE).
    pub min: u32,
    /// Replications at most.
    pub max: u32,
    /// Replications per batch after the first `min`.
    pub batch: u32,
    /// `(a, b)`, positions in [`RunSpec::mechanisms`]: target the SE of the paired difference
    /// a − b instead of each mechanism's own (the metric must be contrasted,
    /// [`datapact_model::stats::Stat::CONTRASTED`]).
    pub contrast: Option<(usize, usize)>,
}
