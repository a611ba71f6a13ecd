//! **random_order**: sequential withdrawal like M, but users decide in a random order (one
//! uniform draw per user, shared with M's `order = "random"`: common random numbers), and a
//! re-assignment may raise a user's burden by at most `max_increase` over her first assignment
//! (so a late decider is never loaded with the whole shortfall).
//!
//! A new withdraw protocol written with the model's plain functions (`decision_order`,
//! `water_fill`, `kappa`) on the campaign's component slices. With `max_increase >= 1` (burdens
//! never exceed 1) it is M with `order = "random"`, bit for bit (tested).
//!
//! ```sh
//! cargo run --release -p datapact-examples --example random_order -- \
//!     run examples/scenarios/random_order.toml --out results/random_order
//! cargo run --release -p datapact -- report results/random_order
//! ```
//!
//! ![Success probability of S, M and random_order over V and max_increase (`datapact report`, 200 replications per cell)](../docs/figures/random_order_success.png)

use datapact::prelude::*;
use datapact_model::events::{Event, EventKind};
use datapact_model::waterfill::water_fill;
use datapact_model::withdraw::{decide, decision_order};
use datapact_model::{EventSink, Order, kappa};

params! {
    /// Parameters of the random-order protocol.
    pub struct RandomOrderParams {
        /// Largest increase of a user's burden over her first assignment at re-assignments.
        max_increase: f64 = 0.25, NonNeg;
    }
}

/// The mechanism: M's users and assignment; random order, capped re-assignment.
pub struct RandomOrder;

impl Mechanism for RandomOrder {
    const NAME: &'static str = "random_order";
    const DESCRIPTION: &'static str = "sequential withdrawal in random order; re-assignment raises a burden by at most max_increase";
    // M's pipeline: reports, assignment, withdrawal and settlement are the shared stages.
    const STAGES: Stages = Stages::REPORTING;
    type Params = RandomOrderParams;

    fn systems<S: Sink>(systems: &mut PhaseSystems) {
        systems.add(Phase::Withdraw, withdraw_in_random_order::<S>);
    }
}

fn withdraw_in_random_order<S: Sink>(
    me: Res<This<RandomOrder>>,
    mut phase: WithdrawPhase<S>,
    mut buf: Local<Buffers>,
) {
    let max_increase = me.params.max_increase;
    phase.play(me.id, |p| protocol(p, max_increase, &mut buf));
}

/// Buffers kept across campaigns.
#[derive(Default)]
struct Buffers {
    order: Vec<u32>,
    limit: Vec<f64>,
    cost: Vec<f64>,
    hi: Vec<f64>,
    out: Vec<f64>,
}

/// One campaign: M's loop (decide in order; after a withdrawal, water-fill the remaining need
/// over the undecided, stop if infeasible or unsustainable) with each user's burden bounded by
/// min(cap, first burden + max_increase).
fn protocol<S: EventSink>(p: Protocol<'_, S>, max_increase: f64, b: &mut Buffers) -> ProtocolEnd {
    let (st, game) = (p.state, p.game);
    let n = st.burden.len();
    let (need, tol, budget) = (game.need(), game.tolerance(), n as f64 * game.value);
    decision_order(
        Order::Random,
        st.burden,
        st.observed,
        p.order_key,
        &mut b.order,
    );
    b.limit.clear();
    b.limit
        .extend((0..n).map(|i| st.cap[i].min(st.burden[i] + max_increase)));
    let (mut committed, mut estimate) = (0.0, 0.0);
    // What the protocol reveals: how much the undecided could still carry.
    let mut undecided: f64 = b.limit.iter().sum();
    for pos in 0..n {
        let i = b.order[pos] as usize;
        let time = 2 + pos as u32;
        undecided -= b.limit[i];
        let pivotal = undecided < need - committed - tol;
        let stay = st.stays(i, game, Some(pivotal));
        decide(i, stay, time, st.decision, st.burden, st.realized, p.sink);
        if stay {
            committed += st.burden[i];
            estimate += kappa(st.observed[i], st.burden[i]);
            continue;
        }
        let rest = &b.order[pos + 1..];
        if rest.is_empty() {
            break;
        }
        b.cost.clear();
        b.hi.clear();
        for &j in rest {
            b.cost.push(st.observed[j as usize]);
            b.hi.push(b.limit[j as usize]);
        }
        b.out.clear();
        b.out.resize(rest.len(), 0.0);
        let fill = water_fill(
            &b.cost,
            &b.hi,
            (need - committed).max(0.0),
            tol,
            &mut b.out,
            &mut p.scratch.fill,
        );
        let rest_estimate: f64 = b.cost.iter().zip(&b.out).map(|(c, x)| kappa(*c, *x)).sum();
        if fill.is_err() || estimate + rest_estimate > budget {
            if S::ENABLED {
                p.sink.emit(Event::campaign(time, EventKind::Null, None));
            }
            return ProtocolEnd::Aborted;
        }
        for (&j, &x) in rest.iter().zip(&b.out) {
            st.burden[j as usize] = x;
            if S::ENABLED {
                let j = j as usize;
                p.sink.emit(Event::user(
                    time,
                    EventKind::Reassign,
                    j,
                    Some(x),
                    st.observed[j],
                ));
            }
        }
    }
    ProtocolEnd::Trained { committed }
}

/// Registers the random-order mechanism.
pub struct RandomOrderPlugin;

impl Plugin for RandomOrderPlugin {
    fn build(&self, app: &mut PluginSet) {
        app.add_mechanism::<RandomOrder>();
    }
    fn name(&self) -> &str {
        "random_order"
    }
    fn version(&self) -> &str {
        "1.0"
    }
}

#[allow(dead_code)] // tests include this file as a module
fn main() -> std::process::ExitCode {
    App::new()
        .add_plugins((CorePlugins, RandomOrderPlugin))
        .run_cli()
}
