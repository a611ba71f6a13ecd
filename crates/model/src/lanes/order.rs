//! M's decision order ([`crate::withdraw::decision_order`]) of `L` campaigns at once: the same
//! counting rank as the scalar code, each comparison one vector comparison across the lanes.

use super::{Isa, LaneScratch, lanes_of};
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
                for (i, user) in lanes.iter_mut().enumerate() {
                    for l in 0..L {
                        user[l] = if scalar[l] { 0.0 } else { key(l)[i] };
                    }
                }
                // Every rank is written before it is read: no zeroed array.
                scratch.rank.resize(n * L, 0);
                let rank = scratch.rank.as_chunks_mut::<L>().0;
                if descending {
                    rank_lanes::<L, true>(lanes, rank);
                } else {
                    rank_lanes::<L, false>(lanes, rank);
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
#[inline(always)]
fn rank_lanes<const L: usize, const DESCENDING: bool>(key: &[[f64; L]], rank: &mut [[u64; L]]) {
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
