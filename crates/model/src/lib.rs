//! The game of MODEL.md as plain functions over slices.
pub mod cost;
pub mod draws;
pub mod params;
pub use cost::{CostDist, CostSampler, kappa};
pub use params::{Game, Mechanism, Order, ReportStrategy, WithdrawRule};
