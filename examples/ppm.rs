//! **ppm**: the provision point mechanism with a money-back guarantee and rebates (Bagnoli &
//! Lipman 1989; Marks & Croson 1998), for data. Nobody reports a cost and nobody is assigned a
//! burden: each user **pledges** data by her pledge strategy; before training she may withdraw
//! her pledge (her withdraw strategy, on her drifted cost); training runs only if the pledges of
//! those who stay reach the provision point Q = θ·n — otherwise the money-back guarantee holds:
//! nothing is collected, paid or borne. What is pledged beyond Q is handled by the rebate rule
//! (`[mechanism.ppm] rebate`):
//!
//! - `"none"`: every stayer's whole pledge is collected and paid for (p per unit); the
//!   improvement is worth V to everyone. (The settlement's default terms.)
//! - `"proportional"`: the excess goes back in proportion to each pledge: a stayer gives
//!   x_i·Q/X of her pledge (X: the stayers' pledges), bears and is paid for that.
//! - `"utilization"`: the excess is used: all pledges are collected, and the improvement grows
//!   with the data, worth V·X/Q to everyone.
//!
//! A mechanism that is not a variant of M, in one file: a categorical parameter (`labels!`,
//! swept by label as `mechanism.ppm.rebate`, a Utf8 column in the outputs), a new user decision
//! (a pledge strategy, `[population.pledge]`), its own pledge phase, the shared withdraw and
//! settle stages with its own settlement terms, and a metric `excess`.
//!
//! ```sh
//! cargo run --release -p datapact-examples --example ppm -- \
//!     run examples/scenarios/ppm.toml --out results/ppm
//! cargo run --release -p datapact -- report results/ppm
//! ```

use std::sync::Arc;

use datapact::prelude::*;
use datapact_model::caps::ir_cap;
use datapact_model::withdraw::decide_all;

labels! {
    /// What happens to the data pledged beyond the provision point.
    pub enum Rebate {
        /// Collected and paid for; worth nothing more.
        None = "none",
        /// Given back in proportion to each pledge.
        Proportional = "proportional",
        /// Used: the improvement grows with the data.
        Utilization = "utilization",
    }
}

params! {
    /// Parameters of the provision point mechanism.
    pub struct PpmParams {
        /// The rebate rule for data pledged beyond Q: "none", "proportional" or "utilization".
        rebate: Rebate = "none", OneOf;
    }
}

/// The mechanism: pledges, the shared withdraw and settle stages, its rebate as settlement terms.
pub struct Ppm;

impl Mechanism for Ppm {
    const NAME: &'static str = "ppm";
    const DESCRIPTION: &'static str = "provision point: users pledge data, training runs only if the pledges of those who stay reach Q (money back otherwise), the excess is rebated by `rebate`";
    // No reports, no assignment: users pledge (its own phase); withdrawal and settlement are
    // the shared stages.
    const STAGES: Stages = Stages::NONE.with(Stage::Withdraw).with(Stage::Settle);
    const AMOUNTS: &'static [AmountKind] = &[AmountKind::Pledge];
    type Params = PpmParams;

    fn systems<S: Sink>(systems: &mut PhaseSystems) {
        systems
            .add(Phase::Assign, pledge::<S>)
            .add(Phase::Withdraw, withdraw_pledges::<S>)
            .add(Phase::Train, measure_excess);
    }

    fn terms(params: &PpmParams) -> Option<Arc<dyn Terms>> {
        match params.rebate {
            Rebate::None => None,
            Rebate::Proportional => Some(Arc::new(ProportionalRebate)),
            Rebate::Utilization => Some(Arc::new(UtilizationRebate)),
        }
    }
}

/// Each stayer gives x_i·Q/X of her pledge: together exactly Q.
#[derive(Debug)]
pub struct ProportionalRebate;

impl Terms for ProportionalRebate {
    fn kept(&self, user: &Settling) -> f64 {
        user.burden * (user.game.need() / user.committed).min(1.0)
    }
}

/// The whole excess is used: the improvement is worth V·X/Q to every user.
#[derive(Debug)]
pub struct UtilizationRebate;

impl Terms for UtilizationRebate {
    fn value(&self, user: &Settling) -> f64 {
        user.game.value * user.committed / user.game.need()
    }
}

/// Data pledged by those who stayed beyond the provision point, X − Q, in trained campaigns
/// (0 when short of Q).
pub struct Excess;

impl Metric for Excess {
    const NAME: &'static str = "excess";
    const DESCRIPTION: &'static str = "ppm: data pledged by stayers beyond the provision point, max(0, X − Q) (null for other mechanisms)";
}

/// Pledge: each user chooses her pledge by her pledge strategy, knowing her true cost.
fn pledge<S: Sink>(
    me: Res<This<Ppm>>,
    batch: Res<Batch>,
    mut sinks: ResMut<Sinks<S>>,
    mut users: Query<(&Member, &TrueCost, &Belief, &mut Burden)>,
) {
    let (game, pledges) = (&batch.game, batch.rules.amount(AmountKind::Pledge));
    for (members, cost, belief, mut burden) in users.contiguous_iter_mut().expect("dense") {
        for (c, rows) in campaign_blocks_of(members, &batch, me.id) {
            for (i, row) in rows.enumerate() {
                let user = Choosing {
                    cost: cost[row].0,
                    value: game.value,
                    payment: game.payment,
                    belief: belief[row].0,
                    threshold: game.threshold,
                    users: game.users,
                };
                let x = pledges.choose(AmountKind::Pledge, i, &user);
                burden[row].0 = x;
                if S::ENABLED {
                    let event =
                        datapact_model::Event::user(1, EventKind::Pledge, i, Some(x), user.cost);
                    sinks.0[c].emit(event);
                }
            }
        }
    }
}

/// Everyone decides at once whether to keep her pledge; the shared settlement then trains iff
/// the pledges kept reach Q.
fn withdraw_pledges<S: Sink>(me: Res<This<Ppm>>, mut phase: WithdrawPhase<S>) {
    phase.play(me.id, |p| decide_all(p.state, p.game, p.sink));
}

/// After settlement: the excess of each trained campaign.
fn measure_excess(
    me: Res<This<Ppm>>,
    batch: Res<Batch>,
    table: Res<CampaignTable>,
    mut metrics: ResMut<Metrics>,
) {
    let excess = metrics.column_mut::<Excess>();
    for c in (0..batch.campaigns()).filter(|c| batch.mechanism(*c) == me.id) {
        if let ProtocolEnd::Trained { committed } = table.end[c] {
            excess[c] = (committed - batch.game.need()).max(0.0);
        }
    }
}

/// Pledges the largest amount she would give if the provision point is met: V + p·x ≥ κ(c, x)
/// (her individual-rationality cap at her true cost).
#[derive(Clone, Copy, Debug)]
pub struct PledgeCap;

impl AmountRule for PledgeCap {
    fn choose(&self, user: &Choosing) -> f64 {
        ir_cap(user.cost, user.payment, user.value)
    }
}

impl AmountStrategy for PledgeCap {
    const KIND: AmountKind = AmountKind::Pledge;
    const NAME: &'static str = "cap";
    const DESCRIPTION: &'static str =
        "pledges the most she would give if the provision point is met: V + p·x ≥ κ(c, x)";
    type Params = NoParams;
    fn new(_: NoParams) -> Self {
        PledgeCap
    }
}

params! {
    /// Parameters of the fraction pledge strategy.
    pub struct FractionParams {
        /// The share of her cap she pledges.
        fraction: f64 = 0.5, Unit;
    }
}

/// Pledges a fraction of her cap (a cautious, or strategic, contributor).
#[derive(Clone, Copy, Debug)]
pub struct PledgeFraction(pub FractionParams);

impl AmountRule for PledgeFraction {
    fn choose(&self, user: &Choosing) -> f64 {
        self.0.fraction * ir_cap(user.cost, user.payment, user.value)
    }
}

impl AmountStrategy for PledgeFraction {
    const KIND: AmountKind = AmountKind::Pledge;
    const NAME: &'static str = "fraction";
    const DESCRIPTION: &'static str = "pledges `fraction` of her cap";
    type Params = FractionParams;
    fn new(params: FractionParams) -> Self {
        PledgeFraction(params)
    }
}

/// Registers the mechanism, its pledge strategies (the first, `cap`, is every user's default)
/// and its metric.
pub struct PpmPlugin;

impl Plugin for PpmPlugin {
    fn build(&self, app: &mut PluginSet) {
        app.add_mechanism::<Ppm>()
            .add_amount_strategy::<PledgeCap>()
            .add_amount_strategy::<PledgeFraction>()
            .add_metric::<Excess>();
    }
    fn name(&self) -> &str {
        "ppm"
    }
    fn version(&self) -> &str {
        "1.0"
    }
}

#[allow(dead_code)] // tests include this file as a module
fn main() -> std::process::ExitCode {
    App::new().add_plugins((CorePlugins, PpmPlugin)).run_cli()
}
