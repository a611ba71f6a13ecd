//! `datapact audit`: the incentive audit (crate `datapact-audit`) on the app's embedded paper
//! scenarios.

use std::path::PathBuf;
use std::time::Instant;

use datapact_audit::{AuditError, AuditInputs, DEFAULT_SPEC};

use crate::context::Context;
use crate::embedded;
use crate::failure::Failure;
use crate::signals::Signals;

/// The failure of `e`, its code by its kind ([`AuditError::exit_code`]); an interruption's by
/// the signal that caused it (130 SIGINT, 143 SIGTERM).
pub(crate) fn failure(signals: &Signals, e: AuditError) -> Failure {
    match e {
        AuditError::Runner(e) => signals.exit_code(e),
        AuditError::Interrupted => Failure {
            code: signals.interrupted_code(),
            message: e.to_string(),
        },
        e => Failure {
            code: e.exit_code(),
            message: e.to_string(),
        },
    }
}

/// `datapact audit [--out DIR] [--spec FILE] [--threads N] [--resume]`.
pub(crate) fn audit(
    cx: &Context,
    out: Option<PathBuf>,
    spec: Option<PathBuf>,
    threads: usize,
    resume: bool,
    quiet: bool,
) -> Result<(), Failure> {
    let (text, origin) = match &spec {
        Some(path) => (
            std::fs::read_to_string(path).map_err(|e| Failure {
                code: 2,
                message: format!("{}: cannot read audit settings: {e}", path.display()),
            })?,
            path.display().to_string(),
        ),
        None => (
            DEFAULT_SPEC.to_string(),
            "<embedded>/audit.toml".to_string(),
        ),
    };
    let signals = Signals::install()?;
    signals.watch_audit();
    let started = Instant::now();
    let inputs = AuditInputs {
        spec: (&text, &origin),
        paper: embedded::PAPER,
        catalog: cx.catalog.clone(),
        plugins: cx.plugins.clone(),
        out: out.unwrap_or_else(|| PathBuf::from("results").join("audit")),
        threads,
        progress: !quiet,
        cancel: Some(signals.stop.clone()),
        resume,
    };
    let summary = datapact_audit::run(&inputs).map_err(|e| failure(&signals, e))?;
    println!(
        "audit: {} (deviations and dynamics {:.1} s, variants {:.1} s)",
        summary.report.display(),
        summary.seconds.0,
        summary.seconds.1
    );
    for v in &summary.variants {
        let verdicts: Vec<&str> = v.claims.iter().map(|c| c.verdict.as_str()).collect();
        println!("  {:<20} {}", v.id, verdicts.join(" | "));
    }
    println!("audit done in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}
