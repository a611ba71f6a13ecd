//! User strategies as open traits: how a user reports her cost ([`ReportRule`]) and whether she
//! stays before training ([`WithdrawRule`]). The core strategies (truthful, shade, sincere,
//! free-rider) implement them like any plugin's; protocols call them through [`Rules`], the
//! strategies of one cell's population.
//!
//! A population has a default strategy of each kind (index 0: the first registered, truthful and
//! sincere) and at most one other (index 1), held by a share of the users: the first
//! round(share·n) users by index for reports, the last round(share·n) for withdrawal, so that the
//! two groups overlap only when their shares add up to more than one.

use std::sync::Arc;

use crate::caps::sincere_stays;
use crate::param::{NoParams, Params};

/// How a user reports her cost. Called on runs of consecutive users who share the strategy; a
/// rule reports each user from her own cost alone (very large campaigns split runs into blocks,
/// `crate::large`).
pub trait ReportRule: Send + Sync + std::fmt::Debug + 'static {
    /// Writes each user's reported cost ĉ_i from her true cost c_i.
    fn report(&self, true_cost: &[f64], reported: &mut [f64]);
    /// Whether every report is the true cost, bit for bit (ĉ_i = c_i): then the engine may
    /// observe the true costs without writing the reports (false unless a rule says so).
    fn is_truthful(&self) -> bool {
        false
    }
}

/// What a user knows when she decides whether to stay (the protocol fills it in).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Deciding {
    /// c^w_i, her cost at training time.
    pub realized_cost: f64,
    /// x_i, her current burden.
    pub burden: f64,
    /// V, the value of the improvement to her.
    pub value: f64,
    /// What staying pays per unit of data (p; a mechanism may add to it, e.g. a refundable
    /// deposit that a withdrawing user forfeits).
    pub payment: f64,
    /// Whether the campaign would fall short without her, as far as the protocol reveals it
    /// (M: the undecided users' caps are announced); `None` when it reveals nothing (S).
    pub pivotal: Option<bool>,
    /// Her memory of earlier rounds: withdrawals were absorbed more often than not (false in a
    /// first round).
    pub absorbed: bool,
}

impl Deciding {
    /// The sincere answer: stay iff κ(c^w, x) ≤ V + p·x.
    #[inline]
    pub fn sincere(&self) -> bool {
        sincere_stays(self.realized_cost, self.burden, self.payment, self.value)
    }
}

/// What a user of a population on a network (`[population.network]`) sees of her neighbours
/// when she decides: how many she has, and how many have withdrawn as far as the protocol lets
/// her know (`docs/model.md`, "Users on a network"); and her own threshold when the population's
/// thresholds are drawn.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Neighbours {
    /// Her degree.
    pub degree: u32,
    /// Her neighbours known to have withdrawn.
    pub withdrawn: u32,
    /// Her own threshold φ_i, drawn per user (`[population.withdraw] threshold = { dist = ...
    /// }`, [`crate::Threshold::Drawn`]); `None`: the rule's own number.
    pub threshold: Option<f64>,
}

impl Neighbours {
    /// withdrawn / degree (0 without neighbours).
    #[inline]
    pub fn withdrawn_share(self) -> f64 {
        if self.degree == 0 {
            0.0
        } else {
            self.withdrawn as f64 / self.degree as f64
        }
    }
}

/// Whether a user stays before training. Protocols call it once per decision.
pub trait WithdrawRule: Send + Sync + std::fmt::Debug + 'static {
    /// True to stay, false to withdraw.
    fn stays(&self, user: &Deciding) -> bool;

    /// On a network: whether she stays knowing also what she sees of her neighbours. The
    /// default ignores them (every rule that does not read neighbours answers as [`stays`]).
    ///
    /// [`stays`]: WithdrawRule::stays
    fn stays_among(&self, user: &Deciding, neighbours: Neighbours) -> bool {
        let _ = neighbours;
        self.stays(user)
    }

    /// True if [`WithdrawRule::stays_among`] reads the neighbours: then the protocols ask a
    /// user who has stayed again when a neighbour withdraws (M until training, S in its recovery
    /// rounds, `async` when the news arrives).
    fn reads_neighbours(&self) -> bool {
        false
    }

    /// True only if `stays` is exactly [`Deciding::sincere`]: a population whose rules all are
    /// sincere is decided inline, without a call through the trait object per decision.
    fn is_sincere(&self) -> bool {
        false
    }
}

/// A report strategy as a plugin registers it: a name, its parameters and its rule.
pub trait ReportStrategy: ReportRule + Sized {
    /// The name used in `[population.report] strategy = "..."`.
    const NAME: &'static str;
    /// One sentence for docs and `--help`.
    const DESCRIPTION: &'static str;
    /// Its parameters (keys of `[population.report]` beside `strategy` and `share`).
    type Params: Params;
    /// The rule for one cell's parameter values.
    fn new(params: Self::Params) -> Self;
}

/// A withdraw strategy as a plugin registers it: a name, its parameters and its rule.
pub trait WithdrawStrategy: WithdrawRule + Sized {
    /// The name used in `[population.withdraw] strategy = "..."`.
    const NAME: &'static str;
    /// One sentence for docs and `--help`.
    const DESCRIPTION: &'static str;
    /// Its parameters (keys of `[population.withdraw]` beside `strategy` and `share`).
    type Params: Params;
    /// The rule for one cell's parameter values.
    fn new(params: Self::Params) -> Self;
}

/// The kinds of user decision that choose an amount, beside reporting a cost and withdrawing:
/// how much data to contribute (C's users), to pledge (a provision point), or the price to bid
/// (an auction). A plugin registers strategies of any kind; a mechanism's systems ask its users
/// through [`AmountRules::choose`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AmountKind {
    /// The data she contributes, in [0, 1] (mechanism C; `[population.contribute]`).
    Contribute,
    /// The data she pledges, in [0, 1] (`[population.pledge]`).
    Pledge,
    /// The price per unit of data she asks, ≥ 0 (`[population.bid]`).
    Bid,
}

impl AmountKind {
    /// Every kind, in the order of [`Catalog::amount`](crate::Catalog::amount).
    pub const ALL: [AmountKind; 3] = [AmountKind::Contribute, AmountKind::Pledge, AmountKind::Bid];

    /// The kind's name: its table `[population.NAME]` and event kind.
    pub fn as_str(self) -> &'static str {
        match self {
            AmountKind::Contribute => "contribute",
            AmountKind::Pledge => "pledge",
            AmountKind::Bid => "bid",
        }
    }

    /// Its position in [`AmountKind::ALL`].
    #[inline]
    pub fn index(self) -> usize {
        self as usize
    }

    /// The allowed range of an amount of this kind, to which a rule's answer is clamped: data
    /// in [0, 1], a price ≥ 0.
    #[inline]
    pub fn clamp(self, v: f64) -> f64 {
        match self {
            AmountKind::Contribute | AmountKind::Pledge => v.clamp(0.0, 1.0),
            AmountKind::Bid => v.max(0.0),
        }
    }
}

/// Every kind of user strategy a population holds: how she reports, whether she withdraws, and
/// the amounts she chooses. Each kind has a table `[population.NAME]` (`strategy`, `share`, the
/// strategy's own keys) and registered strategies, the first of which every user holds by
/// default.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StrategyKind {
    /// [`ReportStrategy`]: the cost she reports.
    Report,
    /// [`WithdrawStrategy`]: whether she stays before training.
    Withdraw,
    /// [`AmountStrategy`] of a kind: the amount she contributes, pledges or bids.
    Amount(AmountKind),
}

impl StrategyKind {
    /// Every kind, in table order.
    pub const ALL: [StrategyKind; 5] = [
        StrategyKind::Report,
        StrategyKind::Withdraw,
        StrategyKind::Amount(AmountKind::Contribute),
        StrategyKind::Amount(AmountKind::Pledge),
        StrategyKind::Amount(AmountKind::Bid),
    ];

    /// The kind's name: its table `[population.NAME]`.
    pub fn as_str(self) -> &'static str {
        match self {
            StrategyKind::Report => "report",
            StrategyKind::Withdraw => "withdraw",
            StrategyKind::Amount(a) => a.as_str(),
        }
    }

    /// Its position in [`StrategyKind::ALL`].
    pub fn index(self) -> usize {
        match self {
            StrategyKind::Report => 0,
            StrategyKind::Withdraw => 1,
            StrategyKind::Amount(a) => 2 + a.index(),
        }
    }

    /// The share of users holding a non-default strategy when `share` is not written: nobody
    /// for reports and amounts (a strategy named is a group's), everybody for withdrawal.
    pub fn default_share(self) -> f64 {
        match self {
            StrategyKind::Withdraw => 1.0,
            _ => 0.0,
        }
    }

    /// Whether a table of this kind is written in the canonical scenario text even when it
    /// holds the default (report and withdraw, as ever; amount kinds only when not default, so
    /// that scenarios that do not use them keep their hash).
    pub fn always_written(self) -> bool {
        matches!(self, StrategyKind::Report | StrategyKind::Withdraw)
    }
}

/// What a user knows when she chooses an amount.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Choosing {
    /// c_i, her true unit cost now.
    pub cost: f64,
    /// V, the value of the improvement to her.
    pub value: f64,
    /// p, the posted payment per unit of data.
    pub payment: f64,
    /// b_i, her perceived marginal impact of her own data (b0 unless learned).
    pub belief: f64,
    /// θ, the share of the population's data the campaign needs.
    pub threshold: f64,
    /// n, the users of her campaign.
    pub users: usize,
}

/// How a user chooses an amount of one [`AmountKind`].
pub trait AmountRule: Send + Sync + std::fmt::Debug + 'static {
    /// The amount (clamped by the caller to the kind's range, [`AmountKind::clamp`]).
    fn choose(&self, user: &Choosing) -> f64;

    /// True only if `choose` is exactly C's privately optimal contribution
    /// ([`crate::caps::subsidy_response`]): a population whose contribute rules all are is
    /// decided inline.
    fn is_optimal_contribution(&self) -> bool {
        false
    }
}

/// An amount strategy as a plugin registers it: its kind, a name, its parameters and its rule.
pub trait AmountStrategy: AmountRule + Sized {
    /// Which decision it answers.
    const KIND: AmountKind;
    /// The name used in `[population.KIND] strategy = "..."`.
    const NAME: &'static str;
    /// One sentence for docs and `--help`.
    const DESCRIPTION: &'static str;
    /// Its parameters (keys of `[population.KIND]` beside `strategy` and `share`).
    type Params: Params;
    /// The rule for one cell's parameter values.
    fn new(params: Self::Params) -> Self;
}

/// A population's rules of one amount kind: the default (index 0) and, held by the first
/// `holders` users by index, another.
#[derive(Clone, Debug, Default)]
pub struct AmountRules {
    rules: Vec<Arc<dyn AmountRule>>,
    holders: usize,
}

impl AmountRules {
    /// Rules for a population in which the first `holders` users hold `rules[1]`, the others
    /// `rules[0]`.
    pub fn new(rules: Vec<Arc<dyn AmountRule>>, holders: usize) -> Self {
        AmountRules { rules, holders }
    }

    /// Whether no strategy of the kind is registered.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The rule user `i` holds.
    ///
    /// # Panics
    /// If no strategy of the kind is registered (the scenario loader refuses a mechanism's
    /// kind without one only when the mechanism asks; a plugin that asks must register one).
    #[inline]
    pub fn rule_of(&self, i: usize) -> &dyn AmountRule {
        let k = usize::from(i < self.holders && self.rules.len() > 1);
        self.rules
            .get(k)
            .unwrap_or_else(|| panic!("no strategy of this amount kind is registered"))
            .as_ref()
    }

    /// User `i`'s amount of kind `kind`, clamped to the kind's range.
    #[inline]
    pub fn choose(&self, kind: AmountKind, i: usize, user: &Choosing) -> f64 {
        kind.clamp(self.rule_of(i).choose(user))
    }

    /// Whether every user's rule is C's privately optimal contribution.
    pub fn all_optimal_contributions(&self) -> bool {
        !self.rules.is_empty()
            && self.rules[0].is_optimal_contribution()
            && (self.holders == 0 || self.rules.iter().all(|r| r.is_optimal_contribution()))
    }
}

/// C's privately optimal contribution: x = min(1, (p + b·V)/c) (1 when c = 0).
#[derive(Clone, Copy, Debug, Default)]
pub struct Optimal;

impl AmountRule for Optimal {
    #[inline]
    fn choose(&self, user: &Choosing) -> f64 {
        crate::caps::subsidy_response(user.cost, user.payment, user.belief, user.value)
    }

    fn is_optimal_contribution(&self) -> bool {
        true
    }
}

impl AmountStrategy for Optimal {
    const KIND: AmountKind = AmountKind::Contribute;
    const NAME: &'static str = "optimal";
    const DESCRIPTION: &'static str =
        "contributes her privately optimal amount: x = min(1, (p + b·V)/c)";
    type Params = NoParams;
    fn new(_: NoParams) -> Self {
        Optimal
    }
}

/// The strategies of one cell's population, indexed by the per-user strategy index
/// (0 = the default of each kind).
#[derive(Clone, Debug)]
pub struct Rules {
    /// Report rules.
    pub report: Vec<Arc<dyn ReportRule>>,
    /// Withdraw rules (see [`Rules::withdraw`]).
    withdraw: WithdrawRules,
    /// The amount rules of each [`AmountKind`], in the order of [`AmountKind::ALL`].
    pub amount: [AmountRules; 3],
}

/// A population's withdraw rules, and whether they are all sincere (then decided inline).
#[derive(Clone, Debug)]
pub struct WithdrawRules {
    rules: Vec<Arc<dyn WithdrawRule>>,
    all_sincere: bool,
}

impl WithdrawRules {
    /// Whether every rule is sincere ([`Deciding::sincere`]): then a protocol may decide each
    /// user inline, without reading her strategy index or memory.
    #[inline(always)]
    pub fn all_sincere(&self) -> bool {
        self.all_sincere
    }

    /// Whether user with strategy index `rule` stays, knowing `user`.
    #[inline(always)]
    pub fn stays(&self, rule: u16, user: &Deciding) -> bool {
        if self.all_sincere {
            user.sincere()
        } else {
            self.rules[rule as usize].stays(user)
        }
    }

    /// Whether user with strategy index `rule` stays, knowing `user` and her `neighbours`.
    #[inline]
    pub fn stays_among(&self, rule: u16, user: &Deciding, neighbours: Neighbours) -> bool {
        if self.all_sincere {
            user.sincere()
        } else {
            self.rules[rule as usize].stays_among(user, neighbours)
        }
    }

    /// Whether the rule with strategy index `rule` reads the neighbours.
    #[inline]
    pub fn reads_neighbours(&self, rule: u16) -> bool {
        !self.all_sincere && self.rules[rule as usize].reads_neighbours()
    }
}

impl Rules {
    /// The rules of a population: `report[i]` and `withdraw[i]` for strategy index i.
    pub fn new(report: Vec<Arc<dyn ReportRule>>, withdraw: Vec<Arc<dyn WithdrawRule>>) -> Self {
        let all_sincere = withdraw.iter().all(|r| r.is_sincere());
        Rules {
            report,
            withdraw: WithdrawRules {
                rules: withdraw,
                all_sincere,
            },
            amount: [
                AmountRules::new(vec![Arc::new(Optimal)], 0),
                AmountRules::default(),
                AmountRules::default(),
            ],
        }
    }

    /// These rules with `rules` for the amounts of `kind`.
    pub fn with_amount(mut self, kind: AmountKind, rules: AmountRules) -> Self {
        self.amount[kind.index()] = rules;
        self
    }

    /// Whether every report rule reports the true cost ([`ReportRule::is_truthful`]): whatever
    /// strategy index a user holds, her report is her cost.
    pub fn all_truthful(&self) -> bool {
        !self.report.is_empty() && self.report.iter().all(|r| r.is_truthful())
    }

    /// The amount rules of `kind`.
    #[inline]
    pub fn amount(&self, kind: AmountKind) -> &AmountRules {
        &self.amount[kind.index()]
    }

    /// The withdraw rules, as protocols call them.
    pub fn withdraw(&self) -> &WithdrawRules {
        &self.withdraw
    }
}

impl Default for Rules {
    /// Everyone truthful and sincere, contributing optimally.
    fn default() -> Self {
        Rules::new(vec![Arc::new(Truthful)], vec![Arc::new(Sincere)])
    }
}

/// Reported cost equals true cost.
#[derive(Clone, Copy, Debug, Default)]
pub struct Truthful;

impl ReportRule for Truthful {
    fn report(&self, true_cost: &[f64], reported: &mut [f64]) {
        reported.copy_from_slice(true_cost);
    }
    fn is_truthful(&self) -> bool {
        true
    }
}

impl ReportStrategy for Truthful {
    const NAME: &'static str = "truthful";
    const DESCRIPTION: &'static str = "reports her true cost";
    type Params = NoParams;
    fn new(_: NoParams) -> Self {
        Truthful
    }
}

crate::params! {
    /// Parameters of [`Shade`].
    pub struct ShadeParams {
        /// Shading factor s: the report is (1 + s)·cost (negative s under-reports).
        factor: f64 = 0.0, GtNeg1;
    }
}

/// Reported cost is (1 + s)·cost, floored at 0.
#[derive(Clone, Copy, Debug)]
pub struct Shade(pub ShadeParams);

impl ReportRule for Shade {
    fn report(&self, true_cost: &[f64], reported: &mut [f64]) {
        let s = self.0.factor;
        for (r, c) in reported.iter_mut().zip(true_cost) {
            *r = ((1.0 + s) * c).max(0.0);
        }
    }
}

impl ReportStrategy for Shade {
    const NAME: &'static str = "shade";
    const DESCRIPTION: &'static str = "reports (1 + factor)·cost";
    type Params = ShadeParams;
    fn new(params: ShadeParams) -> Self {
        Shade(params)
    }
}

/// Stay iff κ(c^w, x) ≤ V + p·x.
#[derive(Clone, Copy, Debug, Default)]
pub struct Sincere;

impl WithdrawRule for Sincere {
    #[inline]
    fn stays(&self, user: &Deciding) -> bool {
        user.sincere()
    }

    fn is_sincere(&self) -> bool {
        true
    }
}

impl WithdrawStrategy for Sincere {
    const NAME: &'static str = "sincere";
    const DESCRIPTION: &'static str = "stays iff staying pays: κ(c^w, x) ≤ V + p·x";
    type Params = NoParams;
    fn new(_: NoParams) -> Self {
        Sincere
    }
}

/// Withdraws whenever her data is not pivotal by what the protocol reveals (she still enjoys V
/// if the others carry the campaign); otherwise decides sincerely. Under S nothing is revealed:
/// she judges herself not pivotal when, in past rounds, withdrawals were absorbed more often than
/// not (never in a first round).
#[derive(Clone, Copy, Debug, Default)]
pub struct FreeRider;

impl WithdrawRule for FreeRider {
    #[inline]
    fn stays(&self, user: &Deciding) -> bool {
        let pivotal = user.pivotal.unwrap_or(!user.absorbed);
        user.sincere() && (pivotal || user.burden <= 0.0)
    }
}

impl WithdrawStrategy for FreeRider {
    const NAME: &'static str = "free-rider";
    const DESCRIPTION: &'static str =
        "withdraws when her data is not pivotal by what the protocol reveals (memory under S)";
    type Params = NoParams;
    fn new(_: NoParams) -> Self {
        FreeRider
    }
}

crate::params! {
    /// Parameters of [`PeerThreshold`].
    pub struct PeerThresholdParams {
        /// φ: she withdraws once the share of her neighbours who have withdrawn reaches φ (and at least one has).
        threshold: f64 = 0.25, Unit;
    }
}

/// Withdraws when her sincere rule says so, or when the share of her neighbours who have
/// withdrawn (as far as the protocol lets her know) reaches her threshold φ, at least one of
/// them having withdrawn: Watts's (2002) threshold rule on top of the sincere one. φ is the
/// parameter, or her own φ_i when the population's thresholds are drawn
/// ([`Neighbours::threshold`]). Without a network (or before any neighbour withdraws) she is
/// sincere.
#[derive(Clone, Copy, Debug)]
pub struct PeerThreshold(pub PeerThresholdParams);

impl WithdrawRule for PeerThreshold {
    #[inline]
    fn stays(&self, user: &Deciding) -> bool {
        user.sincere()
    }

    #[inline]
    fn stays_among(&self, user: &Deciding, neighbours: Neighbours) -> bool {
        let phi = neighbours.threshold.unwrap_or(self.0.threshold);
        user.sincere() && !(neighbours.withdrawn > 0 && neighbours.withdrawn_share() >= phi)
    }

    fn reads_neighbours(&self) -> bool {
        true
    }
}

impl WithdrawStrategy for PeerThreshold {
    const NAME: &'static str = "threshold";
    const DESCRIPTION: &'static str = "sincere, but withdraws once the share of her withdrawn neighbours reaches threshold (population.network)";
    type Params = PeerThresholdParams;
    fn new(params: PeerThresholdParams) -> Self {
        PeerThreshold(params)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(burden: f64, pivotal: Option<bool>, absorbed: bool) -> Deciding {
        Deciding {
            realized_cost: 0.5,
            burden,
            value: 0.1,
            payment: 0.1,
            pivotal,
            absorbed,
        }
    }

    #[test]
    fn free_rider_stays_only_when_pivotal_or_unburdened() {
        assert!(Sincere.stays(&user(0.5, Some(false), false)));
        assert!(!FreeRider.stays(&user(0.5, Some(false), false)));
        assert!(FreeRider.stays(&user(0.5, Some(true), true)));
        assert!(FreeRider.stays(&user(0.0, Some(false), false)));
        // S reveals nothing: memory decides.
        assert!(FreeRider.stays(&user(0.5, None, false)));
        assert!(!FreeRider.stays(&user(0.5, None, true)));
    }

    #[test]
    fn shade_scales_and_floors_reports() {
        let mut out = [0.0; 2];
        Shade(ShadeParams { factor: -0.5 }).report(&[0.4, 1.0], &mut out);
        assert_eq!(out, [0.2, 0.5]);
        Truthful.report(&[0.4, 1.0], &mut out);
        assert_eq!(out, [0.4, 1.0]);
    }
}
