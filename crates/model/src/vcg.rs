//! Mechanism `vcg` (`docs/model.md`, section 13): the reported-welfare-maximising allocation
//! with unit caps and Clarke (pivot) payments, so that at σ_o = σ_w = 0 reporting the true cost
//! is a dominant strategy, campaign by campaign.
//!
//! Phases, in time order, as for S: report and observe (`crate::report`), **allocate**
//! ([`allocate`]: exact water-filling of Q with caps 1, go iff its cost K ≤ n·V), **price**
//! ([`costs_without`], [`clarke_payments`]: every user's Clarke payment t_i), **withdraw**
//! ([`decide_at_once`]: one simultaneous decision on the posted contract (x_i, t_i), no recovery
//! rounds) and **settle** ([`settle_vcg`]: a stayer of a success is paid t_i). [`run_vcg`] and
//! [`run_vcg_profile`] compose them on plain slices: the direct kernel of `vcg`.
//!
//! The allocation solves min Σ κ(c̃_j, x_j) s.t. Σ x_j = Q, 0 ≤ x_j ≤ 1. The caps do not depend
//! on any report (a user's report never changes her own feasible set), and K is the cost of the
//! very burdens the water-filling returns, so (go, x) maximises the reported welfare
//! n·V·1{go} − Σ κ(c̃_j, x_j) exactly (to rounding).

use crate::campaign::Workspace;
pub use crate::catalog::VCG;
use crate::cost::kappa;
use crate::draws::Draws;
use crate::events::{Event, EventKind, EventSink};
use crate::params::Game;
use crate::report::{observe, realize, report};
use crate::settle::{Outcome, Settled, settle_withdrawal_at};
use crate::strategy::{Deciding, Rules, WithdrawRules};
use crate::waterfill::{FillScratch, water_fill};
use crate::withdraw::{Decision, ProtocolEnd, decide};

/// The logical step of `vcg`'s training event: report 0, allocation 1, decisions 2, training 3.
pub const TRAIN_STEP: u32 = 3;

/// What the provider decides at allocation.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Allocation {
    /// n ≥ Q − τ: the unit caps can cover Q (always, as θ ≤ 1).
    pub feasible: bool,
    /// K = Σ κ(c̃_j, x_j) of the water-filling burdens (∞ when infeasible).
    pub cost: f64,
    /// The water level λ (x_j = min(1, λ/c̃_j)); `f64::INFINITY` when every user is at her cap,
    /// 0 when free data covers Q.
    pub level: f64,
    /// Go ahead: feasible and K ≤ n·V (no tolerance on the cost side, as S's test).
    pub go: bool,
    /// Users assigned below their cap 1 (x_j < 1 − 1e-9): the `backstoppers` column.
    pub backstoppers: u32,
}

/// Buffers of the allocation and of the payments, reused across campaigns.
#[derive(Clone, Debug, Default)]
pub struct VcgScratch {
    fill: FillScratch,
    ones: Vec<f64>,
    order: Vec<u32>,
    sorted: Vec<f64>,
    prefix_cost: Vec<f64>,
    suffix_inverse: Vec<f64>,
}

/// Allocates Q = θ·n over the users by exact water-filling with unit caps on the observed costs
/// `observed` (c̃_j ≥ 0, finite), writes the burdens to `burden` and decides whether to go ahead:
/// K ≤ n·V. Burdens are left at the water-filling solution even when the provider does not go
/// ahead (all 0 when infeasible).
pub fn allocate(
    observed: &[f64],
    game: &Game,
    burden: &mut [f64],
    scratch: &mut VcgScratch,
) -> Allocation {
    let n = observed.len();
    scratch.ones.clear();
    scratch.ones.resize(n, 1.0);
    match water_fill(
        observed,
        &scratch.ones,
        game.need(),
        game.tolerance(),
        burden,
        &mut scratch.fill,
    ) {
        Err(_) => {
            burden.fill(0.0);
            Allocation {
                feasible: false,
                cost: f64::INFINITY,
                level: f64::INFINITY,
                go: false,
                backstoppers: 0,
            }
        }
        Ok(level) => {
            let cost: f64 = observed
                .iter()
                .zip(&*burden)
                .map(|(c, x)| kappa(*c, *x))
                .sum();
            Allocation {
                feasible: true,
                cost,
                level,
                go: cost <= n as f64 * game.value,
                backstoppers: burden.iter().filter(|x| **x < 1.0 - 1e-9).count() as u32,
            }
        }
    }
}

/// K₋ᵢ for every user i: the least cost Σ_{j≠i} κ(c_j, x_j) of covering `need` without her,
/// with unit caps, written to `out[i]`; `f64::INFINITY` when the others cannot cover it
/// (n − 1 < need − tol). Free data is handled as [`water_fill`] does: if the other zero-cost
/// users alone reach need − tol, K₋ᵢ = 0.
///
/// Exact, in O(n log n) for all n values together (one sort, then O(n)), where solving the n
/// problems separately costs O(n² log n). With the costs sorted, s_1 ≤ … ≤ s_n, the others'
/// data at level μ is f₋ᵣ(μ) = Σ_{j≠r} min(1, μ/s_j), piecewise linear with breakpoints s_j; on
/// the segment where the k cheapest users are capped it is (k − 1{r ≤ k}) + μ·(P_k − 1{r > k}/s_r)
/// with P_k = Σ_{j>k} 1/s_j, so prefix sums of costs and suffix sums of inverse costs give each
/// level and cost in O(1) once the segment is known. Removing a cheaper user lowers f₋ᵣ
/// pointwise (min(1, μ/s) falls in s), so the level μ_r rises as r falls: walking r from the
/// dearest user to the cheapest, the segment index only moves forward, O(n) steps in all.
///
/// Rounding: each K₋ᵢ is accurate to a few ulps of the costs summed (tested against the naive
/// solution); it is computed from every user's cost, so its last bits may move with c_i, which a
/// Clarke payment (a function of the others' reports) does not notice above 1e-15·K.
pub fn costs_without(cost: &[f64], need: f64, tol: f64, out: &mut [f64], scratch: &mut VcgScratch) {
    let n = cost.len();
    debug_assert_eq!(out.len(), n);
    if n == 0 {
        return;
    }
    if ((n - 1) as f64) < need - tol {
        out.fill(f64::INFINITY);
        return;
    }
    let order = &mut scratch.order;
    order.clear();
    order.extend(0..n as u32);
    order.sort_unstable_by(|&a, &b| {
        cost[a as usize]
            .total_cmp(&cost[b as usize])
            .then(a.cmp(&b))
    });
    let s = &mut scratch.sorted;
    s.clear();
    s.extend(order.iter().map(|&i| cost[i as usize]));
    let free = s.iter().take_while(|c| **c <= 0.0).count();
    // prefix_cost[k] = Σ_{j<k} s_j; suffix_inverse[k] = Σ_{j≥k, s_j>0} 1/s_j (summed from the
    // dearest user, the smallest terms first).
    let prefix = &mut scratch.prefix_cost;
    prefix.clear();
    prefix.push(0.0);
    let mut acc = 0.0;
    for c in s.iter() {
        acc += c;
        prefix.push(acc);
    }
    let suffix = &mut scratch.suffix_inverse;
    suffix.clear();
    suffix.resize(n + 1, 0.0);
    for k in (free..n).rev() {
        suffix[k] = suffix[k + 1] + 1.0 / s[k];
    }
    for k in 0..free {
        suffix[k] = suffix[free];
    }

    // Segment k: the k cheapest users (positions 0..k) are capped, level μ ∈ [s_{k-1}, s_k].
    // The removed user r's data and the others' slope on segment k:
    let data_at = |k: usize, r: usize, mu: f64| -> f64 {
        if r < k {
            (k - 1) as f64 + mu * suffix[k]
        } else {
            k as f64 + mu * (suffix[k] - 1.0 / s[r])
        }
    };
    let mut k = free;
    for r in (0..n).rev() {
        let i = order[r] as usize;
        let free_others = free - (r < free) as usize;
        if free_others as f64 >= need - tol {
            out[i] = 0.0;
            continue;
        }
        // Advance while the level lies beyond breakpoint s_k: then user k is capped too.
        while k < n && data_at(k, r, s[k]) < need {
            k += 1;
        }
        out[i] = if k == n {
            // Everyone else at her cap (n − 1 ≥ need − tol, checked above).
            (prefix[n] - s[r]) / 2.0
        } else if r < k {
            let gap = need - (k - 1) as f64;
            (prefix[k] - s[r]) / 2.0 + gap * gap / (2.0 * suffix[k])
        } else {
            let slope = suffix[k] - 1.0 / s[r];
            let gap = need - k as f64;
            if slope > 0.0 && gap > 0.0 {
                prefix[k] / 2.0 + gap * gap / (2.0 * slope)
            } else {
                // The capped users alone reach the need (a boundary: the level is s_{k-1}).
                prefix[k] / 2.0
            }
        };
    }
}

/// Clarke payments, written to `payment`: t_i = (n − 1)·V − Σ_{j≠i} κ(c̃_j, x_j) −
/// max(0, (n − 1)·V − K₋ᵢ), from the allocation's burdens `burden`, its cost `total` = K and the
/// costs without each user `without` ([`costs_without`]). Computed branch by branch without the
/// large (n − 1)·V where it cancels: t_i = K₋ᵢ − Σ_{j≠i} κ_j when the others could go ahead
/// without her (K₋ᵢ < (n − 1)·V), else (n − 1)·V − Σ_{j≠i} κ_j.
pub fn clarke_payments(
    observed: &[f64],
    burden: &[f64],
    total: f64,
    without: &[f64],
    value: f64,
    payment: &mut [f64],
) {
    let n = observed.len();
    let others_value = n.saturating_sub(1) as f64 * value;
    for i in 0..n {
        let others_cost = total - kappa(observed[i], burden[i]);
        payment[i] = if without[i] < others_value {
            without[i] - others_cost
        } else {
            others_value - others_cost
        };
    }
}

/// The price phase of a campaign the provider goes ahead with ([`Allocation::go`]): the costs
/// without each user into `without` ([`costs_without`]), every user's Clarke payment into
/// `payment` ([`clarke_payments`]), then each user's `assign` event (time 1: her burden and
/// observed cost). The direct kernel and the simulator's `vcg` plugin both call it.
#[allow(clippy::too_many_arguments)]
pub fn price<S: EventSink>(
    observed: &[f64],
    burden: &[f64],
    allocation: Allocation,
    game: &Game,
    without: &mut [f64],
    payment: &mut [f64],
    scratch: &mut VcgScratch,
    sink: &mut S,
) {
    costs_without(observed, game.need(), game.tolerance(), without, scratch);
    clarke_payments(
        observed,
        burden,
        allocation.cost,
        without,
        game.value,
        payment,
    );
    if S::ENABLED {
        for (i, (x, c)) in burden.iter().zip(observed).enumerate() {
            sink.emit(Event::user(1, EventKind::Assign, i, Some(*x), *c));
        }
    }
}

/// The withdraw phase of `vcg`: every user decides at once (time 2, in user order, nothing
/// revealed) whether to keep her contract, burden x_i for payment t_i on success. Her withdraw
/// rule sees the contract as a price per unit t_i/x_i (0 when x_i = 0, where t_i = 0), so the
/// sincere rule stays iff κ(c^w_i, x_i) ≤ V + t_i. Returns the data committed by the stayers,
/// summed in user order. There are no recovery rounds: a withdrawn burden is not re-assigned.
#[allow(clippy::too_many_arguments)]
pub fn decide_at_once<S: EventSink>(
    realized: &[f64],
    burden: &[f64],
    payment: &[f64],
    rule: &[u16],
    rules: &WithdrawRules,
    absorbed: &[bool],
    game: &Game,
    decision: &mut [Decision],
    sink: &mut S,
) -> f64 {
    let mut committed = 0.0;
    for i in 0..burden.len() {
        let x = burden[i];
        let user = Deciding {
            realized_cost: realized[i],
            burden: x,
            value: game.value,
            payment: if x > 0.0 { payment[i] / x } else { 0.0 },
            pivotal: None,
            absorbed: absorbed[i],
        };
        let stay = rules.stays(rule[i], &user);
        decide(i, stay, 2, decision, burden, realized, sink);
        if stay {
            committed += x;
        }
    }
    committed
}

/// Settles `vcg` (section 6's table with p·x replaced by t_i): on success a stayer is paid t_i
/// and bears κ(c^w_i, x_i); a withdrawer bears ρ·κ(c^w_i, x_i) and enjoys V; on failure nothing is
/// paid and everyone who decided bears ρ·κ; a cancelled campaign is a null outcome. `payoff`
/// receives each U_i. t_i may be negative (a user whose report makes the others bear more than
/// their value pays the provider), so the subsidy Σ paid_i is the provider's net deficit.
///
/// Everything but the payments is S's settlement ([`settle_withdrawal_at`] at p = 0, training at
/// step [`TRAIN_STEP`]); the payments are then added to the stayers of a success.
#[allow(clippy::too_many_arguments)]
pub fn settle_vcg<S: EventSink>(
    end: ProtocolEnd,
    realized: &[f64],
    burden: &[f64],
    payment: &[f64],
    decision: &[Decision],
    game: &Game,
    backstoppers: u32,
    payoff: &mut [f64],
    sink: &mut S,
) -> Outcome {
    let unpaid = Game {
        payment: 0.0,
        ..game.clone()
    };
    let mut outcome = settle_withdrawal_at(
        end,
        f64::from(TRAIN_STEP),
        realized,
        burden,
        decision,
        &unpaid,
        backstoppers,
        payoff,
        sink,
    );
    if outcome.success() {
        let mut paid_total = 0.0;
        for ((u, t), d) in payoff.iter_mut().zip(payment).zip(decision) {
            let paid = if *d == Decision::Stay { *t } else { 0.0 };
            *u += paid;
            paid_total += paid;
        }
        outcome.subsidy = paid_total;
    }
    outcome
}

/// What settlement decided for each user of a settled `vcg` campaign (the `users` table's
/// `final_burden`, `payment`, `privacy_cost`), into `record`: section 6's shares at p = 0
/// ([`Settled::withdrawal`]), and t_i paid to a stayer of a success, as [`settle_vcg`] pays.
pub fn record_vcg(
    outcome: &Outcome,
    realized: &[f64],
    burden: &[f64],
    payment: &[f64],
    decision: &[Decision],
    game: &Game,
    record: &mut [Settled],
) {
    let unpaid = Game {
        payment: 0.0,
        ..game.clone()
    };
    Settled::withdrawals(outcome, decision, burden, realized, &unpaid, record);
    if outcome.success() {
        for ((r, d), t) in record.iter_mut().zip(decision).zip(payment) {
            if *d == Decision::Stay {
                r.paid = *t;
            }
        }
    }
}

/// Per-user buffers of one `vcg` campaign, reused across campaigns: S's (reports, observed and
/// realised costs, burdens, decisions, payoffs, strategies) and `vcg`'s own (payments, costs
/// without each user, the allocation).
#[derive(Clone, Debug, Default)]
pub struct VcgWorkspace {
    core: Workspace,
    payment: Vec<f64>,
    without: Vec<f64>,
    allocation: Option<Allocation>,
    scratch: VcgScratch,
}

impl VcgWorkspace {
    /// Per user: U_i of the last campaign run.
    pub fn payoff(&self) -> &[f64] {
        &self.core.payoff
    }

    /// Per user: her burden x_i of the last allocation.
    pub fn burden(&self) -> &[f64] {
        &self.core.burden
    }

    /// Per user: the provider's observed cost c̃_i.
    pub fn observed(&self) -> &[f64] {
        &self.core.observed
    }

    /// Per user: her answer in the withdraw phase.
    pub fn decision(&self) -> &[Decision] {
        &self.core.decision
    }

    /// Per user: her Clarke payment t_i, paid on success if she stays (0 when cancelled).
    pub fn payment(&self) -> &[f64] {
        &self.payment
    }

    /// Per user: K₋ᵢ, the least cost of covering Q without her (0 when cancelled).
    pub fn without(&self) -> &[f64] {
        &self.without
    }

    /// The allocation of the last campaign run.
    pub fn allocation(&self) -> Option<Allocation> {
        self.allocation
    }

    /// Readies the buffers for `n` users of a fresh population; strategies are set by the caller.
    fn prepare(&mut self, game: &Game, n: usize) {
        self.core.fresh_population(game, n);
        self.core.prepare(game, n);
        for v in [&mut self.payment, &mut self.without] {
            v.clear();
            v.resize(n, 0.0);
        }
    }
}

/// Runs one `vcg` campaign on `draws` with a fresh population whose strategies follow the game's
/// shares (as [`crate::run_campaign`]); per-user payoffs are then in [`VcgWorkspace::payoff`],
/// payments in [`VcgWorkspace::payment`]. `game.payment` (p), `game.recovery_rounds` (R) and
/// `game.order` do not enter `vcg`.
pub fn run_vcg<S: EventSink>(
    game: &Game,
    rules: &Rules,
    draws: &Draws,
    ws: &mut VcgWorkspace,
    sink: &mut S,
) -> Outcome {
    let n = draws.len();
    ws.prepare(game, n);
    // Always rebuilt: the workspace may have played a profile last.
    let core = &mut ws.core;
    core.strategy.clear();
    core.strategy
        .extend((0..n).map(|i| game.report_strategy_of(i)));
    core.rule.clear();
    core.rule
        .extend((0..n).map(|i| game.withdraw_strategy_of(i)));
    play(game, rules, draws, ws, sink)
}

/// Runs one `vcg` campaign with strategies given per user (`report_rule[i]`,
/// `withdraw_rule[i]`: indices into `rules`), as [`crate::run_profile`] does for C, S and M: the
/// campaign of a strategy profile, e.g. one user deviating while the others keep theirs.
///
/// # Panics
/// If `report_rule` or `withdraw_rule` is not one index per user.
#[allow(clippy::too_many_arguments)]
pub fn run_vcg_profile<S: EventSink>(
    game: &Game,
    rules: &Rules,
    draws: &Draws,
    report_rule: &[u16],
    withdraw_rule: &[u16],
    ws: &mut VcgWorkspace,
    sink: &mut S,
) -> Outcome {
    ws.prepare(game, draws.len());
    ws.core.strategy.copy_from_slice(report_rule);
    ws.core.rule.copy_from_slice(withdraw_rule);
    play(game, rules, draws, ws, sink)
}

/// The phases of one `vcg` campaign on a prepared workspace.
fn play<S: EventSink>(
    game: &Game,
    rules: &Rules,
    draws: &Draws,
    ws: &mut VcgWorkspace,
    sink: &mut S,
) -> Outcome {
    let core = &mut ws.core;
    realize(
        &draws.cost,
        &draws.drift_shock,
        game.drift,
        &mut core.realized,
    );
    report(
        &draws.cost,
        &core.strategy,
        &rules.report,
        &mut core.reported,
        sink,
    );
    observe(
        &core.reported,
        &draws.obs_shock,
        game.obs_noise,
        &mut core.observed,
    );
    let allocation = allocate(&core.observed, game, &mut core.burden, &mut ws.scratch);
    ws.allocation = Some(allocation);
    let end = if allocation.go {
        price(
            &core.observed,
            &core.burden,
            allocation,
            game,
            &mut ws.without,
            &mut ws.payment,
            &mut ws.scratch,
            sink,
        );
        let committed = decide_at_once(
            &core.realized,
            &core.burden,
            &ws.payment,
            &core.rule,
            rules.withdraw(),
            &core.absorbed,
            game,
            &mut core.decision,
            sink,
        );
        ProtocolEnd::Trained { committed }
    } else {
        ProtocolEnd::Cancelled
    };
    settle_vcg(
        end,
        &core.realized,
        &core.burden,
        &ws.payment,
        &core.decision,
        game,
        allocation.backstoppers,
        &mut core.payoff,
        sink,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::draws::unit_f64;
    use crate::events::NoEvents;
    use crate::settle::Status;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    /// K₋ᵢ by solving each problem on its own: n water-fillings, O(n² log n).
    fn naive_without(cost: &[f64], need: f64, tol: f64) -> Vec<f64> {
        let n = cost.len();
        let mut fill = FillScratch::default();
        (0..n)
            .map(|i| {
                let others: Vec<f64> = (0..n).filter(|&j| j != i).map(|j| cost[j]).collect();
                let ones = vec![1.0; n - 1];
                let mut x = vec![0.0; n - 1];
                match water_fill(&others, &ones, need, tol, &mut x, &mut fill) {
                    Err(_) => f64::INFINITY,
                    Ok(_) => others.iter().zip(&x).map(|(c, x)| kappa(*c, *x)).sum(),
                }
            })
            .collect()
    }

    fn game(n: usize, threshold: f64, value: f64) -> Game {
        Game {
            users: n,
            threshold,
            value,
            drift: 0.0,
            obs_noise: 0.0,
            ..Game::default()
        }
    }

    fn draws(cost: &[f64]) -> Draws {
        let n = cost.len();
        Draws {
            cost: cost.to_vec(),
            drift_shock: vec![0.7; n],
            obs_shock: vec![-0.4; n],
            order_key: vec![0.5; n],
        }
    }

    /// Costs c = (1/4, 1, 2), θ = 1/2 (Q = 3/2), V = 1/5, σ = 0.
    ///
    /// All three: user 0 is capped (λ/c_0 > 1), 1 + λ(1 + 1/2) = 3/2 gives λ = 1/3,
    /// x = (1, 1/3, 1/6), κ = (1/8, 1/18, 1/36), K = 5/24 ≤ nV = 3/5: go.
    /// Without user 0: λ + λ/2 = 3/2, λ = 1, x = (1, 1/2), K₋₀ = 1/2 + 1/4 = 3/4.
    /// Without user 1: 1 + λ/2 = 3/2, λ = 1, x = (1, 1/2), K₋₁ = 1/8 + 1/4 = 3/8.
    /// Without user 2: 1 + λ = 3/2, x = (1, 1/2), K₋₂ = 1/8 + 1/8 = 1/4.
    /// (n − 1)V = 2/5: user 0 is pivotal (K₋₀ = 3/4 > 2/5, h_0 = 0), so
    /// t_0 = 2/5 − (1/18 + 1/36) = 19/60; users 1 and 2 are not (h_1 = 2/5 − 3/8 = 1/40,
    /// h_2 = 2/5 − 1/4 = 3/20): t_1 = K₋₁ − (1/8 + 1/36) = 2/9, t_2 = K₋₂ − (1/8 + 1/18) = 5/72.
    /// Utilities V + t_i − κ_i = nV − K − h_i: (47/120, 11/30, 29/120); subsidy
    /// 19/60 + 2/9 + 5/72 = 73/120; welfare nV − K = 47/120.
    #[test]
    fn three_users_by_hand() {
        let g = game(3, 0.5, 0.2);
        let mut ws = VcgWorkspace::default();
        let o = run_vcg(
            &g,
            &Rules::default(),
            &draws(&[0.25, 1.0, 2.0]),
            &mut ws,
            &mut NoEvents,
        );
        let close = |a: f64, b: f64| (a - b).abs() < 1e-14;
        let a = ws.allocation().unwrap();
        assert!(a.go && close(a.cost, 5.0 / 24.0) && close(a.level, 1.0 / 3.0));
        assert_eq!(a.backstoppers, 2);
        for (x, want) in ws.burden().iter().zip([1.0, 1.0 / 3.0, 1.0 / 6.0]) {
            assert!(close(*x, want), "{:?}", ws.burden());
        }
        for (k, want) in ws.without().iter().zip([0.75, 0.375, 0.25]) {
            assert!(close(*k, want), "{:?}", ws.without());
        }
        for (t, want) in ws
            .payment()
            .iter()
            .zip([19.0 / 60.0, 2.0 / 9.0, 5.0 / 72.0])
        {
            assert!(close(*t, want), "{:?}", ws.payment());
        }
        for (u, want) in ws
            .payoff()
            .iter()
            .zip([47.0 / 120.0, 11.0 / 30.0, 29.0 / 120.0])
        {
            assert!(close(*u, want), "{:?}", ws.payoff());
        }
        assert_eq!(o.status, Status::Success);
        assert!(close(o.subsidy, 73.0 / 120.0) && close(o.welfare, 47.0 / 120.0));
        assert!(close(o.privacy_cost, 5.0 / 24.0) && close(o.data, 1.5));
        assert_eq!((o.leakage, o.withdrawals, o.backstoppers), (0.0, 0, 2));

        // V = 1/15: nV = 1/5 < K = 5/24, the provider cancels: a null outcome.
        let o = run_vcg(
            &game(3, 0.5, 1.0 / 15.0),
            &Rules::default(),
            &draws(&[0.25, 1.0, 2.0]),
            &mut ws,
            &mut NoEvents,
        );
        assert_eq!(o, Outcome::null(2));
        assert!(ws.payoff().iter().all(|u| *u == 0.0));
    }

    /// The O(n log n) walk gives the n separately solved problems' costs, on random instances
    /// with ties, free users, lognormal spreads, θ up to 1 and n from 1.
    #[test]
    fn costs_without_equal_the_naive_solutions() {
        let mut rng = ChaCha8Rng::seed_from_u64(26);
        let mut next = move || unit_f64(&mut rng);
        let mut scratch = VcgScratch::default();
        for trial in 0..4000 {
            let n = 1 + trial % 37;
            let kind = trial % 5;
            let cost: Vec<f64> = (0..n)
                .map(|_| match kind {
                    0 => next(),
                    1 => crate::variates::exp(3.0 * (next() - 0.5)) * next(),
                    2 => (next() * 4.0).floor() / 4.0, // ties and zeros
                    3 => {
                        if next() < 0.3 {
                            0.0
                        } else {
                            next()
                        }
                    }
                    _ => crate::variates::exp(8.0 * (next() - 0.5)),
                })
                .collect();
            let theta = match trial % 7 {
                0 => 1.0,
                1 => (n as f64 - 1.0) / n as f64,
                _ => next(),
            };
            let need = theta * n as f64;
            let tol = 1e-9 * n as f64;
            let mut fast = vec![0.0; n];
            costs_without(&cost, need, tol, &mut fast, &mut scratch);
            let slow = naive_without(&cost, need, tol);
            for i in 0..n {
                let (a, b) = (fast[i], slow[i]);
                let ok = a == b || (a - b).abs() <= 1e-12 * (1.0 + b.abs());
                assert!(
                    ok,
                    "trial {trial}, n {n}, user {i}: {a} vs {b}; costs {cost:?}, need {need}"
                );
            }
        }
    }
}
