//! [`crate::assign::assign`] on `L` campaigns at once: caps, water-filling and the
//! sustainability test, lane by lane bit for bit (without events: a traced campaign logs its
//! assignment through the scalar function).

use super::{Isa, LaneScratch, gather, lanes_of, padded, pick, scatter};
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
            let a = assign(isa, observed_l, game, cap_l, burden_l, &mut scratch.fallback);
            scatter(isa, cap_l, &starts, group.len(), cap);
            scatter(isa, burden_l, &starts, group.len(), burden);
            out.extend_from_slice(&a[..group.len()]);
        }
    })
}

/// [`crate::assign::assign`] of each lane, bit for bit.
#[inline(always)]
pub(crate) fn assign<const L: usize>(
    isa: Isa,
    observed: &[[f64; L]],
    game: &Game,
    cap: &mut [[f64; L]],
    burden: &mut [[f64; L]],
    fallback: &mut super::Fallback,
) -> [Assignment; L] {
    let n = observed.len() as f64;
    let sums = caps(isa, observed, game, cap);
    let fill = super::waterfill::water_fill_summed(
        isa,
        (observed, cap),
        sums,
        (game.need(), game.tolerance()),
        burden,
        fallback,
    );
    let infeasible = fill.map(|r| r.is_err());
    let (estimated_cost, backstoppers) = costs(isa, observed, cap, burden, &infeasible);
    let mut assignment = [Assignment {
        sustainable: false,
        backstoppers: 0,
        estimated_cost: f64::INFINITY,
    }; L];
    for l in 0..L {
        if infeasible[l] {
            continue;
        }
        assignment[l] = Assignment {
            sustainable: estimated_cost[l] <= n * game.value,
            backstoppers: backstoppers[l] as u32,
            estimated_cost: estimated_cost[l],
        };
    }
    assignment
}

/// Each user's IR cap ([`ir_cap`]) into `cap`, and the water-filling's sums over the caps
/// (`crate::lanes::waterfill::sums`: Σ u_i, and Σ u_i over the zero-cost users, from −0.0 in
/// user order); under AVX2 or AVX-512 with intrinsics ([`x86::caps_quads`], the same operations).
#[inline(always)]
fn caps<const L: usize>(
    isa: Isa,
    observed: &[[f64; L]],
    game: &Game,
    cap: &mut [[f64; L]],
) -> ([f64; L], [f64; L]) {
    #[cfg(target_arch = "x86_64")]
    if isa != Isa::Baseline && L.is_multiple_of(4) {
        // SAFETY: an `Isa` other than the baseline reaches a kernel only through
        // [`super::run`], which checked that the CPU runs AVX2 (or AVX-512F, which implies it).
        return unsafe { x86::caps_quads(observed, (game.payment, game.value), cap) };
    }
    let _ = isa;
    let (mut capacity, mut free) = ([-0.0f64; L], [-0.0f64; L]);
    for (u, c) in cap.iter_mut().zip(observed) {
        for l in 0..L {
            u[l] = ir_cap(c[l], game.payment, game.value);
            capacity[l] += u[l];
            free[l] += pick(c[l] <= 0.0, u[l], -0.0);
        }
    }
    (capacity, free)
}

/// Σ κ(c̃_i, x_i) in user order from −0.0, as `Iterator::sum`, and the users below their cap
/// (x_i < u_i − 1e-9), per lane; an infeasible lane's burdens are zeroed, as the scalar
/// `assign` zeroes them. Under AVX2 or AVX-512 with intrinsics ([`x86::costs_quads`]).
#[inline(always)]
fn costs<const L: usize>(
    isa: Isa,
    observed: &[[f64; L]],
    cap: &[[f64; L]],
    burden: &mut [[f64; L]],
    infeasible: &[bool; L],
) -> ([f64; L], [u64; L]) {
    #[cfg(target_arch = "x86_64")]
    if isa != Isa::Baseline && L.is_multiple_of(4) {
        // SAFETY: as in `caps`.
        return unsafe { x86::costs_quads(observed, cap, burden, infeasible) };
    }
    let _ = isa;
    let mut estimated_cost = [-0.0f64; L];
    let mut backstoppers = [0u64; L];
    for ((c, x), u) in observed.iter().zip(&mut *burden).zip(cap) {
        for l in 0..L {
            estimated_cost[l] += kappa(c[l], x[l]);
            backstoppers[l] += (x[l] < u[l] - 1e-9) as u64;
            x[l] = pick(infeasible[l], 0.0, x[l]);
        }
    }
    (estimated_cost, backstoppers)
}

/// The AVX2 forms of [`caps`] and [`costs`]: four lanes per 256-bit register, each lane the
/// scalar code's IEEE operations on the same operands in the same order.
#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::{
        _CMP_LE_OQ, _CMP_LT_OQ, _mm256_add_pd, _mm256_andnot_pd, _mm256_castpd_si256,
        _mm256_castsi256_pd, _mm256_cmp_pd, _mm256_div_pd, _mm256_min_pd, _mm256_mul_pd,
        _mm256_set1_pd, _mm256_setzero_pd, _mm256_setzero_si256, _mm256_sqrt_pd, _mm256_sub_epi64,
        _mm256_sub_pd,
    };

    use super::super::quad::{flags, get, put, put_bits, select};

    /// [`super::caps`]: u = min((p + √(p·p + (2·c)·V)) / c, 1.0), or 1.0 where c ≤ 0
    /// ([`crate::caps::ir_cap`]; `min` with 1.0, never NaN, is `vminpd(x, 1.0)`: 1.0 where x is
    /// NaN, as `f64::min`), then one add per user and sum.
    #[inline]
    #[target_feature(enable = "avx2")]
    pub(super) fn caps_quads<const L: usize>(
        observed: &[[f64; L]],
        (payment, value): (f64, f64),
        cap: &mut [[f64; L]],
    ) -> ([f64; L], [f64; L]) {
        let (mut capacity, mut free) = ([-0.0f64; L], [-0.0f64; L]);
        let (p, v, two, one) = (
            _mm256_set1_pd(payment),
            _mm256_set1_pd(value),
            _mm256_set1_pd(2.0),
            _mm256_set1_pd(1.0),
        );
        let p_squared = _mm256_mul_pd(p, p);
        for q in (0..L).step_by(4) {
            let (mut c_sum, mut f_sum) = (_mm256_set1_pd(-0.0), _mm256_set1_pd(-0.0));
            for (u, c) in cap.iter_mut().zip(observed) {
                let c = get(c, q);
                let root = _mm256_sqrt_pd(_mm256_add_pd(
                    p_squared,
                    _mm256_mul_pd(_mm256_mul_pd(two, c), v),
                ));
                let interior = _mm256_min_pd(_mm256_div_pd(_mm256_add_pd(p, root), c), one);
                let zero_cost = _mm256_cmp_pd::<_CMP_LE_OQ>(c, _mm256_setzero_pd());
                let cap = select(zero_cost, one, interior);
                put(u, q, cap);
                c_sum = _mm256_add_pd(c_sum, cap);
                f_sum = _mm256_add_pd(f_sum, select(zero_cost, cap, _mm256_set1_pd(-0.0)));
            }
            put(&mut capacity, q, c_sum);
            put(&mut free, q, f_sum);
        }
        (capacity, free)
    }

    /// [`super::costs`]: κ as (0.5·c)·x·x added per user in user order from −0.0; the count of
    /// x < u − 1e-9; the burdens of `infeasible` lanes set to +0.0.
    #[inline]
    #[target_feature(enable = "avx2")]
    pub(super) fn costs_quads<const L: usize>(
        observed: &[[f64; L]],
        cap: &[[f64; L]],
        burden: &mut [[f64; L]],
        infeasible: &[bool; L],
    ) -> ([f64; L], [u64; L]) {
        let (mut estimated_cost, mut backstoppers) = ([-0.0f64; L], [0u64; L]);
        let (half, slack) = (_mm256_set1_pd(0.5), _mm256_set1_pd(1e-9));
        for q in (0..L).step_by(4) {
            let infeasible = flags(infeasible, q);
            let mut total = _mm256_set1_pd(-0.0);
            let mut below = _mm256_setzero_si256();
            for ((c, x), u) in observed.iter().zip(burden.iter_mut()).zip(cap) {
                let (c, xv, u) = (get(c, q), get(x, q), get(u, q));
                let kappa = _mm256_mul_pd(_mm256_mul_pd(_mm256_mul_pd(half, c), xv), xv);
                total = _mm256_add_pd(total, kappa);
                let is_below = _mm256_cmp_pd::<_CMP_LT_OQ>(xv, _mm256_sub_pd(u, slack));
                below = _mm256_sub_epi64(below, _mm256_castpd_si256(is_below));
                put(x, q, _mm256_andnot_pd(infeasible, xv));
            }
            put(&mut estimated_cost, q, total);
            put_bits(&mut backstoppers, q, _mm256_castsi256_pd(below));
        }
        (estimated_cost, backstoppers)
    }
}
