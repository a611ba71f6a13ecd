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

/// Whether a user stays before training. Protocols call it once per decision.
pub trait WithdrawRule: Send + Sync + std::fmt::Debug + 'static {
    /// True to stay, false to withdraw.
    fn stays(&self, user: &Deciding) -> bool;

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

/// The strategies of one cell's population, indexed by the per-user strategy index
/// (0 = the default of each kind).
#[derive(Clone, Debug)]
pub struct Rules {
    /// Report rules.
    pub report: Vec<Arc<dyn ReportRule>>,
    /// Withdraw rules (see [`Rules::withdraw`]).
    withdraw: WithdrawRules,
}

/// A population's withdraw rules, and whether they are all sincere (then decided inline).
#[derive(Clone, Debug)]
pub struct WithdrawRules {
    rules: Vec<Arc<dyn WithdrawRule>>,
    all_sincere: bool,
}

impl WithdrawRules {
    /// Whether user with strategy index `rule` stays, knowing `user`.
    #[inline(always)]
    pub fn stays(&self, rule: u16, user: &Deciding) -> bool {
        if self.all_sincere {
            user.sincere()
        } else {
            self.rules[rule as usize].stays(user)
        }
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
        }
    }

    /// The withdraw rules, as protocols call them.
    pub fn withdraw(&self) -> &WithdrawRules {
        &self.withdraw
    }
}

impl Default for Rules {
    /// Everyone truthful and sincere.
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
