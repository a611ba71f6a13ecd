//! Train and settle: success iff the committed data reaches Q; payments, borne privacy costs and
//! each user's payoff; the campaign's outcome. Every mechanism with the settle stage is settled by
//! the shared [`settle_withdrawal`] (with its per-user terms); C by [`settle_contributions`].

use bevy_ecs::prelude::*;
use bytemuck::TransparentWrapper;
use datapact_model::lanes::settle::{ToSettle, settle_blocks, settle_subsidy_blocks};
use datapact_model::lanes::{Isa, LaneScratch};
use datapact_model::settle::{self, Settled};
use datapact_model::{Outcome, ProtocolEnd, Stage};

use super::Blocks;
use crate::batch::{Batch, CampaignTable, Columns, Sinks};
use crate::components::{Burden, Choice, Member, Payoff, RealizedCost};
use crate::mechanisms::Subsidy;
use crate::plugin::{SettleTerms, Sink, This};

/// Settles the campaigns of every mechanism with the settle stage by how its withdraw phase
/// ended, with the mechanism's per-user terms ([`SettleTerms`]; the paper's when it has none).
/// Starts the round's settlement: every campaign unsettled, every user's record unknown.
pub fn settle_withdrawal<S: Sink>(
    batch: Res<Batch>,
    terms: Res<SettleTerms>,
    mut columns: ResMut<Columns>,
    mut table: ResMut<CampaignTable>,
    mut sinks: ResMut<Sinks<S>>,
    mut lanes: Local<SettleLanes>,
    blocks: Res<Blocks>,
    mut withdrawing_users: Query<(&Member, &RealizedCost, &Burden, &Choice, &mut Payoff)>,
) {
    let (n, active) = (batch.users(), batch.campaigns());
    let (columns, table) = (&mut *columns, &mut *table);
    table.outcome.clear();
    table.outcome.resize(active, None);
    if S::ENABLED {
        columns.settled[..active * n].fill(Settled::UNKNOWN);
    }
    for (members, realized, burden, choice, mut payoff) in withdrawing_users
        .contiguous_iter_mut()
        .expect("dense query")
    {
        let (realized, burden) = (
            RealizedCost::peel_slice(realized),
            Burden::peel_slice(burden),
        );
        let (decision, payoff) = (
            Choice::peel_slice(choice),
            Payoff::peel_slice_mut(payoff.bypass_change_detection()),
        );
        // Untraced campaigns under the paper's terms: settled in lock step, below.
        lanes.campaigns.clear();
        lanes.slots.clear();
        for (c, rows) in blocks.campaigns(members, &batch, None) {
            if !batch.stages(c).has(Stage::Settle) {
                continue;
            }
            let backstoppers = table.assignment[c].map_or(0, |a| a.backstoppers);
            if !S::ENABLED && terms.of(batch.mechanism(c)).is_none() {
                lanes.campaigns.push(ToSettle {
                    start: rows.start,
                    end: table.end[c],
                    backstoppers,
                });
                lanes.slots.push(c);
                continue;
            }
            let train_time =
                table.train_at[c].unwrap_or_else(|| settle::train_step(n, &batch.game));
            let record = &mut columns.settled[c * n..(c + 1) * n];
            let (realized_c, burden_c, decision_c) = (
                &realized[rows.clone()],
                &burden[rows.clone()],
                &decision[rows.clone()],
            );
            let outcome = match terms.of(batch.mechanism(c)) {
                None => {
                    let o = settle::settle_withdrawal_at(
                        table.end[c],
                        train_time,
                        realized_c,
                        burden_c,
                        decision_c,
                        &batch.game,
                        backstoppers,
                        &mut payoff[rows.clone()],
                        &mut sinks.0[c],
                    );
                    if S::ENABLED {
                        Settled::withdrawals(
                            &o,
                            decision_c,
                            burden_c,
                            realized_c,
                            &batch.game,
                            record,
                        );
                    }
                    o
                }
                Some(terms) => settle::settle_withdrawal_with(
                    table.end[c],
                    train_time,
                    realized_c,
                    burden_c,
                    decision_c,
                    &batch.game,
                    backstoppers,
                    terms,
                    &mut payoff[rows.clone()],
                    if S::ENABLED { record } else { &mut [] },
                    &mut sinks.0[c],
                ),
            };
            table.outcome[c] = Some(outcome);
            // Kept by campaign slot for the statistics (per-user welfare of C and M).
            columns.payoff[c * n..(c + 1) * n].copy_from_slice(&payoff[rows]);
        }
        let lanes = &mut *lanes;
        settle_blocks(
            Isa::detect(),
            (realized, burden, decision),
            n,
            &lanes.campaigns,
            &batch.game,
            payoff,
            &mut lanes.scratch,
            &mut lanes.outcomes,
        );
        for ((&c, campaign), outcome) in lanes
            .slots
            .iter()
            .zip(&lanes.campaigns)
            .zip(&lanes.outcomes)
        {
            table.outcome[c] = Some(*outcome);
            let rows = campaign.start..campaign.start + n;
            columns.payoff[c * n..(c + 1) * n].copy_from_slice(&payoff[rows]);
        }
    }
}

/// Buffers of [`settle_withdrawal`]'s lock-step path
/// ([`datapact_model::lanes::settle`], bit for bit the scalar settlement), kept across batches.
#[derive(Default)]
pub struct SettleLanes {
    campaigns: Vec<ToSettle>,
    slots: Vec<usize>,
    outcomes: Vec<Outcome>,
    scratch: LaneScratch,
}

/// C: success iff Σ x ≥ Q; payments and privacy costs whatever happens. Untraced, C's
/// campaigns are settled in lock step ([`datapact_model::lanes::settle::settle_subsidy_blocks`],
/// bit for bit the scalar settlement), and in a world that reads costs in place
/// ([`Batch::costs_in_place`]) each campaign's end is recorded here, as the data it trained on
/// ([`crate::systems::withdraw::commit_contributions`] leaves it).
#[allow(clippy::too_many_arguments)]
pub fn settle_contributions<S: Sink>(
    me: Res<This<Subsidy>>,
    batch: Res<Batch>,
    mut columns: ResMut<Columns>,
    mut table: ResMut<CampaignTable>,
    mut sinks: ResMut<Sinks<S>>,
    mut lanes: Local<SubsidyLanes>,
    blocks: Res<Blocks>,
    mut subsidised_users: Query<(&Member, &RealizedCost, &Burden, &mut Payoff), Without<Choice>>,
) {
    let n = batch.users();
    let (columns, table) = (&mut *columns, &mut *table);
    for (members, realized, burden, mut payoff) in
        subsidised_users.contiguous_iter_mut().expect("dense query")
    {
        let (realized, burden) = (
            RealizedCost::peel_slice(realized),
            Burden::peel_slice(burden),
        );
        let payoff = Payoff::peel_slice_mut(payoff.bypass_change_detection());
        if !S::ENABLED {
            let lanes = &mut *lanes;
            lanes.slots.clear();
            lanes.starts.clear();
            for (c, rows) in blocks.campaigns(members, &batch, Some(me.id)) {
                lanes.slots.push(c);
                lanes.starts.push(rows.start);
            }
            settle_subsidy_blocks(
                Isa::detect(),
                (realized, burden),
                n,
                &lanes.starts,
                &batch.game,
                payoff,
                &mut lanes.scratch,
                &mut lanes.outcomes,
            );
            for ((&c, &start), outcome) in
                lanes.slots.iter().zip(&lanes.starts).zip(&lanes.outcomes)
            {
                table.outcome[c] = Some(*outcome);
                columns.payoff[c * n..(c + 1) * n].copy_from_slice(&payoff[start..start + n]);
                if batch.costs_in_place {
                    // C's end, left to its settlement (see `commit_contributions`): Σ x in
                    // user order, the sum its commitment takes.
                    table.end[c] = ProtocolEnd::Trained {
                        committed: outcome.data,
                    };
                }
            }
            continue;
        }
        for (c, rows) in blocks.campaigns(members, &batch, Some(me.id)) {
            table.outcome[c] = Some(settle::settle_subsidy(
                &realized[rows.clone()],
                &burden[rows.clone()],
                &batch.game,
                &mut payoff[rows.clone()],
                &mut sinks.0[c],
            ));
            for (k, i) in rows.clone().enumerate() {
                columns.settled[c * n + k] = Settled::subsidy(burden[i], realized[i], &batch.game);
            }
            columns.payoff[c * n..(c + 1) * n].copy_from_slice(&payoff[rows]);
        }
    }
}

/// Buffers of [`settle_contributions`]' lock-step path, kept across batches.
#[derive(Default)]
pub struct SubsidyLanes {
    slots: Vec<usize>,
    starts: Vec<usize>,
    outcomes: Vec<Outcome>,
    scratch: LaneScratch,
}
