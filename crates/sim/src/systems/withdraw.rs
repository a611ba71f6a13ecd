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

/// The [`ProtocolColumns`] of one table from its [`WithdrawPhase`] query item (the provider sees
/// the true costs of a mechanism without the report stage).
macro_rules! protocol_columns {
    ($true_cost:ident, $observed:ident, $realized:ident, $cap:ident, $burden:ident, $choice:ident, $rule:ident, $memory:ident) => {
        ProtocolColumns {
            observed: $observed.map_or(TrueCost::peel_slice($true_cost), ObservedCost::peel_slice),
            realized: RealizedCost::peel_slice($realized),
            cap: $cap,
            burden: Burden::peel_slice_mut($burden.bypass_change_detection()),
            decision: Choice::peel_slice_mut($choice.bypass_change_detection()),
            rule: $rule,
            memory: $memory,
        }
    };
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
        let mut ctx = (&mut *self.scratch, &mut *self.sinks, &mut *self.networks);
        let blocks = &*self.blocks;
        for (members, true_cost, observed, realized, cap, mut burden, mut choice, rule, memory) in
            self.users.contiguous_iter_mut().expect("dense query")
        {
            let mut cols = protocol_columns!(
                true_cost, observed, realized, cap, burden, choice, rule, memory
            );
            for (c, rows) in blocks.campaigns(members, batch, Some(mechanism)) {
                if table.assignment[c].is_some_and(|a| !a.sustainable) || done(c) {
                    continue;
                }
                table.end[c] = play_campaign(
                    (batch, columns),
                    &mut ctx,
                    &mut cols,
                    c,
                    rows,
                    &mut protocol,
                );
            }
        }
    }
}

/// One table's columns, as a withdraw protocol reads them.
struct ProtocolColumns<'a> {
    observed: &'a [f64],
    realized: &'a [f64],
    cap: Option<&'a [Cap]>,
    burden: &'a mut [f64],
    decision: &'a mut [Decision],
    rule: &'a [WithdrawsBy],
    memory: &'a [Remembers],
}

/// Plays `protocol` on campaign slot `c`, rows `rows` of `cols`' table, and returns how it ended.
fn play_campaign<S: Sink>(
    (batch, columns): (&Batch, &Columns),
    (scratch, sinks, networks): &mut (&mut Scratch, &mut Sinks<S>, &mut crate::network::Networks),
    cols: &mut ProtocolColumns<'_>,
    c: usize,
    rows: std::ops::Range<usize>,
    protocol: impl FnOnce(Protocol<'_, S>) -> ProtocolEnd,
) -> ProtocolEnd {
    scratch.absorbed.clear();
    scratch.absorbed.extend(
        cols.memory[rows.clone()]
            .iter()
            .map(|m| m.0.withdrawals_absorbed()),
    );
    let cap = match cols.cap {
        Some(cap) => Cap::peel_slice(&cap[rows.clone()]),
        None => {
            scratch.own_cap.clear();
            scratch
                .own_cap
                .extend_from_slice(&cols.burden[rows.clone()]);
            &scratch.own_cap
        }
    };
    let state = WithdrawState {
        observed: &cols.observed[rows.clone()],
        realized: &cols.realized[rows.clone()],
        cap,
        burden: &mut cols.burden[rows.clone()],
        decision: &mut cols.decision[rows.clone()],
        rule: WithdrawsBy::peel_slice(&cols.rule[rows]),
        rules: batch.rules.withdraw(),
        absorbed: &scratch.absorbed,
        peers: networks.campaign(batch, c),
    };
    protocol(Protocol {
        campaign: c,
        state,
        game: &batch.game,
        order_key: &columns.draws[c / batch.mechanisms.len()].order_key,
        scratch: &mut scratch.protocol,
        sink: &mut sinks.0[c],
    })
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

    /// Plays the campaigns of `mechanism` that [`WithdrawPhase::play`] would play, in one pass
    /// over each table: a lock-step `kernel` (sincere users off a network: see
    /// [`WithdrawPhase::in_lock_step`]) gets the table's columns and its campaigns in
    /// `lanes.slots`/`lanes.starts` (slot and first row of each), and leaves in `lanes.ends`
    /// each one's end, or `None` for one that the scalar `protocol` is then to play (told the
    /// campaign's position among them, to find what the kernel left for it in `lanes`).
    fn play_in_lock_step(
        &mut self,
        mechanism: u16,
        lanes: &mut DecideLanes,
        mut kernel: impl FnMut(&Batch, &Columns, TableColumns<'_>, &mut [Decision], &mut DecideLanes),
        mut protocol: impl FnMut(Protocol<'_, S>, &DecideLanes, usize) -> ProtocolEnd,
    ) {
        let batch = &*self.batch;
        let (columns, table) = (&*self.columns, &mut *self.table);
        let mut ctx = (&mut *self.scratch, &mut *self.sinks, &mut *self.networks);
        let blocks = &*self.blocks;
        for (members, true_cost, observed, realized, cap, mut burden, mut choice, rule, memory) in
            self.users.contiguous_iter_mut().expect("dense query")
        {
            let mut cols = protocol_columns!(
                true_cost, observed, realized, cap, burden, choice, rule, memory
            );
            lanes.slots.clear();
            lanes.starts.clear();
            for (c, rows) in blocks.campaigns(members, batch, Some(mechanism)) {
                if table.assignment[c].is_some_and(|a| !a.sustainable) {
                    continue;
                }
                lanes.slots.push(c);
                lanes.starts.push(rows.start);
            }
            let of_table = TableColumns {
                observed: cols.observed,
                realized: cols.realized,
                burden: cols.burden,
            };
            kernel(batch, columns, of_table, cols.decision, lanes);
            let (n, lanes) = (batch.users(), &*lanes);
            for k in 0..lanes.slots.len() {
                let (c, start) = (lanes.slots[k], lanes.starts[k]);
                table.end[c] = match lanes.ends[k] {
                    Some(end) => end,
                    None => play_campaign(
                        (batch, columns),
                        &mut ctx,
                        &mut cols,
                        c,
                        start..start + n,
                        |p| protocol(p, lanes, k),
                    ),
                };
            }
        }
    }
}

/// One table's columns as a lock-step kernel reads them: observed and realized costs, burdens.
struct TableColumns<'a> {
    observed: &'a [f64],
    realized: &'a [f64],
    burden: &'a [f64],
}

/// Buffers of the lock-step protocols, kept across batches.
#[derive(Default)]
pub struct DecideLanes {
    /// One table's campaigns: slots, first rows, orders (M, the k-th campaign's at
    /// `k·n..(k + 1)·n`) and ends.
    slots: Vec<usize>,
    starts: Vec<usize>,
    orders: Vec<u32>,
    committed: Vec<f64>,
    ends: Vec<Option<ProtocolEnd>>,
    scratch: LaneScratch,
    /// The decision order's (M).
    order_scratch: LaneScratch,
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
    phase.play_in_lock_step(
        me.id,
        &mut lanes,
        |batch, _, table, decision, lanes| {
            let (n, game) = (batch.users(), &batch.game);
            decide_at_once_blocks(
                Isa::detect(),
                (table.realized, table.burden),
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
                let recovers =
                    committed < game.need() - game.tolerance() && game.recovery_rounds > 0;
                (!recovers).then_some(ProtocolEnd::Trained { committed })
            }));
        },
        |p, _, _| simultaneous(p.state, p.game, p.scratch, p.sink),
    );
}

/// M: one by one in the announced order, re-assigning after each withdrawal. The decision
/// orders of its campaigns are computed first, in lock step ([`datapact_model::lanes::order`],
/// the scalar order exactly, ties included); in lock step too, each table's campaigns are
/// played up to their first re-assignment, and those that re-assign by the scalar protocol.
pub fn withdraw_sequentially<S: Sink>(
    me: Res<This<Sequential>>,
    mut phase: WithdrawPhase<S>,
    mut orders: Local<OrderLanes>,
    mut lanes: Local<DecideLanes>,
) {
    let n = phase.batch().users();
    if !phase.in_lock_step() {
        let orders = &mut *orders;
        phase.decision_orders(me.id, orders);
        phase.play(me.id, |p| {
            let order = &orders.by_slot[p.campaign * n..(p.campaign + 1) * n];
            sequential_in_order(p.state, order, p.game, p.scratch, p.sink)
        });
        return;
    }
    // Campaigns in which nobody withdraws before the last decision need no re-assignment:
    // played in lock step; the others by the scalar protocol, in the same order.
    phase.play_in_lock_step(
        me.id,
        &mut lanes,
        |batch, columns, table, decision, lanes| {
            let (order, m) = (batch.game.order, batch.mechanisms.len());
            let keys: Vec<&[f64]> = lanes
                .slots
                .iter()
                .zip(&lanes.starts)
                .map(|(&c, &start)| {
                    let rows = start..start + n;
                    order_key_of(
                        order,
                        &table.burden[rows.clone()],
                        &table.observed[rows],
                        &columns.draws[c / m].order_key,
                    )
                })
                .collect();
            order_blocks(
                Isa::detect(),
                &keys,
                n,
                order == Order::LargeFirst,
                &mut lanes.orders,
                &mut lanes.order_scratch,
            );
            sequential_blocks(
                Isa::detect(),
                (table.realized, table.burden),
                n,
                &lanes.starts,
                &lanes.orders,
                &batch.game,
                decision,
                &mut lanes.scratch,
                &mut lanes.ends,
            );
        },
        |p, lanes, k| {
            let order = &lanes.orders[k * n..(k + 1) * n];
            sequential_in_order(p.state, order, p.game, p.scratch, p.sink)
        },
    );
}

/// The decision orders of a batch's campaigns of one mechanism, by campaign slot, and the
/// lock-step kernel's buffers (protocols not played in lock step); kept across batches.
#[derive(Default)]
pub struct OrderLanes {
    /// Campaign slot c's order at `c·n..(c + 1)·n`.
    by_slot: Vec<u32>,
    /// One table's orders, in the order of its campaigns.
    orders: Vec<u32>,
    slots: Vec<usize>,
    scratch: LaneScratch,
}

/// C: training runs on whatever its users chose to contribute. In a world whose systems are
/// only C's, S's and M's ([`Batch::costs_in_place`]) nothing reads C's end before its
/// settlement, which records it with the same sum ([`crate::systems::train::settle_contributions`]).
pub fn commit_contributions(
    me: Res<This<Subsidy>>,
    batch: Res<Batch>,
    mut table: ResMut<CampaignTable>,
    blocks: Res<Blocks>,
    subsidised_users: Query<(&Member, &Burden), Without<Cap>>,
) {
    if batch.costs_in_place {
        return;
    }
    for (members, burden) in subsidised_users.contiguous_iter().expect("dense query") {
        for (c, rows) in blocks.campaigns(members, &batch, Some(me.id)) {
            let committed = Burden::peel_slice(&burden[rows]).iter().sum::<f64>();
            table.end[c] = ProtocolEnd::Trained { committed };
        }
    }
}
