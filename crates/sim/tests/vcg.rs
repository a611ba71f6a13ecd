//! Mechanism `vcg` in the simulator: the engine's campaigns are the direct kernel's
//! (`datapact_model::vcg::run_vcg`) on the same draws, bit for bit (outcomes, payoffs, users'
//! settlement records, events); and on a small scenario its mean deficit stands to S's as
//! `docs/model.md` section 13 says: above S's when p is below the water level λ, below above it.

use std::sync::Arc;

use datapact_model::dynamics::round_rng;
use datapact_model::param::ParamValues;
use datapact_model::stats::Stat;
use datapact_model::vcg::{VCG, VcgWorkspace, run_vcg};
use datapact_model::{CostDist, Draws, Event, Game, Population, StrategyShare, draw_key};
use datapact_sim::{Backend, CellJob, Depth, PluginSet, RunSpec, run_cell};

fn core() -> Arc<PluginSet> {
    thread_local!(static CORE: Arc<PluginSet> = Arc::new(PluginSet::core()));
    CORE.with(|c| c.clone())
}

fn id(name: &str) -> u16 {
    core().catalog().mechanism(name).unwrap() as u16
}

fn spec(depth: Depth, reps: u32, mechanisms: Vec<u16>) -> RunSpec {
    RunSpec {
        seed: 2026,
        replications: reps,
        first_replication: 0,
        adaptive: None,
        mechanisms,
        depth,
        backend: Backend::Ecs,
        plugins: core(),
        variants: Vec::new(),
    }
}

/// `share` of the users shade by `factor` and free-ride (the core's second strategies).
fn mixed(share: f64, factor: f64) -> Population {
    let second = |params: Vec<f64>| StrategyShare {
        strategy: 1,
        share,
        params: ParamValues(params),
    };
    Population {
        report: second(vec![factor]),
        withdraw: second(Vec::new()),
        ..Population::default()
    }
}

#[test]
fn engine_vcg_equals_the_direct_kernel_bit_for_bit() {
    let plugins = core();
    let vcg = id(VCG.name);
    let games = [
        // the default game: drift, success and failure both occur
        Game {
            users: 12,
            value: 0.1,
            ..Game::default()
        },
        // observation noise, drift, ρ, mixed strategies, lognormal costs
        Game {
            users: 7,
            value: 0.08,
            obs_noise: 0.3,
            drift: 0.8,
            irreversible: 0.4,
            cost: CostDist::LogNormal {
                mu: -1.0,
                sigma: 0.5,
            },
            population: mixed(0.4, 0.5),
            ..Game::default()
        },
        // σ = 0, θ = 1: every user at her cap; often cancelled
        Game {
            users: 5,
            value: 0.3,
            threshold: 1.0,
            drift: 0.0,
            obs_noise: 0.0,
            ..Game::default()
        },
    ];
    let mut compared = (0, 0, 0);
    for (k, game) in games.into_iter().enumerate() {
        let reps = 150;
        // beside S and M (common random numbers), and alone
        for mechanisms in [vec![id("S"), vcg, id("M")], vec![vcg]] {
            let job = CellJob {
                index: 3 + k,
                game: game.clone(),
            };
            let out = run_cell(&job, &spec(Depth::Events, reps, mechanisms)).unwrap();
            let rules = plugins.catalog().rules(&game);
            let sampler = game.cost.sampler().unwrap();
            let key = draw_key(&game);
            let (mut draws, mut ws) = (Draws::default(), VcgWorkspace::default());
            let rounds: Vec<_> = out.rounds.iter().filter(|r| r.mechanism == vcg).collect();
            assert_eq!(rounds.len(), reps as usize);
            for rep in 0..reps {
                draws.fill(
                    game.users,
                    &sampler,
                    &mut round_rng(2026, key, u64::from(rep), 0),
                );
                let mut events: Vec<Event> = Vec::new();
                let o = run_vcg(&game, &rules, &draws, &mut ws, &mut events);
                let r = rounds[rep as usize];
                assert_eq!(r.rep, rep);
                assert_eq!(r.outcome, o, "game {k} rep {rep}");
                assert_eq!(format!("{:?}", r.outcome), format!("{o:?}"), "bit for bit");
                let users: Vec<_> = out
                    .users
                    .iter()
                    .filter(|u| u.mechanism == vcg && u.rep == rep)
                    .collect();
                for (i, u) in users.iter().enumerate() {
                    assert_eq!(u.utility.to_bits(), ws.payoff()[i].to_bits());
                    assert_eq!(u.assigned_burden.is_some(), ws.allocation().unwrap().go);
                    if o.success() && ws.decision()[i] == datapact_model::Decision::Stay {
                        assert_eq!(u.payment.unwrap().to_bits(), ws.payment()[i].to_bits());
                    }
                }
                assert_eq!(users.len(), game.users);
                let logged = out
                    .events
                    .iter()
                    .filter(|e| e.mechanism == vcg && e.rep == rep);
                assert!(
                    logged.map(|e| e.event).eq(events.iter().copied()),
                    "game {k} rep {rep}"
                );
                compared.0 += 1;
                compared.1 += usize::from(o.success());
                compared.2 += usize::from(o.status == datapact_model::Status::Null);
            }
        }
    }
    // the games reach successes, failures and cancellations
    let (all, successes, nulls) = compared;
    assert!(
        successes > 0 && nulls > 0 && successes + nulls < all,
        "{compared:?}"
    );
}

/// `docs/model.md` section 13: `vcg` pays about the water level λ ≈ 0.25 per unit of data (at
/// θ = 0.6, uniform costs), S pays p; at σ = 0 every S success is a `vcg` success. So at
/// p = 0.1 < λ, where both succeed almost always, vcg's mean deficit is above S's; at p = 0.3 > λ,
/// below it. Per cell, by the cells' mean subsidy (subsidy on success, 0 otherwise) and its SE,
/// with 6 SE of margin, fixed seed.
#[test]
fn vcg_deficit_against_s_at_equal_success() {
    let (s, m, vcg) = (id("S"), id("M"), id(VCG.name));
    for (payment, vcg_above) in [(0.1, true), (0.3, false)] {
        let game = Game {
            users: 20,
            value: 0.1,
            payment,
            drift: 0.0,
            obs_noise: 0.0,
            cost: CostDist::Uniform {
                low: 0.0,
                high: 1.0,
            },
            ..Game::default()
        };
        let job = CellJob { index: 0, game };
        let out = run_cell(&job, &spec(Depth::Cells, 800, vec![s, m, vcg])).unwrap();
        let summary = &out.summaries[0];
        let stat = |mech: usize, what: Stat| summary.stats[mech].1.get(what);
        let (success_s, success_vcg) =
            (stat(0, Stat::Success).mean(), stat(2, Stat::Success).mean());
        assert!(
            (success_s - success_vcg).abs() < 0.02,
            "equal success: S {success_s}, vcg {success_vcg}"
        );
        let (ds, dv) = (stat(0, Stat::Subsidy), stat(2, Stat::Subsidy));
        let gap = dv.mean() - ds.mean();
        let se = (dv.se() * dv.se() + ds.se() * ds.se()).sqrt();
        println!(
            "p = {payment}: deficit vcg {:.4} ± {:.4}, S {:.4} ± {:.4}, M {:.4}; success vcg {success_vcg:.3}, S {success_s:.3}",
            dv.mean(),
            dv.se(),
            ds.mean(),
            ds.se(),
            stat(1, Stat::Subsidy).mean()
        );
        if vcg_above {
            assert!(gap > 6.0 * se, "p = {payment}: vcg − S = {gap} ± {se}");
        } else {
            assert!(gap < -6.0 * se, "p = {payment}: vcg − S = {gap} ± {se}");
        }
    }
}
