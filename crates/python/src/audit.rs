//! `datapact.audit`: the incentive audit (`datapact audit`), stopped by Ctrl-C.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use datapact::embedded;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use crate::errors::{error, obj, runner_error, scenario_error};
use crate::report::claim_dict;
use crate::run::CORE;
use crate::worker::{cancellable, thread_count};

/// `datapact audit`: runs the incentive audit into `out` (Ctrl-C stops it inside a cell within
/// a fraction of a second; `resume` keeps the finished cells of an interrupted one, as
/// `--resume`); returns the report's path and the claims' verdicts under each variant.
#[pyfunction]
#[pyo3(signature = (out, spec, threads, progress, resume = false))]
pub(crate) fn audit<'py>(
    py: Python<'py>,
    out: PathBuf,
    spec: Option<PathBuf>,
    threads: Option<usize>,
    progress: bool,
    resume: bool,
) -> PyResult<Bound<'py, PyDict>> {
    use datapact_audit::{AuditError, AuditInputs, DEFAULT_SPEC};
    let threads = thread_count(threads)?;
    let (text, origin) = match &spec {
        Some(path) => (
            std::fs::read_to_string(path).map_err(|e| {
                error(
                    py,
                    "OutputError",
                    format!("{}: cannot read audit settings: {e}", path.display()),
                    &[("exit_code", obj(py, 2u8))],
                )
            })?,
            path.display().to_string(),
        ),
        None => (
            DEFAULT_SPEC.to_string(),
            "<embedded>/audit.toml".to_string(),
        ),
    };
    let cancel = Arc::new(AtomicBool::new(false));
    let stop = cancel.clone();
    let job = move || {
        datapact_audit::run(&AuditInputs {
            spec: (&text, &origin),
            paper: embedded::PAPER,
            catalog: Arc::new(CORE.catalog().clone()),
            plugins: CORE.clone(),
            out,
            threads,
            progress,
            cancel: Some(stop),
            resume,
        })
    };
    let summary = cancellable(py, "audit", &cancel, job, || Ok(()))?.map_err(|e| match e {
        AuditError::Scenario(e) => scenario_error(py, e),
        AuditError::Runner(e) => runner_error(py, e),
        AuditError::Spec { .. } => error(
            py,
            "ScenarioError",
            e.to_string(),
            &[("exit_code", obj(py, 2u8))],
        ),
        AuditError::Interrupted => error(
            py,
            "InterruptedRun",
            e.to_string()
                .replace("with --resume", "with resume=True")
                .replace("--spec", "spec=")
                .replace("--out", "out="),
            &[("exit_code", obj(py, 130u8))],
        ),
        AuditError::File(f) => error(
            py,
            "OutputError",
            f.to_string(),
            &[("exit_code", obj(py, f.exit_code()))],
        ),
        other => {
            let code = other.exit_code();
            error(
                py,
                "OutputError",
                other.to_string(),
                &[("exit_code", obj(py, code))],
            )
        }
    })?;
    let d = PyDict::new(py);
    d.set_item("report", &summary.report)?;
    let variants = PyDict::new(py);
    for v in &summary.variants {
        let claims = PyList::empty(py);
        for c in &v.claims {
            claims.append(claim_dict(py, c)?)?;
        }
        variants.set_item(&v.id, claims)?;
    }
    d.set_item("variants", variants)?;
    d.set_item("seconds", summary.seconds)?;
    Ok(d)
}
