//! `datapact.report`: the report of the runs under a directory (`datapact report`), and the
//! claims as dicts (also the audit's).

use std::path::PathBuf;
use std::sync::Arc;

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use crate::errors::{report_error, scenario_error};
use crate::run::CORE;

/// A claim as a dict: `id`, `statement`, `rule`, `verdict`, `numbers`.
pub(crate) fn claim_dict<'py>(
    py: Python<'py>,
    c: &datapact_report::claims::Claim,
) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("id", c.id)?;
    d.set_item("statement", c.statement)?;
    d.set_item("rule", c.rule)?;
    d.set_item("verdict", c.verdict.as_str())?;
    d.set_item("numbers", &c.numbers)?;
    Ok(d)
}

/// `datapact report`: renders the runs under `dir` into `out`; returns what was written.
#[pyfunction]
pub(crate) fn report<'py>(
    py: Python<'py>,
    dir: PathBuf,
    out: PathBuf,
) -> PyResult<Bound<'py, PyDict>> {
    let reference = datapact::paper_reference(&Arc::new(CORE.catalog().clone()))
        .map_err(|e| scenario_error(py, e))?;
    let o = py
        .detach(|| datapact_report::render_report(&dir, &out, &reference))
        .map_err(|e| report_error(py, e))?;
    let d = PyDict::new(py);
    d.set_item("dir", &o.dir)?;
    d.set_item("index", o.dir.join("index.html"))?;
    let figures = PyList::empty(py);
    for f in &o.figures {
        figures.append(f.png.clone())?;
    }
    d.set_item("figures", figures)?;
    let claims = PyList::empty(py);
    for c in &o.claims {
        claims.append(claim_dict(py, c)?)?;
    }
    d.set_item("claims", claims)?;
    d.set_item("missing", o.missing.clone())?;
    d.set_item("notes", o.notes.clone())?;
    d.set_item("other_runs", o.other_runs.clone())?;
    d.set_item("findings", o.findings.clone())?;
    Ok(d)
}
