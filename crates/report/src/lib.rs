//! Reads datapact's Parquet outputs through Arrow and renders the paper's figures and the claims
//! table; knows nothing of how they were simulated.
//!
//! Input: a directory of runs, each a subdirectory read through the verified view
//! (`datapact_trace::RunView`: `_run.json`, `manifest.json` and every part checked) with the
//! `cells/`, `diagnostics/`, `contrasts/` (and, for the claims' campaign-level run, `rounds/`)
//! Parquet datasets described in `docs/schema.md`. The paper's figures (F1–F11) are drawn for
//! the runs whose scenario hash is one of `scenarios/paper/`'s ([`runs`], [`registry`]). Output ([`render_report`]): one PNG and one SVG per figure, `index.html`,
//! `REPORT.md` and `claims.json`. A figure or claim whose run is missing is reported as such,
//! never invented.
//!
//! Every other run (a researcher's own scenario, a plugin's) gets generic figures ([`generic`]):
//! one per statistic of its `cells` table, its mechanisms side by side, shaped by its sweep
//! (heatmaps, lines or bars), in `REPORT_DIR/<run>/`.
//!
//! The claims are plain functions over small typed tables ([`tables`], [`claims`]), so that
//! they can be tested on hand-made tables; [`verdicts`] decides them again as tests (intervals,
//! Holm over cells), printed beside the literal rules.
//!
//! Modules by job: [`load`] finds and reads runs, [`tables`] holds the typed tables,
//! [`registry`] maps the paper's figures and claims to runs, [`figures`] draws heatmaps and
//! [`charts`] lines and bars, [`generic`] builds the figures of any run, [`claims`]
//! decides the claims, and [`output`] writes the report files; [`diff`] compares two runs
//! (`datapact diff`), [`sensitivity`] turns a design into Sobol or Morris indices, [`search`]
//! draws a search's front or posterior and [`audit`] the audit's claims × variants table.

#![warn(missing_docs)]

pub mod audit;
pub mod charts;
pub mod claims;
pub mod diff;
mod error;
pub mod figures;
pub mod generic;
pub mod load;
pub mod output;
mod page;
pub mod registry;
pub mod search;
pub mod sensitivity;
pub mod tables;
pub mod verdicts;

pub use error::ReportError;
pub use output::{ReportOutput, render_report, render_report_with_seeds};
pub use registry::{PaperScenario, Reference, build_figures, evaluate_claims, runs};
