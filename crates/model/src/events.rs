//! Events of the discrete-event protocols. A campaign's events are totally ordered by
//! (time, seq): `time` is the campaign's model time (an `f64`), `seq` the emission index within
//! the campaign. Round-based protocols (C, S, M) write their logical step as the time (report 0,
//! assign 1, decisions from 2); event-driven ones (`async`, on a [`crate::calendar::Calendar`])
//! write continuous times. Decisions that are simultaneous (protocol S) share one `time` and are
//! emitted as one batch in user-index order, so their order is fixed by the data, never by a
//! queue.

/// What happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventKind {
    /// A user reports a cost (cost = reported ĉ).
    Report,
    /// Mechanism C: a user chooses her contribution (burden = x, cost = true c).
    Respond,
    /// The provider assigns a burden (burden = x, cost = observed c̃).
    Assign,
    /// The provider re-assigns a burden after a withdrawal or shortfall.
    Reassign,
    /// A user keeps her data for training (burden = committed x, cost = realised c^w).
    Stay,
    /// A user withdraws (burden = x at withdrawal, cost = realised c^w).
    Withdraw,
    /// The provider cancels: unsustainable or infeasible (campaign-level).
    Null,
    /// Training with enough data (campaign-level; burden = data kept).
    TrainSuccess,
    /// Training short of the threshold: nothing paid, data deleted (burden = data committed).
    TrainFailure,
    /// A user pledges data (burden = her pledge, cost = true c; a plugin's pledge stage).
    Pledge,
    /// A user bids a price per unit of data (burden = the data she offers, cost = her bid; a
    /// plugin's auction).
    Bid,
    /// On a network: a user who had stayed is asked again because a neighbour's withdrawal
    /// reached her (M's cascade step, `async`'s news), and stays (burden = x she keeps
    /// committed, cost = the cost she decides on; [`Event::trigger`] = that neighbour). Not a
    /// decision of the users table: her decision stays her `stay` answer.
    StayAgain,
}

impl EventKind {
    /// Every kind, in declaration order (what the `events` table's `kind` column can hold).
    pub const ALL: [EventKind; 12] = [
        EventKind::Report,
        EventKind::Respond,
        EventKind::Assign,
        EventKind::Reassign,
        EventKind::Stay,
        EventKind::Withdraw,
        EventKind::Null,
        EventKind::TrainSuccess,
        EventKind::TrainFailure,
        EventKind::Pledge,
        EventKind::Bid,
        EventKind::StayAgain,
    ];

    /// The position of `self` in [`EventKind::ALL`]; its exhaustive match makes a new kind a
    /// compile error until it is added to `ALL` (and hence to the documentation test).
    pub fn position(self) -> usize {
        match self {
            EventKind::Report => 0,
            EventKind::Respond => 1,
            EventKind::Assign => 2,
            EventKind::Reassign => 3,
            EventKind::Stay => 4,
            EventKind::Withdraw => 5,
            EventKind::Null => 6,
            EventKind::TrainSuccess => 7,
            EventKind::TrainFailure => 8,
            EventKind::Pledge => 9,
            EventKind::Bid => 10,
            EventKind::StayAgain => 11,
        }
    }

    /// The kind's name in the `events` table (`kind` column).
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Report => "report",
            EventKind::Respond => "respond",
            EventKind::Assign => "assign",
            EventKind::Reassign => "reassign",
            EventKind::Stay => "stay",
            EventKind::Withdraw => "withdraw",
            EventKind::Null => "null",
            EventKind::TrainSuccess => "train_success",
            EventKind::TrainFailure => "train_failure",
            EventKind::Pledge => "pledge",
            EventKind::Bid => "bid",
            EventKind::StayAgain => "stay_again",
        }
    }
}

/// One event of one campaign.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Event {
    /// Model time at which it happened (events order by (time, seq)); the logical step for
    /// round-based protocols.
    pub time: f64,
    /// What happened.
    pub kind: EventKind,
    /// The user concerned, by index; `None` for campaign-level events.
    pub user: Option<u32>,
    /// Data involved: a user's burden x, or the campaign's data (see [`EventKind`]).
    pub burden: Option<f64>,
    /// The cost the event refers to (reported, observed, true or realised: see [`EventKind`]);
    /// `None` for campaign-level events.
    pub cost: Option<f64>,
    /// On a network: the neighbour whose withdrawal, reaching the user, made her decide again
    /// ([`EventKind::StayAgain`]); `None` on every other event (a withdrawal through ties is
    /// named from [`crate::Peers::trigger`] when the events are written).
    pub trigger: Option<u32>,
}

impl Event {
    /// A user's event (`user` is her index).
    #[inline]
    pub fn user(
        time: impl Into<f64>,
        kind: EventKind,
        user: usize,
        burden: Option<f64>,
        cost: f64,
    ) -> Self {
        Event {
            time: time.into(),
            kind,
            user: Some(user as u32),
            burden,
            cost: Some(cost),
            trigger: None,
        }
    }

    /// This event naming `neighbour` as the one whose withdrawal made the user decide.
    #[inline]
    pub fn triggered_by(self, neighbour: usize) -> Self {
        Event {
            trigger: Some(neighbour as u32),
            ..self
        }
    }

    /// A campaign-level event; `data` goes to the `burden` field.
    #[inline]
    pub fn campaign(time: impl Into<f64>, kind: EventKind, data: Option<f64>) -> Self {
        Event {
            time: time.into(),
            kind,
            user: None,
            burden: data,
            cost: None,
            trigger: None,
        }
    }
}

/// Where protocols send their events. `ENABLED = false` lets the compiler remove all event code
/// from runs that do not trace events.
pub trait EventSink {
    /// Whether events are recorded; `false` compiles event code away.
    const ENABLED: bool;
    /// Whether M's re-assignments are recorded user by user; `false` lets the protocol leave the
    /// undecided users' burdens implied by the re-assignment level, as when nothing is recorded.
    const REASSIGNS: bool = Self::ENABLED;
    /// Records one event.
    fn emit(&mut self, event: Event);
}

/// Discards events at zero cost.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoEvents;

impl AsRef<[Event]> for NoEvents {
    fn as_ref(&self) -> &[Event] {
        &[]
    }
}

impl EventSink for NoEvents {
    const ENABLED: bool = false;
    #[inline]
    fn emit(&mut self, _: Event) {}
}

impl EventSink for Vec<Event> {
    const ENABLED: bool = true;
    #[inline]
    fn emit(&mut self, event: Event) {
        self.push(event);
    }
}

/// The events [`user_trails`] reads (assignments and decisions) and no others: what the users
/// trace plays with. M re-assigns every undecided user after each withdrawal, so a campaign's
/// whole log grows as n × withdrawals (4.2 GB of peak memory for one M campaign of 10^5 users
/// at MODEL.md defaults); this one holds about 2n events.
#[derive(Clone, Debug, Default)]
pub struct TrailEvents(Vec<Event>);

impl TrailEvents {
    /// Empties the log for the next campaign.
    pub fn clear(&mut self) {
        self.0.clear();
    }
}

impl AsRef<[Event]> for TrailEvents {
    fn as_ref(&self) -> &[Event] {
        &self.0
    }
}

impl EventSink for TrailEvents {
    const ENABLED: bool = true;
    const REASSIGNS: bool = false;
    #[inline]
    fn emit(&mut self, event: Event) {
        if UserTrail::reads(event.kind) {
            self.0.push(event);
        }
    }
}

/// What a campaign's event log tells of one user: the burden of her first `assign` event and
/// the time and burden of her last `stay` or `withdraw` event (`None`: no such event).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct UserTrail {
    /// x_i of the initial assignment (absent when nothing was assigned: C, or cancelled).
    pub assigned: Option<f64>,
    /// Model time of her last decision.
    pub decided_at: Option<f64>,
    /// Her burden at her last decision.
    pub decided_burden: Option<f64>,
}

impl UserTrail {
    /// The kinds of event [`user_trails`] reads.
    pub const fn reads(kind: EventKind) -> bool {
        matches!(
            kind,
            EventKind::Assign | EventKind::Stay | EventKind::Withdraw
        )
    }
}

/// Each user's [`UserTrail`] from one campaign's events (in emission order); `trails` gets one
/// entry per user. Events of users beyond `trails` are ignored.
pub fn user_trails(events: &[Event], trails: &mut [UserTrail]) {
    trails.fill(UserTrail::default());
    for e in events {
        let Some(t) = e.user.and_then(|i| trails.get_mut(i as usize)) else {
            continue;
        };
        match e.kind {
            EventKind::Assign if t.assigned.is_none() => t.assigned = e.burden,
            EventKind::Stay | EventKind::Withdraw => {
                t.decided_at = Some(e.time);
                t.decided_burden = e.burden;
            }
            _ => {}
        }
    }
}
