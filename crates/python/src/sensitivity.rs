//! `datapact.sensitivity`: the sensitivity indices of a designed run (`datapact sensitivity`).

use std::path::PathBuf;

use pyo3::prelude::*;

use crate::errors::report_error;
use crate::tables::to_pyarrow_table;

/// `datapact sensitivity`: the indices of a designed run as a `pyarrow.Table` (the columns of
/// `sensitivity.parquet`); with `out`, also writes that file and the charts there.
#[pyfunction]
#[pyo3(signature = (dir, metric, mechanism=None, minus=None, second_order=false, out=None))]
pub(crate) fn sensitivity<'py>(
    py: Python<'py>,
    dir: PathBuf,
    metric: String,
    mechanism: Option<String>,
    minus: Option<String>,
    second_order: bool,
    out: Option<PathBuf>,
) -> PyResult<Bound<'py, PyAny>> {
    use datapact_report::sensitivity::{Request, analyze, to_batch, write_outputs};
    let request = Request {
        metric,
        mechanism,
        minus,
        second_order,
    };
    let (batch, warnings) = py
        .detach(|| {
            let analysis = analyze(&dir, &request)?;
            if let Some(out) = &out {
                write_outputs(&analysis, out)?;
            }
            Ok((to_batch(&analysis)?, analysis.warnings))
        })
        .map_err(|e| report_error(py, e))?;
    // The command line prints these to stderr; Python raises them as UserWarnings at the
    // caller's line (stacklevel 2: past the package's wrapper).
    for w in warnings {
        let message = std::ffi::CString::new(w).unwrap_or_default();
        let category = py.get_type::<pyo3::exceptions::PyUserWarning>();
        PyErr::warn(py, category.as_any(), &message, 2)?;
    }
    let schema = batch.schema();
    to_pyarrow_table(py, vec![batch], schema)
}
