//! `datapact run`: one scenario (or the cells `--only` names, or one replication) into an output
//! directory, sharded by `--shard` or a Slurm array.

use std::path::{Path, PathBuf};

use datapact_runner::{RunOptions, RunSummary, Shard};
use datapact_scenario::Scenario;
use datapact_sim::Backend;

use crate::context::{Context, load, memory_line, thread_count};
use crate::failure::Failure;
use crate::signals::Signals;

/// `datapact run SCENARIO [--out DIR] [--threads N] [--set K=V]... [--shard I/N] [--resume]
/// [--only K=V,...] [--rep R]`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn run(
    cx: &Context,
    scenario: String,
    out: Option<PathBuf>,
    threads: Option<usize>,
    set: Vec<String>,
    shard: Option<String>,
    resume: bool,
    direct: bool,
    quiet: bool,
    only: Option<String>,
    rep: Option<u32>,
) -> Result<(), Failure> {
    let mut loaded = load(cx, &scenario, &set)?;
    if let Some(only) = &only {
        let mut narrowed = set.clone();
        narrowed.extend(only_overrides(&loaded, only)?);
        loaded = load(cx, &scenario, &narrowed)?;
    }
    let scenario = loaded;
    let shard = match shard {
        Some(s) => Shard::parse(&s).map_err(|m| Failure {
            code: 2,
            message: m,
        })?,
        None => shard_from_env()?,
    };
    let threads = thread_count(threads)?;
    let out = out.unwrap_or_else(|| PathBuf::from("results").join(&scenario.name));
    let signals = Signals::install()?;
    signals.watch(out.clone(), shard);
    let opts = RunOptions {
        out: out.clone(),
        threads,
        shard,
        resume,
        progress: !quiet,
        backend: if direct {
            Backend::Direct
        } else {
            Backend::Ecs
        },
        cancel: Some(signals.stop.clone()),
        plugins: cx.plugins.clone(),
        cells_done: None,
        replication: rep,
    };
    let plan = datapact_runner::chunk_plan(&scenario);
    let owned = (0..plan.chunks()).filter(|c| shard.owns(*c)).count();
    if owned == 0 {
        eprintln!(
            "datapact: shard {}/{} has no work: the scenario has {} cells in {} chunks \
             (chunks I, I+N, ... go to shard I); use at most {} shards",
            shard.index,
            shard.count,
            plan.cells,
            plan.chunks(),
            plan.chunks()
        );
    }
    if !quiet {
        eprintln!(
            "datapact: {}",
            memory_line(
                cx,
                &scenario,
                threads,
                opts.backend,
                rep.map_or(scenario.replications, |_| 1)
            )
        );
    }
    let started = std::time::Instant::now();
    let summary = datapact_runner::run(&scenario, &opts).map_err(|e| signals.exit_code(e))?;
    print_summary(&scenario, &summary, &out, shard, started.elapsed());
    Ok(())
}

/// `--only KEY=VALUE,...` as `--set sweep.KEY={ values = [V] }` overrides: each key must be
/// swept and each value on its axis: the axis value equal to it if there is one, else the
/// nearest within 1e-9 relative (then the axis's own value is used, so the cell's game, and
/// hence its draws, are exactly those of the whole run). Never a neighbouring value when the
/// value itself is on the axis, however close the two are.
fn only_overrides(scenario: &Scenario, only: &str) -> Result<Vec<String>, Failure> {
    let bad = |message: String| Failure { code: 2, message };
    let swept: Vec<&str> = scenario.sweep.iter().map(|a| a.key.as_str()).collect();
    let mut overrides = Vec::new();
    for pair in split_pairs(only)
        .into_iter()
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        let (key, value) = pair
            .split_once('=')
            .ok_or_else(|| bad(format!("--only {pair:?}: expected KEY=VALUE")))?;
        let (key, value) = (key.trim(), value.trim());
        let axis = scenario
            .sweep
            .iter()
            .find(|a| a.key == key)
            .ok_or_else(|| {
                bad(format!(
                    "--only {key}: not swept in {} (swept keys: {})",
                    scenario.origin,
                    if swept.is_empty() {
                        "none".to_string()
                    } else {
                        swept.join(", ")
                    }
                ))
            })?;
        // A categorical axis: the value is a category's label, re-written as its TOML value.
        if !axis.categories().is_empty() {
            let labels = axis.labels();
            let Some(i) = labels.iter().position(|l| l == value) else {
                return Err(bad(format!(
                    "--only {key}={value}: not a value of the axis; {key} takes {}",
                    labels.join(", ")
                )));
            };
            overrides.push(format!(
                "sweep.{key}={{ values = [{}] }}",
                axis.categories()[i].toml()
            ));
            continue;
        }
        let v: f64 = value
            .parse()
            .map_err(|_| bad(format!("--only {key}={value}: not a number")))?;
        let distance = |a: &f64| (a - v).abs();
        let on_axis = axis
            .values
            .iter()
            .find(|a| **a == v)
            .or_else(|| {
                axis.values
                    .iter()
                    .filter(|a| distance(a) <= 1e-9 * a.abs().max(v.abs()).max(1e-300))
                    .min_by(|a, b| distance(a).total_cmp(&distance(b)))
            })
            .ok_or_else(|| {
                let values: Vec<String> = axis.values.iter().map(|a| a.to_string()).collect();
                bad(format!(
                    "--only {key}={value}: not a value of the axis; {key} takes {}",
                    values.join(", ")
                ))
            })?;
        overrides.push(format!("sweep.{key}={{ values = [{on_axis}] }}"));
    }
    if overrides.is_empty() {
        return Err(bad("--only: name at least one KEY=VALUE".into()));
    }
    Ok(overrides)
}

/// `--only`'s pairs: split at the commas outside parentheses (a cost distribution's label,
/// `beta(alpha=2,beta=5)`, holds commas).
fn split_pairs(only: &str) -> Vec<&str> {
    let (mut out, mut depth, mut start) = (Vec::new(), 0i32, 0);
    for (i, c) in only.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(&only[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&only[start..]);
    out
}

/// The shard of a Slurm array task. Only a whole array `--array=0-(N-1)` maps task IDs to shards
/// unambiguously; a partial array (say a resubmitted `--array=2`) must pass `--shard I/N` itself.
fn shard_from_env() -> Result<Shard, Failure> {
    let var = |k: &str| std::env::var(k).ok();
    let (Some(id), Some(count)) = (var("SLURM_ARRAY_TASK_ID"), var("SLURM_ARRAY_TASK_COUNT"))
    else {
        return Ok(Shard::WHOLE);
    };
    let refuse = |m: String| Failure {
        code: 2,
        message: format!("from SLURM_ARRAY_TASK_ID/COUNT: {m}"),
    };
    let shard = Shard::parse(&format!("{id}/{count}")).map_err(refuse)?;
    let (min, max) = (var("SLURM_ARRAY_TASK_MIN"), var("SLURM_ARRAY_TASK_MAX"));
    let whole = min.as_deref().is_none_or(|m| m == "0")
        && max
            .as_deref()
            .is_none_or(|m| m.parse::<usize>().ok() == Some(shard.count - 1));
    if !whole {
        return Err(refuse(format!(
            "the job array is not 0-{} (min {}, max {}); pass --shard I/N explicitly when re-running part of an array",
            shard.count - 1,
            min.unwrap_or_default(),
            max.unwrap_or_default()
        )));
    }
    Ok(shard)
}

fn print_summary(
    scenario: &Scenario,
    s: &RunSummary,
    out: &Path,
    shard: Shard,
    elapsed: std::time::Duration,
) {
    println!(
        "{}: {} cells computed, {} chunks kept, shard {}/{}, {:.2} s -> {}",
        scenario.name,
        s.cells_run,
        s.chunks_kept,
        shard.index,
        shard.count,
        elapsed.as_secs_f64(),
        out.display()
    );
    if s.cells_run > 0 {
        println!(
            "{:<10} {:>8} {:>14} {:>14} {:>14} {:>12}",
            "mechanism", "cells", "success rate", "welfare", "leakage", "leaky cells"
        );
        for (m, x) in &s.mechanisms {
            let k = x.cells.max(1) as f64;
            println!(
                "{:<10} {:>8} {:>14.4} {:>14.4} {:>14.6} {:>12}",
                m,
                x.cells,
                x.success / k,
                x.welfare / k,
                x.leakage / k,
                x.leaky_cells
            );
        }
        println!("(means over computed cells of the per-cell means)");
    }
    if s.manifest_written {
        println!("manifest: {}", out.join("manifest.json").display());
    } else {
        println!(
            "shard done; manifest.json is written when every shard has finished (see `datapact status {}`)",
            out.display()
        );
    }
}
