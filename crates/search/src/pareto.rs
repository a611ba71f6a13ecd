//! Dominance, constrained domination, the fast non-dominated sort and crowding distances
//! (Deb, Pratap, Agarwal & Meyarivan 2002). All objectives are minimised.

/// Whether `a` Pareto-dominates `b`: no worse in every objective, better in at least one.
pub fn dominates(a: &[f64], b: &[f64]) -> bool {
    debug_assert_eq!(a.len(), b.len());
    let mut better = false;
    for (x, y) in a.iter().zip(b) {
        if x > y {
            return false;
        }
        better |= x < y;
    }
    better
}

/// The total constraint violation of constraint values `g` (met when `g ≤ 0`): `Σ max(0, g)`.
pub fn violation(g: &[f64]) -> f64 {
    g.iter().map(|&x| x.max(0.0)).sum()
}

/// Deb's constrained domination: `a` wins when it is feasible and `b` is not, when both are
/// infeasible and `a` violates less, or when both are feasible and `a` dominates `b`.
/// `*_violation` is the total violation ([`violation`]); 0 means feasible.
pub fn constrained_dominates(a: &[f64], a_violation: f64, b: &[f64], b_violation: f64) -> bool {
    match (a_violation > 0.0, b_violation > 0.0) {
        (false, true) => true,
        (true, false) => false,
        (true, true) => a_violation < b_violation,
        (false, false) => dominates(a, b),
    }
}

/// The fast non-dominated sort of `n` items under the relation `dominates(i, j)` (a strict
/// partial order): the fronts in order, each front's indices ascending. Every item is in
/// exactly one front; front 0 holds the items nothing dominates. O(n²) comparisons.
pub fn fast_non_dominated_sort(
    n: usize,
    dominates: impl Fn(usize, usize) -> bool,
) -> Vec<Vec<usize>> {
    let mut dominated_by_me: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut count = vec![0usize; n];
    for i in 0..n {
        for j in (i + 1)..n {
            if dominates(i, j) {
                dominated_by_me[i].push(j);
                count[j] += 1;
            } else if dominates(j, i) {
                dominated_by_me[j].push(i);
                count[i] += 1;
            }
        }
    }
    let mut fronts = Vec::new();
    let mut current: Vec<usize> = (0..n).filter(|&i| count[i] == 0).collect();
    while !current.is_empty() {
        let mut next = Vec::new();
        for &i in &current {
            for &j in &dominated_by_me[i] {
                count[j] -= 1;
                if count[j] == 0 {
                    next.push(j);
                }
            }
        }
        next.sort_unstable();
        fronts.push(current);
        current = next;
    }
    fronts
}

/// The non-dominated fronts of `objectives` (one row per item).
pub fn non_dominated_fronts(objectives: &[Vec<f64>]) -> Vec<Vec<usize>> {
    fast_non_dominated_sort(objectives.len(), |i, j| {
        dominates(&objectives[i], &objectives[j])
    })
}

/// The fronts under constrained domination: the feasible items' fronts first, then the
/// infeasible ones, one front per distinct violation, least violation first.
pub fn constrained_fronts(objectives: &[Vec<f64>], violations: &[f64]) -> Vec<Vec<usize>> {
    debug_assert_eq!(objectives.len(), violations.len());
    fast_non_dominated_sort(objectives.len(), |i, j| {
        constrained_dominates(&objectives[i], violations[i], &objectives[j], violations[j])
    })
}

/// The indices of the non-dominated rows of `objectives`, ascending (duplicates all kept).
pub fn non_dominated(objectives: &[Vec<f64>]) -> Vec<usize> {
    (0..objectives.len())
        .filter(|&i| {
            !objectives
                .iter()
                .any(|other| dominates(other, &objectives[i]))
        })
        .collect()
}

/// The crowding distances of the rows of one front, as pymoo 0.6 computes them: infinite for
/// fronts of at most two points and for each objective's extreme points; otherwise, averaged
/// over objectives, the gap between a point's neighbours in that objective divided by the
/// objective's range (an objective whose values are all equal adds nothing). Ties are ordered
/// by index (a stable sort), so the result does not depend on anything random.
pub fn crowding_distance(front: &[Vec<f64>]) -> Vec<f64> {
    let n = front.len();
    if n <= 2 {
        return vec![f64::INFINITY; n];
    }
    let m = front[0].len();
    let mut distance = vec![0.0; n];
    let mut order: Vec<usize> = (0..n).collect();
    let mut value = vec![0.0; n];
    for k in 0..m {
        for (v, row) in value.iter_mut().zip(front) {
            *v = row[k];
        }
        order.sort_by(|&a, &b| value[a].total_cmp(&value[b]).then(a.cmp(&b)));
        let range = value[order[n - 1]] - value[order[0]];
        if range <= 0.0 {
            continue;
        }
        distance[order[0]] = f64::INFINITY;
        distance[order[n - 1]] = f64::INFINITY;
        for w in order.windows(3) {
            distance[w[1]] += (value[w[2]] - value[w[0]]) / range;
        }
    }
    for d in &mut distance {
        *d /= m as f64;
    }
    distance
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dominance_on_hand_examples() {
        assert!(dominates(&[1.0, 2.0], &[2.0, 2.0]));
        assert!(dominates(&[1.0, 1.0], &[2.0, 2.0]));
        assert!(
            !dominates(&[1.0, 2.0], &[1.0, 2.0]),
            "equal points do not dominate"
        );
        assert!(!dominates(&[1.0, 3.0], &[2.0, 2.0]));
        assert!(!dominates(&[2.0, 2.0], &[1.0, 3.0]));
    }

    #[test]
    fn fronts_of_a_hand_example() {
        // Front 0: a (1,5), b (2,3), c (4,1); front 1: d (3,4) ⪰ b, e (5,2) ⪰ c;
        // front 2: f (6,6) dominated by d and e; g duplicates b and sits beside it in front 0.
        let pts = vec![
            vec![3.0, 4.0], // 0 d
            vec![1.0, 5.0], // 1 a
            vec![6.0, 6.0], // 2 f
            vec![2.0, 3.0], // 3 b
            vec![5.0, 2.0], // 4 e
            vec![4.0, 1.0], // 5 c
            vec![2.0, 3.0], // 6 g
        ];
        assert_eq!(
            non_dominated_fronts(&pts),
            vec![vec![1, 3, 5, 6], vec![0, 4], vec![2]]
        );
        assert_eq!(non_dominated(&pts), vec![1, 3, 5, 6]);
    }

    #[test]
    fn fronts_in_three_objectives() {
        let pts = vec![
            vec![1.0, 1.0, 1.0],
            vec![0.0, 2.0, 2.0],
            vec![1.0, 1.0, 2.0],
            vec![2.0, 2.0, 2.0],
        ];
        assert_eq!(
            non_dominated_fronts(&pts),
            vec![vec![0, 1], vec![2], vec![3]]
        );
    }

    #[test]
    fn constrained_domination_follows_debs_three_rules() {
        let (good, bad) = (vec![1.0, 1.0], vec![5.0, 5.0]);
        // Feasible beats infeasible whatever the objectives.
        assert!(constrained_dominates(&bad, 0.0, &good, 0.1));
        assert!(!constrained_dominates(&good, 0.1, &bad, 0.0));
        // Two infeasible: smaller violation wins, objectives ignored.
        assert!(constrained_dominates(&bad, 0.2, &good, 0.3));
        assert!(!constrained_dominates(&good, 0.3, &bad, 0.2));
        assert!(!constrained_dominates(&good, 0.3, &bad, 0.3));
        // Two feasible: plain dominance.
        assert!(constrained_dominates(&good, 0.0, &bad, 0.0));
        assert!(!constrained_dominates(&bad, 0.0, &good, 0.0));
        assert_eq!(violation(&[-1.0, 0.5, 0.25]), 0.75);
        // Sorting: feasible fronts first, then infeasible by violation, ties together.
        let objs = vec![
            vec![0.0, 0.0], // 0 infeasible 0.5 (best objectives of all)
            vec![3.0, 3.0], // 1 feasible, dominated by 2
            vec![2.0, 2.0], // 2 feasible
            vec![1.0, 9.0], // 3 infeasible 0.1
            vec![9.0, 1.0], // 4 infeasible 0.5
        ];
        let v = [0.5, 0.0, 0.0, 0.1, 0.5];
        assert_eq!(
            constrained_fronts(&objs, &v),
            vec![vec![2], vec![1], vec![3], vec![0, 4]]
        );
    }

    #[test]
    fn crowding_distances_of_a_hand_example() {
        // On a line from (0,4) to (4,0) with points at f1 = 0, 1, 3, 4 (listed out of order):
        // interior points get ((next - prev)/4 + (next - prev)/4) / 2.
        let front = vec![
            vec![3.0, 1.0],
            vec![0.0, 4.0],
            vec![4.0, 0.0],
            vec![1.0, 3.0],
        ];
        let d = crowding_distance(&front);
        assert_eq!(d[1], f64::INFINITY);
        assert_eq!(d[2], f64::INFINITY);
        assert!((d[0] - 0.75).abs() < 1e-15, "{d:?}"); // neighbours at 1 and 4: 3/4
        assert!((d[3] - 0.75).abs() < 1e-15, "{d:?}"); // neighbours at 0 and 3: 3/4
        // Two points or fewer: all infinite.
        assert_eq!(crowding_distance(&front[..2]), vec![f64::INFINITY; 2]);
        // A constant objective adds nothing (and makes no point extreme by itself).
        let flat = vec![vec![0.0, 1.0], vec![1.0, 1.0], vec![3.0, 1.0]];
        let d = crowding_distance(&flat);
        assert_eq!(d[0], f64::INFINITY);
        assert!((d[1] - 0.5).abs() < 1e-15, "{d:?}"); // (3 - 0)/3 / 2
    }
}
