//! `datapact._native`: the Rust half of the `datapact` Python package (the Python half, with the
//! public API and its documentation, is `python/datapact/__init__.py`).
//!
//! It calls the same entry points as the command line (`Scenario::load`/`from_str`,
//! `datapact_runner::run`, `datapact_runner::verify`), so a run from Python writes the same files
//! byte for byte. Tables reach Python through the Arrow C Data Interface: the record batches read
//! from the Parquet parts are exported as an `ArrowArrayStream` that pyarrow imports without
//! copying a buffer. A run simulates on a worker thread with the GIL released, while the calling
//! thread polls for Ctrl-C (`Python::check_signals`) and reports progress.

// The embedded scenarios, the command line's own file (compiled here too, so that the extension
// module does not link the command line's dependencies).
#[path = "../../cli/src/embedded.rs"]
mod embedded;
mod search;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use arrow::array::{RecordBatch, RecordBatchIterator, RecordBatchReader};
use arrow::datatypes::SchemaRef;
use arrow::ffi::FFI_ArrowSchema;
use arrow::ffi_stream::FFI_ArrowArrayStream;
use datapact_runner::{RunOptions, RunSummary, RunnerError, Shard};
use datapact_scenario::{Scenario, ScenarioError};
use datapact_trace::Table;
use pyo3::IntoPyObjectExt;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};

/// How often the calling thread wakes while a run is simulating: to check for Ctrl-C and to
/// advance the progress bar. Short enough to feel immediate, long enough to cost nothing.
const POLL: Duration = Duration::from_millis(100);

/// An exception of `datapact._errors` (defined in Python so they can inherit from both
/// `DatapactError` and the matching built-in), carrying `attrs` as attributes.
fn error(py: Python<'_>, class: &str, message: String, attrs: &[(&str, Py<PyAny>)]) -> PyErr {
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
fn obj<'py, T: IntoPyObject<'py>>(py: Python<'py>, value: T) -> Py<PyAny> {
    value.into_py_any(py).unwrap_or_else(|_| py.None())
}

fn scenario_error(py: Python<'_>, e: ScenarioError) -> PyErr {
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
fn runner_error(py: Python<'_>, e: RunnerError) -> PyErr {
    let (class, code) = match &e {
        RunnerError::Refused(_) => ("OutputError", 2u8),
        RunnerError::Invariant(_) => ("InvariantError", 3),
        RunnerError::Interrupted => ("InterruptedRun", 130),
        _ => ("OutputError", 1),
    };
    error(py, class, e.to_string(), &[("exit_code", obj(py, code))])
}

/// A validated scenario: what `datapact.validate` returns and `datapact.run` runs.
#[pyclass(frozen, name = "Scenario", module = "datapact")]
struct PyScenario {
    inner: Scenario,
    /// The overrides it was loaded with: more overrides reload the same text with all of them,
    /// so the outputs record the original source, as from the command line.
    overrides: Vec<String>,
}

#[pymethods]
impl PyScenario {
    /// `[scenario] name`.
    #[getter]
    fn name(&self) -> &str {
        &self.inner.name
    }
    /// The master seed.
    #[getter]
    fn seed(&self) -> u64 {
        self.inner.seed
    }
    /// Campaigns per cell and mechanism.
    #[getter]
    fn replications(&self) -> u32 {
        self.inner.replications
    }
    /// The mechanisms, in canonical order (`"C"`, `"S"`, `"M"`).
    #[getter]
    fn mechanisms(&self) -> Vec<&'static str> {
        self.inner.mechanisms.iter().map(|m| m.name).collect()
    }
    /// The sweep axes: `(key, output column, values)`, first axis slowest.
    #[getter]
    fn sweep(&self) -> Vec<(String, String, Vec<f64>)> {
        self.inner
            .sweep
            .iter()
            .map(|a| (a.key.clone(), a.column.clone(), a.values.clone()))
            .collect()
    }
    /// Number of grid cells.
    #[getter]
    fn cells(&self) -> usize {
        self.inner.cell_count()
    }
    /// cells × replications × mechanisms.
    #[getter]
    fn campaigns(&self) -> u128 {
        self.inner.campaigns()
    }
    /// `"cells"`, `"rounds"`, `"users"` or `"events"`.
    #[getter]
    fn trace(&self) -> &'static str {
        self.inner.trace.as_str()
    }
    /// Hex SHA-256 of the effective scenario (the hash written into every output).
    #[getter]
    fn hash(&self) -> String {
        self.inner.hash()
    }
    /// Where it came from: a file path, `<embedded>/NAME`, `<string>` or `<dict>`.
    #[getter]
    fn origin(&self) -> &str {
        &self.inner.origin
    }
    /// The effective scenario (defaults filled, overrides applied) as canonical TOML.
    #[getter]
    fn toml(&self) -> String {
        self.inner.normalized()
    }
    fn __repr__(&self) -> String {
        format!(
            "<datapact.Scenario {:?}: {} cells x {} replications x {} mechanisms, trace={}, from {}>",
            self.inner.name,
            self.inner.cell_count(),
            self.inner.replications,
            self.inner.mechanisms.len(),
            self.inner.trace.as_str(),
            self.inner.origin
        )
    }
}

/// A TOML value from a Python value of a scenario dict; `at` is the dotted key, for errors.
fn toml_value(value: &Bound<'_, PyAny>, at: &str) -> PyResult<toml::Value> {
    // bool before int: Python's bool is a subclass of int.
    if value.is_instance_of::<PyBool>() {
        return Ok(toml::Value::Boolean(value.extract()?));
    }
    if value.is_instance_of::<PyInt>() {
        let i: i64 = value.extract().map_err(|_| {
            PyValueError::new_err(format!("{at}: integer {value} does not fit in 64 bits"))
        })?;
        return Ok(toml::Value::Integer(i));
    }
    if value.is_instance_of::<PyFloat>() {
        return Ok(toml::Value::Float(value.extract()?));
    }
    if value.is_instance_of::<PyString>() {
        return Ok(toml::Value::String(value.extract()?));
    }
    if let Ok(dict) = value.cast::<PyDict>() {
        return Ok(toml::Value::Table(toml_table(dict, at)?));
    }
    if value.is_instance_of::<PyList>() || value.is_instance_of::<PyTuple>() {
        let items = value
            .try_iter()?
            .enumerate()
            .map(|(i, item)| toml_value(&item?, &format!("{at}[{i}]")))
            .collect::<PyResult<Vec<_>>>()?;
        return Ok(toml::Value::Array(items));
    }
    Err(PyTypeError::new_err(format!(
        "{at}: a scenario value must be a bool, int, float, str, list or dict, not {}",
        value.get_type().name()?
    )))
}

fn toml_table(dict: &Bound<'_, PyDict>, at: &str) -> PyResult<toml::Table> {
    let mut table = toml::Table::new();
    for (k, v) in dict.iter() {
        let key: String = k.extract().map_err(|_| {
            PyTypeError::new_err(format!("{at}: scenario keys must be str, found {k:?}"))
        })?;
        let path = if at.is_empty() {
            key.clone()
        } else {
            format!("{at}.{key}")
        };
        table.insert(key, toml_value(&v, &path)?);
    }
    Ok(table)
}

/// Loads a scenario the way the command line does: a path on disk wins over an embedded name.
fn load_name_or_path(name: &str, overrides: &[String]) -> Result<Scenario, ScenarioError> {
    let path = Path::new(name);
    if !path.exists()
        && let Some(text) = embedded::find(name)
    {
        return Scenario::from_str(text, &format!("<embedded>/{name}"), overrides);
    }
    if !path.exists() {
        let known: Vec<&str> = embedded::SCENARIOS
            .iter()
            .chain(embedded::PAPER)
            .map(|(n, _)| *n)
            .collect();
        return Err(ScenarioError {
            origin: name.to_string(),
            line: None,
            key: None,
            message: format!(
                "no such file, and not an embedded scenario (embedded: {})",
                known.join(", ")
            ),
        });
    }
    Scenario::load(path, overrides)
}

/// `scenario` of `datapact.run`/`validate`: a `Scenario`, a `dict`, TOML text, an
/// `os.PathLike`, or a str naming a file or an embedded scenario.
#[pyfunction]
#[pyo3(signature = (scenario, overrides))]
fn load(
    py: Python<'_>,
    scenario: &Bound<'_, PyAny>,
    overrides: Vec<String>,
) -> PyResult<PyScenario> {
    let loaded = if let Ok(s) = scenario.cast::<PyScenario>() {
        let s = s.get();
        if overrides.is_empty() {
            return Ok(PyScenario {
                inner: s.inner.clone(),
                overrides: s.overrides.clone(),
            });
        }
        let all = [s.overrides.clone(), overrides].concat();
        return Scenario::from_str(&s.inner.source, &s.inner.origin, &all)
            .map(|inner| PyScenario {
                inner,
                overrides: all,
            })
            .map_err(|e| scenario_error(py, e));
    } else if let Ok(dict) = scenario.cast::<PyDict>() {
        let text = toml::to_string(&toml_table(dict, "")?)
            .map_err(|e| PyValueError::new_err(format!("scenario dict: {e}")))?;
        Scenario::from_str(&text, "<dict>", &overrides)
    } else if let Ok(text) = scenario.extract::<String>()
        && scenario.is_instance_of::<PyString>()
    {
        // A name or a path is one line without `=`; TOML text has a line break or a key = value.
        if text.contains('\n') || text.contains('=') {
            Scenario::from_str(&text, "<string>", &overrides)
        } else {
            load_name_or_path(&text, &overrides)
        }
    } else if let Ok(path) = py
        .import("os")?
        .call_method1("fspath", (scenario,))
        .and_then(|p| p.extract::<PathBuf>())
    {
        Scenario::load(&path, &overrides)
    } else {
        return Err(PyTypeError::new_err(format!(
            "scenario must be a path, an embedded scenario's name, TOML text, a dict or a datapact.Scenario, not {}",
            scenario.get_type().name()?
        )));
    };
    loaded
        .map(|inner| PyScenario { inner, overrides })
        .map_err(|e| scenario_error(py, e))
}

/// The options of a run from Python: the one place they are built (so a new field of
/// `RunOptions` is one edit).
fn run_options(
    out: PathBuf,
    threads: usize,
    stderr_bar: bool,
    cancel: Arc<AtomicBool>,
    cells_done: Arc<AtomicUsize>,
) -> RunOptions {
    RunOptions {
        out,
        threads,
        shard: Shard::WHOLE,
        resume: false,
        progress: stderr_bar,
        backend: datapact_sim::Backend::Ecs,
        cancel: Some(cancel),
        cells_done: Some(cells_done),
        plugins: CORE.clone(),
        replication: None,
    }
}

/// The plugins Python runs: the core mechanisms and strategies (what the `datapact` binary runs;
/// scenarios are loaded against the same core catalog).
static CORE: std::sync::LazyLock<Arc<datapact_sim::PluginSet>> =
    std::sync::LazyLock::new(|| Arc::new(datapact_sim::PluginSet::core()));

fn summary_dict<'py>(
    py: Python<'py>,
    s: &RunSummary,
    seconds: f64,
) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("cells_run", s.cells_run)?;
    d.set_item("chunks_run", s.chunks_run)?;
    d.set_item("seconds", seconds)?;
    let mechanisms = PyDict::new(py);
    for (m, x) in &s.mechanisms {
        let k = x.cells.max(1) as f64;
        let row = PyDict::new(py);
        row.set_item("cells", x.cells)?;
        row.set_item("success_rate", x.success / k)?;
        row.set_item("welfare", x.welfare / k)?;
        row.set_item("leakage", x.leakage / k)?;
        row.set_item("leaky_cells", x.leaky_cells)?;
        mechanisms.set_item(*m, row)?;
    }
    d.set_item("mechanisms", mechanisms)?;
    Ok(d)
}

/// Runs `scenario` into `out` with the GIL released; Ctrl-C stops it (finished chunks stay).
/// `on_progress(done_cells, total_cells)` is called from this thread while it runs.
#[pyfunction]
#[pyo3(signature = (scenario, out, threads, stderr_bar, on_progress=None))]
fn run<'py>(
    py: Python<'py>,
    scenario: &PyScenario,
    out: PathBuf,
    threads: Option<usize>,
    stderr_bar: bool,
    on_progress: Option<Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyDict>> {
    // As `--threads`: at least 1, all cores when not given.
    let threads = match threads {
        Some(0) => return Err(PyValueError::new_err("threads must be >= 1")),
        Some(t) => t,
        None => std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    let cancel = Arc::new(AtomicBool::new(false));
    let cells_done = Arc::new(AtomicUsize::new(0));
    let opts = run_options(
        out.clone(),
        threads,
        stderr_bar,
        cancel.clone(),
        cells_done.clone(),
    );
    let total_cells = datapact_runner::chunk_plan(&scenario.inner).cells;
    let clock = std::time::Instant::now();
    let job = scenario.inner.clone();
    let (done_tx, done_rx) = mpsc::channel::<()>();
    // Shared with the GIL-free closure below, which must be `Send`.
    let done_rx = std::sync::Mutex::new(done_rx);
    let worker = std::thread::Builder::new()
        .name("datapact-run".into())
        .spawn(move || {
            let result = datapact_runner::run(&job, &opts);
            let _ = done_tx.send(());
            result
        })
        .map_err(|e| error(py, "OutputError", format!("cannot start the run: {e}"), &[]))?;
    let mut finished = false;
    while !finished {
        // Disconnected (the worker ended without sending: it panicked) also means finished.
        finished = py.detach(|| {
            let rx = done_rx.lock().unwrap_or_else(|p| p.into_inner());
            !matches!(rx.recv_timeout(POLL), Err(mpsc::RecvTimeoutError::Timeout))
        });
        let interrupted = py.check_signals().err();
        let reported = match (&on_progress, &interrupted) {
            (Some(cb), None) => cb
                .call1((cells_done.load(Ordering::Relaxed), total_cells))
                .err(),
            _ => None,
        };
        if let Some(e) = interrupted.or(reported) {
            cancel.store(true, Ordering::Relaxed);
            // The runner stops after the cells in flight; wait for it so no thread outlives
            // the call, then raise (KeyboardInterrupt for Ctrl-C).
            let _ = py.detach(|| worker.join());
            return Err(e);
        }
    }
    match worker.join() {
        Ok(Ok(summary)) => summary_dict(py, &summary, clock.elapsed().as_secs_f64()),
        Ok(Err(e)) => Err(runner_error(py, e)),
        Err(panic) => {
            let why = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "unknown panic".into());
            Err(error(
                py,
                "InvariantError",
                format!(
                    "the run stopped on an internal error (a bug: please report the scenario): {why}"
                ),
                &[],
            ))
        }
    }
}

/// `datapact verify`: raises `VerifyError` naming missing, damaged and unexpected files.
#[pyfunction]
fn verify(py: Python<'_>, dir: PathBuf) -> PyResult<usize> {
    let v = datapact_runner::verify(&dir).map_err(|m| {
        error(
            py,
            "VerifyError",
            format!("{}: {m}", dir.display()),
            &[("exit_code", obj(py, 1u8))],
        )
    })?;
    if v.ok() {
        return Ok(v.checked);
    }
    let mut lines = vec![format!(
        "{}: {} of {} files do not match manifest.json",
        dir.display(),
        v.missing.len() + v.damaged.len() + v.unexpected.len() + v.inconsistent.len(),
        v.checked
    )];
    lines.extend(v.missing.iter().map(|f| format!("  missing     {f}")));
    lines.extend(
        v.damaged
            .iter()
            .map(|(f, why)| format!("  damaged     {f}: {why}")),
    );
    lines.extend(v.unexpected.iter().map(|f| format!("  unexpected  {f}")));
    lines.extend(v.inconsistent.iter().map(|w| format!("  inconsistent {w}")));
    let damaged: Vec<String> = v.damaged.iter().map(|(f, _)| f.clone()).collect();
    let attrs = [
        ("missing", obj(py, v.missing.clone())),
        ("damaged", obj(py, damaged)),
        ("unexpected", obj(py, v.unexpected.clone())),
        ("exit_code", obj(py, 1u8)),
    ];
    Err(error(py, "VerifyError", lines.join("\n"), &attrs))
}

/// A `pyarrow.Table` of `batches`, handed over through the Arrow C stream interface: pyarrow
/// takes ownership of the Rust buffers, nothing is copied.
fn to_pyarrow_table<'py>(
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

fn table_named(name: &str) -> PyResult<Table> {
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

/// Reads every part of table `name` under the output directory `dir` into a `pyarrow.Table`.
/// `swept` names the swept columns (for the schema of a table without rows).
#[pyfunction]
fn read_table<'py>(
    py: Python<'py>,
    dir: PathBuf,
    name: &str,
    swept: Vec<String>,
) -> PyResult<Bound<'py, PyAny>> {
    let table = table_named(name)?;
    let batches = py
        .detach(|| datapact_trace::read_table(&dir, table))
        .map_err(|e| error(py, "OutputError", e.to_string(), &[]))?;
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

/// The Arrow schema of every output table, with `swept` as the swept columns.
#[pyfunction]
#[pyo3(signature = (swept=Vec::new()))]
fn schema<'py>(py: Python<'py>, swept: Vec<String>) -> PyResult<Bound<'py, PyDict>> {
    if let Some(bad) = datapact_trace::swept_columns_conflict(&swept) {
        return Err(PyValueError::new_err(format!(
            "swept column {bad:?} is empty, repeated, or collides with a fixed column"
        )));
    }
    let pa_schema = py.import("pyarrow")?.getattr("Schema")?;
    let d = PyDict::new(py);
    for table in Table::ALL {
        let schema = datapact_trace::schema(table, &swept, &[])
            .map_err(|e| PyValueError::new_err(e.to_string()))?;
        let c_schema = FFI_ArrowSchema::try_from(schema.as_ref())
            .map_err(|e| PyValueError::new_err(e.to_string()))?;
        let value = pa_schema.call_method1("_import_from_c", (&raw const c_schema as usize,))?;
        d.set_item(table.dir_name(), value)?;
    }
    Ok(d)
}

/// The embedded scenarios: `(name, first comment line, TOML text)`.
#[pyfunction]
fn scenarios() -> Vec<(&'static str, String, &'static str)> {
    embedded::SCENARIOS
        .iter()
        .chain(embedded::PAPER)
        .map(|(name, text)| {
            let first = text
                .lines()
                .find(|l| l.starts_with('#'))
                .unwrap_or("")
                .trim_start_matches('#')
                .trim()
                .to_string();
            (*name, first, *text)
        })
        .collect()
}

#[pymodule]
mod _native {
    #[pymodule_export]
    use super::search::search;
    #[pymodule_export]
    use super::{PyScenario, load, read_table, run, scenarios, schema, verify};

    #[pymodule_export]
    const VERSION: &str = datapact_runner::VERSION;
}
