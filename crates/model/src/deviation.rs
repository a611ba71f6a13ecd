//! Unilateral deviations with common random numbers: the utility one user gains by playing
//! another strategy while everyone else keeps theirs, on the same draws (so that the two
//! campaigns differ only by her choice and small gains are measurable).
//!
//! A [`Menu`] is the strategy space of the audit: report strategies "report factor × true cost"
//! (factor 1 is truthful) and the withdraw rules of [`WithdrawChoice`]. A profile gives every
//! user one [`Choice`]; [`gains`] plays a symmetric profile once and each deviation once per
//! deviator and returns her utility difference.

use std::sync::Arc;

use crate::campaign::{Kernel, Workspace, run_profile};
use crate::cost::kappa;
use crate::draws::Draws;
use crate::events::NoEvents;
use crate::params::Game;
use crate::settle::{Outcome, Status};
use crate::strategy::{
    Deciding, FreeRider, ReportRule, Rules, Shade, ShadeParams, Sincere, Truthful, WithdrawRule,
};
use crate::vcg::{VcgWorkspace, run_vcg_profile};

/// What a profile is played under: a campaign kernel (C, S, M) or `vcg` ([`crate::vcg`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Played {
    /// C, S or M.
    Kernel(Kernel),
    /// The Clarke-pivot mechanism with its welfare-maximising allocation.
    Vcg,
}

impl Played {
    /// The mechanism's name in outputs.
    pub fn name(self) -> &'static str {
        match self {
            Played::Kernel(k) => k.name(),
            Played::Vcg => crate::catalog::CoreMechanism::Vcg.name(),
        }
    }
}

impl From<Kernel> for Played {
    fn from(k: Kernel) -> Played {
        Played::Kernel(k)
    }
}

/// The withdraw rules a deviator may play.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum WithdrawChoice {
    /// Stay iff staying pays if the model improves (the model's default).
    Sincere,
    /// Withdraw whenever her data is not pivotal by what the protocol reveals (the core
    /// free-rider strategy).
    FreeRider,
    /// Count V only when her data is pivotal (as `examples/pivotal.rs` with prior 1: under S,
    /// where nothing is revealed, she counts it).
    Pivotal,
    /// Never withdraw.
    Never,
}

impl WithdrawChoice {
    /// Every choice, in the order of their strategy indices.
    pub const ALL: [WithdrawChoice; 4] = [
        WithdrawChoice::Sincere,
        WithdrawChoice::FreeRider,
        WithdrawChoice::Pivotal,
        WithdrawChoice::Never,
    ];

    /// The name in tables and reports.
    pub fn name(self) -> &'static str {
        match self {
            WithdrawChoice::Sincere => "sincere",
            WithdrawChoice::FreeRider => "free-rider",
            WithdrawChoice::Pivotal => "pivotal",
            WithdrawChoice::Never => "never-withdraw",
        }
    }

    fn rule(self) -> Arc<dyn WithdrawRule> {
        match self {
            WithdrawChoice::Sincere => Arc::new(Sincere),
            WithdrawChoice::FreeRider => Arc::new(FreeRider),
            WithdrawChoice::Pivotal => Arc::new(PivotalStayer),
            WithdrawChoice::Never => Arc::new(NeverWithdraw),
        }
    }
}

/// Stays iff κ(c^w, x) ≤ p·x + w·V, w = 0 only when the protocol reveals she is not pivotal.
#[derive(Clone, Copy, Debug)]
struct PivotalStayer;

impl WithdrawRule for PivotalStayer {
    fn stays(&self, user: &Deciding) -> bool {
        let weight = if user.pivotal == Some(false) {
            0.0
        } else {
            1.0
        };
        kappa(user.realized_cost, user.burden) <= user.payment * user.burden + weight * user.value
    }
}

/// Stays whatever it costs her.
#[derive(Clone, Copy, Debug)]
struct NeverWithdraw;

impl WithdrawRule for NeverWithdraw {
    fn stays(&self, _: &Deciding) -> bool {
        true
    }
}

/// One user's strategy: an index into the menu's report factors and a withdraw rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Choice {
    /// Index into [`Menu::factors`] (0: truthful, factor 1).
    pub report: u16,
    /// The withdraw rule.
    pub withdraw: WithdrawChoice,
}

impl Choice {
    /// Truthful and sincere: the model's default behaviour.
    pub const TRUTHFUL: Choice = Choice {
        report: 0,
        withdraw: WithdrawChoice::Sincere,
    };
}

/// The strategy space: report factors (index 0 is 1, truthful) × withdraw rules.
#[derive(Clone, Debug)]
pub struct Menu {
    factors: Vec<f64>,
    rules: Rules,
}

impl Menu {
    /// A menu with truthful reporting and the report factors `factors` (report = factor ×
    /// true cost; each must be finite and ≥ 0, checked by the caller's validation).
    pub fn new(factors: &[f64]) -> Menu {
        let mut all = vec![1.0];
        all.extend(factors.iter().copied().filter(|f| *f != 1.0));
        let report: Vec<Arc<dyn ReportRule>> = all
            .iter()
            .map(|&f| -> Arc<dyn ReportRule> {
                if f == 1.0 {
                    Arc::new(Truthful)
                } else {
                    Arc::new(Shade(ShadeParams { factor: f - 1.0 }))
                }
            })
            .collect();
        let withdraw = WithdrawChoice::ALL.iter().map(|w| w.rule()).collect();
        Menu {
            factors: all,
            rules: Rules::new(report, withdraw),
        }
    }

    /// The report factors by index (index 0 is 1, truthful).
    pub fn factors(&self) -> &[f64] {
        &self.factors
    }

    /// The menu's strategies as rules: report rule `i` is factor `i`, withdraw rule `w` is
    /// `WithdrawChoice::ALL[w]`.
    pub fn rules(&self) -> &Rules {
        &self.rules
    }

    /// Every choice of the menu: report factors × withdraw rules.
    pub fn choices(&self) -> impl Iterator<Item = Choice> + '_ {
        (0..self.factors.len() as u16).flat_map(|report| {
            WithdrawChoice::ALL
                .iter()
                .map(move |&withdraw| Choice { report, withdraw })
        })
    }

    /// The unilateral deviations from the default studied in the audit: each report factor
    /// with sincere withdrawal, and each other withdraw rule with truthful reports.
    pub fn unilateral(&self) -> Vec<Choice> {
        let mut out: Vec<Choice> = (1..self.factors.len() as u16)
            .map(|report| Choice {
                report,
                withdraw: WithdrawChoice::Sincere,
            })
            .collect();
        out.extend(WithdrawChoice::ALL[1..].iter().map(|&withdraw| Choice {
            report: 0,
            withdraw,
        }));
        out
    }
}

/// The user whose true cost is at quantile `q` ∈ [0, 1] of the campaign's costs: rank
/// ⌊q·n⌋ (at most n − 1) in ascending cost, ties by user index.
pub fn user_at_quantile(cost: &[f64], q: f64) -> usize {
    let n = cost.len();
    let rank = ((q * n as f64).floor() as usize).min(n.saturating_sub(1));
    by_cost(cost)[rank]
}

/// Users' indices in ascending true cost, ties by index: the one order by which deviators are
/// chosen (by quantile here, by cost bin in the audit).
pub fn by_cost(cost: &[f64]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..cost.len()).collect();
    order.sort_by(|&a, &b| cost[a].total_cmp(&cost[b]).then(a.cmp(&b)));
    order
}

/// Per-user buffers for [`gains`] and [`play_symmetric`], reused across campaigns.
#[derive(Clone, Debug, Default)]
pub struct DeviationScratch {
    ws: Workspace,
    vcg: VcgWorkspace,
    /// Whether the last campaign played was `vcg`'s (its payoffs are in `vcg`).
    last_vcg: bool,
    report: Vec<u16>,
    withdraw: Vec<u16>,
}

impl DeviationScratch {
    /// Plays one campaign under `played` on `draws`: every user plays `base`, except the
    /// `deviator` (her index and choice), if any; per-user payoffs are then in
    /// [`DeviationScratch::payoffs`].
    pub fn play(
        &mut self,
        played: Played,
        game: &Game,
        menu: &Menu,
        draws: &Draws,
        base: Choice,
        deviator: Option<(usize, Choice)>,
    ) -> Outcome {
        let n = draws.len();
        self.report.clear();
        self.report.resize(n, base.report);
        self.withdraw.clear();
        self.withdraw.resize(n, base.withdraw as u16);
        if let Some((who, dev)) = deviator {
            self.report[who] = dev.report;
            self.withdraw[who] = dev.withdraw as u16;
        }
        self.last_vcg = played == Played::Vcg;
        match played {
            Played::Kernel(kernel) => run_profile(
                kernel,
                game,
                &menu.rules,
                draws,
                &self.report,
                &self.withdraw,
                &mut self.ws,
                &mut NoEvents,
            ),
            Played::Vcg => run_vcg_profile(
                game,
                &menu.rules,
                draws,
                &self.report,
                &self.withdraw,
                &mut self.vcg,
                &mut NoEvents,
            ),
        }
    }

    /// Per-user payoffs of the last campaign played.
    pub fn payoffs(&self) -> &[f64] {
        if self.last_vcg {
            self.vcg.payoff()
        } else {
            &self.ws.payoff
        }
    }
}

/// Plays `played` on `draws` with every user playing `base`; per-user payoffs are then in
/// [`DeviationScratch::payoffs`].
pub fn play_symmetric(
    played: impl Into<Played>,
    game: &Game,
    menu: &Menu,
    draws: &Draws,
    base: Choice,
    scratch: &mut DeviationScratch,
) -> Outcome {
    scratch.play(played.into(), game, menu, draws, base, None)
}

/// For each deviator `who[k]` and each deviation `devs[j]`: her utility when she plays
/// `devs[j]` while everyone else plays `base`, minus her utility when she too plays `base`,
/// on the same draws. Written to `out[k * devs.len() + j]`.
///
/// The `game`'s own strategy shares are ignored: the profile is given by `base` and the deviation.
#[allow(clippy::too_many_arguments)]
pub fn gains(
    played: impl Into<Played>,
    game: &Game,
    menu: &Menu,
    draws: &Draws,
    base: Choice,
    who: &[usize],
    devs: &[Choice],
    scratch: &mut DeviationScratch,
    out: &mut Vec<f64>,
) {
    let played = played.into();
    scratch.play(played, game, menu, draws, base, None);
    let base_payoff: Vec<f64> = who.iter().map(|&i| scratch.payoffs()[i]).collect();
    out.clear();
    for (&i, u0) in who.iter().zip(&base_payoff) {
        for &dev in devs {
            let gain = if dev == base {
                0.0
            } else {
                scratch.play(played, game, menu, draws, base, Some((i, dev)));
                scratch.payoffs()[i] - u0
            };
            out.push(gain);
        }
    }
}

/// Whether a campaign succeeded (for the success rates beside welfare).
pub fn succeeded(o: &Outcome) -> bool {
    o.status == Status::Success
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two users with known costs and no noise (σ_w = σ_o = 0), so every quantity has a closed
    /// form; Q = θ·n = 1.
    fn game(value: f64) -> Game {
        Game {
            users: 2,
            threshold: 0.5,
            value,
            payment: 0.1,
            drift: 0.0,
            obs_noise: 0.0,
            ..Game::default()
        }
    }

    fn draws(cost: [f64; 2]) -> Draws {
        Draws {
            cost: cost.to_vec(),
            drift_shock: vec![0.3, -0.7],
            obs_shock: vec![1.1, -0.2],
            order_key: vec![0.4, 0.6],
        }
    }

    fn cap(c: f64, p: f64, v: f64) -> f64 {
        ((p + (p * p + 2.0 * c * v).sqrt()) / c).min(1.0)
    }

    /// Costs c = (0.5, 1), V = p = 0.1, n = 2, Q = 1.
    ///
    /// Truthful: water-filling x_i = λ/c_i with λ(1/0.5 + 1/1) = 1, so λ = 1/3, x = (2/3, 1/3),
    /// below the caps (0.863, 0.558); estimated cost ½·0.5·4/9 + ½·1·1/9 = 1/6 ≤ nV = 0.2:
    /// sustainable; both stay (κ ≤ V + p·x). U_0 = V + p·2/3 − ½·0.5·4/9 = 1/18,
    /// U_1 = V + p/3 − ½·1/9 = 7/90.
    ///
    /// User 1 reports 1.25 × her cost: λ(2 + 1/1.25) = 1, x_1 = λ/1.25 = 2/7 (cap at ĉ = 1.25:
    /// 0.488); estimated cost ½·0.5·(2λ)² + ½·1.25·x_1² = 5/28 ≤ 0.2; she stays and bears her
    /// true κ(1, 2/7): U_1 = V + p·2/7 − ½·4/49 ≈ 0.0878 > 7/90: over-reporting pays (her
    /// marginal cost at 1/3 exceeds p). At 1.5×: λ = 3/8, x = (3/4, 1/4), estimated cost
    /// 0.1875 ≤ 0.2, U_1 = V + p/4 − ½/16 = 0.09375.
    ///
    /// User 0 at 1.25× (ĉ = 0.625): λ(1.6 + 1) = 1, x_0 = λ/0.625, estimated cost 0.192 ≤ 0.2.
    /// At 1.5× (ĉ = 0.75): λ = 3/7, x = (4/7, 3/7), estimated cost (0.75·16 + 9)/98 = 3/14 > 0.2:
    /// the provider cancels and U_0 = 0, a loss of 1/18.
    #[test]
    fn report_gains_match_the_hand_computed_two_user_case() {
        let (c, p, v) = ([0.5, 1.0], 0.1, 0.1);
        assert!(cap(0.5, p, v) > 2.0 / 3.0 && cap(1.25, p, v) > 2.0 / 7.0);
        assert!(cap(1.5, p, v) > 0.25 && cap(0.625, p, v) > 1.0 / 2.6 / 0.625);
        let menu = Menu::new(&[1.25, 1.5]);
        let over = Choice {
            report: 1,
            withdraw: WithdrawChoice::Sincere,
        };
        let more = Choice { report: 2, ..over };
        let mut scratch = DeviationScratch::default();
        let mut out = Vec::new();
        for kernel in [Kernel::Simultaneous, Kernel::Sequential] {
            gains(
                kernel,
                &game(v),
                &menu,
                &draws(c),
                Choice::TRUTHFUL,
                &[1, 0],
                &[over, more],
                &mut scratch,
                &mut out,
            );
            let (base0, base1) = (1.0 / 18.0, 7.0 / 90.0);
            let x1 = 2.0 / 7.0;
            let x0 = 1.0 / 2.6 / 0.625;
            let expected = [
                (v + p * x1 - 0.5 * x1 * x1) - base1,
                (v + p * 0.25 - 0.5 / 16.0) - base1,
                (v + p * x0 - 0.25 * x0 * x0) - base0,
                -base0,
            ];
            for (got, want) in out.iter().zip(expected) {
                assert!((got - want).abs() < 1e-12, "{kernel:?}: {out:?} vs {want}");
            }
            assert!(out[0] > 0.0 && out[1] > out[0] && out[3] < 0.0);
        }
    }

    /// Costs c = (0.5, 1), V = 0.5, p = 0.1: both caps are 1. Truthful burdens (2/3, 1/3).
    /// Under M (small-first) user 1 decides first; user 0's cap 1 covers Q = 1, so she is not
    /// pivotal: a free-rider withdraws, user 0 is re-assigned x_0 = 1 (estimated cost 0.25 ≤
    /// nV = 1) and stays (κ = 0.25 ≤ V + p). User 1 gets V instead of V + p/3 − ½·1/9: gain
    /// 1/18 − 1/30 = 1/45. Under S nothing is revealed in a one-shot campaign, so a
    /// free-rider decides sincerely: gain exactly 0. Never-withdraw changes nothing here
    /// (everyone stays anyway): gain 0.
    #[test]
    fn free_riding_pays_under_m_only_in_the_hand_computed_case() {
        let v = 0.5;
        assert_eq!(cap(0.5, 0.1, v), 1.0);
        assert_eq!(cap(1.0, 0.1, v), 1.0);
        let menu = Menu::new(&[]);
        let devs = menu.unilateral();
        let free = devs
            .iter()
            .position(|d| d.withdraw == WithdrawChoice::FreeRider)
            .unwrap();
        let never = devs
            .iter()
            .position(|d| d.withdraw == WithdrawChoice::Never)
            .unwrap();
        let mut scratch = DeviationScratch::default();
        let mut out = Vec::new();
        let run = |kernel, scratch: &mut DeviationScratch, out: &mut Vec<f64>| {
            gains(
                kernel,
                &game(v),
                &menu,
                &draws([0.5, 1.0]),
                Choice::TRUTHFUL,
                &[1],
                &devs,
                scratch,
                out,
            )
        };
        run(Kernel::Sequential, &mut scratch, &mut out);
        assert!((out[free] - 1.0 / 45.0).abs() < 1e-12, "{out:?}");
        assert_eq!(out[never], 0.0);
        run(Kernel::Simultaneous, &mut scratch, &mut out);
        assert_eq!(out[free], 0.0);
    }

    /// The same two users (c = (0.5, 1), V = 0.1, Q = 1) under `vcg`. Truthful: burdens
    /// (2/3, 1/3), K = 1/6 ≤ nV = 0.2; without either user the other alone covers Q at a cost
    /// (0.5 or 0.25) above (n − 1)V = 0.1, so the pivot terms are 0 and each is paid
    /// t_i = V − κ of the other: U_i = nV − K = 1/30 for both. A report moves only the
    /// allocation, and U_i = nV − (true cost of the allocation) whenever the campaign goes ahead,
    /// which the truthful allocation minimises: no report factor gains, and a cancelling one
    /// (user 0 at ×2: K > nV) loses all of 1/30.
    #[test]
    fn no_report_gains_under_vcg_in_the_two_user_case() {
        let menu = Menu::new(&[0.5, 0.8, 1.25, 1.5, 2.0]);
        let devs: Vec<Choice> = menu
            .unilateral()
            .into_iter()
            .filter(|d| d.report != 0)
            .collect();
        assert_eq!(devs.len(), 5);
        let mut scratch = DeviationScratch::default();
        play_symmetric(
            Played::Vcg,
            &game(0.1),
            &menu,
            &draws([0.5, 1.0]),
            Choice::TRUTHFUL,
            &mut scratch,
        );
        for u in scratch.payoffs() {
            assert!((u - 1.0 / 30.0).abs() < 1e-12, "{:?}", scratch.payoffs());
        }
        let mut out = Vec::new();
        gains(
            Played::Vcg,
            &game(0.1),
            &menu,
            &draws([0.5, 1.0]),
            Choice::TRUTHFUL,
            &[0, 1],
            &devs,
            &mut scratch,
            &mut out,
        );
        assert!(out.iter().all(|&g| g <= 1e-15), "{out:?}");
        assert!(out.iter().any(|&g| g < -1e-3), "{out:?}");
        assert!((out[4] + 1.0 / 30.0).abs() < 1e-12, "{out:?}");
        // under S the same over-report pays (the first test): the kernels differ
        gains(
            Kernel::Simultaneous,
            &game(0.1),
            &menu,
            &draws([0.5, 1.0]),
            Choice::TRUTHFUL,
            &[1],
            &devs,
            &mut scratch,
            &mut out,
        );
        assert!(out[2] > 0.0, "{out:?}");
    }

    #[test]
    fn quantile_user_is_ranked_by_cost_then_index() {
        let c = [0.9, 0.1, 0.5, 0.1];
        assert_eq!(user_at_quantile(&c, 0.0), 1);
        assert_eq!(user_at_quantile(&c, 0.25), 3);
        assert_eq!(user_at_quantile(&c, 0.5), 2);
        assert_eq!(user_at_quantile(&c, 1.0), 0);
    }
}
