//! Writing the report: the figures' image files, `REPORT.md`, `index.html` and `claims.json`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::ReportError;
use crate::claims::{self, Claim};
use crate::figures::{self, Figure, FigureFiles};
use crate::generic::{self, RunFigures};
use crate::load::{self, Run};
use crate::registry::{self, Reference, Scaling, build_figures, evaluate_claims, runs};

/// What [`render_report`] produced.
#[derive(Clone, Debug)]
pub struct ReportOutput {
    pub dir: PathBuf,
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
    // Only claim 2 reads a rounds table.
    let runs = load::load_runs(results, &[runs::NULLS])?;
    if runs.is_empty() {
        return Err(ReportError::Data(format!(
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
    std::fs::create_dir_all(out).map_err(|e| ReportError::io(out, e))?;
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
    let claims = if paper_present {
        evaluate_claims(&paper_runs)
    } else {
        Vec::new()
    };
    let (md, page) = if paper_present {
        (
            markdown(&runs, &figs, scaling.as_ref(), &missing, &claims, &others),
            html(&runs, &figs, scaling.as_ref(), &missing, &claims, &others),
        )
    } else {
        (
            markdown_runs_only(&runs, &others),
            html_runs_only(&runs, &others),
        )
    };
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

/// The first 12 hex digits of a hash.
fn short(hash: &str) -> &str {
    &hash[..hash.len().min(12)]
}

fn write_text(path: &Path, text: &str) -> Result<(), ReportError> {
    std::fs::write(path, text).map_err(|e| ReportError::io(path, e))
}

/// The page style of `index.html`.
const STYLE: &str = "<style>body{font-family:sans-serif;max-width:1800px;margin:2em auto;padding:0 1em}\
    table{border-collapse:collapse}td,th{border:1px solid #bbb;padding:4px 8px;vertical-align:top}\
    .held{background:#dff0d8}.not-held{background:#f8d7da}.not-tested{background:#eee}\
    img{max-width:100%;border:1px solid #ddd}</style>";

const GENERIC_INTRO: &str = "Generated by `datapact report` from the Parquet outputs of the runs listed below; \
every number is computed from those files. One figure per statistic of each run's `cells` table \
(last round), its mechanisms side by side on a shared scale.";

const INTRO: &str = "Generated by `datapact report` from the Parquet outputs of the runs listed below; \
every number is computed from those files. Claims are decided by the fixed rules in the last column; \
a claim that does not hold is a finding of this model, not an error.";

/// The question F11 answers, above its findings.
const SCALING_QUESTION: &str = "Does M's advantage over S grow or vanish as the population grows?";

fn markdown(
    runs: &[Run],
    figs: &[Figure],
    scaling: Option<&Scaling>,
    missing: &[String],
    claims: &[Claim],
    others: &[RunFigures],
) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "# datapact: reproduction report (arXiv 2605.07419)\n\n{INTRO}\n"
    );
    let _ = writeln!(
        s,
        "## Claims\n\n| # | claim | verdict | numbers | decision rule |\n|---|---|---|---|---|"
    );
    for c in claims {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} |",
            c.id,
            c.statement,
            c.verdict.as_str(),
            c.numbers.replace('|', "\\|"),
            c.rule.replace('|', "\\|")
        );
    }
    let _ = writeln!(s, "\n## Figures\n");
    for f in figs {
        let _ = writeln!(
            s,
            "### {}\n\n![{}]({}.png)\n\n{} (Vector version: [{}.svg]({}.svg).)\n",
            f.title, f.id, f.id, f.caption, f.id, f.id
        );
    }
    if let Some(sc) = scaling {
        let f = &sc.figure;
        let _ = writeln!(
            s,
            "### {}\n\n![{}]({}.png)\n\n{} (Vector version: [{}.svg]({}.svg).)\n\n**{SCALING_QUESTION}**\n",
            f.title, f.id, f.id, sc.caption, f.id, f.id
        );
        for (line, _) in &sc.findings {
            let _ = writeln!(s, "- {line}.");
        }
        let _ = writeln!(s, "\nDecision rule: {}\n", claims::TREND_RULE);
    }
    for m in missing {
        let _ = writeln!(s, "- not drawn: {m}");
    }
    markdown_others(&mut s, others);
    markdown_runs(&mut s, runs);
    s
}

/// `REPORT.md` of a directory without paper runs: a section per run, then the runs table.
fn markdown_runs_only(runs: &[Run], others: &[RunFigures]) -> String {
    let mut s = format!("# datapact report\n\n{GENERIC_INTRO}\n");
    markdown_others(&mut s, others);
    markdown_runs(&mut s, runs);
    s
}

/// A section per run that is not the paper's, with its generic figures.
fn markdown_others(s: &mut String, others: &[RunFigures]) {
    for run in others {
        let _ = writeln!(s, "\n## Run `{}`\n", run.run);
        if let Some(note) = &run.note {
            let _ = writeln!(s, "*Note: {note}.*\n");
        }
        for f in &run.figures {
            let path = format!("{}/{}", run.run, f.id);
            let _ = writeln!(
                s,
                "### {}\n\n![{}]({path}.png)\n\n{} (Vector version: [{}.svg]({path}.svg).)\n",
                f.title, f.id, f.caption, f.id
            );
        }
        markdown_sensitivity(s, run);
    }
}

/// The sensitivity files of a designed run: its charts shown, its table linked.
fn markdown_sensitivity(s: &mut String, run: &RunFigures) {
    if run.sensitivity.is_empty() {
        return;
    }
    let _ = writeln!(
        s,
        "### Sensitivity of `welfare_mean`\n\n{SENSITIVITY_CAPTION}\n"
    );
    for path in &run.sensitivity {
        if path.ends_with(".png") {
            let _ = writeln!(s, "![sensitivity]({path})\n");
        } else if !path.ends_with(".svg") {
            let _ = writeln!(s, "- [{path}]({path})");
        }
    }
}

/// What the report's sensitivity charts show (the analysis itself is in `sensitivity.rs`).
const SENSITIVITY_CAPTION: &str = "Computed by `datapact sensitivity DIR --metric welfare_mean` for each \
mechanism: Sobol first-order (S1) and total (ST) indices with 95% bootstrap intervals for a `sobol` \
design, Morris μ* and σ for a `morris` design; the table is `sensitivity.parquet` (schema in \
docs/schema.md). Run `datapact sensitivity` with `--metric` or `--minus` for another metric or a \
paired contrast.";

fn markdown_runs(s: &mut String, runs: &[Run]) {
    let _ = writeln!(
        s,
        "\n## Runs\n\n| run | replications | cells | scenario hash |\n|---|---|---|---|"
    );
    for r in runs {
        let cells: std::collections::BTreeSet<u32> = r.cells.rows.iter().map(|x| x.cell).collect();
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} |",
            r.name,
            r.reps_text(),
            cells.len(),
            r.scenario_hash
        );
    }
}

fn esc(t: &str) -> String {
    t.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn html(
    runs: &[Run],
    figs: &[Figure],
    scaling: Option<&Scaling>,
    missing: &[String],
    claims: &[Claim],
    others: &[RunFigures],
) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>datapact reproduction report</title>\n\
         {STYLE}</head><body>\n\
         <h1>datapact: reproduction report (arXiv 2605.07419)</h1>\n<p>{}</p>\n<h2>Claims</h2>\n\
         <table><tr><th>#</th><th>claim</th><th>verdict</th><th>numbers</th><th>decision rule</th></tr>",
        esc(INTRO)
    );
    for c in claims {
        let _ = writeln!(
            s,
            "<tr class=\"{}\"><td>{}</td><td>{}</td><td><b>{}</b></td><td>{}</td><td>{}</td></tr>",
            c.verdict.as_str().replace(' ', "-"),
            c.id,
            esc(c.statement),
            c.verdict.as_str(),
            esc(&c.numbers),
            esc(c.rule)
        );
    }
    let _ = writeln!(s, "</table>\n<h2>Figures</h2>");
    for f in figs {
        let _ = writeln!(
            s,
            "<h3>{}</h3>\n<img src=\"{}.png\" alt=\"{}\">\n<p>{} <a href=\"{}.svg\">SVG</a></p>",
            esc(&f.title),
            f.id,
            esc(&f.title),
            esc(&f.caption),
            f.id
        );
    }
    if let Some(sc) = scaling {
        let f = &sc.figure;
        let _ = writeln!(
            s,
            "<h3>{}</h3>\n<img src=\"{}.png\" alt=\"{}\">\n<p>{} <a href=\"{}.svg\">SVG</a></p>\n<p><b>{}</b></p>\n<ul>",
            esc(&f.title),
            f.id,
            esc(&f.title),
            esc(&sc.caption),
            f.id,
            esc(SCALING_QUESTION)
        );
        for (line, _) in &sc.findings {
            let _ = writeln!(s, "<li>{}.</li>", esc(line));
        }
        let _ = writeln!(
            s,
            "</ul>\n<p>Decision rule: {}</p>",
            esc(claims::TREND_RULE)
        );
    }
    for m in missing {
        let _ = writeln!(s, "<p>not drawn: {}</p>", esc(m));
    }
    html_others(&mut s, others);
    html_runs(&mut s, runs);
    s
}

/// `index.html` of a directory without paper runs.
fn html_runs_only(runs: &[Run], others: &[RunFigures]) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>datapact report</title>\n\
         {STYLE}</head><body>\n<h1>datapact report</h1>\n<p>{}</p>",
        esc(GENERIC_INTRO)
    );
    html_others(&mut s, others);
    html_runs(&mut s, runs);
    s
}

fn html_others(s: &mut String, others: &[RunFigures]) {
    for run in others {
        let _ = writeln!(s, "<h2>Run <code>{}</code></h2>", esc(&run.run));
        if let Some(note) = &run.note {
            let _ = writeln!(s, "<p><em>Note: {}.</em></p>", esc(note));
        }
        for f in &run.figures {
            let path = format!("{}/{}", run.run, f.id);
            let _ = writeln!(
                s,
                "<h3>{}</h3>\n<img src=\"{path}.png\" alt=\"{}\">\n<p>{} <a href=\"{path}.svg\">SVG</a></p>",
                esc(&f.title),
                esc(&f.title),
                esc(&f.caption),
            );
        }
        if !run.sensitivity.is_empty() {
            let _ = writeln!(
                s,
                "<h3>Sensitivity of <code>welfare_mean</code></h3>\n<p>{}</p>",
                esc(SENSITIVITY_CAPTION)
            );
            for path in &run.sensitivity {
                if path.ends_with(".png") {
                    let _ = writeln!(s, "<img src=\"{path}\" alt=\"sensitivity\">");
                } else if !path.ends_with(".svg") {
                    let _ = writeln!(s, "<p><a href=\"{path}\">{path}</a></p>");
                }
            }
        }
    }
}

fn html_runs(s: &mut String, runs: &[Run]) {
    let _ = writeln!(
        s,
        "<h2>Runs</h2>\n<table><tr><th>run</th><th>replications</th><th>scenario hash</th></tr>"
    );
    for r in runs {
        let _ = writeln!(
            s,
            "<tr><td>{}</td><td>{}</td><td><code>{}</code></td></tr>",
            esc(&r.name),
            esc(&r.reps_text()),
            r.scenario_hash
        );
    }
    let _ = writeln!(s, "</table>\n</body></html>");
}
