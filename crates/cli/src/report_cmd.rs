//! `datapact report`: figures and the claims table from existing outputs.

use std::path::{Path, PathBuf};
use std::time::Instant;

use datapact_report::ReportOutput;
use datapact_scenario::Scenario;

use crate::context::Context;
use crate::embedded;
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
        println!("  {}. {:<10} {}", c.id, c.verdict.as_str(), c.statement);
    }
    if !out.findings.is_empty() {
        println!("scaling (F11):");
    }
    for f in &out.findings {
        println!("  {f}");
    }
}

/// What the report compares runs with: the embedded paper scenarios (by hash) and a scenario
/// of defaults only.
pub(crate) fn reference(cx: &Context) -> Result<datapact_report::Reference, Failure> {
    let paper = embedded::PAPER
        .iter()
        .map(|(name, text)| {
            let s = Scenario::from_str_with(
                &cx.catalog,
                text,
                &format!("<embedded>/paper/{name}.toml"),
                &[],
            )?;
            Ok(datapact_report::PaperScenario {
                name: s.name.clone(),
                hash: s.hash(),
                toml: s.normalized(),
            })
        })
        .collect::<Result<Vec<_>, Failure>>()?;
    let defaults = Scenario::from_str_with(
        &cx.catalog,
        "[scenario]\nname = \"defaults\"\nseed = 0\nreplications = 1\n",
        "<defaults>",
        &[],
    )?;
    Ok(datapact_report::Reference {
        paper,
        defaults_toml: defaults.normalized(),
    })
}

/// `datapact report DIR [--out REPORT_DIR]`.
pub(crate) fn report(cx: &Context, dir: &Path, out: Option<PathBuf>) -> Result<(), Failure> {
    let out = out.unwrap_or_else(|| dir.join("report"));
    let started = Instant::now();
    let output = datapact_report::render_report(dir, &out, &reference(cx)?)?;
    print_report(&output);
    println!("({:.2} s)", started.elapsed().as_secs_f64());
    Ok(())
}
