//! What a cell hands back: its per-round statistics and, by trace level, per-campaign records,
//! users and events.

use datapact_model::stats::{CellStats, Diagnostics, Welford};
use datapact_model::{Event, Game, Outcome};

use crate::users::UserRecord;

/// One cell to run: its index in the scenario's grid and its game.
#[derive(Clone, Debug)]
pub struct CellJob {
    /// The cell's index in the scenario's grid.
    pub index: usize,
    /// The cell's game.
    pub game: Game,
}

/// One campaign's record (trace ≥ rounds).
#[derive(Clone, Debug, PartialEq)]
pub struct RoundRecord {
    /// Replication index.
    pub rep: u32,
    /// Round of the repeated game (0 for single campaigns).
    pub round: u32,
    /// Catalog id of the mechanism.
    pub mechanism: u16,
    /// The campaign's measured outcome.
    pub outcome: Outcome,
    /// The registered metrics' values (`NaN`: not computed by this mechanism); empty when the
    /// app registers none.
    pub metrics: Box<[f64]>,
    /// Its cascade size (withdrawals through ties); `None` without a network.
    pub cascade: Option<u32>,
}

/// One event (trace = events); `seq` orders the campaign's events.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EventRecord {
    /// Replication index.
    pub rep: u32,
    /// Round of the repeated game (0 for single campaigns).
    pub round: u32,
    /// Catalog id of the mechanism.
    pub mechanism: u16,
    /// Emission index within the campaign.
    pub seq: u32,
    /// The event.
    pub event: Event,
    /// On the withdraw event of a user who withdrew through her ties, the neighbour whose
    /// withdrawal set it off; `None` otherwise.
    pub trigger: Option<u32>,
}

/// The statistics of one round of a cell, over its replications.
#[derive(Clone, Debug, PartialEq)]
pub struct RoundSummary {
    /// Round of the repeated game (0 for single campaigns).
    pub round: u32,
    /// Per mechanism (catalog id), in run order.
    pub stats: Vec<(u16, CellStats)>,
    /// Per mechanism, in run order: each registered metric's mean and SE over the replications
    /// that computed it.
    pub metrics: Vec<Vec<Welford>>,
    /// The S-vs-M and M-vs-C diagnostics of the round.
    pub diagnostics: Diagnostics,
    /// Per pair (i, j), i < j, of the run's mechanisms ([`crate::contrasts::pairs`] order): the
    /// CRN-paired differences of the outcome metrics.
    pub pairs: Vec<crate::contrasts::PairStats>,
    /// Per mechanism, in run order: the cascade size over the replications played on a
    /// network (empty Welford without a network).
    pub cascade: Vec<Welford>,
}

/// Everything a cell produced: per-round statistics, and per-campaign records and events sorted
/// by (round, replication, mechanism).
#[derive(Clone, Debug, PartialEq)]
pub struct CellOutput {
    /// The cell's index in the grid.
    pub cell: usize,
    /// Per round, in round order.
    pub summaries: Vec<RoundSummary>,
    /// Per campaign (trace ≥ rounds; empty otherwise).
    pub rounds: Vec<RoundRecord>,
    /// Every user of every campaign (trace ≥ users; empty otherwise), sorted by (round,
    /// replication, mechanism, user).
    pub users: Vec<UserRecord>,
    /// Every event (trace = events; empty otherwise).
    pub events: Vec<EventRecord>,
}

/// Appends a campaign's events. `triggers` (on a network): per user, the neighbour whose
/// withdrawal set off her withdrawal through ties (`Peers::NOBODY` for the others), named on
/// her withdraw event; an event that names its own trigger (`stay_again`) keeps it.
pub(crate) fn push_events(
    out: &mut Vec<EventRecord>,
    rep: u32,
    round: u32,
    mechanism: u16,
    events: &[Event],
    triggers: Option<&[u32]>,
) {
    out.extend(events.iter().enumerate().map(|(seq, e)| EventRecord {
        rep,
        round,
        mechanism,
        seq: seq as u32,
        event: *e,
        trigger: e.trigger.or_else(|| {
            let t = triggers?;
            let user = e.user? as usize;
            let by = *t.get(user)?;
            (e.kind == datapact_model::EventKind::Withdraw && by != datapact_model::Peers::NOBODY)
                .then_some(by)
        }),
    }));
}
