//! `datapact report`: figures and the claims table from existing outputs.

use std::path::{Path, PathBuf};
use std::time::Instant;

use datapact_report::ReportOutput;

use crate::context::Context;
use crate::failure::Failure;

/// What `report` and `reproduce` print of a rendered report.
pub(crate) fn print_report(out: &ReportOutput) {
    let files = if out.claims.is_empty() {
        "REPORT.md"
    } else {
        "REPORT.md, claims.json"
    };
    println!(
        "report: {} ({} figures, PNG + SVG; {files})",
        out.dir.join("index.html").display(),
        out.figures.len()
    );
    for m in &out.missing {
        println!("  not drawn: {m}");
    }
    for n in &out.notes {
        println!("  note: {n}");
    }
    for run in &out.other_runs {
        println!("  run {run}: figures in {}", out.dir.join(run).display());
    }
    if !out.claims.is_empty() {
        println!("claims:");
    }
    for c in &out.claims {
        println!(
            "  {}. {:<10} test {:<10} held under {} of {} seeds  {}",
            c.id,
            c.verdict.as_str(),
            c.test_verdict.as_str(),
            c.seeds_held,
            c.seeds,
            c.statement
        );
    }
    if !out.findings.is_empty() {
        println!("scaling (F11):");
    }
    for f in &out.findings {
        println!("  {f}");
    }
}

/// The paper's scenarios and the defaults, as reports compare runs against.
pub(crate) fn reference(cx: &Context) -> Result<datapact_report::Reference, Failure> {
    Ok(crate::paper_reference(&cx.catalog)?)
}

pub(crate) fn report(cx: &Context, dir: &Path, out: Option<PathBuf>) -> Result<(), Failure> {
    crate::run_arg::require_dir(dir)?;
    let out = out.unwrap_or_else(|| dir.join("report"));
    let _signals = crate::signals::Signals::stop_and_rerun("redraw the report")?;
    let started = Instant::now();
    let output = datapact_report::render_report(dir, &out, &reference(cx)?)?;
    print_report(&output);
    println!("({:.2} s)", started.elapsed().as_secs_f64());
    Ok(())
}
