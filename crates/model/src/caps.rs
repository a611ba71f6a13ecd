//! Individual responses and caps: closed forms from `docs/model.md`.

/// Mechanism C's privately optimal contribution x = min(1, (p + b0·V)/c) (x = 1 when c = 0).
#[inline]
pub fn subsidy_response(cost: f64, payment: f64, belief: f64, value: f64) -> f64 {
    // Computed whatever the cost and then selected (as in `ir_cap`): a loop of responses
    // vectorises, where a branch around the division kept it scalar.
    let interior = ((payment + belief * value) / cost).min(1.0);
    if cost <= 0.0 { 1.0 } else { interior }
}

/// The individual-rationality cap: the largest burden x with V + p·x − c·x²/2 ≥ 0, at most 1
/// (1 when c = 0): u = min(1, (p + sqrt(p² + 2·c·V))/c).
#[inline]
pub fn ir_cap(cost: f64, payment: f64, value: f64) -> f64 {
    // Computed whatever the cost and then selected: without a branch, a loop of caps vectorises
    // (two square roots and divisions at a time, where they were most of the assign phase).
    let interior = ((payment + (payment * payment + 2.0 * cost * value).sqrt()) / cost).min(1.0);
    if cost <= 0.0 { 1.0 } else { interior }
}

/// The sincere withdrawal rule: stay iff κ(c^w, x) ≤ V + p·x.
#[inline]
pub fn sincere_stays(realized_cost: f64, burden: f64, payment: f64, value: f64) -> bool {
    crate::kappa(realized_cost, burden) <= value + payment * burden
}
