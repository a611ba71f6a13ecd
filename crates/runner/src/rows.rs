//! Rows: a chunk's table builders and part writers, and the rows one cell's output adds to them.

use datapact_model::stats::{CellStats, Stat};
use datapact_sim::contrasts::PairStats;
use datapact_sim::{CellOutput, PluginSet, RunSpec};
use datapact_trace::{
    BatchBuilder, CellNetwork, CellRow, CellsBuilder, ContrastRow, ContrastsBuilder,
    DiagnosticsBuilder, DiagnosticsRow, EventNetwork, EventRow, EventsBuilder, MetricColumn,
    MetricSummary, PairedSummaries, PairedSummary, PartWriter, RoundNetwork, RoundRow, RoundStatus,
    RoundsBuilder, StatSummaries, StatSummary, StatValues, UserNetwork, UserRow, UsersBuilder,
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
            let cascade = &summary_of_round.cascade[k];
            w.cells.1.append_networked(
                &cell_row(cell, coords, round, name(*mechanism), s, &metrics),
                &CellNetwork {
                    cascade_mean: (cascade.count > 0).then(|| cascade.mean()),
                    cascade_se: (cascade.count > 0).then(|| cascade.se()),
                },
            );
            // The summary table reports the last round (the only one for single campaigns).
            if round + 1 == o.summaries.len() as u32
                && let Some((_, m)) = summary
                    .mechanisms
                    .iter_mut()
                    .find(|(x, _)| *x == name(*mechanism))
            {
                m.cells += 1;
                m.success += s.get(Stat::Success).mean();
                m.welfare += s.get(Stat::Welfare).mean();
                m.leakage += s.get(Stat::Leakage).mean();
                m.leaky_cells += (s.get(Stat::Leakage).mean() > 0.0) as usize;
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
            w.contrasts.1.append(&contrast_row(
                cell,
                coords,
                round as u32,
                (name(spec.mechanisms[a]), name(spec.mechanisms[b])),
                &summary.pairs[k],
                reversed,
            ));
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
            r.1.append_networked(
                &RoundRow {
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
                    stats: StatValues::of(oc),
                    metrics: &metrics,
                },
                &RoundNetwork {
                    cascade: rec.cascade,
                },
            );
            flush(r, false)?;
        }
    }
    if let Some(t) = w.users.as_mut() {
        for u in &o.users {
            t.1.append_networked(
                &UserRow {
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
                },
                &UserNetwork {
                    degree: u.degree,
                    withdrawn_neighbours: u.withdrawn_neighbours,
                    through_ties: u.through_ties,
                },
            );
            flush(t, false)?;
        }
    }
    if let Some(e) = w.events.as_mut() {
        for rec in &o.events {
            let ev = &rec.event;
            e.1.append_networked(
                &EventRow {
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
                },
                &EventNetwork {
                    trigger: rec.trigger,
                },
            );
            flush(e, false)?;
        }
    }
    Ok(())
}

/// One `cells` row: each core statistic's mean and SE from `s`, by statistic (the trace puts
/// each in the columns its declaration, [`Stat::spec`], names).
fn cell_row<'a>(
    cell: u32,
    coords: &'a [f64],
    round: u32,
    mechanism: &'a str,
    s: &CellStats,
    metrics: &'a [MetricSummary],
) -> CellRow<'a> {
    CellRow {
        cell,
        coords,
        round,
        mechanism,
        reps: s.reps() as u32,
        stats: StatSummaries::from_fn(|stat| StatSummary {
            mean: s.get(stat).mean(),
            se: s.get(stat).se(),
        }),
        metrics,
    }
}

/// One `contrasts` row of the pair (A, B) = `mechanisms`: each contrasted statistic of `pair`
/// (A − B, or B − A when `reversed`), by statistic.
fn contrast_row<'a>(
    cell: u32,
    coords: &'a [f64],
    round: u32,
    mechanisms: (&'a str, &'a str),
    pair: &PairStats,
    reversed: bool,
) -> ContrastRow<'a> {
    ContrastRow {
        cell,
        coords,
        round,
        mechanism_a: mechanisms.0,
        mechanism_b: mechanisms.1,
        reps: pair.reps() as u32,
        stats: PairedSummaries::from_fn(|stat| {
            let (diff, se, a_better) = pair
                .get(stat)
                .expect("a contrasts column of a contrasted statistic")
                .oriented(reversed);
            PairedSummary { diff, se, a_better }
        }),
    }
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

#[cfg(test)]
mod tests {
    use datapact_model::stats::{Better, CellStats, Stat};
    use datapact_model::{Outcome, Status};
    use datapact_sim::contrasts::{PairStats, fold};
    use datapact_trace::arrow::array::{Array, Float64Array, RecordBatch};
    use datapact_trace::{CellsBuilder, ContrastsBuilder, Table};

    /// The columns of `table` after `reps` and before any metric: what the trace declares.
    fn declared(table: Table) -> Vec<&'static str> {
        let names: Vec<&str> = table.columns().iter().map(|c| c.name).collect();
        let reps = names.iter().position(|n| *n == "reps").unwrap();
        names[reps + 1..].to_vec()
    }

    /// The statistics' columns as the model declares them, in the tables' order: the trace's
    /// column declarations and `Stat::ALL` cannot drift apart.
    #[test]
    fn the_tables_hold_the_declared_statistics_in_order() {
        let mut cells = Vec::new();
        for stat in Stat::ALL {
            let spec = stat.spec();
            cells.push(spec.column.to_string());
            cells.extend(spec.se_column.map(str::to_string));
        }
        assert_eq!(declared(Table::Cells), cells);
        let contrasts: Vec<String> = Stat::CONTRASTED
            .iter()
            .flat_map(|s| {
                ["_diff", "_diff_se", "_a_better"].map(|x| format!("{}{x}", s.spec().stem))
            })
            .collect();
        assert_eq!(declared(Table::Contrasts), contrasts);
    }

    /// Replication r of mechanism A: every statistic moves on its own pattern (its sign flips
    /// after a different replication), so that each column's mean, SE and share differ.
    fn outcome_a(r: u32) -> Outcome {
        let f = |k: u32, base: f64| {
            let v = base + f64::from(r) * (1.0 + f64::from(k));
            if r <= k { v } else { -v }
        };
        Outcome {
            status: if r == 0 {
                Status::Success
            } else if r >= 6 {
                Status::Null
            } else {
                Status::Failure
            },
            welfare: f(1, 10.0),
            privacy_cost: f(2, 20.0),
            subsidy: f(3, 30.0),
            leakage: f(4, 40.0),
            data: f(5, 50.0),
            withdrawals: if r <= 6 { 60 + r } else { 200 + r },
            backstoppers: 70 + 3 * r,
        }
    }

    /// Mechanism B: nothing but 100 withdrawals.
    fn outcome_b() -> Outcome {
        Outcome {
            withdrawals: 100,
            status: Status::Failure,
            ..Outcome::null(0)
        }
    }

    fn column(batch: &RecordBatch, name: &str) -> f64 {
        let c = batch
            .column_by_name(name)
            .unwrap_or_else(|| panic!("no column {name}"));
        c.as_any().downcast_ref::<Float64Array>().unwrap().value(0)
    }

    fn all_distinct(values: &[f64]) {
        for (i, a) in values.iter().enumerate() {
            for b in &values[i + 1..] {
                assert_ne!(a, b, "the test needs distinct values: {values:?}");
            }
        }
    }

    /// `rows.rs` writes each statistic into the column its declaration names: swapping two
    /// statistics' fields there fails this test.
    #[test]
    fn each_statistic_lands_in_its_declared_column() {
        let mut s = CellStats::default();
        let mut pairs = [PairStats::default()];
        for r in 0..8 {
            s.push(&outcome_a(r));
            fold(&mut pairs, &[outcome_a(r), outcome_b()]);
        }
        let no_axes: [String; 0] = [];
        let mut cells = CellsBuilder::new("t", 1, &no_axes, &[]).unwrap();
        cells.append(&super::cell_row(0, &[], 0, "A", &s, &[]));
        let batch = cells.finish_batch();
        let mut expected = Vec::new();
        for stat in Stat::ALL {
            let spec = stat.spec();
            assert_eq!(column(&batch, spec.column), s.get(stat).mean(), "{stat:?}");
            expected.push(s.get(stat).mean());
            if let Some(se) = spec.se_column {
                assert_eq!(column(&batch, se), s.get(stat).se(), "{stat:?}");
                expected.push(s.get(stat).se());
            }
        }
        all_distinct(&expected);

        let mut contrasts = ContrastsBuilder::new("t", 1, &no_axes);
        contrasts.append(&super::contrast_row(
            0,
            &[],
            0,
            ("A", "B"),
            &pairs[0],
            false,
        ));
        let batch = contrasts.finish_batch();
        let mut expected = Vec::new();
        for stat in Stat::CONTRASTED {
            let stem = stat.spec().stem;
            let (mean, se, share) = pairs[0].get(stat).unwrap().oriented(false);
            assert_eq!(column(&batch, &format!("{stem}_diff")), mean, "{stat:?}");
            assert_eq!(column(&batch, &format!("{stem}_diff_se")), se, "{stat:?}");
            assert_eq!(
                column(&batch, &format!("{stem}_a_better")),
                share,
                "{stat:?}"
            );
            expected.extend([mean, se]);
            // Shares: distinct per statistic, and on the declared side.
            let better = stat.spec().better().unwrap();
            assert!(share > 0.0 || better == Better::Lower, "{stat:?}");
            expected.push(share + 10.0);
        }
        all_distinct(&expected);
    }
}
