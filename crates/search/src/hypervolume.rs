//! The hypervolume indicator: the measure of the objective-space region that a set of points
//! dominates and that dominates a reference point (all objectives minimised).
//!
//! Exact in every dimension: a sweep for two objectives (O(n log n)) and the WFG algorithm
//! (While, Bradstreet & Barone 2012) above, with the two-objective sweep as its base case. WFG
//! is exponential in the worst case; it is meant for the small fronts of this crate (tens to a
//! few hundred points in three to five objectives).

use crate::pareto::dominates;

/// The hypervolume of `points` with respect to `reference`. Points that do not strictly
/// dominate the reference in every objective contribute nothing and are dropped, as are
/// dominated points and duplicates; the rest need not be sorted. Every point must have
/// `reference.len()` finite values.
pub fn hypervolume(points: &[Vec<f64>], reference: &[f64]) -> f64 {
    let d = reference.len();
    let inside: Vec<Vec<f64>> = points
        .iter()
        .filter(|p| {
            debug_assert_eq!(p.len(), d);
            p.iter().zip(reference).all(|(x, r)| x < r)
        })
        .cloned()
        .collect();
    match d {
        0 => 0.0,
        1 => inside
            .iter()
            .map(|p| reference[0] - p[0])
            .fold(0.0, f64::max),
        2 => sweep2(inside, reference),
        _ => wfg(nondominated(inside), reference),
    }
}

/// Two objectives: sort by the first, then add the slab each point adds below the best second
/// objective seen so far.
fn sweep2(mut points: Vec<Vec<f64>>, reference: &[f64]) -> f64 {
    points.sort_by(|a, b| a[0].total_cmp(&b[0]).then(a[1].total_cmp(&b[1])));
    let mut best = reference[1];
    let mut volume = 0.0;
    for p in &points {
        if p[1] < best {
            volume += (reference[0] - p[0]) * (best - p[1]);
            best = p[1];
        }
    }
    volume
}

/// The non-dominated points of `points`, duplicates removed.
fn nondominated(mut points: Vec<Vec<f64>>) -> Vec<Vec<f64>> {
    points.sort_by(|a, b| {
        a.iter()
            .zip(b)
            .map(|(x, y)| x.total_cmp(y))
            .find(|o| o.is_ne())
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    points.dedup();
    let keep: Vec<bool> = points
        .iter()
        .map(|p| !points.iter().any(|q| dominates(q, p)))
        .collect();
    points
        .into_iter()
        .zip(keep)
        .filter_map(|(p, k)| k.then_some(p))
        .collect()
}

/// WFG on mutually non-dominated points strictly inside the reference: the volume is the sum
/// over points of each one's exclusive part relative to the points after it, and that part is
/// its box less the volume of the later points clipped to its box ("limited" by it).
fn wfg(mut points: Vec<Vec<f64>>, reference: &[f64]) -> f64 {
    let d = reference.len();
    if d == 2 {
        return sweep2(points, reference);
    }
    // Sorted by the last objective, worst first: the limited sets of the first points are then
    // small in that objective's extent, which keeps the recursion shallow in practice.
    points.sort_by(|a, b| b[d - 1].total_cmp(&a[d - 1]));
    let mut volume = 0.0;
    for (k, p) in points.iter().enumerate() {
        let boxed: f64 = p.iter().zip(reference).map(|(x, r)| r - x).product();
        let limited: Vec<Vec<f64>> = points[k + 1..]
            .iter()
            .map(|q| q.iter().zip(p).map(|(a, b)| a.max(*b)).collect())
            .collect();
        let overlap = match limited.len() {
            0 => 0.0,
            1 => limited[0]
                .iter()
                .zip(reference)
                .map(|(x, r)| r - x)
                .product(),
            _ => wfg(nondominated(limited), reference),
        };
        volume += boxed - overlap;
    }
    volume
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{Phase, stream, uniform};

    /// The exact volume by inclusion–exclusion over all subsets (small sets only).
    fn inclusion_exclusion(points: &[Vec<f64>], reference: &[f64]) -> f64 {
        let n = points.len();
        let mut total = 0.0;
        for mask in 1u32..(1 << n) {
            let mut corner = vec![f64::NEG_INFINITY; reference.len()];
            for (i, p) in points.iter().enumerate() {
                if mask & (1 << i) != 0 {
                    for (c, x) in corner.iter_mut().zip(p) {
                        *c = c.max(*x);
                    }
                }
            }
            let vol: f64 = corner
                .iter()
                .zip(reference)
                .map(|(c, r)| (r - c).max(0.0))
                .product();
            total += if mask.count_ones() % 2 == 1 {
                vol
            } else {
                -vol
            };
        }
        total
    }

    #[test]
    fn known_fronts_in_two_objectives() {
        let r = [4.0, 4.0];
        // A staircase: 3×1 + 2×1 + 1×1 slabs stacked = 3 + 2 + 1.
        let stair = vec![vec![1.0, 3.0], vec![2.0, 2.0], vec![3.0, 1.0]];
        assert_eq!(hypervolume(&stair, &r), 6.0);
        // Order, a dominated point, a duplicate and a point beyond the reference change nothing.
        let mut noisy = stair.clone();
        noisy.reverse();
        noisy.extend([
            vec![3.0, 3.0],
            vec![2.0, 2.0],
            vec![0.0, 5.0],
            vec![4.0, 0.0],
        ]);
        assert_eq!(hypervolume(&noisy, &r), 6.0);
        // One point: its box.
        assert_eq!(hypervolume(&[vec![1.0, 2.0]], &r), 6.0);
        assert_eq!(hypervolume(&[], &r), 0.0);
        // The linear front f2 = 1 - f1 sampled finely tends to 1/2 with reference (1, 1).
        let n = 1000;
        let line: Vec<Vec<f64>> = (0..=n)
            .map(|i| {
                let x = f64::from(i) / f64::from(n);
                vec![x, 1.0 - x]
            })
            .collect();
        let hv = hypervolume(&line, &[1.0, 1.0]);
        // The staircase under the line is 1/2 − 1/(2n) exactly.
        assert!((hv - (0.5 - 0.5 / f64::from(n))).abs() < 1e-12, "{hv}");
    }

    #[test]
    fn known_fronts_in_three_and_four_objectives() {
        // One point: its box.
        assert_eq!(
            hypervolume(&[vec![1.0, 2.0, 3.0]], &[2.0, 4.0, 7.0]),
            1.0 * 2.0 * 4.0
        );
        // The three unit-axis points of the simplex with reference (1,1,1)... shifted: points
        // (0,1,1)-type give nothing (on the reference), so use (0,½,½) and its permutations:
        // each box is 1·½·½; pairwise overlaps ½·½·½, triple overlap ½·½·½: 3/4 − 3/8 + 1/8.
        let pts = vec![
            vec![0.0, 0.5, 0.5],
            vec![0.5, 0.0, 0.5],
            vec![0.5, 0.5, 0.0],
        ];
        assert!((hypervolume(&pts, &[1.0, 1.0, 1.0]) - 0.5).abs() < 1e-15);
        // The 4-D analogue (0,½,½,½) and permutations: inclusion–exclusion gives
        // 4·(1/8) − 6·(1/16) + 4·(1/16) − 1/16 = 5/16.
        let pts4: Vec<Vec<f64>> = (0..4)
            .map(|i| (0..4).map(|j| if i == j { 0.0 } else { 0.5 }).collect())
            .collect();
        assert!((hypervolume(&pts4, &[1.0; 4]) - 5.0 / 16.0).abs() < 1e-15);
    }

    #[test]
    fn wfg_equals_inclusion_exclusion_on_random_sets() {
        let mut rng = stream(11, 0, Phase::Ask);
        for d in 2..=5 {
            for trial in 0..40 {
                let n = 1 + trial % 9;
                // Points on or near a concave front, some dominated, some beyond the reference.
                let pts: Vec<Vec<f64>> = (0..n)
                    .map(|_| (0..d).map(|_| 1.2 * uniform(&mut rng)).collect())
                    .collect();
                let r = vec![1.0; d];
                let inside: Vec<Vec<f64>> = pts
                    .iter()
                    .filter(|p| p.iter().all(|&x| x < 1.0))
                    .cloned()
                    .collect();
                let exact = inclusion_exclusion(&inside, &r);
                let hv = hypervolume(&pts, &r);
                assert!((hv - exact).abs() < 1e-12, "d={d} n={n}: {hv} vs {exact}");
            }
        }
    }

    #[test]
    fn hypervolume_grows_when_a_point_is_added_beyond_the_front() {
        let r = [1.0, 1.0, 1.0];
        let mut pts = vec![
            vec![0.2, 0.6, 0.5],
            vec![0.6, 0.2, 0.5],
            vec![0.5, 0.5, 0.1],
        ];
        let before = hypervolume(&pts, &r);
        pts.push(vec![0.1, 0.1, 0.9]);
        let after = hypervolume(&pts, &r);
        assert!(after > before);
        assert!((after - inclusion_exclusion(&pts, &r)).abs() < 1e-12);
    }
}
