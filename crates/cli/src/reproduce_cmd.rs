//! `datapact reproduce`: every embedded paper scenario (skipping finished ones), then the report.

use std::path::{Path, PathBuf};
use std::time::Instant;

use datapact_runner::{RunOptions, Shard};
use datapact_scenario::Scenario;
use datapact_sim::Backend;

use crate::context::Context;
use crate::embedded;
use crate::failure::Failure;
use crate::report_cmd::{print_report, reference};
use crate::signals::Signals;

/// Whether `dir` already holds the finished, consistent outputs of `scenario` (same hash).
fn already_done(dir: &Path, scenario: &Scenario) -> bool {
    datapact_runner::RunView::open(dir).is_ok_and(|view| {
        view.finished()
            .is_ok_and(|m| m.scenario_hash == scenario.hash())
    })
}

/// `datapact reproduce [--out DIR] [--threads N]`.
pub(crate) fn reproduce(
    cx: &Context,
    out: Option<PathBuf>,
    threads: usize,
    quiet: bool,
) -> Result<(), Failure> {
    let out = out.unwrap_or_else(|| PathBuf::from("results").join("paper"));
    let started = Instant::now();
    let signals = Signals::install()?;
    for (name, text) in embedded::PAPER {
        let scenario = Scenario::from_str_with(
            &cx.catalog,
            text,
            &format!("<embedded>/paper/{name}.toml"),
            &[],
        )?;
        let dir = out.join(&scenario.name);
        if already_done(&dir, &scenario) {
            println!(
                "{}: already computed (same scenario hash) in {}, skipped",
                scenario.name,
                dir.display()
            );
            continue;
        }
        let opts = RunOptions {
            out: dir.clone(),
            threads,
            shard: Shard::WHOLE,
            // keep the complete chunks of an interrupted earlier reproduction
            resume: true,
            progress: !quiet,
            backend: Backend::Ecs,
            cancel: Some(signals.stop.clone()),
            plugins: cx.plugins.clone(),
            cells_done: None,
            replication: None,
        };
        let t = Instant::now();
        let summary = datapact_runner::run(&scenario, &opts).map_err(|e| signals.exit_code(e))?;
        println!(
            "{}: {} cells × {} replications, {} chunks kept, {:.1} s -> {}",
            scenario.name,
            summary.cells_run,
            scenario.replications,
            summary.chunks_kept,
            t.elapsed().as_secs_f64(),
            dir.display()
        );
    }
    let output = datapact_report::render_report(&out, &out.join("report"), &reference(cx)?)?;
    print_report(&output);
    println!(
        "reproduction done in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
