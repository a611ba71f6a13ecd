//! The lock-step kernels (`datapact_model::lanes`) equal the scalar functions bit for bit, lane
//! by lane, under every instruction set this CPU runs: random campaigns with ties, zero costs,
//! zero caps, infeasible and free-data lanes, degenerate n, partial lane groups.

use datapact_model::assign::{Assignment, assign};
use datapact_model::lanes::assign::assign_blocks;
use datapact_model::lanes::order::order_blocks;
use datapact_model::lanes::settle::{ToSettle, settle_blocks, settle_subsidy_blocks};
use datapact_model::lanes::waterfill::water_fill_blocks;
use datapact_model::lanes::withdraw::{decide_at_once_blocks, sequential_blocks};
use datapact_model::lanes::{Isa, LaneScratch};
use datapact_model::settle::{Outcome, settle_subsidy, settle_withdrawal_at};
use datapact_model::waterfill::{FillScratch, Infeasible, water_fill};
use datapact_model::withdraw::{
    ProtocolScratch, WithdrawState, decision_order, sequential, simultaneous,
};
use datapact_model::{Decision, Game, NoEvents, Order, ProtocolEnd, Rules};
use proptest::prelude::*;

/// A column of `blocks` campaigns of `n` costs each, from the seeds: uniform and exponential-like
/// values, exact zeros, repeats of an earlier user's value (ties) and, with `shared`, every
/// block a copy of the first (identical lanes).
fn costs(n: usize, blocks: usize, seed: u64, zeros: f64, shared: bool) -> Vec<f64> {
    let mut state = seed | 1;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut column = Vec::with_capacity(n * blocks);
    for b in 0..blocks {
        for i in 0..n {
            let u = next();
            let v = if shared && b > 0 {
                column[i]
            } else if u < zeros {
                0.0
            } else if u < zeros + 0.15 && i > 0 {
                column[b * n + (next() * i as f64) as usize]
            } else if u < 0.6 {
                next() * 2.0
            } else {
                -libm::log(next().max(1e-300)) * 0.5
            };
            column.push(v);
        }
    }
    column
}

fn game(n: usize, value: f64, payment: f64, threshold: f64) -> Game {
    Game {
        users: n,
        value,
        payment,
        threshold,
        ..Game::default()
    }
}

fn same(a: &[f64], b: &[f64]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits())
}

fn same_result(a: Result<f64, Infeasible>, b: Result<f64, Infeasible>) -> bool {
    match (a, b) {
        (Ok(x), Ok(y)) => x.to_bits() == y.to_bits(),
        (Err(x), Err(y)) => x.capacity.to_bits() == y.capacity.to_bits(),
        _ => false,
    }
}

fn same_assignment(a: &Assignment, b: &Assignment) -> bool {
    a.sustainable == b.sustainable
        && a.backstoppers == b.backstoppers
        && a.estimated_cost.to_bits() == b.estimated_cost.to_bits()
}

fn same_outcome(a: &Outcome, b: &Outcome) -> bool {
    a.status == b.status
        && [a.welfare, a.privacy_cost, a.subsidy, a.leakage, a.data]
            .iter()
            .zip([b.welfare, b.privacy_cost, b.subsidy, b.leakage, b.data])
            .all(|(x, y)| x.to_bits() == y.to_bits())
        && a.withdrawals == b.withdrawals
        && a.backstoppers == b.backstoppers
}

/// Block starts: every block of the column, in an order rotated by `rotate` (lanes need not be
/// consecutive blocks).
fn starts(n: usize, blocks: usize, rotate: usize) -> Vec<usize> {
    (0..blocks).map(|k| ((k + rotate) % blocks) * n).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn lane_water_filling_is_the_scalar_water_filling(
        n in 1usize..60, blocks in 1usize..20, seed in any::<u64>(), zeros in 0.0f64..0.3,
        need_share in 0.0f64..1.2, tol in prop::sample::select(vec![0.0, 1e-9, 1e-3]),
        rotate in 0usize..20, shared in any::<bool>(),
    ) {
        let cost = costs(n, blocks, seed, zeros, shared);
        let hi = costs(n, blocks, seed ^ 0x5555, zeros, shared)
            .into_iter()
            .map(|h| h.min(1.0))
            .collect::<Vec<_>>();
        let need = need_share * n as f64 * 0.5;
        let starts = starts(n, blocks, rotate % blocks);
        let mut fill = FillScratch::default();
        let mut expected = vec![f64::NAN; n * blocks];
        let mut expected_results = Vec::new();
        for &s in &starts {
            expected_results.push(water_fill(
                &cost[s..s + n], &hi[s..s + n], need, tol, &mut expected[s..s + n], &mut fill,
            ));
        }
        for isa in Isa::available() {
            let mut scratch = LaneScratch::default();
            let mut out = vec![f64::NAN; n * blocks];
            let mut results = Vec::new();
            water_fill_blocks(
                isa, (&cost, &hi), n, &starts, (need, tol), &mut out, &mut scratch, &mut results,
            );
            prop_assert_eq!(results.len(), blocks);
            for (a, b) in results.iter().zip(&expected_results) {
                prop_assert!(same_result(*a, *b), "{:?}: {:?} vs scalar {:?}", isa, a, b);
            }
            // NaN where the scalar function leaves `out` alone: compared by bits too.
            prop_assert!(same(&out, &expected), "{:?}: burdens differ", isa);
        }
    }

    #[test]
    fn lane_assignment_is_the_scalar_assignment(
        n in 1usize..60, blocks in 1usize..20, seed in any::<u64>(), zeros in 0.0f64..0.3,
        value in prop::sample::select(vec![0.0, 0.05, 0.1, 0.3]), payment in 0.0f64..0.3,
        threshold in 0.0f64..1.1, rotate in 0usize..20, shared in any::<bool>(),
    ) {
        let observed = costs(n, blocks, seed, zeros, shared);
        let g = game(n, value, payment, threshold);
        let starts = starts(n, blocks, rotate % blocks);
        let mut fill = FillScratch::default();
        let (mut cap, mut burden) = (vec![0.0; n * blocks], vec![0.0; n * blocks]);
        let mut expected = Vec::new();
        for &s in &starts {
            expected.push(assign(
                &observed[s..s + n], &g, &mut cap[s..s + n], &mut burden[s..s + n], &mut fill,
                &mut NoEvents,
            ));
        }
        for isa in Isa::available() {
            let mut scratch = LaneScratch::default();
            let (mut cap_l, mut burden_l) = (vec![1.5; n * blocks], vec![f64::NAN; n * blocks]);
            let mut out = Vec::new();
            assign_blocks(
                isa, &observed, n, &starts, &g, (&mut cap_l, &mut burden_l), &mut scratch, &mut out,
            );
            prop_assert_eq!(out.len(), blocks);
            for (a, b) in out.iter().zip(&expected) {
                prop_assert!(same_assignment(a, b), "{:?}: {:?} vs scalar {:?}", isa, a, b);
            }
            prop_assert!(same(&cap_l, &cap), "{:?}: caps differ", isa);
            prop_assert!(same(&burden_l, &burden), "{:?}: burdens differ", isa);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn lane_settlement_is_the_scalar_settlement(
        n in 1usize..40, blocks in 1usize..20, seed in any::<u64>(), zeros in 0.0f64..0.3,
        value in 0.0f64..0.3, payment in 0.0f64..0.3, threshold in 0.0f64..1.0,
        irreversible in prop::sample::select(vec![0.0, 0.4, 1.0]), rotate in 0usize..20,
        shared in any::<bool>(),
        ends in prop::collection::vec((0u8..4, 0.0f64..1.2, 0u32..40), 20),
        decisions in prop::collection::vec(0u8..3, 40 * 20),
    ) {
        let realized = costs(n, blocks, seed, zeros, shared);
        let burden: Vec<f64> = costs(n, blocks, seed ^ 0x77, zeros, shared)
            .into_iter()
            .map(|x| x.min(1.0))
            .collect();
        let decision: Vec<Decision> = decisions[..n * blocks]
            .iter()
            .map(|d| [Decision::Undecided, Decision::Stay, Decision::Withdraw][*d as usize])
            .collect();
        let g = Game { irreversible, ..game(n, value, payment, threshold) };
        let campaigns: Vec<ToSettle> = starts(n, blocks, rotate % blocks)
            .into_iter()
            .zip(&ends)
            .map(|(start, &(kind, share, backstoppers))| ToSettle {
                start,
                end: match kind {
                    0 => ProtocolEnd::Cancelled,
                    1 => ProtocolEnd::Aborted,
                    // Exactly at the threshold's tolerance, or anywhere around it.
                    2 => ProtocolEnd::Trained { committed: g.need() - g.tolerance() },
                    _ => ProtocolEnd::Trained { committed: share * g.need() },
                },
                backstoppers,
            })
            .collect();
        let mut expected_payoff = vec![f64::NAN; n * blocks];
        let expected: Vec<Outcome> = campaigns
            .iter()
            .map(|c| {
                let r = c.start..c.start + n;
                settle_withdrawal_at(
                    c.end, 9.0, &realized[r.clone()], &burden[r.clone()], &decision[r.clone()],
                    &g, c.backstoppers, &mut expected_payoff[r], &mut NoEvents,
                )
            })
            .collect();
        for isa in Isa::available() {
            let mut payoff = vec![f64::NAN; n * blocks];
            let mut out = Vec::new();
            settle_blocks(
                isa, (&realized, &burden, &decision), n, &campaigns, &g, &mut payoff,
                &mut LaneScratch::default(), &mut out,
            );
            prop_assert_eq!(out.len(), blocks);
            for (a, b) in out.iter().zip(&expected) {
                prop_assert!(same_outcome(a, b), "{:?}: {:?} vs scalar {:?}", isa, a, b);
            }
            prop_assert!(same(&payoff, &expected_payoff), "{:?}: payoffs differ", isa);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// C's settlement: contributions in [0, 1] with exact zeros (up to every user's), Q
    /// anywhere around Σ x.
    #[test]
    fn lane_subsidy_settlement_is_the_scalar_settlement(
        n in 1usize..40, blocks in 1usize..20, seed in any::<u64>(), zeros in 0.0f64..1.0,
        value in 0.0f64..0.3, payment in 0.0f64..0.3, threshold in 0.0f64..1.0,
        rotate in 0usize..20, shared in any::<bool>(),
    ) {
        let realized = costs(n, blocks, seed, zeros.min(0.3), shared);
        let contribution: Vec<f64> = costs(n, blocks, seed ^ 0x99, zeros, shared)
            .into_iter()
            .map(|x| x.min(1.0))
            .collect();
        let g = game(n, value, payment, threshold);
        let starts = starts(n, blocks, rotate % blocks);
        let mut expected_payoff = vec![f64::NAN; n * blocks];
        let expected: Vec<Outcome> = starts
            .iter()
            .map(|&s| {
                settle_subsidy(
                    &realized[s..s + n], &contribution[s..s + n], &g,
                    &mut expected_payoff[s..s + n], &mut NoEvents,
                )
            })
            .collect();
        for isa in Isa::available() {
            let mut payoff = vec![f64::NAN; n * blocks];
            let mut out = Vec::new();
            settle_subsidy_blocks(
                isa, (&realized, &contribution), n, &starts, &g, &mut payoff,
                &mut LaneScratch::default(), &mut out,
            );
            prop_assert_eq!(out.len(), blocks);
            for (a, b) in out.iter().zip(&expected) {
                prop_assert!(same_outcome(a, b), "{:?}: {:?} vs scalar {:?}", isa, a, b);
            }
            prop_assert!(same(&payoff, &expected_payoff), "{:?}: payoffs differ", isa);
        }
    }

    #[test]
    fn lane_order_is_the_scalar_order(
        n in 1usize..80, blocks in 1usize..20, seed in any::<u64>(), zeros in 0.0f64..0.5,
        order in prop::sample::select(Order::ALL.to_vec()), shared in any::<bool>(),
        odd in prop::sample::select(vec![None, Some(-0.0), Some(-1.0), Some(f64::NAN), Some(f64::INFINITY)]),
        odd_at in 0usize..2000,
    ) {
        // Keys with ties (repeats, zeros), sometimes one outside [+0, +∞] in one campaign.
        let mut column = costs(n, blocks, seed, zeros, shared);
        if let Some(x) = odd {
            let at = odd_at % column.len();
            column[at] = x;
        }
        let keys: Vec<&[f64]> = column.chunks(n).collect();
        let mut expected = Vec::new();
        let mut one = Vec::new();
        for key in &keys {
            // The key as each order reads it: burdens, costs and random keys alike.
            decision_order(order, key, key, key, &mut one);
            expected.extend_from_slice(&one);
        }
        for isa in Isa::available() {
            let mut out = Vec::new();
            order_blocks(
                isa, &keys, n, order == Order::LargeFirst, &mut out, &mut LaneScratch::default(),
            );
            prop_assert_eq!(&out, &expected, "{:?}", isa);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn lane_decisions_are_s_and_m_until_a_reassignment(
        n in 1usize..60, blocks in 1usize..20, seed in any::<u64>(), zeros in 0.0f64..0.3,
        value in prop::sample::select(vec![0.0, 0.05, 0.1, 0.3]), payment in 0.0f64..0.3,
        threshold in 0.0f64..1.0, rotate in 0usize..20, shared in any::<bool>(),
        order in prop::sample::select(Order::ALL.to_vec()), stay_bias in 0.0f64..3.0,
    ) {
        // Realized costs scaled down so that often nobody withdraws (the common case), or
        // only the last user does.
        let realized: Vec<f64> = costs(n, blocks, seed, zeros, shared)
            .into_iter()
            .map(|c| c * (1.0 - stay_bias / 3.0))
            .collect();
        let observed = costs(n, blocks, seed ^ 0x31, zeros, shared);
        let burden: Vec<f64> = costs(n, blocks, seed ^ 0x99, zeros, shared)
            .into_iter()
            .map(|x| x.min(1.0))
            .collect();
        let g = Game { order, ..game(n, value, payment, threshold) };
        let rules = Rules::default();
        let starts = starts(n, blocks, rotate % blocks);
        let (rule, absorbed) = (vec![0u16; n], vec![false; n]);
        let mut scratch = ProtocolScratch::default();
        let mut orders = Vec::new();
        let mut one = Vec::new();
        let mut expected = Vec::new();
        let mut expected_decision = vec![Decision::Undecided; n * blocks];
        for &s in &starts {
            let r = s..s + n;
            decision_order(order, &burden[r.clone()], &observed[r.clone()], &realized[r.clone()], &mut one);
            orders.extend_from_slice(&one);
            let mut b = burden[r.clone()].to_vec();
            let st = WithdrawState {
                observed: &observed[r.clone()],
                realized: &realized[r.clone()],
                cap: &burden[r.clone()],
                burden: &mut b,
                decision: &mut expected_decision[r.clone()],
                rule: &rule,
                rules: rules.withdraw(),
                absorbed: &absorbed,
                peers: None,
            };
            let end = sequential(st, &realized[r.clone()], &g, &mut scratch, &mut NoEvents);
            // Withdrawals before the last position re-assign.
            let early = one[..n - 1]
                .iter()
                .any(|&i| expected_decision[s + i as usize] == Decision::Withdraw);
            expected.push((end, early));
        }
        s_decisions_match(&realized, &burden, n, &starts, &g)?;
        for isa in Isa::available() {
            let mut decision = vec![Decision::Undecided; n * blocks];
            let mut ends = Vec::new();
            sequential_blocks(
                isa, (&realized, &burden), n, &starts, &orders, &g, &mut decision,
                &mut LaneScratch::default(), &mut ends,
            );
            prop_assert_eq!(ends.len(), blocks);
            for (k, (got, &(end, early))) in ends.iter().zip(&expected).enumerate() {
                match got {
                    None => prop_assert!(early, "{:?}: block {} handed back without reason", isa, k),
                    Some(got) => {
                        prop_assert!(!early, "{:?}: block {} re-assigns", isa, k);
                        let (ProtocolEnd::Trained { committed: a }, ProtocolEnd::Trained { committed: b }) = (*got, end) else {
                            return Err(TestCaseError::fail(format!("{isa:?}: {got:?} vs {end:?}")));
                        };
                        prop_assert_eq!(a.to_bits(), b.to_bits(), "{:?}", isa);
                        let r = starts[k]..starts[k] + n;
                        prop_assert_eq!(&decision[r.clone()], &expected_decision[r], "{:?}", isa);
                    }
                }
            }
        }
    }
}

/// S's first decisions in lanes equal `simultaneous`'s (without recovery rounds) bit for bit.
fn s_decisions_match(
    realized: &[f64],
    burden: &[f64],
    n: usize,
    starts: &[usize],
    g: &Game,
) -> Result<(), TestCaseError> {
    let rules = Rules::default();
    let mut expected_decision = vec![Decision::Undecided; burden.len()];
    let mut expected = Vec::new();
    let mut scratch = ProtocolScratch::default();
    let (rule, absorbed) = (vec![0u16; n], vec![false; n]);
    for &s in starts {
        let r = s..s + n;
        let mut b = burden[r.clone()].to_vec();
        let st = WithdrawState {
            observed: &realized[r.clone()],
            realized: &realized[r.clone()],
            cap: &realized[r.clone()],
            burden: &mut b,
            decision: &mut expected_decision[r],
            rule: &rule,
            rules: rules.withdraw(),
            absorbed: &absorbed,
            peers: None,
        };
        match simultaneous(st, g, &mut scratch, &mut NoEvents) {
            ProtocolEnd::Trained { committed } => expected.push(committed),
            other => prop_assert!(false, "{:?}", other),
        }
    }
    for isa in Isa::available() {
        let mut decision = vec![Decision::Undecided; burden.len()];
        let mut committed = Vec::new();
        decide_at_once_blocks(
            isa,
            (realized, burden),
            n,
            starts,
            g,
            &mut decision,
            &mut LaneScratch::default(),
            &mut committed,
        );
        prop_assert!(same(&committed, &expected), "{:?}: committed differ", isa);
        prop_assert_eq!(&decision, &expected_decision, "{:?}", isa);
    }
    Ok(())
}

/// The instruction sets of this CPU include the baseline, and the lane counts are as documented.
#[test]
fn instruction_sets() {
    let all = Isa::available();
    assert_eq!(all[0], Isa::Baseline);
    assert!(all.contains(&Isa::detect()));
    assert_eq!(Isa::Avx512.lanes(), 8);
    assert_eq!(Isa::Avx2.lanes(), 4);
}

/// Hand cases: a single user, every user free, ties at the level, an exact fit of the capacity.
#[test]
fn edge_cases_match() {
    let cases: Vec<(Vec<f64>, Vec<f64>, f64)> = vec![
        (vec![0.5], vec![1.0], 0.5),
        (vec![0.0, 0.0, 0.0], vec![1.0, 0.5, 0.0], 1.0),
        (vec![0.2, 0.2, 0.2, 0.2], vec![1.0, 1.0, 1.0, 1.0], 2.0),
        (vec![0.2, 0.4, 0.8], vec![0.5, 0.5, 0.5], 1.5),
        (vec![0.2, 0.4, 0.8], vec![0.5, 0.5, 0.5], 1.6),
        (vec![1e-300, 1e300, 1.0], vec![1.0, 1.0, 1.0], 2.0),
        (vec![0.3, 0.0, 0.3], vec![0.0, 0.0, 0.7], 0.7),
    ];
    for (cost, hi, need) in cases {
        let n = cost.len();
        let mut expected = vec![f64::NAN; n];
        let r = water_fill(
            &cost,
            &hi,
            need,
            1e-9,
            &mut expected,
            &mut FillScratch::default(),
        );
        for isa in Isa::available() {
            let mut out = vec![f64::NAN; n];
            let mut results = Vec::new();
            water_fill_blocks(
                isa,
                (&cost, &hi),
                n,
                &[0],
                (need, 1e-9),
                &mut out,
                &mut LaneScratch::default(),
                &mut results,
            );
            assert!(same_result(results[0], r), "{isa:?} {cost:?}");
            assert!(
                same(&out, &expected),
                "{isa:?} {cost:?}: {out:?} vs {expected:?}"
            );
        }
    }
}
