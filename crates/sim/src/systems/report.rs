//! Report and observe (shared by every reporting mechanism): users report ĉ by their strategy;
//! the provider observes c̃ (one system, one pass over each campaign's users).

use bevy_ecs::prelude::*;
use bytemuck::TransparentWrapper;
use datapact_model::EventSink;
use datapact_model::report::report;

use super::Blocks;
use crate::batch::{Batch, Columns, Sinks};
use crate::components::{Member, ObservedCost, ReportedCost, ReportsWith, TrueCost};

/// Each user reports ĉ_i by her report strategy (every reporting mechanism), and the provider
/// observes c̃_i = ĉ_i·exp(σ_o·η_i − σ_o²/2), in the same pass over the campaign's users (the
/// multiplier read in place, from the replication's `Columns::multipliers`). When the costs are
/// read in the bank ([`Batch::costs_in_place`]) and every report is truthful, each user's
/// observed cost is her replication's c_i·observation_i, computed once with its multipliers
/// (`Multipliers::observed`), and `ReportedCost` is not written (nothing reads it then).
#[allow(clippy::type_complexity)]
pub fn report_costs<S: EventSink + Send + Sync + 'static>(
    batch: Res<Batch>,
    columns: Res<Columns>,
    blocks: Res<Blocks>,
    mut sinks: ResMut<Sinks<S>>,
    mut users: Query<(
        &Member,
        &TrueCost,
        &ReportsWith,
        &mut ReportedCost,
        &mut ObservedCost,
    )>,
) {
    let m = batch.mechanisms.len();
    let truthful = batch.observes_in_place();
    for (members, cost, strategy, mut reported, mut observed) in
        users.contiguous_iter_mut().expect("dense query")
    {
        let (cost, strategy) = (
            TrueCost::peel_slice(cost),
            ReportsWith::peel_slice(strategy),
        );
        let reported = ReportedCost::peel_slice_mut(reported.bypass_change_detection());
        let observed = ObservedCost::peel_slice_mut(observed.bypass_change_detection());
        for (c, rows) in blocks.campaigns(members, &batch, None) {
            let multiplied = &columns.multipliers[c / m];
            if truthful {
                // Truthful reports of banked costs: the replication's observed costs, computed
                // once with its multipliers (`Multipliers::observed`).
                observed[rows].copy_from_slice(&multiplied.observed);
                continue;
            }
            // c_i where it lies: in the bank (`Batch::costs_in_place`) or in `TrueCost`.
            let cost = if batch.costs_in_place {
                &columns.draws[c / m].cost[..]
            } else {
                &cost[rows.clone()]
            };
            report(
                cost,
                &strategy[rows.clone()],
                &batch.rules.report,
                &mut reported[rows.clone()],
                &mut sinks.0[c],
            );
            for ((o, r), s) in observed[rows.clone()]
                .iter_mut()
                .zip(&reported[rows])
                .zip(&multiplied.shocks)
            {
                // = report::observed_cost(ĉ, η, σ_o): the multiplier is precomputed.
                *o = r * s.observation;
            }
        }
    }
}
