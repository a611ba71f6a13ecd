//! Resources: the batch being simulated and the column buffers that phase systems hand to the
//! model's functions.

use std::sync::Arc;

use bevy_ecs::prelude::*;
use datapact_model::assign::{AssignMemo, Assignment};
use datapact_model::settle::Settled;
use datapact_model::withdraw::ProtocolScratch;
use datapact_model::{CostSampler, Draws, Game, Outcome, ProtocolEnd, Rules, Stages};

use crate::components::Shocks;

/// The batch: one cell's game, and a run of replications, each played by every mechanism.
/// Campaign slot `r·M + m` is replication `first_rep + r` under `mechanisms[m]`.
#[derive(Resource, Clone, Debug)]
pub struct Batch {
    /// The cell's game (the swept values set).
    pub game: Game,
    /// The population's report and withdraw rules in this cell.
    pub rules: Rules,
    /// The cell's cost distribution F, ready to draw.
    pub sampler: CostSampler,
    /// The scenario seed.
    pub seed: u64,
    /// The cell's draw key (`datapact_model::draw_key` of its game; with the seed, it keys every
    /// random stream).
    pub draw_key: u64,
    /// Replication index of the batch's first campaign slot.
    pub first_rep: u64,
    /// Replications in this batch (≤ the capacity the world was built for).
    pub reps: usize,
    /// Catalog ids of the mechanisms, in output order.
    pub mechanisms: Vec<u16>,
    /// The shared stages of each mechanism, in the order of `mechanisms`.
    pub stages: Vec<Stages>,
    /// The round of the repeated game being played (0 for single campaigns).
    pub round: u32,
    /// E\[c\] under F, for the AR(1) cost process.
    pub cost_mean: f64,
    /// Whether the systems read each user's true cost where nature banked it
    /// (`Columns::draws`, by replication) instead of from `TrueCost`, and, when every report is
    /// truthful, observe it without writing `ReportedCost`: set for a world whose systems are
    /// only C's, S's and M's, untraced, in single campaigns (nothing else reads those
    /// components, and no next round evolves costs from them), which then stay unwritten.
    pub costs_in_place: bool,
    /// Per campaign slot: its mechanism's catalog id and shared stages (`mechanisms` and
    /// `stages` by `slot % M`, looked up rather than divided for every campaign of every system).
    pub(crate) by_slot: Arc<[(u16, Stages)]>,
}

impl Batch {
    /// Users per campaign, n.
    #[inline]
    pub fn users(&self) -> usize {
        self.game.users
    }

    /// Campaigns in the batch: replications × mechanisms.
    #[inline]
    pub fn campaigns(&self) -> usize {
        self.reps * self.mechanisms.len()
    }

    /// The catalog id of campaign slot `campaign`'s mechanism.
    #[inline]
    pub fn mechanism(&self, campaign: usize) -> u16 {
        self.by_slot[campaign].0
    }

    /// The shared stages of campaign slot `campaign`'s mechanism.
    #[inline]
    pub fn stages(&self, campaign: usize) -> Stages {
        self.by_slot[campaign].1
    }

    /// Whether the true costs are read in place ([`Batch::costs_in_place`]) and every report is
    /// truthful: then each reporting user observes her banked cost (no `ReportedCost` written),
    /// and the campaigns of one replication observe the same costs, bit for bit.
    #[inline]
    pub fn observes_in_place(&self) -> bool {
        self.costs_in_place && self.rules.all_truthful()
    }

    /// Per campaign slot of `reps` replications, its mechanism and stages (for
    /// [`Batch::by_slot`]).
    pub(crate) fn slots_of(
        mechanisms: &[u16],
        stages: &[Stages],
        reps: usize,
    ) -> Arc<[(u16, Stages)]> {
        (0..reps * mechanisms.len())
            .map(|c| {
                let k = c % mechanisms.len();
                (mechanisms[k], stages[k])
            })
            .collect()
    }
}

/// Per-batch buffers beside the components: the replications' draws, each campaign's payoffs
/// by slot (read by the statistics) and, when users are traced, what settlement decided for
/// each user.
#[derive(Resource, Default)]
pub struct Columns {
    /// Per user, indexed `campaign·n + slot`: the payoff after settlement.
    pub payoff: Vec<f64>,
    /// Per user, indexed `campaign·n + slot`: data kept, payment and privacy cost borne, as
    /// the campaign's settlement decided them (the `users` table's `final_burden`, `payment`,
    /// `privacy_cost`). Written only when users are traced (`S::ENABLED`); every round starts
    /// with [`Settled::UNKNOWN`] (nulls), so a mechanism that settles its campaigns itself
    /// records its users with [`Columns::record`] or leaves them null.
    pub settled: Vec<Settled>,
    /// One draw set per replication of the batch (shared by its mechanisms: common random numbers,
    /// and with the thread's bank of kept draws).
    pub draws: Vec<Arc<Draws>>,
    /// Per replication of the batch, its users' multipliers at the cell's σ_w and σ_o (shared
    /// like `draws`): the users of every mechanism of replication r read slot i's at
    /// `multipliers[r].shocks[i]`.
    pub multipliers: Vec<Arc<Multipliers>>,
}

/// One replication's multipliers under the cell's σ_w and σ_o, and what they make of its fresh
/// costs: computed once per user of a replication, read by the users of each mechanism.
#[derive(Clone, Debug, Default)]
pub struct Multipliers {
    /// Each user's drift and observation multipliers, by slot.
    pub shocks: Vec<Shocks>,
    /// Each user's fresh cost drifted to training time, c_i·drift_i: her `RealizedCost` in a
    /// round that takes the fresh costs (round 0), the same product the users of each
    /// mechanism would compute.
    pub drifted: Vec<f64>,
    /// What the provider observes of each user's truthful report of her fresh cost,
    /// c_i·observation_i: her `ObservedCost` in round 0 when every report is truthful and the
    /// costs are read in place ([`Batch::observes_in_place`]), the same product the report
    /// system would compute for each reporting mechanism.
    pub observed: Vec<f64>,
}

impl Columns {
    /// Makes room for `users` users in total (all campaigns of the batch).
    pub fn resize(&mut self, users: usize) {
        self.payoff.resize(users, 0.0);
        self.settled.resize(users, Settled::UNKNOWN);
    }

    /// Records what settlement decided for campaign slot `campaign`'s users (`n` per campaign),
    /// and keeps their payoffs for the statistics: call it from a mechanism's own settlement
    /// when users are traced (`S::ENABLED`).
    pub fn record(&mut self, campaign: usize, n: usize, settled: &[Settled]) {
        self.settled[campaign * n..(campaign + 1) * n].copy_from_slice(settled);
    }
}

/// Per-campaign state of the batch, indexed by campaign slot: the assignment (reporting
/// mechanisms), how the withdraw phase ended (set by each mechanism's protocol; `Cancelled`
/// unless it says otherwise) and the settled outcome.
#[derive(Resource, Default)]
pub struct CampaignTable {
    /// Per slot: the S/M assignment (`None` for C and before assignment).
    pub assignment: Vec<Option<Assignment>>,
    /// Per slot: how the withdraw phase ended.
    pub end: Vec<ProtocolEnd>,
    /// Per slot: the settled outcome (`None` until settlement).
    pub outcome: Vec<Option<Outcome>>,
    /// Per slot: the model time at which training runs, set by an event-driven protocol (its
    /// deadline); `None`: the round-based step after every decision.
    pub train_at: Vec<Option<f64>>,
}

/// Scratch of the model's protocols (water-filling buffers) and the last assignment (which the
/// next campaign of the replication reuses if it observes the same costs), kept across campaigns.
#[derive(Resource, Default)]
pub struct Scratch {
    /// Water-filling and re-assignment buffers.
    pub protocol: ProtocolScratch,
    /// The last assignment and the observed costs it was made for.
    pub memo: AssignMemo,
    /// One campaign's "past withdrawals were absorbed", from its users' memories.
    pub absorbed: Vec<bool>,
    /// One campaign's burdens as its users' caps, for a mechanism without the assign stage.
    pub own_cap: Vec<f64>,
}

/// Per-campaign event logs. `S = NoEvents` when events are not traced: the sinks are zero-sized and
/// every emission compiles away.
#[derive(Resource)]
pub struct Sinks<S: Send + Sync + 'static>(pub Vec<S>);
