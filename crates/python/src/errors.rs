//! Rust errors as the Python exceptions of `datapact._errors`, each with the exit code the
//! command line would give.

use datapact_runner::RunnerError;
use datapact_scenario::ScenarioError;
use pyo3::IntoPyObjectExt;
use pyo3::prelude::*;

/// An exception of `datapact._errors` (defined in Python so they can inherit from both
/// `DatapactError` and the matching built-in), carrying `attrs` as attributes.
pub(crate) fn error(
    py: Python<'_>,
    class: &str,
    message: String,
    attrs: &[(&str, Py<PyAny>)],
) -> PyErr {
    let build = || -> PyResult<PyErr> {
        let class = py.import("datapact._errors")?.getattr(class)?;
        let value = class.call1((message.clone(),))?;
        for (name, v) in attrs {
            value.setattr(*name, v)?;
        }
        Ok(PyErr::from_value(value))
    };
    build().unwrap_or_else(|e| e)
}

/// A Python object of `value`, for an exception attribute.
pub(crate) fn obj<'py, T: IntoPyObject<'py>>(py: Python<'py>, value: T) -> Py<PyAny> {
    value.into_py_any(py).unwrap_or_else(|_| py.None())
}

pub(crate) fn scenario_error(py: Python<'_>, e: ScenarioError) -> PyErr {
    let attrs = [
        ("origin", obj(py, e.origin.clone())),
        ("line", obj(py, e.line)),
        ("key", obj(py, e.key.clone())),
        ("message", obj(py, e.message.clone())),
        ("exit_code", obj(py, 2u8)),
    ];
    error(py, "ScenarioError", e.to_string(), &attrs)
}

/// The exception for a runner error, with the exit code the command line would give.
pub(crate) fn runner_error(py: Python<'_>, e: RunnerError) -> PyErr {
    let code = e.exit_code();
    let class = match &e {
        RunnerError::Invariant(_) => "InvariantError",
        RunnerError::Interrupted => "InterruptedRun",
        _ => "OutputError",
    };
    // The command line's advice, in the terms of `datapact.run`'s arguments.
    let message = e
        .to_string()
        .replace("--resume", "resume=True")
        .replace("another --out directory", "another out= directory")
        .replace("--out", "out=");
    error(py, class, message, &[("exit_code", obj(py, code))])
}

/// A report error (a run's files unreadable or inconsistent, an output not writable).
pub(crate) fn report_error(py: Python<'_>, e: datapact_report::ReportError) -> PyErr {
    error(
        py,
        "OutputError",
        e.to_string(),
        &[("exit_code", obj(py, e.exit_code()))],
    )
}
