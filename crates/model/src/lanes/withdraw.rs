//! S's decisions ([`crate::withdraw::simultaneous`]'s first batch) and M's loop
//! ([`crate::withdraw::sequential_in_order`]) of `L` campaigns at once, for a population of
//! sincere users off a network, without events: every user's stay-or-leave and the data
//! committed, lane by lane bit for bit. M's lanes run until their first withdrawal that calls
//! for a re-assignment; such a lane is handed back (the caller plays it with the scalar
//! protocol, which decides the same users the same way up to there).

use super::{Isa, LaneScratch, gather, lanes_of};
use crate::caps::sincere_stays;
use crate::params::Game;
use crate::withdraw::{Decision, ProtocolEnd};

/// The simultaneous decisions of each campaign block at `starts` (n users each, columns
/// `realized` and `burden`): each user's decision goes to `decision` at her row and the
/// campaign's committed data Σ x over the stayers (in user order, as
/// [`crate::withdraw::simultaneous`] sums it) to `committed[k]` (cleared first). Every user must
/// be sincere and the campaign off a network (the caller checks).
#[allow(clippy::too_many_arguments)]
pub fn decide_at_once_blocks(
    isa: Isa,
    (realized, burden): (&[f64], &[f64]),
    n: usize,
    starts: &[usize],
    game: &Game,
    decision: &mut [Decision],
    scratch: &mut LaneScratch,
    committed: &mut Vec<f64>,
) {
    committed.clear();
    for_lanes!(isa, L => {
        for group in starts.chunks(L) {
            let starts = super::padded::<L>(group);
            gather(isa, realized, &starts, lanes_of::<L>(&mut scratch.a, n));
            gather(isa, burden, &starts, lanes_of::<L>(&mut scratch.b, n));
            scratch.decision.resize(n * L, Decision::Undecided);
            let decided = scratch.decision.as_chunks_mut::<L>().0;
            let (c, _) = decide_in_turn(
                scratch.a.as_chunks::<L>().0,
                scratch.b.as_chunks::<L>().0,
                game,
                decided,
            );
            for (l, &start) in starts.iter().enumerate().take(group.len()) {
                for (i, user) in decided.iter().enumerate() {
                    decision[start + i] = user[l];
                }
            }
            committed.extend_from_slice(&c[..group.len()]);
        }
    })
}

/// M's loop ([`crate::withdraw::sequential_in_order`]) of each campaign block at `starts`
/// (columns `realized` and `burden`, n users each), block k in the order
/// `orders[k·n..(k + 1)·n]`: `ends[k]` (cleared first) is its end, or `None` if a user withdrew
/// before the last decision (a re-assignment: the caller plays that campaign with the scalar
/// protocol; its decisions here are partial). Every user must be sincere, the campaign off a
/// network and too small for the incremental re-assignment (the caller checks).
#[allow(clippy::too_many_arguments)]
pub fn sequential_blocks(
    isa: Isa,
    (realized, burden): (&[f64], &[f64]),
    n: usize,
    starts: &[usize],
    orders: &[u32],
    game: &Game,
    decision: &mut [Decision],
    scratch: &mut LaneScratch,
    ends: &mut Vec<Option<ProtocolEnd>>,
) {
    ends.clear();
    for_lanes!(isa, L => {
        for (g, group) in starts.chunks(L).enumerate() {
            let lane = |l: usize| l.min(group.len() - 1);
            // Users in each lane's decision order.
            let order = |l: usize, pos: usize| orders[(g * L + lane(l)) * n + pos] as usize;
            let realized_l = lanes_of::<L>(&mut scratch.a, n);
            for (pos, user) in realized_l.iter_mut().enumerate() {
                for l in 0..L {
                    user[l] = realized[group[lane(l)] + order(l, pos)];
                }
            }
            let burden_l = lanes_of::<L>(&mut scratch.b, n);
            for (pos, user) in burden_l.iter_mut().enumerate() {
                for l in 0..L {
                    user[l] = burden[group[lane(l)] + order(l, pos)];
                }
            }
            scratch.decision.resize(n * L, Decision::Undecided);
            let decided = scratch.decision.as_chunks_mut::<L>().0;
            let (committed, reassigns) = decide_in_turn(
                scratch.a.as_chunks::<L>().0,
                scratch.b.as_chunks::<L>().0,
                game,
                decided,
            );
            for l in 0..group.len() {
                if reassigns[l] {
                    ends.push(None);
                    continue;
                }
                for (pos, user) in decided.iter().enumerate() {
                    decision[group[l] + order(l, pos)] = user[l];
                }
                ends.push(Some(ProtocolEnd::Trained {
                    committed: committed[l],
                }));
            }
        }
    })
}

/// Every user of each lane decides sincerely on her burden, in turn (`realized[pos]`,
/// `burden[pos]`: the user at position pos, in user order for S, in decision order for M):
/// each lane's committed data (from +0.0 in turn; a leaver adds −0.0, which leaves the sum's
/// bits as they are), and whether someone withdrew before the last position (M re-assigns
/// then, and its later decisions here are meaningless).
#[inline(always)]
fn decide_in_turn<const L: usize>(
    realized: &[[f64; L]],
    burden: &[[f64; L]],
    game: &Game,
    decision: &mut [[Decision; L]],
) -> ([f64; L], [bool; L]) {
    let n = burden.len();
    let mut committed = [0.0f64; L];
    let mut reassigns = [false; L];
    for (pos, ((cw, x), d)) in realized.iter().zip(burden).zip(decision).enumerate() {
        for l in 0..L {
            let stay = sincere_stays(cw[l], x[l], game.payment, game.value);
            d[l] = if stay {
                Decision::Stay
            } else {
                Decision::Withdraw
            };
            committed[l] += super::pick(stay, x[l], -0.0);
            reassigns[l] |= !stay && pos + 1 < n;
        }
    }
    (committed, reassigns)
}
