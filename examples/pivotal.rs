//! **pivotal**: a withdraw strategy that values the improvement only when her data is pivotal.
//! A user whose withdrawal would sink the campaign loses V by withdrawing; one who is not
//! pivotal keeps V either way. So she stays iff
//!
//! - κ(c^w, x) ≤ p·x + V when the protocol reveals she is pivotal (M: the undecided users' caps
//!   cannot cover the remaining need without her),
//! - κ(c^w, x) ≤ p·x when it reveals she is not,
//! - κ(c^w, x) ≤ p·x + prior·V when it reveals nothing (S), `prior` being her belief that she is
//!   pivotal.
//!
//! Unlike the core free-rider (who withdraws whenever she is not pivotal) she stays when the
//! payment alone covers her cost. A strategy is a plain function of what the protocol tells her
//! ([`Deciding`]), so it runs under every protocol that asks users to decide: S, M, and the
//! `deposit` and `random_order` examples.
//!
//! ```sh
//! cargo run --release -p datapact-examples --example pivotal -- \
//!     run examples/scenarios/pivotal.toml --out results/pivotal
//! cargo run --release -p datapact -- report results/pivotal
//! ```
//!
//! ![Mean withdrawals per campaign of S, M, deposit and random_order over V and the share of pivotal-minded users (`datapact report`, 200 replications per cell)](../docs/figures/pivotal_withdrawals.png)

use datapact::prelude::*;
use datapact_model::kappa;

params! {
    /// Parameters of the pivotal strategy.
    pub struct PivotalParams {
        /// Her belief that she is pivotal when the protocol reveals nothing (S).
        prior: f64 = 0.5, Unit;
    }
}

/// Stays iff staying pays, counting V only as far as her data is pivotal.
#[derive(Debug)]
pub struct Pivotal(pub PivotalParams);

impl WithdrawRule for Pivotal {
    fn stays(&self, user: &Deciding) -> bool {
        let weight = match user.pivotal {
            Some(true) => 1.0,
            Some(false) => 0.0,
            None => self.0.prior,
        };
        kappa(user.realized_cost, user.burden) <= user.payment * user.burden + weight * user.value
    }
}

impl WithdrawStrategy for Pivotal {
    const NAME: &'static str = "pivotal";
    const DESCRIPTION: &'static str =
        "stays iff κ(c^w, x) ≤ p·x + w·V, w = 1 if pivotal, 0 if not, prior if nothing is revealed";
    type Params = PivotalParams;
    fn new(params: PivotalParams) -> Self {
        Pivotal(params)
    }
}

/// Registers the pivotal strategy (with the deposit and random-order mechanisms, so that one
/// scenario can try it under S, M and both).
pub struct PivotalPlugin;

impl Plugin for PivotalPlugin {
    fn build(&self, app: &mut PluginSet) {
        app.add_withdraw_strategy::<Pivotal>();
    }
    fn name(&self) -> &str {
        "pivotal"
    }
    fn version(&self) -> &str {
        "1.0"
    }
}

#[path = "deposit.rs"]
pub mod deposit;
#[path = "random_order.rs"]
pub mod random_order;

#[allow(dead_code)] // tests include this file as a module
fn main() -> std::process::ExitCode {
    App::new()
        .add_plugins((
            CorePlugins,
            deposit::DepositPlugin,
            random_order::RandomOrderPlugin,
            PivotalPlugin,
        ))
        .run_cli()
}
