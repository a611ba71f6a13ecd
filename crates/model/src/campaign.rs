//! One campaign end to end, phases called in order on plain buffers: the direct kernel.
//! The ECS layer (crate `datapact-sim`) calls the same phase functions; this composition is the
//! reference it is tested and benchmarked against.

use crate::assign::{AssignMemo, respond};
use crate::draws::Draws;
use crate::events::EventSink;
use crate::params::{Game, Mechanism, ReportStrategy};
use crate::report::{observe, realize, report};
use crate::settle::{Outcome, settle_subsidy, settle_withdrawal};
use crate::withdraw::{
    Decision, ProtocolEnd, ProtocolScratch, WithdrawState, sequential, simultaneous,
};

/// Per-user buffers of one campaign, reused across campaigns.
#[derive(Clone, Debug, Default)]
pub struct Workspace {
    pub reported: Vec<f64>,
    pub observed: Vec<f64>,
    pub realized: Vec<f64>,
    pub cap: Vec<f64>,
    pub burden: Vec<f64>,
    pub decision: Vec<Decision>,
    /// u_i of the last campaign run.
    pub payoff: Vec<f64>,
    pub strategy: Vec<ReportStrategy>,
    pub rule: Vec<crate::params::WithdrawRule>,
    /// Per user: past withdrawals were absorbed (from [`crate::dynamics::Memory`]; false in round 0).
    pub absorbed: Vec<bool>,
    /// Per user: C's perceived marginal impact b_i (`game.belief` unless learned).
    pub belief: Vec<f64>,
    pub protocol: ProtocolScratch,
    /// The last S/M assignment, reused by the next campaign that observes the same costs.
    pub memo: AssignMemo,
    /// The n and population `strategy` and `rule` were built for.
    population_key: Option<(usize, crate::PopulationKey)>,
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
        let key = (n, game.population_key());
        if self.population_key != Some(key) {
            self.strategy.clear();
            self.strategy.extend((0..n).map(|i| game.strategy_of(i)));
            self.rule.clear();
            self.rule.extend((0..n).map(|i| game.withdraw_rule_of(i)));
            self.population_key = Some(key);
        }
    }
}

/// Runs one campaign of `mechanism` on `draws` with a fresh population (beliefs b0, no memory);
/// per-user payoffs are left in `ws.payoff`.
pub fn run_campaign<S: EventSink>(
    mechanism: Mechanism,
    game: &Game,
    draws: &Draws,
    ws: &mut Workspace,
    sink: &mut S,
) -> Outcome {
    ws.fresh_population(game, draws.len());
    run_round(mechanism, game, draws, ws, sink)
}

/// Runs one round of a repeated campaign: like [`run_campaign`], but with the population's
/// state as the caller left it in `ws.belief` and `ws.absorbed`.
pub fn run_round<S: EventSink>(
    mechanism: Mechanism,
    game: &Game,
    draws: &Draws,
    ws: &mut Workspace,
    sink: &mut S,
) -> Outcome {
    ws.prepare(game, draws.len());
    realize(
        &draws.cost,
        &draws.drift_shock,
        game.drift,
        &mut ws.realized,
    );
    if mechanism == Mechanism::C {
        respond(&draws.cost, &ws.belief, game, &mut ws.burden, sink);
        return settle_subsidy(&ws.realized, &ws.burden, game, &mut ws.payoff, sink);
    }
    report(&draws.cost, &ws.strategy, &mut ws.reported, sink);
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
            absorbed: &ws.absorbed,
        };
        match mechanism {
            Mechanism::S => simultaneous(st, game, &mut ws.protocol, sink),
            _ => sequential(st, &draws.order_key, game, &mut ws.protocol, sink),
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
