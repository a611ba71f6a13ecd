//! A cell on the direct kernel: each replication's rounds in a plain loop over the model's phase
//! functions (the reference the ECS is tested against).

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use datapact_model::assign::AssignMemo;
use datapact_model::dynamics::{evolve_costs, learn_beliefs, round_rng};
use datapact_model::{
    Draws, Event, EventSink, Kernel, Memory, NoEvents, Rules, Workspace, draw_key, run_round,
};

use datapact_model::Status;
use datapact_model::settle::Settled;

use crate::users::CampaignUsers;

use super::halt::{Halt, check_cancel};
use super::{Batches, CellJob, CellOutput, Depth, Folder, RunSpec, push_events};

/// The reference: each replication's rounds played in a plain loop with the model's functions.
pub(super) fn run_cell_direct<S: EventSink + AsRef<[Event]> + Clear>(
    job: &CellJob,
    spec: &RunSpec,
    rules: &Rules,
    sink: &mut S,
    cancel: Option<&Arc<AtomicBool>>,
) -> Result<CellOutput, Halt> {
    let kernels = spec.direct_kernels().unwrap_or_else(|e| panic!("{e}"));
    let game = &job.game;
    // Each mechanism's game: the cell's, or a variant's own.
    let games: Vec<_> = spec
        .mechanisms
        .iter()
        .map(|&id| spec.game_of(id, game))
        .collect();
    let sampler = game.cost.sampler().expect("validated cost distribution");
    let (m, n) = (spec.mechanisms.len(), game.users);
    let rounds = game.dynamics.rounds.max(1);
    let mut folder = Folder::new(job.index, spec, rounds);
    let mut draws = Draws::default();
    let mut costs = vec![0.0; n];
    let mut memory = vec![Memory::default(); m];
    let mut workspaces: Vec<Workspace> = (0..m).map(|_| Workspace::default()).collect();
    let mut outcomes = Vec::with_capacity(m);
    let mut settlement = Vec::new();
    let mut events = Vec::new();
    let mean = game.cost.mean();
    let key = draw_key(game);
    // One assignment memo for all mechanisms: S and M of a replication observe the same costs.
    let mut memo = AssignMemo::default();
    let mut batches = Batches::new(spec);
    while let Some((start, count)) = batches.next(&folder) {
        for rep in start..start + count {
            for (k, ws) in workspaces.iter_mut().enumerate() {
                ws.fresh_population(&games[k], n);
                memory[k] = Memory::default();
            }
            for round in 0..rounds {
                let mut rng = round_rng(spec.seed, key, rep as u64, round);
                draws.fill(n, &sampler, &mut rng);
                evolve_costs(
                    game.dynamics.cost_process,
                    round,
                    mean,
                    &draws.cost,
                    &mut costs,
                );
                draws.cost.copy_from_slice(&costs);
                outcomes.clear();
                for (k, kernel) in kernels.iter().enumerate() {
                    check_cancel(cancel)?;
                    let ws = &mut workspaces[k];
                    let absorbed = memory[k].withdrawals_absorbed();
                    ws.absorbed.iter_mut().for_each(|a| *a = absorbed);
                    sink.clear();
                    ws.memo = std::mem::take(&mut memo);
                    let o = run_round(*kernel, &games[k], rules, &draws, ws, sink);
                    memo = std::mem::take(&mut ws.memo);
                    outcomes.push(o);
                    if S::ENABLED && spec.depth >= Depth::Events {
                        push_events(
                            &mut events,
                            rep,
                            round,
                            spec.mechanisms[k],
                            sink.as_ref(),
                            None,
                        );
                    }
                    if spec.depth >= Depth::Users {
                        let reporting = *kernel != Kernel::Subsidy;
                        // Settled in the mechanism's own game (a variant's, not the cell's), as
                        // the ECS settles it.
                        let (success, trained) = (o.success(), o.status != Status::Null);
                        settlement.clear();
                        settlement.extend((0..n).map(|i| {
                            let (x, cw) = (ws.burden[i], ws.realized[i]);
                            if reporting {
                                Settled::withdrawal(
                                    ws.decision[i],
                                    success,
                                    trained,
                                    x,
                                    cw,
                                    &games[k],
                                )
                            } else {
                                Settled::subsidy(x, cw, &games[k])
                            }
                        }));
                        let users = CampaignUsers {
                            true_cost: &draws.cost,
                            drifted: &ws.realized,
                            settled: &ws.realized,
                            burden: &ws.burden,
                            payoff: &ws.payoff,
                            reports: reporting.then(|| (&ws.reported[..], &ws.observed[..])),
                            cap: reporting.then_some(&ws.cap[..]),
                            decision: reporting.then_some(&ws.decision[..]),
                            settlement: &settlement,
                            network: None,
                        };
                        folder.users(rep, round, spec.mechanisms[k], &users, sink.as_ref());
                    }
                }
                let payoff_c = folder.index_c.map(|k| workspaces[k].payoff.as_slice());
                let payoff_m = folder.index_m.map(|k| workspaces[k].payoff.as_slice());
                // The core mechanisms compute no plugin metric.
                folder.fold(
                    rep,
                    round,
                    &outcomes,
                    |_, _| f64::NAN,
                    &[],
                    payoff_c,
                    payoff_m,
                )?;
                // Learn: C's users update beliefs from the round; reporting users remember it.
                if round + 1 < rounds {
                    for (k, kernel) in kernels.iter().enumerate() {
                        let o = outcomes[k];
                        if *kernel == Kernel::Subsidy {
                            let ws = &mut workspaces[k];
                            learn_beliefs(
                                game.dynamics.learning,
                                &mut ws.belief,
                                &ws.burden,
                                o.data,
                                games[k].need(),
                            );
                        } else {
                            memory[k].remember(o.withdrawals, o.success());
                        }
                    }
                }
            }
        }
    }
    Ok(folder.finish(events))
}

/// Sinks that can be emptied between campaigns.
pub trait Clear {
    /// Empties the sink for the next campaign.
    fn clear(&mut self);
}

impl Clear for NoEvents {
    fn clear(&mut self) {}
}

impl Clear for datapact_model::TrailEvents {
    fn clear(&mut self) {
        datapact_model::TrailEvents::clear(self)
    }
}

impl Clear for Vec<Event> {
    fn clear(&mut self) {
        Vec::clear(self)
    }
}
