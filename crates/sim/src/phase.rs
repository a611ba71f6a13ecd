//! The phases of a round ([`Phase`]): the system sets the engine's schedule runs in time
//! order, and the plugins register their systems into.

use bevy_ecs::schedule::SystemSet;

/// The phases of a round, in time order. The shared systems of a phase run first (in
/// [`crate::plugin::Shared`]), then each plugin's, in registration order (in its [`crate::plugin::Slot`]).
#[derive(SystemSet, Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Phase {
    /// Nature draws costs and shocks (and gives each user her drifted cost at training time).
    Draw,
    /// Users report; the provider observes.
    Report,
    /// The provider assigns burdens (C: users choose contributions).
    Assign,
    /// Users decide whether to stay, by the mechanism's protocol (on the costs drifted in the
    /// draw).
    Withdraw,
    /// Training and settlement.
    Train,
    /// Users learn from the round (repeated games).
    Learn,
}

impl Phase {
    /// Every phase, in time order.
    pub const ALL: [Phase; 6] = [
        Phase::Draw,
        Phase::Report,
        Phase::Assign,
        Phase::Withdraw,
        Phase::Train,
        Phase::Learn,
    ];
}
