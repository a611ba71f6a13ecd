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
                isa,
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
            // Each lane's decision order, sliced once per group.
            let order: [&[u32]; L] =
                std::array::from_fn(|l| &orders[(g * L + lane(l)) * n..][..n]);
            let starts: [usize; L] = std::array::from_fn(|l| group[lane(l)]);
            // Users in each lane's decision order.
            let realized_l = lanes_of::<L>(&mut scratch.a, n);
            let burden_l = lanes_of::<L>(&mut scratch.b, n);
            gather_in_order(isa, (realized, burden), &starts, &order, (realized_l, burden_l));
            scratch.stays.resize(n * L, 0);
            let stays = scratch.stays.as_chunks_mut::<L>().0;
            let (committed, reassigns) = decide_in_turn(
                isa,
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
                // Everyone before the last position stayed (else the lane re-assigns), and
                // the order is a permutation: every user stays but perhaps the last.
                let d = &mut decision[group[l]..group[l] + n];
                d.fill(Decision::Stay);
                d[order[l][n - 1] as usize] = decided(stays[n - 1][l]);
                ends.push(Some(ProtocolEnd::Trained {
                    committed: committed[l],
                }));
            }
        }
    })
}

/// Each lane's users in its decision order: `out.0[pos][l] = realized[starts[l] + order[l][pos]]`,
/// and the same of `burden` into `out.1`. Under AVX2 or AVX-512 with gathers
/// ([`x86::gather_in_order_quads`]), else value by value. Panics if an order holds an index
/// of n or more.
#[inline(always)]
fn gather_in_order<const L: usize>(
    isa: Isa,
    (realized, burden): (&[f64], &[f64]),
    starts: &[usize; L],
    order: &[&[u32]; L],
    out: (&mut [[f64; L]], &mut [[f64; L]]),
) {
    let n = out.0.len();
    #[cfg(target_arch = "x86_64")]
    if isa != Isa::Baseline
        && L.is_multiple_of(4)
        && realized.len() == burden.len()
        && i32::try_from(realized.len()).is_ok()
    {
        // SAFETY: an `Isa` other than the baseline reaches a kernel only through
        // [`super::run`], which checked that the CPU runs AVX2 (or AVX-512F, which implies it).
        unsafe { x86::gather_in_order_quads((realized, burden), starts, order, out) };
        return;
    }
    let _ = isa;
    let realized_b: [&[f64]; L] = std::array::from_fn(|l| &realized[starts[l]..][..n]);
    let burden_b: [&[f64]; L] = std::array::from_fn(|l| &burden[starts[l]..][..n]);
    for (pos, (cw, x)) in out.0.iter_mut().zip(out.1.iter_mut()).enumerate() {
        for l in 0..L {
            let i = order[l][pos] as usize;
            cw[l] = realized_b[l][i];
            x[l] = burden_b[l][i];
        }
    }
}

/// Every user of each lane decides sincerely on her burden, in turn (`realized[pos]`,
/// `burden[pos]`: the user at position pos, in user order for S, in decision order for M):
/// whether she stays (`stays[pos][l]`, all ones or zero: [`decided`] makes it a decision), each
/// lane's committed data (from +0.0 in turn; a leaver adds −0.0, which leaves the sum's bits as
/// they are), and whether someone withdrew before the last position (M re-assigns then, and its
/// later decisions here are meaningless).
///
/// Under AVX2 or AVX-512 with intrinsics ([`x86::decide_quads`], the same operations).
#[inline(always)]
fn decide_in_turn<const L: usize>(
    isa: Isa,
    realized: &[[f64; L]],
    burden: &[[f64; L]],
    game: &Game,
    stays: &mut [[u64; L]],
) -> ([f64; L], [bool; L]) {
    #[cfg(target_arch = "x86_64")]
    if isa != Isa::Baseline && L.is_multiple_of(4) {
        // SAFETY: as in `gather_in_order`.
        return unsafe { x86::decide_quads((realized, burden), (game.payment, game.value), stays) };
    }
    let _ = isa;
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

/// The AVX2 forms of [`decide_in_turn`] and [`gather_in_order`].
#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::{
        __m128i, _CMP_EQ_OQ, _CMP_LE_OQ, _mm_add_epi32, _mm_and_si128, _mm_castps_si128,
        _mm_castsi128_ps, _mm_cmpeq_epi32, _mm_loadu_si128, _mm_min_epu32, _mm_movemask_epi8,
        _mm_set1_epi32, _mm_setr_epi32, _mm_shuffle_ps, _mm_unpackhi_ps, _mm_unpacklo_ps,
        _mm256_add_pd, _mm256_and_pd, _mm256_cmp_pd, _mm256_i32gather_pd, _mm256_movemask_pd,
        _mm256_mul_pd, _mm256_set1_pd, _mm256_setzero_pd,
    };

    use super::super::quad::{get, put, put_bits, select};

    /// [`super::decide_in_turn`]: stay iff (0.5·c)·x·x ≤ V + p·x ([`crate::caps::sincere_stays`]),
    /// committed += x or −0.0 in turn from +0.0, re-assigning where someone before the last
    /// position leaves.
    #[inline]
    #[target_feature(enable = "avx2")]
    pub(super) fn decide_quads<const L: usize>(
        (realized, burden): (&[[f64; L]], &[[f64; L]]),
        (payment, value): (f64, f64),
        stays: &mut [[u64; L]],
    ) -> ([f64; L], [bool; L]) {
        let n = burden.len();
        let (mut committed, mut reassigns) = ([0.0f64; L], [false; L]);
        let (half, p, v, minus_zero) = (
            _mm256_set1_pd(0.5),
            _mm256_set1_pd(payment),
            _mm256_set1_pd(value),
            _mm256_set1_pd(-0.0),
        );
        for q in (0..L).step_by(4) {
            let mut total = _mm256_setzero_pd();
            // All ones while everyone before the last position has stayed.
            let mut kept = _mm256_cmp_pd::<_CMP_EQ_OQ>(total, total);
            for (pos, ((cw, x), s)) in realized.iter().zip(burden).zip(&mut *stays).enumerate() {
                let (cw, x) = (get(cw, q), get(x, q));
                let kappa = _mm256_mul_pd(_mm256_mul_pd(_mm256_mul_pd(half, cw), x), x);
                let stay =
                    _mm256_cmp_pd::<_CMP_LE_OQ>(kappa, _mm256_add_pd(v, _mm256_mul_pd(p, x)));
                put_bits(s, q, stay);
                total = _mm256_add_pd(total, select(stay, x, minus_zero));
                if pos + 1 < n {
                    kept = _mm256_and_pd(kept, stay);
                }
            }
            put(&mut committed, q, total);
            let kept = _mm256_movemask_pd(kept);
            for (l, r) in reassigns[q..q + 4].iter_mut().enumerate() {
                *r = kept & (1 << l) == 0;
            }
        }
        (committed, reassigns)
    }

    /// [`super::gather_in_order`] with `vgatherdpd`: per position, each lane's index
    /// `starts[l] + order[l][pos]` (32-bit; the columns are shorter than 2³¹, checked by the
    /// caller), the orders read four positions at a time and transposed. An index of n or more
    /// is clamped to n − 1 for the loads, and then panics.
    #[inline]
    #[target_feature(enable = "avx2")]
    pub(super) fn gather_in_order_quads<const L: usize>(
        (realized, burden): (&[f64], &[f64]),
        starts: &[usize; L],
        order: &[&[u32]; L],
        (realized_l, burden_l): (&mut [[f64; L]], &mut [[f64; L]]),
    ) {
        let n = realized_l.len();
        assert!(n > 0 && burden_l.len() == n && realized.len() == burden.len());
        assert!(starts.iter().all(|&s| s + n <= realized.len()));
        assert!(order.iter().all(|o| o.len() == n));
        let last = _mm_set1_epi32((n - 1) as i32);
        // All ones while every index is below n.
        let mut within = _mm_cmpeq_epi32(last, last);
        for q in (0..L).step_by(4) {
            let base = _mm_setr_epi32(
                starts[q] as i32,
                starts[q + 1] as i32,
                starts[q + 2] as i32,
                starts[q + 3] as i32,
            );
            let mut row = |pos: usize, index: __m128i| {
                let clamped = _mm_min_epu32(index, last);
                within = _mm_and_si128(within, _mm_cmpeq_epi32(clamped, index));
                let index = _mm_add_epi32(clamped, base);
                // SAFETY: every index is starts[l] + i with i ≤ n − 1, in both columns
                // (checked above).
                unsafe {
                    put(
                        &mut realized_l[pos],
                        q,
                        _mm256_i32gather_pd::<8>(realized.as_ptr(), index),
                    );
                    put(
                        &mut burden_l[pos],
                        q,
                        _mm256_i32gather_pd::<8>(burden.as_ptr(), index),
                    );
                }
            };
            let whole = n / 4 * 4;
            for pos in (0..whole).step_by(4) {
                // Four positions of each of four lanes, transposed to four positions' indices.
                // SAFETY: pos + 4 ≤ n, each order's length.
                let [a, b, c, d] = std::array::from_fn(|k| unsafe {
                    _mm_castsi128_ps(_mm_loadu_si128(order[q + k].as_ptr().add(pos).cast()))
                });
                let (t0, t1) = (_mm_unpacklo_ps(a, b), _mm_unpacklo_ps(c, d));
                let (t2, t3) = (_mm_unpackhi_ps(a, b), _mm_unpackhi_ps(c, d));
                row(pos, _mm_castps_si128(_mm_shuffle_ps::<0x44>(t0, t1)));
                row(pos + 1, _mm_castps_si128(_mm_shuffle_ps::<0xEE>(t0, t1)));
                row(pos + 2, _mm_castps_si128(_mm_shuffle_ps::<0x44>(t2, t3)));
                row(pos + 3, _mm_castps_si128(_mm_shuffle_ps::<0xEE>(t2, t3)));
            }
            let tail = |k: usize| &order[q + k][whole..];
            let tails = tail(0).iter().zip(tail(1)).zip(tail(2).iter().zip(tail(3)));
            for (pos, ((a, b), (c, d))) in (whole..n).zip(tails) {
                row(
                    pos,
                    _mm_setr_epi32(*a as i32, *b as i32, *c as i32, *d as i32),
                );
            }
        }
        assert!(
            _mm_movemask_epi8(within) == 0xFFFF,
            "an order index beyond its campaign"
        );
    }
}
