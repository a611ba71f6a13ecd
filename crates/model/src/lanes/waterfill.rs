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
            let r = water_fill(isa, cost_l, hi_l, need, tol, out_l, &mut scratch.fallback);
            scatter(isa, out_l, &starts, group.len(), out);
            results.extend_from_slice(&r[..group.len()]);
        }
    })
}

/// [`crate::waterfill::water_fill`] of each lane (`cost[i][l]`, `hi[i][l]`: user i of lane l),
/// bit for bit; an infeasible lane's `out` is left as it was, as the scalar function leaves it.
#[inline(always)]
pub(crate) fn water_fill<const L: usize>(
    isa: Isa,
    cost: &[[f64; L]],
    hi: &[[f64; L]],
    need: f64,
    tol: f64,
    out: &mut [[f64; L]],
    fallback: &mut Fallback,
) -> [Result<f64, Infeasible>; L] {
    let sums = sums(isa, cost, hi);
    water_fill_summed(isa, (cost, hi), sums, (need, tol), out, fallback)
}

/// Σ hi_i, and Σ hi_i over the zero-cost users, in user order from Rust's −0.0 (a filtered-out
/// user adds −0.0, which leaves every sum's bits as they are); under AVX2 or AVX-512 with
/// intrinsics ([`x86::sums_quads`], the same additions).
#[inline(always)]
fn sums<const L: usize>(isa: Isa, cost: &[[f64; L]], hi: &[[f64; L]]) -> ([f64; L], [f64; L]) {
    #[cfg(target_arch = "x86_64")]
    if isa != Isa::Baseline && L.is_multiple_of(4) {
        // SAFETY: an `Isa` other than the baseline reaches a kernel only through
        // [`super::run`], which checked that the CPU runs AVX2 (or AVX-512F, which implies it).
        return unsafe { x86::sums_quads(cost, hi) };
    }
    let _ = isa;
    let (mut capacity, mut free) = ([-0.0f64; L], [-0.0f64; L]);
    for (c, h) in cost.iter().zip(hi) {
        for l in 0..L {
            capacity[l] += h[l];
            free[l] += pick(c[l] <= 0.0, h[l], -0.0);
        }
    }
    (capacity, free)
}

/// [`water_fill`] given each lane's capacity Σ hi_i and free data (as [`sums`] computes them).
#[inline(always)]
pub(crate) fn water_fill_summed<const L: usize>(
    isa: Isa,
    (cost, hi): (&[[f64; L]], &[[f64; L]]),
    (capacity, free): ([f64; L], [f64; L]),
    (need, tol): (f64, f64),
    out: &mut [[f64; L]],
    fallback: &mut Fallback,
) -> [Result<f64, Infeasible>; L] {
    let n = cost.len();
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
    #[cfg(target_arch = "x86_64")]
    if isa != Isa::Baseline && L.is_multiple_of(4) {
        // SAFETY: as in `sums`.
        let level = unsafe { x86::small_level_quads((cost, hi), (need, &free), &common, fallback) };
        // SAFETY: as above.
        unsafe { x86::burdens_quads((cost, hi), &level, &common, out) };
        for l in 0..L {
            if common[l] {
                results[l] = Ok(level[l]);
            }
        }
        return results;
    }
    let _ = isa;
    let level = small_level((cost, hi), (need, &free), &common, fallback);
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

/// The sort-free level's per-user terms (1/c_i, the cap and the breakpoint), `n` users each in
/// lanes, in the reused buffers.
#[inline(always)]
fn level_terms<const L: usize>(buffers: &mut Fallback, n: usize) -> TermsMut<'_, L> {
    let [inv, cap, breakpoint] = &mut buffers.level;
    (
        lanes_of::<L>(inv, n),
        lanes_of::<L>(cap, n),
        lanes_of::<L>(breakpoint, n),
    )
}

/// [`level_terms`]' buffers.
type TermsMut<'a, const L: usize> = (&'a mut [[f64; L]], &'a mut [[f64; L]], &'a mut [[f64; L]]);

/// `crate::waterfill::small_level` of each lane in `active`, in lock step: every round sums
/// all lanes; a lane that has converged keeps its answer while the others go on. The per-user
/// terms live in `buffers` (every one written before it is read: no zeroed stack arrays).
#[inline(always)]
fn small_level<const L: usize>(
    (cost, hi): (&[[f64; L]], &[[f64; L]]),
    (need, free): (f64, &[f64; L]),
    active: &[bool; L],
    buffers: &mut Fallback,
) -> [f64; L] {
    debug_assert!(cost.len() <= SMALL);
    let (inv, cap, breakpoint) = level_terms::<L>(buffers, cost.len());
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

/// The AVX2 forms of [`sums`], [`small_level`] and the burdens of [`water_fill_summed`]: four
/// lanes per 256-bit register, each lane the generic code's IEEE operations on the same operands
/// in the same order (selects as blends of all-ones or zero masks).
#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::{
        __m256d, _CMP_EQ_OQ, _CMP_GT_OQ, _CMP_LE_OQ, _CMP_LT_OQ, _CMP_UNORD_Q, _mm256_add_pd,
        _mm256_and_pd, _mm256_andnot_pd, _mm256_castpd_si256, _mm256_castsi256_pd, _mm256_cmp_pd,
        _mm256_cmpeq_epi64, _mm256_cmpgt_epi64, _mm256_div_pd, _mm256_min_pd, _mm256_mul_pd,
        _mm256_or_pd, _mm256_set1_pd, _mm256_setzero_pd, _mm256_sub_epi64, _mm256_sub_pd,
    };

    use super::super::quad::{any, flags, get, put, select};
    use super::{Fallback, level_terms};

    /// [`super::sums`]: one add per user and sum, in user order, from −0.0.
    #[inline]
    #[target_feature(enable = "avx2")]
    pub(super) fn sums_quads<const L: usize>(
        cost: &[[f64; L]],
        hi: &[[f64; L]],
    ) -> ([f64; L], [f64; L]) {
        let (mut capacity, mut free) = ([-0.0f64; L], [-0.0f64; L]);
        for q in (0..L).step_by(4) {
            let (mut c_sum, mut f_sum) = (_mm256_set1_pd(-0.0), _mm256_set1_pd(-0.0));
            for (c, h) in cost.iter().zip(hi) {
                let (c, h) = (get(c, q), get(h, q));
                c_sum = _mm256_add_pd(c_sum, h);
                let zero_cost = _mm256_cmp_pd::<_CMP_LE_OQ>(c, _mm256_setzero_pd());
                f_sum = _mm256_add_pd(f_sum, select(zero_cost, h, _mm256_set1_pd(-0.0)));
            }
            put(&mut capacity, q, c_sum);
            put(&mut free, q, f_sum);
        }
        (capacity, free)
    }

    /// Each user's breakpoint, cap and slope (`crate::waterfill::small_level`'s terms) in lanes.
    type Terms<'a, const L: usize> = (&'a [[f64; L]], &'a [[f64; L]], &'a [[f64; L]]);

    /// Per lane: Σ over the users of `cap` where capped (breakpoint below `level`), from the
    /// lane's free data; Σ of `inv` where not capped, from +0.0; and how many are capped (one
    /// round of `crate::waterfill::small_level`, its sums in user order).
    #[inline]
    #[target_feature(enable = "avx2")]
    fn round<const L: usize>(
        (breakpoint, cap, inv): Terms<'_, L>,
        q: usize,
        level: __m256d,
        free: __m256d,
    ) -> (__m256d, __m256d, __m256d) {
        let mut sums = (free, _mm256_setzero_pd(), _mm256_setzero_pd());
        // Two users per iteration (the loop's own instructions were a third of it), in order.
        let ((b2, b1), (u2, u1), (v2, v1)) = (
            breakpoint.as_chunks::<2>(),
            cap.as_chunks::<2>(),
            inv.as_chunks::<2>(),
        );
        for ((b, u), v) in b2.iter().zip(u2).zip(v2) {
            for k in 0..2 {
                sums = add_user(sums, (get(&b[k], q), get(&u[k], q), get(&v[k], q)), level);
            }
        }
        for ((b, u), v) in b1.iter().zip(u1).zip(v1) {
            sums = add_user(sums, (get(b, q), get(u, q), get(v, q)), level);
        }
        sums
    }

    /// One user's terms (breakpoint, cap, slope) added to a round's sums at `level`.
    #[inline]
    #[target_feature(enable = "avx2")]
    fn add_user(
        (capped, slope, count): (__m256d, __m256d, __m256d),
        (b, u, v): (__m256d, __m256d, __m256d),
        level: __m256d,
    ) -> (__m256d, __m256d, __m256d) {
        let is_capped = _mm256_cmp_pd::<_CMP_LT_OQ>(b, level);
        // The count as a 64-bit integer: minus the all-ones mask adds one.
        let count = _mm256_sub_epi64(_mm256_castpd_si256(count), _mm256_castpd_si256(is_capped));
        (
            _mm256_add_pd(capped, _mm256_and_pd(is_capped, u)),
            _mm256_add_pd(slope, _mm256_andnot_pd(is_capped, v)),
            _mm256_castsi256_pd(count),
        )
    }

    /// [`super::small_level`] of each lane in `active`. The scalar loop sums a round at the
    /// level, computes the next level, and counts the users capped at it, returning when that
    /// count equals the round's; here the count at the next level comes with that level's round
    /// (the same comparisons), so a lane that goes on has its next round's sums already: one
    /// pass over the users per round instead of two. A lane keeps its answer once it has one.
    #[inline]
    #[target_feature(enable = "avx2")]
    pub(super) fn small_level_quads<const L: usize>(
        (cost, hi): (&[[f64; L]], &[[f64; L]]),
        (need, free): (f64, &[f64; L]),
        active: &[bool; L],
        buffers: &mut Fallback,
    ) -> [f64; L] {
        let (inv, cap, breakpoint) = level_terms::<L>(buffers, cost.len());
        let (zero, one, infinity) = (
            _mm256_setzero_pd(),
            _mm256_set1_pd(1.0),
            _mm256_set1_pd(f64::INFINITY),
        );
        let need = _mm256_set1_pd(need);
        let mut answer = [0.0f64; L];
        for q in (0..L).step_by(4) {
            let mut running = flags(active, q);
            if !any(running) {
                continue;
            }
            let free = get(free, q);
            // The per-user terms, and with them the first round (at level 0.0).
            let (mut capped, mut slope, mut count) = (free, zero, zero);
            let terms = inv
                .iter_mut()
                .zip(cap.iter_mut().zip(breakpoint.iter_mut()));
            for ((c, h), (v, (u, b))) in cost.iter().zip(hi).zip(terms) {
                let (c, h) = (get(c, q), get(h, q));
                let positive = _mm256_cmp_pd::<_CMP_GT_OQ>(c, zero);
                let (v_i, u_i) = (
                    _mm256_and_pd(positive, _mm256_div_pd(one, c)),
                    _mm256_and_pd(positive, h),
                );
                let b_i = select(positive, _mm256_mul_pd(h, c), infinity);
                put(v, q, v_i);
                put(u, q, u_i);
                put(b, q, b_i);
                (capped, slope, count) = add_user((capped, slope, count), (b_i, u_i, v_i), zero);
            }
            let rows = (&*breakpoint, &*cap, &*inv);
            let mut last = zero;
            let mut answer_q = zero;
            loop {
                let quotient = _mm256_div_pd(_mm256_sub_pd(need, capped), slope);
                let next = select(_mm256_cmp_pd::<_CMP_GT_OQ>(slope, zero), quotient, infinity);
                let done = _mm256_and_pd(
                    running,
                    _mm256_or_pd(_mm256_cmp_pd::<_CMP_EQ_OQ>(next, infinity), last),
                );
                answer_q = select(done, next, answer_q);
                running = _mm256_andnot_pd(done, running);
                if !any(running) {
                    break;
                }
                let (capped_next, slope_next, count_next) = round(rows, q, next, free);
                let (count_i, count_next_i) =
                    (_mm256_castpd_si256(count), _mm256_castpd_si256(count_next));
                let same = _mm256_castsi256_pd(_mm256_cmpeq_epi64(count_next_i, count_i));
                let done = _mm256_and_pd(running, same);
                answer_q = select(done, next, answer_q);
                running = _mm256_andnot_pd(done, running);
                if !any(running) {
                    break;
                }
                // Fewer capped at the next level than at this one: its round is the last.
                last = _mm256_castsi256_pd(_mm256_cmpgt_epi64(count_i, count_next_i));
                (capped, slope, count) = (capped_next, slope_next, count_next);
            }
            put(&mut answer, q, answer_q);
        }
        answer
    }

    /// The burdens of the `common` lanes at their `level`: x_i = hi_i for a zero-cost user, else
    /// min(λ/c_i, hi_i) as `f64::min` computes it (x86's `minnum`: `hi` if the quotient is NaN,
    /// else `vminpd(hi, quotient)`); the other lanes' burdens are left as they are.
    #[inline]
    #[target_feature(enable = "avx2")]
    pub(super) fn burdens_quads<const L: usize>(
        (cost, hi): (&[[f64; L]], &[[f64; L]]),
        level: &[f64; L],
        common: &[bool; L],
        out: &mut [[f64; L]],
    ) {
        for q in (0..L).step_by(4) {
            let common = flags(common, q);
            if !any(common) {
                continue;
            }
            let level = get(level, q);
            for ((x, c), h) in out.iter_mut().zip(cost).zip(hi) {
                let (c, h) = (get(c, q), get(h, q));
                let quotient = _mm256_div_pd(level, c);
                let nan = _mm256_cmp_pd::<_CMP_UNORD_Q>(quotient, quotient);
                let least = select(nan, h, _mm256_min_pd(h, quotient));
                let zero_cost = _mm256_cmp_pd::<_CMP_LE_OQ>(c, _mm256_setzero_pd());
                let v = select(zero_cost, h, least);
                put(x, q, select(common, v, get(x, q)));
            }
        }
    }
}
