//! [`crate::settle::settle_withdrawal_at`] (S and M) and [`crate::settle::settle_subsidy`] (C) on
//! `L` campaigns at once (the paper's terms, without events): every user's share and payoff, and
//! the campaign's totals, lane by lane bit for bit.

use super::{Isa, LaneScratch, gather, lanes_of, mask, padded, scatter, select};
use crate::cost::kappa;
use crate::params::Game;
use crate::settle::{Outcome, Status};
use crate::withdraw::{Decision, ProtocolEnd};

/// One campaign to settle: its first row in the columns, how its withdraw phase ended and its
/// backstoppers (from the assignment).
#[derive(Clone, Copy, Debug)]
pub struct ToSettle {
    /// First row of its `n` users in the columns.
    pub start: usize,
    /// How its withdraw phase ended.
    pub end: ProtocolEnd,
    /// k of its assignment (0 without one).
    pub backstoppers: u32,
}

/// [`crate::settle::settle_withdrawal_at`] (with [`crate::NoEvents`]) of each campaign in
/// `campaigns`, on the columns `realized`, `burden` and `decision` (`n` users per campaign):
/// payoffs go to `payoff` at the campaign's rows and outcomes to `out` (cleared first). A group
/// of one campaign (a batch's only one, as at large n) is settled by the scalar function in
/// place (see [`crate::lanes`], *Memory*).
#[allow(clippy::too_many_arguments)]
pub fn settle_blocks(
    isa: Isa,
    (realized, burden, decision): (&[f64], &[f64], &[Decision]),
    n: usize,
    campaigns: &[ToSettle],
    game: &Game,
    payoff: &mut [f64],
    scratch: &mut LaneScratch,
    out: &mut Vec<Outcome>,
) {
    out.clear();
    for_lanes!(isa, L => {
        for group in campaigns.chunks(L) {
            if let &[one] = group {
                let r = one.start..one.start + n;
                // The training time only dates an event, and none is emitted.
                out.push(crate::settle::settle_withdrawal_at(
                    one.end,
                    0.0,
                    &realized[r.clone()],
                    &burden[r.clone()],
                    &decision[r.clone()],
                    game,
                    one.backstoppers,
                    &mut payoff[r],
                    &mut crate::NoEvents,
                ));
                continue;
            }
            let campaign = |l: usize| group[l.min(group.len() - 1)];
            let starts: [usize; L] = std::array::from_fn(|l| campaign(l).start);
            gather(isa, realized, &starts, lanes_of::<L>(&mut scratch.a, n));
            gather(isa, burden, &starts, lanes_of::<L>(&mut scratch.b, n));
            lanes_of::<L>(&mut scratch.c, n);
            // Decisions as 64-bit codes (their discriminants), so that the settlement's loop
            // compares and selects in vector registers.
            scratch.stays.resize(n * L, 0);
            let codes = scratch.stays.as_chunks_mut::<L>().0;
            let blocks: [&[Decision]; L] = std::array::from_fn(|l| &decision[starts[l]..][..n]);
            for (i, user) in codes.iter_mut().enumerate() {
                for l in 0..L {
                    user[l] = blocks[l][i] as u64;
                }
            }
            let ends: [ProtocolEnd; L] = std::array::from_fn(|l| campaign(l).end);
            let backstoppers: [u32; L] = std::array::from_fn(|l| campaign(l).backstoppers);
            let payoff_l = scratch.c.as_chunks_mut::<L>().0;
            let o = settle(
                isa,
                scratch.a.as_chunks::<L>().0,
                scratch.b.as_chunks::<L>().0,
                scratch.stays.as_chunks::<L>().0,
                (ends, backstoppers),
                game,
                payoff_l,
            );
            scatter(isa, payoff_l, &starts, group.len(), payoff);
            out.extend_from_slice(&o[..group.len()]);
        }
    })
}

/// [`crate::settle::settle_subsidy`] (with [`crate::NoEvents`]) of each of C's campaign blocks at
/// `starts`, on the columns `realized` and `contribution` (`n` users per block): payoffs go to
/// `payoff` at the block's rows and outcomes to `out` (cleared first). A group of one block is
/// settled by the scalar function in place (see [`crate::lanes`], *Memory*).
#[allow(clippy::too_many_arguments)]
pub fn settle_subsidy_blocks(
    isa: Isa,
    (realized, contribution): (&[f64], &[f64]),
    n: usize,
    starts: &[usize],
    game: &Game,
    payoff: &mut [f64],
    scratch: &mut LaneScratch,
    out: &mut Vec<Outcome>,
) {
    out.clear();
    for_lanes!(isa, L => {
        for group in starts.chunks(L) {
            if let &[start] = group {
                let r = start..start + n;
                out.push(crate::settle::settle_subsidy(
                    &realized[r.clone()],
                    &contribution[r.clone()],
                    game,
                    &mut payoff[r],
                    &mut crate::NoEvents,
                ));
                continue;
            }
            let starts = padded::<L>(group);
            gather(isa, realized, &starts, lanes_of::<L>(&mut scratch.a, n));
            gather(isa, contribution, &starts, lanes_of::<L>(&mut scratch.b, n));
            let payoff_l = lanes_of::<L>(&mut scratch.c, n);
            let o = settle_subsidy(
                isa,
                scratch.a.as_chunks::<L>().0,
                scratch.b.as_chunks::<L>().0,
                game,
                payoff_l,
            );
            scatter(isa, payoff_l, &starts, group.len(), payoff);
            out.extend_from_slice(&o[..group.len()]);
        }
    })
}

/// [`crate::settle::settle_subsidy`] of each lane, bit for bit: Σ x in user order from −0.0 (as
/// `Iterator::sum`), then each user's payment, borne cost and payoff, the totals from +0.0.
#[inline(always)]
fn settle_subsidy<const L: usize>(
    isa: Isa,
    realized: &[[f64; L]],
    contribution: &[[f64; L]],
    game: &Game,
    payoff: &mut [[f64; L]],
) -> [Outcome; L] {
    let n = contribution.len();
    let total = sum_users(isa, contribution);
    let success = total.map(|t| mask(crate::settle::subsidy_success(t, game)));
    let terms = Terms {
        value: game.value,
        payment: game.payment,
        irreversible: game.irreversible,
    };
    let (privacy_cost, paid_total) =
        subsidy_users(isa, (realized, contribution), &success, &terms, payoff);
    std::array::from_fn(|l| {
        crate::settle::subsidy_outcome(n, total[l], privacy_cost[l], paid_total[l], game)
    })
}

/// Each lane's Σ over its users in user order, from −0.0 (as `Iterator::sum`); under AVX2 or
/// AVX-512 with intrinsics ([`x86::sum_quads`], the same additions).
#[inline(always)]
fn sum_users<const L: usize>(isa: Isa, column: &[[f64; L]]) -> [f64; L] {
    #[cfg(target_arch = "x86_64")]
    if isa != Isa::Baseline && L.is_multiple_of(4) {
        // SAFETY: as in `settle_users`.
        return unsafe { x86::sum_quads(column) };
    }
    let _ = isa;
    let mut total = [-0.0f64; L];
    for x in column {
        for l in 0..L {
            total[l] += x[l];
        }
    }
    total
}

/// C's users in each lane: `subsidy_share` and `subsidy_payoff` (the select as a bit mask) into
/// `payoff`, and the lanes' Σ borne and Σ paid in user order from +0.0. Under AVX2 or AVX-512
/// with intrinsics ([`x86::subsidy_quads`], the same operations): LLVM left the generic loop
/// scalar.
#[inline(always)]
fn subsidy_users<const L: usize>(
    isa: Isa,
    (realized, contribution): (&[[f64; L]], &[[f64; L]]),
    success: &[u64; L],
    terms: &Terms,
    payoff: &mut [[f64; L]],
) -> ([f64; L], [f64; L]) {
    #[cfg(target_arch = "x86_64")]
    if isa != Isa::Baseline && L.is_multiple_of(4) {
        // SAFETY: as in `settle_users`.
        return unsafe { x86::subsidy_quads((realized, contribution), success, terms, payoff) };
    }
    let _ = isa;
    let (mut privacy_cost, mut paid_total) = ([0.0f64; L], [0.0f64; L]);
    for ((x, cw), u) in contribution.iter().zip(realized).zip(payoff.iter_mut()) {
        for l in 0..L {
            let paid = terms.payment * x[l];
            let borne = kappa(cw[l], x[l]);
            privacy_cost[l] += borne;
            paid_total[l] += paid;
            u[l] = select(success[l], terms.value, 0.0) + paid - borne;
        }
    }
    (privacy_cost, paid_total)
}

/// [`crate::settle::settle_withdrawal_at`] of each lane, bit for bit; `decision[i][l]` is user
/// i's decision in lane l as its discriminant (`Decision as u64`).
#[inline(always)]
pub(crate) fn settle<const L: usize>(
    isa: Isa,
    realized: &[[f64; L]],
    burden: &[[f64; L]],
    decision: &[[u64; L]],
    (end, backstoppers): ([ProtocolEnd; L], [u32; L]),
    game: &Game,
    payoff: &mut [[f64; L]],
) -> [Outcome; L] {
    let n = burden.len();
    let v = game.value;
    let (mut cancelled, mut trained, mut success) = ([false; L], [false; L], [false; L]);
    for l in 0..L {
        match end[l] {
            ProtocolEnd::Cancelled => cancelled[l] = true,
            ProtocolEnd::Aborted => {}
            ProtocolEnd::Trained { committed } => {
                trained[l] = true;
                success[l] = committed >= game.need() - game.tolerance();
            }
        }
    }
    let flags = Flags {
        cancelled: cancelled.map(mask),
        trained: trained.map(mask),
        success: success.map(mask),
    };
    let terms = Terms {
        value: v,
        payment: game.payment,
        irreversible: game.irreversible,
    };
    let t = settle_users(isa, (realized, burden, decision), &flags, &terms, payoff);
    std::array::from_fn(|l| {
        if cancelled[l] {
            return Outcome::null(backstoppers[l]);
        }
        let status = match (trained[l], success[l]) {
            (false, _) => Status::Null,
            (true, true) => Status::Success,
            (true, false) => Status::Failure,
        };
        Outcome {
            status,
            welfare: if success[l] { n as f64 * v } else { 0.0 } - t.privacy_cost[l],
            privacy_cost: t.privacy_cost[l],
            subsidy: t.paid[l],
            leakage: if success[l] { 0.0 } else { t.paid[l] },
            data: if success[l] { t.kept[l] } else { 0.0 },
            withdrawals: t.withdrawals[l] as u32,
            backstoppers: backstoppers[l],
        }
    })
}

/// A group's users in lanes (`[i][l]`: user i of lane l): realized costs, burdens and decisions
/// as their discriminants.
type Users<'a, const L: usize> = (&'a [[f64; L]], &'a [[f64; L]], &'a [[u64; L]]);

/// Each lane's end, as masks (all ones where it holds).
struct Flags<const L: usize> {
    cancelled: [u64; L],
    trained: [u64; L],
    success: [u64; L],
}

/// The game's terms the settlement reads: V, p and ρ.
struct Terms {
    value: f64,
    payment: f64,
    irreversible: f64,
}

/// Each lane's totals over its users, each summed in user order from +0.0 as the scalar
/// settlement sums them.
struct Totals<const L: usize> {
    privacy_cost: [f64; L],
    paid: [f64; L],
    kept: [f64; L],
    withdrawals: [u64; L],
}

/// Every user's share and payoff (`payoff[i][l]`) in each lane, and the lanes' totals:
/// `withdrawal_share` and `trained_burden` with their selects as bit masks (the same products
/// and sums; see the tests against the scalar settlement). Under AVX2 or AVX-512, four lanes
/// at a time with intrinsics ([`x86::settle_quads`], the same operations): LLVM left the
/// generic loop scalar.
#[inline(always)]
fn settle_users<const L: usize>(
    isa: Isa,
    (realized, burden, decision): Users<'_, L>,
    flags: &Flags<L>,
    terms: &Terms,
    payoff: &mut [[f64; L]],
) -> Totals<L> {
    #[cfg(target_arch = "x86_64")]
    if isa != Isa::Baseline && L.is_multiple_of(4) {
        // SAFETY: an `Isa` other than the baseline reaches a kernel only through
        // [`super::run`], which checked that the CPU runs AVX2 (or AVX-512F, which implies it).
        return unsafe { x86::settle_quads((realized, burden, decision), flags, terms, payoff) };
    }
    let _ = isa;
    let (stay_d, undecided_d, withdraw_d) = (
        Decision::Stay as u64,
        Decision::Undecided as u64,
        Decision::Withdraw as u64,
    );
    let mut t = Totals {
        privacy_cost: [0.0; L],
        paid: [0.0; L],
        kept: [0.0; L],
        withdrawals: [0; L],
    };
    for ((d, x), (cw, u)) in decision
        .iter()
        .zip(burden)
        .zip(realized.iter().zip(payoff.iter_mut()))
    {
        for l in 0..L {
            let stay = mask(d[l] == stay_d);
            let decided = mask(d[l] != undecided_d);
            let full = stay & flags.success[l];
            let borne = kappa(cw[l], x[l]);
            let paid = select(full, terms.payment * x[l], 0.0);
            let borne = select(
                full,
                borne,
                select(decided, terms.irreversible * borne, 0.0),
            );
            t.withdrawals[l] = t.withdrawals[l].wrapping_sub(mask(d[l] == withdraw_d));
            t.kept[l] += select(stay & flags.trained[l], x[l], 0.0);
            t.privacy_cost[l] += borne;
            t.paid[l] += paid;
            let payoff_l = select(flags.success[l], terms.value, 0.0) + paid - borne;
            u[l] = select(flags.cancelled[l], 0.0, payoff_l);
        }
    }
    t
}

/// The AVX2 form of [`settle_users`].
#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::{
        __m256i, _mm256_add_pd, _mm256_and_pd, _mm256_andnot_pd, _mm256_castsi256_pd,
        _mm256_cmpeq_epi64, _mm256_loadu_pd, _mm256_loadu_si256, _mm256_movemask_pd, _mm256_mul_pd,
        _mm256_or_pd, _mm256_set1_epi64x, _mm256_set1_pd, _mm256_setzero_pd, _mm256_setzero_si256,
        _mm256_storeu_pd, _mm256_storeu_si256, _mm256_sub_epi64, _mm256_sub_pd,
    };

    use super::{Flags, Terms, Totals, Users};
    use crate::withdraw::Decision;

    /// [`super::settle_users`] four lanes per 256-bit register: every value the generic loop
    /// computes, by the same IEEE operations on the same operands in the same order (κ as
    /// (0.5·c)·x·x, each select an and/andnot/or of all-ones or zero masks, each total one
    /// add per user in user order). `L` is a multiple of 4.
    #[inline]
    #[target_feature(enable = "avx2")]
    pub(super) fn settle_quads<const L: usize>(
        (realized, burden, decision): Users<'_, L>,
        flags: &Flags<L>,
        terms: &Terms,
        payoff: &mut [[f64; L]],
    ) -> Totals<L> {
        let n = burden.len();
        assert!(
            L.is_multiple_of(4) && realized.len() == n && decision.len() == n && payoff.len() == n
        );
        let mut t = Totals {
            privacy_cost: [0.0; L],
            paid: [0.0; L],
            kept: [0.0; L],
            withdrawals: [0; L],
        };
        let code = |d: Decision| _mm256_set1_epi64x(d as i64);
        let (stay_d, undecided_d, withdraw_d) = (
            code(Decision::Stay),
            code(Decision::Undecided),
            code(Decision::Withdraw),
        );
        let (half, payment, irreversible, value) = (
            _mm256_set1_pd(0.5),
            _mm256_set1_pd(terms.payment),
            _mm256_set1_pd(terms.irreversible),
            _mm256_set1_pd(terms.value),
        );
        // SAFETY (every load and store below): rows i < n of `L` values, lanes q..q + 4 ≤ L.
        let lanes = |m: &[u64; L], q: usize| m.as_ptr().wrapping_add(q).cast::<__m256i>();
        for q in (0..L).step_by(4) {
            let (cancelled, trained, success) = unsafe {
                (
                    _mm256_castsi256_pd(_mm256_loadu_si256(lanes(&flags.cancelled, q))),
                    _mm256_castsi256_pd(_mm256_loadu_si256(lanes(&flags.trained, q))),
                    _mm256_castsi256_pd(_mm256_loadu_si256(lanes(&flags.success, q))),
                )
            };
            // select(success, V, 0.0), the same for every user.
            let value_if_success = _mm256_and_pd(success, value);
            let (mut privacy_cost, mut paid_total, mut kept) = (
                _mm256_setzero_pd(),
                _mm256_setzero_pd(),
                _mm256_setzero_pd(),
            );
            let mut withdrawals = _mm256_setzero_si256();
            for i in 0..n {
                let (d, x, cw) = unsafe {
                    (
                        _mm256_loadu_si256(decision[i].as_ptr().add(q).cast::<__m256i>()),
                        _mm256_loadu_pd(burden[i].as_ptr().add(q)),
                        _mm256_loadu_pd(realized[i].as_ptr().add(q)),
                    )
                };
                let stay = _mm256_castsi256_pd(_mm256_cmpeq_epi64(d, stay_d));
                let undecided = _mm256_castsi256_pd(_mm256_cmpeq_epi64(d, undecided_d));
                let full = _mm256_and_pd(stay, success);
                // κ(c^w, x) = 0.5 * c * x * x, left to right.
                let borne = _mm256_mul_pd(_mm256_mul_pd(_mm256_mul_pd(half, cw), x), x);
                let paid = _mm256_and_pd(full, _mm256_mul_pd(payment, x));
                // select(full, κ, select(decided, ρ·κ, 0.0))
                let partial = _mm256_andnot_pd(undecided, _mm256_mul_pd(irreversible, borne));
                let borne =
                    _mm256_or_pd(_mm256_and_pd(full, borne), _mm256_andnot_pd(full, partial));
                withdrawals = _mm256_sub_epi64(withdrawals, _mm256_cmpeq_epi64(d, withdraw_d));
                // select(stay & trained, x, 0.0), with `trained` (the same for every user)
                // applied to the sum below: an untrained lane's sum of +0.0 terms is +0.0.
                kept = _mm256_add_pd(kept, _mm256_and_pd(stay, x));
                privacy_cost = _mm256_add_pd(privacy_cost, borne);
                paid_total = _mm256_add_pd(paid_total, paid);
                let u = _mm256_sub_pd(_mm256_add_pd(value_if_success, paid), borne);
                unsafe { _mm256_storeu_pd(payoff[i].as_mut_ptr().add(q), u) };
            }
            // select(cancelled, 0.0, u) of every user, where a lane was cancelled (rare: kept
            // out of the loop, whose registers are all in use).
            if _mm256_movemask_pd(cancelled) != 0 {
                for row in payoff.iter_mut() {
                    unsafe {
                        let u = _mm256_loadu_pd(row.as_ptr().add(q));
                        _mm256_storeu_pd(row.as_mut_ptr().add(q), _mm256_andnot_pd(cancelled, u));
                    }
                }
            }
            let kept = _mm256_and_pd(trained, kept);
            unsafe {
                _mm256_storeu_pd(t.privacy_cost.as_mut_ptr().add(q), privacy_cost);
                _mm256_storeu_pd(t.paid.as_mut_ptr().add(q), paid_total);
                _mm256_storeu_pd(t.kept.as_mut_ptr().add(q), kept);
                _mm256_storeu_si256(
                    t.withdrawals.as_mut_ptr().add(q).cast::<__m256i>(),
                    withdrawals,
                );
            }
        }
        t
    }

    /// [`super::sum_users`] four lanes per 256-bit register (one `vaddpd` per user, in user
    /// order, from −0.0). `L` is a multiple of 4.
    #[inline]
    #[target_feature(enable = "avx2")]
    pub(super) fn sum_quads<const L: usize>(column: &[[f64; L]]) -> [f64; L] {
        assert!(L.is_multiple_of(4));
        let mut total = [-0.0f64; L];
        for q in (0..L).step_by(4) {
            let mut t = _mm256_set1_pd(-0.0);
            for row in column {
                // SAFETY: lanes q..q + 4 ≤ L of the row.
                t = _mm256_add_pd(t, unsafe { _mm256_loadu_pd(row.as_ptr().add(q)) });
            }
            // SAFETY: as above.
            unsafe { _mm256_storeu_pd(total.as_mut_ptr().add(q), t) };
        }
        total
    }

    /// [`super::subsidy_users`] four lanes per 256-bit register: p·x, κ as (0.5·c)·x·x, the
    /// totals one add per user in user order, the payoff (select(success, V, 0.0) + p·x) − κ.
    /// `L` is a multiple of 4.
    #[inline]
    #[target_feature(enable = "avx2")]
    pub(super) fn subsidy_quads<const L: usize>(
        (realized, contribution): (&[[f64; L]], &[[f64; L]]),
        success: &[u64; L],
        terms: &Terms,
        payoff: &mut [[f64; L]],
    ) -> ([f64; L], [f64; L]) {
        let n = contribution.len();
        assert!(L.is_multiple_of(4) && realized.len() == n && payoff.len() == n);
        let (mut privacy_cost, mut paid_total) = ([0.0f64; L], [0.0f64; L]);
        let (half, payment, value) = (
            _mm256_set1_pd(0.5),
            _mm256_set1_pd(terms.payment),
            _mm256_set1_pd(terms.value),
        );
        for q in (0..L).step_by(4) {
            // SAFETY (every load and store below): rows i < n of `L` values, lanes
            // q..q + 4 ≤ L.
            let success = unsafe {
                _mm256_castsi256_pd(_mm256_loadu_si256(
                    success.as_ptr().add(q).cast::<__m256i>(),
                ))
            };
            let value_if_success = _mm256_and_pd(success, value);
            let (mut borne_total, mut paid) = (_mm256_setzero_pd(), _mm256_setzero_pd());
            for i in 0..n {
                let (x, cw) = unsafe {
                    (
                        _mm256_loadu_pd(contribution[i].as_ptr().add(q)),
                        _mm256_loadu_pd(realized[i].as_ptr().add(q)),
                    )
                };
                let p = _mm256_mul_pd(payment, x);
                let borne = _mm256_mul_pd(_mm256_mul_pd(_mm256_mul_pd(half, cw), x), x);
                borne_total = _mm256_add_pd(borne_total, borne);
                paid = _mm256_add_pd(paid, p);
                let u = _mm256_sub_pd(_mm256_add_pd(value_if_success, p), borne);
                unsafe { _mm256_storeu_pd(payoff[i].as_mut_ptr().add(q), u) };
            }
            unsafe {
                _mm256_storeu_pd(privacy_cost.as_mut_ptr().add(q), borne_total);
                _mm256_storeu_pd(paid_total.as_mut_ptr().add(q), paid);
            }
        }
        (privacy_cost, paid_total)
    }
}
