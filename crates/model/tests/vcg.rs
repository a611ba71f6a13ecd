//! Mechanism `vcg` on random campaigns: truthful reporting is a best response in every single
//! campaign at σ_o = σ_w = 0 (common random numbers: the deviator's campaign differs from the
//! truthful one only by her report), individual rationality, and the deficit against S and M.

use std::sync::Arc;

use datapact_model::strategy::{
    Deciding, FreeRider, ReportRule, Shade, ShadeParams, Sincere, Truthful, WithdrawRule,
};
use datapact_model::vcg::{VcgWorkspace, run_vcg_profile};
use datapact_model::{
    CostDist, Draws, Game, Kernel, NoEvents, Outcome, Rules, Workspace, campaign_rng, draw_key,
    run_profile,
};

/// Report factors (report = factor × true cost) tried by each deviator; index 0 of the rules is
/// truthful.
const FACTORS: [f64; 18] = [
    0.0, 0.1, 0.5, 0.8, 0.9, 0.95, 0.99, 0.999, 0.999_999, 1.000_001, 1.001, 1.01, 1.05, 1.1, 1.25,
    1.5, 2.0, 10.0,
];

/// Stays whatever it costs her.
#[derive(Debug)]
struct Never;

impl WithdrawRule for Never {
    fn stays(&self, _: &Deciding) -> bool {
        true
    }
}

/// Withdraw rules: 0 sincere, 1 free-rider, 2 never.
fn rules() -> Rules {
    let mut report: Vec<Arc<dyn ReportRule>> = vec![Arc::new(Truthful)];
    report.extend(
        FACTORS
            .iter()
            .map(|&f| -> Arc<dyn ReportRule> { Arc::new(Shade(ShadeParams { factor: f - 1.0 })) }),
    );
    Rules::new(
        report,
        vec![Arc::new(Sincere), Arc::new(FreeRider), Arc::new(Never)],
    )
}

fn draws(game: &Game, seed: u64, rep: u64) -> Draws {
    let mut d = Draws::default();
    d.fill(
        game.users,
        &game.cost.sampler().unwrap(),
        &mut campaign_rng(seed, draw_key(game), rep),
    );
    d
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Mech {
    Vcg,
    Core(Kernel),
}

/// Plays one profile (per-user report and withdraw indices) and returns the outcome; payoffs
/// are then in `payoffs`.
struct Player {
    vcg: VcgWorkspace,
    core: Workspace,
}

impl Player {
    fn new() -> Self {
        Player {
            vcg: VcgWorkspace::default(),
            core: Workspace::default(),
        }
    }

    fn play(
        &mut self,
        mech: Mech,
        g: &Game,
        r: &Rules,
        d: &Draws,
        rep: &[u16],
        wd: &[u16],
    ) -> Outcome {
        match mech {
            Mech::Vcg => run_vcg_profile(g, r, d, rep, wd, &mut self.vcg, &mut NoEvents),
            Mech::Core(k) => run_profile(k, g, r, d, rep, wd, &mut self.core, &mut NoEvents),
        }
    }

    fn payoffs(&self, mech: Mech) -> &[f64] {
        match mech {
            Mech::Vcg => self.vcg.payoff(),
            Mech::Core(_) => &self.core.payoff,
        }
    }
}

/// The games of the grid: n, θ, V, ρ and F varied together, σ_o = σ_w = 0, R = 0.
fn games() -> Vec<Game> {
    let dists = [
        CostDist::Uniform {
            low: 0.0,
            high: 1.0,
        },
        CostDist::LogNormal {
            mu: -1.0,
            sigma: 1.0,
        },
        CostDist::Beta {
            alpha: 2.0,
            beta: 5.0,
        },
    ];
    let mut out = Vec::new();
    for (k, &n) in [2usize, 3, 5, 8, 20].iter().enumerate() {
        for (j, &theta) in [0.3, 0.6, 0.95, 1.0].iter().enumerate() {
            for (l, &value) in [0.02, 0.06, 0.1, 0.3].iter().enumerate() {
                out.push(Game {
                    users: n,
                    threshold: theta,
                    value,
                    payment: 0.1,
                    drift: 0.0,
                    obs_noise: 0.0,
                    recovery_rounds: 0,
                    irreversible: if (k + j + l) % 3 == 0 { 0.5 } else { 0.0 },
                    cost: dists[(k + 2 * j + l) % 3].clone(),
                    ..Game::default()
                });
            }
        }
    }
    out
}

/// Over `reps` campaigns of every game: the largest gain of a unilateral deviation (each report
/// factor with sincere withdrawal; free-riding and never withdrawing with truthful reports) over
/// truthful-and-sincere play, by every user in turn, and the smallest truthful payoff.
fn largest_gain(mech: Mech, reps: u64) -> (f64, f64, String) {
    let r = rules();
    let mut player = Player::new();
    let (mut worst, mut least_payoff, mut at) = (f64::NEG_INFINITY, f64::INFINITY, String::new());
    let (mut campaigns, mut successes) = (0u32, 0u32);
    for (gi, g) in games().iter().enumerate() {
        let n = g.users;
        for rep in 0..reps {
            let d = draws(g, 26_000 + gi as u64, rep);
            let zeros = vec![0u16; n];
            let o = player.play(mech, g, &r, &d, &zeros, &zeros);
            campaigns += 1;
            successes += o.success() as u32;
            let base = player.payoffs(mech).to_vec();
            least_payoff = base.iter().copied().fold(least_payoff, f64::min);
            for i in 0..n {
                let deviations = (1..=FACTORS.len() as u16)
                    .map(|f| (f, 0u16))
                    .chain([(0, 1), (0, 2)]);
                for (report, withdraw) in deviations {
                    let (mut rep_i, mut wd_i) = (zeros.clone(), zeros.clone());
                    rep_i[i] = report;
                    wd_i[i] = withdraw;
                    player.play(mech, g, &r, &d, &rep_i, &wd_i);
                    let gain = player.payoffs(mech)[i] - base[i];
                    if gain > worst {
                        worst = gain;
                        at = format!(
                            "game {gi} ({g:?}), rep {rep}, user {i}, report {report}, withdraw {withdraw}"
                        );
                    }
                }
            }
        }
    }
    println!("{mech:?}: {campaigns} campaigns, {successes} truthful successes");
    (worst, least_payoff, at)
}

/// The audit's sharp test: under `vcg`, at σ_o = σ_w = 0 and R = 0, no report factor and no
/// withdraw rule gains more than 1e-9 in any single campaign, for any user; and every truthful
/// user ends with a utility ≥ 0 (individual rationality, ex post).
#[test]
fn truthful_reporting_is_a_best_response_in_every_campaign() {
    let (worst, least, at) = largest_gain(Mech::Vcg, 40);
    println!("vcg: largest gain {worst:e} ({at}); least truthful payoff {least:e}");
    assert!(worst <= 1e-9, "vcg: a deviation gains {worst} at {at}");
    assert!(least >= -1e-12, "vcg: a truthful user ends at {least}");
}

/// The same harness finds S's profitable misreports (so the test above can fail).
#[test]
fn the_harness_finds_s_profitable_misreports() {
    let (worst, _, at) = largest_gain(Mech::Core(Kernel::Simultaneous), 3);
    println!("S: largest gain {worst:e} ({at})");
    assert!(worst > 1e-3, "S: largest gain only {worst}");
}

/// The deficit of `vcg` (Σ t_i over the stayers of a success) against S's and M's subsidy
/// (Σ p·x_i) on the campaigns where both succeed, over V × p, at σ_w = 0 and at the default
/// σ_w = 0.5 (n = 20, θ = 0.6, uniform costs, R = 0; 2000 campaigns per cell, common random
/// numbers). Measured, not assumed: vcg pays more than S when p is below the water level λ
/// (≈ 0.25 here: vcg's payment is about λ per unit of data, S's is p), less above it. At σ = 0
/// every S success is a vcg success (S's caps only shrink vcg's feasible set).
#[test]
fn deficit_against_s_and_m_on_common_successes() {
    use datapact_model::stats::Welford;
    let r = Rules::default();
    let mut player = Player::new();
    println!(
        "σ_w    V     p  | succ vcg  S     M    | vcg ≥ S   Δ(vcg − S) ± SE | vcg ≥ M   Δ(vcg − M) ± SE"
    );
    for drift in [0.0, 0.5] {
        for v in [0.05, 0.1, 0.3] {
            for p in [0.0, 0.05, 0.1, 0.2, 0.3] {
                let g = Game {
                    value: v,
                    payment: p,
                    drift,
                    ..Game::default()
                };
                let zeros = vec![0u16; g.users];
                let mut success = [Welford::default(); 3];
                let (mut vs, mut vm) = (Welford::default(), Welford::default());
                let (mut vs_more, mut vm_more) = (0u32, 0u32);
                for rep in 0..2000 {
                    let d = draws(&g, 7, rep);
                    let ov = player.play(Mech::Vcg, &g, &r, &d, &zeros, &zeros);
                    let os =
                        player.play(Mech::Core(Kernel::Simultaneous), &g, &r, &d, &zeros, &zeros);
                    let om =
                        player.play(Mech::Core(Kernel::Sequential), &g, &r, &d, &zeros, &zeros);
                    for (w, o) in success.iter_mut().zip([&ov, &os, &om]) {
                        w.push(o.success() as u8 as f64);
                    }
                    if drift == 0.0 && os.success() {
                        assert!(
                            ov.success(),
                            "σ = 0: S succeeds and vcg does not (rep {rep})"
                        );
                    }
                    if ov.success() && os.success() {
                        vs.push(ov.subsidy - os.subsidy);
                        vs_more += (ov.subsidy >= os.subsidy) as u32;
                    }
                    if ov.success() && om.success() {
                        vm.push(ov.subsidy - om.subsidy);
                        vm_more += (ov.subsidy >= om.subsidy) as u32;
                    }
                }
                println!(
                    "{drift:.1}  {v:.2}  {p:.2} | {:.3} {:.3} {:.3} | {:4}/{:4} {:+.3} ± {:.3} | {:4}/{:4} {:+.3} ± {:.3}",
                    success[0].mean(),
                    success[1].mean(),
                    success[2].mean(),
                    vs_more,
                    vs.count,
                    vs.mean(),
                    vs.se(),
                    vm_more,
                    vm.count,
                    vm.mean(),
                    vm.se()
                );
                if vs.count >= 100 {
                    // p well below λ: vcg's deficit is larger, campaign by campaign almost always.
                    if p <= 0.1 && v >= 0.1 {
                        assert!(vs_more as f64 >= 0.99 * vs.count as f64, "V {v} p {p}");
                        assert!(vs.mean() > 4.0 * vs.se());
                    }
                    // p above λ: S pays more.
                    if p >= 0.3 {
                        assert!(vs.mean() < -4.0 * vs.se(), "V {v} p {p}");
                    }
                }
            }
        }
    }
}

/// What drift, observation noise and the withdrawal right do to `vcg`'s incentive
/// compatibility (n = 20, θ = 0.6, uniform costs; the deviator is the user at cost quantile q
/// ∈ {0.125, 0.375, 0.625};
/// report factors 0.5, 0.8, 1.25, 1.5; 4000 campaigns, common random numbers; the others
/// truthful):
/// - σ_w = 0.5, nobody may withdraw (every user "never"): κ is linear in the cost and the
///   report is made before the drift, so the expected gain of a report equals its gain at
///   σ_w = 0, ≤ 0: no factor's mean gain exceeds 4 SE — although single campaigns gain (ex post
///   the best report is c^w, unknown when reporting);
/// - σ_w = 0.5 with the withdrawal right (sincere), near the go margin (V = 0.06): a user's
///   loss is cut at 0 by withdrawing, so inducing the campaign by under-reporting has option
///   value: under-reporting gains more than 4 SE;
/// - σ_o = 0.5, σ_w = 0: the provider allocates on c̃ = ĉ·m, so the user pre-distorts against
///   her own noise: over-reporting gains more than 4 SE for dear users.
#[test]
fn drift_noise_and_withdrawal_measured() {
    use datapact_model::deviation::user_at_quantile;
    use datapact_model::stats::Welford;
    let r = rules();
    let mut player = Player::new();
    let index = |f: f64| 1 + FACTORS.iter().position(|x| *x == f).unwrap() as u16;
    let factors = [0.5, 0.8, 1.25, 1.5];
    // (name, σ_w, σ_o, everyone's withdraw rule, V)
    let settings = [
        ("drift, no withdrawal right", 0.5, 0.0, 2u16, 0.1),
        ("drift, withdrawal right, V = 0.06", 0.5, 0.0, 0, 0.06),
        ("observation noise", 0.0, 0.5, 0, 0.1),
        ("drift, withdrawal right, V = 0.1", 0.5, 0.0, 0, 0.1),
        ("drift, withdrawal right, V = 0.3", 0.5, 0.0, 0, 0.3),
    ];
    let mut found = [[[Welford::default(); 4]; 3]; 5];
    let mut largest = [0.0f64; 5];
    for (s, &(name, drift, noise, rule, value)) in settings.iter().enumerate() {
        let g = Game {
            value,
            drift,
            obs_noise: noise,
            ..Game::default()
        };
        let n = g.users;
        let (zeros, rules_of_all) = (vec![0u16; n], vec![rule; n]);
        for (qi, q) in [0.125, 0.375, 0.625].into_iter().enumerate() {
            for rep in 0..4000 {
                let d = draws(&g, 99, rep);
                let i = user_at_quantile(&d.cost, q);
                player.play(Mech::Vcg, &g, &r, &d, &zeros, &rules_of_all);
                let u0 = player.payoffs(Mech::Vcg)[i];
                for (k, f) in factors.iter().enumerate() {
                    let mut report = zeros.clone();
                    report[i] = index(*f);
                    player.play(Mech::Vcg, &g, &r, &d, &report, &rules_of_all);
                    let gain = player.payoffs(Mech::Vcg)[i] - u0;
                    found[s][qi][k].push(gain);
                    largest[s] = largest[s].max(gain);
                }
            }
            let cells: Vec<String> = factors
                .iter()
                .zip(&found[s][qi])
                .map(|(f, w)| format!("{f}: {:+.5} ± {:.5}", w.mean(), w.se()))
                .collect();
            println!("{name}, q = {q}: {}", cells.join(", "));
        }
        println!("{name}: largest single-campaign gain {:.5}", largest[s]);
    }
    let significant = |w: &Welford| w.mean() > 4.0 * w.se();
    // No withdrawal right: truthful is a best response in expectation under drift.
    assert!(found[0].iter().flatten().all(|w| !significant(w)));
    assert!(largest[0] > 1e-9, "ex post, drift makes some report gain");
    // Withdrawal right near the margin: under-reporting pays.
    assert!(
        found[1]
            .iter()
            .any(|row| significant(&row[0]) || significant(&row[1]))
    );
    // Observation noise: over-reporting pays for the dearer user, under-reporting for the cheap.
    assert!(significant(&found[2][2][2]) && significant(&found[2][2][3]));
    assert!(significant(&found[2][0][0]));
    // Far from the go margin the option is worth nothing.
    assert!(found[4].iter().flatten().all(|w| !significant(w)));
}
