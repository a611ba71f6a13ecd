//! The run loop: chunks of cells through the simulator into Parquet parts.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use datapact_scenario::{Scenario, TraceLevel};
use datapact_sim::{Backend, CellJob, CellOutput, Depth, PluginSet, RunError, RunSpec, run_cells};
use datapact_trace::{
    BatchBuilder, CellRow, CellsBuilder, DiagnosticsBuilder, DiagnosticsRow, EventRow,
    EventsBuilder, FileMetadata, MetricColumn, MetricSummary, PartInfo, PartWriter, RoundRow,
    RoundStatus, RoundsBuilder, Table, TraceError,
};
use indicatif::{ProgressBar, ProgressStyle};

use crate::VERSION;
use crate::manifest::{
    Manifest, PartEntry, ShardRecord, create_json_exclusive, read_shard_record, shard_record_path,
    shard_records, write_json_atomic,
};
use crate::plan::{ChunkPlan, Shard};

/// Rows buffered per table before a record batch goes to the writer.
const FLUSH_ROWS: usize = 65_536;

#[derive(Clone, Debug)]
pub struct RunOptions {
    pub out: PathBuf,
    /// Worker threads (≥ 1).
    pub threads: usize,
    pub shard: Shard,
    /// Keep chunks whose parts are already complete and compute only the rest.
    pub resume: bool,
    /// Show a progress bar on stderr.
    pub progress: bool,
    pub backend: Backend,
    /// Set (e.g. by a signal handler) to stop after the current cells; the unfinished chunk is discarded.
    pub cancel: Option<Arc<AtomicBool>>,
    /// The app's mechanisms, strategies and metrics (`PluginSet::core()` for the `datapact`
    /// binary); the scenario must have been loaded against its catalog. Recorded in the run's
    /// identity, the manifest and every file's metadata.
    pub plugins: Arc<PluginSet>,
}

impl RunOptions {
    /// Options for writing to `out` with the core plugins: one thread, no shard, no resume, no
    /// progress bar, the ECS backend.
    pub fn new(out: impl Into<PathBuf>) -> Self {
        RunOptions {
            out: out.into(),
            threads: 1,
            shard: Shard::WHOLE,
            resume: false,
            progress: false,
            backend: Backend::Ecs,
            cancel: None,
            plugins: Arc::new(PluginSet::core()),
        }
    }
}

/// The plugin set as recorded in outputs: `name version` per plugin, in order.
pub fn plugin_list(plugins: &PluginSet) -> Vec<String> {
    plugins
        .plugins()
        .iter()
        .map(|p| {
            if p.version.is_empty() {
                p.name.clone()
            } else {
                format!("{} {}", p.name, p.version)
            }
        })
        .collect()
}

/// Per mechanism, sums over the cells this run computed (for the summary table).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MechanismSummary {
    pub cells: usize,
    pub success: f64,
    pub welfare: f64,
    pub leakage: f64,
    pub leaky_cells: usize,
}

#[derive(Clone, Debug, Default)]
pub struct RunSummary {
    pub cells_run: usize,
    pub chunks_run: usize,
    pub chunks_kept: usize,
    /// Per mechanism name, in output order.
    pub mechanisms: Vec<(&'static str, MechanismSummary)>,
    /// Whether this run completed the set of shards and wrote `manifest.json`.
    pub manifest_written: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum RunnerError {
    #[error("{path}: {message}")]
    Io { path: PathBuf, message: String },
    #[error(transparent)]
    Trace(#[from] TraceError),
    #[error("model invariant violated: {0}")]
    Invariant(datapact_sim::InvariantViolation),
    #[error("{0}")]
    Refused(String),
    /// A file of an earlier run that does not read back; the message names it.
    #[error("{0}")]
    Unreadable(String),
    #[error("interrupted: finished chunks are kept; rerun with --resume to complete")]
    Interrupted,
    #[error(
        "{file}: column {column} would hold NaN; nothing was written (a bug: please report the scenario)"
    )]
    NotANumber { file: PathBuf, column: String },
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> RunnerError + '_ {
    move |e| RunnerError::Io {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

pub fn depth_of(trace: TraceLevel) -> Depth {
    match trace {
        TraceLevel::Cells => Depth::Cells,
        TraceLevel::Rounds => Depth::Rounds,
        TraceLevel::Events => Depth::Events,
    }
}

/// The tables a scenario writes.
pub fn tables_of(trace: TraceLevel) -> Vec<Table> {
    let mut tables = vec![Table::Cells, Table::Diagnostics];
    if trace >= TraceLevel::Rounds {
        tables.push(Table::Rounds);
    }
    if trace >= TraceLevel::Events {
        tables.push(Table::Events);
    }
    tables
}

/// The identity of an output directory, written when a run starts; later runs into the same
/// directory (shards, resumes) must match it.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
struct RunIdentity {
    scenario_name: String,
    scenario_hash: String,
    seed: u64,
    version: String,
    /// The plugins the outputs were made with (`name version`, in order).
    plugins: Vec<String>,
}

fn claim_directory(
    out: &Path,
    scenario: &Scenario,
    plugins: &PluginSet,
) -> Result<(), RunnerError> {
    std::fs::create_dir_all(out).map_err(io_err(out))?;
    let identity = RunIdentity {
        scenario_name: scenario.name.clone(),
        scenario_hash: scenario.hash(),
        seed: scenario.seed,
        version: VERSION.to_string(),
        plugins: plugin_list(plugins),
    };
    let path = out.join("_run.json");
    // Shards of an array start together: exactly one creates the identity, the others (and
    // later resumes) compare against it.
    if create_json_exclusive(&path, &identity).map_err(io_err(&path))? {
        return Ok(());
    }
    let text = std::fs::read_to_string(&path).map_err(io_err(&path))?;
    let found: RunIdentity = serde_json::from_str(&text).map_err(|e| {
        RunnerError::Refused(format!(
            "{}: unreadable ({e}); not a datapact output?",
            path.display()
        ))
    })?;
    if found != identity {
        return Err(RunnerError::Refused(format!(
            "{} holds outputs of scenario {:?} (hash {}, seed {}, datapact {}, plugins {}), not of {:?} (hash {}, seed {}, datapact {}, plugins {}); \
             use another --out directory",
            out.display(),
            found.scenario_name,
            &found.scenario_hash[..12.min(found.scenario_hash.len())],
            found.seed,
            found.version,
            found.plugins.join(", "),
            identity.scenario_name,
            &identity.scenario_hash[..12],
            identity.seed,
            identity.version,
            identity.plugins.join(", ")
        )));
    }
    Ok(())
}

/// Checksums recorded by earlier runs into `out` (the manifest and every shard record).
fn known_checksums(out: &Path) -> HashMap<String, String> {
    let mut known = HashMap::new();
    if let Ok(m) = crate::manifest::read_manifest(out) {
        known.extend(m.parts.into_iter().map(|p| (p.file, p.sha256)));
    }
    for (shard, shards) in shard_records(out).unwrap_or_default() {
        if let Ok(r) = read_shard_record(&shard_record_path(out, shard, shards)) {
            known.extend(r.parts.into_iter().map(|p| (p.file, p.sha256)));
        }
    }
    known
}

/// The parts of a chunk left by an earlier run, if every table has one under its final name that
/// reads back whole and matches any checksum recorded for it. Parts are renamed into place only
/// when complete, so this fails only on damage after the fact; such a chunk is recomputed.
fn kept_parts(
    out: &Path,
    tables: &[Table],
    chunk: usize,
    known: &HashMap<String, String>,
) -> Option<Vec<PartInfo>> {
    let name = ChunkPlan::part_name(chunk);
    tables
        .iter()
        .map(|t| {
            let file = format!("{}/{name}.parquet", t.dir_name());
            crate::verify::inspect_part(&out.join(&file), known.get(&file).map(String::as_str)).ok()
        })
        .collect()
}

pub fn run(scenario: &Scenario, opts: &RunOptions) -> Result<RunSummary, RunnerError> {
    opts.plugins
        .validate()
        .map_err(|e| RunnerError::Refused(e.to_string()))?;
    if *scenario.catalog != *opts.plugins.catalog() {
        return Err(RunnerError::Refused(format!(
            "scenario {:?} was validated against other mechanisms and strategies than this \
             app registers; load it with the app's catalog",
            scenario.name
        )));
    }
    let spec = RunSpec {
        seed: scenario.seed,
        replications: scenario.replications,
        mechanisms: scenario.mechanisms.iter().map(|m| m.index as u16).collect(),
        depth: depth_of(scenario.trace),
        backend: opts.backend,
        plugins: opts.plugins.clone(),
    };
    if opts.backend == Backend::Direct {
        spec.direct_kernels().map_err(RunnerError::Refused)?;
    }
    claim_directory(&opts.out, scenario, &opts.plugins)?;
    let plan = ChunkPlan::for_scenario(scenario);
    let tables = tables_of(scenario.trace);
    let columns: Vec<String> = scenario.sweep.iter().map(|a| a.column.clone()).collect();
    let metadata = FileMetadata {
        scenario_name: scenario.name.clone(),
        scenario_toml: scenario.normalized(),
        scenario_hash: scenario.hash(),
        version: VERSION.to_string(),
        seed: scenario.seed,
        extra: vec![
            ("datapact.scenario_source".into(), scenario.source.clone()),
            (
                "datapact.plugins".into(),
                plugin_list(&opts.plugins).join("\n"),
            ),
        ],
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(opts.threads.max(1))
        .build()
        .map_err(|e| RunnerError::Refused(format!("cannot start {} threads: {e}", opts.threads)))?;
    let window = if spec.depth == Depth::Events {
        opts.threads.max(1)
    } else {
        plan.chunk_cells
    };

    let my_chunks: Vec<usize> = (0..plan.chunks()).filter(|c| opts.shard.owns(*c)).collect();
    let my_cells: usize = my_chunks.iter().map(|c| plan.cells_of(*c).len()).sum();
    let bar = if opts.progress {
        ProgressBar::new(my_cells as u64)
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} {elapsed_precise} [{bar:40}] {pos}/{len} cells ({eta} left)",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );

    let mut summary = RunSummary {
        mechanisms: scenario
            .mechanisms
            .iter()
            .map(|m| (m.name, MechanismSummary::default()))
            .collect(),
        ..Default::default()
    };
    let mut parts: Vec<PartEntry> = Vec::new();
    let known = if opts.resume {
        known_checksums(&opts.out)
    } else {
        HashMap::new()
    };
    for &chunk in &my_chunks {
        if opts.resume
            && let Some(kept) = kept_parts(&opts.out, &tables, chunk, &known)
        {
            parts.extend(kept.iter().map(|i| entry(&opts.out, i)));
            summary.chunks_kept += 1;
            bar.inc(plan.cells_of(chunk).len() as u64);
            continue;
        }
        if opts
            .cancel
            .as_ref()
            .is_some_and(|c| c.load(Ordering::Relaxed))
        {
            return Err(RunnerError::Interrupted);
        }
        let infos = run_chunk(
            scenario,
            &plan,
            chunk,
            &tables,
            &columns,
            &metadata,
            &spec,
            &pool,
            window,
            opts,
            &bar,
            &mut summary,
        )?;
        parts.extend(infos.iter().map(|i| entry(&opts.out, i)));
        summary.chunks_run += 1;
    }
    bar.finish_and_clear();

    parts.sort();
    let record = ShardRecord {
        shard: opts.shard.index,
        shards: opts.shard.count,
        scenario_hash: scenario.hash(),
        version: VERSION.to_string(),
        chunks: my_chunks,
        parts,
    };
    let record_path = shard_record_path(&opts.out, opts.shard.index, opts.shard.count);
    write_json_atomic(&record_path, &record).map_err(io_err(&record_path))?;
    summary.manifest_written =
        merge_manifest(&opts.out, scenario, &opts.plugins, &plan, opts.shard.count)?;
    Ok(summary)
}

fn entry(out: &Path, info: &PartInfo) -> PartEntry {
    let file = info
        .path
        .strip_prefix(out)
        .unwrap_or(&info.path)
        .to_string_lossy()
        .replace('\\', "/");
    PartEntry {
        file,
        rows: info.rows,
        sha256: info.sha256.clone(),
    }
}

/// Writes `manifest.json` if every shard of `shards` has recorded its parts. Returns whether it did.
pub fn merge_manifest(
    out: &Path,
    scenario: &Scenario,
    plugins: &PluginSet,
    plan: &ChunkPlan,
    shards: usize,
) -> Result<bool, RunnerError> {
    let mut parts = Vec::new();
    for shard in 0..shards {
        let path = shard_record_path(out, shard, shards);
        if !path.is_file() {
            return Ok(false);
        }
        let record = read_shard_record(&path).map_err(RunnerError::Unreadable)?;
        parts.extend(record.parts);
    }
    parts.sort();
    let mut rows = std::collections::BTreeMap::new();
    for p in &parts {
        let table = p.file.split('/').next().unwrap_or("").to_string();
        *rows.entry(table).or_insert(0) += p.rows;
    }
    let manifest = Manifest {
        datapact_version: VERSION.to_string(),
        schema_version: datapact_trace::SCHEMA_VERSION.to_string(),
        scenario_name: scenario.name.clone(),
        scenario_hash: scenario.hash(),
        seed: scenario.seed,
        replications: scenario.replications,
        mechanisms: scenario
            .mechanisms
            .iter()
            .map(|m| m.name.to_string())
            .collect(),
        plugins: plugin_list(plugins),
        metrics: plugins
            .metrics()
            .iter()
            .map(|m| m.name.to_string())
            .collect(),
        trace: scenario.trace.as_str().to_string(),
        sweep: scenario
            .sweep
            .iter()
            .map(|a| (a.key.clone(), a.column.clone()))
            .collect(),
        cells: plan.cells,
        chunk_cells: plan.chunk_cells,
        chunks: plan.chunks(),
        shards,
        rows,
        parts,
        scenario: scenario.normalized(),
    };
    let path = out.join("manifest.json");
    write_json_atomic(&path, &manifest).map_err(io_err(&path))?;
    Ok(true)
}

struct ChunkWriters {
    cells: (PartWriter, CellsBuilder),
    diagnostics: (PartWriter, DiagnosticsBuilder),
    rounds: Option<(PartWriter, RoundsBuilder)>,
    events: Option<(PartWriter, EventsBuilder)>,
}

fn flush<B: BatchBuilder>(w: &mut (PartWriter, B), force: bool) -> Result<(), RunnerError> {
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

#[allow(clippy::too_many_arguments)]
fn run_chunk(
    scenario: &Scenario,
    plan: &ChunkPlan,
    chunk: usize,
    tables: &[Table],
    columns: &[String],
    metadata: &FileMetadata,
    spec: &RunSpec,
    pool: &rayon::ThreadPool,
    window: usize,
    opts: &RunOptions,
    bar: &ProgressBar,
    summary: &mut RunSummary,
) -> Result<Vec<PartInfo>, RunnerError> {
    let name = ChunkPlan::part_name(chunk);
    let (out, scen, seed) = (&opts.out, scenario.name.as_str(), scenario.seed);
    let metrics = metric_columns(&spec.plugins);
    let create = |t: Table| {
        PartWriter::create(
            out,
            t,
            &name,
            datapact_trace::schema(t, columns, &metrics)?,
            metadata,
        )
    };
    let mut w = ChunkWriters {
        cells: (
            create(Table::Cells)?,
            CellsBuilder::new(scen, seed, columns, &metrics)?,
        ),
        diagnostics: (
            create(Table::Diagnostics)?,
            DiagnosticsBuilder::new(scen, seed, columns),
        ),
        rounds: if tables.contains(&Table::Rounds) {
            Some((
                create(Table::Rounds)?,
                RoundsBuilder::new(scen, seed, columns, &metrics)?,
            ))
        } else {
            None
        },
        events: if tables.contains(&Table::Events) {
            Some((
                create(Table::Events)?,
                EventsBuilder::new(scen, seed, columns),
            ))
        } else {
            None
        },
    };
    let cells: Vec<datapact_scenario::Cell> =
        plan.cells_of(chunk).map(|i| scenario.cell(i)).collect();
    let jobs: Vec<CellJob> = cells
        .iter()
        .map(|c| CellJob {
            index: c.index,
            game: c.game.clone(),
        })
        .collect();
    let first = plan.cells_of(chunk).start;
    let result = run_cells(
        &jobs,
        spec,
        pool,
        window,
        |output: CellOutput| -> Result<(), RunnerError> {
            if opts
                .cancel
                .as_ref()
                .is_some_and(|c| c.load(Ordering::Relaxed))
            {
                return Err(RunnerError::Interrupted);
            }
            let coords = &cells[output.cell - first].coords;
            append(&mut w, spec, &output, coords, summary)?;
            summary.cells_run += 1;
            bar.inc(1);
            Ok(())
        },
    );
    match result {
        Ok(()) => {}
        Err(RunError::Invariant(v)) => return Err(RunnerError::Invariant(v)),
        Err(RunError::Deliver(e)) => return Err(e),
    }
    flush(&mut w.cells, true)?;
    flush(&mut w.diagnostics, true)?;
    let mut infos = vec![w.cells.0.finish()?, w.diagnostics.0.finish()?];
    if let Some(mut r) = w.rounds {
        flush(&mut r, true)?;
        infos.push(r.0.finish()?);
    }
    if let Some(mut e) = w.events {
        flush(&mut e, true)?;
        infos.push(e.0.finish()?);
    }
    Ok(infos)
}

/// The plugins' metrics as output columns, in registration order.
pub fn metric_columns(plugins: &PluginSet) -> Vec<MetricColumn> {
    plugins
        .metrics()
        .iter()
        .map(|m| MetricColumn::new(m.name, m.description))
        .collect()
}

fn append(
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
