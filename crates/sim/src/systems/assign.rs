//! Assign: for every reporting mechanism the provider computes caps and water-fills Q over
//! observed costs (shared); under C each user chooses her privately optimal contribution.

use std::ops::Range;

use bevy_ecs::prelude::*;
use bytemuck::TransparentWrapper;
use datapact_model::AmountKind;
use datapact_model::EventSink;
use datapact_model::assign::{Assignment, contribute, respond_for, same_bits};
use datapact_model::lanes::assign::assign_blocks;
use datapact_model::lanes::{Isa, LaneScratch};

use super::Blocks;
use crate::batch::{Batch, CampaignTable, Columns, Scratch, Sinks};
use crate::components::{Belief, Burden, Cap, Member, ObservedCost, TrueCost};
use crate::mechanisms::Subsidy;
use crate::plugin::This;

/// Caps and water-filling over the observed costs of every reporting campaign.
///
/// Untraced, the campaigns of a table are computed in lock step, several at a time
/// ([`datapact_model::lanes::assign`], bit for bit the scalar assignment); a campaign whose
/// observed costs equal the previous campaign's bit for bit (M after S of the same replication:
/// common random numbers) copies its assignment instead, as the scalar path's memo does.
/// Traced, each campaign logs its own assignment through the scalar function.
pub fn assign_burdens<S: EventSink + Send + Sync + 'static>(
    batch: Res<Batch>,
    mut table: ResMut<CampaignTable>,
    mut scratch: ResMut<Scratch>,
    mut sinks: ResMut<Sinks<S>>,
    mut lanes: Local<AssignLanes>,
    blocks: Res<Blocks>,
    mut assigned_users: Query<(&Member, &ObservedCost, &mut Cap, &mut Burden)>,
) {
    let active = batch.campaigns();
    let scratch = &mut *scratch;
    table.assignment.clear();
    table.assignment.resize(active, None);
    for (members, observed, mut cap, mut burden) in
        assigned_users.contiguous_iter_mut().expect("dense query")
    {
        let observed = ObservedCost::peel_slice(observed);
        let (cap, burden) = (
            Cap::peel_slice_mut(cap.bypass_change_detection()),
            Burden::peel_slice_mut(burden.bypass_change_detection()),
        );
        if !S::ENABLED {
            assign_in_lanes(
                &batch,
                &mut table,
                &mut lanes,
                (members, observed, &blocks),
                cap,
                burden,
            );
            continue;
        }
        for (c, rows) in blocks.campaigns(members, &batch, None) {
            // The memo gives M the assignment S just computed from the same observed costs.
            table.assignment[c] = Some(scratch.memo.assign(
                &observed[rows.clone()],
                &batch.game,
                &mut cap[rows.clone()],
                &mut burden[rows],
                &mut scratch.protocol.fill,
                &mut sinks.0[c],
            ));
        }
    }
}

/// The assignments of one table's campaigns (its `members`' blocks), untraced: the distinct
/// ones in lanes, the repeats copied from the campaign before (one that observes the same costs
/// bit for bit: compared, or known to when the batch observes truthful reports of banked costs,
/// [`Batch::observes_in_place`], and both campaigns play one replication).
fn assign_in_lanes(
    batch: &Batch,
    table: &mut CampaignTable,
    lanes: &mut AssignLanes,
    (members, observed, blocks): (&[Member], &[f64], &Blocks),
    cap: &mut [f64],
    burden: &mut [f64],
) {
    let (n, m) = (batch.users(), batch.mechanisms.len());
    // Truthful reports of banked costs: the campaigns of one replication observe the same
    // costs by construction, so a repeat is known without comparing them.
    let same_draws = batch.observes_in_place();
    let repeats = |(p, before): &(usize, Range<usize>), c: usize, rows: &Range<usize>| {
        if same_draws {
            p / m == c / m
        } else {
            same_bits(&observed[before.clone()], &observed[rows.clone()])
        }
    };
    lanes.fresh.clear();
    lanes.repeats.clear();
    let mut previous: Option<(usize, Range<usize>)> = None;
    for (c, rows) in blocks.campaigns(members, batch, None) {
        match previous {
            Some(ref p) if repeats(p, c, &rows) => {
                lanes.repeats.push((c, rows.start, p.1.start));
            }
            _ => lanes.fresh.push((c, rows.start)),
        }
        previous = Some((c, rows));
    }
    lanes.starts.clear();
    lanes
        .starts
        .extend(lanes.fresh.iter().map(|(_, start)| *start));
    assign_blocks(
        Isa::detect(),
        observed,
        n,
        &lanes.starts,
        &batch.game,
        (cap, burden),
        &mut lanes.scratch,
        &mut lanes.assignments,
    );
    for ((c, _), a) in lanes.fresh.iter().zip(&lanes.assignments) {
        table.assignment[*c] = Some(*a);
    }
    // In table order: a repeat's source is fresh or a repeat already copied.
    for &(c, start, from) in &lanes.repeats {
        cap.copy_within(from..from + n, start);
        burden.copy_within(from..from + n, start);
        table.assignment[c] = table.assignment[members[from].campaign as usize];
    }
}

/// Buffers of [`assign_burdens`]' lock-step path, kept across batches.
#[derive(Default)]
pub struct AssignLanes {
    /// (campaign slot, first row) of the campaigns computed.
    fresh: Vec<(usize, usize)>,
    /// (campaign slot, first row, first row of the campaign it repeats) of the others.
    repeats: Vec<(usize, usize, usize)>,
    starts: Vec<usize>,
    assignments: Vec<Assignment>,
    scratch: LaneScratch,
}

/// C: each user's contribution by her contribute strategy (the privately optimal one unless
/// `[population.contribute]` says otherwise).
pub fn respond_to_subsidy<S: EventSink + Send + Sync + 'static>(
    me: Res<This<Subsidy>>,
    batch: Res<Batch>,
    columns: Res<Columns>,
    blocks: Res<Blocks>,
    mut sinks: ResMut<Sinks<S>>,
    mut subsidised_users: Query<(&Member, &TrueCost, &Belief, &mut Burden), Without<Cap>>,
) {
    let m = batch.mechanisms.len();
    let rules = batch.rules.amount(AmountKind::Contribute);
    // Untraced, with every user's rule C's optimal one: the responses in vector registers.
    let optimal = (!S::ENABLED && rules.all_optimal_contributions()).then(Isa::detect);
    for (members, cost, belief, mut burden) in
        subsidised_users.contiguous_iter_mut().expect("dense query")
    {
        let (cost, belief) = (TrueCost::peel_slice(cost), Belief::peel_slice(belief));
        let burden = Burden::peel_slice_mut(burden.bypass_change_detection());
        for (c, rows) in blocks.campaigns(members, &batch, Some(me.id)) {
            // c_i where it lies: in the bank (`Batch::costs_in_place`) or in `TrueCost`.
            let cost = if batch.costs_in_place {
                &columns.draws[c / m].cost[..]
            } else {
                &cost[rows.clone()]
            };
            if let Some(isa) = optimal {
                respond_for(
                    isa,
                    cost,
                    &belief[rows.clone()],
                    &batch.game,
                    &mut burden[rows],
                );
                continue;
            }
            contribute(
                rules,
                cost,
                &belief[rows.clone()],
                &batch.game,
                &mut burden[rows],
                &mut sinks.0[c],
            );
        }
    }
}
