//! The `users` table's records (trace ≥ users): one per user per campaign, assembled from the
//! campaign's per-user columns, its outcome and its event log, the same way for the ECS and the
//! direct kernel (the per-user settlement terms are the model's `settle::withdrawal_share` and
//! `settle::subsidy_share`, the functions the settlement itself calls).

use bevy_ecs::prelude::*;
use datapact_model::Decision;
use datapact_model::Event;
use datapact_model::events::{UserTrail, user_trails};
use datapact_model::settle::Settled;

use datapact_model::{Stage, Stages};

use crate::batch::Columns;
use crate::components::{
    Burden, Cap, Choice, Member, ObservedCost, Payoff, RealizedCost, ReportedCost, TrueCost,
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
    /// On a network: her degree d_i (`None` without one).
    pub degree: Option<u32>,
    /// On a network: w_i at her last decision (`None` when she never decided).
    pub withdrawn_neighbours: Option<u32>,
    /// On a network: whether she withdrew through her ties (`None` when she never decided).
    pub through_ties: Option<bool>,
}

/// One campaign's per-user columns after settlement. A column a mechanism's stages do not
/// have is `None`, and its users' records hold nulls there.
pub(crate) struct CampaignUsers<'a> {
    pub(crate) true_cost: &'a [f64],
    pub(crate) drifted: &'a [f64],
    pub(crate) settled: &'a [f64],
    /// Each user's burden at her last decision (C: her contribution).
    pub(crate) burden: &'a [f64],
    pub(crate) payoff: &'a [f64],
    /// Reported and observed costs (`Stage::Report`).
    pub(crate) reports: Option<(&'a [f64], &'a [f64])>,
    /// Caps (`Stage::Assign`).
    pub(crate) cap: Option<&'a [f64]>,
    /// Decisions (`Stage::Withdraw`).
    pub(crate) decision: Option<&'a [Decision]>,
    /// What settlement recorded for each user (`NaN`: not recorded).
    pub(crate) settlement: &'a [Settled],
    /// On a network: what the campaign's protocol recorded of it.
    pub(crate) network: Option<CampaignPeers<'a>>,
}

/// One campaign's network as the `users` records read it.
pub(crate) struct CampaignPeers<'a> {
    /// Each user's degree.
    pub(crate) degree: &'a [u32],
    /// Each user's withdrawn neighbours at her last decision and whether she withdrew through
    /// her ties; `None` when the protocol did not play (nobody decided).
    pub(crate) seen: Option<(&'a [u32], &'a [bool])>,
}

/// Where a campaign's records go, and what identifies them.
pub(crate) struct CampaignId {
    pub(crate) rep: u32,
    pub(crate) round: u32,
    pub(crate) mechanism: u16,
}

/// Appends one record per user of a settled campaign to `out`. `events` is its event log
/// (emission order); `trails` a reusable buffer.
pub(crate) fn push_users(
    out: &mut Vec<UserRecord>,
    id: &CampaignId,
    u: &CampaignUsers<'_>,
    events: &[Event],
    trails: &mut Vec<UserTrail>,
) {
    let n = u.true_cost.len();
    trails.resize(n, UserTrail::default());
    user_trails(events, trails);
    let known = |v: f64| (!v.is_nan()).then_some(v);
    out.extend((0..n).map(|i| {
        let (x, cw) = (u.burden[i], u.settled[i]);
        let decided = u
            .decision
            .map(|d| d[i])
            .filter(|d| *d != Decision::Undecided);
        let settled = u.settlement[i];
        let seen = u.network.as_ref().and_then(|p| p.seen);
        UserRecord {
            rep: id.rep,
            round: id.round,
            mechanism: id.mechanism,
            user: i as u32,
            true_cost: u.true_cost[i],
            reported_cost: u.reports.map(|(r, _)| r[i]),
            observed_cost: u.reports.map(|(_, o)| o[i]),
            drifted_cost: u.drifted[i],
            settled_cost: cw,
            cap: u.cap.map(|c| c[i]),
            assigned_burden: trails[i].assigned,
            decision: decided,
            decision_time: decided.and(trails[i].decided_at),
            decided_burden: decided.map(|_| x),
            final_burden: known(settled.kept),
            payment: known(settled.paid),
            privacy_cost: known(settled.borne),
            utility: u.payoff[i],
            degree: u.network.as_ref().map(|p| p.degree[i]),
            withdrawn_neighbours: decided.and(seen.map(|(w, _)| w[i])),
            through_ties: decided.and(seen.map(|(_, t)| t[i])),
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
    pub(crate) settlement: Vec<Settled>,
    /// On a network, by `campaign·n + slot`: degree, withdrawn neighbours seen, through ties.
    pub(crate) degree: Vec<u32>,
    pub(crate) seen: Vec<u32>,
    pub(crate) through: Vec<bool>,
    /// Per campaign: whether its graph was drawn, and whether its protocol played on it.
    pub(crate) drawn: Vec<bool>,
    pub(crate) played: Vec<bool>,
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
        self.settlement.clear();
        self.settlement
            .extend_from_slice(&world.resource::<Columns>().settled[..len]);
        self.read_network(world, n, campaigns);
        let (columns, batch) = (
            world.resource::<Columns>(),
            world.resource::<crate::batch::Batch>(),
        );
        // Each replication's multipliers, in campaign-slot order of its mechanisms.
        let (multipliers, m) = (columns.multipliers.clone(), batch.mechanisms.len());
        let mut users = world.query::<(
            &Member,
            (&TrueCost, &RealizedCost, &Burden, &Payoff),
            Option<(&ReportedCost, &ObservedCost)>,
            Option<&Cap>,
            Option<&Choice>,
        )>();
        for (member, (c, realized, burden, payoff), reports, cap, choice) in users.iter(world) {
            let k = member.campaign as usize * n + member.slot as usize;
            if k >= len {
                continue;
            }
            self.true_cost[k] = c.0;
            // The drift system's product (bit for bit); `async` later moves `RealizedCost`.
            let shocks = multipliers[member.campaign as usize / m].shocks[member.slot as usize];
            self.drifted[k] = c.0 * shocks.drift;
            self.settled[k] = realized.0;
            self.burden[k] = burden.0;
            self.payoff[k] = payoff.0;
            if let Some((reported, observed)) = reports {
                self.reported[k] = reported.0;
                self.observed[k] = observed.0;
            }
            if let Some(cap) = cap {
                self.cap[k] = cap.0;
            }
            if let Some(choice) = choice {
                self.decision[k] = choice.0;
            }
        }
    }

    /// Reads what the batch's networks recorded (nothing without a network).
    fn read_network(&mut self, world: &World, n: usize, campaigns: usize) {
        let (batch, networks) = (
            world.resource::<crate::batch::Batch>(),
            world.resource::<crate::network::Networks>(),
        );
        self.drawn.clear();
        self.played.clear();
        for v in [&mut self.degree, &mut self.seen] {
            v.clear();
            v.resize(n * campaigns, 0);
        }
        self.through.clear();
        self.through.resize(n * campaigns, false);
        if batch.game.network.is_none() {
            return;
        }
        for c in 0..campaigns {
            let r = c * n..(c + 1) * n;
            let graph = networks.graph(batch, c);
            if let Some(g) = graph {
                for (i, d) in self.degree[r.clone()].iter_mut().enumerate() {
                    *d = g.degree(i) as u32;
                }
            }
            self.drawn.push(graph.is_some());
            let peers = networks.of(batch, c);
            if let Some(p) = peers {
                self.seen[r.clone()].copy_from_slice(&p.seen);
                self.through[r].copy_from_slice(&p.through_ties);
            }
            self.played.push(peers.is_some());
        }
    }

    /// Campaign slot `c`'s users, whose mechanism has `stages`.
    pub(crate) fn campaign(&self, c: usize, n: usize, stages: Stages) -> CampaignUsers<'_> {
        let r = c * n..(c + 1) * n;
        CampaignUsers {
            true_cost: &self.true_cost[r.clone()],
            drifted: &self.drifted[r.clone()],
            settled: &self.settled[r.clone()],
            burden: &self.burden[r.clone()],
            payoff: &self.payoff[r.clone()],
            reports: stages
                .has(Stage::Report)
                .then(|| (&self.reported[r.clone()], &self.observed[r.clone()])),
            cap: stages.has(Stage::Assign).then(|| &self.cap[r.clone()]),
            decision: stages
                .has(Stage::Withdraw)
                .then(|| &self.decision[r.clone()]),
            settlement: &self.settlement[r.clone()],
            network: self
                .drawn
                .get(c)
                .is_some_and(|&d| d)
                .then(|| CampaignPeers {
                    degree: &self.degree[r.clone()],
                    seen: self.played[c].then(|| (&self.seen[r.clone()], &self.through[r])),
                }),
        }
    }
}
