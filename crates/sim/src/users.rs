//! The `users` table's records (trace ≥ users): one per user per campaign, assembled from the
//! campaign's per-user columns, its outcome and its event log, the same way for the ECS and the
//! direct kernel (the per-user settlement terms are the model's `settle::withdrawal_share` and
//! `settle::subsidy_share`, the functions the settlement itself calls).

use bevy_ecs::prelude::*;
use datapact_model::catalog::SUBSIDY;
use datapact_model::events::{UserTrail, user_trails};
use datapact_model::settle::{Share, subsidy_share, trained_burden, withdrawal_share};
use datapact_model::{Decision, Event, Game, MechanismDecl, Outcome, Status, UserKind};

use crate::components::{
    Burden, Cap, Choice, Member, ObservedCost, Payoff, RealizedCost, ReportedCost, Shocks, TrueCost,
};

/// One user of one campaign (trace ≥ users). `None`: not defined for the mechanism (see the
/// `users` table's column docs).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct UserRecord {
    /// Replication index.
    pub rep: u32,
    /// Round of the repeated game (0 for single campaigns).
    pub round: u32,
    /// Catalog id of the mechanism.
    pub mechanism: u16,
    /// The user's index i in her campaign.
    pub user: u32,
    /// c_i.
    pub true_cost: f64,
    /// ĉ_i (reporting mechanisms).
    pub reported_cost: Option<f64>,
    /// c̃_i (reporting mechanisms).
    pub observed_cost: Option<f64>,
    /// c^w_i = c_i · exp(σ_w ζ_i − σ_w²/2).
    pub drifted_cost: f64,
    /// The unit cost her privacy cost is borne at (c^w_i; under `async`, after regret shocks).
    pub settled_cost: f64,
    /// x̄_i (reporting mechanisms).
    pub cap: Option<f64>,
    /// x_i of the initial assignment (its `assign` event).
    pub assigned_burden: Option<f64>,
    /// Stay or withdraw; `None` when she never decided.
    pub decision: Option<Decision>,
    /// Model time of her last decision.
    pub decision_time: Option<f64>,
    /// Her burden at her last decision.
    pub decided_burden: Option<f64>,
    /// Data she contributes at training.
    pub final_burden: Option<f64>,
    /// paid_i.
    pub payment: Option<f64>,
    /// borne_i.
    pub privacy_cost: Option<f64>,
    /// U_i.
    pub utility: f64,
}

/// How a mechanism settles its users, hence which per-user terms are defined.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Settlement {
    /// Reporting users, settled by the shared settlement (S, M, `async`, reporting plugins).
    Withdrawal,
    /// C's posted subsidy.
    Subsidy,
    /// A plugin's contributing users, settled by the plugin: payment, privacy cost and final
    /// burden are unknown.
    Plugin,
}

impl Settlement {
    pub(crate) fn of(decl: &MechanismDecl) -> Self {
        match decl.users {
            UserKind::Reporting => Settlement::Withdrawal,
            UserKind::Contributing if decl.name == SUBSIDY.name => Settlement::Subsidy,
            UserKind::Contributing => Settlement::Plugin,
        }
    }
}

/// The reporting pipeline's per-user columns of one campaign.
pub(crate) struct Reports<'a> {
    pub(crate) reported: &'a [f64],
    pub(crate) observed: &'a [f64],
    pub(crate) cap: &'a [f64],
    pub(crate) decision: &'a [Decision],
}

/// One campaign's per-user columns after settlement.
pub(crate) struct CampaignUsers<'a> {
    pub(crate) true_cost: &'a [f64],
    pub(crate) drifted: &'a [f64],
    pub(crate) settled: &'a [f64],
    /// Each user's burden at her last decision (C: her contribution).
    pub(crate) burden: &'a [f64],
    pub(crate) payoff: &'a [f64],
    /// `None` for contributing users.
    pub(crate) reports: Option<Reports<'a>>,
}

/// Where a campaign's records go, and what identifies them.
pub(crate) struct CampaignId {
    pub(crate) rep: u32,
    pub(crate) round: u32,
    pub(crate) mechanism: u16,
    pub(crate) settlement: Settlement,
}

/// Appends one record per user of a settled campaign to `out`. `events` is its event log
/// (emission order); `trails` a reusable buffer.
pub(crate) fn push_users(
    out: &mut Vec<UserRecord>,
    id: &CampaignId,
    game: &Game,
    outcome: &Outcome,
    u: &CampaignUsers<'_>,
    events: &[Event],
    trails: &mut Vec<UserTrail>,
) {
    let n = u.true_cost.len();
    trails.resize(n, UserTrail::default());
    user_trails(events, trails);
    let success = outcome.success();
    let trained = outcome.status != Status::Null;
    out.extend((0..n).map(|i| {
        let (x, cw) = (u.burden[i], u.settled[i]);
        let decision = u.reports.as_ref().map(|r| r.decision[i]);
        let (share, final_burden) = match (id.settlement, decision) {
            (Settlement::Withdrawal, Some(d)) => (
                Some(withdrawal_share(d, success, x, cw, game)),
                Some(trained_burden(d, trained, x)),
            ),
            (Settlement::Subsidy, _) => (Some(subsidy_share(x, cw, game)), Some(x)),
            _ => (None, None),
        };
        let decided = decision.filter(|d| *d != Decision::Undecided);
        UserRecord {
            rep: id.rep,
            round: id.round,
            mechanism: id.mechanism,
            user: i as u32,
            true_cost: u.true_cost[i],
            reported_cost: u.reports.as_ref().map(|r| r.reported[i]),
            observed_cost: u.reports.as_ref().map(|r| r.observed[i]),
            drifted_cost: u.drifted[i],
            settled_cost: cw,
            cap: u.reports.as_ref().map(|r| r.cap[i]),
            assigned_burden: trails[i].assigned,
            decision: decided,
            decision_time: decided.and(trails[i].decided_at),
            decided_burden: decided.map(|_| x),
            final_burden,
            payment: share.map(|s: Share| s.paid),
            privacy_cost: share.map(|s| s.borne),
            utility: u.payoff[i],
        }
    }));
}

/// Every user of an ECS batch by `campaign·n + slot`, read from the components after a round.
#[derive(Default)]
pub(crate) struct BatchUsers {
    pub(crate) true_cost: Vec<f64>,
    pub(crate) drifted: Vec<f64>,
    pub(crate) settled: Vec<f64>,
    pub(crate) burden: Vec<f64>,
    pub(crate) payoff: Vec<f64>,
    pub(crate) reported: Vec<f64>,
    pub(crate) observed: Vec<f64>,
    pub(crate) cap: Vec<f64>,
    pub(crate) decision: Vec<Decision>,
}

impl BatchUsers {
    /// Reads the users of the first `campaigns` campaign slots of `world`.
    pub(crate) fn read(&mut self, world: &mut World, n: usize, campaigns: usize) {
        let len = n * campaigns;
        for v in [
            &mut self.true_cost,
            &mut self.drifted,
            &mut self.settled,
            &mut self.burden,
            &mut self.payoff,
            &mut self.reported,
            &mut self.observed,
            &mut self.cap,
        ] {
            v.clear();
            v.resize(len, f64::NAN);
        }
        self.decision.clear();
        self.decision.resize(len, Decision::Undecided);
        let mut users = world.query::<(
            &Member,
            (&TrueCost, &Shocks, &RealizedCost, &Burden, &Payoff),
            Option<(&ReportedCost, &ObservedCost, &Cap, &Choice)>,
        )>();
        for (member, (c, shocks, realized, burden, payoff), reports) in users.iter(world) {
            let k = member.campaign as usize * n + member.slot as usize;
            if k >= len {
                continue;
            }
            self.true_cost[k] = c.0;
            // The drift system's product (bit for bit); `async` later moves `RealizedCost`.
            self.drifted[k] = c.0 * shocks.drift;
            self.settled[k] = realized.0;
            self.burden[k] = burden.0;
            self.payoff[k] = payoff.0;
            if let Some((reported, observed, cap, choice)) = reports {
                self.reported[k] = reported.0;
                self.observed[k] = observed.0;
                self.cap[k] = cap.0;
                self.decision[k] = choice.0;
            }
        }
    }

    /// Campaign slot `c`'s users (`reporting`: whether they carry the reporting components).
    pub(crate) fn campaign(&self, c: usize, n: usize, reporting: bool) -> CampaignUsers<'_> {
        let r = c * n..(c + 1) * n;
        CampaignUsers {
            true_cost: &self.true_cost[r.clone()],
            drifted: &self.drifted[r.clone()],
            settled: &self.settled[r.clone()],
            burden: &self.burden[r.clone()],
            payoff: &self.payoff[r.clone()],
            reports: reporting.then(|| Reports {
                reported: &self.reported[r.clone()],
                observed: &self.observed[r.clone()],
                cap: &self.cap[r.clone()],
                decision: &self.decision[r],
            }),
        }
    }
}
