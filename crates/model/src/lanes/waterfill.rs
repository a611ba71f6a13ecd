//! [`crate::waterfill::water_fill`] on `L` campaigns at once: the sort-free level of
//! [`crate::waterfill`]'s small instances iterated in lock step, each lane masked once it has
//! converged, until every lane has.

use super::{Fallback, Isa, LaneScratch, gather, lane, lanes_of, padded, pick, scatter, set_lane};
use crate::waterfill::{Infeasible, SMALL, water_fill as scalar_water_fill};

/// [`crate::waterfill::water_fill`] of each campaign block: `cost` and `hi` are columns holding
/// `n` users per block from each of `starts`; block k's burdens go to `out[starts[k]..][..n]`
/// and its result to `results[k]` (cleared first). Blocks are computed `isa.lanes()` at a time.
#[allow(clippy::too_many_arguments)]
pub fn water_fill_blocks(
    isa: Isa,
    (cost, hi): (&[f64], &[f64]),
    n: usize,
    starts: &[usize],
    (need, tol): (f64, f64),
    out: &mut [f64],
    scratch: &mut LaneScratch,
    results: &mut Vec<Result<f64, Infeasible>>,
) {
    results.clear();
    for_lanes!(isa, L => {
        for group in starts.chunks(L) {
            let starts = padded::<L>(group);
            let cost_l = lanes_of::<L>(&mut scratch.a, n);
            gather(isa, cost, &starts, cost_l);
            let hi_l = lanes_of::<L>(&mut scratch.b, n);
            gather(isa, hi, &starts, hi_l);
            let out_l = lanes_of::<L>(&mut scratch.c, n);
            gather(isa, out, &starts, out_l);
            let (cost_l, hi_l) = (scratch.a.as_chunks::<L>().0, scratch.b.as_chunks::<L>().0);
            let out_l = scratch.c.as_chunks_mut::<L>().0;
            let r = water_fill(cost_l, hi_l, need, tol, out_l, &mut scratch.fallback);
            scatter(isa, out_l, &starts, group.len(), out);
            results.extend_from_slice(&r[..group.len()]);
        }
    })
}

/// [`crate::waterfill::water_fill`] of each lane (`cost[i][l]`, `hi[i][l]`: user i of lane l),
/// bit for bit; an infeasible lane's `out` is left as it was, as the scalar function leaves it.
#[inline(always)]
pub(crate) fn water_fill<const L: usize>(
    cost: &[[f64; L]],
    hi: &[[f64; L]],
    need: f64,
    tol: f64,
    out: &mut [[f64; L]],
    fallback: &mut Fallback,
) -> [Result<f64, Infeasible>; L] {
    let n = cost.len();
    // Σ hi_i, and Σ hi_i over the zero-cost users, in user order from Rust's −0.0 (a filtered-out
    // user adds −0.0, which leaves every sum's bits as they are).
    let (mut capacity, mut free) = ([-0.0f64; L], [-0.0f64; L]);
    for (c, h) in cost.iter().zip(hi) {
        for l in 0..L {
            capacity[l] += h[l];
            free[l] += pick(c[l] <= 0.0, h[l], -0.0);
        }
    }
    let mut results = [Ok(0.0); L];
    // Lanes on the sort-free path; the others are infeasible or computed by the scalar code.
    let mut common = [false; L];
    for l in 0..L {
        if capacity[l] < need - tol {
            results[l] = Err(Infeasible {
                capacity: capacity[l],
            });
        } else if free[l] >= need - tol || n > SMALL {
            let f = &mut *fallback;
            lane(cost, l, &mut f.cost);
            lane(hi, l, &mut f.hi);
            lane(out, l, &mut f.out);
            results[l] = scalar_water_fill(&f.cost, &f.hi, need, tol, &mut f.out, &mut f.fill);
            set_lane(out, l, &f.out);
        } else {
            common[l] = true;
        }
    }
    if !common.contains(&true) {
        return results;
    }
    let level = small_level(cost, hi, need, &free, &common, fallback);
    for (x, c) in out.iter_mut().zip(cost) {
        for l in 0..L {
            let v = level[l] / c[l];
            x[l] = pick(common[l], v, x[l]);
        }
    }
    for ((x, c), h) in out.iter_mut().zip(cost).zip(hi) {
        for l in 0..L {
            let v = pick(c[l] <= 0.0, h[l], x[l].min(h[l]));
            x[l] = pick(common[l], v, x[l]);
        }
    }
    for l in 0..L {
        if common[l] {
            results[l] = Ok(level[l]);
        }
    }
    results
}

/// `crate::waterfill::small_level` of each lane in `active`, in lock step: every round sums
/// all lanes; a lane that has converged keeps its answer while the others go on. The per-user
/// terms live in `buffers` (every one written before it is read: no zeroed stack arrays).
#[inline(always)]
fn small_level<const L: usize>(
    cost: &[[f64; L]],
    hi: &[[f64; L]],
    need: f64,
    free: &[f64; L],
    active: &[bool; L],
    buffers: &mut Fallback,
) -> [f64; L] {
    let n = cost.len();
    debug_assert!(n <= SMALL);
    let [inv, cap, breakpoint] = &mut buffers.level;
    let (inv, cap, breakpoint) = (
        lanes_of::<L>(inv, n),
        lanes_of::<L>(cap, n),
        lanes_of::<L>(breakpoint, n),
    );
    for ((((v, u), b), c), h) in inv
        .iter_mut()
        .zip(cap.iter_mut())
        .zip(breakpoint.iter_mut())
        .zip(cost)
        .zip(hi)
    {
        for l in 0..L {
            let positive = c[l] > 0.0;
            v[l] = pick(positive, 1.0 / c[l], 0.0);
            u[l] = pick(positive, h[l], 0.0);
            b[l] = pick(positive, h[l] * c[l], f64::INFINITY);
        }
    }
    let (inv, cap, breakpoint) = (&*inv, &*cap, &*breakpoint);
    let mut level = [0.0f64; L];
    let mut last = [false; L];
    let mut running = *active;
    let mut answer = [0.0f64; L];
    loop {
        let mut capped = *free;
        let mut slope = [0.0f64; L];
        let mut count = [0u64; L];
        for ((b, u), v) in breakpoint.iter().zip(cap).zip(inv) {
            for l in 0..L {
                // All ones where capped: the selects as bit masks (+0.0 is all zeros), which
                // vectorise where LLVM turned the selects into branches per lane.
                let capped_mask = 0u64.wrapping_sub((b[l] < level[l]) as u64);
                capped[l] += f64::from_bits(u[l].to_bits() & capped_mask);
                slope[l] += f64::from_bits(v[l].to_bits() & !capped_mask);
                count[l] = count[l].wrapping_sub(capped_mask);
            }
        }
        let mut next = [0.0f64; L];
        for l in 0..L {
            let q = (need - capped[l]) / slope[l];
            next[l] = pick(slope[l] > 0.0, q, f64::INFINITY);
        }
        let mut capped_at_next = [0u64; L];
        for b in breakpoint {
            for l in 0..L {
                capped_at_next[l] += (b[l] < next[l]) as u64;
            }
        }
        let mut any = false;
        for l in 0..L {
            if !running[l] {
                continue;
            }
            if next[l] == f64::INFINITY || last[l] || capped_at_next[l] == count[l] {
                answer[l] = next[l];
                running[l] = false;
            } else {
                last[l] = capped_at_next[l] < count[l];
                level[l] = next[l];
                any = true;
            }
        }
        if !any {
            return answer;
        }
    }
}
