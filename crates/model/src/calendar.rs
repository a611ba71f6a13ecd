//! An event calendar: a priority queue of timed events for one campaign, the core of the
//! discrete-event protocols (the `async` mechanism, [`crate::asynchronous`]).
//!
//! Events pop in increasing model time (`f64`, compared with `total_cmp`); events at the same
//! time pop by their **tie key** (a `u64` the protocol derives from the event's kind and user,
//! smaller first), then by scheduling order. The order is therefore a function of the events
//! alone, never of the heap's internal layout. Scheduling and popping are O(log m) for m
//! pending events; the buffer is kept across campaigns ([`Calendar::clear`]).

use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// One pending event.
#[derive(Clone, Copy, Debug)]
struct Entry<E> {
    time: f64,
    key: u64,
    seq: u64,
    event: E,
}

impl<E> Entry<E> {
    fn rank(&self, other: &Self) -> Ordering {
        self.time
            .total_cmp(&other.time)
            .then(self.key.cmp(&other.key))
            .then(self.seq.cmp(&other.seq))
    }
}

impl<E> PartialEq for Entry<E> {
    fn eq(&self, other: &Self) -> bool {
        self.rank(other) == Ordering::Equal
    }
}
impl<E> Eq for Entry<E> {}
impl<E> PartialOrd for Entry<E> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<E> Ord for Entry<E> {
    // Reversed: `BinaryHeap` is a max-heap, the calendar pops the earliest event.
    fn cmp(&self, other: &Self) -> Ordering {
        other.rank(self)
    }
}

/// A campaign's pending events, earliest first.
#[derive(Clone, Debug)]
pub struct Calendar<E> {
    heap: BinaryHeap<Entry<E>>,
    seq: u64,
    now: f64,
}

impl<E> Default for Calendar<E> {
    fn default() -> Self {
        Calendar {
            heap: BinaryHeap::new(),
            seq: 0,
            now: 0.0,
        }
    }
}

impl<E> Calendar<E> {
    /// An empty calendar at time 0.
    pub fn new() -> Self {
        Self::default()
    }

    /// Empties the calendar and resets its clock to 0 (keeps the buffer).
    pub fn clear(&mut self) {
        self.heap.clear();
        self.seq = 0;
        self.now = 0.0;
    }

    /// The time of the last event popped (0 before any).
    pub fn now(&self) -> f64 {
        self.now
    }

    /// Pending events.
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// Whether no event is pending (a campaign whose calendar is empty has ended).
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }

    /// Schedules `event` at `time` with tie key `key`.
    ///
    /// # Panics
    /// If `time` is before [`Calendar::now`] or not a number: an event cannot be scheduled in
    /// the past (that would break the non-decreasing order of a campaign's events).
    pub fn schedule(&mut self, time: f64, key: u64, event: E) {
        assert!(
            time >= self.now,
            "event scheduled at {time}, before the calendar's time {}",
            self.now
        );
        self.heap.push(Entry {
            time,
            key,
            seq: self.seq,
            event,
        });
        self.seq += 1;
    }

    /// The time of the next event, if any.
    pub fn next_time(&self) -> Option<f64> {
        self.heap.peek().map(|e| e.time)
    }

    /// Pops the next event (earliest time, then smallest key, then first scheduled) and advances
    /// the clock to its time.
    pub fn pop(&mut self) -> Option<(f64, E)> {
        let e = self.heap.pop()?;
        self.now = e.time;
        Some((e.time, e.event))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pops_by_time_then_key_then_scheduling_order() {
        let mut cal = Calendar::new();
        cal.schedule(2.0, 0, "late");
        cal.schedule(1.0, 5, "tie-key-5");
        cal.schedule(1.0, 1, "tie-key-1-first");
        cal.schedule(1.0, 1, "tie-key-1-second");
        cal.schedule(0.5, 9, "early");
        let order: Vec<_> = std::iter::from_fn(|| cal.pop()).collect();
        assert_eq!(
            order,
            vec![
                (0.5, "early"),
                (1.0, "tie-key-1-first"),
                (1.0, "tie-key-1-second"),
                (1.0, "tie-key-5"),
                (2.0, "late"),
            ]
        );
        assert_eq!(cal.now(), 2.0);
        assert!(cal.is_empty());
    }

    #[test]
    fn popped_times_never_decrease_under_random_scheduling() {
        let mut cal = Calendar::new();
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        for _ in 0..100 {
            cal.schedule(next(), 0, ());
        }
        let mut last = f64::NEG_INFINITY;
        let mut popped = 0;
        while let Some((t, ())) = cal.pop() {
            assert!(t >= last, "{t} after {last}");
            last = t;
            popped += 1;
            // Handlers schedule follow-ups at or after the current time.
            if popped <= 500 {
                cal.schedule(t + next(), 1, ());
            }
        }
        assert_eq!(popped, 600);
    }

    #[test]
    #[should_panic(expected = "before the calendar's time")]
    fn scheduling_in_the_past_is_refused() {
        let mut cal = Calendar::new();
        cal.schedule(1.0, 0, ());
        cal.pop();
        cal.schedule(0.5, 0, ());
    }
}
