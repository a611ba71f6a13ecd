//! The parameters of one campaign (the table of `docs/model.md`), already validated by the
//! scenario loader.

use crate::cost::CostDist;
use crate::param::ParamValues;

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
    /// The order's name as written in scenarios (`game.order`).
    pub fn as_str(self) -> &'static str {
        match self {
            Order::SmallFirst => "small-first",
            Order::LargeFirst => "large-first",
            Order::Random => "random",
            Order::CostAscending => "cost-ascending",
        }
    }
}

/// Which strategy a share of the population holds (index into the catalog's report or withdraw
/// strategies; 0, the default, means everyone holds the default).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StrategyShare {
    /// Catalog index of the strategy.
    pub strategy: usize,
    /// Share of users who hold it.
    pub share: f64,
    /// Its parameter values.
    pub params: ParamValues,
}

impl StrategyShare {
    /// Users who hold the strategy among `n` (round(share·n), 0 for the default).
    #[inline]
    pub fn holders(&self, n: usize) -> usize {
        if self.strategy == 0 {
            0
        } else {
            ((self.share * n as f64).round() as usize).min(n)
        }
    }
}

/// The strategies of the population (`[population.report]`, `[population.withdraw]`,
/// `[population.contribute|pledge|bid]`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Population {
    /// Held by the first `holders(n)` users by index.
    pub report: StrategyShare,
    /// Held by the last `holders(n)` users by index (so that they are not the report group).
    pub withdraw: StrategyShare,
    /// Per [`AmountKind`](crate::strategy::AmountKind), in the order of its `ALL`: held by the
    /// first `holders(n)` users by index.
    pub amount: [StrategyShare; 3],
}

impl Population {
    /// The strategy share of `kind`.
    pub fn of(&self, kind: crate::strategy::StrategyKind) -> &StrategyShare {
        use crate::strategy::StrategyKind;
        match kind {
            StrategyKind::Report => &self.report,
            StrategyKind::Withdraw => &self.withdraw,
            StrategyKind::Amount(a) => &self.amount[a.index()],
        }
    }

    /// The strategy share of `kind`, to set.
    pub fn of_mut(&mut self, kind: crate::strategy::StrategyKind) -> &mut StrategyShare {
        use crate::strategy::StrategyKind;
        match kind {
            StrategyKind::Report => &mut self.report,
            StrategyKind::Withdraw => &mut self.withdraw,
            StrategyKind::Amount(a) => &mut self.amount[a.index()],
        }
    }
}

/// Everything that parameterises one campaign. Costs are drawn from `cost`; all other fields are
/// the symbols of `docs/model.md`.
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
    /// Who holds which report and withdraw strategy.
    pub population: Population,
    /// Each mechanism's `[mechanism.NAME]` values, by catalog index (missing: defaults).
    pub mechanism_params: Vec<ParamValues>,
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
            population: Population::default(),
            mechanism_params: Vec::new(),
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

    /// Tolerance for comparing data with Q (`docs/model.md`: 1e-9·n).
    #[inline]
    pub fn tolerance(&self) -> f64 {
        1e-9 * self.users as f64
    }

    /// The report strategy index of user `i` (0: the default; 1: the configured strategy).
    #[inline]
    pub fn report_strategy_of(&self, i: usize) -> u16 {
        (i < self.population.report.holders(self.users)) as u16
    }

    /// The withdraw strategy index of user `i` (0: the default; 1: the configured strategy).
    #[inline]
    pub fn withdraw_strategy_of(&self, i: usize) -> u16 {
        (i >= self.users - self.population.withdraw.holders(self.users)) as u16
    }

    /// The `[mechanism.NAME]` values of the mechanism with catalog index `mechanism`.
    pub fn mechanism_params(&self, mechanism: usize) -> &ParamValues {
        static NONE: ParamValues = ParamValues(Vec::new());
        self.mechanism_params.get(mechanism).unwrap_or(&NONE)
    }

    /// Everything [`Game::report_strategy_of`], [`Game::withdraw_strategy_of`] and the
    /// population's rules read: games with equal keys give every user the same strategies, so a
    /// cache of them is keyed by this (compare with [`PopulationKey::matches`], which does not
    /// allocate).
    pub fn population_key(&self) -> PopulationKey {
        PopulationKey {
            users: self.users,
            population: self.population.clone(),
        }
    }
}

/// See [`Game::population_key`]: users and both strategy shares.
#[derive(Clone, Debug)]
pub struct PopulationKey {
    users: usize,
    population: Population,
}

impl PopulationKey {
    /// Whether `game` has this key, bit for bit (called per campaign: no allocation).
    pub fn matches(&self, game: &Game) -> bool {
        let same = |a: &StrategyShare, b: &StrategyShare| {
            a.strategy == b.strategy
                && a.share.to_bits() == b.share.to_bits()
                && a.params.same_bits(&b.params)
        };
        self.users == game.users
            && same(&self.population.report, &game.population.report)
            && same(&self.population.withdraw, &game.population.withdraw)
    }
}
