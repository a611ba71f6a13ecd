//! Writing the report: the figures' image files, `REPORT.md`, `index.html` and `claims.json`.

use std::path::{Path, PathBuf};

use crate::ReportError;
use crate::claims::Claim;
use crate::figures::{self, FigureFiles};
use crate::generic::{self, RunFigures};
use crate::load::{self, Run};
use crate::page::{self, Contents, Html, Markdown, Paper};
use crate::registry::{self, Reference, build_figures, evaluate_claims, runs, short};

/// What [`render_report`] produced.
#[derive(Clone, Debug)]
pub struct ReportOutput {
    /// The report's directory.
    pub dir: PathBuf,
    /// The figures drawn, in the report's order.
    pub figures: Vec<FigureFiles>,
    /// Figures not drawn, with the reason (their run is missing).
    pub missing: Vec<String>,
    /// The paper's claims; empty when no paper run is present (then no `claims.json`).
    pub claims: Vec<Claim>,
    /// Runs that are not the paper's, drawn with generic figures (files under `<dir>/<run>/`).
    pub other_runs: Vec<String>,
    /// Remarks on runs, e.g. a run named like a paper scenario but with another scenario.
    pub notes: Vec<String>,
    /// What the scaling study (F11) finds about M's advantage over S, one line per metric;
    /// empty without its runs.
    pub findings: Vec<String>,
}

/// Reads every run under `results`, renders the figures and the claims table into `out`. The
/// paper's figures and claims are drawn from the runs whose scenario hash is one of
/// `reference.paper`; every other run gets generic figures with contrast panels, titled with its
/// settings that differ from the paper scenario of its name, if any, else from the defaults.
pub fn render_report(
    results: &Path,
    out: &Path,
    reference: &Reference,
) -> Result<ReportOutput, ReportError> {
    render_report_with_seeds(results, out, reference, &[])
}

/// [`render_report`], with the claims also decided under further independent seeds: each
/// `(dir, reference)` of `seeds` is a directory of paper runs under another seed and the paper
/// scenarios with that seed (a run counts only if its scenario hash is one of them). Each claim's
/// `seeds` counts the main seed and these, `seeds_held` those under which its test held.
pub fn render_report_with_seeds(
    results: &Path,
    out: &Path,
    reference: &Reference,
    seeds: &[(PathBuf, Reference)],
) -> Result<ReportOutput, ReportError> {
    // Only claim 2 reads a rounds table.
    let runs = load::load_runs(results, &[runs::NULLS])?;
    if runs.is_empty() {
        // Bad input (a directory with no run in it), not damage: exit 2.
        return Err(ReportError::Refused(format!(
            "{}: no run found (no manifest.json in it or its subdirectories)",
            results.display()
        )));
    }
    let (paper_runs, other_runs): (Vec<Run>, Vec<Run>) = runs
        .iter()
        .cloned()
        .partition(|r| reference.paper_of(r).is_some());
    let paper_present = !paper_runs.is_empty();
    let mut notes = Vec::new();
    // Built before anything is written, so a run with nothing to draw fails the whole report.
    // A run with a sampled or listed design is drawn as scatter panels over its axes (its points
    // form no grid to slice), plus its sensitivity indices for Sobol and Morris (below).
    let mut others: Vec<RunFigures> = Vec::new();
    for r in &other_runs {
        let design = datapact_trace::read_manifest(&r.dir)
            .ok()
            .and_then(|m| m.design);
        let mut stats = generic::load_stats(&r.dir)?;
        let toml = generic::scenario_toml(&r.dir)?;
        let renamed = reference.renamed_paper_of(r);
        (stats.settings, stats.settings_reference) = match renamed {
            Some(p) => (
                generic::changed_settings(&toml, &p.toml),
                format!("the paper scenario `{}`", p.name),
            ),
            None => (
                generic::changed_settings(&toml, &reference.defaults_toml),
                "the defaults".to_string(),
            ),
        };
        // A design's axes vary from point to point: never a fixed setting (a listed design's
        // text names its points file instead of listing the points, so its keys come from the
        // manifest's design record).
        if let Some(d) = &design {
            stats
                .settings
                .retain(|s| !d.keys.iter().any(|k| s.starts_with(&format!("{k} = "))));
        }
        let mut figs = match &design {
            Some(d) => generic::design_figures(&stats, &d.kind)?,
            None => generic::build_run_figures(&stats)?,
        };
        if let Some(p) = renamed {
            let note = format!(
                "run `{}` carries the name of a paper scenario but not its scenario (hash {} ≠ {}; {}): \
                 drawn with generic figures, not as the paper's",
                r.name,
                short(&r.scenario_hash),
                short(&p.hash),
                if stats.settings.is_empty() {
                    "same settings, other sweep or output".to_string()
                } else {
                    format!("changed: {}", stats.settings.join("; "))
                }
            );
            figs.note = Some(note.clone());
            notes.push(note);
        }
        others.push(figs);
    }
    let scaling = if paper_present {
        registry::scaling(&paper_runs)?
    } else {
        None
    };
    // Created, or adopted only if empty or an earlier report; never inside a run but as a
    // new name directly in it (the default, RUN/report).
    datapact_trace::claim::claim_output_dir(out, "report")?;
    let (figs, missing) = if paper_present {
        build_figures(&paper_runs)
    } else {
        (Vec::new(), Vec::new())
    };
    let mut files = figs
        .iter()
        .map(|f| figures::render(f, out))
        .collect::<Result<Vec<_>, _>>()?;
    if let Some(s) = &scaling {
        files.push(crate::charts::render_line_figure(&s.figure, out)?);
    }
    for run in &others {
        let dir = generic::run_dir(out, &run.run);
        for fig in &run.figures {
            let (mut f, _) = generic::render(fig, &dir)?;
            f.id = format!("{}/{}", run.run, f.id);
            files.push(f);
        }
    }
    // A Sobol or Morris design also gets its sensitivity indices (sensitivity.rs), listed with
    // the run's figures.
    for (r, figs) in other_runs.iter().zip(&mut others) {
        let dir = generic::run_dir(out, &r.name);
        for path in crate::sensitivity::render_for_report(&r.dir, &dir)? {
            if let Ok(rel) = path.strip_prefix(out) {
                figs.sensitivity
                    .push(rel.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    let mut claims = if paper_present {
        evaluate_claims(&paper_runs)
    } else {
        Vec::new()
    };
    let mut others_claims = Vec::new();
    for (dir, seed_ref) in seeds {
        let runs: Vec<Run> = load::load_runs(dir, &[runs::NULLS])?
            .into_iter()
            .filter(|r| seed_ref.paper_of(r).is_some())
            .collect();
        others_claims.push(evaluate_claims(&runs));
    }
    registry::add_seeds(&mut claims, &others_claims);
    let contents = Contents {
        paper: paper_present.then_some(Paper {
            figures: &figs,
            scaling: scaling.as_ref(),
            missing: &missing,
            claims: &claims,
        }),
        others: &others,
        runs: &runs,
    };
    let md = page::write(Markdown::default(), &contents);
    let page = page::write(Html::default(), &contents);
    write_text(&out.join("REPORT.md"), &md)?;
    write_text(&out.join("index.html"), &page)?;
    if paper_present {
        let json =
            serde_json::to_string_pretty(&claims).map_err(|e| ReportError::Data(e.to_string()))?;
        write_text(&out.join("claims.json"), &(json + "\n"))?;
    }
    Ok(ReportOutput {
        dir: out.to_path_buf(),
        figures: files,
        missing,
        claims,
        other_runs: others.iter().map(|r| r.run.clone()).collect(),
        notes,
        findings: scaling
            .map(|s| s.findings.into_iter().map(|(text, _)| text).collect())
            .unwrap_or_default(),
    })
}

fn write_text(path: &Path, text: &str) -> Result<(), ReportError> {
    datapact_trace::atomic::write_atomic(path, text.as_bytes())
        .map_err(|e| ReportError::io(path, e))
}
