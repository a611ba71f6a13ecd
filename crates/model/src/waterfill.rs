//! Exact water-filling: the cheapest way to spread a data requirement over users with convex
//! quadratic costs and per-user bounds.
//!
//! Solves  min Σ c_i·x_i²/2  s.t.  Σ x_i = need,  lo_i ≤ x_i ≤ hi_i.
//! The KKT conditions give x_i = clamp(λ/c_i, lo_i, hi_i) for a common level λ; Σ x_i(λ) is
//! piecewise linear and non-decreasing in λ with breakpoints lo_i·c_i and hi_i·c_i, so sorting the
//! breakpoints and walking them finds λ exactly in O(n log n). Users with zero cost are filled to
//! their upper bound first (their data is free); if free data alone covers the need, each free user
//! is raised from lo_i toward hi_i by the same fraction (the optimum is not unique there).

/// The bounds cannot cover the need.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Infeasible {
    /// Σ hi_i, the most the users could give.
    pub capacity: f64,
}

/// Reusable buffers so that water-filling allocates nothing in steady state.
#[derive(Clone, Debug, Default)]
pub struct FillScratch {
    keys: Vec<(f64, u32)>,
    suffix: Vec<f64>,
}

/// Water-filling with lower bounds zero: x_i = min(hi_i, λ/c_i), Σ x_i = need.
/// Returns the level λ (`f64::INFINITY` when every user is at her cap).
pub fn water_fill(
    cost: &[f64],
    hi: &[f64],
    need: f64,
    tol: f64,
    out: &mut [f64],
    scratch: &mut FillScratch,
) -> Result<f64, Infeasible> {
    debug_assert!(cost.len() == hi.len() && hi.len() == out.len());
    let capacity: f64 = hi.iter().sum();
    if capacity < need - tol {
        return Err(Infeasible { capacity });
    }
    let free: f64 = cost
        .iter()
        .zip(hi)
        .filter(|(c, _)| **c <= 0.0)
        .map(|(_, h)| h)
        .sum();
    if free >= need - tol {
        let share = if free > 0.0 {
            (need / free).clamp(0.0, 1.0)
        } else {
            0.0
        };
        for ((x, c), h) in out.iter_mut().zip(cost).zip(hi) {
            *x = if *c <= 0.0 { h * share } else { 0.0 };
        }
        return Ok(0.0);
    }

    let level = if cost.len() <= SMALL {
        small_level(cost, hi, need, free)
    } else {
        sorted_level(cost, hi, need, free, scratch)
    };
    // All quotients first, in a loop of their own that vectorises; then the selection.
    for (x, c) in out.iter_mut().zip(cost) {
        *x = level / c;
    }
    for ((x, c), h) in out.iter_mut().zip(cost).zip(hi) {
        *x = if *c <= 0.0 { *h } else { x.min(*h) };
    }
    Ok(level)
}

/// The level by sorting the breakpoints hi_i·c_i and walking them: O(n log n).
fn sorted_level(cost: &[f64], hi: &[f64], need: f64, free: f64, scratch: &mut FillScratch) -> f64 {
    let keys = &mut scratch.keys;
    keys.clear();
    keys.extend(
        cost.iter()
            .zip(hi)
            .enumerate()
            .filter(|(_, (c, _))| **c > 0.0)
            .map(|(i, (c, h))| (h * c, i as u32)),
    );
    keys.sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    // suffix[k] = Σ_{j ≥ k} 1/c_j in breakpoint order: the slope while users k.. are below cap.
    let suffix = &mut scratch.suffix;
    suffix.clear();
    suffix.resize(keys.len() + 1, 0.0);
    for k in (0..keys.len()).rev() {
        suffix[k] = suffix[k + 1] + 1.0 / cost[keys[k].1 as usize];
    }

    let mut capped = free;
    let mut level = f64::INFINITY;
    for (k, &(breakpoint, i)) in keys.iter().enumerate() {
        if capped + breakpoint * suffix[k] >= need {
            level = (need - capped) / suffix[k];
            break;
        }
        capped += hi[i as usize];
    }
    level
}

/// Up to this many users, [`water_fill`] finds the level without sorting (see [`small_level`]).
pub(crate) const SMALL: usize = 48;

/// The level λ of Σ min(hi_i, λ/c_i) = need − free over the positive-cost users, without sorting:
/// the fixed point of "cap every user whose breakpoint hi_i·c_i lies below the current level,
/// then solve the linear equation for the others". Starting from nobody capped, the level can only
/// rise (capping a user lowers her contribution, so the others must give more) and the capped set
/// only grow, and every user it caps is capped at the optimum too (her breakpoint is below a level
/// that is at most the optimal one). The iteration stops when a round caps nobody new, which is
/// exactly the KKT solution the breakpoint walk finds; at most n + 1 rounds of O(n) (typically 2–4
/// for the default game), branch-free and vectorisable, where sorting ~20 pairs costs more.
/// Returns `f64::INFINITY` when every positive-cost user ends capped.
fn small_level(cost: &[f64], hi: &[f64], need: f64, free: f64) -> f64 {
    // Per user: 1/c_i (her slope while below cap), her cap hi_i and breakpoint hi_i·c_i; a
    // zero-cost user (already counted in `free`) has slope 0, cap 0 and is never capped.
    let n = cost.len();
    let (mut inv, mut cap, mut breakpoint) = ([0.0f64; SMALL], [0.0f64; SMALL], [0.0f64; SMALL]);
    // All reciprocals first, in a loop of their own that vectorises.
    for (v, c) in inv[..n].iter_mut().zip(cost) {
        *v = 1.0 / c;
    }
    for i in 0..n {
        let positive = cost[i] > 0.0;
        inv[i] = if positive { inv[i] } else { 0.0 };
        cap[i] = if positive { hi[i] } else { 0.0 };
        breakpoint[i] = if positive {
            hi[i] * cost[i]
        } else {
            f64::INFINITY
        };
    }
    let (inv, cap, breakpoint) = (&inv[..n], &cap[..n], &breakpoint[..n]);
    let mut level = 0.0f64;
    // The last round: the capped set shrank (floating point), and the level of the smaller set
    // is the answer whatever it caps.
    let mut last = false;
    loop {
        let mut capped = free;
        let mut slope = 0.0;
        let mut count = 0usize;
        for i in 0..n {
            let is_capped = breakpoint[i] < level;
            capped += if is_capped { cap[i] } else { 0.0 };
            slope += if is_capped { 0.0 } else { inv[i] };
            count += is_capped as usize;
        }
        let next = if slope > 0.0 {
            (need - capped) / slope
        } else {
            f64::INFINITY
        };
        if next == f64::INFINITY || last {
            return next;
        }
        // The capped set only grows; a level that caps nobody new is the answer. Sets at two
        // levels are nested, so an equal count is the same set: summing it again (the sums above
        // are sequential, in user order) would give `next` again, bit for bit, so a pass of
        // comparisons decides instead of another round of sums. (Floating point cannot make the
        // loop cycle: it stops as soon as the count fails to grow.)
        let capped_at_next = breakpoint.iter().filter(|b| **b < next).count();
        if capped_at_next == count {
            return next;
        }
        last = capped_at_next < count;
        level = next;
    }
}

/// Water-filling with lower bounds: x_i = clamp(λ/c_i, lo_i, hi_i), Σ x_i = need (used when
/// burdens may only grow). If the lower bounds already reach the need, x = lo.
pub fn water_fill_bounded(
    cost: &[f64],
    lo: &[f64],
    hi: &[f64],
    need: f64,
    tol: f64,
    out: &mut [f64],
    scratch: &mut FillScratch,
) -> Result<f64, Infeasible> {
    debug_assert!(cost.len() == lo.len() && lo.len() == hi.len() && hi.len() == out.len());
    let capacity: f64 = hi.iter().sum();
    if capacity < need - tol {
        return Err(Infeasible { capacity });
    }
    let floor: f64 = lo.iter().sum();
    if floor >= need - tol {
        out.copy_from_slice(lo);
        return Ok(0.0);
    }
    // Free data first: zero-cost users rise to hi; if that alone suffices, raise them evenly.
    let positive_floor: f64 = cost
        .iter()
        .zip(lo)
        .filter(|(c, _)| **c > 0.0)
        .map(|(_, l)| l)
        .sum();
    let free_top: f64 = cost
        .iter()
        .zip(hi)
        .filter(|(c, _)| **c <= 0.0)
        .map(|(_, h)| h)
        .sum();
    let free_floor = floor - positive_floor;
    if positive_floor + free_top >= need - tol {
        let room = free_top - free_floor;
        let t = if room > 0.0 {
            ((need - positive_floor - free_floor) / room).clamp(0.0, 1.0)
        } else {
            0.0
        };
        for i in 0..out.len() {
            out[i] = if cost[i] <= 0.0 {
                lo[i] + t * (hi[i] - lo[i])
            } else {
                lo[i]
            };
        }
        return Ok(0.0);
    }

    // Breakpoints: at lo_i·c_i user i starts to rise (+1/c_i slope, −lo_i constant); at hi_i·c_i
    // she is capped (−1/c_i slope, +hi_i constant). Encode the kind in the index's top bit.
    const CAPPED: u32 = 1 << 31;
    let keys = &mut scratch.keys;
    keys.clear();
    for i in 0..cost.len() {
        if cost[i] > 0.0 && hi[i] > lo[i] {
            keys.push((lo[i] * cost[i], i as u32));
            keys.push((hi[i] * cost[i], i as u32 | CAPPED));
        }
    }
    keys.sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let mut constant = positive_floor + free_top;
    let mut slope = 0.0;
    let mut level = f64::INFINITY;
    for &(breakpoint, tagged) in keys.iter() {
        if slope > 0.0 && constant + breakpoint * slope >= need {
            level = (need - constant) / slope;
            break;
        }
        let i = (tagged & !CAPPED) as usize;
        if tagged & CAPPED == 0 {
            constant -= lo[i];
            slope += 1.0 / cost[i];
        } else {
            constant += hi[i];
            slope -= 1.0 / cost[i];
        }
    }
    for i in 0..out.len() {
        out[i] = if cost[i] <= 0.0 {
            hi[i]
        } else {
            (level / cost[i]).clamp(lo[i], hi[i])
        };
    }
    Ok(level)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The sort-free level of small instances equals the breakpoint walk's (up to rounding).
    #[test]
    fn small_level_equals_sorted_level() {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        let mut scratch = FillScratch::default();
        for trial in 0..20_000 {
            let n = 1 + trial % SMALL;
            let cost: Vec<f64> = (0..n)
                .map(|_| if next() < 0.05 { 0.0 } else { next() * 2.0 })
                .collect();
            let hi: Vec<f64> = (0..n)
                .map(|_| if next() < 0.05 { 0.0 } else { next() })
                .collect();
            let free: f64 = cost
                .iter()
                .zip(&hi)
                .filter(|(c, _)| **c <= 0.0)
                .map(|(_, h)| h)
                .sum();
            let capacity: f64 = hi.iter().sum();
            let need = free + next() * (capacity - free);
            if free >= need - 1e-12 {
                continue;
            }
            let a = small_level(&cost, &hi, need, free);
            let b = sorted_level(&cost, &hi, need, free, &mut scratch);
            let close = (a == b) || (a - b).abs() <= 1e-9 * (1.0 + b.abs());
            assert!(close, "n={n} small {a} sorted {b}");
        }
    }
}
