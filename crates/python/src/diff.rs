//! `datapact.diff`: two runs compared cell by cell (`datapact diff`).

use std::path::PathBuf;

use pyo3::IntoPyObjectExt;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyTuple};

use crate::errors::{error, obj};
use crate::tables::to_pyarrow_table;

/// `datapact diff`: `(table, summary, cells, max_abs_z, over_threshold)` of runs `a` and `b`
/// (the table is `diff.parquet`'s; with `out`, also written there).
#[pyfunction]
#[pyo3(signature = (a, b, z, out=None))]
pub(crate) fn diff<'py>(
    py: Python<'py>,
    a: PathBuf,
    b: PathBuf,
    z: f64,
    out: Option<PathBuf>,
) -> PyResult<Bound<'py, PyTuple>> {
    use datapact_report::diff::{diff_batch, diff_runs, write_diff};
    if !(z.is_finite() && z > 0.0) {
        return Err(PyValueError::new_err(format!(
            "z must be a positive number, got {z}"
        )));
    }
    let d = py
        .detach(|| {
            let d = diff_runs(&a, &b, z)?;
            if let Some(out) = &out {
                write_diff(&d, out)?;
            }
            Ok::<_, datapact_report::ReportError>(d)
        })
        .map_err(|e| {
            error(
                py,
                "OutputError",
                format!("diff {} {}: {e}", a.display(), b.display()),
                &[("exit_code", obj(py, 2u8))],
            )
        })?;
    let batch = diff_batch(&d);
    let schema = batch.schema();
    let table = to_pyarrow_table(py, vec![batch], schema)?;
    let summary = PyList::empty(py);
    for s in &d.summary {
        let row = PyDict::new(py);
        row.set_item("statistic", &s.statistic)?;
        row.set_item("compared", s.compared)?;
        row.set_item("max_abs_z", s.max_abs_z)?;
        row.set_item("over_3", s.over_3)?;
        row.set_item("over_threshold", s.over_threshold)?;
        summary.append(row)?;
    }
    PyTuple::new(
        py,
        [
            table,
            summary.into_any(),
            d.cells.into_bound_py_any(py)?,
            d.max_abs_z().into_bound_py_any(py)?,
            d.over_threshold().into_bound_py_any(py)?,
        ],
    )
}
