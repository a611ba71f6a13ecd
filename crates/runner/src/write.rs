//! The run loop: chunks of cells through the simulator into Parquet parts.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::Ordering;

use datapact_scenario::Scenario;
use datapact_sim::{Backend, CellJob, CellOutput, Depth, RunError, RunSpec, run_cells};
use datapact_trace::{
    CHUNK_KEY, CellsBuilder, ContrastsBuilder, DiagnosticsBuilder, EventsBuilder, FileMetadata,
    MAX_SHARDS, PartInfo, PartWriter, RoundsBuilder, RunView, Table, UsersBuilder,
};
use indicatif::{ProgressBar, ProgressStyle};

use crate::VERSION;
use crate::error::{RunnerError, io_err};
use crate::identity::{check_plugins, claim_directory};
use crate::lock::{lock_shard, remove_stale_temporaries};
use crate::manifest::{PartEntry, ShardRecord, merge_manifest, shard_record_path};
use crate::memory::{available_memory, check_fits, estimate_peak_bytes};
use crate::options::{MAX_THREADS, MechanismSummary, RunOptions, RunSummary};
use crate::plan::{ChunkPlan, chunk_plan};
use crate::resume::{chunk_record_path, kept_parts, known_parts};
use crate::rows::{ChunkWriters, append, flush, metric_columns};
use crate::spec::{contrast_positions, depth_of, plugin_list, stop_rule, tables_of};
use datapact_trace::atomic::write_json_atomic;

/// Runs this shard's chunks of `scenario` into `opts.out`, then writes its shard record and, if it
/// completes the set, `manifest.json`.
pub fn run(scenario: &Scenario, opts: &RunOptions) -> Result<RunSummary, RunnerError> {
    check_plugins(scenario, &opts.plugins)?;
    if let Some(r) = opts.replication
        && r >= scenario.replications
    {
        let count = match &scenario.adaptive {
            Some(a) => format!("adaptive, max = {}", a.max),
            None => format!("replications = {}", scenario.replications),
        };
        return Err(RunnerError::Refused(format!(
            "--rep {r}: scenario {:?} has replications 0..{} ({count})",
            scenario.name,
            scenario.replications - 1,
        )));
    }
    let spec = RunSpec {
        seed: scenario.seed,
        replications: if opts.replication.is_some() {
            1
        } else {
            scenario.replications
        },
        // `--rep R` plays replication R alone, adaptive or not: its stream is keyed by R.
        adaptive: scenario
            .adaptive
            .as_ref()
            .filter(|_| opts.replication.is_none())
            .map(|a| stop_rule(scenario, a)),
        first_replication: opts.replication.unwrap_or(0),
        mechanisms: scenario.mechanisms.iter().map(|m| m.index as u16).collect(),
        depth: depth_of(scenario.trace),
        backend: opts.backend,
        plugins: opts.plugins.clone(),
        variants: crate::spec::variant_specs(scenario),
    };
    if opts.backend == Backend::Direct {
        spec.direct_kernels().map_err(RunnerError::Refused)?;
    }
    // Every input check comes before anything is created: the shard count, the thread pool
    // and what is at `out` (claim_directory creates the directory only after its checks).
    if opts.threads > MAX_THREADS {
        return Err(RunnerError::Refused(format!(
            "--threads {}: at most {MAX_THREADS}",
            opts.threads
        )));
    }
    if opts.shard.count > MAX_SHARDS {
        return Err(RunnerError::Refused(format!(
            "--shard {}/{}: at most {MAX_SHARDS} shards",
            opts.shard.index, opts.shard.count
        )));
    }
    let plan = chunk_plan(scenario);
    if plan.chunks() > datapact_trace::MAX_CHUNKS {
        return Err(RunnerError::Refused(format!(
            "output.chunk_cells = {} splits {} cells into {} chunks, more than {} (part files \
             are numbered with six digits); raise output.chunk_cells or leave it automatic",
            plan.chunk_cells,
            plan.cells,
            plan.chunks(),
            datapact_trace::MAX_CHUNKS
        )));
    }
    // Refused before anything is created when the run cannot fit: an allocation failure
    // half-way would lose the chunk in progress (or the kernel would kill the process).
    let estimate = estimate_peak_bytes(
        scenario,
        opts.threads,
        opts.backend,
        spec.replications,
        spec.plugins.plays_kernels_only(),
    );
    let available = available_memory().map_err(RunnerError::Refused)?;
    check_fits(scenario, &estimate, available.as_ref(), opts.threads)
        .map_err(RunnerError::Refused)?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(opts.threads.max(1))
        .build()
        .map_err(|e| RunnerError::Refused(format!("cannot start {} threads: {e}", opts.threads)))?;
    claim_directory(
        &opts.out,
        scenario,
        &opts.plugins,
        opts.shard,
        opts.replication,
    )?;
    // Held until this function returns: a second writer of this shard is refused.
    let _lock = lock_shard(&opts.out, opts.shard)?;
    remove_stale_temporaries(&opts.out, opts.shard)?;
    crate::identity::write_design_points(&opts.out, scenario)?;
    let view = RunView::open(&opts.out)?;
    if !view.strays.is_empty() {
        return Err(RunnerError::Refused(format!(
            "{} holds files no chunk of this run writes: {}; move them away, they would be \
             read as outputs",
            opts.out.display(),
            view.strays.join(", ")
        )));
    }
    let tables = tables_of(scenario.trace);
    let columns: Vec<datapact_trace::Categorical> = scenario
        .sweep
        .iter()
        .map(|a| datapact_trace::Categorical {
            name: a.column.clone(),
            labels: a.labels(),
        })
        .collect();
    let mut metadata = FileMetadata {
        scenario_name: scenario.name.clone(),
        // A listed design's points are stored once, in `design_points.parquet`: the parts
        // name that file (and its checksum, below) instead of listing every point.
        scenario_toml: scenario.canonical(),
        scenario_hash: scenario.hash(),
        version: VERSION.to_string(),
        seed: scenario.seed,
        // Only the normalised scenario (above) is embedded, never the file's bytes: an
        // equivalent file (CRLF, comments, key order) must write identical parts.
        extra: vec![(
            "datapact.plugins".into(),
            plugin_list(&opts.plugins, scenario).join("\n"),
        )],
    };
    if let Some((_, points)) = crate::manifest::design_points_of(scenario) {
        metadata
            .extra
            .push((datapact_trace::keys::DESIGN_POINTS.into(), points.sha256));
    }
    if let Some(r) = opts.replication {
        metadata
            .extra
            .push((datapact_trace::keys::REPLICATION.into(), r.to_string()));
    }
    // Per-user and per-event rows are large: hold one cell per thread at a time.
    let window = if spec.depth >= Depth::Users {
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
        known_parts(&view)
    } else {
        HashMap::new()
    };
    for &chunk in &my_chunks {
        if opts.resume
            && let Some(kept) = kept_parts(&view, &tables, chunk, &known)
        {
            parts.extend(kept.iter().map(|i| entry(&opts.out, i)));
            summary.chunks_kept += 1;
            let kept_cells = plan.cells_of(chunk).len();
            bar.inc(kept_cells as u64);
            count_done(opts, kept_cells);
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
        let entries: Vec<PartEntry> = infos.iter().map(|i| entry(&opts.out, i)).collect();
        // What `--resume` checks the parts against when no shard record was written (kill -9).
        let record = chunk_record_path(&opts.out, chunk);
        write_json_atomic(&record, &entries).map_err(io_err(&record))?;
        parts.extend(entries);
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

fn count_done(opts: &RunOptions, cells: usize) {
    if let Some(done) = &opts.cells_done {
        done.fetch_add(cells, Ordering::Relaxed);
    }
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

#[allow(clippy::too_many_arguments)]
fn run_chunk(
    scenario: &Scenario,
    plan: &ChunkPlan,
    chunk: usize,
    tables: &[Table],
    columns: &[datapact_trace::Categorical],
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
    let mut metadata = metadata.clone();
    metadata
        .extra
        .push((CHUNK_KEY.to_string(), chunk.to_string()));
    // A scenario with a network writes each table's network columns (none otherwise: its
    // files are those of a run before networks existed).
    let network = scenario.has_network();
    let create = |t: Table| {
        PartWriter::create(
            out,
            t,
            &name,
            datapact_trace::schema_of(t, columns, &metrics, network)?,
            &metadata,
        )
    };
    let mut w = ChunkWriters {
        cells: (create(Table::Cells)?, {
            let b = CellsBuilder::new(scen, seed, columns, &metrics)?;
            if network { b.with_network() } else { b }
        }),
        diagnostics: (
            create(Table::Diagnostics)?,
            DiagnosticsBuilder::new(scen, seed, columns),
        ),
        contrasts: (
            create(Table::Contrasts)?,
            ContrastsBuilder::new(scen, seed, columns),
        ),
        pairs: contrast_positions(scenario),
        rounds: if tables.contains(&Table::Rounds) {
            Some((create(Table::Rounds)?, {
                let b = RoundsBuilder::new(scen, seed, columns, &metrics)?;
                if network { b.with_network() } else { b }
            }))
        } else {
            None
        },
        users: if tables.contains(&Table::Users) {
            Some((create(Table::Users)?, {
                let b = UsersBuilder::new(scen, seed, columns);
                if network { b.with_network() } else { b }
            }))
        } else {
            None
        },
        events: if tables.contains(&Table::Events) {
            Some((create(Table::Events)?, {
                let b = EventsBuilder::new(scen, seed, columns);
                if network { b.with_network() } else { b }
            }))
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
        opts.cancel.as_ref(),
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
            count_done(opts, 1);
            Ok(())
        },
    );
    match result {
        Ok(()) => {}
        Err(RunError::Invariant(v)) => return Err(RunnerError::Invariant(v)),
        Err(RunError::Deliver(e)) => return Err(e),
        // The chunk's writers are dropped unfinished: their temporaries are deleted.
        Err(RunError::Cancelled) => return Err(RunnerError::Interrupted),
    }
    flush(&mut w.cells, true)?;
    flush(&mut w.diagnostics, true)?;
    flush(&mut w.contrasts, true)?;
    let mut infos = vec![
        w.cells.0.finish()?,
        w.diagnostics.0.finish()?,
        w.contrasts.0.finish()?,
    ];
    if let Some(mut r) = w.rounds {
        flush(&mut r, true)?;
        infos.push(r.0.finish()?);
    }
    if let Some(mut u) = w.users {
        flush(&mut u, true)?;
        infos.push(u.0.finish()?);
    }
    if let Some(mut e) = w.events {
        flush(&mut e, true)?;
        infos.push(e.0.finish()?);
    }
    Ok(infos)
}

#[cfg(test)]
mod tests {
    use datapact_model::stats::Stat;
    use datapact_trace::Table;

    /// The metrics an adaptive rule may target are `cells` columns, each with its SE column
    /// (`success_rate` has `success_se`, `X_mean` has `X_se`): the scenario reader's list and the
    /// table's declaration agree.
    #[test]
    fn adaptive_metrics_are_cells_columns_with_an_se() {
        let names: Vec<&str> = Table::Cells.columns().iter().map(|c| c.name).collect();
        for m in Stat::WITH_SE {
            let (column, se) = (m.column(), m.spec().se_column.unwrap());
            assert!(names.contains(&column), "{column}");
            assert!(names.contains(&se), "{se}");
        }
    }
}
