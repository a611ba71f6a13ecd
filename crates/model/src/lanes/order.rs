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
            // Keys from +0.0 to +∞ compare as floats in `f64::total_cmp`'s order (the scalar
            // code's fast path); the others, and large campaigns, take the scalar code.
            let mut scalar = [n > RANK_SORT_MAX; L];
            for (l, s) in scalar.iter_mut().enumerate() {
                *s |= !key(l)
                    .iter()
                    .all(|x| x.to_bits() <= f64::INFINITY.to_bits());
            }
            let (first, used) = (g * L, group.len());
            if scalar[..used].iter().any(|s| !s) {
                let mut lanes_buf = std::mem::take(&mut scratch.a);
                let lanes = lanes_of::<L>(&mut lanes_buf, n);
                gather_blocks(isa, &std::array::from_fn(|l| &key(l)[..n]), lanes);
                if scalar.contains(&true) {
                    // Ranked by the scalar code below; 0.0 keeps the lane's comparisons defined.
                    for user in lanes.iter_mut() {
                        for l in 0..L {
                            user[l] = if scalar[l] { 0.0 } else { user[l] };
                        }
                    }
                }
                // Every rank is written before it is read: no zeroed array.
                scratch.rank.resize(n * L, 0);
                let rank = scratch.rank.as_chunks_mut::<L>().0;
                if descending {
                    rank_lanes::<L, true>(isa, lanes, rank);
                } else {
                    rank_lanes::<L, false>(isa, lanes, rank);
                }
                for (i, r) in rank.iter().enumerate() {
                    for l in 0..used {
                        if !scalar[l] {
                            out[(first + l) * n + r[l] as usize] = i as u32;
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

/// `crate::withdraw::rank_order_float` of each lane: user i's position is
/// #{j < i : key_j ≤ key_i} + #{j > i : key_j < key_i} (ascending; mirrored descending).
/// Under AVX2 or AVX-512 the lanes are ranked four at a time with intrinsics
/// ([`x86::rank_quads`], the same comparisons).
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

/// The AVX2 form of [`rank_lanes`].
#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::_mm256_loadu_pd;

    /// `rank[i][l]` = user i's position in lane l by the counting rank of
    /// [`super::rank_lanes`] (`#{j < i : !ahead(key_i, key_j)} + #{j > i : ahead(key_j, key_i)}`,
    /// ahead = `<`, or `>` if `DESCENDING`), four lanes per 256-bit register: each comparison
    /// is one `vcmppd` of the same predicate, its all-ones mask subtracted from the count.
    /// (Written with intrinsics: LLVM vectorised the generic loop along the users instead,
    /// with shuffles to take the lanes apart.) `L` is a multiple of 4.
    #[inline]
    #[target_feature(enable = "avx2")]
    pub(super) fn rank_quads<const L: usize, const DESCENDING: bool>(
        key: &[[f64; L]],
        rank: &mut [[u64; L]],
    ) {
        use std::arch::x86_64::{
            _CMP_GT_OQ, _CMP_LT_OQ, _CMP_NGT_UQ, _CMP_NLT_UQ, _mm256_castpd_si256, _mm256_cmp_pd,
            _mm256_setzero_si256, _mm256_storeu_si256, _mm256_sub_epi64,
        };
        assert!(L.is_multiple_of(4) && rank.len() == key.len());
        let n = key.len();
        let keys = key.as_ptr().cast::<f64>();
        let ranks = rank.as_mut_ptr().cast::<u64>();
        for q in (0..L).step_by(4) {
            // SAFETY (every load and store below): rows i, j < n of `L` values each, lanes
            // q..q + 4 ≤ L, in both arrays.
            let at = |row: usize| keys.wrapping_add(row * L + q);
            for i in 0..n {
                let ki = unsafe { _mm256_loadu_pd(at(i)) };
                let mut position = _mm256_setzero_si256();
                for j in 0..i {
                    let kj = unsafe { _mm256_loadu_pd(at(j)) };
                    // !ahead(key_i, key_j)
                    let m = if DESCENDING {
                        _mm256_cmp_pd::<_CMP_NGT_UQ>(ki, kj)
                    } else {
                        _mm256_cmp_pd::<_CMP_NLT_UQ>(ki, kj)
                    };
                    position = _mm256_sub_epi64(position, _mm256_castpd_si256(m));
                }
                for j in i + 1..n {
                    let kj = unsafe { _mm256_loadu_pd(at(j)) };
                    // ahead(key_j, key_i)
                    let m = if DESCENDING {
                        _mm256_cmp_pd::<_CMP_GT_OQ>(kj, ki)
                    } else {
                        _mm256_cmp_pd::<_CMP_LT_OQ>(kj, ki)
                    };
                    position = _mm256_sub_epi64(position, _mm256_castpd_si256(m));
                }
                unsafe { _mm256_storeu_si256(ranks.add(i * L + q).cast(), position) };
            }
        }
    }
}
