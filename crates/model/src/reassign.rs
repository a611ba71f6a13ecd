//! Protocol M's re-assignment in O(log n): water-filling over a set of users that only shrinks.
//!
//! After each withdrawal M water-fills the remaining need over the undecided users
//! ([`crate::waterfill::water_fill`]: x_j = min(u_j, λ/c̃_j), zero-cost users at their cap
//! first). Done afresh, that is O(m log m) per withdrawal plus O(m) to write every undecided
//! burden, so a campaign is quadratic in n. [`Reassign`] keeps the undecided users in a segment
//! tree over the order of their breakpoints u_j·c̃_j (ties by user index, as `water_fill` sorts
//! them), built at the first withdrawal. Each node holds, over its present users, Σu, Σ1/c̃ and
//! Σκ(c̃, u) of the positive-cost ones, Σu of the zero-cost ones, and the largest breakpoint of a
//! positive-cost one. Then:
//! - a user who decides is only marked; before the next re-fill the marked leaves are emptied
//!   and their ancestors recomputed from their two children, level by level, each node once
//!   (no running sum is ever decreased, so no cancellation builds up, and every node is the same
//!   function of the present set whatever the order of removals): O(log n) per user at most;
//! - the capacity and free-data tests are read at the root, and the level λ is found by one
//!   descent to the first breakpoint k in sorted order with free + Σ_{j<k} u_j + bp_k·Σ_{j≥k} 1/c̃_j
//!   ≥ need — the walk of `water_fill`'s sorted path — collecting the estimate
//!   Σκ = Σ_{j<k} κ(c̃_j, u_j) + λ²/2·Σ_{j≥k} 1/c̃_j on the way: O(log n);
//! - burdens are not written: an undecided user's burden is implied by the last committed level,
//!   with `water_fill`'s own formula, and is materialised when she decides (or when the caller
//!   needs it for an event, or at the end of the protocol).
//!
//! Compact storage ([`Reassign::set_compact`], used by the large-campaign path,
//! [`crate::large`]): the nodes of the lowest [`COMPACT_LEVELS`] levels are not stored but
//! computed when read, by the same pairwise `combine` from leaves made from the per-position cost
//! and cap (a removed position's cost is NaN). Every stored node is a function of the present set
//! alone, so the computed ones carry the same bits, and levels, estimates and burdens are
//! identical to the fully stored tree's; the nodes then take ≈ 2·40/2^L bytes per user instead of
//! ≈ 2·40, at O(2^L) more work per removal and per descent.
//!
//! Exactness and the tie rule: the level is the same real number as `water_fill`'s (the KKT level
//! of the same problem, found at the same breakpoint), and each burden is computed from it by the
//! same expression; only the order in which the sums are added differs (tree order instead of
//! index or breakpoint order), so levels, burdens and estimates agree with `water_fill`'s to
//! rounding (≈ 1e-15 relative; tested to 1e-12). Decisions, the feasibility test and the
//! sustainability test are therefore the same unless one of those comparisons falls within
//! rounding of its threshold, where the two solvers may take different sides. Because the
//! summation order differs, M uses this structure only from [`INCREMENTAL_MIN_USERS`] users up;
//! smaller campaigns (every paper scenario) keep the fresh water-filling and their bit-exact
//! outputs.

use crate::cost::kappa;
use crate::waterfill::Infeasible;

/// From this many users on, M re-assigns with [`Reassign`] instead of water-filling the
/// undecided users afresh. The criterion bench `m_reassign` (`benches/benches/campaign.rs`,
/// BENCHMARKS.md) finds the two equally fast at about 128 users and the structure 1.2× faster at
/// 160–192, 2.8× at 1024; below the threshold the fresh water-filling keeps small campaigns
/// (every paper scenario has 20 users) bit for bit as they were.
pub const INCREMENTAL_MIN_USERS: usize = 160;

const NONE: u32 = u32::MAX;

/// Levels of the tree (counted from the leaves) that compact storage computes instead of
/// storing: blocks of 2^4 = 16 leaves, ≈ 5 bytes of nodes per user.
pub const COMPACT_LEVELS: u32 = 4;

/// Sums over the present users of a subtree.
#[derive(Clone, Copy, Debug)]
struct Node {
    /// Σ u of positive-cost users (their data once capped).
    cap: f64,
    /// Σ 1/c̃ of positive-cost users (the slope of their data in λ while below cap).
    inv: f64,
    /// Σ κ(c̃, u) of positive-cost users (their estimated cost once capped).
    kappa: f64,
    /// Σ u of zero-cost users (free data, always at cap).
    free: f64,
    /// The largest breakpoint of a present positive-cost user (that of the last one in sorted
    /// order), −∞ when there is none.
    top: f64,
}

const EMPTY: Node = Node {
    cap: 0.0,
    inv: 0.0,
    kappa: 0.0,
    free: 0.0,
    top: f64::NEG_INFINITY,
};

impl Node {
    #[inline]
    fn has_positive(&self) -> bool {
        self.top != f64::NEG_INFINITY
    }
}

#[inline]
fn combine(a: &Node, b: &Node) -> Node {
    Node {
        cap: a.cap + b.cap,
        inv: a.inv + b.inv,
        kappa: a.kappa + b.kappa,
        free: a.free + b.free,
        top: if b.has_positive() { b.top } else { a.top },
    }
}

/// The undecided users' burdens as implied by the last committed re-assignment.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Assignment {
    /// No re-assignment yet: each burden is the one the caller holds.
    Initial,
    /// Free data alone covers the need: zero-cost users give `share` of their cap, others 0.
    Free { share: f64 },
    /// x = min(u, λ/c̃) (zero-cost users at cap); λ = ∞ when everyone is capped.
    Level(f64),
}

impl Assignment {
    /// `water_fill`'s output formula for one user of cost `c` and cap `u`.
    #[inline]
    fn burden(self, c: f64, u: f64, held: f64) -> f64 {
        match self {
            Assignment::Initial => held,
            Assignment::Free { share } => {
                if c <= 0.0 {
                    u * share
                } else {
                    0.0
                }
            }
            Assignment::Level(level) => {
                if c <= 0.0 {
                    u
                } else {
                    (level / c).min(u)
                }
            }
        }
    }
}

/// Water-filling over a shrinking set of users, O(log n) per removal and per re-fill (see the
/// module documentation). Lives in [`crate::withdraw::ProtocolScratch`] so that its buffers are
/// reused across campaigns.
#[derive(Clone, Debug)]
pub struct Reassign {
    /// Campaigns of at least this many users use the structure (see [`Reassign::set_min_users`]).
    min_users: usize,
    active: bool,
    /// Whether the tree holds the undecided users (built at the first re-fill).
    built: bool,
    /// Leaves start here; node 1 is the root, node k's children are 2k and 2k + 1.
    leaves: usize,
    /// Nodes below this index are stored in `tree`; the others are computed from the leaves.
    limit: usize,
    /// Levels not stored (0: the whole tree is stored; see [`Reassign::set_compact`]).
    unstored: u32,
    tree: Vec<Node>,
    /// Per position (breakpoint order): cost c̃ and cap u.
    cost: Vec<f64>,
    cap: Vec<f64>,
    /// Per user: her position, or `NONE` if she is not (or no longer) in the tree.
    slot: Vec<u32>,
    /// Positions of users who decided since the tree was last brought up to date.
    removed: Vec<u32>,
    keys: Vec<(i64, u32)>,
    committed: Assignment,
    staged: Assignment,
}

impl Default for Reassign {
    fn default() -> Self {
        Reassign {
            min_users: INCREMENTAL_MIN_USERS,
            active: false,
            built: false,
            leaves: 0,
            limit: 0,
            unstored: 0,
            tree: Vec::new(),
            cost: Vec::new(),
            cap: Vec::new(),
            slot: Vec::new(),
            removed: Vec::new(),
            keys: Vec::new(),
            committed: Assignment::Initial,
            staged: Assignment::Initial,
        }
    }
}

impl Reassign {
    /// Campaigns of at least `users` users re-assign incrementally (default
    /// [`INCREMENTAL_MIN_USERS`]); 0 always, `usize::MAX` never. For tests and benchmarks that
    /// compare the two paths on the same campaign.
    pub fn set_min_users(&mut self, users: usize) {
        self.min_users = users;
    }

    /// Whether a campaign of `users` users would re-assign incrementally ([`Reassign::start`]'s
    /// answer, without starting one).
    pub fn incremental_for(&self, users: usize) -> bool {
        users >= self.min_users && users < NONE as usize / 2
    }

    /// Compact storage: the lowest [`COMPACT_LEVELS`] levels of the tree are computed when read
    /// (same results bit for bit, ≈ 16× less memory for nodes, more work per operation), and
    /// the sort buffer is released after the build. For campaigns of millions of users.
    pub fn set_compact(&mut self, compact: bool) {
        self.unstored = if compact { COMPACT_LEVELS } else { 0 };
    }

    /// Whether the current campaign uses the structure.
    #[inline]
    pub fn is_active(&self) -> bool {
        self.active
    }

    /// Starts a campaign of `users` users; returns whether it is large enough to use the
    /// structure. Nothing is built until the first re-fill.
    pub fn start(&mut self, users: usize) -> bool {
        self.active = users >= self.min_users && users < NONE as usize / 2;
        self.built = false;
        self.committed = Assignment::Initial;
        self.staged = Assignment::Initial;
        self.active
    }

    /// Builds the tree over the `undecided` users, of observed costs `cost` and caps `cap`
    /// (indexed by user). O(m log m).
    fn build(&mut self, undecided: &[u32], cost: &[f64], cap: &[f64]) {
        // `water_fill` walks positive-cost users by (breakpoint, index); zero-cost users have no
        // breakpoint and only count as free data, so they go last.
        self.keys.clear();
        self.keys.extend(undecided.iter().map(|&i| {
            let (c, u) = (cost[i as usize], cap[i as usize]);
            let breakpoint = if c > 0.0 { u * c } else { f64::INFINITY };
            (total_key(breakpoint, false), i)
        }));
        // Integers in `total_cmp`'s order: the same permutation, cheaper comparisons.
        self.keys.sort_unstable();
        self.leaves = undecided.len().max(1).next_power_of_two();
        self.limit = ((2 * self.leaves) >> self.unstored).max(2);
        self.tree.clear();
        self.tree.resize(self.limit.min(2 * self.leaves), EMPTY);
        self.cost.clear();
        self.cap.clear();
        self.slot.clear();
        self.slot.resize(cost.len(), NONE);
        self.removed.clear();
        for (pos, &(_, i)) in self.keys.iter().enumerate() {
            let (c, u) = (cost[i as usize], cap[i as usize]);
            self.cost.push(c);
            self.cap.push(u);
            self.slot[i as usize] = pos as u32;
            if self.leaves + pos < self.limit {
                self.tree[self.leaves + pos] = self.leaf(pos);
            }
        }
        for k in (1..self.leaves.min(self.limit)).rev() {
            self.tree[k] = combine(&self.node(2 * k), &self.node(2 * k + 1));
        }
        if self.unstored > 0 {
            self.keys = Vec::new();
        }
        self.built = true;
    }

    /// The leaf of position `pos`: its user's sums if she is present, else empty.
    #[inline]
    fn leaf(&self, pos: usize) -> Node {
        match (self.cost.get(pos), self.cap.get(pos)) {
            (Some(&c), Some(&u)) if !c.is_nan() => {
                if c > 0.0 {
                    Node {
                        cap: u,
                        inv: 1.0 / c,
                        kappa: kappa(c, u),
                        free: 0.0,
                        top: u * c,
                    }
                } else {
                    Node { free: u, ..EMPTY }
                }
            }
            _ => EMPTY,
        }
    }

    /// Node `k`: stored, or computed from its subtree's leaves (compact storage).
    #[inline]
    fn node(&self, k: usize) -> Node {
        if k < self.limit {
            self.tree[k]
        } else if k >= self.leaves {
            self.leaf(k - self.leaves)
        } else {
            combine(&self.node(2 * k), &self.node(2 * k + 1))
        }
    }

    /// User `user` decides now: writes her current burden into `burden[user]` (unchanged before
    /// the first committed re-assignment) and leaves the undecided. O(1); the tree catches up at
    /// the next re-fill. Does nothing before the tree is built.
    pub fn decide(&mut self, user: usize, burden: &mut [f64]) {
        if !self.built {
            return;
        }
        let pos = self.slot[user];
        if pos == NONE {
            return;
        }
        burden[user] = self.committed.burden(
            self.cost[pos as usize],
            self.cap[pos as usize],
            burden[user],
        );
        self.slot[user] = NONE;
        // Absent from now on: a computed leaf reads this mark (the stored tree catches up at
        // the next re-fill; nothing reads the tree before then).
        self.cost[pos as usize] = f64::NAN;
        self.removed.push(pos);
    }

    /// Empties the leaves of the users who decided and recomputes their ancestors, level by
    /// level, each once. O(r log(m/r) + r log r) for r removals.
    fn catch_up(&mut self) {
        if self.removed.is_empty() {
            return;
        }
        let mut removed = std::mem::take(&mut self.removed);
        let nodes = &mut removed;
        for p in nodes.iter_mut() {
            *p += self.leaves as u32;
            if (*p as usize) < self.limit {
                self.tree[*p as usize] = EMPTY;
            }
        }
        nodes.sort_unstable();
        // All leaves are at one depth, so each pass holds the distinct nodes of one level.
        while nodes[0] > 1 {
            let mut kept = 0;
            for r in 0..nodes.len() {
                let parent = nodes[r] / 2;
                if kept == 0 || nodes[kept - 1] != parent {
                    nodes[kept] = parent;
                    kept += 1;
                }
            }
            nodes.truncate(kept);
            for &k in nodes.iter() {
                let k = k as usize;
                if k < self.limit {
                    self.tree[k] = combine(&self.node(2 * k), &self.node(2 * k + 1));
                }
            }
        }
        nodes.clear();
        self.removed = removed;
    }

    /// Water-fills `need` over the `undecided` users (observed costs `cost`, caps `cap`, indexed
    /// by user), as `water_fill` would, and returns the estimated privacy cost Σκ(c̃_j, x_j) of
    /// the result. `undecided` must be the users who have not decided yet; it is read only the
    /// first time, to build the tree. The result is staged: it becomes the undecided users'
    /// burdens on [`Reassign::commit`]. O(log n) after the first call.
    pub fn refill(
        &mut self,
        undecided: &[u32],
        cost: &[f64],
        cap: &[f64],
        need: f64,
        tol: f64,
    ) -> Result<f64, Infeasible> {
        debug_assert!(self.active);
        if self.built {
            self.catch_up();
        } else {
            self.build(undecided, cost, cap);
        }
        let root = self.node(1);
        let capacity = root.cap + root.free;
        if capacity < need - tol {
            return Err(Infeasible { capacity });
        }
        let free = root.free;
        if free >= need - tol {
            let share = if free > 0.0 {
                (need / free).clamp(0.0, 1.0)
            } else {
                0.0
            };
            // Zero-cost users bear no estimated cost and the others are assigned nothing.
            self.staged = Assignment::Free { share };
            return Ok(0.0);
        }
        let (level, estimate) = self.level(need, free);
        self.staged = Assignment::Level(level);
        Ok(estimate)
    }

    /// The level λ and estimate Σκ for `need` > `free`: descend to the first position k (among
    /// present positive-cost users) whose breakpoint covers the need, f(k) = capped_k + bp_k·S_k ≥
    /// need, with capped_k = free + Σ_{j<k} u_j and S_k = Σ_{j≥k} 1/c̃_j. f is non-decreasing
    /// in k, so k lies in the left child iff f at the left child's last user reaches the need;
    /// there f = capped + Σ_left u + top_left·(Σ_right 1/c̃ + S_after) (that user is exactly at
    /// her cap).
    fn level(&self, need: f64, free: f64) -> (f64, f64) {
        let root = self.node(1);
        let all_capped = (f64::INFINITY, root.kappa);
        if !root.has_positive() {
            return all_capped;
        }
        let mut node = 1;
        // Over the present users left of `node`: free + Σu and Σκ; right of it: Σ1/c̃.
        let (mut capped, mut capped_kappa, mut slope_right) = (free, 0.0, 0.0);
        while node < self.leaves {
            let (left, right) = (&self.node(2 * node), &self.node(2 * node + 1));
            if left.has_positive()
                && capped + left.cap + left.top * (right.inv + slope_right) >= need
            {
                slope_right += right.inv;
                node *= 2;
            } else if right.has_positive() {
                capped += left.cap;
                capped_kappa += left.kappa;
                node = 2 * node + 1;
            } else {
                return all_capped;
            }
        }
        let leaf = &self.node(node);
        let slope = leaf.inv + slope_right;
        if capped + leaf.top * slope < need {
            return all_capped;
        }
        let level = (need - capped) / slope;
        // Σ_{j≥k} c̃_j·(λ/c̃_j)²/2 = λ²/2·Σ 1/c̃_j (guarding 0·∞ when a cost is subnormal).
        let uncapped_kappa = if level > 0.0 {
            0.5 * level * level * slope
        } else {
            0.0
        };
        (level, capped_kappa + uncapped_kappa)
    }

    /// Makes the last [`Reassign::refill`] the undecided users' burdens.
    pub fn commit(&mut self) {
        self.committed = self.staged;
    }

    /// The current burden of undecided user `user` (`held` is what the caller holds for her,
    /// returned unchanged before the first committed re-assignment).
    pub fn burden(&self, user: usize, held: f64) -> f64 {
        let pos = match self.slot.get(user) {
            Some(&pos) if self.built && pos != NONE => pos as usize,
            _ => return held,
        };
        self.committed.burden(self.cost[pos], self.cap[pos], held)
    }

    /// Ends the campaign: writes every undecided user's current burden into `burden` (the
    /// protocol's output holds them, as the fresh water-filling wrote them) and deactivates.
    /// O(n) once.
    pub fn finish(&mut self, burden: &mut [f64]) {
        if self.built && self.committed != Assignment::Initial {
            for (user, x) in burden.iter_mut().enumerate() {
                *x = self.burden(user, *x);
            }
        }
        self.active = false;
        self.built = false;
    }
}

/// An integer with the order of `f64::total_cmp` (reversed when `descending`).
#[inline]
pub(crate) fn total_key(x: f64, descending: bool) -> i64 {
    let bits = x.to_bits() as i64;
    let key = bits ^ (((bits >> 63) as u64) >> 1) as i64;
    if descending { !key } else { key }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::waterfill::{FillScratch, water_fill};

    /// After random removals (in batches), every re-fill gives `water_fill`'s level, burdens and
    /// estimate on the remaining users, up to rounding; infeasibility and the free-data case
    /// agree exactly on these instances (caps are multiples of 1/8, so their sums are exact).
    #[test]
    fn refill_equals_water_fill_on_the_remaining_users() {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        let mut inc = Reassign::default();
        inc.set_min_users(0);
        let mut fill = FillScratch::default();
        for trial in 0..3_000 {
            let n = 1 + trial % 90;
            let cost: Vec<f64> = (0..n)
                .map(|_| match (next() * 10.0) as u32 {
                    0 => 0.0,
                    1 => 0.5, // ties in cost
                    _ => 0.01 + next() * 2.0,
                })
                .collect();
            let cap: Vec<f64> = (0..n).map(|_| (next() * 9.0).floor() / 8.0).collect();
            assert!(inc.start(n));
            let mut burden = vec![0.0; n];
            let mut present: Vec<usize> = (0..n).collect();
            while !present.is_empty() {
                // One to three users decide between re-fills (the tree catches up in batches).
                for _ in 0..1 + (next() * 3.0) as usize {
                    if present.is_empty() {
                        break;
                    }
                    let idx = (next() * present.len() as f64) as usize % present.len();
                    let gone = present.swap_remove(idx);
                    inc.decide(gone, &mut burden);
                }
                if present.is_empty() {
                    break;
                }
                let c: Vec<f64> = present.iter().map(|&j| cost[j]).collect();
                let u: Vec<f64> = present.iter().map(|&j| cap[j]).collect();
                let capacity: f64 = u.iter().sum();
                let need = (capacity * next() * 1.1 * 8.0).floor() / 8.0 + next() * 0.01;
                let tol = 1e-9;
                let mut x = vec![0.0; c.len()];
                let expected = water_fill(&c, &u, need, tol, &mut x, &mut fill);
                let undecided: Vec<u32> = present.iter().map(|&j| j as u32).collect();
                let got = inc.refill(&undecided, &cost, &cap, need, tol);
                assert_eq!(expected.is_err(), got.is_err(), "n={n} need={need}");
                let Ok(estimate) = got else { continue };
                inc.commit();
                let expected_estimate: f64 = c.iter().zip(&x).map(|(c, x)| kappa(*c, *x)).sum();
                let close = |a: f64, b: f64| (a - b).abs() <= 1e-12 * (1.0 + need);
                assert!(
                    close(estimate, expected_estimate),
                    "{estimate} {expected_estimate}"
                );
                for (k, &j) in present.iter().enumerate() {
                    let b = inc.burden(j, f64::NAN);
                    assert!(close(b, x[k]), "user {j}: {b} vs {}", x[k]);
                }
            }
        }
    }

    /// Compact storage gives the fully stored tree's estimates and burdens bit for bit, through
    /// removals in batches and re-fills, on instances large enough for computed levels.
    #[test]
    fn compact_storage_is_bit_identical() {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        let (mut full, mut compact) = (Reassign::default(), Reassign::default());
        full.set_min_users(0);
        compact.set_min_users(0);
        compact.set_compact(true);
        for trial in 0..300 {
            let n = 1 + trial * 7 % 700;
            let cost: Vec<f64> = (0..n)
                .map(|_| match (next() * 10.0) as u32 {
                    0 => 0.0,
                    1 => 0.5,
                    _ => 0.01 + next() * 2.0,
                })
                .collect();
            let cap: Vec<f64> = (0..n).map(|_| next()).collect();
            assert!(full.start(n) && compact.start(n));
            let (mut bf, mut bc) = (vec![0.25; n], vec![0.25; n]);
            let mut present: Vec<usize> = (0..n).collect();
            let mut refills = 0;
            while !present.is_empty() {
                for _ in 0..1 + (next() * 5.0) as usize {
                    if present.is_empty() {
                        break;
                    }
                    let idx = (next() * present.len() as f64) as usize % present.len();
                    let gone = present.swap_remove(idx);
                    full.decide(gone, &mut bf);
                    compact.decide(gone, &mut bc);
                    assert_eq!(bf[gone].to_bits(), bc[gone].to_bits());
                }
                let undecided: Vec<u32> = present.iter().map(|&j| j as u32).collect();
                let capacity: f64 = present.iter().map(|&j| cap[j]).sum();
                let need = capacity * next() * 1.05;
                let a = full.refill(&undecided, &cost, &cap, need, 1e-9);
                let b = compact.refill(&undecided, &cost, &cap, need, 1e-9);
                assert_eq!(
                    a.map(f64::to_bits).map_err(|e| e.capacity.to_bits()),
                    b.map(f64::to_bits).map_err(|e| e.capacity.to_bits()),
                    "n={n} refill {refills}"
                );
                full.commit();
                compact.commit();
                refills += 1;
            }
            full.finish(&mut bf);
            compact.finish(&mut bc);
            let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&bf), bits(&bc), "n={n}");
        }
    }

    /// Before any re-assignment the caller's burdens stand; `finish` writes the implied ones.
    #[test]
    fn burdens_are_held_until_a_refill_is_committed() {
        let cost = vec![1.0, 2.0, 0.0, 4.0];
        let cap = vec![1.0, 1.0, 0.5, 1.0];
        let mut inc = Reassign::default();
        inc.set_min_users(0);
        assert!(inc.start(4));
        let mut burden = vec![0.3, 0.2, 0.5, 0.1];
        inc.decide(0, &mut burden);
        assert_eq!(burden, [0.3, 0.2, 0.5, 0.1]);
        // Need 1.0 over users 1, 2, 3: free 0.5, then λ(1/2 + 1/4) = 0.5 → λ = 2/3.
        let estimate = inc.refill(&[1, 2, 3], &cost, &cap, 1.0, 1e-9).unwrap();
        inc.decide(1, &mut burden);
        assert_eq!(burden[1], 0.2, "staged, not committed");
        inc.commit();
        inc.finish(&mut burden);
        let level = 0.5 / 0.75;
        assert_eq!(burden[2], 0.5);
        assert!((burden[3] - level / 4.0).abs() < 1e-15);
        assert!((estimate - (kappa(2.0, level / 2.0) + kappa(4.0, level / 4.0))).abs() < 1e-15);
        assert_eq!(burden[0], 0.3);
    }
}
