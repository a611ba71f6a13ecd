//! What every cell of a run shares: the detail kept, the backend, the mechanisms and plugins.

use std::sync::Arc;

use datapact_model::Kernel;

use crate::plugin::PluginSet;

use super::StopRule;

/// How much per-campaign detail a run keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Depth {
    /// Per-cell statistics and diagnostics only.
    Cells,
    /// Also one record per campaign.
    Rounds,
    /// Also one record per user of every campaign (plays with events traced, to read each
    /// user's assignment and decision time from her campaign's log, but keeps no events).
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
}

impl RunSpec {
    /// The name of the mechanism with catalog id `id`.
    pub fn name(&self, id: u16) -> &'static str {
        self.plugins.catalog().mechanisms[id as usize].name
    }

    /// Whether every mechanism of the run has a direct kernel (the core's do).
    pub fn direct_kernels(&self) -> Result<Vec<Kernel>, String> {
        self.mechanisms
            .iter()
            .map(|&m| {
                Kernel::of(self.name(m)).ok_or_else(|| {
                    format!(
                        "mechanism {:?} is a plugin and runs on the ECS only (drop --direct)",
                        self.name(m)
                    )
                })
            })
            .collect()
    }
}
