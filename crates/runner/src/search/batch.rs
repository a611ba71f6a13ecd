//! One step of a search as runs of the runner: the step's points, grouped by their categorical
//! labels, become points scenarios (one run directory each, under the step's directory), run
//! like any scenario (chunks, shards, resume) and read back through the verified view.

use std::collections::BTreeMap;
use std::path::Path;

use datapact_scenario::Scenario;
use datapact_scenario::search::{Domain, KeyValue, Measure, SearchKey, points_scenario};
use datapact_search::Estimate;
use datapact_trace::arrow::array::{Array, Float64Array, RecordBatch};
use datapact_trace::{CellsColumns, ContrastsColumns, RunView, Shard, Table, read_table};

use crate::error::RunnerError;
use crate::options::RunOptions;
use crate::search::SearchOptions;

/// A point to evaluate: one value per key, and the replication block it uses.
#[derive(Clone, Debug)]
pub(crate) struct PointRequest {
    pub values: Vec<KeyValue>,
    pub block: u32,
}

/// What a run gave for one point.
#[derive(Clone, Debug)]
pub(crate) struct PointResult {
    /// One estimate per measure asked for, in the metric's own units.
    pub measures: Vec<Estimate>,
    /// The replications behind them.
    pub reps: u64,
    /// The run directory, relative to the search's directory.
    pub run: String,
    /// The point's cell in that run.
    pub cell: u32,
}

/// One run of a step: its name (the run directory under the step's), its block, labels and
/// points (indices into the step's requests).
struct Group {
    name: String,
    block: u32,
    labels: Vec<usize>,
    members: Vec<usize>,
}

/// The seed of replication block `block`: the scenario's own for block 0 (so a candidate's
/// first evaluation equals `datapact run` of the scenario at that point), a seed derived from
/// it and the block otherwise. Blocks of one candidate thus play independent streams, and
/// block b of every candidate the same ones (common random numbers).
pub fn block_seed(seed: u64, block: u32) -> u64 {
    if block == 0 {
        return seed;
    }
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(b"datapact search block");
    h.update(seed.to_le_bytes());
    h.update(block.to_le_bytes());
    let d = h.finalize();
    let mut b = [0u8; 8];
    b.copy_from_slice(&d[..8]);
    // Scenario seeds are TOML integers (at most i64::MAX).
    u64::from_le_bytes(b) >> 1
}

fn groups(keys: &[SearchKey], requests: &[PointRequest]) -> Vec<Group> {
    let categorical: Vec<usize> = keys
        .iter()
        .enumerate()
        .filter(|(_, k)| matches!(k.domain, Domain::Labels(_)))
        .map(|(i, _)| i)
        .collect();
    let mut by: BTreeMap<(u32, Vec<usize>), Vec<usize>> = BTreeMap::new();
    for (i, r) in requests.iter().enumerate() {
        let labels: Vec<usize> = categorical
            .iter()
            .map(|&k| match r.values[k] {
                KeyValue::Label(l) => l,
                KeyValue::Number(_) => 0,
            })
            .collect();
        by.entry((r.block, labels)).or_default().push(i);
    }
    let mut out = Vec::new();
    let mut per_block: BTreeMap<u32, usize> = BTreeMap::new();
    for ((block, labels), members) in by {
        let k = per_block.entry(block).or_insert(0);
        let name = if categorical.is_empty() {
            format!("b{block}")
        } else {
            format!("b{block}-{k}")
        };
        *k += 1;
        out.push(Group {
            name,
            block,
            labels,
            members,
        });
    }
    out
}

/// The scenario of each run of a step, with its directory (relative to `out`).
pub(crate) fn scenarios(
    base: &Scenario,
    keys: &[SearchKey],
    requests: &[PointRequest],
    step_dir: &str,
) -> Result<Vec<(String, Scenario, Vec<usize>)>, RunnerError> {
    let mut out = Vec::new();
    for g in groups(keys, requests) {
        let points: Vec<Vec<f64>> = g
            .members
            .iter()
            .map(|&i| {
                requests[i]
                    .values
                    .iter()
                    .filter_map(|v| match v {
                        KeyValue::Number(x) => Some(*x),
                        KeyValue::Label(_) => None,
                    })
                    .collect()
            })
            .collect();
        let scenario = points_scenario(
            base,
            keys,
            &g.labels,
            &points,
            block_seed(base.seed, g.block),
        )
        .map_err(|e| {
            RunnerError::Refused(format!(
                "the points of {step_dir}/{} do not load as a scenario: {e}",
                g.name
            ))
        })?;
        out.push((format!("{step_dir}/{}", g.name), scenario, g.members));
    }
    Ok(out)
}

/// Writes the scenario of every run of a step beside its directory (`NAME.toml`), so that
/// `datapact run NAME.toml --out NAME` (sharded, a Slurm array) computes exactly what the search
/// would. Returns the runs that are not finished yet.
pub(crate) fn write_scenarios(
    out: &Path,
    runs: &[(String, Scenario, Vec<usize>)],
) -> Result<Vec<String>, RunnerError> {
    let mut pending = Vec::new();
    for (name, scenario, _) in runs {
        let toml = out.join(format!("{name}.toml"));
        let text = scenario.normalized();
        if std::fs::read_to_string(&toml).ok().as_deref() != Some(text.as_str()) {
            crate::search::write_text_atomic(&toml, &text)?;
        }
        if !finished(&out.join(name)) {
            pending.push(name.clone());
        }
    }
    Ok(pending)
}

fn finished(dir: &Path) -> bool {
    RunView::open(dir).is_ok_and(|v| v.finished().is_ok())
}

/// Runs (or resumes, or just reads) every run of a step and returns each request's result.
pub(crate) fn evaluate(
    opts: &SearchOptions,
    runs: &[(String, Scenario, Vec<usize>)],
    measures: &[Measure],
    requests: usize,
) -> Result<Vec<PointResult>, RunnerError> {
    let mut results: Vec<Option<PointResult>> = vec![None; requests];
    for (name, scenario, members) in runs {
        let dir = opts.out.join(name);
        if !finished(&dir) {
            run_all_shards(opts, scenario, &dir)?;
        }
        let read = read_measures(&dir, measures, members.len())?;
        for (cell, (&i, (values, reps))) in members.iter().zip(read).enumerate() {
            results[i] = Some(PointResult {
                measures: values,
                reps,
                run: name.clone(),
                cell: cell as u32,
            });
        }
    }
    results
        .into_iter()
        .enumerate()
        .map(|(i, r)| {
            r.ok_or_else(|| RunnerError::Unreadable(format!("request {i} was not evaluated")))
        })
        .collect()
}

/// Runs `scenario` into `dir`: in one piece, or, if the directory was started in N shards
/// (`datapact run --shard`, a Slurm array), every shard in turn, each resuming what is there.
fn run_all_shards(
    opts: &SearchOptions,
    scenario: &Scenario,
    dir: &Path,
) -> Result<(), RunnerError> {
    let shards = datapact_trace::read_identity(dir).map_or(1, |id| id.shards.max(1));
    for index in 0..shards {
        let run = RunOptions {
            out: dir.to_path_buf(),
            threads: opts.threads,
            shard: Shard {
                index,
                count: shards,
            },
            resume: true,
            progress: false,
            backend: datapact_sim::Backend::Ecs,
            cancel: opts.cancel.clone(),
            cells_done: None,
            plugins: opts.plugins.clone(),
            replication: None,
        };
        crate::write::run(scenario, &run)?;
    }
    Ok(())
}

/// A row of `cells` or `contrasts`: its cell, round, whose it is (a mechanism, or `A-B`) and
/// replications.
type Row = (u32, u32, String, u32);

/// The last round's value and SE of every measure, per cell, with the cell's replications.
fn read_measures(
    dir: &Path,
    measures: &[Measure],
    cells: usize,
) -> Result<Vec<(Vec<Estimate>, u64)>, RunnerError> {
    let view = RunView::open(dir)?;
    let contrasts = measures
        .iter()
        .any(|m| matches!(m, Measure::Contrast { .. }));
    let mut tables = vec![Table::Cells];
    if contrasts {
        tables.push(Table::Contrasts);
    }
    view.verified(&tables)?;
    let shown = dir.display().to_string();
    let cells_batches = read_table(dir, Table::Cells)?;
    let contrast_batches = if contrasts {
        read_table(dir, Table::Contrasts)?
    } else {
        Vec::new()
    };
    // Each row as (cell, round, whose: a mechanism, or "A-B" for a contrast, reps).
    let mut rows: Vec<(&RecordBatch, Vec<Row>)> = Vec::new();
    for b in &cells_batches {
        let c = CellsColumns::new(b)?;
        let r = (0..b.num_rows())
            .map(|i| {
                let who = c.mechanism.value(i).to_string();
                (c.cell.value(i), c.round.value(i), who, c.reps.value(i))
            })
            .collect();
        rows.push((b, r));
    }
    let first_contrast = rows.len();
    for b in &contrast_batches {
        let c = ContrastsColumns::new(b)?;
        let r = (0..b.num_rows())
            .map(|i| {
                let who = format!("{}-{}", c.mechanism_a.value(i), c.mechanism_b.value(i));
                (c.cell.value(i), c.round.value(i), who, c.reps.value(i))
            })
            .collect();
        rows.push((b, r));
    }
    let last = |range: std::ops::Range<usize>| {
        rows[range]
            .iter()
            .flat_map(|(_, r)| r.iter().map(|x| x.1))
            .max()
            .unwrap_or(0)
    };
    let (last_cells, last_contrasts) = (last(0..first_contrast), last(first_contrast..rows.len()));
    let mut out: Vec<(Vec<Option<Estimate>>, u64)> = vec![(vec![None; measures.len()], 0); cells];
    for (t, (b, r)) in rows.iter().enumerate() {
        let contrast = t >= first_contrast;
        let round = if contrast { last_contrasts } else { last_cells };
        for (k, m) in measures.iter().enumerate() {
            let whose = match m {
                Measure::Cells { mechanism, .. } if !contrast => mechanism.name.to_string(),
                Measure::Contrast { pair, .. } if contrast => pair.label(),
                _ => continue,
            };
            let (mean, se) = (
                float_column(b, &m.source_column(), &shown)?,
                float_column(b, &m.source_se_column(), &shown)?,
            );
            for (i, (cell, row_round, who, reps)) in r.iter().enumerate() {
                let cell = *cell as usize;
                if *row_round != round || *who != whose || cell >= cells {
                    continue;
                }
                out[cell].1 = out[cell].1.max(u64::from(*reps));
                if mean.is_null(i) || se.is_null(i) {
                    return Err(RunnerError::Refused(format!(
                        "{shown}: {} of {whose} is null (the mechanism does not compute that \
                         metric): choose a mechanism that does",
                        m.source_column(),
                    )));
                }
                out[cell].0[k] = Some(Estimate::new(mean.value(i), se.value(i)));
            }
        }
    }
    out.into_iter()
        .enumerate()
        .map(|(cell, (values, reps))| {
            let values = values
                .into_iter()
                .zip(measures)
                .map(|(v, m)| {
                    v.filter(|e| e.mean.is_finite() && e.se.is_finite())
                        .ok_or_else(|| {
                            RunnerError::Unreadable(format!(
                                "{shown}: cell {cell} has no finite {} (the contrasts of [output] \
                             contrasts must include the pair a search reads)",
                                m.column()
                            ))
                        })
                })
                .collect::<Result<Vec<_>, _>>()?;
            Ok((values, reps.max(1)))
        })
        .collect()
}

fn float_column<'a>(
    b: &'a RecordBatch,
    name: &str,
    shown: &str,
) -> Result<&'a Float64Array, RunnerError> {
    b.column_by_name(name)
        .and_then(|c| c.as_any().downcast_ref::<Float64Array>())
        .ok_or_else(|| RunnerError::Unreadable(format!("{shown}: no Float64 column `{name}`")))
}

/// The directory of step `step` (relative to the search's directory).
pub(crate) fn step_dir(step: u32) -> String {
    format!("generations/{step:04}")
}
