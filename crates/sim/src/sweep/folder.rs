//! Folding a cell's campaigns, in replication order, into per-round statistics, diagnostics,
//! paired contrasts and (by trace level) per-campaign and per-user records.

use datapact_model::catalog::{SEQUENTIAL, SIMULTANEOUS, SUBSIDY};
use datapact_model::stats::{CellStats, DiagnosticStats, Welford};
use datapact_model::{Event, Outcome};

use crate::users::{CampaignId, CampaignUsers, UserRecord, push_users};

use super::check::check;
use super::{
    CellOutput, Depth, EventRecord, InvariantViolation, RoundRecord, RoundSummary, RunSpec,
};

/// Folds each round's outcomes (in `spec.mechanisms` order) into that round's statistics, in
/// replication order.
pub(crate) struct Folder {
    cell: usize,
    pub(super) stats: Vec<Vec<(u16, CellStats)>>,
    pub(super) metrics: Vec<Vec<Vec<Welford>>>,
    diagnostics: Vec<DiagnosticStats>,
    pub(super) pairs: Vec<Vec<crate::contrasts::PairStats>>,
    /// Per round, per mechanism: the cascade sizes of the campaigns played on a network.
    cascade: Vec<Vec<Welford>>,
    rounds: Vec<RoundRecord>,
    users: Vec<UserRecord>,
    trails: Vec<datapact_model::events::UserTrail>,
    depth: Depth,
    pub(super) decls: Vec<datapact_model::MechanismDecl>,
    pub(crate) index_c: Option<usize>,
    index_s: Option<usize>,
    pub(crate) index_m: Option<usize>,
}

impl Folder {
    pub(crate) fn new(cell: usize, spec: &RunSpec, rounds: u32) -> Self {
        // The diagnostics compare the core mechanisms, found by their declared names.
        let find = |name: &str| spec.mechanisms.iter().position(|&m| spec.name(m) == name);
        let fresh: Vec<(u16, CellStats)> = spec
            .mechanisms
            .iter()
            .map(|m| (*m, CellStats::default()))
            .collect();
        let metrics = vec![Welford::default(); spec.plugins.metrics().len()];
        Folder {
            cell,
            stats: vec![fresh; rounds as usize],
            metrics: vec![vec![metrics; spec.mechanisms.len()]; rounds as usize],
            diagnostics: vec![DiagnosticStats::default(); rounds as usize],
            pairs: vec![
                vec![
                    crate::contrasts::PairStats::default();
                    crate::contrasts::pairs(spec.mechanisms.len()).count()
                ];
                rounds as usize
            ],
            cascade: vec![vec![Welford::default(); spec.mechanisms.len()]; rounds as usize],
            rounds: Vec::new(),
            users: Vec::new(),
            trails: Vec::new(),
            depth: spec.depth,
            decls: spec.mechanisms.iter().map(|&m| spec.decl(m)).collect(),
            index_c: find(SUBSIDY.name),
            index_s: find(SIMULTANEOUS.name),
            index_m: find(SEQUENTIAL.name),
        }
    }

    /// Folds one replication's round: its outcomes, each campaign's metrics (`metric(k, m)`
    /// for mechanism k, metric m; NaN when not computed) and, on a network, each campaign's
    /// cascade size (`cascade[k]`; an empty slice without a network).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn fold(
        &mut self,
        rep: u32,
        round: u32,
        outcomes: &[Outcome],
        metric: impl Fn(usize, usize) -> f64,
        cascade: &[Option<u32>],
        payoff_c: Option<&[f64]>,
        payoff_m: Option<&[f64]>,
    ) -> Result<(), InvariantViolation> {
        debug_assert_eq!(outcomes.len(), self.decls.len());
        self.fold_with(
            rep,
            round,
            |k| &outcomes[k],
            metric,
            |k| cascade.get(k).copied().flatten(),
            payoff_c,
            payoff_m,
        )
    }

    /// [`Folder::fold`] reading each mechanism's outcome (`outcome(k)`, k in the run's
    /// mechanism order) and cascade size (`cascade(k)`, `None` without a network) where it lies:
    /// the ECS path folds a batch's outcomes straight from its campaign table.
    #[allow(clippy::too_many_arguments)]
    #[inline]
    pub(crate) fn fold_with<'o>(
        &mut self,
        rep: u32,
        round: u32,
        outcome: impl Fn(usize) -> &'o Outcome,
        metric: impl Fn(usize, usize) -> f64,
        cascade: impl Fn(usize) -> Option<u32>,
        payoff_c: Option<&[f64]>,
        payoff_m: Option<&[f64]>,
    ) -> Result<(), InvariantViolation> {
        let stats = &mut self.stats[round as usize];
        let metrics = &mut self.metrics[round as usize];
        let cascades = &mut self.cascade[round as usize];
        for k in 0..stats.len() {
            let o = outcome(k);
            let cascade = cascade(k);
            if let Some(c) = cascade {
                cascades[k].push(c as f64);
            }
            let mechanism = stats[k].0;
            check(self.cell, rep, &self.decls[k], o)?;
            stats[k].1.push(o);
            for (m, w) in metrics[k].iter_mut().enumerate() {
                let v = metric(k, m);
                if !v.is_nan() {
                    w.push(v);
                }
            }
            if self.depth >= Depth::Rounds {
                self.rounds.push(RoundRecord {
                    rep,
                    round,
                    mechanism,
                    outcome: *o,
                    metrics: (0..metrics[k].len()).map(|m| metric(k, m)).collect(),
                    cascade,
                });
            }
        }
        crate::contrasts::fold_each(&mut self.pairs[round as usize], stats.len(), &outcome);
        let s = self.index_s.map(&outcome);
        let m = self.index_m.map(&outcome);
        self.diagnostics[round as usize].push(s, m, payoff_c, payoff_m);
        Ok(())
    }

    /// Records the users of mechanism `mechanism`'s campaign of replication `rep` (trace ≥
    /// users).
    pub(super) fn users(
        &mut self,
        rep: u32,
        round: u32,
        mechanism: u16,
        users: &CampaignUsers<'_>,
        events: &[Event],
    ) {
        let id = CampaignId {
            rep,
            round,
            mechanism,
        };
        push_users(&mut self.users, &id, users, events, &mut self.trails);
    }

    pub(crate) fn finish(mut self, mut events: Vec<EventRecord>) -> CellOutput {
        let (has_s, has_m, has_c) = (
            self.index_s.is_some(),
            self.index_m.is_some(),
            self.index_c.is_some(),
        );
        let summaries = self
            .stats
            .into_iter()
            .zip(self.metrics)
            .zip(&self.diagnostics)
            .zip(self.pairs)
            .zip(self.cascade)
            .enumerate()
            .map(
                |(round, ((((stats, metrics), d), pairs), cascade))| RoundSummary {
                    round: round as u32,
                    stats,
                    metrics,
                    diagnostics: d.finish(has_s, has_m, has_c),
                    pairs,
                    cascade,
                },
            )
            .collect();
        // Canonical order, whatever order batches and rounds were played in.
        self.rounds.sort_by_key(|r| (r.round, r.rep, r.mechanism));
        self.users
            .sort_by_key(|u| (u.round, u.rep, u.mechanism, u.user));
        events.sort_by_key(|e| (e.round, e.rep, e.mechanism, e.seq));
        CellOutput {
            cell: self.cell,
            summaries,
            rounds: self.rounds,
            users: self.users,
            events,
        }
    }
}
