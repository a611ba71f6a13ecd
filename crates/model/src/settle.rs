//! The train-and-settle phase: who is paid, who bears what, and the campaign's outcome.
//!
//! Leakage is computed from the payments actually made, never assumed to be zero; the runner
//! checks it on every campaign of S and M.

use crate::cost::kappa;
use crate::events::{Event, EventKind, EventSink};
use crate::params::Game;
use crate::withdraw::{Decision, ProtocolEnd};

/// The outcome class of a campaign.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Status {
    /// The model improved.
    Success,
    /// Data fell short of Q at training (S, or C): nothing improved.
    Failure,
    /// The provider cancelled (unsustainable) or stopped a re-assignment: nothing collected, nothing paid.
    Null,
}

impl Status {
    /// The status's name in the outputs (`status` column of `rounds`).
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Success => "success",
            Status::Failure => "failure",
            Status::Null => "null",
        }
    }
}

/// The measured outcome of one campaign.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Outcome {
    /// Success, failure or null.
    pub status: Status,
    /// W = n·V·1{success} − Σ privacy cost borne.
    pub welfare: f64,
    /// Σ privacy cost actually borne (drifted costs c^w).
    pub privacy_cost: f64,
    /// Σ payments made.
    pub subsidy: f64,
    /// Payments made without improvement.
    pub leakage: f64,
    /// Data kept for training (C: data delivered).
    pub data: f64,
    /// Users who withdrew.
    pub withdrawals: u32,
    /// k: users assigned below their cap (C: 0).
    pub backstoppers: u32,
}

impl Outcome {
    /// Nothing collected, paid or borne: a cancelled campaign.
    pub fn null(backstoppers: u32) -> Outcome {
        Outcome {
            status: Status::Null,
            welfare: 0.0,
            privacy_cost: 0.0,
            subsidy: 0.0,
            leakage: 0.0,
            data: 0.0,
            withdrawals: 0,
            backstoppers,
        }
    }

    /// Whether the model improved (data kept ≥ Q − τ).
    #[inline]
    pub fn success(&self) -> bool {
        self.status == Status::Success
    }
}

/// What one user is paid and the privacy cost she bears at settlement (`paid_i`, `borne_i` of
/// `docs/model.md`, sections 3 and 6).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Share {
    /// Payment received.
    pub paid: f64,
    /// Privacy cost borne.
    pub borne: f64,
}

/// A reporting mechanism's user (S, M, `async`): section 6's table. `x` is her burden at her last
/// decision, `cw` the cost she bears it at, `success` whether the model improved. A stayer of a
/// success is paid p·x and bears κ(c^w, x); anyone else who decided bears ρ·κ(c^w, x) unpaid;
/// an undecided user (cancelled campaign, or not yet asked) neither.
#[inline]
pub fn withdrawal_share(decision: Decision, success: bool, x: f64, cw: f64, game: &Game) -> Share {
    // Selects, not branches: who stays is a coin flip per user, and mispredicted branches cost
    // more than computing κ for everyone.
    let full = decision == Decision::Stay && success;
    let decided = decision != Decision::Undecided;
    let borne = kappa(cw, x);
    Share {
        paid: if full { game.payment * x } else { 0.0 },
        borne: if full {
            borne
        } else if decided {
            game.irreversible * borne
        } else {
            0.0
        },
    }
}

/// C's user: paid p·x on delivery and bears κ(c^w, x), whatever the outcome.
#[inline]
pub fn subsidy_share(x: f64, cw: f64, game: &Game) -> Share {
    Share {
        paid: game.payment * x,
        borne: kappa(cw, x),
    }
}

/// The data a reporting mechanism's user contributes at training: her burden at her last
/// decision `x` if she stayed and training ran (`trained`: success or failure), else 0.
#[inline]
pub fn trained_burden(decision: Decision, trained: bool, x: f64) -> f64 {
    if decision == Decision::Stay && trained {
        x
    } else {
        0.0
    }
}

/// What the settlement decided for one user (the `users` table's `final_burden`, `payment`
/// and `privacy_cost`): the data of hers training kept, her payment and the privacy cost she
/// bears. `NaN` fields: not recorded (a mechanism that settles its campaigns itself and records
/// nothing; the table shows nulls).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Settled {
    /// Data she contributes at training (0 if she withdrew or nothing was trained).
    pub kept: f64,
    /// paid_i.
    pub paid: f64,
    /// borne_i.
    pub borne: f64,
}

impl Settled {
    /// Not recorded.
    pub const UNKNOWN: Settled = Settled {
        kept: f64::NAN,
        paid: f64::NAN,
        borne: f64::NAN,
    };

    /// A reporting user under the paper's terms (what [`settle_withdrawal_at`] computes for
    /// her): `trained` is whether training ran (success or failure).
    #[inline]
    pub fn withdrawal(
        decision: Decision,
        success: bool,
        trained: bool,
        x: f64,
        cw: f64,
        game: &Game,
    ) -> Settled {
        let Share { paid, borne } = withdrawal_share(decision, success, x, cw, game);
        Settled {
            kept: trained_burden(decision, trained, x),
            paid,
            borne,
        }
    }

    /// Every user of a campaign settled as `outcome` under the paper's terms ([`Settled::withdrawal`]
    /// per user), into `record`.
    pub fn withdrawals(
        outcome: &Outcome,
        decision: &[Decision],
        burden: &[f64],
        realized: &[f64],
        game: &Game,
        record: &mut [Settled],
    ) {
        let (success, trained) = (outcome.success(), outcome.status != Status::Null);
        for (i, r) in record.iter_mut().enumerate() {
            *r = Settled::withdrawal(decision[i], success, trained, burden[i], realized[i], game);
        }
    }

    /// C's user: her contribution is delivered, paid and borne whatever happens.
    #[inline]
    pub fn subsidy(x: f64, cw: f64, game: &Game) -> Settled {
        let Share { paid, borne } = subsidy_share(x, cw, game);
        Settled {
            kept: x,
            paid,
            borne,
        }
    }
}

/// What the shared settlement tells a mechanism's [`Terms`] about one user of a trained
/// campaign.
#[derive(Clone, Copy, Debug)]
pub struct Settling<'a> {
    /// Her index in the campaign.
    pub user: usize,
    /// x_i, her burden at her last decision.
    pub burden: f64,
    /// Whether she stayed.
    pub stayed: bool,
    /// The data the protocol committed to training (Σ of the stayers' burdens).
    pub committed: f64,
    /// The cell's game.
    pub game: &'a Game,
}

/// A mechanism's per-user terms in the shared settlement (`Stage::Settle`): which data of a
/// stayer's is kept, what the improvement is worth to each user, what a stayer is paid. The
/// defaults are `docs/model.md` section 6: all of x_i, V, p·kept. They are asked on success
/// only; on failure or a stopped campaign nothing is paid and decided users bear ρ·κ(c^w, x).
pub trait Terms: Send + Sync + std::fmt::Debug + 'static {
    /// The data of a stayer that training keeps (default: all of it, x_i).
    fn kept(&self, user: &Settling) -> f64 {
        user.burden
    }
    /// The value of the improvement to the user (default V; asked of every user, stayer or
    /// not, on success).
    fn value(&self, user: &Settling) -> f64 {
        user.game.value
    }
    /// What a stayer is paid for the data `kept` (default p·kept).
    fn payment(&self, user: &Settling, kept: f64) -> f64 {
        user.game.payment * kept
    }
}

/// What a withdrawal protocol's end leaves to settle: the data committed at training (`None`
/// if it aborted), or, for a cancelled campaign, `Err` with its null outcome, the payoffs zeroed
/// and its event emitted.
fn committed_at_end<S: EventSink>(
    end: ProtocolEnd,
    backstoppers: u32,
    payoff: &mut [f64],
    sink: &mut S,
) -> Result<Option<f64>, Outcome> {
    match end {
        ProtocolEnd::Cancelled => {
            payoff.iter_mut().for_each(|u| *u = 0.0);
            if S::ENABLED {
                sink.emit(Event::campaign(1, EventKind::Null, None));
            }
            Err(Outcome::null(backstoppers))
        }
        ProtocolEnd::Aborted => Ok(None),
        ProtocolEnd::Trained { committed } => Ok(Some(committed)),
    }
}

/// A settled campaign's status, with its training event at `train_time` if it trained.
fn trained_status<S: EventSink>(
    committed: Option<f64>,
    success: bool,
    train_time: f64,
    sink: &mut S,
) -> Status {
    let Some(data) = committed else {
        return Status::Null;
    };
    if S::ENABLED {
        let kind = if success {
            EventKind::TrainSuccess
        } else {
            EventKind::TrainFailure
        };
        sink.emit(Event::campaign(train_time, kind, Some(data)));
    }
    if success {
        Status::Success
    } else {
        Status::Failure
    }
}

/// [`settle_withdrawal_at`] with a mechanism's [`Terms`]: a stayer of a success bears
/// κ(c^w, kept) for the data kept, is paid `payment`, and every user enjoys `value`;
/// W = Σ value − Σ borne. `record` receives each user's [`Settled`] (pass an empty slice to
/// skip).
#[allow(clippy::too_many_arguments)]
pub fn settle_withdrawal_with<S: EventSink, T: Terms + ?Sized>(
    end: ProtocolEnd,
    train_time: f64,
    realized: &[f64],
    burden: &[f64],
    decision: &[Decision],
    game: &Game,
    backstoppers: u32,
    terms: &T,
    payoff: &mut [f64],
    record: &mut [Settled],
    sink: &mut S,
) -> Outcome {
    let n = burden.len();
    let committed = match committed_at_end(end, backstoppers, payoff, sink) {
        Ok(committed) => committed,
        Err(null) => {
            record.iter_mut().for_each(|r| {
                *r = Settled {
                    kept: 0.0,
                    paid: 0.0,
                    borne: 0.0,
                }
            });
            return null;
        }
    };
    let success = committed.is_some_and(|c| c >= game.need() - game.tolerance());
    let (mut privacy_cost, mut paid_total, mut value_total, mut kept_total) = (0.0, 0.0, 0.0, 0.0);
    let mut withdrawals = 0;
    for i in 0..n {
        let (d, x, cw) = (decision[i], burden[i], realized[i]);
        withdrawals += (d == Decision::Withdraw) as u32;
        let user = Settling {
            user: i,
            burden: x,
            stayed: d == Decision::Stay,
            committed: committed.unwrap_or(0.0),
            game,
        };
        let (settled, value) = if success {
            let value = terms.value(&user);
            let settled = if user.stayed {
                let kept = terms.kept(&user);
                Settled {
                    kept,
                    paid: terms.payment(&user, kept),
                    borne: kappa(cw, kept),
                }
            } else {
                Settled::withdrawal(d, true, true, x, cw, game)
            };
            (settled, value)
        } else {
            (
                Settled::withdrawal(d, false, committed.is_some(), x, cw, game),
                0.0,
            )
        };
        privacy_cost += settled.borne;
        paid_total += settled.paid;
        value_total += value;
        kept_total += settled.kept;
        payoff[i] = value + settled.paid - settled.borne;
        if let Some(r) = record.get_mut(i) {
            *r = settled;
        }
    }
    let status = trained_status(committed, success, train_time, sink);
    Outcome {
        status,
        welfare: value_total - privacy_cost,
        privacy_cost,
        subsidy: paid_total,
        leakage: if success { 0.0 } else { paid_total },
        data: if success { kept_total } else { 0.0 },
        withdrawals,
        backstoppers,
    }
}

/// Settles S or M. `burden` holds each user's burden at her last decision.
/// On success: stayers are paid p·x and bear κ(c^w, x); withdrawers bear ρ·κ(c^w, x) and enjoy V.
/// On failure or a stopped re-assignment: nothing is paid; every user who decided with a positive
/// burden bears ρ·κ of it. On cancellation: nothing at all. `payoff` receives each u_i.
#[allow(clippy::too_many_arguments)]
pub fn settle_withdrawal<S: EventSink>(
    end: ProtocolEnd,
    realized: &[f64],
    burden: &[f64],
    decision: &[Decision],
    game: &Game,
    backstoppers: u32,
    payoff: &mut [f64],
    sink: &mut S,
) -> Outcome {
    let train_time = train_step(burden.len(), game);
    settle_withdrawal_at(
        end,
        train_time,
        realized,
        burden,
        decision,
        game,
        backstoppers,
        payoff,
        sink,
    )
}

/// The logical step at which round-based protocols (S, M) train: after every decision step.
pub fn train_step(users: usize, game: &Game) -> f64 {
    f64::from(3 + users as u32 + game.recovery_rounds * 2)
}

/// [`settle_withdrawal`] with the training event at model time `train_time` (an event-driven
/// protocol trains at its deadline).
#[allow(clippy::too_many_arguments)]
pub fn settle_withdrawal_at<S: EventSink>(
    end: ProtocolEnd,
    train_time: f64,
    realized: &[f64],
    burden: &[f64],
    decision: &[Decision],
    game: &Game,
    backstoppers: u32,
    payoff: &mut [f64],
    sink: &mut S,
) -> Outcome {
    let n = burden.len();
    let v = game.value;
    let committed = match committed_at_end(end, backstoppers, payoff, sink) {
        Ok(committed) => committed,
        Err(null) => return null,
    };
    let success = committed.is_some_and(|c| c >= game.need() - game.tolerance());
    let mut privacy_cost = 0.0;
    let mut paid_total = 0.0;
    let mut withdrawals = 0;
    // The data kept, summed in user order like the other totals: the protocol's `committed` is
    // summed in its decision order (M's differs from S's), and equal data must compare equal
    // across mechanisms (the `contrasts` table's `data_a_better`).
    let mut kept = 0.0;
    for i in 0..n {
        let Share { paid, borne } =
            withdrawal_share(decision[i], success, burden[i], realized[i], game);
        withdrawals += (decision[i] == Decision::Withdraw) as u32;
        // Adding +0.0 for the others leaves the sum's bits (burdens are ≥ 0).
        kept += trained_burden(decision[i], committed.is_some(), burden[i]);
        privacy_cost += borne;
        paid_total += paid;
        payoff[i] = if success { v } else { 0.0 } + paid - borne;
    }
    let status = trained_status(committed, success, train_time, sink);
    Outcome {
        status,
        welfare: if success { n as f64 * v } else { 0.0 } - privacy_cost,
        privacy_cost,
        subsidy: paid_total,
        leakage: if success { 0.0 } else { paid_total },
        data: if success { kept } else { 0.0 },
        withdrawals,
        backstoppers,
    }
}

/// Settles C: success iff Σ x ≥ Q; p·x is paid and κ(c^w, x) borne whatever happens.
pub fn settle_subsidy<S: EventSink>(
    realized: &[f64],
    contribution: &[f64],
    game: &Game,
    payoff: &mut [f64],
    sink: &mut S,
) -> Outcome {
    let n = contribution.len();
    let total: f64 = contribution.iter().sum();
    let success = subsidy_success(total, game);
    let mut privacy_cost = 0.0;
    let mut paid_total = 0.0;
    for i in 0..n {
        let Share { paid, borne } = subsidy_share(contribution[i], realized[i], game);
        privacy_cost += borne;
        paid_total += paid;
        payoff[i] = subsidy_payoff(success, borne, paid, game);
    }
    if S::ENABLED {
        let kind = if success {
            EventKind::TrainSuccess
        } else {
            EventKind::TrainFailure
        };
        sink.emit(Event::campaign(2, kind, Some(total)));
    }
    subsidy_outcome(n, total, privacy_cost, paid_total, game)
}

/// Whether C's campaign succeeds: Σ x ≥ Q − τ.
#[inline]
pub fn subsidy_success(total: f64, game: &Game) -> bool {
    total >= game.need() - game.tolerance()
}

/// One C user's utility u_i = V·1{success} + p·x − κ(c^w, x).
#[inline]
pub fn subsidy_payoff(success: bool, borne: f64, paid: f64, game: &Game) -> f64 {
    (if success { game.value } else { 0.0 }) + paid - borne
}

/// C's outcome from its totals over the n users (Σ x, Σ κ borne, Σ paid, each summed in user
/// order).
pub fn subsidy_outcome(
    n: usize,
    total: f64,
    privacy_cost: f64,
    paid_total: f64,
    game: &Game,
) -> Outcome {
    let success = subsidy_success(total, game);
    Outcome {
        status: if success {
            Status::Success
        } else {
            Status::Failure
        },
        welfare: if success { n as f64 * game.value } else { 0.0 } - privacy_cost,
        privacy_cost,
        subsidy: paid_total,
        leakage: if success { 0.0 } else { paid_total },
        data: total,
        withdrawals: 0,
        backstoppers: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Section 6's table, written out: the select-based share gives each row's value.
    #[test]
    fn withdrawal_share_is_the_table_of_section_6() {
        let game = Game {
            payment: 0.2,
            irreversible: 0.3,
            ..Game::default()
        };
        let (x, cw) = (0.7, 1.3);
        let borne = kappa(cw, x);
        let rows = [
            (Decision::Stay, true, 0.2 * x, borne),
            (Decision::Stay, false, 0.0, 0.3 * borne),
            (Decision::Withdraw, true, 0.0, 0.3 * borne),
            (Decision::Withdraw, false, 0.0, 0.3 * borne),
            (Decision::Undecided, true, 0.0, 0.0),
            (Decision::Undecided, false, 0.0, 0.0),
        ];
        for (decision, success, paid, expected_borne) in rows {
            let share = withdrawal_share(decision, success, x, cw, &game);
            assert_eq!(
                share,
                Share {
                    paid,
                    borne: expected_borne
                },
                "{decision:?}, success = {success}"
            );
        }
    }
}
