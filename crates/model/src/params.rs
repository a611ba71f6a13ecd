//! The parameters of one campaign (MODEL.md's table), already validated by the scenario loader.

use crate::cost::CostDist;

/// Which mechanism a campaign runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Mechanism {
    /// Posted subsidy: privately optimal contributions, no reports, no withdrawal.
    C,
    /// Reports, assignment, simultaneous withdrawal (optionally with recovery rounds).
    S,
    /// Reports, assignment, sequential withdrawal with re-assignment.
    M,
}

impl Mechanism {
    pub const ALL: [Mechanism; 3] = [Mechanism::C, Mechanism::S, Mechanism::M];

    pub fn as_str(self) -> &'static str {
        match self {
            Mechanism::C => "C",
            Mechanism::S => "S",
            Mechanism::M => "M",
        }
    }
}

/// The order in which users decide under the sequential protocol M. Fixed when announced, from the
/// initial assignment; ties are broken by user index.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Order {
    /// Ascending initial burden (the paper's protocol).
    #[default]
    SmallFirst,
    /// Descending initial burden.
    LargeFirst,
    /// By an independent uniform draw per user (part of the campaign's draws).
    Random,
    /// Ascending observed cost (what the provider sees).
    CostAscending,
}

impl Order {
    pub fn as_str(self) -> &'static str {
        match self {
            Order::SmallFirst => "small-first",
            Order::LargeFirst => "large-first",
            Order::Random => "random",
            Order::CostAscending => "cost-ascending",
        }
    }
}

/// How a user reports her cost.
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub enum ReportStrategy {
    /// Reported cost equals true cost.
    #[default]
    Truthful,
    /// Reported cost is (1 + s)·cost (s may be negative: under-reporting).
    Shade(f64),
}

impl ReportStrategy {
    #[inline]
    pub fn report(self, true_cost: f64) -> f64 {
        match self {
            ReportStrategy::Truthful => true_cost,
            ReportStrategy::Shade(s) => ((1.0 + s) * true_cost).max(0.0),
        }
    }
}

/// How a user decides whether to withdraw before training.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum WithdrawRule {
    /// Stay iff κ(c^w, x) ≤ V + p·x.
    #[default]
    Sincere,
    /// Withdraw whenever her data is not pivotal by what the protocol reveals (she still enjoys V
    /// if the others carry the campaign); otherwise decide sincerely. Under M the undecided users'
    /// caps are known: she is not pivotal if they alone can still cover the remaining need. Under
    /// S nothing is revealed during the decision: she withdraws if, in past rounds, withdrawals
    /// were absorbed more often than not (never in a first round).
    FreeRider,
}

impl WithdrawRule {
    pub fn as_str(self) -> &'static str {
        match self {
            WithdrawRule::Sincere => "sincere",
            WithdrawRule::FreeRider => "free-rider",
        }
    }
}

/// Everything that parameterises one campaign. Costs are drawn from `cost`; all other fields are
/// the symbols of MODEL.md.
#[derive(Clone, Debug, PartialEq)]
pub struct Game {
    /// n: number of users.
    pub users: usize,
    /// F: distribution of private unit costs.
    pub cost: CostDist,
    /// θ: share of the population's data needed (Q = θ·n).
    pub threshold: f64,
    /// V: value of the improvement to each user.
    pub value: f64,
    /// p: payment per unit of data.
    pub payment: f64,
    /// b0: mechanism C's perceived marginal impact of own data.
    pub belief: f64,
    /// σ_o: multiplicative noise on the provider's observation of reported costs.
    pub obs_noise: f64,
    /// σ_w: cost drift between assignment and training.
    pub drift: f64,
    /// ρ: share of privacy cost borne by data that is later deleted.
    pub irreversible: f64,
    /// R: recovery rounds of the simultaneous protocol S.
    pub recovery_rounds: u32,
    /// Decision order of the sequential protocol M.
    pub order: Order,
    /// Share of users (the first round(share·n) by index) who report with `shade_strategy`.
    pub shade_share: f64,
    /// The shading factor s of those users.
    pub shade_factor: f64,
    /// The withdrawal rule of the users who are not free-riders.
    pub withdraw_rule: WithdrawRule,
    /// Share of users (the last round(share·n) by index, so that they are not the shaders) who
    /// withdraw as free-riders.
    pub free_rider_share: f64,
    /// Repeated rounds, cost process, learning.
    pub dynamics: crate::dynamics::Dynamics,
}

impl Default for Game {
    fn default() -> Self {
        Game {
            users: 20,
            cost: CostDist::Uniform {
                low: 0.0,
                high: 1.0,
            },
            threshold: 0.6,
            value: 0.1,
            payment: 0.1,
            belief: 0.15,
            obs_noise: 0.0,
            drift: 0.5,
            irreversible: 0.0,
            recovery_rounds: 0,
            order: Order::SmallFirst,
            shade_share: 0.0,
            shade_factor: 0.0,
            withdraw_rule: WithdrawRule::Sincere,
            free_rider_share: 0.0,
            dynamics: crate::dynamics::Dynamics::default(),
        }
    }
}

impl Game {
    /// Q = θ·n, the data needed for the improvement.
    #[inline]
    pub fn need(&self) -> f64 {
        self.threshold * self.users as f64
    }

    /// Tolerance for comparing data with Q (MODEL.md: 1e-9·n).
    #[inline]
    pub fn tolerance(&self) -> f64 {
        1e-9 * self.users as f64
    }

    /// Number of users who shade their reports (the first ones by index).
    #[inline]
    pub fn shaders(&self) -> usize {
        ((self.shade_share * self.users as f64).round() as usize).min(self.users)
    }

    /// Number of free-riders (the last ones by index).
    #[inline]
    pub fn free_riders(&self) -> usize {
        ((self.free_rider_share * self.users as f64).round() as usize).min(self.users)
    }

    /// The withdrawal rule of user `i`.
    #[inline]
    pub fn withdraw_rule_of(&self, i: usize) -> WithdrawRule {
        if i >= self.users - self.free_riders() {
            WithdrawRule::FreeRider
        } else {
            self.withdraw_rule
        }
    }

    /// The report strategy of user `i`.
    #[inline]
    pub fn strategy_of(&self, i: usize) -> ReportStrategy {
        if i < self.shaders() {
            ReportStrategy::Shade(self.shade_factor)
        } else {
            ReportStrategy::Truthful
        }
    }

    /// Everything [`Game::strategy_of`] and [`Game::withdraw_rule_of`] read: games with equal
    /// keys give every user the same strategies, so a cache of them is keyed by this.
    pub fn population_key(&self) -> PopulationKey {
        (
            self.users,
            self.shade_share,
            self.shade_factor,
            self.free_rider_share,
            self.withdraw_rule,
        )
    }
}

/// See [`Game::population_key`]: (users, shade share, shade factor, free-rider share, rule).
pub type PopulationKey = (usize, f64, f64, f64, WithdrawRule);
