//! `datapact report` (figures and claims table from existing outputs) and `datapact reproduce`
//! (every embedded paper scenario, then the report).

use std::path::{Path, PathBuf};
use std::time::Instant;

use datapact_report::ReportOutput;
use datapact_runner::{RunOptions, Shard};
use datapact_scenario::Scenario;
use datapact_sim::Backend;

use crate::cli::Failure;
use crate::embedded;

fn report_failure(e: datapact_report::ReportError) -> Failure {
    Failure {
        code: 1,
        message: e.to_string(),
    }
}

fn print_report(out: &ReportOutput) {
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
fn reference(cx: &crate::cli::Context) -> Result<datapact_report::Reference, Failure> {
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
pub(crate) fn report(
    cx: &crate::cli::Context,
    dir: &Path,
    out: Option<PathBuf>,
) -> Result<(), Failure> {
    let out = out.unwrap_or_else(|| dir.join("report"));
    let started = Instant::now();
    let output =
        datapact_report::render_report(dir, &out, &reference(cx)?).map_err(report_failure)?;
    print_report(&output);
    println!("({:.2} s)", started.elapsed().as_secs_f64());
    Ok(())
}

/// `datapact sensitivity DIR --metric M [--mechanism X [--minus Y]] [--out OUT]`.
pub fn sensitivity(
    dir: &Path,
    metric: String,
    mechanism: Option<String>,
    minus: Option<String>,
    out: Option<PathBuf>,
) -> Result<(), Failure> {
    use datapact_report::sensitivity::{Request, analyze, write_outputs};
    let out = out.unwrap_or_else(|| dir.join("sensitivity"));
    let request = Request {
        metric,
        mechanism,
        minus,
    };
    let analysis = analyze(dir, &request).map_err(report_failure)?;
    let files = write_outputs(&analysis, &out).map_err(report_failure)?;
    for r in &analysis.responses {
        println!(
            "{} of {} ({}, grid cell {}):",
            analysis.method, analysis.metric, r.mechanism, r.grid_cell
        );
        for (axis, indices) in &r.axes {
            let shown: Vec<String> = indices
                .iter()
                .map(|ix| match ix.conf {
                    Some(c) => format!("{} = {:.3} ± {:.3}", ix.name, ix.value, c),
                    None => format!("{} = {:.3}", ix.name, ix.value),
                })
                .collect();
            println!("  {axis:<16} {}", shown.join("   "));
        }
    }
    for f in files {
        println!("wrote {}", f.display());
    }
    Ok(())
}

/// `datapact diff A B [--z Z] [--out FILE]`: exit 0 when no |z| exceeds `threshold`, 1 when
/// some does, 2 when the runs cannot be compared.
pub fn diff(a: &Path, b: &Path, threshold: f64, out: Option<PathBuf>) -> Result<(), Failure> {
    if !(threshold.is_finite() && threshold > 0.0) {
        return Err(Failure {
            code: 2,
            message: format!("--z must be a positive number, got {threshold}"),
        });
    }
    let d = datapact_report::diff::diff_runs(a, b, threshold).map_err(|e| Failure {
        code: 2,
        message: format!("diff {} {}: {e}", a.display(), b.display()),
    })?;
    let out = out.unwrap_or_else(|| PathBuf::from("diff.parquet"));
    datapact_report::diff::write_diff(&d, &out).map_err(report_failure)?;
    println!(
        "{:<22} {:>8} {:>9} {:>8} {:>8}",
        "statistic",
        "compared",
        "max |z|",
        "|z| > 3",
        format!("|z| > {threshold}")
    );
    for s in &d.summary {
        println!(
            "{:<22} {:>8} {:>9.2} {:>8} {:>8}",
            s.statistic, s.compared, s.max_abs_z, s.over_3, s.over_threshold
        );
    }
    let over = d.over_threshold();
    println!(
        "{} cells compared; max |z| = {:.2}; {over} differences with |z| > {threshold} -> {}",
        d.cells,
        d.max_abs_z(),
        out.display()
    );
    if over > 0 {
        return Err(Failure {
            code: 1,
            message: format!(
                "{over} differences with |z| > {threshold}: the runs differ beyond noise"
            ),
        });
    }
    Ok(())
}

/// Whether `dir` already holds the finished, consistent outputs of `scenario` (same hash).
fn already_done(dir: &Path, scenario: &Scenario) -> bool {
    datapact_runner::RunView::open(dir).is_ok_and(|view| {
        view.finished()
            .is_ok_and(|m| m.scenario_hash == scenario.hash())
    })
}

/// `datapact reproduce [--out DIR] [--threads N]`.
pub(crate) fn reproduce(
    cx: &crate::cli::Context,
    out: Option<PathBuf>,
    threads: usize,
    quiet: bool,
) -> Result<(), Failure> {
    let out = out.unwrap_or_else(|| PathBuf::from("results").join("paper"));
    let started = Instant::now();
    let signals = crate::cli::Signals::install()?;
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
    let output = datapact_report::render_report(&out, &out.join("report"), &reference(cx)?)
        .map_err(report_failure)?;
    print_report(&output);
    println!(
        "reproduction done in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::embedded;

    /// The embedded paper scenarios are exactly the files in `scenarios/paper/`, all of them.
    #[test]
    fn embedded_paper_scenarios_equal_files_on_disk() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/paper");
        let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().to_string())
            .filter(|n| n.ends_with(".toml"))
            .collect();
        on_disk.sort();
        let mut embedded_names: Vec<String> = embedded::PAPER
            .iter()
            .map(|(n, _)| format!("{n}.toml"))
            .collect();
        embedded_names.sort();
        assert_eq!(
            on_disk, embedded_names,
            "scenarios/paper/ and embedded::PAPER differ"
        );
        for (name, text) in embedded::PAPER {
            let file = std::fs::read_to_string(dir.join(format!("{name}.toml"))).unwrap();
            assert_eq!(&file, text, "{name}.toml differs from its embedded copy");
            let s = datapact_scenario::Scenario::from_str(text, name, &[]).unwrap();
            assert_eq!(&s.name, name, "scenario name must equal its file name");
        }
    }
}
