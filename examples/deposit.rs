//! **deposit**: M plus a refundable deposit. Every assigned user posts `amount` per unit of her
//! burden; a user who stays gets it back, a user who withdraws forfeits it to the provider. So
//! staying is worth p + amount per unit at decision time, and withdrawing costs amount·x.
//!
//! A new mechanism in one file: its parameters (`[mechanism.deposit] amount = ...`, sweepable as
//! `mechanism.deposit.amount`), its withdraw protocol (M's, with the deposit in each decision) and
//! a metric `forfeited` (per campaign: the deposits kept, a column of `rounds` and
//! `forfeited_mean`/`forfeited_se` of `cells`).
//!
//! ```sh
//! cargo run --release -p datapact-examples --example deposit -- \
//!     run examples/scenarios/deposit.toml --out results/deposit
//! cargo run --release -p datapact -- report results/deposit
//! ```
//!
//! ![Mean withdrawals per campaign of S, M and deposit over V and the deposit amount (`datapact report`, 200 replications per cell)](../docs/figures/deposit_withdrawals.png)

use datapact::prelude::*;
use datapact_model::withdraw::sequential;

params! {
    /// Parameters of the deposit mechanism.
    pub struct DepositParams {
        /// Deposit per unit of assigned data, refunded on staying, forfeited on withdrawing.
        amount: f64 = 0.05, NonNeg;
    }
}

/// The mechanism: M's users, assignment and order; M's protocol with the deposit at stake.
pub struct Deposit;

impl Mechanism for Deposit {
    const NAME: &'static str = "deposit";
    const DESCRIPTION: &'static str =
        "M plus a refundable deposit per unit of burden, forfeited by a user who withdraws";
    // M's pipeline: reports, assignment, withdrawal and settlement are the shared stages.
    const STAGES: Stages = Stages::REPORTING;
    type Params = DepositParams;

    fn systems<S: Sink>(systems: &mut PhaseSystems) {
        systems
            .add(Phase::Withdraw, withdraw_with_deposit::<S>)
            .add(Phase::Train, forfeit_deposits);
    }
}

/// Deposits kept by the provider in one campaign: Σ amount·x over the users who withdrew.
pub struct Forfeited;

impl Metric for Forfeited {
    const NAME: &'static str = "forfeited";
    const DESCRIPTION: &'static str = "deposit mechanism: deposits forfeited by withdrawing users, Σ amount·x (null for other mechanisms)";
}

/// Sequential withdrawal in the announced order; each user decides as if staying paid
/// p + amount per unit (her deposit comes back only if she stays).
fn withdraw_with_deposit<S: Sink>(me: Res<This<Deposit>>, mut phase: WithdrawPhase<S>) {
    let batch_game = &phase.batch().game;
    let game = Game {
        payment: batch_game.payment + me.params.amount,
        ..batch_game.clone()
    };
    phase.play(me.id, |p| {
        sequential(p.state, p.order_key, &game, p.scratch, p.sink)
    });
}

/// After settlement: withdrawing users lose their deposit; the campaign records what was kept.
fn forfeit_deposits(
    me: Res<This<Deposit>>,
    batch: Res<Batch>,
    table: Res<CampaignTable>,
    mut metrics: ResMut<Metrics>,
    mut users: Query<(&Member, &Burden, &Choice, &mut Payoff)>,
) {
    let forfeited = metrics.column_mut::<Forfeited>();
    for (members, burden, choice, mut payoff) in users.contiguous_iter_mut().expect("dense") {
        for (c, rows) in campaign_blocks_of(members, &batch, me.id) {
            let mut kept = 0.0;
            // A cancelled campaign assigned nothing: nobody posted a deposit.
            for i in rows.filter(|_| table.end[c] != ProtocolEnd::Cancelled) {
                if choice[i].0 == Decision::Withdraw {
                    let deposit = me.params.amount * burden[i].0;
                    payoff[i].0 -= deposit;
                    kept += deposit;
                }
            }
            forfeited[c] = kept;
        }
    }
}

/// Registers the deposit mechanism and its metric.
pub struct DepositPlugin;

impl Plugin for DepositPlugin {
    fn build(&self, app: &mut PluginSet) {
        app.add_mechanism::<Deposit>().add_metric::<Forfeited>();
    }
    fn name(&self) -> &str {
        "deposit"
    }
    fn version(&self) -> &str {
        "1.0"
    }
}

#[allow(dead_code)] // tests include this file as a module
fn main() -> std::process::ExitCode {
    App::new()
        .add_plugins((CorePlugins, DepositPlugin))
        .run_cli()
}
