//! The report phase and the two cost transformations around it: what the provider observes and
//! what the user bears at training time.

use crate::draws::mean_one_factor;
use crate::events::{Event, EventKind, EventSink};
use crate::params::ReportStrategy;

/// Report: ĉ_i by each user's report strategy.
pub fn report<S: EventSink>(
    true_cost: &[f64],
    strategy: &[ReportStrategy],
    reported: &mut [f64],
    sink: &mut S,
) {
    for (i, ((r, c), st)) in reported.iter_mut().zip(true_cost).zip(strategy).enumerate() {
        *r = st.report(*c);
        if S::ENABLED {
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
