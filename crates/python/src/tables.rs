//! Tables to pyarrow: a run's table read through the verified view (`read_table`) and the
//! output schemas (`schema`), handed over through the Arrow C Data Interface without copying.

use std::path::PathBuf;

use arrow::array::{RecordBatch, RecordBatchIterator, RecordBatchReader};
use arrow::datatypes::SchemaRef;
use arrow::ffi::FFI_ArrowSchema;
use arrow::ffi_stream::FFI_ArrowArrayStream;
use datapact_trace::Table;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::errors::{error, obj};
use crate::memory::check_room;

/// A `pyarrow.Table` of `batches`, handed over through the Arrow C stream interface: pyarrow
/// takes ownership of the Rust buffers, nothing is copied.
pub(crate) fn to_pyarrow_table<'py>(
    py: Python<'py>,
    batches: Vec<RecordBatch>,
    schema: SchemaRef,
) -> PyResult<Bound<'py, PyAny>> {
    let reader: Box<dyn RecordBatchReader + Send> = Box::new(RecordBatchIterator::new(
        batches.into_iter().map(Ok),
        schema,
    ));
    let mut stream = FFI_ArrowArrayStream::new(reader);
    let pa_reader = py
        .import("pyarrow")?
        .getattr("RecordBatchReader")?
        .call_method1("_import_from_c", (&raw mut stream as usize,))?;
    // pyarrow moved the stream out (its release callback is now null): dropping ours is a no-op.
    pa_reader.call_method0("read_all")
}

pub(crate) fn table_named(name: &str) -> PyResult<Table> {
    Table::ALL
        .into_iter()
        .find(|t| t.dir_name() == name)
        .ok_or_else(|| {
            let known: Vec<&str> = Table::ALL.iter().map(|t| t.dir_name()).collect();
            PyValueError::new_err(format!(
                "no table {name:?}; datapact's tables are {}",
                known.join(", ")
            ))
        })
}

/// Reads table `name` of the run in `dir` into a `pyarrow.Table`, through the verified view:
/// the run must be finished and consistent, the table's parts must match the manifest
/// (checksums, rows, this run's metadata), and the manifest must be `manifest`, the one the
/// Python `Run` was opened with (so a directory rerun by a later call, or parts swapped in, raise
/// instead of handing over another run's rows). Only the manifest's parts are read (a stray file
/// is never). `swept` names the swept columns (for the schema of a table without rows). The
/// reading and hashing run with the GIL released.
#[pyfunction]
pub(crate) fn read_table<'py>(
    py: Python<'py>,
    dir: PathBuf,
    name: &str,
    swept: Vec<String>,
    manifest: &str,
) -> PyResult<Bound<'py, PyAny>> {
    let table = table_named(name)?;
    let held: datapact_trace::Manifest = serde_json::from_str(manifest)
        .map_err(|e| PyValueError::new_err(format!("manifest: {e}")))?;
    let verified = || -> Result<(Vec<PathBuf>, u64), String> {
        let view = datapact_trace::RunView::open(&dir).map_err(|e| e.to_string())?;
        let on_disk = view.verified(&[table]).map_err(|e| e.to_string())?;
        if *on_disk != held {
            return Err(format!(
                "{}: the directory now holds other outputs than when this Run was opened (run \
                 again into the same out=?); open it again with datapact.open",
                dir.join("manifest.json").display()
            ));
        }
        let prefix = format!("{}/", table.dir_name());
        let mut files: Vec<&str> = on_disk
            .parts
            .iter()
            .map(|p| p.file.as_str())
            .filter(|f| f.starts_with(&prefix))
            .collect();
        files.sort_unstable();
        let files: Vec<PathBuf> = files.into_iter().map(|f| dir.join(f)).collect();
        let mut need = 0u64;
        for f in &files {
            need =
                need.saturating_add(datapact_trace::decoded_bytes(f).map_err(|e| e.to_string())?);
        }
        Ok((files, need))
    };
    let output_error = |e: String| error(py, "OutputError", e, &[("exit_code", obj(py, 1u8))]);
    let (files, need) = py.detach(verified).map_err(output_error)?;
    // Decoded, with room for the batch being decoded: refused before, not an abort half-way.
    check_room(
        py,
        need.saturating_add(need / 4).saturating_add(16 << 20),
        &format!("table {name} of {}", dir.display()),
        1,
    )?;
    let read = || -> Result<Vec<RecordBatch>, String> {
        let mut batches = Vec::new();
        for f in &files {
            let part = datapact_trace::read_part(f).map_err(|e| e.to_string())?;
            batches
                .try_reserve(part.len())
                .map_err(|e| format!("{}: {e}", f.display()))?;
            batches.extend(part);
        }
        Ok(batches)
    };
    let batches = py.detach(read).map_err(output_error)?;
    // Every part of a run carries the same file metadata, hence the same schema; a part that
    // does not (written by another run) would make pyarrow refuse the table, so say so here.
    let schema = match batches.first() {
        Some(b) => b.schema(),
        None => datapact_trace::schema(table, &swept, &[])
            .map_err(|e| error(py, "OutputError", e.to_string(), &[]))?,
    };
    if let Some(b) = batches.iter().find(|b| b.schema() != schema) {
        return Err(error(
            py,
            "OutputError",
            format!(
                "{}: parts disagree on the schema ({:?} vs {:?}); verify the directory",
                dir.join(name).display(),
                schema.fields().len(),
                b.schema().fields().len()
            ),
            &[],
        ));
    }
    to_pyarrow_table(py, batches, schema)
}

/// The Arrow schema of every output table, with `swept` as the swept columns, and with the
/// network columns when `network` (a scenario with `[population.network]`).
#[pyfunction]
#[pyo3(signature = (swept=Vec::new(), network=false))]
pub(crate) fn schema<'py>(
    py: Python<'py>,
    swept: Vec<String>,
    network: bool,
) -> PyResult<Bound<'py, PyDict>> {
    if let Some(bad) = datapact_trace::swept_columns_conflict(&swept) {
        return Err(PyValueError::new_err(format!(
            "swept column {bad:?} is empty, repeated, or collides with a fixed column"
        )));
    }
    let pa_schema = py.import("pyarrow")?.getattr("Schema")?;
    let d = PyDict::new(py);
    for table in Table::ALL {
        let schema = datapact_trace::schema_of(table, &swept, &[], network)
            .map_err(|e| PyValueError::new_err(e.to_string()))?;
        let c_schema = FFI_ArrowSchema::try_from(schema.as_ref())
            .map_err(|e| PyValueError::new_err(e.to_string()))?;
        let value = pa_schema.call_method1("_import_from_c", (&raw const c_schema as usize,))?;
        d.set_item(table.dir_name(), value)?;
    }
    Ok(d)
}
