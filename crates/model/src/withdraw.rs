//! The withdraw phase: protocol S (simultaneous, optional recovery rounds) and protocol M
//! (sequential in a fixed order, with re-assignment after each withdrawal).

use crate::cost::kappa;
use crate::events::{Event, EventKind, EventSink};
use crate::network::Peers;
use crate::params::{Game, Order};
use crate::reassign::{Reassign, total_key};
use crate::strategy::{Deciding, WithdrawRules};
use crate::waterfill::{FillScratch, water_fill, water_fill_bounded};

/// A user's answer before training.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Decision {
    /// Not asked (M stopped before her turn, or the campaign was cancelled).
    #[default]
    Undecided,
    /// Keeps her data for training.
    Stay,
    /// Withdraws her data before training.
    Withdraw,
}

/// How the withdraw phase ended.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ProtocolEnd {
    /// The assignment was unsustainable: nothing collected.
    Cancelled,
    /// A re-assignment was infeasible or unsustainable: the provider stopped (a null outcome).
    Aborted,
    /// Training runs on the committed data.
    Trained {
        /// Data committed to training (Σ burdens of the users who stayed).
        committed: f64,
    },
}

/// The per-user state the withdraw phase reads and writes (one campaign, length n each).
pub struct WithdrawState<'a> {
    /// Per user: observed cost c̃_i (what the provider re-assigns on).
    pub observed: &'a [f64],
    /// Per user: realised cost c^w_i (what she decides on).
    pub realized: &'a [f64],
    /// Per user: cap x̄_i.
    pub cap: &'a [f64],
    /// In: assigned burdens. Out: each user's burden at her (last) decision.
    pub burden: &'a mut [f64],
    /// Out: each user's decision (`Undecided` if never asked).
    pub decision: &'a mut [Decision],
    /// Each user's withdraw strategy: an index into `rules`.
    pub rule: &'a [u16],
    /// The population's withdraw rules.
    pub rules: &'a WithdrawRules,
    /// Each user's memory: were past withdrawals absorbed more often than not (false in a first round).
    pub absorbed: &'a [bool],
    /// The campaign's network (`[population.network]`), if any: what users see of their
    /// neighbours, and what the protocol records of it.
    pub peers: Option<&'a mut Peers>,
}

/// Buffers reused across campaigns.
#[derive(Clone, Debug, Default)]
pub struct ProtocolScratch {
    /// Buffers of the water-filling re-assignments.
    pub fill: FillScratch,
    /// M's incremental re-assignment, used from `reassign::INCREMENTAL_MIN_USERS` users up.
    pub reassign: Reassign,
    pub(crate) order: Vec<u32>,
    pub(crate) members: Vec<u32>,
    pub(crate) sub_cost: Vec<f64>,
    sub_lo: Vec<f64>,
    pub(crate) sub_hi: Vec<f64>,
    pub(crate) sub_out: Vec<f64>,
}

impl WithdrawState<'_> {
    /// Whether user `i` stays on her current burden, by her strategy. `pivotal` is what the
    /// protocol lets her infer: whether the campaign would fall short without her (`None`: it
    /// reveals nothing). On a network she also sees her neighbours' withdrawals so far. Records
    /// nothing: protocols ask through [`WithdrawState::ask`], which also records what she saw.
    #[inline(always)]
    pub fn stays(&self, i: usize, game: &Game, pivotal: Option<bool>) -> bool {
        let user = self.deciding(i, self.realized[i], game, pivotal);
        match self.peers.as_deref() {
            None => self.rules.stays(self.rule[i], &user),
            Some(peers) => self
                .rules
                .stays_among(self.rule[i], &user, peers.neighbours(i)),
        }
    }

    /// [`WithdrawState::stays`], recording on a network what she saw (her withdrawn neighbours
    /// at this decision, and whether she withdraws through her ties).
    #[inline(always)]
    pub fn ask(&mut self, i: usize, game: &Game, pivotal: Option<bool>) -> bool {
        self.answer(i, self.realized[i], game, pivotal, true)
    }

    fn deciding(&self, i: usize, cost: f64, game: &Game, pivotal: Option<bool>) -> Deciding {
        Deciding {
            realized_cost: cost,
            burden: self.burden[i],
            value: game.value,
            payment: game.payment,
            pivotal,
            absorbed: self.absorbed[i],
        }
    }

    /// [`WithdrawState::ask`] on unit cost `cost` (`async`'s cost after regret shocks).
    #[inline(always)]
    pub fn ask_at(&mut self, i: usize, cost: f64, game: &Game, pivotal: Option<bool>) -> bool {
        self.answer(i, cost, game, pivotal, true)
    }

    /// A user who has stayed, asked again on unit cost `cost` (a neighbour's withdrawal reached
    /// her, or a regret shock): what she saw is recorded only if she withdraws now (a user's
    /// record is her last decision).
    #[inline]
    pub fn stays_again(&mut self, i: usize, cost: f64, game: &Game, pivotal: Option<bool>) -> bool {
        self.answer(i, cost, game, pivotal, false)
    }

    #[inline(always)]
    fn answer(
        &mut self,
        i: usize,
        cost: f64,
        game: &Game,
        pivotal: Option<bool>,
        record_stay: bool,
    ) -> bool {
        // Sincere users off a network: `Deciding::sincere` on her cost and burden alone (her
        // strategy index and memory are not read, nor bounds-checked, per decision).
        if self.peers.is_none() && self.rules.all_sincere() {
            return crate::caps::sincere_stays(cost, self.burden[i], game.payment, game.value);
        }
        let user = self.deciding(i, cost, game, pivotal);
        let rule = self.rule[i];
        match self.peers.as_deref_mut() {
            None => self.rules.stays(rule, &user),
            Some(peers) => {
                let seen = peers.neighbours(i);
                let stay = self.rules.stays_among(rule, &user, seen);
                if record_stay || !stay {
                    peers.seen[i] = seen.withdrawn;
                    let through =
                        !stay && self.rules.reads_neighbours(rule) && self.rules.stays(rule, &user);
                    peers.through_ties[i] = through;
                    peers.trigger[i] = if through {
                        peers.last[i]
                    } else {
                        Peers::NOBODY
                    };
                }
                stay
            }
        }
    }

    /// Whether the campaign is on a network.
    #[inline(always)]
    pub fn networked(&self) -> bool {
        self.peers.is_some()
    }

    /// Records that user `u`'s withdrawal reached her neighbours (nothing without a network).
    #[inline]
    pub fn tell_neighbours(&mut self, u: usize) {
        if let Some(peers) = self.peers.as_deref_mut() {
            peers.withdrew(u);
        }
    }

    /// The users who have stayed, hold a rule that reads neighbours, and neighbour `u` (the
    /// ones to ask again once `u`'s withdrawal reaches them), appended to `out` in neighbour
    /// order.
    pub fn stayers_to_ask(&self, u: usize, out: &mut Vec<u32>) {
        let Some(peers) = self.peers.as_deref() else {
            return;
        };
        out.extend(peers.graph.neighbours(u).iter().copied().filter(|&v| {
            self.decision[v as usize] == Decision::Stay
                && self.rules.reads_neighbours(self.rule[v as usize])
        }));
    }
}

/// One simultaneous decision batch of S: every listed user decides on her current burden, in
/// user order, at the same `time`. S reveals nothing while users decide, so a free-rider judges by
/// memory alone. Returns the burden committed by those who stay.
fn decide_at_once<S: EventSink>(
    st: &mut WithdrawState<'_>,
    users: impl Iterator<Item = usize>,
    time: u32,
    game: &Game,
    sink: &mut S,
) -> f64 {
    let mut committed = 0.0;
    let mut withdrew = Vec::new();
    for i in users {
        let stay = st.ask(i, game, None);
        decide(
            i,
            stay,
            time,
            &mut st.decision[..],
            st.burden,
            st.realized,
            sink,
        );
        if stay {
            committed += st.burden[i];
        } else if st.networked() {
            withdrew.push(i);
        }
    }
    // On a network, the batch's withdrawals reach the neighbours once everyone has answered:
    // they see them in the next batch (a recovery round).
    for u in withdrew {
        st.tell_neighbours(u);
    }
    committed
}

/// One decision batch and nothing else: every user decides at once, in user order at step 2,
/// on her current burden, knowing nothing of the others (S without recovery rounds, whatever
/// `[game] recovery_rounds` says). For mechanisms whose users chose their own burdens (a
/// pledge): nothing can be re-assigned.
pub fn decide_all<S: EventSink>(
    mut st: WithdrawState<'_>,
    game: &Game,
    sink: &mut S,
) -> ProtocolEnd {
    let n = st.burden.len();
    let committed = decide_at_once(&mut st, 0..n, 2, game, sink);
    ProtocolEnd::Trained { committed }
}

/// Protocol S: everyone decides at once on her assigned burden; then, while short of Q and
/// recovery rounds remain, Q is re-assigned among those who stayed (burdens only grow, same caps
/// and sustainability test) and they decide again, all at once.
pub fn simultaneous<S: EventSink>(
    mut st: WithdrawState<'_>,
    game: &Game,
    scratch: &mut ProtocolScratch,
    sink: &mut S,
) -> ProtocolEnd {
    let n = st.burden.len();
    let need = game.need();
    let tol = game.tolerance();
    let mut time = 2;
    let mut committed = decide_at_once(&mut st, 0..n, time, game, sink);
    let mut round = 0;
    while committed < need - tol && round < game.recovery_rounds {
        round += 1;
        time += 1;
        // Re-assign Q among the stayers, burdens bounded below by what they hold.
        scratch.members.clear();
        scratch
            .members
            .extend((0..n as u32).filter(|&i| st.decision[i as usize] == Decision::Stay));
        gather(scratch, st.observed, st.burden, st.cap);
        let fill = water_fill_bounded(
            &scratch.sub_cost,
            &scratch.sub_lo,
            &scratch.sub_hi,
            need,
            tol,
            &mut scratch.sub_out,
            &mut scratch.fill,
        );
        let estimate: f64 = scratch
            .sub_cost
            .iter()
            .zip(&scratch.sub_out)
            .map(|(c, x)| kappa(*c, *x))
            .sum();
        if fill.is_err() || estimate > n as f64 * game.value {
            if S::ENABLED {
                sink.emit(Event::campaign(time, EventKind::Null, None));
            }
            return ProtocolEnd::Aborted;
        }
        for (k, &i) in scratch.members.iter().enumerate() {
            let i = i as usize;
            st.burden[i] = scratch.sub_out[k];
            if S::REASSIGNS {
                sink.emit(Event::user(
                    time,
                    EventKind::Reassign,
                    i,
                    Some(st.burden[i]),
                    st.observed[i],
                ));
            }
        }
        time += 1;
        committed = decide_at_once(
            &mut st,
            scratch.members.iter().map(|&i| i as usize),
            time,
            game,
            sink,
        );
    }
    ProtocolEnd::Trained { committed }
}

/// The decision order of M, fixed from the assigned burdens when announced.
pub fn decision_order(
    order: Order,
    burden: &[f64],
    observed: &[f64],
    order_key: &[f64],
    out: &mut Vec<u32>,
) {
    let key = order_key_of(order, burden, observed, order_key);
    order_by(key, order == Order::LargeFirst, out);
}

/// The key M's decision order sorts by: burdens (small- or large-first), the replication's
/// random keys, or observed costs.
#[inline]
pub fn order_key_of<'a>(
    order: Order,
    burden: &'a [f64],
    observed: &'a [f64],
    order_key: &'a [f64],
) -> &'a [f64] {
    match order {
        Order::SmallFirst | Order::LargeFirst => burden,
        Order::Random => order_key,
        Order::CostAscending => observed,
    }
}

/// The permutation of the stable sort of `key` (descending or ascending, in `f64::total_cmp`'s
/// order; ties by index), in `out`.
pub(crate) fn order_by(key: &[f64], descending: bool, out: &mut Vec<u32>) {
    out.clear();
    out.extend(0..key.len() as u32);
    if key.len() <= RANK_SORT_MAX {
        // Keys from +0.0 to +∞ (burdens, costs and order keys always are) compare as floats in
        // `f64::total_cmp`'s order; the integer keys serve the rest (−0.0, negatives, NaN).
        if key.iter().all(|x| x.to_bits() <= f64::INFINITY.to_bits()) {
            if descending {
                rank_order_float::<true>(key, out);
            } else {
                rank_order_float::<false>(key, out);
            }
        } else {
            rank_order(key, descending, out);
        }
    } else {
        // (key, index) pairs are distinct, so an unstable sort of the pairs gives the stable
        // sort's permutation, from contiguous memory rather than through the index.
        let mut pairs: Vec<(i64, u32)> = out
            .iter()
            .map(|&i| (total_key(key[i as usize], descending), i))
            .collect();
        pairs.sort_unstable();
        for (o, (_, i)) in out.iter_mut().zip(pairs) {
            *o = i;
        }
    }
}

/// Up to this many users, [`decision_order`] ranks by counting instead of sorting.
pub(crate) const RANK_SORT_MAX: usize = 64;

/// The same permutation as the stable sort by (key, index), by counting: user i goes to position
/// #{j : key_j < key_i} + #{j < i : key_j = key_i}. Each pair i < j is compared once, and the
/// comparison ranks one of the two behind the other (j behind i unless key_j < key_i). O(n²) but
/// branch-free, faster than an insertion sort's mispredicted branches for the ~20 users of a
/// campaign.
fn rank_order(key: &[f64], descending: bool, out: &mut [u32]) {
    let n = key.len();
    let mut keys = [0i64; RANK_SORT_MAX];
    let keys = &mut keys[..n];
    for (k, x) in keys.iter_mut().zip(key) {
        *k = total_key(*x, descending);
    }
    let mut rank = [0u32; RANK_SORT_MAX];
    let rank = &mut rank[..n];
    for i in 0..n {
        let ki = keys[i];
        let mut behind = 0u32;
        for (kj, rj) in keys[i + 1..].iter().zip(&mut rank[i + 1..]) {
            let less = (*kj < ki) as u32;
            behind += less;
            *rj += 1 - less;
        }
        rank[i] += behind;
    }
    for (i, r) in rank.iter().enumerate() {
        out[*r as usize] = i as u32;
    }
}

/// [`rank_order`] for keys in [+0.0, +∞], where `<` is `f64::total_cmp`'s order: user i's
/// position is #{j < i : key_j ≤ key_i} + #{j > i : key_j < key_i}. Each user's count is a pure
/// reduction (float comparisons vectorise on any x86-64): twice the comparisons of
/// [`rank_order`], but no store to another user's count, whose reload stalls when the next pass
/// starts one element further.
fn rank_order_float<const DESCENDING: bool>(key: &[f64], out: &mut [u32]) {
    let ahead = |kj: f64, ki: f64| if DESCENDING { kj > ki } else { kj < ki };
    for (i, &ki) in key.iter().enumerate() {
        let before: u64 = key[..i].iter().map(|&kj| !ahead(ki, kj) as u64).sum();
        let after: u64 = key[i + 1..].iter().map(|&kj| ahead(kj, ki) as u64).sum();
        out[(before + after) as usize] = i as u32;
    }
}

/// Protocol M: users decide one at a time in the announced order, each on her current burden.
/// After a withdrawal, Q − Σ committed is re-assigned among the undecided (same water-filling and
/// caps; the sustainability test counts committed burdens); if that fails the provider stops.
pub fn sequential<S: EventSink>(
    st: WithdrawState<'_>,
    order_key: &[f64],
    game: &Game,
    scratch: &mut ProtocolScratch,
    sink: &mut S,
) -> ProtocolEnd {
    let mut order = std::mem::take(&mut scratch.order);
    decision_order(game.order, st.burden, st.observed, order_key, &mut order);
    let end = sequential_in_order(st, &order, game, scratch, sink);
    scratch.order = order;
    end
}

/// [`sequential`] with its decision order already computed ([`decision_order`] of the game's
/// order, e.g. by [`crate::lanes::order`] for several campaigns at once).
pub fn sequential_in_order<S: EventSink>(
    mut st: WithdrawState<'_>,
    order: &[u32],
    game: &Game,
    scratch: &mut ProtocolScratch,
    sink: &mut S,
) -> ProtocolEnd {
    let n = st.burden.len();
    let need = game.need();
    let tol = game.tolerance();
    let budget = n as f64 * game.value;
    let mut committed = 0.0;
    let mut committed_estimate = 0.0;
    let mut end = None;
    // Σ caps of the users still to decide: M reveals them, so a user knows whether the others
    // could still cover the remaining need without her.
    let mut undecided_caps: f64 = st.cap.iter().sum();
    let incremental = scratch.reassign.start(n);
    for pos in 0..n {
        let i = order[pos] as usize;
        let time = 2 + pos as u32;
        // Large campaigns: her burden is implied by the last re-assignment; she leaves the tree
        // (nothing to do unless the incremental re-assignment is on).
        if incremental {
            scratch.reassign.decide(i, st.burden);
        }
        undecided_caps -= st.cap[i];
        let pivotal = undecided_caps < need - committed - tol;
        let stay = st.ask(i, game, Some(pivotal));
        decide(
            i,
            stay,
            time,
            &mut st.decision[..],
            st.burden,
            st.realized,
            sink,
        );
        if stay {
            committed += st.burden[i];
            committed_estimate += kappa(st.observed[i], st.burden[i]);
            continue;
        }
        if st.networked() {
            let left = withdrawal_cascade(&mut st, i, time, game, undecided_caps, committed, sink);
            committed -= left.0;
            committed_estimate -= left.1;
        }
        let rest = &order[pos + 1..];
        if rest.is_empty() {
            break;
        }
        let remaining = (need - committed).max(0.0);
        let users = (st.observed, st.cap, &mut *st.burden);
        if !reassign_rest(
            scratch,
            users,
            (rest, remaining),
            (committed_estimate, budget, tol),
            incremental,
            time,
            sink,
        ) {
            end = Some(ProtocolEnd::Aborted);
            break;
        }
    }
    scratch.reassign.finish(st.burden);
    end.unwrap_or(ProtocolEnd::Trained { committed })
}

/// M on a network: user `from` has just withdrawn. Her withdrawal reaches her neighbours at once;
/// each neighbour who has stayed and whose rule reads neighbours is asked again on her burden
/// (pivotal as the undecided users' caps reveal it), and whoever withdraws now passes it on,
/// breadth first, all at `time`. Returns the burden and estimated privacy cost that left the
/// committed data (`committed` is what was committed before).
fn withdrawal_cascade<S: EventSink>(
    st: &mut WithdrawState<'_>,
    from: usize,
    time: u32,
    game: &Game,
    undecided_caps: f64,
    mut committed: f64,
    sink: &mut S,
) -> (f64, f64) {
    let (need, tol) = (game.need(), game.tolerance());
    let mut left = (0.0, 0.0);
    let mut queue = vec![from as u32];
    let mut next = 0;
    let mut ask = Vec::new();
    while next < queue.len() {
        let u = queue[next] as usize;
        next += 1;
        ask.clear();
        st.stayers_to_ask(u, &mut ask);
        st.tell_neighbours(u);
        for &v in &ask {
            let v = v as usize;
            let pivotal = undecided_caps < need - (committed - st.burden[v]) - tol;
            let cost = st.realized[v];
            if st.decision[v] != Decision::Stay {
                continue;
            }
            if st.stays_again(v, cost, game, Some(pivotal)) {
                stayed_again(v, u, time, st.burden[v], cost, sink);
                continue;
            }
            decide(
                v,
                false,
                time,
                &mut st.decision[..],
                st.burden,
                st.realized,
                sink,
            );
            committed -= st.burden[v];
            left.0 += st.burden[v];
            left.1 += kappa(st.observed[v], st.burden[v]);
            queue.push(v as u32);
        }
    }
    left
}

/// Re-assigns the shortfall `remaining` to the undecided users `rest` after a withdrawal: M's
/// step, and `async`'s after its delay. The new burdens must be sustainable (the committed
/// users' estimated privacy cost plus the new assignment's within `budget`); otherwise a `null`
/// event and `false` (the campaign aborts). With `incremental`, the burdens are implied by the
/// re-assignment structure's level and written out only when re-assignments are traced.
pub(crate) fn reassign_rest<S: EventSink>(
    scratch: &mut ProtocolScratch,
    (observed, cap, burden): (&[f64], &[f64], &mut [f64]),
    (rest, remaining): (&[u32], f64),
    (committed_estimate, budget, tol): (f64, f64, f64),
    incremental: bool,
    time: impl Into<f64> + Copy,
    sink: &mut S,
) -> bool {
    let estimate = if incremental {
        scratch.reassign.refill(rest, observed, cap, remaining, tol)
    } else {
        scratch.members.clear();
        scratch.members.extend_from_slice(rest);
        gather(scratch, observed, burden, cap);
        water_fill(
            &scratch.sub_cost,
            &scratch.sub_hi,
            remaining,
            tol,
            &mut scratch.sub_out,
            &mut scratch.fill,
        )
        .map(|_| {
            scratch
                .sub_cost
                .iter()
                .zip(&scratch.sub_out)
                .map(|(c, x)| kappa(*c, *x))
                .sum::<f64>()
        })
    };
    if estimate.is_err() || estimate.is_ok_and(|e| committed_estimate + e > budget) {
        if S::ENABLED {
            sink.emit(Event::campaign(time, EventKind::Null, None));
        }
        return false;
    }
    if incremental {
        // The undecided users' burdens are implied by the new level; written only for events.
        scratch.reassign.commit();
        if !S::REASSIGNS {
            return true;
        }
    }
    for (k, &j) in rest.iter().enumerate() {
        let j = j as usize;
        burden[j] = if incremental {
            scratch.reassign.burden(j, burden[j])
        } else {
            scratch.sub_out[k]
        };
        if S::REASSIGNS {
            sink.emit(Event::user(
                time,
                EventKind::Reassign,
                j,
                Some(burden[j]),
                observed[j],
            ));
        }
    }
    true
}

/// Records user `i`'s decision (and, when traced, a `stay` or `withdraw` event at `time` with her
/// burden and realized cost): the step every protocol takes when a user answers.
#[inline]
pub fn decide<S: EventSink>(
    i: usize,
    stay: bool,
    time: impl Into<f64>,
    decision: &mut [Decision],
    burden: &[f64],
    realized: &[f64],
    sink: &mut S,
) {
    decision[i] = if stay {
        Decision::Stay
    } else {
        Decision::Withdraw
    };
    if S::ENABLED {
        let kind = if stay {
            EventKind::Stay
        } else {
            EventKind::Withdraw
        };
        sink.emit(Event::user(time, kind, i, Some(burden[i]), realized[i]));
    }
}

/// A stayer asked again because neighbour `by`'s withdrawal reached her keeps her data: when
/// traced, a `stay_again` event at `time` with her burden and the cost she decided on, naming
/// `by`.
#[inline]
pub(crate) fn stayed_again<S: EventSink>(
    i: usize,
    by: usize,
    time: impl Into<f64>,
    burden: f64,
    cost: f64,
    sink: &mut S,
) {
    if S::ENABLED {
        let event = Event::user(time, EventKind::StayAgain, i, Some(burden), cost);
        sink.emit(event.triggered_by(by));
    }
}

/// Copies the members' observed cost, current burden (as lower bound) and cap into the sub-buffers.
pub(crate) fn gather(scratch: &mut ProtocolScratch, observed: &[f64], burden: &[f64], cap: &[f64]) {
    let m = scratch.members.len();
    scratch.sub_cost.clear();
    scratch.sub_lo.clear();
    scratch.sub_hi.clear();
    for &i in &scratch.members {
        let i = i as usize;
        scratch.sub_cost.push(observed[i]);
        scratch.sub_lo.push(burden[i]);
        scratch.sub_hi.push(cap[i]);
    }
    scratch.sub_out.clear();
    scratch.sub_out.resize(m, 0.0);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The next number of a xorshift64 generator (test keys without a dependency).
    fn xorshift(state: &mut u64) -> u64 {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        *state
    }

    /// `n` keys, each `value` of the next xorshift number.
    fn keys(n: usize, state: &mut u64, value: impl Fn(u64) -> f64) -> Vec<f64> {
        (0..n).map(|_| value(xorshift(state))).collect()
    }

    /// The reference: indices stably sorted by `key` in `total_cmp` order (reversed when
    /// `descending`), ties by index.
    fn stable_order(key: &[f64], descending: bool) -> Vec<u32> {
        let mut order: Vec<u32> = (0..key.len() as u32).collect();
        order.sort_by(|&a, &b| {
            let (ka, kb) = (key[a as usize], key[b as usize]);
            if descending {
                kb.total_cmp(&ka)
            } else {
                ka.total_cmp(&kb)
            }
            .then(a.cmp(&b))
        });
        order
    }

    /// Small-first and large-first orders of burdens `key` equal the stable sort's permutations.
    fn assert_sorted_by_burden(key: &[f64]) {
        for (order, descending) in [(Order::SmallFirst, false), (Order::LargeFirst, true)] {
            let mut got = Vec::new();
            decision_order(order, key, &[], &[], &mut got);
            assert_eq!(got, stable_order(key, descending), "{key:?} {order:?}");
        }
    }

    /// Above the counting size, the pair sort gives the stable sort's permutation too.
    #[test]
    fn large_decision_order_equals_stable_sort() {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        for n in [RANK_SORT_MAX + 1, 200, 5_000] {
            let key = keys(n, &mut state, |x| match x % 5 {
                0 => -0.0,
                1 => 0.0,
                _ => (x % 97) as f64 * 0.01,
            });
            assert_sorted_by_burden(&key);
        }
    }

    /// Up to the counting size, both paths give the stable sort's permutation: float comparisons
    /// for keys in [+0.0, +∞] (ties, zeros and infinities included), integer keys otherwise.
    #[test]
    fn small_decision_order_equals_stable_sort_on_either_path() {
        let mut state = 0x6a09_e667_f3bc_c909u64;
        for trial in 0..4_000 {
            let n = 1 + trial % RANK_SORT_MAX;
            let signed = trial % 2 == 1;
            let key = keys(n, &mut state, |x| match x % 11 {
                0 => 0.0,
                1 => f64::INFINITY,
                2 if signed => -0.0,
                3 if signed => -1.5,
                _ => (x % 6) as f64 * 0.125,
            });
            assert_sorted_by_burden(&key);
        }
    }

    /// Ranking by counting gives the stable sort's permutation, ties and signs included.
    #[test]
    fn rank_order_equals_stable_sort() {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for trial in 0..5_000 {
            let n = 1 + trial % RANK_SORT_MAX;
            // Few distinct values, so that ties are common; some negative zeros.
            let key = keys(n, &mut state, |x| match x % 7 {
                0 => -0.0,
                1 => 0.0,
                _ => (x % 5) as f64 * 0.25 - 0.5,
            });
            for descending in [false, true] {
                let expected = stable_order(&key, descending);
                let mut got = vec![0u32; n];
                rank_order(&key, descending, &mut got);
                assert_eq!(got, expected, "{key:?} descending={descending}");
            }
        }
    }
}
