//! The invariants every campaign must keep, checked as its outcome is folded.

use datapact_model::{Outcome, Status};

/// A campaign broke an invariant the model promises (never expected; checked on every campaign).
#[derive(Clone, Debug, PartialEq)]
pub struct InvariantViolation {
    /// The cell's index in the grid.
    pub cell: usize,
    /// The replication.
    pub rep: u32,
    /// The mechanism's name.
    pub mechanism: &'static str,
    /// Which invariant broke, with the numbers.
    pub what: String,
}

impl std::fmt::Display for InvariantViolation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "cell {} replication {} mechanism {}: {}",
            self.cell, self.rep, self.mechanism, self.what
        )
    }
}

impl std::error::Error for InvariantViolation {}

/// Checks what must hold on every campaign: nothing is NaN; a mechanism that pays only on
/// success (S, M) never pays without improvement; a null outcome collects and pays nothing.
/// [`holds`] tests the same conditions without a branch per condition; only a campaign it
/// rejects is examined by [`violation`], which names what broke.
#[inline]
pub(super) fn check(
    cell: usize,
    rep: u32,
    mechanism: &datapact_model::MechanismDecl,
    o: &Outcome,
) -> Result<(), InvariantViolation> {
    if holds(mechanism.pays_only_on_success, o) {
        Ok(())
    } else {
        violation(cell, rep, mechanism, o)
    }
}

/// Whether `o` keeps every invariant [`violation`] checks, each condition evaluated in full
/// (no early exit): the five amounts are finite exactly when the sum of each minus itself is 0
/// (x − x is +0 for a finite x, NaN for an infinite or NaN one, and NaN stays NaN in a sum).
#[inline(always)]
#[allow(clippy::eq_op, reason = "x − x is the test of finiteness")]
fn holds(pays_only_on_success: bool, o: &Outcome) -> bool {
    let finite = (o.welfare - o.welfare)
        + (o.privacy_cost - o.privacy_cost)
        + (o.subsidy - o.subsidy)
        + (o.leakage - o.leakage)
        + (o.data - o.data)
        == 0.0;
    let success = o.status == Status::Success;
    let null = o.status == Status::Null;
    let pays_without_improvement =
        pays_only_on_success & ((o.leakage != 0.0) | (!success & (o.subsidy != 0.0)));
    let null_collects = null & ((o.data != 0.0) | (o.subsidy != 0.0));
    finite & !pays_without_improvement & !null_collects
}

/// The invariant `o` breaks, named with its numbers (`Ok` if it breaks none).
#[cold]
#[inline(never)]
fn violation(
    cell: usize,
    rep: u32,
    mechanism: &datapact_model::MechanismDecl,
    o: &Outcome,
) -> Result<(), InvariantViolation> {
    let fail = |what: String| {
        Err(InvariantViolation {
            cell,
            rep,
            mechanism: mechanism.name,
            what,
        })
    };
    let values = [o.welfare, o.privacy_cost, o.subsidy, o.leakage, o.data];
    if values.iter().any(|v| !v.is_finite()) {
        return fail(format!("non-finite outcome {o:?}"));
    }
    if mechanism.pays_only_on_success
        && (o.leakage != 0.0 || (o.status != Status::Success && o.subsidy != 0.0))
    {
        return fail(format!(
            "paid {} without improvement (status {})",
            o.subsidy,
            o.status.as_str()
        ));
    }
    if o.status == Status::Null && (o.data != 0.0 || o.subsidy != 0.0) {
        return fail("null outcome collected data or paid".into());
    }
    Ok(())
}

/// Outcomes that break or keep the invariants, for this module's tests and the fold's.
#[cfg(test)]
pub(crate) mod testing {
    use datapact_model::{Outcome, Status};
    use proptest::prelude::*;

    /// Any amount: ordinary, ±0, not finite, or huge.
    pub(crate) fn any_amount() -> impl Strategy<Value = f64> {
        prop_oneof![
            2 => -5.0..5.0f64,
            2 => prop::sample::select(vec![0.0, -0.0]),
            1 => prop::sample::select(vec![f64::INFINITY, f64::NEG_INFINITY, f64::NAN, 1e308]),
        ]
    }

    /// A campaign's outcome: `status` 0 success, 1 failure, 2 null; `x` its welfare, privacy
    /// cost, subsidy, leakage and data; one withdrawal and two backstoppers.
    pub(crate) fn outcome(status: usize, x: [f64; 5]) -> Outcome {
        Outcome {
            status: [Status::Success, Status::Failure, Status::Null][status],
            welfare: x[0],
            privacy_cost: x[1],
            subsidy: x[2],
            leakage: x[3],
            data: x[4],
            withdrawals: 1,
            backstoppers: 2,
        }
    }
}

#[cfg(test)]
mod tests {
    use datapact_model::catalog::{SEQUENTIAL, SUBSIDY};
    use proptest::prelude::*;

    use super::testing::{any_amount, outcome};
    use super::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// The branch-free test passes exactly the campaigns the full check passes.
        #[test]
        fn holds_exactly_when_the_full_check_passes(
            status in 0usize..3,
            x in prop::array::uniform5(any_amount()),
            pays_only in any::<bool>(),
        ) {
            let o = outcome(status, x);
            let decl = if pays_only { SEQUENTIAL } else { SUBSIDY };
            prop_assert_eq!(decl.pays_only_on_success, pays_only);
            let full = violation(3, 4, &decl, &o);
            prop_assert_eq!(holds(pays_only, &o), full.is_ok());
            prop_assert_eq!(check(3, 4, &decl, &o), full);
        }
    }
}
