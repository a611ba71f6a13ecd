//! [`crate::settle::settle_withdrawal_at`] on `L` campaigns at once (the paper's terms, without
//! events): every user's share and payoff, and the campaign's totals, lane by lane bit for bit.

use super::{Isa, LaneScratch, gather, lanes_of, pick, scatter};
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
            scratch.decision.resize(n * L, Decision::Undecided);
            let decisions = scratch.decision.as_chunks_mut::<L>().0;
            for (i, user) in decisions.iter_mut().enumerate() {
                for l in 0..L {
                    user[l] = decision[starts[l] + i];
                }
            }
            let ends: [ProtocolEnd; L] = std::array::from_fn(|l| campaign(l).end);
            let backstoppers: [u32; L] = std::array::from_fn(|l| campaign(l).backstoppers);
            let payoff_l = scratch.c.as_chunks_mut::<L>().0;
            let o = settle(
                scratch.a.as_chunks::<L>().0,
                scratch.b.as_chunks::<L>().0,
                scratch.decision.as_chunks::<L>().0,
                (ends, backstoppers),
                game,
                payoff_l,
            );
            scatter(isa, payoff_l, &starts, group.len(), payoff);
            out.extend_from_slice(&o[..group.len()]);
        }
    })
}

/// [`crate::settle::settle_withdrawal_at`] of each lane, bit for bit.
#[inline(always)]
pub(crate) fn settle<const L: usize>(
    realized: &[[f64; L]],
    burden: &[[f64; L]],
    decision: &[[Decision; L]],
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
    let (mut privacy_cost, mut paid_total, mut kept) = ([0.0f64; L], [0.0f64; L], [0.0f64; L]);
    let mut withdrawals = [0u32; L];
    for i in 0..n {
        for l in 0..L {
            // `withdrawal_share` and `trained_burden` with their selects as bit masks (the
            // same products and sums; see the tests against the scalar settlement).
            let (d, x) = (decision[i][l], burden[i][l]);
            let (stay, decided) = (d == Decision::Stay, d != Decision::Undecided);
            let full = stay && success[l];
            let borne = kappa(realized[i][l], x);
            let paid = pick(full, game.payment * x, 0.0);
            let borne = pick(full, borne, pick(decided, game.irreversible * borne, 0.0));
            withdrawals[l] += (d == Decision::Withdraw) as u32;
            kept[l] += pick(stay && trained[l], x, 0.0);
            privacy_cost[l] += borne;
            paid_total[l] += paid;
            let u = pick(success[l], v, 0.0) + paid - borne;
            payoff[i][l] = pick(cancelled[l], 0.0, u);
        }
    }
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
            welfare: if success[l] { n as f64 * v } else { 0.0 } - privacy_cost[l],
            privacy_cost: privacy_cost[l],
            subsidy: paid_total[l],
            leakage: if success[l] { 0.0 } else { paid_total[l] },
            data: if success[l] { kept[l] } else { 0.0 },
            withdrawals: withdrawals[l],
            backstoppers: backstoppers[l],
        }
    })
}
