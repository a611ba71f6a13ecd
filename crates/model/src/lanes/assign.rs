//! [`crate::assign::assign`] on `L` campaigns at once: caps, water-filling and the
//! sustainability test, lane by lane bit for bit (without events: a traced campaign logs its
//! assignment through the scalar function).

use super::{Isa, LaneScratch, gather, lanes_of, padded, scatter};
use crate::assign::Assignment;
use crate::caps::ir_cap;
use crate::cost::kappa;
use crate::params::Game;

/// [`crate::assign::assign`] (with [`crate::NoEvents`]) of each campaign block: `observed` holds
/// `n` users per block from each of `starts`; block k's caps and burdens go to
/// `cap[starts[k]..][..n]` and `burden[starts[k]..][..n]`, its assignment to `out[k]` (`out` is
/// cleared first). Blocks are computed `isa.lanes()` at a time; a group of one block (a batch's
/// only campaign, as at large n) by the scalar function in place (see [`crate::lanes`], *Memory*).
#[allow(clippy::too_many_arguments)]
pub fn assign_blocks(
    isa: Isa,
    observed: &[f64],
    n: usize,
    starts: &[usize],
    game: &Game,
    (cap, burden): (&mut [f64], &mut [f64]),
    scratch: &mut LaneScratch,
    out: &mut Vec<Assignment>,
) {
    out.clear();
    for_lanes!(isa, L => {
        for group in starts.chunks(L) {
            if let &[start] = group {
                let r = start..start + n;
                out.push(crate::assign::assign(
                    &observed[r.clone()],
                    game,
                    &mut cap[r.clone()],
                    &mut burden[r],
                    &mut scratch.fallback.fill,
                    &mut crate::NoEvents,
                ));
                continue;
            }
            let starts = padded::<L>(group);
            gather(isa, observed, &starts, lanes_of::<L>(&mut scratch.a, n));
            // No burdens gathered: the water-filling writes every burden of a feasible lane
            // and `assign` zeroes an infeasible lane's, as the scalar `assign` does.
            lanes_of::<L>(&mut scratch.b, n);
            lanes_of::<L>(&mut scratch.c, n);
            let observed_l = scratch.a.as_chunks::<L>().0;
            let cap_l = scratch.b.as_chunks_mut::<L>().0;
            let burden_l = scratch.c.as_chunks_mut::<L>().0;
            let a = assign(observed_l, game, cap_l, burden_l, &mut scratch.fallback);
            scatter(isa, cap_l, &starts, group.len(), cap);
            scatter(isa, burden_l, &starts, group.len(), burden);
            out.extend_from_slice(&a[..group.len()]);
        }
    })
}

/// [`crate::assign::assign`] of each lane, bit for bit.
#[inline(always)]
pub(crate) fn assign<const L: usize>(
    observed: &[[f64; L]],
    game: &Game,
    cap: &mut [[f64; L]],
    burden: &mut [[f64; L]],
    fallback: &mut super::Fallback,
) -> [Assignment; L] {
    for (u, c) in cap.iter_mut().zip(observed) {
        for l in 0..L {
            u[l] = ir_cap(c[l], game.payment, game.value);
        }
    }
    let n = observed.len() as f64;
    let fill = super::waterfill::water_fill(
        observed,
        cap,
        game.need(),
        game.tolerance(),
        burden,
        fallback,
    );
    // Σ κ(c̃_i, x_i) in user order from −0.0, as `Iterator::sum`; the users below their cap.
    let mut estimated_cost = [-0.0f64; L];
    let mut backstoppers = [0u32; L];
    for ((c, x), u) in observed.iter().zip(&*burden).zip(&*cap) {
        for l in 0..L {
            estimated_cost[l] += kappa(c[l], x[l]);
            backstoppers[l] += (x[l] < u[l] - 1e-9) as u32;
        }
    }
    let mut assignment = [Assignment {
        sustainable: false,
        backstoppers: 0,
        estimated_cost: f64::INFINITY,
    }; L];
    for l in 0..L {
        if fill[l].is_err() {
            for x in burden.iter_mut() {
                x[l] = 0.0;
            }
            continue;
        }
        assignment[l] = Assignment {
            sustainable: estimated_cost[l] <= n * game.value,
            backstoppers: backstoppers[l],
            estimated_cost: estimated_cost[l],
        };
    }
    assignment
}
