//! Protocol `async`: withdrawal in continuous time, on an event [`Calendar`].
//!
//! After assignment (model time t = 0) every user holds her burden. Each user first answers at
//! a scheduled time: the user ranked k-th (0-based) in the announced order (`[game] order`)
//! answers at t_k = s·T·k/n, where s is `spread` (s = 0: everyone at once, as S). Between
//! answers, each user's cost is hit by **regret shocks**, a Poisson process of rate λ
//! (`regret_rate`) per user on [0, T): a shock multiplies her current cost by the mean-one
//! lognormal factor exp(σ_r·z − σ_r²/2), z ~ N(0, 1), σ_r = `regret_size` (so her expected cost
//! stays her training-time cost c^w, and its log-variance grows by σ_r² per shock). A user who
//! has answered `stay` re-decides on her burden at every shock, and may withdraw; a user who has
//! not answered yet answers on her cost at her time. Each withdrawal triggers a re-assignment of
//! the shortfall Q − Σ(committed) after `reassign_delay` d (withdrawals during the delay are
//! covered by the same re-assignment), water-filled over the users who have not answered yet,
//! as M does, who then answer on their new burden; an infeasible or unsustainable
//! re-assignment stops the provider (a null outcome). Training runs at the deadline T on the
//! data of the users still in; events at or after T never happen.
//!
//! S and M are the limiting timings: with λ = 0 and s = 0 everyone answers at t = 0 on her
//! assigned burden, knowing nothing of the others (S without recovery rounds); with λ = 0,
//! s > 0 and d = 0 users answer one at a time in the announced order and each withdrawal is
//! re-assigned before the next answer (M). Both are tested campaign by campaign.
//!
//! Tie rule at equal times: the deadline first, then answers (by user index when s = 0,
//! by rank otherwise), then regret shocks (by user), then the re-assignment, so simultaneous
//! answers form one batch as in S. Events are written at model time `ASSIGN_TIME + t`, after
//! the report (0) and assignment (1) steps of the round-based phases.

use crate::variates::StandardNormal;
use rand::distr::Distribution;
use rand_chacha::ChaCha8Rng;

use crate::calendar::Calendar;
use crate::cost::kappa;
use crate::draws::{mean_one_factor, unit_f64};
use crate::events::EventSink;
use crate::params::Game;
use crate::withdraw::{
    Decision, ProtocolEnd, ProtocolScratch, WithdrawState, decide, decision_order, reassign_rest,
    stayed_again,
};

crate::params! {
    /// Parameters of the asynchronous withdrawal mechanism (`[mechanism.async]`).
    pub struct AsyncParams {
        /// Training deadline T, in model time after assignment: users may withdraw at any event before T.
        deadline: f64 = 1.0, Pos;
        /// Rate of each user's regret shocks (a Poisson process on [0, T), per unit of model time); 0 = no shocks.
        regret_rate: f64 = 1.0, NonNeg;
        /// Size of a regret shock: the cost is multiplied by exp(regret_size·z − regret_size²/2), z ~ N(0, 1).
        regret_size: f64 = 0.5, NonNeg;
        /// Delay between a withdrawal and the re-assignment of the shortfall (re-assignments at or after the deadline never happen).
        reassign_delay: f64 = 0.05, NonNeg;
        /// Share of [0, T) over which first answers are spread in the announced order (0: all at once, as S).
        spread: f64 = 0.5, Unit;
    }
}

/// Model time of the assignment step in the `events` table: async events are written at
/// `ASSIGN_TIME + t`.
pub const ASSIGN_TIME: f64 = 1.0;

/// What is due on a campaign's calendar.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Due {
    /// The training deadline T: the campaign ends.
    Deadline,
    /// The first answer of a user.
    Answer(u32),
    /// A regret shock to a user's cost.
    Regret(u32),
    /// The re-assignment of the shortfall.
    Reassign,
    /// On a network: the news of this user's withdrawal reaches her neighbours.
    Peer(u32),
}

impl Due {
    /// The tie key at equal times (see the module doc); `answer_key` is the answer's rank or
    /// user index.
    fn key(self, answer_key: u32) -> u64 {
        match self {
            Due::Deadline => 0,
            Due::Answer(_) => (1 << 32) | answer_key as u64,
            Due::Regret(i) => (2 << 32) | i as u64,
            Due::Reassign => 3 << 32,
            Due::Peer(i) => (4 << 32) | i as u64,
        }
    }
}

/// Buffers kept across campaigns.
#[derive(Clone, Debug, Default)]
pub struct AsyncScratch {
    /// The campaign's calendar.
    pub calendar: Calendar<Due>,
    /// Events popped in the last campaign (for benchmarks).
    pub events: u64,
}

/// The regret stream of one campaign: independent of the draws every mechanism shares, keyed
/// like them by (seed, the cell's draw key, replication, round).
pub fn regret_rng(seed: u64, draw_key: u64, replication: u64, round: u32) -> ChaCha8Rng {
    let tag =
        u64::from_le_bytes(*b"regret\0\0") ^ (round as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    crate::draws::stream(seed, draw_key, replication, tag)
}

/// An exponential waiting time of rate `rate` (> 0).
#[inline]
fn exponential(rng: &mut ChaCha8Rng, rate: f64) -> f64 {
    -crate::variates::ln(1.0 - unit_f64(rng)) / rate
}

/// Schedules user `i`'s next regret shock after `now`, if it falls before the deadline.
#[inline]
fn next_regret(cal: &mut Calendar<Due>, rng: &mut ChaCha8Rng, p: &AsyncParams, now: f64, i: u32) {
    if p.regret_rate > 0.0 {
        let t = now + exponential(rng, p.regret_rate);
        if t < p.deadline {
            cal.schedule(t, Due::Regret(i).key(0), Due::Regret(i));
        }
    }
}

/// Protocol `async` on one campaign. `cost` receives each user's cost as it evolves (her cost
/// at the deadline, or when she withdrew): it starts as `st.realized`. `rng` is the campaign's
/// regret stream ([`regret_rng`]).
#[allow(clippy::too_many_arguments)]
pub fn asynchronous<S: EventSink>(
    mut st: WithdrawState<'_>,
    cost: &mut [f64],
    params: &AsyncParams,
    order_key: &[f64],
    game: &Game,
    rng: &mut ChaCha8Rng,
    scratch: &mut ProtocolScratch,
    async_scratch: &mut AsyncScratch,
    sink: &mut S,
) -> ProtocolEnd {
    let n = st.burden.len();
    let (need, tol, budget) = (game.need(), game.tolerance(), n as f64 * game.value);
    let p = params;
    cost.copy_from_slice(st.realized);
    let mut order = std::mem::take(&mut scratch.order);
    decision_order(game.order, st.burden, st.observed, order_key, &mut order);
    let cal = &mut async_scratch.calendar;
    cal.clear();
    cal.schedule(p.deadline, Due::Deadline.key(0), Due::Deadline);
    // At once (s = 0) answers form one batch in user order, as S; staggered, one by one in
    // the announced order, as M.
    let staggered = p.spread > 0.0;
    for (k, &i) in order.iter().enumerate() {
        let t = p.spread * p.deadline * k as f64 / n as f64;
        let key = if staggered { k as u32 } else { i };
        cal.schedule(t, Due::Answer(i).key(key), Due::Answer(i));
    }
    for i in 0..n as u32 {
        next_regret(cal, rng, p, 0.0, i);
    }
    let mut committed = 0.0;
    let mut committed_estimate = 0.0;
    let mut undecided_caps: f64 = st.cap.iter().sum();
    let mut answered = 0usize;
    let mut reassign_pending = false;
    let incremental = scratch.reassign.start(n);
    let mut popped = 0u64;
    let mut end = ProtocolEnd::Trained { committed: 0.0 };
    let mut ask = Vec::new();
    while let Some((t, due)) = cal.pop() {
        popped += 1;
        let time = ASSIGN_TIME + t;
        // On a network, each withdrawal's news reaches the neighbours after the delay d.
        let news = st.networked() && t + p.reassign_delay < p.deadline;
        let withdrew = match due {
            Due::Deadline => break,
            Due::Answer(i) => {
                let i = i as usize;
                answered += 1;
                scratch.reassign.decide(i, st.burden);
                undecided_caps -= st.cap[i];
                let pivotal = staggered.then_some(undecided_caps < need - committed - tol);
                let stay = st.ask_at(i, cost[i], game, pivotal);
                decide(i, stay, time, &mut *st.decision, st.burden, cost, sink);
                if stay {
                    committed += st.burden[i];
                    committed_estimate += kappa(st.observed[i], st.burden[i]);
                } else if news {
                    let at = t + p.reassign_delay;
                    cal.schedule(at, Due::Peer(i as u32).key(0), Due::Peer(i as u32));
                }
                !stay
            }
            Due::Regret(i) => {
                let i = i as usize;
                if st.decision[i] == Decision::Withdraw {
                    continue;
                }
                let z: f64 = StandardNormal.sample(rng);
                cost[i] *= mean_one_factor(p.regret_size, z);
                next_regret(cal, rng, p, t, i as u32);
                // Only a user who answered `stay` has something to reconsider now.
                if st.decision[i] != Decision::Stay || st.stays_again(i, cost[i], game, None) {
                    continue;
                }
                decide(i, false, time, &mut *st.decision, st.burden, cost, sink);
                committed -= st.burden[i];
                committed_estimate -= kappa(st.observed[i], st.burden[i]);
                if news {
                    let at = t + p.reassign_delay;
                    cal.schedule(at, Due::Peer(i as u32).key(0), Due::Peer(i as u32));
                }
                true
            }
            Due::Peer(u) => {
                // Her neighbours learn of it; those who stayed and read their neighbours are
                // asked again on their cost and burden now.
                ask.clear();
                st.stayers_to_ask(u as usize, &mut ask);
                st.tell_neighbours(u as usize);
                let mut any = false;
                for &v in &ask {
                    let v = v as usize;
                    if st.stays_again(v, cost[v], game, None) {
                        stayed_again(v, u as usize, time, st.burden[v], cost[v], sink);
                        continue;
                    }
                    decide(v, false, time, &mut *st.decision, st.burden, cost, sink);
                    committed -= st.burden[v];
                    committed_estimate -= kappa(st.observed[v], st.burden[v]);
                    if news {
                        let at = t + p.reassign_delay;
                        cal.schedule(at, Due::Peer(v as u32).key(0), Due::Peer(v as u32));
                    }
                    any = true;
                }
                any
            }
            Due::Reassign => {
                reassign_pending = false;
                let rest = &order[answered..];
                if rest.is_empty() {
                    continue;
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
                    end = ProtocolEnd::Aborted;
                    break;
                }
                false
            }
        };
        if withdrew && !reassign_pending && t + p.reassign_delay < p.deadline {
            reassign_pending = true;
            cal.schedule(t + p.reassign_delay, Due::Reassign.key(0), Due::Reassign);
        }
    }
    if end != ProtocolEnd::Aborted {
        end = ProtocolEnd::Trained { committed };
    }
    scratch.reassign.finish(st.burden);
    scratch.order = order;
    async_scratch.events = popped;
    end
}
