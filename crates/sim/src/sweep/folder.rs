//! Folding a cell's campaigns, in replication order, into per-round statistics, diagnostics,
//! paired contrasts and (by trace level) per-campaign and per-user records.

use datapact_model::catalog::{SEQUENTIAL, SIMULTANEOUS, SUBSIDY};
use datapact_model::lanes::Isa;
use datapact_model::stats::{
    CellStats, DiagnosticStats, Stat, Welford, WelfordBank, compiled_for, pareto_values,
};
use datapact_model::{Event, Outcome};

use crate::contrasts::{N_CONTRASTED, PackedContrasts, PairStats};
use crate::users::{CampaignId, CampaignUsers, UserRecord, push_users};

use super::check::check;
use super::{
    CellOutput, Depth, EventRecord, InvariantViolation, RoundRecord, RoundSummary, RunSpec,
};

/// How many statistics each mechanism folds.
const STATS: usize = Stat::ALL.len();

/// Folds each round's outcomes (in `spec.mechanisms` order) into that round's statistics, in
/// replication order.
pub(crate) struct Folder {
    cell: usize,
    /// Per round: its statistics folded together.
    folds: Vec<RoundFold>,
    pub(super) metrics: Vec<Vec<Vec<Welford>>>,
    /// Per round, per mechanism: the cascade sizes of the campaigns played on a network.
    cascade: Vec<Vec<Welford>>,
    rounds: Vec<RoundRecord>,
    users: Vec<UserRecord>,
    trails: Vec<datapact_model::events::UserTrail>,
    depth: Depth,
    pub(super) decls: Vec<datapact_model::MechanismDecl>,
    /// The run's mechanisms (catalog ids), in order.
    mechanisms: Vec<u16>,
    pub(crate) index_c: Option<usize>,
    index_s: Option<usize>,
    pub(crate) index_m: Option<usize>,
    /// Where a round's bank holds the Pareto diagnostics (`None` unless C and M run).
    pareto: Option<usize>,
    /// Where a round's bank holds the contrasts.
    contrasts: std::ops::Range<usize>,
    /// One replication's values, one per accumulator of a round's bank.
    values: Vec<f64>,
    /// The instruction set the banks are folded with (the same bits under each).
    isa: Isa,
}

/// One round's statistics, folded together. Every replication folds one campaign of every
/// mechanism, so all of them share one count, the replications folded: they are one
/// [`WelfordBank`] — per mechanism k its `STATS` statistics at `STATS·k` ([`Stat::FOLDED`]
/// order), then per pair p its contrasts at `STATS·m + N_CONTRASTED·p`, then the two Pareto
/// diagnostics when C and M run, then spare accumulators up to a multiple of 8 (zeros, never
/// read) — updated together, each with [`Welford::push`]'s operations.
#[derive(Clone, Debug)]
struct RoundFold {
    bank: WelfordBank,
    /// Who was strictly better, per pair and contrast.
    contrasts: PackedContrasts,
    /// The diagnostics' counts and the S-vs-M gap (its own count); the Pareto accumulators are
    /// the bank's.
    diagnostics: DiagnosticStats,
}

impl Folder {
    pub(crate) fn new(cell: usize, spec: &RunSpec, rounds: u32) -> Self {
        // The diagnostics compare the core mechanisms, found by their declared names.
        let find = |name: &str| spec.mechanisms.iter().position(|&m| spec.name(m) == name);
        let m = spec.mechanisms.len();
        let (index_c, index_m) = (find(SUBSIDY.name), find(SEQUENTIAL.name));
        let contrasts = crate::contrasts::pairs(m).count() * N_CONTRASTED;
        let pareto = (index_c.is_some() && index_m.is_some()).then_some(STATS * m + contrasts);
        let used = STATS * m + contrasts + if pareto.is_some() { 2 } else { 0 };
        // Padded to a whole number of vector registers (8 lanes under AVX-512): the spare
        // accumulators fold zeros and are never read, and no lane is left to a scalar tail.
        let accumulators = used.next_multiple_of(8);
        let fresh = RoundFold {
            bank: WelfordBank::new(accumulators),
            contrasts: PackedContrasts::new(m),
            diagnostics: DiagnosticStats::default(),
        };
        let metrics = vec![Welford::default(); spec.plugins.metrics().len()];
        Folder {
            cell,
            folds: vec![fresh; rounds as usize],
            metrics: vec![vec![metrics; m]; rounds as usize],
            cascade: vec![vec![Welford::default(); m]; rounds as usize],
            rounds: Vec::new(),
            users: Vec::new(),
            trails: Vec::new(),
            depth: spec.depth,
            decls: spec.mechanisms.iter().map(|&m| spec.decl(m)).collect(),
            mechanisms: spec.mechanisms.clone(),
            index_c,
            index_s: find(SIMULTANEOUS.name),
            index_m,
            pareto,
            contrasts: STATS * m..STATS * m + contrasts,
            values: vec![0.0; accumulators],
            isa: Isa::detect(),
        }
    }

    /// Each mechanism's statistics in each round folded so far (rounds in order, mechanisms in
    /// run order).
    pub(super) fn cell_stats(&self) -> impl Iterator<Item = CellStats> + '_ {
        let m = self.mechanisms.len();
        self.folds
            .iter()
            .flat_map(move |f| (0..m).map(move |k| CellStats::from_bank(&f.bank, STATS * k)))
    }

    /// Pair `p`'s paired statistics ([`crate::contrasts::pairs`] order) in each round folded so
    /// far.
    pub(super) fn pair_stats(&self, p: usize) -> impl Iterator<Item = PairStats> + '_ {
        let start = STATS * self.mechanisms.len() + N_CONTRASTED * p;
        self.folds
            .iter()
            .map(move |f| f.contrasts.pair(p, &f.bank, start))
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
    /// the ECS path folds a batch's outcomes straight from its campaign table. The users'
    /// payoffs under C and M are given whenever both run.
    /// The whole fold is compiled for the run's instruction set ([`compiled_for`]; the same
    /// bits under each).
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
        compiled_for(
            self.isa,
            #[inline(always)]
            || self.fold_replication(rep, round, outcome, metric, cascade, payoff_c, payoff_m),
        )
    }

    /// [`Folder::fold_with`]'s work.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn fold_replication<'o>(
        &mut self,
        rep: u32,
        round: u32,
        outcome: impl Fn(usize) -> &'o Outcome,
        metric: impl Fn(usize, usize) -> f64,
        cascade: impl Fn(usize) -> Option<u32>,
        payoff_c: Option<&[f64]>,
        payoff_m: Option<&[f64]>,
    ) -> Result<(), InvariantViolation> {
        let fold = &mut self.folds[round as usize];
        let metrics = &mut self.metrics[round as usize];
        let cascades = &mut self.cascade[round as usize];
        let m = self.mechanisms.len();
        let (values, rest) = self.values.split_at_mut(STATS * m);
        for (k, v) in values.chunks_exact_mut(STATS).enumerate() {
            let o = outcome(k);
            let cascade = cascade(k);
            if let Some(c) = cascade {
                cascades[k].push(c as f64);
            }
            check(self.cell, rep, &self.decls[k], o)?;
            v.copy_from_slice(&Stat::folded_values(o));
            for (j, w) in metrics[k].iter_mut().enumerate() {
                let v = metric(k, j);
                if !v.is_nan() {
                    w.push(v);
                }
            }
            if self.depth >= Depth::Rounds {
                self.rounds.push(RoundRecord {
                    rep,
                    round,
                    mechanism: self.mechanisms[k],
                    outcome: *o,
                    metrics: (0..metrics[k].len()).map(|j| metric(k, j)).collect(),
                    cascade,
                });
            }
        }
        let diffs = &mut rest[..self.contrasts.len()];
        fold.contrasts.fold(values, STATS, diffs);
        let s = self.index_s.map(&outcome);
        let m = self.index_m.map(&outcome);
        fold.diagnostics.push_outcomes(s, m);
        if let Some(at) = self.pareto {
            let (Some(uc), Some(um)) = (payoff_c, payoff_m) else {
                panic!("the users' payoffs under C and M are folded whenever both run");
            };
            self.values[at..at + 2].copy_from_slice(&pareto_values(uc, um, self.isa));
        }
        fold.bank.push(&self.values, self.isa);
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
        let m = self.mechanisms.len();
        let pairs = crate::contrasts::pairs(m).count();
        let summaries = self
            .folds
            .iter_mut()
            .zip(self.metrics)
            .zip(self.cascade)
            .enumerate()
            .map(|(round, ((fold, metrics), cascade))| {
                let bank = &fold.bank;
                if let Some(at) = self.pareto {
                    fold.diagnostics.pareto = bank.lanes(at);
                }
                let stats =
                    (0..m).map(|k| (self.mechanisms[k], CellStats::from_bank(bank, STATS * k)));
                let pairs =
                    (0..pairs).map(|p| fold.contrasts.pair(p, bank, STATS * m + N_CONTRASTED * p));
                RoundSummary {
                    round: round as u32,
                    stats: stats.collect(),
                    metrics,
                    diagnostics: fold.diagnostics.finish(has_s, has_m, has_c),
                    pairs: pairs.collect(),
                    cascade,
                }
            })
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datapact_model::Status;
    use datapact_model::stats::Diagnostics;
    use proptest::prelude::*;

    use super::*;
    use crate::contrasts::{fold as fold_contrasts, pairs};
    use crate::sweep::check::testing::{self, any_amount};
    use crate::{Backend, PluginSet};

    fn spec(mechanisms: Vec<u16>) -> RunSpec {
        RunSpec {
            seed: 1,
            replications: 1,
            first_replication: 0,
            mechanisms,
            depth: Depth::Cells,
            backend: Backend::Ecs,
            plugins: Arc::new(PluginSet::core()),
            variants: Vec::new(),
            adaptive: None,
        }
    }

    /// A value's bits, every NaN as one (Rust leaves a NaN's sign and payload unspecified).
    fn canonical(x: f64) -> u64 {
        if x.is_nan() { u64::MAX } else { x.to_bits() }
    }

    fn welford(w: Welford) -> [u64; 3] {
        let (count, mean, m2) = w.parts();
        [count, canonical(mean), canonical(m2)]
    }

    fn diagnostics(d: &Diagnostics) -> Vec<Option<u64>> {
        let real = [
            d.s_success_k2,
            d.m_success_k2,
            d.pc_gap_mean,
            d.pc_gap_se,
            d.pareto_loss_share,
            d.pareto_loss_share_se,
            d.pareto_compensation,
            d.pareto_compensation_se,
        ];
        let mut out: Vec<_> = real.iter().map(|v| v.map(canonical)).collect();
        out.extend([Some(d.reps), d.common_success_k2]);
        out
    }

    /// Everything a round summary holds, as bits.
    fn summary_bits(s: &RoundSummary) -> Vec<Option<u64>> {
        let mut out = Vec::new();
        for (id, stats) in &s.stats {
            out.push(Some(*id as u64));
            for stat in Stat::ALL {
                out.extend(welford(stats.get(stat)).map(Some));
            }
        }
        for pair in &s.pairs {
            for stat in Stat::ALL {
                if let Some(p) = pair.get(stat) {
                    out.extend(welford(p.diff).map(Some));
                    out.extend([Some(p.i_better), Some(p.j_better)]);
                }
            }
        }
        out.extend(diagnostics(&s.diagnostics));
        out
    }

    /// A campaign's outcome keeping the invariants of `decl`, from arbitrary numbers.
    fn outcome(
        decl: &datapact_model::MechanismDecl,
        status: u8,
        x: [f64; 5],
        counts: (u32, u32),
    ) -> Outcome {
        let status = [Status::Success, Status::Failure, Status::Null][status as usize % 3];
        let null = status == Status::Null;
        let pays_only = decl.pays_only_on_success;
        let subsidy = if null || (pays_only && status != Status::Success) {
            0.0
        } else {
            x[2]
        };
        Outcome {
            status,
            welfare: x[0],
            privacy_cost: x[1],
            subsidy,
            leakage: if pays_only { 0.0 } else { x[3] },
            data: if null { 0.0 } else { x[4] },
            withdrawals: counts.0,
            backstoppers: counts.1,
        }
    }

    /// An amount: mostly ordinary, sometimes ±0, a tie-maker or a huge value.
    fn amount() -> impl Strategy<Value = f64> {
        prop_oneof![
            4 => -50.0..50.0f64,
            1 => prop::sample::select(vec![0.0, -0.0, 1.0, 1e-12, 2e-12, 1e300, -1e300]),
        ]
    }

    type Rep = (Vec<(u8, [f64; 5], (u32, u32))>, Vec<f64>, Vec<f64>);

    fn replications(users: usize) -> impl Strategy<Value = Vec<Rep>> {
        let campaign = (0u8..3, prop::array::uniform5(amount()), (0u32..5, 0u32..5));
        let rep = (
            prop::collection::vec(campaign, 3),
            prop::collection::vec(amount(), users),
            prop::collection::vec(amount(), users),
        );
        prop::collection::vec(rep, 1..40)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(120))]

        /// The fused fold (one bank per round, contrasts packed, the Pareto values with vector
        /// registers) gives every statistic, contrast and diagnostic the bits the plain
        /// per-accumulator code gives: `CellStats::push` per mechanism, `contrasts::fold`,
        /// `DiagnosticStats::push`, round by round.
        #[test]
        fn the_fused_fold_equals_the_plain_one(
            reps in replications(7),
            order in prop::sample::select(vec![vec![0u16, 1, 2], vec![2, 0, 1], vec![1, 2], vec![0]]),
        ) {
            let spec = spec(order.clone());
            let rounds = 2;
            let m = order.len();
            let mut folder = Folder::new(0, &spec, rounds);
            let plain_round = || {
                (
                    vec![CellStats::default(); m],
                    vec![PairStats::default(); pairs(m).count()],
                    DiagnosticStats::default(),
                )
            };
            let mut plain: Vec<_> = (0..rounds).map(|_| plain_round()).collect();
            for (r, (campaigns, uc, um)) in reps.iter().enumerate() {
                let round = (r % 2) as u32;
                let outcomes: Vec<Outcome> = order
                    .iter()
                    .zip(campaigns)
                    .map(|(&id, &(status, x, counts))| outcome(&spec.decl(id), status, x, counts))
                    .collect();
                let payoff_c = folder.index_c.map(|_| uc.as_slice());
                let payoff_m = folder.index_m.map(|_| um.as_slice());
                folder
                    .fold(r as u32, round, &outcomes, |_, _| f64::NAN, &[], payoff_c, payoff_m)
                    .unwrap();
                let (cells, contrasts, diag) = &mut plain[round as usize];
                for (cell, o) in cells.iter_mut().zip(&outcomes) {
                    cell.push(o);
                }
                fold_contrasts(contrasts, &outcomes);
                let find = |id: u16| order.iter().position(|&k| k == id).map(|k| &outcomes[k]);
                diag.push(find(1), find(2), payoff_c, payoff_m);
            }
            let fused = folder.finish(Vec::new());
            let (has_s, has_m, has_c) = (order.contains(&1), order.contains(&2), order.contains(&0));
            for (summary, (cells, contrasts, diag)) in fused.summaries.iter().zip(plain) {
                let expected = RoundSummary {
                    round: summary.round,
                    stats: order.iter().copied().zip(cells).collect(),
                    metrics: summary.metrics.clone(),
                    diagnostics: diag.finish(has_s, has_m, has_c),
                    pairs: contrasts,
                    cascade: summary.cascade.clone(),
                };
                prop_assert_eq!(summary_bits(summary), summary_bits(&expected));
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1000))]

        /// A replication that breaks an invariant stops the fold with the error the full check
        /// gives the first campaign (in run order) that breaks one; one that breaks none folds.
        #[test]
        fn the_fold_stops_at_the_first_broken_invariant(
            campaigns in prop::collection::vec(
                (0usize..3, prop::array::uniform5(any_amount())),
                3,
            ),
        ) {
            let spec = spec(vec![0, 1, 2]);
            let mut folder = Folder::new(7, &spec, 1);
            let outcomes: Vec<Outcome> = campaigns
                .iter()
                .map(|&(status, x)| testing::outcome(status, x))
                .collect();
            let expected = outcomes
                .iter()
                .zip(&folder.decls)
                .map(|(o, decl)| check(7, 5, decl, o))
                .find(Result::is_err)
                .unwrap_or(Ok(()));
            let payoffs = [1.0, 2.0];
            let got = folder.fold(5, 0, &outcomes, |_, _| f64::NAN, &[], Some(&payoffs), Some(&payoffs));
            prop_assert_eq!(got, expected);
        }
    }

    /// The comparison above can fail: one replication more in the plain fold changes the bits.
    #[test]
    fn the_comparison_sees_one_replication_more() {
        let spec = spec(vec![0, 1, 2]);
        let mut folder = Folder::new(0, &spec, 1);
        let o = Outcome::null(2);
        let (uc, um) = ([1.0, 2.0], [0.5, 3.0]);
        folder
            .fold(0, 0, &[o, o, o], |_, _| f64::NAN, &[], Some(&uc), Some(&um))
            .unwrap();
        let fused = folder.finish(Vec::new());
        let mut twice = CellStats::default();
        twice.push(&o);
        twice.push(&o);
        let once = &fused.summaries[0].stats[0].1;
        assert_ne!(
            welford(once.get(Stat::Null)),
            welford(twice.get(Stat::Null))
        );
        assert_eq!(once.reps(), 1);
    }
}
