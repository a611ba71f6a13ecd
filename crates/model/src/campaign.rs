//! One campaign end to end, phases called in order on plain buffers: the direct kernel.
//! The ECS layer (crate `datapact-sim`) calls the same phase functions; this composition is the
//! reference it is tested and benchmarked against.

use crate::assign::{AssignMemo, contribute};
use crate::draws::Draws;
use crate::events::EventSink;
use crate::params::Game;
use crate::report::{observe, realize, report};
use crate::settle::{Outcome, settle_subsidy, settle_withdrawal};
use crate::strategy::Rules;
use crate::withdraw::{
    Decision, ProtocolEnd, ProtocolScratch, WithdrawState, sequential, simultaneous,
};

/// Per-user buffers of one campaign, reused across campaigns.
#[derive(Clone, Debug, Default)]
pub struct Workspace {
    /// Per user (S, M): the reported cost ĉ_i.
    pub reported: Vec<f64>,
    /// Per user: the provider's observed cost c̃_i of the report (S, M).
    pub observed: Vec<f64>,
    /// Per user: the realised cost c^w_i at training, after drift.
    pub realized: Vec<f64>,
    /// Per user (S, M): the cap x̄_i, the largest burden she accepts by the provider's estimate.
    pub cap: Vec<f64>,
    /// Per user: her burden x_i (assigned by S/M, chosen under C; updated by re-assignment).
    pub burden: Vec<f64>,
    /// Per user: her answer in the withdraw phase.
    pub decision: Vec<Decision>,
    /// u_i of the last campaign run.
    pub payoff: Vec<f64>,
    /// Per user: report strategy index into [`Rules::report`].
    pub strategy: Vec<u16>,
    /// Per user: withdraw strategy index into [`Rules::withdraw`].
    pub rule: Vec<u16>,
    /// Per user: past withdrawals were absorbed (from [`crate::dynamics::Memory`]; false in round 0).
    pub absorbed: Vec<bool>,
    /// Per user: C's perceived marginal impact b_i (`game.belief` unless learned).
    pub belief: Vec<f64>,
    /// Buffers of the withdraw protocols, reused across campaigns.
    pub protocol: ProtocolScratch,
    /// The last S/M assignment, reused by the next campaign that observes the same costs.
    pub memo: AssignMemo,
    /// The n and population `strategy` and `rule` were built for.
    population_key: Option<crate::PopulationKey>,
}

impl Workspace {
    /// Beliefs b0 and no memory: the population of a first round.
    pub fn fresh_population(&mut self, game: &Game, n: usize) {
        self.belief.clear();
        self.belief.resize(n, game.belief);
        self.absorbed.clear();
        self.absorbed.resize(n, false);
    }

    /// Readies the buffers for a campaign of `n` users of `game`. Every phase overwrites the
    /// columns it writes, so they are only resized; decisions start undecided; the users'
    /// strategies are rebuilt only when the population's parameters change.
    pub fn prepare(&mut self, game: &Game, n: usize) {
        if self.reported.len() != n {
            for v in [
                &mut self.reported,
                &mut self.observed,
                &mut self.realized,
                &mut self.cap,
                &mut self.burden,
                &mut self.payoff,
            ] {
                v.resize(n, 0.0);
            }
        }
        self.decision.clear();
        self.decision.resize(n, Decision::Undecided);
        if !self
            .population_key
            .as_ref()
            .is_some_and(|k| k.matches(game))
            || self.strategy.len() != n
        {
            let key = game.population_key();
            self.strategy.clear();
            self.strategy
                .extend((0..n).map(|i| game.report_strategy_of(i)));
            self.rule.clear();
            self.rule
                .extend((0..n).map(|i| game.withdraw_strategy_of(i)));
            self.population_key = Some(key);
        }
    }
}

/// The core mechanisms' protocols as the direct kernel plays them: the reference the ECS
/// plugins of C, S and M are tested against (plugin mechanisms run on the ECS only).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kernel {
    /// C: privately optimal contributions, settled as a posted subsidy.
    Subsidy,
    /// S: assignment, simultaneous withdrawal.
    Simultaneous,
    /// M: assignment, sequential withdrawal with re-assignment.
    Sequential,
}

impl Kernel {
    /// The direct kernel of the core mechanism called `name` ("C", "S" or "M").
    pub fn of(name: &str) -> Option<Kernel> {
        use crate::catalog::CoreMechanism as Core;
        match Core::named(name)? {
            Core::Subsidy => Some(Kernel::Subsidy),
            Core::Simultaneous => Some(Kernel::Simultaneous),
            Core::Sequential => Some(Kernel::Sequential),
            // Played on the ECS (`async`) or by its own kernel (`vcg`, [`crate::vcg`]).
            Core::Asynchronous | Core::Vcg => None,
        }
    }

    /// The core mechanism this kernel plays.
    pub fn mechanism(self) -> crate::catalog::CoreMechanism {
        use crate::catalog::CoreMechanism as Core;
        match self {
            Kernel::Subsidy => Core::Subsidy,
            Kernel::Simultaneous => Core::Simultaneous,
            Kernel::Sequential => Core::Sequential,
        }
    }

    /// The name of the core mechanism this kernel plays.
    pub fn name(self) -> &'static str {
        self.mechanism().name()
    }
}

/// Runs one campaign of `kernel` on `draws` with a fresh population (beliefs b0, no memory);
/// per-user payoffs are left in `ws.payoff`.
pub fn run_campaign<S: EventSink>(
    kernel: Kernel,
    game: &Game,
    rules: &Rules,
    draws: &Draws,
    ws: &mut Workspace,
    sink: &mut S,
) -> Outcome {
    ws.fresh_population(game, draws.len());
    run_round(kernel, game, rules, draws, ws, sink)
}

/// Runs one round of a repeated campaign: like [`run_campaign`], but with the population's
/// state as the caller left it in `ws.belief` and `ws.absorbed`.
pub fn run_round<S: EventSink>(
    kernel: Kernel,
    game: &Game,
    rules: &Rules,
    draws: &Draws,
    ws: &mut Workspace,
    sink: &mut S,
) -> Outcome {
    ws.prepare(game, draws.len());
    play(kernel, game, rules, draws, ws, sink)
}

/// Runs one campaign of `kernel` on `draws` with a fresh population whose strategies are given
/// per user (`report[i]`, `withdraw[i]`: indices into `rules`) instead of by the game's shares:
/// the campaign of a strategy profile, e.g. one user deviating from the others
/// ([`crate::deviation`]). Per-user payoffs are left in `ws.payoff`.
///
/// # Panics
/// If `report` or `withdraw` is not one index per user.
#[allow(clippy::too_many_arguments)]
pub fn run_profile<S: EventSink>(
    kernel: Kernel,
    game: &Game,
    rules: &Rules,
    draws: &Draws,
    report: &[u16],
    withdraw: &[u16],
    ws: &mut Workspace,
    sink: &mut S,
) -> Outcome {
    ws.fresh_population(game, draws.len());
    ws.prepare(game, draws.len());
    ws.strategy.copy_from_slice(report);
    ws.rule.copy_from_slice(withdraw);
    // the strategies no longer follow the game's shares: the next `prepare` rebuilds them
    ws.population_key = None;
    play(kernel, game, rules, draws, ws, sink)
}

/// The phases of one campaign on a prepared workspace.
fn play<S: EventSink>(
    kernel: Kernel,
    game: &Game,
    rules: &Rules,
    draws: &Draws,
    ws: &mut Workspace,
    sink: &mut S,
) -> Outcome {
    realize(
        &draws.cost,
        &draws.drift_shock,
        game.drift,
        &mut ws.realized,
    );
    if kernel == Kernel::Subsidy {
        contribute(
            rules.amount(crate::strategy::AmountKind::Contribute),
            &draws.cost,
            &ws.belief,
            game,
            &mut ws.burden,
            sink,
        );
        return settle_subsidy(&ws.realized, &ws.burden, game, &mut ws.payoff, sink);
    }
    report(
        &draws.cost,
        &ws.strategy,
        &rules.report,
        &mut ws.reported,
        sink,
    );
    observe(
        &ws.reported,
        &draws.obs_shock,
        game.obs_noise,
        &mut ws.observed,
    );
    let assignment = ws.memo.assign(
        &ws.observed,
        game,
        &mut ws.cap,
        &mut ws.burden,
        &mut ws.protocol.fill,
        sink,
    );
    let end = if !assignment.sustainable {
        ProtocolEnd::Cancelled
    } else {
        let st = WithdrawState {
            observed: &ws.observed,
            realized: &ws.realized,
            cap: &ws.cap,
            burden: &mut ws.burden,
            decision: &mut ws.decision,
            rule: &ws.rule,
            rules: rules.withdraw(),
            absorbed: &ws.absorbed,
            peers: None,
        };
        if kernel == Kernel::Simultaneous {
            simultaneous(st, game, &mut ws.protocol, sink)
        } else {
            sequential(st, &draws.order_key, game, &mut ws.protocol, sink)
        }
    };
    settle_withdrawal(
        end,
        &ws.realized,
        &ws.burden,
        &ws.decision,
        game,
        assignment.backstoppers,
        &mut ws.payoff,
        sink,
    )
}
