//! The assign phase of S and M (caps, water-filling, the sustainability test) and the respond
//! phase of C (privately optimal contributions).

use crate::caps::{ir_cap, subsidy_response};
use crate::cost::kappa;
use crate::events::{Event, EventKind, EventSink};
use crate::params::Game;
use crate::strategy::{AmountKind, AmountRules, Choosing};
use crate::waterfill::{FillScratch, water_fill};

/// What the provider learned when assigning.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Assignment {
    /// Σ u_i ≥ Q and Σ κ(c̃_i, x_i) ≤ n·V.
    pub sustainable: bool,
    /// k: users whose burden is below their cap (x_i < u_i − 1e-9), 0 when infeasible.
    pub backstoppers: u32,
    /// Σ κ(c̃_i, x_i), the provider's estimate of the privacy cost (∞ when infeasible).
    pub estimated_cost: f64,
}

/// Assign: caps u_i from observed costs, burdens by exact water-filling of Q, and the
/// sustainability test. Burdens are left at the water-filling solution even when unsustainable
/// (the caller turns that into a null outcome).
pub fn assign<S: EventSink>(
    observed: &[f64],
    game: &Game,
    cap: &mut [f64],
    burden: &mut [f64],
    scratch: &mut FillScratch,
    sink: &mut S,
) -> Assignment {
    for (u, c) in cap.iter_mut().zip(observed) {
        *u = ir_cap(*c, game.payment, game.value);
    }
    let n = observed.len() as f64;
    match water_fill(
        observed,
        cap,
        game.need(),
        game.tolerance(),
        burden,
        scratch,
    ) {
        Err(_) => {
            burden.iter_mut().for_each(|x| *x = 0.0);
            Assignment {
                sustainable: false,
                backstoppers: 0,
                estimated_cost: f64::INFINITY,
            }
        }
        Ok(_) => {
            let estimated_cost: f64 = observed
                .iter()
                .zip(&*burden)
                .map(|(c, x)| kappa(*c, *x))
                .sum();
            let backstoppers = burden
                .iter()
                .zip(&*cap)
                .filter(|(x, u)| **x < **u - 1e-9)
                .count() as u32;
            let sustainable = estimated_cost <= n * game.value;
            if S::ENABLED && sustainable {
                for (i, (x, c)) in burden.iter().zip(observed).enumerate() {
                    sink.emit(Event::user(1, EventKind::Assign, i, Some(*x), *c));
                }
            }
            Assignment {
                sustainable,
                backstoppers,
                estimated_cost,
            }
        }
    }
}

/// The last assignment computed, kept so that a campaign observing the same costs under the same
/// game reuses it: S and M of one replication observe the same reports (common random numbers), so
/// the provider's assignment is the same and is computed once. Reuse requires the observed costs
/// to be equal bit for bit and the same V, p and Q; it is skipped when events are logged (each
/// campaign logs its own assignment).
#[derive(Clone, Debug, Default)]
pub struct AssignMemo {
    key: Option<[u64; 3]>,
    observed: Vec<f64>,
    cap: Vec<f64>,
    burden: Vec<f64>,
    assignment: Option<Assignment>,
}

impl AssignMemo {
    /// [`assign`], or a copy of the remembered assignment if it was made for the same input.
    pub fn assign<S: EventSink>(
        &mut self,
        observed: &[f64],
        game: &Game,
        cap: &mut [f64],
        burden: &mut [f64],
        scratch: &mut FillScratch,
        sink: &mut S,
    ) -> Assignment {
        if S::ENABLED {
            return assign(observed, game, cap, burden, scratch, sink);
        }
        let key = [
            game.payment.to_bits(),
            game.value.to_bits(),
            game.need().to_bits(),
        ];
        if let Some(assignment) = self.assignment
            && self.key == Some(key)
            && same_bits(&self.observed, observed)
        {
            cap.copy_from_slice(&self.cap);
            burden.copy_from_slice(&self.burden);
            return assignment;
        }
        let assignment = assign(observed, game, cap, burden, scratch, sink);
        self.key = Some(key);
        for (memo, v) in [
            (&mut self.observed, observed),
            (&mut self.cap, &*cap),
            (&mut self.burden, &*burden),
        ] {
            memo.clear();
            memo.extend_from_slice(v);
        }
        self.assignment = Some(assignment);
        assignment
    }
}

/// Whether two slices hold the same values bit for bit (so any function of them agrees).
pub fn same_bits(a: &[f64], b: &[f64]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits())
}

/// Respond (mechanism C): x_i = min(1, (p + b_i·V)/c_i) from each user's true cost and belief
/// (b_i = b0 unless users learn across rounds).
pub fn respond<S: EventSink>(
    true_cost: &[f64],
    belief: &[f64],
    game: &Game,
    contribution: &mut [f64],
    sink: &mut S,
) {
    for (i, ((x, c), b)) in contribution
        .iter_mut()
        .zip(true_cost)
        .zip(belief)
        .enumerate()
    {
        *x = subsidy_response(*c, game.payment, *b, game.value);
        if S::ENABLED {
            sink.emit(Event::user(1, EventKind::Respond, i, Some(*x), *c));
        }
    }
}

/// [`respond`] without events, compiled for `isa` (on AVX2, four users a register): the same
/// division, minimum and select for each user, so the same bits.
pub fn respond_for(
    isa: crate::lanes::Isa,
    true_cost: &[f64],
    belief: &[f64],
    game: &Game,
    contribution: &mut [f64],
) {
    crate::lanes::run(
        isa,
        #[inline(always)]
        |_| {
            for ((x, c), b) in contribution.iter_mut().zip(true_cost).zip(belief) {
                *x = subsidy_response(*c, game.payment, *b, game.value);
            }
        },
    )
}

/// Respond by the population's contribute strategies (`[population.contribute]`): each user's
/// [`AmountRule`](crate::strategy::AmountRule) chooses her contribution, clamped to [0, 1]. A
/// population whose rules are all C's optimal one is [`respond`], inline.
pub fn contribute<S: EventSink>(
    rules: &AmountRules,
    true_cost: &[f64],
    belief: &[f64],
    game: &Game,
    contribution: &mut [f64],
    sink: &mut S,
) {
    if rules.all_optimal_contributions() {
        return respond(true_cost, belief, game, contribution, sink);
    }
    for (i, ((x, c), b)) in contribution
        .iter_mut()
        .zip(true_cost)
        .zip(belief)
        .enumerate()
    {
        let user = Choosing {
            cost: *c,
            value: game.value,
            payment: game.payment,
            belief: *b,
            threshold: game.threshold,
            users: game.users,
        };
        *x = rules.choose(AmountKind::Contribute, i, &user);
        if S::ENABLED {
            sink.emit(Event::user(1, EventKind::Respond, i, Some(*x), *c));
        }
    }
}
