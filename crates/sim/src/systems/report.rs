//! Report and observe (shared by every reporting mechanism): users report ĉ by their strategy;
//! the provider observes c̃ (one system, one pass over each campaign's users).

use bevy_ecs::prelude::*;
use bytemuck::TransparentWrapper;
use datapact_model::EventSink;
use datapact_model::report::report;

use super::campaign_blocks;
use crate::batch::{Batch, Columns, Sinks};
use crate::components::{Member, ObservedCost, ReportedCost, ReportsWith, TrueCost};

/// Each user reports ĉ_i by her report strategy (every reporting mechanism), and the provider
/// observes c̃_i = ĉ_i·exp(σ_o·η_i − σ_o²/2), in the same pass over the campaign's users (the
/// multiplier read in place, from the replication's `Columns::multipliers`).
#[allow(clippy::type_complexity)]
pub fn report_costs<S: EventSink + Send + Sync + 'static>(
    batch: Res<Batch>,
    columns: Res<Columns>,
    mut sinks: ResMut<Sinks<S>>,
    mut users: Query<(
        &Member,
        &TrueCost,
        &ReportsWith,
        &mut ReportedCost,
        &mut ObservedCost,
    )>,
) {
    let (n, m) = (batch.users(), batch.mechanisms.len());
    for (members, cost, strategy, mut reported, mut observed) in
        users.contiguous_iter_mut().expect("dense query")
    {
        let (cost, strategy) = (
            TrueCost::peel_slice(cost),
            ReportsWith::peel_slice(strategy),
        );
        let reported = ReportedCost::peel_slice_mut(reported.bypass_change_detection());
        let observed = ObservedCost::peel_slice_mut(observed.bypass_change_detection());
        for (c, rows) in campaign_blocks(members, n, batch.campaigns()) {
            report(
                &cost[rows.clone()],
                &strategy[rows.clone()],
                &batch.rules.report,
                &mut reported[rows.clone()],
                &mut sinks.0[c],
            );
            for ((o, r), s) in observed[rows.clone()]
                .iter_mut()
                .zip(&reported[rows])
                .zip(&columns.multipliers[c / m].shocks)
            {
                // = report::observed_cost(ĉ, η, σ_o): the multiplier is precomputed.
                *o = r * s.observation;
            }
        }
    }
}
