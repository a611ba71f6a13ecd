//! The incentive audit (`datapact audit`): would users lie or free-ride under the app's
//! mechanisms, and which modelling choices does each of the paper's claims need?
//!
//! `analysis.scenario` names a paper scenario (audited on the spec's V × p grid) or is the path
//! of any scenario file of the app (audited on its own cells, from a sweep or a design, and its
//! own mechanisms: every one with reports or withdrawal, `vcg`, plugins' and named variants
//! included).
//!
//! 1. **Unilateral deviations** ([`deviations::deviation_rows`]): in each cell, one user — the
//!    user at a given quantile of true cost — reports `factor × cost` or withdraws by another
//!    rule while everyone else is truthful and sincere; her utility gain is measured on the same
//!    draws (common random numbers), each campaign played by the app's engine with the users'
//!    strategies overridden. Table `deviations/`.
//! 2. **Best-response dynamics** ([`deviations::equilibrium_rows`]): the whole population
//!    switches to the best symmetric deviation until none gains significantly. Table
//!    `equilibria/`.
//! 3. **Claims across variants** ([`variants`], paper scenarios only): the paper runs behind the
//!    six claims are re-run with one assumption changed at a time and the claims re-decided by
//!    [`datapact_report::evaluate_claims`]; `claims_variants.json` and a figure. For any other
//!    scenario the spec's `steps` and `[analysis.variants]` are read and skipped, and REPORT.md
//!    says so.
//! 4. **Which S?** ([`recovery`], paper scenarios only): S and M truthful and sincere on the
//!    same draws at S's recovery rounds R = 0 and R = 1, campaign by campaign — the reason
//!    claims 3 and 4 cannot hold as stated at R = 0.
//! 5. `REPORT.md`: ε-best responses per mechanism, the equilibria, the claims × variants table
//!    (R = 0 and R = 1 side by side), the campaign-level comparison and "What each claim needs".
//!
//! The settings (grid sizes, replications, report factors) are `scenarios/audit.toml`
//! ([`spec`]); everything derives from the scenario seed, so the output is the same whatever
//! the thread count.

#![warn(missing_docs)]

pub mod bins;
pub mod deviations;
mod error;
mod inputs;
pub mod recovery;
mod render;
pub mod resume;
pub mod spec;
pub mod table;
pub mod variants;
pub mod which_s;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use datapact_model::deviation::Menu;
use datapact_report::audit::VariantClaims;
use datapact_scenario::Scenario;
use datapact_sim::PluginSet;
use rayon::prelude::*;

use crate::deviations::{CellAudit, DeviationRow, EquilibriumRow};
pub use crate::error::AuditError;
pub use crate::inputs::AuditInputs;
use crate::spec::grid_overrides;
pub use crate::spec::{AuditSpec, DEFAULT_SPEC};

/// The kind an audit's directory is marked with (`_output.json`).
pub const OUTPUT_KIND: &str = "audit";

/// What the audit wrote.
#[derive(Debug)]
pub struct AuditSummary {
    /// `REPORT.md`.
    pub report: PathBuf,
    /// The claims under each variant, baseline first.
    pub variants: Vec<VariantClaims>,
    /// Seconds per part: deviations and dynamics, variants.
    pub seconds: (f64, f64),
}

/// What every cell's audit of `scenario` shares, with the settings `a`.
pub(crate) fn cell_audit<'a>(
    plugins: &'a Arc<PluginSet>,
    mechanisms: &'a [deviations::Audited],
    scenario: &'a Scenario,
    menu: &'a Menu,
    a: &'a spec::Analysis,
    cancel: Option<&'a AtomicBool>,
) -> CellAudit<'a> {
    CellAudit {
        plugins,
        mechanisms,
        variants: &scenario.variants,
        seed: scenario.seed,
        menu,
        quantiles: &a.deviation.cost_quantiles,
        replications: a.replications,
        dynamics_replications: a.dynamics.replications,
        max_rounds: a.dynamics.max_rounds,
        cancel,
    }
}

/// The audit's worker threads (`out` names the output in the error).
pub(crate) fn pool(threads: usize, out: &Path) -> Result<rayon::ThreadPool, AuditError> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads.max(1))
        .build()
        .map_err(|e| AuditError::Io {
            path: out.to_path_buf(),
            source: std::io::Error::other(format!("cannot start worker threads: {e}")),
        })
}

/// The scenario an audit ran on.
#[derive(Clone, Debug)]
pub struct AuditedScenario {
    /// `[scenario] name`.
    pub name: String,
    /// Where it came from (`<embedded>/paper/NAME.toml` or its path).
    pub origin: String,
    /// Its cells.
    pub cells: usize,
    /// Whether it is one of the paper's scenarios (then audited on the spec's V × p grid, with
    /// the claims across model variants).
    pub paper: bool,
}

/// `analysis.scenario`: a paper scenario's name (audited on the spec's V × p grid), or the path
/// of any scenario file of the app (audited on its own cells; relative to the working
/// directory, else to the spec file's).
fn audited_scenario(
    inputs: &AuditInputs,
    spec: &AuditSpec,
) -> Result<(Scenario, bool), AuditError> {
    let a = &spec.analysis;
    if let Some(text) = variants::paper_text(inputs.paper, &a.scenario) {
        let origin = format!("<embedded>/paper/{}.toml", a.scenario);
        let overrides = grid_overrides(a.steps);
        return Ok((
            Scenario::from_str_with(&inputs.catalog, text, &origin, &overrides)?,
            true,
        ));
    }
    let given = Path::new(&a.scenario);
    let beside_spec = Path::new(inputs.spec.1)
        .parent()
        .map(|dir| dir.join(given))
        .filter(|p| p.is_file());
    let path = if given.is_file() {
        Some(given.to_path_buf())
    } else {
        beside_spec
    };
    let Some(path) = path else {
        return Err(AuditError::Spec {
            origin: inputs.spec.1.to_string(),
            message: format!(
                "key `analysis.scenario`: must name a paper scenario ({}) or be the path of a \
                 scenario file, got {:?} (no such file)",
                inputs
                    .paper
                    .iter()
                    .map(|(n, _)| *n)
                    .collect::<Vec<_>>()
                    .join(", "),
                a.scenario
            ),
        });
    };
    Ok((Scenario::load_with(&inputs.catalog, &path, &[])?, false))
}

/// Runs the whole audit into `inputs.out`.
pub fn run(inputs: &AuditInputs) -> Result<AuditSummary, AuditError> {
    let spec = AuditSpec::parse(inputs.spec.0, inputs.spec.1)?;
    let a = &spec.analysis;
    let (scenario, paper) = audited_scenario(inputs, &spec)?;
    let names = scenario.mechanism_names();
    let mechanisms = deviations::audited(&scenario.catalog, &names);
    let audited_names: Vec<&'static str> = mechanisms.iter().map(|m| m.name).collect();
    let skipped: Vec<&'static str> = names
        .iter()
        .copied()
        .filter(|n| !audited_names.contains(n))
        .collect();
    if mechanisms.is_empty() {
        return Err(AuditError::Spec {
            origin: inputs.spec.1.to_string(),
            message: format!(
                "key `analysis.scenario`: scenario {:?} has no mechanism with reports or withdrawal \
                 to audit (its mechanisms: {})",
                scenario.name,
                names.join(", ")
            ),
        });
    }
    // Created, or adopted only when empty or an earlier audit's (`_output.json`); never a
    // user's directory, a run or anywhere inside one. The claim runs the audit nests under
    // `variants/` are its own: runs of its own directory, resumed when it is adopted.
    datapact_trace::claim::claim_output_dir_outside_runs(&inputs.out, OUTPUT_KIND)?;
    let started = Instant::now();
    let menu = Menu::new(&a.deviation.report_factors);
    let cx = cell_audit(
        &inputs.plugins,
        &mechanisms,
        &scenario,
        &menu,
        a,
        inputs.cancel.as_deref(),
    );
    let pool = pool(inputs.threads, &inputs.out)?;
    // A signal stops the audit between cells (the command line's watcher ends a cell that
    // takes longer than its grace period).
    let stopped = || {
        inputs
            .cancel
            .as_ref()
            .is_some_and(|c| c.load(std::sync::atomic::Ordering::Relaxed))
    };
    fn unless_stopped<T>(rows: Option<T>) -> Result<T, AuditError> {
        rows.ok_or(AuditError::Interrupted)
    }
    // Each finished cell's rows are recorded in `_cells/`; `--resume` reads back the records
    // that are this audit's instead of computing their cells.
    let records = resume::CellRecords::new(
        &inputs.out,
        inputs.spec.0,
        &scenario,
        &datapact_runner::plugin_list(&inputs.plugins, &scenario),
        &cx,
        inputs.resume,
    )?;
    // cells are independent and collected in cell order: the same rows whatever the threads
    let per_cell: Vec<(Vec<DeviationRow>, Vec<EquilibriumRow>)> = pool.install(|| {
        (0..scenario.cell_count())
            .into_par_iter()
            .map(|i| {
                if let Some(kept) = records.kept(i) {
                    return Ok(kept);
                }
                let cell = scenario.cell(i);
                let devs = unless_stopped(
                    (!stopped()).then(|| deviations::deviation_rows(i, &cell.game, &cx)),
                )?;
                let eqs = unless_stopped(
                    (!stopped()).then(|| deviations::equilibrium_rows(i, &cell.game, &cx)),
                )?;
                // A cell played while the flag was set is partial: never recorded nor used.
                unless_stopped((!stopped()).then_some(()))?;
                records.write(i, &devs, &eqs)?;
                Ok((devs, eqs))
            })
            .collect::<Result<Vec<_>, AuditError>>()
    })?;
    // Which S? The paper's claims 3 and 4 turn on S's recovery rounds: S and M side by side,
    // campaign by campaign, at R = 0 and R = 1 (paper scenarios, whose claims these are).
    let side_by_side: Vec<recovery::SideBySide> = if paper {
        recovery::side_by_side(
            &pool,
            &inputs.plugins,
            &scenario,
            a.replications,
            inputs.cancel.as_ref(),
            Some(&records),
        )?
    } else {
        Vec::new()
    };
    let devs: Vec<DeviationRow> = per_cell.iter().flat_map(|c| c.0.clone()).collect();
    let eqs: Vec<EquilibriumRow> = per_cell.into_iter().flat_map(|c| c.1).collect();
    let dev_values: Vec<_> = devs.iter().map(|r| r.values(&menu)).collect();
    table::DEVIATIONS.write(&inputs.out, &dev_values)?;
    let eq_values: Vec<_> = eqs.iter().map(EquilibriumRow::values).collect();
    table::EQUILIBRIA.write(&inputs.out, &eq_values)?;
    let settings = bins::settings(&spec.analysis.bins);
    let bin_rows =
        pool.install(|| bins::all_cells(&scenario, &cx, settings, &stopped, Some(&records)))?;
    bins::write(&inputs.out, &menu, &bin_rows)?;
    let part1 = started.elapsed().as_secs_f64();

    let started = Instant::now();
    // The claims across model variants are the paper's: only a paper scenario carries them.
    let claims = if paper {
        let list = variants::variants(&eqs, &menu);
        variants::decide_all(inputs, &spec, &list)?
    } else {
        Vec::new()
    };
    let part2 = started.elapsed().as_secs_f64();

    let audited = AuditedScenario {
        name: scenario.name.clone(),
        origin: scenario.origin.clone(),
        cells: scenario.cell_count(),
        paper,
    };
    let what = render::Audited {
        mechanisms: &audited_names,
        scenario: &audited,
        skipped: &skipped,
        side_by_side: &side_by_side,
        bins: (settings, &bin_rows),
    };
    let report = render::write(&inputs.out, &spec, &menu, &what, &devs, &eqs, &claims)?;
    Ok(AuditSummary {
        report,
        variants: claims,
        seconds: (part1, part2),
    })
}
