//! `datapact reproduce`: every embedded paper scenario (skipping finished ones), then the report;
//! with `--seeds K`, the runs the claims read also under K − 1 further seeds.

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

/// What an interrupted reproduction says: how it continues.
const INTERRUPTED: &str = "interrupted: run the same command again (same --out and --seeds) to \
     continue: finished runs are skipped, the one in progress keeps its finished chunks, and \
     the report is drawn at the end";

/// Whether `dir` already holds the finished, consistent outputs of `scenario` (same hash).
fn already_done(dir: &Path, scenario: &Scenario) -> bool {
    datapact_runner::RunView::open(dir).is_ok_and(|view| {
        view.finished()
            .is_ok_and(|m| m.scenario_hash == scenario.hash())
    })
}

/// Runs the embedded paper scenarios named by `only` (all if None), seeds raised by `offset`,
/// into `out/<name>`, skipping finished ones.
fn run_paper(
    cx: &Context,
    out: &Path,
    offset: u64,
    only: Option<&[&str]>,
    threads: usize,
    quiet: bool,
    signals: &Signals,
) -> Result<(), Failure> {
    for (name, text) in embedded::PAPER {
        if only.is_some_and(|o| !o.contains(name)) {
            continue;
        }
        let scenario = crate::paper_scenario(&cx.catalog, name, text, offset)?;
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
        let summary = datapact_runner::run(&scenario, &opts).map_err(|e| {
            let interrupted = matches!(e, datapact_runner::RunnerError::Interrupted);
            let mut failure = signals.exit_code(e);
            if interrupted {
                // `reproduce` has no --resume: it always resumes.
                failure.message = INTERRUPTED.to_string();
            }
            failure
        })?;
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
    Ok(())
}

/// Issue 26 item 4 in REPORT.md: the audit's cost-dependent equilibria of `f3_welfare` at a
/// reduced size, their table in `equilibria_bins/` beside REPORT.md and their section appended
/// to it.
fn cost_dependent_equilibria(
    cx: &Context,
    report: &Path,
    threads: usize,
    signals: &Signals,
) -> Result<(), Failure> {
    let t = Instant::now();
    let (_, f3) = embedded::PAPER
        .iter()
        .find(|(name, _)| *name == "f3_welfare")
        .expect("f3_welfare is a paper scenario");
    let section = datapact_audit::bins::reproduce(
        &cx.catalog,
        &cx.plugins,
        f3,
        report,
        threads,
        Some(&signals.stop),
    )
    .map_err(|e| audit_failure(signals, e))?;
    append_to_report(report, &section)?;
    println!(
        "cost-dependent equilibria: {:.1} s -> {}",
        t.elapsed().as_secs_f64(),
        report.join("equilibria_bins").display()
    );
    Ok(())
}

/// Issue 26 item 2 in REPORT.md: the claims decided at S's recovery rounds R = 0 and R = 1 side
/// by side, with S against M campaign by campaign (the audit's "Which S?" section, by its own
/// functions, at its default settings; runs kept in `out/which_s/`), appended to the report's
/// REPORT.md.
fn which_s(
    cx: &Context,
    out: &Path,
    report: &Path,
    threads: usize,
    quiet: bool,
    signals: &Signals,
) -> Result<(), Failure> {
    let t = Instant::now();
    let inputs = datapact_audit::AuditInputs {
        spec: (datapact_audit::DEFAULT_SPEC, "<embedded>/audit.toml"),
        paper: embedded::PAPER,
        catalog: cx.catalog.clone(),
        plugins: cx.plugins.clone(),
        out: out.join(datapact_audit::which_s::DIR),
        threads,
        progress: !quiet,
        cancel: Some(signals.stop.clone()),
        resume: false,
    };
    let section =
        datapact_audit::which_s::section(&inputs).map_err(|e| audit_failure(signals, e))?;
    append_to_report(report, &section)?;
    println!(
        "which S (claims at R = 0 and R = 1): {:.1} s -> {}",
        t.elapsed().as_secs_f64(),
        inputs.out.display()
    );
    Ok(())
}

/// An audit part's error as `reproduce` reports it (an interruption: how to continue).
fn audit_failure(signals: &Signals, e: datapact_audit::AuditError) -> Failure {
    let interrupted = matches!(e, datapact_audit::AuditError::Interrupted);
    let mut failure = crate::audit_cmd::failure(signals, e);
    if interrupted {
        failure.message = INTERRUPTED.to_string();
    }
    failure
}

/// Appends `section` to `report`'s REPORT.md (one atomic write).
fn append_to_report(report: &Path, section: &str) -> Result<(), Failure> {
    let path = report.join("REPORT.md");
    let io = |e: std::io::Error| Failure {
        code: 1,
        message: format!("{}: {e}", path.display()),
    };
    let text = std::fs::read_to_string(&path).map_err(io)?;
    let text = format!("{}\n\n{section}", text.trim_end());
    datapact_trace::atomic::write_atomic(&path, text.as_bytes()).map_err(io)
}

/// `datapact reproduce [--out DIR] [--threads N] [--seeds K]`.
pub(crate) fn reproduce(
    cx: &Context,
    out: Option<PathBuf>,
    threads: usize,
    seeds: u32,
    quiet: bool,
) -> Result<(), Failure> {
    let out = out.unwrap_or_else(|| PathBuf::from("results").join("paper"));
    let started = Instant::now();
    let signals = Signals::install()?;
    // A cell or the report may take longer than the grace period: then the process ends.
    signals.watch_rerun(INTERRUPTED.to_string());
    run_paper(cx, &out, 0, None, threads, quiet, &signals)?;
    // Seed s + k − 1 of the runs the claims read, in DIR/seeds/<k> (k = 2..K).
    let mut seeded = Vec::new();
    for k in 2..=u64::from(seeds) {
        let dir = out.join("seeds").join(k.to_string());
        println!("seed {k} of {seeds} (paper seed + {}):", k - 1);
        let only = datapact_report::runs::CLAIMS;
        run_paper(cx, &dir, k - 1, Some(&only), threads, quiet, &signals)?;
        seeded.push((dir, crate::paper_reference_seeded(&cx.catalog, k - 1)?));
    }
    let output = datapact_report::render_report_with_seeds(
        &out,
        &out.join("report"),
        &reference(cx)?,
        &seeded,
    )?;
    print_report(&output);
    which_s(cx, &out, &output.dir, threads, quiet, &signals)?;
    cost_dependent_equilibria(cx, &output.dir, threads, &signals)?;
    println!(
        "reproduction done in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
