//! The types of the core mechanisms C, S and M, whose systems read them (`This<Subsidy>`, …):
//! declared apart from their registrations (`impl Mechanism`, in [`crate::core`]), which name
//! those systems, so that the phase systems and the core plugins import each other in no loop.

/// Mechanism C: a posted subsidy; users contribute their privately optimal amount.
pub struct Subsidy;

/// Mechanism S: assigned burdens, simultaneous withdrawal (with `[game] recovery_rounds`).
pub struct Simultaneous;

/// Mechanism M: assigned burdens, sequential withdrawal with re-assignment (`[game] order`).
pub struct Sequential;
