//! The game of `docs/model.md` as plain functions over slices: cost distributions, caps, exact
//! water-filling, the phases of mechanisms C, S and M, settlement and the statistics over
//! replications.
//!
//! Invariants: this crate knows nothing of ECS, files or threads; every function is
//! deterministic given its inputs; randomness enters only through [`draws::Draws`], filled from
//! a stream the caller derives with [`draws::campaign_rng`]; networks among users and their
//! thresholds ([`network`]) draw from streams of their own.
//!
//! Phases, one file each, in time order: [`report`] (report, observe, drift), [`assign`]
//! (caps and water-filling for S/M; the privately optimal response for C), [`withdraw`]
//! (protocols S and M), [`settle`] (train and settle). [`campaign`] composes them; [`lanes`] runs
//! several campaigns of one cell in lock step, bit for bit as these functions.

#![warn(missing_docs)]

pub mod assign;
pub mod asynchronous;
pub mod calendar;
pub mod campaign;
pub mod caps;
pub mod catalog;
pub mod cost;
pub mod deviation;
pub mod draws;
pub mod dynamics;
pub mod events;
pub mod inference;
pub mod lanes;
pub mod large;
pub mod network;
pub mod param;
pub mod params;
pub mod points;
pub mod reassign;
pub mod report;
pub mod rng;
pub mod settle;
pub mod stats;
pub mod strategy;
pub mod variates;
pub mod vcg;
pub mod waterfill;
pub mod withdraw;

pub use campaign::{Kernel, Workspace, run_campaign, run_profile, run_round};
pub use catalog::{Catalog, MechanismDecl, Stage, Stages};
pub use cost::{COST_DISTS, CostDist, CostDistSpec, CostParam, CostSampler, kappa};
pub use draws::{Draws, campaign_rng, draw_key};
pub use dynamics::{CostProcess, Dynamics, Learning, Memory};
pub use events::{Event, EventKind, EventSink, NoEvents, TrailEvents};
pub use network::{Cascade, Csr, Network, Peers, Threshold, edges_sha256, threshold_cascade};
pub use param::{NoParams, ParamSpec, ParamValues, Params, Rule};
pub use params::{
    GAME_KEYS, Game, GameKey, Order, Population, PopulationKey, StrategyShare, Written,
};
pub use settle::{Outcome, Status};
pub use strategy::{
    AmountKind, AmountRule, AmountStrategy, Choosing, Deciding, Neighbours, PeerThreshold,
    ReportRule, ReportStrategy, Rules, StrategyKind, WithdrawRule, WithdrawStrategy,
};
pub use withdraw::{Decision, ProtocolEnd};
