//! Why a cell stops before its end: a campaign broke an invariant, or the run's cancel flag
//! was set (read between batches, rounds, phases and mechanisms by every backend).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use super::check::InvariantViolation;

/// Why a cell stopped before its end.
pub(crate) enum Halt {
    Invariant(InvariantViolation),
    Cancelled,
}

impl From<InvariantViolation> for Halt {
    fn from(v: InvariantViolation) -> Self {
        Halt::Invariant(v)
    }
}

/// `Err(Cancelled)` once `cancel` is set: checked between batches and rounds (and, inside the
/// ECS's rounds, between phases; in the direct kernel and the large path, between mechanisms),
/// so a huge cell stops within one phase of a signal.
pub(crate) fn check_cancel(cancel: Option<&Arc<AtomicBool>>) -> Result<(), Halt> {
    match cancel {
        Some(c) if c.load(Ordering::Relaxed) => Err(Halt::Cancelled),
        _ => Ok(()),
    }
}
