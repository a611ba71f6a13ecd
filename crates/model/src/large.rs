//! Very large campaigns in little memory: one core mechanism's campaign on the columns its phases
//! need, the replication's draws streamed in blocks instead of held.
//!
//! The direct kernel ([`crate::campaign`]) holds per user the four draws, the reported,
//! observed and realised costs, cap, burden, payoff, belief and strategy indices, and the
//! assignment memo's copies: ≈ 150 bytes, plus M's re-assignment tree (≈ 120 bytes). At
//! millions of users this module plays the same phase functions on less:
//! - C ([`Kernel::Subsidy`]) is a sum over users (each user's best response depends only on
//!   her cost and b0): one streaming pass over the draws, nothing per user (a second pass writes
//!   the payoffs when the caller asks for them);
//! - S and M keep c̃ and c^w from one streaming pass (reports are made block by block), then
//!   cap, burden, decision and withdraw-strategy columns for [`assign`], [`simultaneous`] or
//!   [`sequential`] and [`settle_withdrawal`]; M's tree uses compact storage
//!   ([`crate::reassign::Reassign::set_compact`]).
//!
//! Invariant: every number is the one [`crate::campaign::run_round`] computes on the same draws
//! in a first round (same functions, same inputs, sums in the same order), so outcomes and payoffs
//! are equal bit for bit (tested here and against the ECS in `datapact-sim`). Draws are a
//! function of the stream alone, so each mechanism regenerates them (common random numbers are
//! kept). Report rules are called on runs of users split at block boundaries, so a rule must
//! report each user from her own cost (as [`crate::strategy::ReportRule`] requires). Peak
//! memory per user: C 0 bytes, S ≈ 56 (during the water-filling), M ≈ 80 (while the tree is
//! built at the first withdrawal), plus 8 for payoffs when asked.

use rand_chacha::ChaCha8Rng;

use crate::assign::assign;
use crate::campaign::Kernel;
use crate::caps::subsidy_response;
use crate::cost::CostSampler;
use crate::draws::Draws;
use crate::events::NoEvents;
use crate::params::{Game, Order};
use crate::report::{observe, realize, realized_cost, report};
use crate::settle::{
    Outcome, settle_withdrawal, subsidy_outcome, subsidy_payoff, subsidy_share, subsidy_success,
};
use crate::strategy::{AmountKind, Choosing, Rules};
use crate::waterfill::FillScratch;
use crate::withdraw::{
    Decision, ProtocolEnd, ProtocolScratch, WithdrawState, sequential, simultaneous,
};

/// Users whose draws are generated at a time.
const BLOCK: usize = 4096;

/// Calls `f(first, draws)` on the draws of users `first .. first + draws.len()`, blocks of
/// consecutive users in order, together the draws of `n` users from `rng`.
pub fn stream_draws(
    n: usize,
    sampler: &CostSampler,
    rng: &mut ChaCha8Rng,
    mut f: impl FnMut(usize, &Draws),
) {
    let mut draws = Draws::default();
    let mut first = 0;
    while first < n {
        let len = BLOCK.min(n - first);
        draws.fill(len, sampler, rng);
        f(first, &draws);
        first += len;
    }
}

/// Plays one first-round campaign of `kernel` for `game.users` users on the draws of `stream()`
/// (a fresh copy of the replication's stream, called once or twice), in little memory. When
/// `payoff` is given it receives each user's utility, as `Workspace::payoff` would.
pub fn run_large(
    kernel: Kernel,
    game: &Game,
    rules: &Rules,
    sampler: &CostSampler,
    stream: impl Fn() -> ChaCha8Rng,
    payoff: Option<&mut Vec<f64>>,
) -> Outcome {
    match kernel {
        Kernel::Subsidy => subsidy(game, rules, sampler, stream, payoff),
        Kernel::Simultaneous | Kernel::Sequential => {
            withdrawal(kernel, game, rules, sampler, stream, payoff)
        }
    }
}

/// C in streaming passes: `respond` and `settle_subsidy` per user, their sums in user order.
fn subsidy(
    game: &Game,
    rules: &Rules,
    sampler: &CostSampler,
    stream: impl Fn() -> ChaCha8Rng,
    payoff: Option<&mut Vec<f64>>,
) -> Outcome {
    let n = game.users;
    // The identity `Iterator::sum` starts from, so that the total has its exact bits.
    let mut total: f64 = std::iter::empty::<f64>().sum();
    let (mut privacy_cost, mut paid_total) = (0.0, 0.0);
    let contribute = rules.amount(AmountKind::Contribute);
    let optimal = contribute.all_optimal_contributions();
    let user = |i: usize, c: f64, zeta: f64| {
        let x = if optimal {
            subsidy_response(c, game.payment, game.belief, game.value)
        } else {
            let user = Choosing {
                cost: c,
                value: game.value,
                payment: game.payment,
                belief: game.belief,
                threshold: game.threshold,
                users: game.users,
            };
            contribute.choose(AmountKind::Contribute, i, &user)
        };
        let crate::settle::Share { paid, borne } =
            subsidy_share(x, realized_cost(c, zeta, game.drift), game);
        (x, borne, paid)
    };
    stream_draws(n, sampler, &mut stream(), |first, d| {
        for (k, (c, zeta)) in d.cost.iter().zip(&d.drift_shock).enumerate() {
            let (x, borne, paid) = user(first + k, *c, *zeta);
            total += x;
            privacy_cost += borne;
            paid_total += paid;
        }
    });
    if let Some(payoff) = payoff {
        let success = subsidy_success(total, game);
        payoff.clear();
        payoff.reserve_exact(n);
        stream_draws(n, sampler, &mut stream(), |first, d| {
            payoff.extend(
                d.cost
                    .iter()
                    .zip(&d.drift_shock)
                    .enumerate()
                    .map(|(k, (c, zeta))| {
                        let (_, borne, paid) = user(first + k, *c, *zeta);
                        subsidy_payoff(success, borne, paid, game)
                    }),
            );
        });
    }
    subsidy_outcome(n, total, privacy_cost, paid_total, game)
}

/// S or M: report, observe and drift streamed into two columns, then assign, withdraw and settle
/// on the compact columns.
fn withdrawal(
    kernel: Kernel,
    game: &Game,
    rules: &Rules,
    sampler: &CostSampler,
    stream: impl Fn() -> ChaCha8Rng,
    payoff: Option<&mut Vec<f64>>,
) -> Outcome {
    let n = game.users;
    let keep_order_key = kernel == Kernel::Sequential && game.order == Order::Random;
    let mut observed = vec![0.0; n];
    let mut realized = vec![0.0; n];
    let mut order_key = if keep_order_key {
        vec![0.0; n]
    } else {
        Vec::new()
    };
    let (mut reported, mut strategy) = (vec![0.0; BLOCK], Vec::with_capacity(BLOCK));
    stream_draws(n, sampler, &mut stream(), |first, d| {
        let users = first..first + d.len();
        strategy.clear();
        strategy.extend(users.clone().map(|i| game.report_strategy_of(i)));
        let reported = &mut reported[..d.len()];
        report(&d.cost, &strategy, &rules.report, reported, &mut NoEvents);
        observe(
            reported,
            &d.obs_shock,
            game.obs_noise,
            &mut observed[users.clone()],
        );
        realize(
            &d.cost,
            &d.drift_shock,
            game.drift,
            &mut realized[users.clone()],
        );
        if keep_order_key {
            order_key[users].copy_from_slice(&d.order_key);
        }
    });
    let mut cap = vec![0.0; n];
    let mut burden = vec![0.0; n];
    let assignment = assign(
        &observed,
        game,
        &mut cap,
        &mut burden,
        &mut FillScratch::default(),
        &mut NoEvents,
    );
    let mut decision = vec![Decision::Undecided; n];
    let end = if !assignment.sustainable {
        ProtocolEnd::Cancelled
    } else {
        let rule: Vec<u16> = (0..n).map(|i| game.withdraw_strategy_of(i)).collect();
        // A first round: nobody remembers earlier withdrawals.
        let absorbed = vec![false; n];
        let mut scratch = ProtocolScratch::default();
        scratch.reassign.set_compact(true);
        let st = WithdrawState {
            observed: &observed,
            realized: &realized,
            cap: &cap,
            burden: &mut burden,
            decision: &mut decision,
            rule: &rule,
            rules: rules.withdraw(),
            absorbed: &absorbed,
            peers: None,
        };
        if kernel == Kernel::Simultaneous {
            simultaneous(st, game, &mut scratch, &mut NoEvents)
        } else {
            sequential(st, &order_key, game, &mut scratch, &mut NoEvents)
        }
    };
    drop((observed, cap, order_key));
    let mut own = Vec::new();
    let payoff = payoff.unwrap_or(&mut own);
    payoff.clear();
    payoff.resize(n, 0.0);
    settle_withdrawal(
        end,
        &realized,
        &burden,
        &decision,
        game,
        assignment.backstoppers,
        payoff,
        &mut NoEvents,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::campaign::{Workspace, run_round};
    use crate::cost::CostDist;
    use crate::draws::campaign_rng;
    use crate::param::ParamValues;
    use crate::params::{Population, StrategyShare};

    fn bits(v: &[f64]) -> Vec<u64> {
        v.iter().map(|x| x.to_bits()).collect()
    }

    /// Every kernel's outcome and payoffs equal the direct kernel's on the same draws, bit for
    /// bit, across orders, noise, drift, recovery rounds, strategies and sizes that take M
    /// through its incremental re-assignment (and its compact tree) and S through the sorted
    /// water-filling.
    #[test]
    fn equals_the_direct_kernel() {
        let orders = [
            Order::SmallFirst,
            Order::LargeFirst,
            Order::Random,
            Order::CostAscending,
        ];
        let mut cases = 0;
        for (trial, &users) in [1000usize, 3000, 5000, 20_000].iter().enumerate() {
            for (variant, order) in orders.iter().enumerate() {
                let strategies = variant % 2 == 1;
                let game = Game {
                    users,
                    order: *order,
                    value: [0.1, 0.05, 0.2, 0.1][variant],
                    payment: [0.1, 0.1, 0.05, 0.02][variant],
                    obs_noise: [0.0, 0.3, 0.0, 0.5][(variant + trial) % 4],
                    drift: [0.5, 0.0, 1.0, 0.5][variant],
                    recovery_rounds: (trial % 2) as u32,
                    cost: if trial == 2 {
                        CostDist::Beta {
                            alpha: 2.0,
                            beta: 5.0,
                        }
                    } else {
                        CostDist::Uniform {
                            low: 0.0,
                            high: 1.0,
                        }
                    },
                    population: if strategies {
                        Population {
                            report: StrategyShare {
                                strategy: 1,
                                share: 0.3,
                                params: ParamValues(vec![0.7]),
                            },
                            withdraw: StrategyShare {
                                strategy: 1,
                                share: 0.2,
                                params: ParamValues::default(),
                            },
                            ..Population::default()
                        }
                    } else {
                        Population::default()
                    },
                    ..Game::default()
                };
                let rules = crate::catalog::Catalog::core().rules(&game);
                let sampler = game.cost.sampler().unwrap();
                let stream = || campaign_rng(7, 11 + trial as u64, variant as u64);
                let mut draws = Draws::default();
                draws.fill(users, &sampler, &mut stream());
                for kernel in [Kernel::Subsidy, Kernel::Simultaneous, Kernel::Sequential] {
                    let mut ws = Workspace::default();
                    ws.fresh_population(&game, users);
                    let expected = run_round(kernel, &game, &rules, &draws, &mut ws, &mut NoEvents);
                    let mut payoff = Vec::new();
                    let got = run_large(kernel, &game, &rules, &sampler, stream, Some(&mut payoff));
                    assert_eq!(got, expected, "{kernel:?} n={users} {order:?}");
                    assert_eq!(bits(&payoff), bits(&ws.payoff), "{kernel:?} n={users}");
                    let without = run_large(kernel, &game, &rules, &sampler, stream, None);
                    assert_eq!(without, expected);
                    cases += (expected.withdrawals > 0) as usize;
                }
            }
        }
        // The instances exercise withdrawals (M's re-assignment), not only quiet campaigns.
        assert!(cases >= 16, "{cases} campaigns with withdrawals");
    }

    /// Blocks of draws continue one stream: the streamed users are those of one fill.
    #[test]
    fn streamed_draws_are_the_stream() {
        let sampler = CostDist::Uniform {
            low: 0.0,
            high: 1.0,
        }
        .sampler()
        .unwrap();
        let n = 2 * BLOCK + 17;
        let mut whole = Draws::default();
        whole.fill(n, &sampler, &mut campaign_rng(1, 2, 3));
        let mut seen = 0;
        stream_draws(n, &sampler, &mut campaign_rng(1, 2, 3), |first, d| {
            assert_eq!(first, seen);
            let users = first..first + d.len();
            assert_eq!(bits(&d.cost), bits(&whole.cost[users.clone()]));
            assert_eq!(
                bits(&d.drift_shock),
                bits(&whole.drift_shock[users.clone()])
            );
            assert_eq!(bits(&d.obs_shock), bits(&whole.obs_shock[users.clone()]));
            assert_eq!(bits(&d.order_key), bits(&whole.order_key[users]));
            seen += d.len();
        });
        assert_eq!(seen, n);
    }
}
