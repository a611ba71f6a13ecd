//! Withdraw (costs drifted to their training-time value when nature drew them, in
//! [`super::draw::draw_nature`]): every campaign opens cancelled
//! with its users undecided (shared); then each mechanism's protocol plays its sustainable
//! campaigns: S all at once, M one by one with re-assignment, C commits what its users chose.
//! A plugin's protocol is a system like [`withdraw_sequentially`], built on [`WithdrawPhase`].

use bevy_ecs::prelude::*;
use bevy_ecs::system::SystemParam;
use bytemuck::TransparentWrapper;
use datapact_model::lanes::order::order_blocks;
use datapact_model::lanes::withdraw::{decide_at_once_blocks, sequential_blocks};
use datapact_model::lanes::{Isa, LaneScratch};
use datapact_model::withdraw::{
    ProtocolScratch, WithdrawState, order_key_of, sequential_in_order, simultaneous,
};
use datapact_model::{Decision, Game, Order, ProtocolEnd};

use super::Blocks;
use crate::batch::{Batch, CampaignTable, Columns, Scratch, Sinks};
use crate::components::{
    Burden, Cap, Choice, Member, ObservedCost, RealizedCost, Remembers, TrueCost, WithdrawsBy,
};
use crate::mechanisms::{Sequential, Simultaneous, Subsidy};
use crate::plugin::{Sink, This};

/// Every campaign's withdraw phase starts cancelled (a protocol overwrites the end of the
/// campaigns it plays) and every reporting user undecided.
pub fn open_withdrawal(
    batch: Res<Batch>,
    mut table: ResMut<CampaignTable>,
    mut networks: ResMut<crate::network::Networks>,
    blocks: Res<Blocks>,
    mut users: Query<(&Member, &mut Choice)>,
) {
    networks.open(&batch);
    table.end.clear();
    table.end.resize(batch.campaigns(), ProtocolEnd::Cancelled);
    table.train_at.clear();
    table.train_at.resize(batch.campaigns(), None);
    for (members, mut choice) in users.contiguous_iter_mut().expect("dense query") {
        let decision = Choice::peel_slice_mut(choice.bypass_change_detection());
        for (_, rows) in blocks.campaigns(members, &batch, None) {
            decision[rows].fill(Decision::Undecided);
        }
    }
}

/// What a withdraw protocol gets for one sustainable campaign.
pub struct Protocol<'a, S> {
    /// The campaign's slot in the batch.
    pub campaign: usize,
    /// Its users' columns (observed, realized cost, caps, burdens, decisions, strategies, memory).
    pub state: WithdrawState<'a>,
    /// The cell's game.
    pub game: &'a Game,
    /// The replication's random-order keys (for `Order::Random`).
    pub order_key: &'a [f64],
    /// Water-filling buffers.
    pub scratch: &'a mut ProtocolScratch,
    /// The campaign's event log.
    pub sink: &'a mut S,
}

/// The withdraw phase as a protocol system sees it: the batch, the campaign table and the users
/// who decide (`Stage::Withdraw`). [`WithdrawPhase::play`] runs a protocol function on each
/// campaign of one mechanism that is to be played (every campaign, or with `Stage::Assign` the
/// sustainable ones), on slices of its users' components, without copies.
#[derive(SystemParam)]
pub struct WithdrawPhase<'w, 's, S: Sink> {
    batch: Res<'w, Batch>,
    columns: Res<'w, Columns>,
    table: ResMut<'w, CampaignTable>,
    scratch: ResMut<'w, Scratch>,
    sinks: ResMut<'w, Sinks<S>>,
    networks: ResMut<'w, crate::network::Networks>,
    blocks: Res<'w, Blocks>,
    users: Query<
        'w,
        's,
        (
            &'static Member,
            &'static TrueCost,
            Option<&'static ObservedCost>,
            &'static RealizedCost,
            Option<&'static Cap>,
            &'static mut Burden,
            &'static mut Choice,
            &'static WithdrawsBy,
            &'static Remembers,
        ),
    >,
}

impl<S: Sink> WithdrawPhase<'_, '_, S> {
    /// The batch being played.
    pub fn batch(&self) -> &Batch {
        &self.batch
    }

    /// Plays `protocol` on the campaigns of mechanism `mechanism` (its catalog id) and records
    /// how each ended. With `Stage::Assign`, unsustainable campaigns stay cancelled. Without it
    /// (a mechanism whose users chose their own burdens), every campaign is played, each user's
    /// burden is her cap and the provider sees her true cost (what a re-assigning protocol
    /// would water-fill on).
    pub fn play(&mut self, mechanism: u16, protocol: impl FnMut(Protocol<'_, S>) -> ProtocolEnd) {
        self.play_where(mechanism, |_| false, protocol);
    }

    /// [`WithdrawPhase::play`] except on the campaign slots for which `done` holds (played
    /// already, their ends recorded).
    pub fn play_where(
        &mut self,
        mechanism: u16,
        done: impl Fn(usize) -> bool,
        mut protocol: impl FnMut(Protocol<'_, S>) -> ProtocolEnd,
    ) {
        let batch = &*self.batch;
        let (columns, table) = (&*self.columns, &mut *self.table);
        let (scratch, sinks) = (&mut *self.scratch, &mut *self.sinks);
        let networks = &mut *self.networks;
        let blocks = &*self.blocks;
        for (members, true_cost, observed, realized, cap, mut burden, mut choice, rule, memory) in
            self.users.contiguous_iter_mut().expect("dense query")
        {
            let (burden, decision) = (
                Burden::peel_slice_mut(burden.bypass_change_detection()),
                Choice::peel_slice_mut(choice.bypass_change_detection()),
            );
            let observed =
                observed.map_or(TrueCost::peel_slice(true_cost), ObservedCost::peel_slice);
            for (c, rows) in blocks.campaigns(members, batch, Some(mechanism)) {
                if table.assignment[c].is_some_and(|a| !a.sustainable) || done(c) {
                    continue;
                }
                scratch.absorbed.clear();
                scratch.absorbed.extend(
                    memory[rows.clone()]
                        .iter()
                        .map(|m| m.0.withdrawals_absorbed()),
                );
                let cap = match cap {
                    Some(cap) => Cap::peel_slice(&cap[rows.clone()]),
                    None => {
                        scratch.own_cap.clear();
                        scratch.own_cap.extend_from_slice(&burden[rows.clone()]);
                        &scratch.own_cap
                    }
                };
                let state = WithdrawState {
                    observed: &observed[rows.clone()],
                    realized: RealizedCost::peel_slice(&realized[rows.clone()]),
                    cap,
                    burden: &mut burden[rows.clone()],
                    decision: &mut decision[rows.clone()],
                    rule: WithdrawsBy::peel_slice(&rule[rows]),
                    rules: batch.rules.withdraw(),
                    absorbed: &scratch.absorbed,
                    peers: networks.campaign(batch, c),
                };
                table.end[c] = protocol(Protocol {
                    campaign: c,
                    state,
                    game: &batch.game,
                    order_key: &columns.draws[c / batch.mechanisms.len()].order_key,
                    scratch: &mut scratch.protocol,
                    sink: &mut sinks.0[c],
                });
            }
        }
    }
}

impl<S: Sink> WithdrawPhase<'_, '_, S> {
    /// The decision order ([`datapact_model::withdraw::decision_order`] of the game's order) of
    /// every campaign of `mechanism` that [`WithdrawPhase::play`] will play, computed in lock
    /// step into `lanes.by_slot`.
    pub fn decision_orders(&mut self, mechanism: u16, lanes: &mut OrderLanes) {
        let batch = &*self.batch;
        let (columns, table) = (&*self.columns, &*self.table);
        let blocks = &*self.blocks;
        let n = batch.users();
        let order = batch.game.order;
        lanes.by_slot.resize(batch.campaigns() * n, 0);
        for (members, true_cost, observed, _, _, burden, ..) in
            self.users.contiguous_iter_mut().expect("dense query")
        {
            let burden = Burden::peel_slice(&burden);
            let observed =
                observed.map_or(TrueCost::peel_slice(true_cost), ObservedCost::peel_slice);
            let mut keys: Vec<&[f64]> = Vec::new();
            lanes.slots.clear();
            for (c, rows) in blocks.campaigns(members, batch, Some(mechanism)) {
                if table.assignment[c].is_some_and(|a| !a.sustainable) {
                    continue;
                }
                keys.push(order_key_of(
                    order,
                    &burden[rows.clone()],
                    &observed[rows],
                    &columns.draws[c / batch.mechanisms.len()].order_key,
                ));
                lanes.slots.push(c);
            }
            order_blocks(
                Isa::detect(),
                &keys,
                n,
                order == Order::LargeFirst,
                &mut lanes.orders,
                &mut lanes.scratch,
            );
            for (k, &c) in lanes.slots.iter().enumerate() {
                lanes.by_slot[c * n..(c + 1) * n]
                    .copy_from_slice(&lanes.orders[k * n..(k + 1) * n]);
            }
        }
    }

    /// Whether a mechanism's protocol can be played in lock step this batch: untraced, every
    /// user sincere, off a network, campaigns too small for M's incremental re-assignment.
    pub fn in_lock_step(&self) -> bool {
        let batch = &*self.batch;
        !S::ENABLED
            && batch.rules.withdraw().all_sincere()
            && batch.game.network.is_none()
            && !self
                .scratch
                .protocol
                .reassign
                .incremental_for(batch.users())
    }

    /// Plays the campaigns of `mechanism` that [`WithdrawPhase::play`] would play with a
    /// lock-step `kernel` (sincere users off a network: see [`WithdrawPhase::in_lock_step`]).
    /// The kernel gets a table's realized costs, burdens and decisions and `lanes.starts`/
    /// `lanes.slots` (first row and slot of each campaign), and leaves in `lanes.ends` each
    /// campaign's end, or `None` for one the scalar protocol is to play (`lanes.done` says
    /// which are played).
    fn play_in_lock_step(
        &mut self,
        mechanism: u16,
        lanes: &mut DecideLanes,
        mut kernel: impl FnMut(&Batch, (&[f64], &[f64]), &mut [Decision], &mut DecideLanes),
    ) {
        let batch = &*self.batch;
        let table = &mut *self.table;
        let blocks = &*self.blocks;
        lanes.done.clear();
        lanes.done.resize(batch.campaigns(), false);
        for (members, _, _, realized, _, burden, mut choice, ..) in
            self.users.contiguous_iter_mut().expect("dense query")
        {
            let (realized, burden) = (
                RealizedCost::peel_slice(realized),
                Burden::peel_slice(&burden),
            );
            let decision = Choice::peel_slice_mut(choice.bypass_change_detection());
            lanes.slots.clear();
            lanes.starts.clear();
            for (c, rows) in blocks.campaigns(members, batch, Some(mechanism)) {
                if table.assignment[c].is_some_and(|a| !a.sustainable) {
                    continue;
                }
                lanes.slots.push(c);
                lanes.starts.push(rows.start);
            }
            kernel(batch, (realized, burden), decision, lanes);
            for (&c, end) in lanes.slots.iter().zip(&lanes.ends) {
                if let Some(end) = end {
                    table.end[c] = *end;
                    lanes.done[c] = true;
                }
            }
        }
    }
}

/// Buffers of the lock-step protocols, kept across batches.
#[derive(Default)]
pub struct DecideLanes {
    /// Per campaign slot: played in lock step.
    done: Vec<bool>,
    /// One table's campaigns: slots, first rows, orders (M) and ends.
    slots: Vec<usize>,
    starts: Vec<usize>,
    orders: Vec<u32>,
    committed: Vec<f64>,
    ends: Vec<Option<ProtocolEnd>>,
    scratch: LaneScratch,
}

/// S: everyone decides at once (then recovery rounds). Sincere users off a network, untraced,
/// decide in lock step across the batch's campaigns; a campaign short of Q with recovery rounds
/// to play is played by the scalar protocol.
pub fn withdraw_simultaneously<S: Sink>(
    me: Res<This<Simultaneous>>,
    mut phase: WithdrawPhase<S>,
    mut lanes: Local<DecideLanes>,
) {
    if !phase.in_lock_step() {
        phase.play(me.id, |p| simultaneous(p.state, p.game, p.scratch, p.sink));
        return;
    }
    let lanes = &mut *lanes;
    phase.play_in_lock_step(me.id, lanes, |batch, columns, decision, lanes| {
        let (n, game) = (batch.users(), &batch.game);
        decide_at_once_blocks(
            Isa::detect(),
            columns,
            n,
            &lanes.starts,
            game,
            decision,
            &mut lanes.scratch,
            &mut lanes.committed,
        );
        lanes.ends.clear();
        lanes.ends.extend(lanes.committed.iter().map(|&committed| {
            // `simultaneous` goes on to recovery rounds exactly then.
            let recovers = committed < game.need() - game.tolerance() && game.recovery_rounds > 0;
            (!recovers).then_some(ProtocolEnd::Trained { committed })
        }));
    });
    phase.play_where(
        me.id,
        |c| lanes.done[c],
        |p| simultaneous(p.state, p.game, p.scratch, p.sink),
    );
}

/// M: one by one in the announced order, re-assigning after each withdrawal. The decision
/// orders of all its campaigns are computed first, in lock step ([`datapact_model::lanes::order`],
/// the scalar order exactly, ties included).
pub fn withdraw_sequentially<S: Sink>(
    me: Res<This<Sequential>>,
    mut phase: WithdrawPhase<S>,
    mut orders: Local<OrderLanes>,
    mut lanes: Local<DecideLanes>,
) {
    let (orders, lanes) = (&mut *orders, &mut *lanes);
    phase.decision_orders(me.id, orders);
    let n = phase.batch().users();
    if phase.in_lock_step() {
        // Campaigns in which nobody withdraws before the last decision need no re-assignment:
        // played in lock step; the others by the scalar protocol.
        phase.play_in_lock_step(me.id, lanes, |batch, columns, decision, lanes| {
            lanes.orders.clear();
            for &c in &lanes.slots {
                lanes
                    .orders
                    .extend_from_slice(&orders.by_slot[c * n..(c + 1) * n]);
            }
            sequential_blocks(
                Isa::detect(),
                columns,
                n,
                &lanes.starts,
                &lanes.orders,
                &batch.game,
                decision,
                &mut lanes.scratch,
                &mut lanes.ends,
            );
        });
    } else {
        lanes.done.clear();
        lanes.done.resize(phase.batch().campaigns(), false);
    }
    phase.play_where(
        me.id,
        |c| lanes.done[c],
        |p| {
            let order = &orders.by_slot[p.campaign * n..(p.campaign + 1) * n];
            sequential_in_order(p.state, order, p.game, p.scratch, p.sink)
        },
    );
}

/// The decision orders of a batch's campaigns of one mechanism, by campaign slot, and the
/// lock-step kernel's buffers; kept across batches.
#[derive(Default)]
pub struct OrderLanes {
    /// Campaign slot c's order at `c·n..(c + 1)·n`.
    by_slot: Vec<u32>,
    /// One table's orders, in the order of its campaigns.
    orders: Vec<u32>,
    slots: Vec<usize>,
    scratch: LaneScratch,
}

/// C: training runs on whatever its users chose to contribute.
pub fn commit_contributions(
    me: Res<This<Subsidy>>,
    batch: Res<Batch>,
    mut table: ResMut<CampaignTable>,
    blocks: Res<Blocks>,
    subsidised_users: Query<(&Member, &Burden), Without<Cap>>,
) {
    for (members, burden) in subsidised_users.contiguous_iter().expect("dense query") {
        for (c, rows) in blocks.campaigns(members, &batch, Some(me.id)) {
            let committed = Burden::peel_slice(&burden[rows]).iter().sum::<f64>();
            table.end[c] = ProtocolEnd::Trained { committed };
        }
    }
}
