//! The parameters of one campaign (the table of `docs/model.md`), already validated by the
//! scenario loader.

use crate::cost::CostDist;
use crate::param::{ParamValues, Rule};

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
    /// Every order, in the order of `game.order`'s names ([`ORDER`]).
    pub const ALL: [Order; 4] = [
        Order::SmallFirst,
        Order::LargeFirst,
        Order::Random,
        Order::CostAscending,
    ];

    /// Its position in [`Order::ALL`].
    pub fn index(self) -> usize {
        match self {
            Order::SmallFirst => 0,
            Order::LargeFirst => 1,
            Order::Random => 2,
            Order::CostAscending => 3,
        }
    }

    /// The order's name as written in scenarios (`game.order`).
    pub fn as_str(self) -> &'static str {
        ORDER_NAMES[self.index()]
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

/// Whether a key at its default value is written into the canonical scenario text (and so the
/// scenario hash) and, for a drawn key, into the draw key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Written {
    /// Always: the keys datapact had when the embedded scenarios' hashes were pinned (their
    /// canonical text must not change).
    Always,
    /// Only when its value differs from the default: how every key added since is declared, so
    /// that adding a key to datapact changes no existing run's hash, draws or files.
    UnlessDefault,
}

/// One scalar key of a [`Game`]: `population.users` or a `[game]` key. The one declaration the
/// scenario reader, the range checks, the sweep (its axes and where a value goes), the canonical
/// text (the hash), the draw key ([`crate::draw_key`]), `Game::default` and the listings
/// iterate ([`GAME_KEYS`]); its meaning is in the phase functions that read the field.
#[derive(Clone, Copy, Debug)]
pub struct GameKey {
    /// The scenario table it is written in (`game` or `population`).
    pub table: &'static str,
    /// Its key in that table.
    pub name: &'static str,
    /// Its symbol in `docs/model.md` (empty if none).
    pub symbol: &'static str,
    /// What it means (docs and listings).
    pub doc: &'static str,
    /// Allowed values (`Rule::Int` for an integer; for a choice, the positions).
    pub rule: Rule,
    /// The value when the key is absent (for a choice, the default's position).
    pub default: f64,
    /// For a key written as a name, the names in order (the value is the position); empty for a
    /// number.
    pub choices: &'static [&'static str],
    /// The key's value in a game (a choice's position).
    pub get: fn(&Game) -> f64,
    /// Sets the key's value in a game (validated by the loader).
    pub set: fn(&mut Game, f64),
    /// Whether it changes what is drawn: then it enters the draw key, and cells that differ in
    /// it do not share draws.
    pub drawn: bool,
    /// Whether it is written at its default (see [`Written`]).
    pub written: Written,
}

impl GameKey {
    /// `table.name`, as swept and overridden (`game.value`, `population.users`).
    pub fn path(&self) -> String {
        format!("{}.{}", self.table, self.name)
    }

    /// Whether the key is written for `game` (into the canonical text, and the draw key if
    /// drawn): always for a [`Written::Always`] key, otherwise only away from its default.
    pub fn is_written(&self, game: &Game) -> bool {
        self.written == Written::Always || (self.get)(game) != self.default
    }

    /// A choice's name for position `v` (`None` for a number or a position out of range).
    pub fn choice(&self, v: f64) -> Option<&'static str> {
        self.choices.get(v as usize).copied()
    }
}

/// The names of [`Order`]'s values as written in `game.order`, in [`Order::ALL`]'s order.
const ORDER_NAMES: [&str; 4] = ["small-first", "large-first", "random", "cost-ascending"];

/// Most users a campaign may have.
pub const MAX_USERS: i64 = 100_000_000_000;

/// `population.users`.
pub const USERS: GameKey = GameKey {
    table: "population",
    name: "users",
    symbol: "n",
    doc: "number of users",
    rule: Rule::Int {
        min: 1,
        max: MAX_USERS,
    },
    default: 20.0,
    choices: &[],
    get: |g| g.users as f64,
    set: |g, v| g.users = v as usize,
    drawn: true,
    written: Written::Always,
};

/// A numeric `[game]` key written as today's keys are (always; not drawn).
const fn game_key(
    name: &'static str,
    symbol: &'static str,
    doc: &'static str,
    rule: Rule,
    default: f64,
    get: fn(&Game) -> f64,
    set: fn(&mut Game, f64),
) -> GameKey {
    GameKey {
        table: "game",
        name,
        symbol,
        doc,
        rule,
        default,
        choices: &[],
        get,
        set,
        drawn: false,
        written: Written::Always,
    }
}

/// `game.threshold`.
pub const THRESHOLD: GameKey = game_key(
    "threshold",
    "θ",
    "share of the population's data needed (Q = θ·n)",
    Rule::UnitOpen0,
    0.6,
    |g| g.threshold,
    |g, v| g.threshold = v,
);
/// `game.value`.
pub const VALUE: GameKey = game_key(
    "value",
    "V",
    "value of the improvement to each user",
    Rule::NonNeg,
    0.1,
    |g| g.value,
    |g, v| g.value = v,
);
/// `game.payment`.
pub const PAYMENT: GameKey = game_key(
    "payment",
    "p",
    "payment per unit of data",
    Rule::NonNeg,
    0.1,
    |g| g.payment,
    |g, v| g.payment = v,
);
/// `game.belief`.
pub const BELIEF: GameKey = game_key(
    "belief",
    "b0",
    "mechanism C: a user's perceived marginal impact of her own data",
    Rule::NonNeg,
    0.15,
    |g| g.belief,
    |g, v| g.belief = v,
);
/// `game.obs_noise`.
pub const OBS_NOISE: GameKey = game_key(
    "obs_noise",
    "σ_o",
    "multiplicative noise on the provider's observation of reported costs",
    Rule::NonNeg,
    0.0,
    |g| g.obs_noise,
    |g, v| g.obs_noise = v,
);
/// `game.drift`.
pub const DRIFT: GameKey = game_key(
    "drift",
    "σ_w",
    "cost drift between assignment and training",
    Rule::NonNeg,
    0.5,
    |g| g.drift,
    |g, v| g.drift = v,
);
/// `game.irreversible`.
pub const IRREVERSIBLE: GameKey = game_key(
    "irreversible",
    "ρ",
    "share of the privacy cost borne anyway by data that is later deleted",
    Rule::Unit,
    0.0,
    |g| g.irreversible,
    |g, v| g.irreversible = v,
);
/// `game.recovery_rounds`.
pub const RECOVERY_ROUNDS: GameKey = game_key(
    "recovery_rounds",
    "R",
    "recovery rounds of protocol S",
    Rule::Int { min: 0, max: 1000 },
    0.0,
    |g| g.recovery_rounds as f64,
    |g, v| g.recovery_rounds = v as u32,
);
/// `game.order`.
pub const ORDER: GameKey = GameKey {
    choices: &ORDER_NAMES,
    rule: Rule::Int {
        min: 0,
        max: ORDER_NAMES.len() as i64 - 1,
    },
    ..game_key(
        "order",
        "",
        "decision order of protocol M",
        Rule::Any,
        0.0,
        |g| g.order.index() as f64,
        |g, v| g.order = Order::ALL[v as usize],
    )
};

/// Every scalar key of a [`Game`], in the order the canonical text writes them:
/// `population.users`, then the `[game]` keys. Adding a key is one entry here (declared with
/// [`Written::UnlessDefault`]), its field in [`Game`] (defaulting to the entry's `default`),
/// and the formula that reads it.
pub const GAME_KEYS: [GameKey; 10] = [
    USERS,
    THRESHOLD,
    VALUE,
    PAYMENT,
    BELIEF,
    OBS_NOISE,
    DRIFT,
    IRREVERSIBLE,
    RECOVERY_ROUNDS,
    ORDER,
];

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
    /// The network among a campaign's users (`[population.network]`); `None`: no ties (every
    /// protocol as without a network).
    pub network: Option<crate::network::Network>,
    /// The `threshold` withdraw strategy's φ drawn per user from this distribution
    /// (`[population.withdraw] threshold = { dist = ... }`, [`crate::Threshold::Drawn`]);
    /// `None`: φ is the strategy's number.
    pub peer_threshold: Option<CostDist>,
}

impl Default for Game {
    /// The defaults of [`GAME_KEYS`], uniform costs on [0, 1], everyone truthful and sincere,
    /// no mechanism parameters, one round.
    fn default() -> Self {
        Game {
            users: USERS.default as usize,
            cost: CostDist::Uniform {
                low: 0.0,
                high: 1.0,
            },
            threshold: THRESHOLD.default,
            value: VALUE.default,
            payment: PAYMENT.default,
            belief: BELIEF.default,
            obs_noise: OBS_NOISE.default,
            drift: DRIFT.default,
            irreversible: IRREVERSIBLE.default,
            recovery_rounds: RECOVERY_ROUNDS.default as u32,
            order: Order::ALL[ORDER.default as usize],
            population: Population::default(),
            mechanism_params: Vec::new(),
            dynamics: crate::dynamics::Dynamics::default(),
            network: None,
            peer_threshold: None,
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

#[cfg(test)]
mod tests {
    use super::*;

    /// `Game::default` holds every key's declared default, and each key's getter and setter
    /// address its own field: setting one key moves it and no other.
    #[test]
    fn keys_read_and_write_their_own_field() {
        let base = Game::default();
        for k in &GAME_KEYS {
            assert_eq!((k.get)(&base), k.default, "{}", k.path());
            assert!(
                k.rule.ok(k.default),
                "{}: default outside its rule",
                k.path()
            );
            let other = if k.choices.is_empty() {
                k.default + 1.0
            } else {
                (k.default + 1.0) % k.choices.len() as f64
            };
            let mut g = base.clone();
            (k.set)(&mut g, other);
            for j in &GAME_KEYS {
                let expected = if j.path() == k.path() {
                    other
                } else {
                    j.default
                };
                assert_eq!(
                    (j.get)(&g),
                    expected,
                    "setting {} moved {}",
                    k.path(),
                    j.path()
                );
            }
        }
        let paths: std::collections::BTreeSet<String> =
            GAME_KEYS.iter().map(|k| k.path()).collect();
        assert_eq!(paths.len(), GAME_KEYS.len(), "a key declared twice");
    }

    #[test]
    fn orders_are_named_by_the_order_key() {
        for (i, o) in Order::ALL.into_iter().enumerate() {
            assert_eq!(o.index(), i);
            assert_eq!(ORDER.choice(i as f64), Some(o.as_str()));
        }
        assert_eq!(ORDER.choices.len(), Order::ALL.len());
    }

    /// A key declared `UnlessDefault` is written only away from its default; an `Always` key
    /// (every key the pinned scenario hashes were made with) at any value.
    #[test]
    fn keys_added_later_are_written_only_away_from_their_default() {
        let later = GameKey {
            written: Written::UnlessDefault,
            ..THRESHOLD
        };
        let mut g = Game::default();
        assert!(!later.is_written(&g));
        assert!(THRESHOLD.is_written(&g));
        g.threshold = 0.7;
        assert!(later.is_written(&g));
        for k in &GAME_KEYS {
            assert_eq!(
                k.written,
                Written::Always,
                "{}: pinned hashes include it",
                k.path()
            );
        }
    }
}
