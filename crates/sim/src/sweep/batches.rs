//! Which replications a cell plays, batch after batch: a fixed count, or an adaptive rule's
//! batches until the SE it reads reaches its target.

use datapact_model::stats::{TargetMetric, next_batch, precise_enough};

use super::{Folder, RunSpec, StopRule};

impl StopRule {
    /// The largest batch the rule plays (sizes the ECS worlds).
    fn largest_batch(&self) -> u32 {
        self.min.max(self.batch).min(self.max)
    }

    /// Whether the statistics folded so far meet the target.
    fn reached(&self, folder: &Folder) -> bool {
        match self.contrast {
            None => match self.metric {
                TargetMetric::Core(metric) => precise_enough(
                    folder.cell_stats().map(|s| metric.of(&s).se()),
                    self.target_se,
                ),
                TargetMetric::Plugin { index, .. } => precise_enough(
                    folder
                        .metrics
                        .iter()
                        .flatten()
                        .map(|per_mechanism| per_mechanism[index].se()),
                    self.target_se,
                ),
            },
            Some((a, b)) => {
                let m = folder.decls.len();
                let (k, _) = crate::contrasts::pair_index(m, a, b);
                let TargetMetric::Core(metric) = self.metric else {
                    unreachable!("the scenario reader refuses a plugin metric with a contrast")
                };
                let se = |pair: crate::contrasts::PairStats| {
                    pair.get(metric)
                        .expect(
                            "the scenario reader refuses an uncontrasted metric with a contrast",
                        )
                        .diff
                        .se()
                };
                precise_enough(folder.pair_stats(k).map(se), self.target_se)
            }
        }
    }
}

/// The replication ranges a cell plays, batch after batch: one range of `replications` for a
/// fixed count, or the adaptive rule's batches until it is met.
pub(crate) struct Batches<'a> {
    spec: &'a RunSpec,
    done: u32,
}

impl<'a> Batches<'a> {
    pub(crate) fn new(spec: &'a RunSpec) -> Self {
        Batches { spec, done: 0 }
    }

    /// The largest batch (sizes the ECS worlds).
    pub(super) fn largest(&self) -> u32 {
        self.spec
            .adaptive
            .map_or(self.spec.replications, |a| a.largest_batch())
    }

    /// The next range `(first, count)` to play, given what was folded; `None` when the cell is
    /// done. Read only between batches, in replication order.
    pub(crate) fn next(&mut self, folder: &Folder) -> Option<(u32, u32)> {
        let count = match self.spec.adaptive {
            None if self.done == 0 => self.spec.replications,
            None => 0,
            Some(rule) if self.done > 0 && rule.reached(folder) => 0,
            Some(rule) => next_batch(self.done, rule.min, rule.batch, rule.max),
        };
        if count == 0 {
            return None;
        }
        let first = self.spec.first_replication + self.done;
        self.done += count;
        Some((first, count))
    }
}
