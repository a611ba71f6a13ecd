//! Rows: a chunk's table builders and part writers, and the rows one cell's output adds to them.

use datapact_sim::{CellOutput, PluginSet, RunSpec};
use datapact_trace::{
    BatchBuilder, CellRow, CellsBuilder, ContrastRow, ContrastsBuilder, DiagnosticsBuilder,
    DiagnosticsRow, EventRow, EventsBuilder, MetricColumn, MetricSummary, PartWriter, RoundRow,
    RoundStatus, RoundsBuilder, UserRow, UsersBuilder,
};

use crate::error::RunnerError;
use crate::options::RunSummary;

/// Rows buffered per table before a record batch goes to the writer.
const FLUSH_ROWS: usize = 65_536;

pub(crate) struct ChunkWriters {
    pub(crate) cells: (PartWriter, CellsBuilder),
    pub(crate) diagnostics: (PartWriter, DiagnosticsBuilder),
    pub(crate) contrasts: (PartWriter, ContrastsBuilder),
    /// The contrasted pairs (A, B), as positions in the run's mechanisms.
    pub(crate) pairs: Vec<(usize, usize)>,
    pub(crate) rounds: Option<(PartWriter, RoundsBuilder)>,
    pub(crate) users: Option<(PartWriter, UsersBuilder)>,
    pub(crate) events: Option<(PartWriter, EventsBuilder)>,
}

pub(crate) fn flush<B: BatchBuilder>(
    w: &mut (PartWriter, B),
    force: bool,
) -> Result<(), RunnerError> {
    if (force && !w.1.is_empty()) || w.1.len() >= FLUSH_ROWS {
        let batch = w.1.finish_batch();
        if let Some(column) = nan_column(&batch) {
            return Err(RunnerError::NotANumber {
                file: w.0.path().to_path_buf(),
                column,
            });
        }
        w.0.write(&batch)?;
    }
    Ok(())
}

/// The first Float64 column of `batch` holding a NaN, if any. Checked on every written batch:
/// no NaN may reach an output.
fn nan_column(batch: &datapact_trace::arrow::array::RecordBatch) -> Option<String> {
    use datapact_trace::arrow::array::AsArray;
    use datapact_trace::arrow::datatypes::{DataType, Float64Type};
    batch
        .schema()
        .fields()
        .iter()
        .zip(batch.columns())
        .find_map(|(field, column)| {
            (field.data_type() == &DataType::Float64
                && column
                    .as_primitive::<Float64Type>()
                    .values()
                    .iter()
                    .any(|v| v.is_nan()))
            .then(|| field.name().clone())
        })
}

/// The plugins' metrics as output columns, in registration order.
pub fn metric_columns(plugins: &PluginSet) -> Vec<MetricColumn> {
    plugins
        .metrics()
        .iter()
        .map(|m| MetricColumn::new(m.name, m.description))
        .collect()
}

pub(crate) fn append(
    w: &mut ChunkWriters,
    spec: &RunSpec,
    o: &CellOutput,
    coords: &[f64],
    summary: &mut RunSummary,
) -> Result<(), RunnerError> {
    let cell = o.cell as u32;
    let name = |id: u16| spec.name(id);
    for summary_of_round in &o.summaries {
        let round = summary_of_round.round;
        for (k, (mechanism, s)) in summary_of_round.stats.iter().enumerate() {
            let metrics: Vec<MetricSummary> = summary_of_round.metrics[k]
                .iter()
                .map(|m| MetricSummary {
                    mean: (m.count > 0).then(|| m.mean()),
                    se: (m.count > 0).then(|| m.se()),
                })
                .collect();
            w.cells.1.append(&CellRow {
                cell,
                coords,
                round,
                mechanism: name(*mechanism),
                reps: s.reps() as u32,
                success_rate: s.success.mean(),
                success_se: s.success.se(),
                welfare_mean: s.welfare.mean(),
                welfare_se: s.welfare.se(),
                privacy_cost_mean: s.privacy_cost.mean(),
                privacy_cost_se: s.privacy_cost.se(),
                subsidy_mean: s.subsidy.mean(),
                subsidy_se: s.subsidy.se(),
                leakage_mean: s.leakage.mean(),
                leakage_se: s.leakage.se(),
                data_mean: s.data.mean(),
                data_se: s.data.se(),
                withdrawals_mean: s.withdrawals.mean(),
                withdrawals_se: s.withdrawals.se(),
                null_rate: s.null.mean(),
                backstoppers_mean: s.backstoppers.mean(),
                metrics: &metrics,
            });
            // The summary table reports the last round (the only one for single campaigns).
            if round + 1 == o.summaries.len() as u32
                && let Some((_, m)) = summary
                    .mechanisms
                    .iter_mut()
                    .find(|(x, _)| *x == name(*mechanism))
            {
                m.cells += 1;
                m.success += s.success.mean();
                m.welfare += s.welfare.mean();
                m.leakage += s.leakage.mean();
                m.leaky_cells += (s.leakage.mean() > 0.0) as usize;
            }
        }
        let d = &summary_of_round.diagnostics;
        w.diagnostics.1.append(&DiagnosticsRow {
            cell,
            coords,
            round,
            reps: d.reps as u32,
            s_success_k2: d.s_success_k2,
            m_success_k2: d.m_success_k2,
            common_success_k2: d.common_success_k2.map(|c| c as u32),
            pc_gap_mean: d.pc_gap_mean,
            pc_gap_se: d.pc_gap_se,
            pareto_loss_share: d.pareto_loss_share,
            pareto_loss_share_se: d.pareto_loss_share_se,
            pareto_compensation: d.pareto_compensation,
            pareto_compensation_se: d.pareto_compensation_se,
        });
    }
    flush(&mut w.cells, false)?;
    flush(&mut w.diagnostics, false)?;
    // Contrasts: the simulator folded every pair of mechanisms as the campaigns played.
    let m = spec.mechanisms.len();
    for (round, summary) in o.summaries.iter().enumerate() {
        for &(a, b) in &w.pairs {
            let (k, reversed) = datapact_sim::contrasts::pair_index(m, a, b);
            let [success, welfare, privacy_cost, subsidy, data, withdrawals] =
                summary.pairs[k].map(|p| p.oriented(reversed));
            w.contrasts.1.append(&ContrastRow {
                cell,
                coords,
                round: round as u32,
                mechanism_a: name(spec.mechanisms[a]),
                mechanism_b: name(spec.mechanisms[b]),
                reps: summary.pairs[k][0].diff.count as u32,
                success_diff: success.0,
                success_diff_se: success.1,
                success_a_better: success.2,
                welfare_diff: welfare.0,
                welfare_diff_se: welfare.1,
                welfare_a_better: welfare.2,
                privacy_cost_diff: privacy_cost.0,
                privacy_cost_diff_se: privacy_cost.1,
                privacy_cost_a_better: privacy_cost.2,
                subsidy_diff: subsidy.0,
                subsidy_diff_se: subsidy.1,
                subsidy_a_better: subsidy.2,
                data_diff: data.0,
                data_diff_se: data.1,
                data_a_better: data.2,
                withdrawals_diff: withdrawals.0,
                withdrawals_diff_se: withdrawals.1,
                withdrawals_a_better: withdrawals.2,
            });
        }
    }
    flush(&mut w.contrasts, false)?;
    if let Some(r) = w.rounds.as_mut() {
        for rec in &o.rounds {
            let oc = &rec.outcome;
            let metrics: Vec<Option<f64>> = rec
                .metrics
                .iter()
                .map(|v| (!v.is_nan()).then_some(*v))
                .collect();
            r.1.append(&RoundRow {
                cell,
                coords,
                rep: rec.rep,
                round: rec.round,
                mechanism: name(rec.mechanism),
                status: match oc.status {
                    datapact_model::Status::Success => RoundStatus::Success,
                    datapact_model::Status::Failure => RoundStatus::Failure,
                    datapact_model::Status::Null => RoundStatus::Null,
                },
                welfare: oc.welfare,
                privacy_cost: oc.privacy_cost,
                subsidy: oc.subsidy,
                leakage: oc.leakage,
                data: oc.data,
                withdrawals: oc.withdrawals,
                backstoppers: oc.backstoppers,
                metrics: &metrics,
            });
            flush(r, false)?;
        }
    }
    if let Some(t) = w.users.as_mut() {
        for u in &o.users {
            t.1.append(&UserRow {
                cell,
                coords,
                rep: u.rep,
                round: u.round,
                mechanism: name(u.mechanism),
                user: u.user,
                true_cost: u.true_cost,
                reported_cost: u.reported_cost,
                observed_cost: u.observed_cost,
                drifted_cost: u.drifted_cost,
                settled_cost: u.settled_cost,
                cap: u.cap,
                assigned_burden: u.assigned_burden,
                decision: u.decision.and_then(decision_kind),
                decision_time: u.decision_time,
                decided_burden: u.decided_burden,
                final_burden: u.final_burden,
                paid: u.payment,
                privacy_cost: u.privacy_cost,
                utility: u.utility,
            });
            flush(t, false)?;
        }
    }
    if let Some(e) = w.events.as_mut() {
        for rec in &o.events {
            let ev = &rec.event;
            e.1.append(&EventRow {
                cell,
                coords,
                rep: rec.rep,
                round: rec.round,
                mechanism: name(rec.mechanism),
                time: ev.time,
                seq: rec.seq,
                kind: ev.kind.as_str(),
                user: ev.user,
                burden: ev.burden,
                cost: ev.cost,
            });
            flush(e, false)?;
        }
    }
    Ok(())
}

/// A decision as the `users` table writes it: the kind of the event that records it.
fn decision_kind(d: datapact_model::Decision) -> Option<&'static str> {
    use datapact_model::{Decision, EventKind};
    match d {
        Decision::Stay => Some(EventKind::Stay.as_str()),
        Decision::Withdraw => Some(EventKind::Withdraw.as_str()),
        Decision::Undecided => None,
    }
}
