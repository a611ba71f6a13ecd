//! Mechanism `async` as a core plugin: the reporting pipeline of S and M (shared report, observe,
//! assign and settle systems), then a withdraw phase that is event-driven. Its system pops each
//! sustainable campaign's [`Calendar`](datapact_model::calendar::Calendar) in time order — answers,
//! regret shocks, re-assignments, the deadline — handling each event and scheduling the ones it
//! causes (`datapact_model::asynchronous`), and tells the settle system to train at the deadline.
//! Round-based and event-driven protocols coexist in one schedule: a mechanism chooses by the
//! system it registers in `Phase::Withdraw`.
//!
//! Campaigns are independent, so one calendar buffer, cleared per campaign, serves them in slot
//! order; each campaign's regret shocks come from its own stream (seed, draw key, replication,
//! round), so results do not depend on batching or threads.

use bevy_ecs::prelude::*;
use bytemuck::TransparentWrapper;
use datapact_model::Stages;
use datapact_model::asynchronous::{
    ASSIGN_TIME, AsyncParams, AsyncScratch, asynchronous, regret_rng,
};
use datapact_model::catalog::ASYNCHRONOUS;
use datapact_model::withdraw::WithdrawState;

use crate::batch::{Batch, CampaignTable, Columns, Scratch, Sinks};
use crate::components::{
    Burden, Cap, Choice, Member, ObservedCost, RealizedCost, Remembers, WithdrawsBy,
};
use crate::phase::Phase;
use crate::plugin::{Mechanism, PhaseSystems, Sink, This};
use crate::systems::campaign_blocks_of;

/// Mechanism `async`: withdrawal in continuous time before a deadline.
pub struct Asynchronous;

impl Mechanism for Asynchronous {
    const NAME: &'static str = ASYNCHRONOUS.name;
    const DESCRIPTION: &'static str = ASYNCHRONOUS.description;
    const STAGES: Stages = ASYNCHRONOUS.stages;
    const PAYS_ONLY_ON_SUCCESS: bool = ASYNCHRONOUS.pays_only_on_success;
    type Params = AsyncParams;
    fn systems<S: Sink>(systems: &mut PhaseSystems) {
        systems.add(Phase::Withdraw, withdraw_asynchronously::<S>);
    }
}

/// Buffers kept across campaigns and batches.
#[derive(Default)]
pub struct AsyncBuffers {
    protocol: AsyncScratch,
    /// The campaign's training-time costs c^w before any regret shock.
    initial: Vec<f64>,
}

/// Plays every sustainable `async` campaign on its calendar. The users' `RealizedCost` becomes
/// the cost each bears at settlement: her cost at the deadline, or when she withdrew.
pub fn withdraw_asynchronously<S: Sink>(
    me: Res<This<Asynchronous>>,
    batch: Res<Batch>,
    columns: Res<Columns>,
    mut table: ResMut<CampaignTable>,
    mut scratch: ResMut<Scratch>,
    mut sinks: ResMut<Sinks<S>>,
    mut networks: ResMut<crate::network::Networks>,
    mut buffers: Local<AsyncBuffers>,
    mut users: Query<(
        &Member,
        &ObservedCost,
        &mut RealizedCost,
        &Cap,
        &mut Burden,
        &mut Choice,
        &WithdrawsBy,
        &Remembers,
    )>,
) {
    let (batch, table, scratch) = (&*batch, &mut *table, &mut *scratch);
    let buffers = &mut *buffers;
    let m = batch.mechanisms.len();
    for (members, observed, mut realized, cap, mut burden, mut choice, rule, memory) in
        users.contiguous_iter_mut().expect("dense query")
    {
        let (realized, burden, decision) = (
            RealizedCost::peel_slice_mut(realized.bypass_change_detection()),
            Burden::peel_slice_mut(burden.bypass_change_detection()),
            Choice::peel_slice_mut(choice.bypass_change_detection()),
        );
        for (c, rows) in campaign_blocks_of(members, batch, me.id) {
            if !table.assignment[c].is_some_and(|a| a.sustainable) {
                continue;
            }
            scratch.absorbed.clear();
            scratch.absorbed.extend(
                memory[rows.clone()]
                    .iter()
                    .map(|m| m.0.withdrawals_absorbed()),
            );
            buffers.initial.clear();
            buffers.initial.extend_from_slice(&realized[rows.clone()]);
            let state = WithdrawState {
                observed: ObservedCost::peel_slice(&observed[rows.clone()]),
                realized: &buffers.initial,
                cap: Cap::peel_slice(&cap[rows.clone()]),
                burden: &mut burden[rows.clone()],
                decision: &mut decision[rows.clone()],
                rule: WithdrawsBy::peel_slice(&rule[rows.clone()]),
                rules: batch.rules.withdraw(),
                absorbed: &scratch.absorbed,
                peers: networks.campaign(batch, c),
            };
            let rep = batch.first_rep + (c / m) as u64;
            let mut rng = regret_rng(batch.seed, batch.draw_key, rep, batch.round);
            table.end[c] = asynchronous(
                state,
                &mut realized[rows],
                &me.params,
                &columns.draws[c / m].order_key,
                &batch.game,
                &mut rng,
                &mut scratch.protocol,
                &mut buffers.protocol,
                &mut sinks.0[c],
            );
            table.train_at[c] = Some(ASSIGN_TIME + me.params.deadline);
        }
    }
}
