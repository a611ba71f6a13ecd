//! The phases of the n = 20 hot path, one by one, on the model's functions over a batch of
//! replications of one cell (the baseline's V = p = 0.15 game, 256 replications): nature's draw,
//! report and observe, assign (caps and water-filling), S's and M's withdraw protocols,
//! settlement, and the statistics fold (a replication's C, S and M outcomes into the cell's
//! statistics, the pairs' contrasts and the diagnostics). Throughput is in campaigns (one
//! mechanism of one replication), so each phase's time per element is its share of a
//! mechanism-campaign. The ECS systems call the same functions on component slices; what this
//! leaves out (dispatch, copies between phases) is the difference to `pipeline`.
//!
//! Run: `cargo bench -p datapact-benches --bench phases` (one phase:
//! `-- phases/withdraw_m`).

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use datapact_benches::{CORE_KERNELS, CORE_RULES, typical_game};
use datapact_model::assign::Assignment;
use datapact_model::report::{observe, realize, report};
use datapact_model::settle::settle_withdrawal;
use datapact_model::stats::{CellStats, DiagnosticStats};
use datapact_model::withdraw::{
    Decision, ProtocolEnd, ProtocolScratch, WithdrawState, sequential, simultaneous,
};
use datapact_model::{
    Draws, Game, NoEvents, Outcome, Workspace, campaign_rng, draw_key, run_campaign,
};
use datapact_sim::contrasts::{PairStats, fold, pairs};

const N: usize = 20;
const REPS: usize = 256;
const SEED: u64 = 20260508;

/// One replication of the cell, each phase's inputs computed once by the phase before it.
struct Replication {
    draws: Draws,
    realized: Vec<f64>,
    reported: Vec<f64>,
    observed: Vec<f64>,
    cap: Vec<f64>,
    /// The burdens as assigned (the withdraw protocols' starting point).
    assigned: Vec<f64>,
    assignment: Assignment,
    /// S's end, burdens and decisions (settlement's inputs).
    s_end: ProtocolEnd,
    s_burden: Vec<f64>,
    s_decision: Vec<Decision>,
    /// C's, S's and M's outcomes and C's and M's payoffs (the fold's inputs).
    outcomes: [Outcome; 3],
    payoff_c: Vec<f64>,
    payoff_m: Vec<f64>,
}

fn replications(game: &Game) -> Vec<Replication> {
    let sampler = game.cost.sampler().expect("valid cost distribution");
    let key = draw_key(game);
    let rules = &*CORE_RULES;
    let mut ws = Workspace::default();
    let mut scratch = ProtocolScratch::default();
    (0..REPS)
        .map(|rep| {
            let mut draws = Draws::default();
            draws.fill(N, &sampler, &mut campaign_rng(SEED, key, rep as u64));
            let mut realized = vec![0.0; N];
            realize(&draws.cost, &draws.drift_shock, game.drift, &mut realized);
            let (mut reported, mut observed) = (vec![0.0; N], vec![0.0; N]);
            let strategy = vec![0u16; N];
            report(
                &draws.cost,
                &strategy,
                &rules.report,
                &mut reported,
                &mut NoEvents,
            );
            observe(&reported, &draws.obs_shock, game.obs_noise, &mut observed);
            let (mut cap, mut assigned) = (vec![0.0; N], vec![0.0; N]);
            let assignment = datapact_model::assign::assign(
                &observed,
                game,
                &mut cap,
                &mut assigned,
                &mut scratch.fill,
                &mut NoEvents,
            );
            let (mut s_burden, mut s_decision) = (assigned.clone(), vec![Decision::Undecided; N]);
            let s_end = if assignment.sustainable {
                simultaneous(
                    state(&observed, &realized, &cap, &mut s_burden, &mut s_decision),
                    game,
                    &mut scratch,
                    &mut NoEvents,
                )
            } else {
                ProtocolEnd::Cancelled
            };
            let mut play = |k: usize| {
                let o = run_campaign(CORE_KERNELS[k], game, rules, &draws, &mut ws, &mut NoEvents);
                (o, ws.payoff.clone())
            };
            let ((c, payoff_c), (s, _), (m, payoff_m)) = (play(0), play(1), play(2));
            Replication {
                draws,
                realized,
                reported,
                observed,
                cap,
                assigned,
                assignment,
                s_end,
                s_burden,
                s_decision,
                outcomes: [c, s, m],
                payoff_c,
                payoff_m,
            }
        })
        .collect()
}

/// Truthful, sincere users who remember nothing (the baseline's), on a campaign's columns.
fn state<'a>(
    observed: &'a [f64],
    realized: &'a [f64],
    cap: &'a [f64],
    burden: &'a mut [f64],
    decision: &'a mut [Decision],
) -> WithdrawState<'a> {
    static RULE: [u16; N] = [0; N];
    static ABSORBED: [bool; N] = [false; N];
    WithdrawState {
        observed,
        realized,
        cap,
        burden,
        decision,
        rule: &RULE,
        rules: CORE_RULES.withdraw(),
        absorbed: &ABSORBED,
        peers: None,
    }
}

fn bench_phases(c: &mut Criterion) {
    let game = typical_game(N);
    let mut reps = replications(&game);
    let sampler = game.cost.sampler().expect("valid cost distribution");
    let key = draw_key(&game);
    let mut group = c.benchmark_group("phases");
    group
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(2))
        .throughput(Throughput::Elements(REPS as u64));

    // Nature: ChaCha8, the ziggurat and the cost distribution, per replication (shared by its
    // mechanisms; the ECS banks them across cells).
    let mut draws = Draws::default();
    group.bench_function("draw", |b| {
        b.iter(|| {
            for rep in 0..REPS {
                draws.fill(N, &sampler, &mut campaign_rng(SEED, key, rep as u64));
                black_box(&draws);
            }
        })
    });

    let strategy = vec![0u16; N];
    group.bench_function("report_observe", |b| {
        b.iter(|| {
            for r in reps.iter_mut() {
                report(
                    &r.draws.cost,
                    &strategy,
                    &CORE_RULES.report,
                    &mut r.reported,
                    &mut NoEvents,
                );
                observe(
                    &r.reported,
                    &r.draws.obs_shock,
                    game.obs_noise,
                    &mut r.observed,
                );
            }
        })
    });

    let mut scratch = ProtocolScratch::default();
    let mut burden = vec![0.0; N];
    group.bench_function("assign", |b| {
        b.iter(|| {
            for r in reps.iter_mut() {
                black_box(datapact_model::assign::assign(
                    &r.observed,
                    &game,
                    &mut r.cap,
                    &mut burden,
                    &mut scratch.fill,
                    &mut NoEvents,
                ));
            }
        })
    });

    // The protocols start from the assigned burdens (copied in: 20 values) and undecided users.
    let mut decision = vec![Decision::Undecided; N];
    for (name, sequential_order) in [("withdraw_s", false), ("withdraw_m", true)] {
        group.bench_function(name, |b| {
            b.iter(|| {
                for r in reps.iter().filter(|r| r.assignment.sustainable) {
                    burden.copy_from_slice(&r.assigned);
                    decision.fill(Decision::Undecided);
                    let st = state(&r.observed, &r.realized, &r.cap, &mut burden, &mut decision);
                    black_box(if sequential_order {
                        sequential(st, &r.draws.order_key, &game, &mut scratch, &mut NoEvents)
                    } else {
                        simultaneous(st, &game, &mut scratch, &mut NoEvents)
                    });
                }
            })
        });
    }

    let mut payoff = vec![0.0; N];
    group.bench_function("settle_s", |b| {
        b.iter(|| {
            for r in &reps {
                black_box(settle_withdrawal(
                    r.s_end,
                    &r.realized,
                    &r.s_burden,
                    &r.s_decision,
                    &game,
                    r.assignment.backstoppers,
                    &mut payoff,
                    &mut NoEvents,
                ));
            }
        })
    });

    // A replication's three outcomes into the cell's statistics: per element, one campaign's
    // share of the fold (three campaigns per replication).
    group.throughput(Throughput::Elements(3 * REPS as u64));
    group.bench_function("stats_fold", |b| {
        b.iter(|| {
            let mut cells = [
                CellStats::default(),
                CellStats::default(),
                CellStats::default(),
            ];
            let mut contrasts = vec![PairStats::default(); pairs(3).count()];
            let mut diagnostics = DiagnosticStats::default();
            for r in &reps {
                for (s, o) in cells.iter_mut().zip(&r.outcomes) {
                    s.push(o);
                }
                fold(&mut contrasts, &r.outcomes);
                diagnostics.push(
                    Some(&r.outcomes[1]),
                    Some(&r.outcomes[2]),
                    Some(&r.payoff_c),
                    Some(&r.payoff_m),
                );
            }
            black_box((cells, contrasts, diagnostics))
        })
    });
    group.finish();
}

criterion_group!(benches, bench_phases);
criterion_main!(benches);
