//! Components: plain structs on user and campaign entities.
//!
//! Per-user values are `#[repr(transparent)]` newtypes: a system hands a table's column of them
//! to the model's functions as a plain slice (`TrueCost::peel_slice`), without copying.

use bevy_ecs::prelude::*;
use bytemuck::TransparentWrapper;
use datapact_model::Decision;

/// Which campaign of the batch a user belongs to, and her index in it.
#[derive(Component, Clone, Copy, Debug)]
pub struct Member {
    /// The campaign's slot in the batch.
    pub campaign: u32,
    /// The user's index i within her campaign (0 ≤ i < n).
    pub slot: u32,
}

/// c_i, the true cost at reporting time (a draw).
#[derive(Component, Clone, Copy, Debug, Default, TransparentWrapper)]
#[repr(transparent)]
pub struct TrueCost(pub f64);

/// Nature's shocks to one user's cost, as the mean-one multipliers exp(σ·z − σ²/2) of her
/// standardised draws ζ_i and η_i at this cell's σ_w and σ_o: computed once per user of a
/// replication and read in place by the users of each of its mechanisms
/// (`Columns::multipliers`), not copied into them. (M's random-order keys are read per campaign
/// from the replication's draws, in `Columns::draws`.)
#[derive(Clone, Copy, Debug, Default)]
pub struct Shocks {
    /// c^w_i = c_i · drift.
    pub drift: f64,
    /// c̃_i = ĉ_i · observation.
    pub observation: f64,
}

/// How the user reports: an index into the cell's report rules (`Batch::rules`; 0 = default).
#[derive(Component, Clone, Copy, Debug, Default, TransparentWrapper)]
#[repr(transparent)]
pub struct ReportsWith(pub u16);

/// ĉ_i, the reported cost.
#[derive(Component, Clone, Copy, Debug, Default, TransparentWrapper)]
#[repr(transparent)]
pub struct ReportedCost(pub f64);

/// c̃_i, what the provider observes.
#[derive(Component, Clone, Copy, Debug, Default, TransparentWrapper)]
#[repr(transparent)]
pub struct ObservedCost(pub f64);

/// c^w_i, the cost borne at training time.
#[derive(Component, Clone, Copy, Debug, Default, TransparentWrapper)]
#[repr(transparent)]
pub struct RealizedCost(pub f64);

/// u_i, the individual-rationality cap.
#[derive(Component, Clone, Copy, Debug, Default, TransparentWrapper)]
#[repr(transparent)]
pub struct Cap(pub f64);

/// x_i: the assigned (then re-assigned, then decided) burden; under C, the chosen contribution.
#[derive(Component, Clone, Copy, Debug, Default, TransparentWrapper)]
#[repr(transparent)]
pub struct Burden(pub f64);

/// Stay or withdraw.
#[derive(Component, Clone, Copy, Debug, Default, TransparentWrapper)]
#[repr(transparent)]
pub struct Choice(pub Decision);

/// C's perceived marginal impact of own data, b_i (learned across rounds, or b0).
#[derive(Component, Clone, Copy, Debug, Default, TransparentWrapper)]
#[repr(transparent)]
pub struct Belief(pub f64);

/// How a reporting user decides whether to withdraw: an index into the cell's withdraw rules
/// (`Batch::rules`; 0 = default).
#[derive(Component, Clone, Copy, Debug, Default, TransparentWrapper)]
#[repr(transparent)]
pub struct WithdrawsBy(pub u16);

/// What an S/M user remembers of past rounds.
#[derive(Component, Clone, Copy, Debug, Default)]
pub struct Remembers(pub datapact_model::Memory);

/// The user's utility after settlement.
#[derive(Component, Clone, Copy, Debug, Default, TransparentWrapper)]
#[repr(transparent)]
pub struct Payoff(pub f64);

/// A campaign: its slot in the batch, its replication and mechanism. Its assignment, how its
/// withdraw phase ended and its outcome are kept once, in `CampaignTable`, indexed by slot.
#[derive(Component, Clone, Copy, Debug)]
pub struct Campaign {
    /// The campaign's slot in the batch (`rep_in_batch·M + m`).
    pub slot: u32,
    /// Its replication, counted from the batch's first.
    pub rep_in_batch: u32,
    /// The mechanism's catalog id.
    pub mechanism: u16,
}
