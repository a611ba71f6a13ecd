//! S's decisions ([`crate::withdraw::simultaneous`]'s first batch) of `L` campaigns at once,
//! for a population of sincere users off a network, without events: every user's stay-or-leave
//! and the data committed, lane by lane bit for bit.

use super::{Isa, LaneScratch, gather, lanes_of, run};
use crate::caps::sincere_stays;
use crate::params::Game;
use crate::withdraw::Decision;

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
    run(isa, |isa| match isa.lanes() {
        8 => blocks::<8>(
            (realized, burden),
            n,
            starts,
            game,
            decision,
            scratch,
            committed,
        ),
        _ => blocks::<4>(
            (realized, burden),
            n,
            starts,
            game,
            decision,
            scratch,
            committed,
        ),
    })
}

#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn blocks<const L: usize>(
    (realized, burden): (&[f64], &[f64]),
    n: usize,
    starts: &[usize],
    game: &Game,
    decision: &mut [Decision],
    scratch: &mut LaneScratch,
    committed: &mut Vec<f64>,
) {
    for group in starts.chunks(L) {
        let starts = super::padded::<L>(group);
        gather(realized, &starts, lanes_of::<L>(&mut scratch.a, n));
        gather(burden, &starts, lanes_of::<L>(&mut scratch.b, n));
        scratch.decision.resize(n * L, Decision::Undecided);
        let decided = scratch.decision.as_chunks_mut::<L>().0;
        let c = decide_at_once(
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
}

/// Every user of each lane decides sincerely on her burden; returns each lane's committed data
/// (from +0.0 in user order; a leaver adds −0.0, which leaves the sum's bits as they are).
#[inline(always)]
pub(crate) fn decide_at_once<const L: usize>(
    realized: &[[f64; L]],
    burden: &[[f64; L]],
    game: &Game,
    decision: &mut [[Decision; L]],
) -> [f64; L] {
    let mut committed = [0.0f64; L];
    for ((cw, x), d) in realized.iter().zip(burden).zip(decision) {
        for l in 0..L {
            let stay = sincere_stays(cw[l], x[l], game.payment, game.value);
            d[l] = if stay {
                Decision::Stay
            } else {
                Decision::Withdraw
            };
            committed[l] += if stay { x[l] } else { -0.0 };
        }
    }
    committed
}
