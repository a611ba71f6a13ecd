//! M's decision order ([`crate::withdraw::decision_order`]) of `L` campaigns at once: the same
//! counting rank as the scalar code, each comparison one vector comparison across the lanes.

use super::{Isa, LaneScratch, gather_blocks, lanes_of};
use crate::withdraw::{RANK_SORT_MAX, order_by};

/// The decision order of each campaign whose sort key is `keys[k]` (n users each; see
/// [`crate::withdraw::order_key_of`]), descending for large-first: campaign k's order goes to
/// `out[k·n..(k + 1)·n]` (resized). Equal to [`crate::withdraw::decision_order`] for every
/// campaign, ties included; a campaign with a key outside [+0, +∞] or more than 64 users is
/// ordered by the scalar code.
pub fn order_blocks(
    isa: Isa,
    keys: &[&[f64]],
    n: usize,
    descending: bool,
    out: &mut Vec<u32>,
    scratch: &mut LaneScratch,
) {
    out.clear();
    out.resize(keys.len() * n, 0);
    for_lanes!(isa, L => {
        for (g, group) in keys.chunks(L).enumerate() {
            let key = |l: usize| group[l.min(group.len() - 1)];
            let (first, used) = (g * L, group.len());
            // Large campaigns take the scalar code; so do lanes with a key outside +0.0..=+∞
            // (found below), where floats do not compare in `f64::total_cmp`'s order (the
            // scalar code's fast path).
            let mut scalar = [n > RANK_SORT_MAX; L];
            if n <= RANK_SORT_MAX {
                let mut lanes_buf = std::mem::take(&mut scratch.a);
                let lanes = lanes_of::<L>(&mut lanes_buf, n);
                gather_blocks(isa, &std::array::from_fn(|l| &key(l)[..n]), lanes);
                scalar = outside_floats(isa, lanes);
                if scalar.contains(&true) {
                    // Ranked by the scalar code below; 0.0 keeps the lane's comparisons defined.
                    for user in lanes.iter_mut() {
                        for l in 0..L {
                            user[l] = if scalar[l] { 0.0 } else { user[l] };
                        }
                    }
                }
                if scalar[..used].contains(&false) {
                    // Every rank is written before it is read: no zeroed array.
                    scratch.rank.resize(n * L, 0);
                    let rank = scratch.rank.as_chunks_mut::<L>().0;
                    if descending {
                        rank_lanes::<L, true>(isa, lanes, rank);
                    } else {
                        rank_lanes::<L, false>(isa, lanes, rank);
                    }
                    // Each lane's ranks are a permutation of 0..n: user i goes to her rank;
                    // with every lane ranked here (the common case), all lanes per user.
                    let mut orders = out[first * n..(first + used) * n].chunks_exact_mut(n);
                    if used == L && !scalar.contains(&true) {
                        let order: [&mut [u32]; L] =
                            std::array::from_fn(|_| orders.next().expect("L blocks"));
                        for (i, r) in rank.iter().enumerate() {
                            for l in 0..L {
                                order[l][r[l] as usize] = i as u32;
                            }
                        }
                    } else {
                        for (l, order) in orders.enumerate().filter(|(l, _)| !scalar[*l]) {
                            for (i, r) in rank.iter().enumerate() {
                                order[r[l] as usize] = i as u32;
                            }
                        }
                    }
                }
                scratch.a = lanes_buf;
            }
            for l in (0..used).filter(|l| scalar[*l]) {
                let mut order = std::mem::take(&mut scratch.order);
                order_by(key(l), descending, &mut order);
                out[(first + l) * n..(first + l + 1) * n].copy_from_slice(&order);
                scratch.order = order;
            }
        }
    })
}

/// The lanes with a key outside +0.0..=+∞ (a sign bit set, or NaN): their bits above
/// +∞'s. Under AVX2 or AVX-512 with intrinsics ([`x86::outside_quads`]).
#[inline(always)]
fn outside_floats<const L: usize>(isa: Isa, key: &[[f64; L]]) -> [bool; L] {
    #[cfg(target_arch = "x86_64")]
    if isa != Isa::Baseline && L.is_multiple_of(4) {
        // SAFETY: an `Isa` other than the baseline reaches a kernel only through
        // [`super::run`], which checked that the CPU runs AVX2 (or AVX-512F, which implies it).
        return unsafe { x86::outside_quads(key) };
    }
    let _ = isa;
    let mut outside = [false; L];
    for user in key {
        for l in 0..L {
            outside[l] |= user[l].to_bits() > f64::INFINITY.to_bits();
        }
    }
    outside
}

/// `crate::withdraw::rank_order_float` of each lane: user i's position is
/// #{j < i : key_j ≤ key_i} + #{j > i : key_j < key_i} (ascending; mirrored descending).
/// Under AVX2 or AVX-512 the lanes are ranked four at a time with intrinsics
/// ([`x86::rank_quads`], the same comparisons, each pair's once).
#[inline(always)]
fn rank_lanes<const L: usize, const DESCENDING: bool>(
    isa: Isa,
    key: &[[f64; L]],
    rank: &mut [[u64; L]],
) {
    #[cfg(target_arch = "x86_64")]
    if isa != Isa::Baseline && L.is_multiple_of(4) {
        // SAFETY: an `Isa` other than the baseline reaches a kernel only through
        // [`super::run`], which checked that the CPU runs AVX2 (or AVX-512F, which implies it).
        unsafe { x86::rank_quads::<L, DESCENDING>(key, rank) };
        return;
    }
    let _ = isa;
    let ahead = |kj: f64, ki: f64| if DESCENDING { kj > ki } else { kj < ki };
    for (i, ki) in key.iter().enumerate() {
        let mut position = [0u64; L];
        for kj in &key[..i] {
            for l in 0..L {
                position[l] += !ahead(ki[l], kj[l]) as u64;
            }
        }
        for kj in &key[i + 1..] {
            for l in 0..L {
                position[l] += ahead(kj[l], ki[l]) as u64;
            }
        }
        rank[i] = position;
    }
}

/// The AVX2 forms of [`outside_floats`] and [`rank_lanes`].
#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::{
        _CMP_UNORD_Q, _mm256_cmp_pd, _mm256_movemask_pd, _mm256_or_pd, _mm256_setzero_pd,
    };

    use super::super::quad::get;

    /// [`super::outside_floats`]: a key's bits exceed +∞'s exactly when its sign bit is set or
    /// it is NaN; the sign bits are or-ed over the users, and NaN found by an unordered compare.
    #[inline]
    #[target_feature(enable = "avx2")]
    pub(super) fn outside_quads<const L: usize>(key: &[[f64; L]]) -> [bool; L] {
        let mut outside = [false; L];
        for q in (0..L).step_by(4) {
            let (mut signs, mut nan) = (_mm256_setzero_pd(), _mm256_setzero_pd());
            for user in key {
                let k = get(user, q);
                signs = _mm256_or_pd(signs, k);
                nan = _mm256_or_pd(nan, _mm256_cmp_pd::<_CMP_UNORD_Q>(k, k));
            }
            let bits = _mm256_movemask_pd(_mm256_or_pd(signs, nan));
            for (l, o) in outside[q..q + 4].iter_mut().enumerate() {
                *o = bits & (1 << l) != 0;
            }
        }
        outside
    }

    /// `rank[i][l]` = user i's position in lane l by the counting rank of
    /// [`super::rank_lanes`] (`#{j < i : !ahead(key_i, key_j)} + #{j > i : ahead(key_j, key_i)}`,
    /// ahead = `<`, or `>` if `DESCENDING`), four lanes per 256-bit register. Each pair i < j is
    /// compared once: m = ahead(key_j, key_i) (one `vcmppd`, all ones where true) counts for i,
    /// and !m for j, so j's position starts at j (one per earlier user) and loses one per
    /// earlier user that m puts behind it. (Written with intrinsics: LLVM vectorised the
    /// generic loop along the users instead, with shuffles to take the lanes apart.) `L` is a
    /// multiple of 4.
    #[inline]
    #[target_feature(enable = "avx2")]
    pub(super) fn rank_quads<const L: usize, const DESCENDING: bool>(
        key: &[[f64; L]],
        rank: &mut [[u64; L]],
    ) {
        use std::arch::x86_64::{
            _CMP_GT_OQ, _CMP_LT_OQ, _mm256_add_epi64, _mm256_castpd_si256, _mm256_castsi256_pd,
            _mm256_set1_epi64x, _mm256_setzero_si256, _mm256_sub_epi64,
        };

        use super::super::quad::{get_bits, put_bits};
        assert!(L.is_multiple_of(4) && rank.len() == key.len());
        for q in (0..L).step_by(4) {
            for (j, r) in rank.iter_mut().enumerate() {
                put_bits(r, q, _mm256_castsi256_pd(_mm256_set1_epi64x(j as i64)));
            }
            for (i, ki) in key.iter().enumerate() {
                let ki = get(ki, q);
                let (before, after) = rank.split_at_mut(i + 1);
                let mut behind = _mm256_setzero_si256();
                for (kj, rj) in key[i + 1..].iter().zip(after) {
                    // ahead(key_j, key_i)
                    let m = _mm256_castpd_si256(if DESCENDING {
                        _mm256_cmp_pd::<_CMP_GT_OQ>(get(kj, q), ki)
                    } else {
                        _mm256_cmp_pd::<_CMP_LT_OQ>(get(kj, q), ki)
                    });
                    behind = _mm256_sub_epi64(behind, m);
                    let r = _mm256_add_epi64(_mm256_castpd_si256(get_bits(rj, q)), m);
                    put_bits(rj, q, _mm256_castsi256_pd(r));
                }
                let ri = &mut before[i];
                let r = _mm256_add_epi64(_mm256_castpd_si256(get_bits(ri, q)), behind);
                put_bits(ri, q, _mm256_castsi256_pd(r));
            }
        }
    }
}
