//! The report phase and the two cost transformations around it: what the provider observes and
//! what the user bears at training time.

use crate::draws::mean_one_factor;
use crate::events::{Event, EventKind, EventSink};
use crate::strategy::ReportRule;

/// Report: ĉ_i by each user's report strategy (`strategy[i]` indexes `rules`). Each run of
/// consecutive users with one strategy is reported by one call of its rule.
pub fn report<S: EventSink>(
    true_cost: &[f64],
    strategy: &[u16],
    rules: &[std::sync::Arc<dyn ReportRule>],
    reported: &mut [f64],
    sink: &mut S,
) {
    let n = true_cost.len();
    let mut start = 0;
    while start < n {
        let s = strategy[start];
        let end = start + strategy[start..].iter().take_while(|&&t| t == s).count();
        rules[s as usize].report(&true_cost[start..end], &mut reported[start..end]);
        start = end;
    }
    if S::ENABLED {
        for (i, r) in reported.iter().enumerate() {
            sink.emit(Event::user(0, EventKind::Report, i, None, *r));
        }
    }
}

/// Observation: c̃_i = ĉ_i·exp(σ_o·η_i − σ_o²/2).
pub fn observe(reported: &[f64], obs_shock: &[f64], obs_noise: f64, observed: &mut [f64]) {
    for ((o, r), z) in observed.iter_mut().zip(reported).zip(obs_shock) {
        *o = observed_cost(*r, *z, obs_noise);
    }
}

/// Drift: c^w_i = c_i·exp(σ_w·ζ_i − σ_w²/2), the cost borne at training time.
pub fn realize(true_cost: &[f64], drift_shock: &[f64], drift: f64, realized: &mut [f64]) {
    for ((w, c), z) in realized.iter_mut().zip(true_cost).zip(drift_shock) {
        *w = realized_cost(*c, *z, drift);
    }
}

/// c̃ = ĉ·exp(σ_o·η − σ_o²/2) for one user.
#[inline]
pub fn observed_cost(reported: f64, obs_shock: f64, obs_noise: f64) -> f64 {
    reported * mean_one_factor(obs_noise, obs_shock)
}

/// c^w = c·exp(σ_w·ζ − σ_w²/2) for one user.
#[inline]
pub fn realized_cost(true_cost: f64, drift_shock: f64, drift: f64) -> f64 {
    true_cost * mean_one_factor(drift, drift_shock)
}
