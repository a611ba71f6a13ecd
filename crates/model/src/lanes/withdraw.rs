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
            scratch.stays.resize(n * L, 0);
            let stays = scratch.stays.as_chunks_mut::<L>().0;
            let (c, _) = decide_in_turn(
                scratch.a.as_chunks::<L>().0,
                scratch.b.as_chunks::<L>().0,
                game,
                stays,
            );
            for (l, &start) in starts.iter().enumerate().take(group.len()) {
                for (d, stay) in decision[start..start + n].iter_mut().zip(&*stays) {
                    *d = decided(stay[l]);
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
            // Each lane's block of the columns and decision order, sliced once per group.
            let order: [&[u32]; L] =
                std::array::from_fn(|l| &orders[(g * L + lane(l)) * n..][..n]);
            let realized_b: [&[f64]; L] =
                std::array::from_fn(|l| &realized[group[lane(l)]..][..n]);
            let burden_b: [&[f64]; L] = std::array::from_fn(|l| &burden[group[lane(l)]..][..n]);
            // Users in each lane's decision order.
            let realized_l = lanes_of::<L>(&mut scratch.a, n);
            let burden_l = lanes_of::<L>(&mut scratch.b, n);
            for (pos, (cw, x)) in realized_l.iter_mut().zip(burden_l.iter_mut()).enumerate() {
                for l in 0..L {
                    let i = order[l][pos] as usize;
                    cw[l] = realized_b[l][i];
                    x[l] = burden_b[l][i];
                }
            }
            scratch.stays.resize(n * L, 0);
            let stays = scratch.stays.as_chunks_mut::<L>().0;
            let (committed, reassigns) = decide_in_turn(
                scratch.a.as_chunks::<L>().0,
                scratch.b.as_chunks::<L>().0,
                game,
                stays,
            );
            for l in 0..group.len() {
                if reassigns[l] {
                    ends.push(None);
                    continue;
                }
                let d = &mut decision[group[l]..group[l] + n];
                for (&i, stay) in order[l].iter().zip(&*stays) {
                    d[i as usize] = decided(stay[l]);
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
/// whether she stays (`stays[pos][l]`, all ones or zero: [`decided`] makes it a decision), each
/// lane's committed data (from +0.0 in turn; a leaver adds −0.0, which leaves the sum's bits as
/// they are), and whether someone withdrew before the last position (M re-assigns then, and its
/// later decisions here are meaningless).
#[inline(always)]
fn decide_in_turn<const L: usize>(
    realized: &[[f64; L]],
    burden: &[[f64; L]],
    game: &Game,
    stays: &mut [[u64; L]],
) -> ([f64; L], [bool; L]) {
    let n = burden.len();
    let mut committed = [0.0f64; L];
    let mut reassigns = [false; L];
    for (pos, ((cw, x), s)) in realized.iter().zip(burden).zip(stays).enumerate() {
        for l in 0..L {
            let stay = sincere_stays(cw[l], x[l], game.payment, game.value);
            // A mask of the lanes' width (not a byte-sized `Decision`), so the loop vectorises.
            s[l] = 0u64.wrapping_sub(stay as u64);
            committed[l] += super::pick(stay, x[l], -0.0);
            reassigns[l] |= !stay && pos + 1 < n;
        }
    }
    (committed, reassigns)
}

/// The decision a stay mask of [`decide_in_turn`] stands for.
#[inline(always)]
fn decided(stay: u64) -> Decision {
    if stay != 0 {
        Decision::Stay
    } else {
        Decision::Withdraw
    }
}
