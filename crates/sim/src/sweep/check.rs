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
pub(super) fn check(
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
