//! `datapact._native`: the Rust half of the `datapact` Python package (the Python half, with the
//! public API and its documentation, is `python/datapact/__init__.py`).
//!
//! It calls the same entry points as the command line (`Scenario::load`/`from_str`,
//! `datapact_runner::run`, `datapact_runner::verify`), so a run from Python writes the same files
//! byte for byte. Tables reach Python through the Arrow C Data Interface: the record batches read
//! from the Parquet parts are exported as an `ArrowArrayStream` that pyarrow imports without
//! copying a buffer. A run simulates on a worker thread with the GIL released, while the calling
//! thread polls for Ctrl-C (`Python::check_signals`) and reports progress.

#![warn(missing_docs)]

use datapact::embedded;
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
use pyo3::types::{PyBool, PyDict, PyList, PyString, PyTuple};

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

/// Bytes this process may still take, and the limit that leaves that: the least of what the
/// runner's own check sees (`MemAvailable`, the cgroup's limit, `DATAPACT_MEMORY_LIMIT`) and what
/// the address-space limit (`RLIMIT_AS`: `ulimit -v`, `resource.setrlimit`) leaves above the
/// process's present size. An interpreter cannot survive an allocation failure inside the
/// extension (Rust aborts the process), so work that would not fit is refused before it starts.
fn memory_room() -> Option<(u64, String)> {
    let available = datapact_runner::available_memory()
        .ok()
        .flatten()
        .map(|a| (a.bytes, a.source.to_string()));
    let address_space =
        address_space_room().map(|b| (b, "the address-space limit (RLIMIT_AS)".into()));
    match (available, address_space) {
        (Some(a), Some(b)) => Some(if b.0 < a.0 { b } else { a }),
        (a, b) => a.or(b),
    }
}

/// `RLIMIT_AS`'s soft limit minus the process's virtual size (`VmSize`), when a limit is set.
fn address_space_room() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max address space"))?;
    let soft: u64 = line
        .trim_start_matches("Max address space")
        .split_whitespace()
        .next()?
        .parse()
        .ok()?; // "unlimited" does not parse: no limit
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb: u64 = status
        .lines()
        .find(|l| l.starts_with("VmSize:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    Some(soft.saturating_sub(kb.saturating_mul(1024)))
}

/// `MemoryError` (as `datapact.OutOfMemory`) when `need` bytes do not fit in what is left.
fn check_room(py: Python<'_>, need: u64, what: &str, exit_code: u8) -> PyResult<()> {
    let Some((room, source)) = memory_room() else {
        return Ok(());
    };
    if need <= room {
        return Ok(());
    }
    Err(error(
        py,
        "OutOfMemory",
        format!(
            "{what} needs ~{} and {source} leaves {}; nothing was done",
            datapact_runner::format_bytes(need),
            datapact_runner::format_bytes(room)
        ),
        &[
            ("exit_code", obj(py, exit_code)),
            ("needed", obj(py, need)),
            ("available", obj(py, room)),
        ],
    ))
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
    /// The grid axes (`[sweep]`, and the categories a design is crossed with): `(key, output
    /// column, values)`, first axis slowest. A design's points are not listed here (a Sobol
    /// design has tens of thousands): see `design`.
    #[getter]
    fn sweep(&self) -> Vec<(String, String, Vec<f64>)> {
        let d = &self.inner.design;
        let grid = if d.points > 0 {
            &self.inner.sweep[..d.first_axis]
        } else {
            &self.inner.sweep[..]
        };
        grid.iter()
            .map(|a| (a.key.clone(), a.column.clone(), a.values.clone()))
            .collect()
    }
    /// The design's summary, or `None` without points: `kind`, `samples`, `points` (how many),
    /// `second_order` (Sobol) and `axes`, one dict per axis with `key`, `column` and, for a sampled
    /// kind, `from`, `to`, `log`. The points themselves are in a run's
    /// `manifest["design"]["points"]` and its `experiments()` table.
    #[getter]
    fn design<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyDict>>> {
        let d = &self.inner.design;
        if d.points == 0 {
            return Ok(None);
        }
        let out = PyDict::new(py);
        out.set_item("kind", d.kind.as_str())?;
        out.set_item("samples", d.samples)?;
        out.set_item("points", d.points)?;
        if d.kind == datapact_scenario::DesignKind::Sobol {
            out.set_item("second_order", !d.first_order_only)?;
        }
        let axes = self.inner.sweep[d.first_axis..]
            .iter()
            .enumerate()
            .map(|(i, a)| {
                let axis = PyDict::new(py);
                axis.set_item("key", &a.key)?;
                axis.set_item("column", &a.column)?;
                if let Some(r) = d.ranges.get(i) {
                    axis.set_item("from", r.from)?;
                    axis.set_item("to", r.to)?;
                    axis.set_item("log", r.log)?;
                }
                Ok(axis)
            })
            .collect::<PyResult<Vec<_>>>()?;
        out.set_item("axes", axes)?;
        Ok(Some(out))
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

/// How deep a scenario value may nest (tables in tables, lists in lists): far beyond any
/// scenario, and far below what would exhaust the stack (a self-referencing dict stops here).
const MAX_DEPTH: usize = 64;

/// A TOML value from a Python value of a scenario dict or of `set=`; `at` is the dotted key, for
/// errors. Any real or integral number is a number (numpy scalars and 0-d arrays included, by
/// the `numbers` ABCs numpy registers with), and any array-like with `tolist` (a numpy array) a
/// list.
fn toml_value(value: &Bound<'_, PyAny>, at: &str, depth: usize) -> PyResult<toml::Value> {
    let py = value.py();
    if depth > MAX_DEPTH {
        return Err(PyValueError::new_err(format!(
            "{at}: nested more than {MAX_DEPTH} levels deep (a dict or list that contains itself?)"
        )));
    }
    // bool before int: Python's bool is a subclass of int; numpy's bool_ is neither.
    if value.is_instance_of::<PyBool>() {
        return Ok(toml::Value::Boolean(value.extract()?));
    }
    if value.is_instance_of::<PyString>() {
        return Ok(toml::Value::String(value.extract()?));
    }
    if let Ok(dict) = value.cast::<PyDict>() {
        return Ok(toml::Value::Table(toml_table(dict, at, depth + 1)?));
    }
    if value.is_instance_of::<PyList>() || value.is_instance_of::<PyTuple>() {
        let items = value
            .try_iter()?
            .enumerate()
            .map(|(i, item)| toml_value(&item?, &format!("{at}[{i}]"), depth + 1))
            .collect::<PyResult<Vec<_>>>()?;
        return Ok(toml::Value::Array(items));
    }
    // numpy: a 0-d array or a scalar is its Python value (`item()`), an array its nested list.
    if let Ok(ndim) = value.getattr("ndim").and_then(|n| n.extract::<usize>())
        && value.hasattr("tolist")?
    {
        let plain = if ndim == 0 {
            value.call_method0("item")?
        } else {
            value.call_method0("tolist")?
        };
        return toml_value(&plain, at, depth + 1);
    }
    let numbers = py.import("numbers")?;
    if value.is_instance(&numbers.getattr("Integral")?)? {
        let i = py.import("operator")?.call_method1("index", (value,))?;
        let i: i64 = i.extract().map_err(|_| {
            PyValueError::new_err(format!("{at}: integer {value} does not fit in 64 bits"))
        })?;
        return Ok(toml::Value::Integer(i));
    }
    if value.is_instance(&numbers.getattr("Real")?)? {
        return Ok(toml::Value::Float(
            value.call_method0("__float__")?.extract()?,
        ));
    }
    if let Ok(mapping) = value.cast::<pyo3::types::PyMapping>() {
        let dict = PyDict::new(py);
        for item in mapping.items()?.iter() {
            let (k, v): (Bound<'_, PyAny>, Bound<'_, PyAny>) = item.extract()?;
            dict.set_item(k, v)?;
        }
        return Ok(toml::Value::Table(toml_table(&dict, at, depth + 1)?));
    }
    Err(PyTypeError::new_err(format!(
        "{at}: a scenario value must be a bool, a number (int, float, numpy), a str, a list (or \
         1-d array) or a dict, not {}",
        value.get_type().name()?
    )))
}

fn toml_table(dict: &Bound<'_, PyDict>, at: &str, depth: usize) -> PyResult<toml::Table> {
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
        table.insert(key, toml_value(&v, &path, depth)?);
    }
    Ok(table)
}

/// One override of `set=`: a `"key=value"` str as `--set` takes it, or a `(key, value)` pair
/// whose value is serialized to TOML here (so a str value is quoted, a number is a number, and
/// nothing of the key or value can be read as more than one key).
fn override_text(py: Python<'_>, item: &Bound<'_, PyAny>) -> PyResult<String> {
    if item.is_instance_of::<PyString>() {
        return item.extract();
    }
    let (key, value): (String, Bound<'_, PyAny>) = item.extract().map_err(|_| {
        PyTypeError::new_err(format!(
            "set: each override must be a \"key=value\" str or a (key, value) pair, not {}",
            item.get_type()
                .name()
                .map(|n| n.to_string())
                .unwrap_or_default()
        ))
    })?;
    let bare = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    };
    if !key.split('.').all(bare) {
        return Err(scenario_error(
            py,
            ScenarioError {
                origin: "set".into(),
                line: None,
                key: Some(key.clone()),
                message: format!(
                    "invalid key {key:?}: a scenario key is dotted bare keys (letters, digits, _ \
                     and -) like \"game.value\""
                ),
            },
        ));
    }
    let value = toml_value(&value, &key, 0)?;
    Ok(format!("{key}={value}"))
}

/// What a one-line str names when it is neither a file on disk nor an embedded scenario.
fn not_found(name: &str) -> ScenarioError {
    let known: Vec<&str> = embedded::SCENARIOS
        .iter()
        .chain(embedded::PAPER)
        .map(|(n, _)| *n)
        .collect();
    ScenarioError {
        origin: name.to_string(),
        line: None,
        key: None,
        message: format!(
            "no such file, and not an embedded scenario (embedded: {}); TOML text has a line \
             break, a path can also be given as a pathlib.Path",
            known.join(", ")
        ),
    }
}

/// What a str scenario is.
enum StrScenario {
    /// A file on disk.
    File,
    /// An embedded scenario's text.
    Embedded(&'static str),
    /// TOML text.
    Text,
}

/// A str scenario, told apart by what exists rather than by its characters: a file on disk (a
/// path may hold `=`), else an embedded scenario's name (as on the command line, a file wins),
/// else TOML text when it has a line break or a `key = value`, else a missing file.
fn classify_str(text: &str) -> Result<StrScenario, ScenarioError> {
    let one_line = !text.contains('\n');
    if one_line && !text.is_empty() && Path::new(text).exists() {
        return Ok(StrScenario::File);
    }
    if one_line && let Some(found) = embedded::find(text) {
        return Ok(StrScenario::Embedded(found));
    }
    if !one_line || (text.contains('=') && !text.trim_end().ends_with(".toml")) {
        return Ok(StrScenario::Text);
    }
    Err(not_found(text))
}

/// A str scenario loaded as [`classify_str`] tells it apart.
fn load_str(text: &str, overrides: &[String]) -> Result<Scenario, ScenarioError> {
    match classify_str(text)? {
        StrScenario::File => Scenario::load(Path::new(text), overrides),
        StrScenario::Embedded(found) => {
            Scenario::from_str(found, &format!("<embedded>/{text}"), overrides)
        }
        StrScenario::Text => Scenario::from_str(text, "<string>", overrides),
    }
}

/// `set=`'s items as `--set KEY=VALUE` strs (see [`override_text`]).
fn override_texts(py: Python<'_>, overrides: &[Bound<'_, PyAny>]) -> PyResult<Vec<String>> {
    overrides.iter().map(|o| override_text(py, o)).collect()
}

/// A dict scenario as TOML text.
fn dict_toml(dict: &Bound<'_, PyDict>) -> PyResult<String> {
    toml::to_string(&toml_table(dict, "", 0)?)
        .map_err(|e| PyValueError::new_err(format!("scenario dict: {e}")))
}

/// What `datapact.run(..., app=APP)` hands the app's command line: `(toml, sets)`. `toml` is
/// the text to write to a file for a `Scenario` (its canonical text), a dict or TOML text, and
/// `None` for a path or an embedded name, which the app reads itself (a str is told apart as
/// [`load`] tells it apart); `sets` are `set=`'s items as `--set KEY=VALUE` strs, serialized
/// exactly as [`load`] serializes them.
#[pyfunction]
#[pyo3(signature = (scenario, overrides))]
fn app_args(
    py: Python<'_>,
    scenario: &Bound<'_, PyAny>,
    overrides: Vec<Bound<'_, PyAny>>,
) -> PyResult<(Option<String>, Vec<String>)> {
    let sets = override_texts(py, &overrides)?;
    let text = if let Ok(s) = scenario.cast::<PyScenario>() {
        Some(s.get().inner.normalized())
    } else if let Ok(dict) = scenario.cast::<PyDict>() {
        Some(dict_toml(dict)?)
    } else if scenario.is_instance_of::<PyString>() {
        let text: String = scenario.extract()?;
        match classify_str(&text).map_err(|e| scenario_error(py, e))? {
            StrScenario::Text => Some(text),
            StrScenario::File | StrScenario::Embedded(_) => None,
        }
    } else {
        None
    };
    Ok((text, sets))
}

/// `scenario` of `datapact.run`/`validate`: a `Scenario`, a dict (or any mapping), TOML text,
/// an `os.PathLike` (always a path), or a str naming a file or an embedded scenario.
/// `overrides` are `set=`'s items (see [`override_text`]).
#[pyfunction]
#[pyo3(signature = (scenario, overrides))]
fn load(
    py: Python<'_>,
    scenario: &Bound<'_, PyAny>,
    overrides: Vec<Bound<'_, PyAny>>,
) -> PyResult<PyScenario> {
    let overrides = override_texts(py, &overrides)?;
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
    } else if scenario.is_instance_of::<PyString>() {
        let text: String = scenario.extract()?;
        py.detach(|| load_str(&text, &overrides))
    } else if let Ok(dict) = scenario.cast::<PyDict>() {
        Scenario::from_str(&dict_toml(dict)?, "<dict>", &overrides)
    } else if let Ok(path) = py
        .import("os")?
        .call_method1("fspath", (scenario,))
        .and_then(|p| p.extract::<PathBuf>())
    {
        py.detach(|| Scenario::load(&path, &overrides))
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
    resume: bool,
    stderr_bar: bool,
    cancel: Arc<AtomicBool>,
    cells_done: Arc<AtomicUsize>,
) -> RunOptions {
    RunOptions {
        out,
        threads,
        shard: Shard::WHOLE,
        resume,
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
#[pyo3(signature = (scenario, out, threads, stderr_bar, on_progress=None, resume=false))]
fn run<'py>(
    py: Python<'py>,
    scenario: &PyScenario,
    out: PathBuf,
    threads: Option<usize>,
    stderr_bar: bool,
    on_progress: Option<Bound<'py, PyAny>>,
    resume: bool,
) -> PyResult<Bound<'py, PyDict>> {
    let threads = thread_count(threads)?;
    let cancel = Arc::new(AtomicBool::new(false));
    let cells_done = Arc::new(AtomicUsize::new(0));
    let opts = run_options(
        out.clone(),
        threads,
        resume,
        stderr_bar,
        cancel.clone(),
        cells_done.clone(),
    );
    let total_cells = datapact_runner::chunk_plan(&scenario.inner).cells;
    // The runner refuses a run beyond the machine's memory itself; the address-space limit is
    // checked here, where an allocation failure would abort the interpreter.
    let estimate = datapact_runner::estimate_peak_bytes(
        &scenario.inner,
        threads,
        datapact_sim::Backend::Ecs,
        scenario.inner.replications,
        CORE.plays_kernels_only(),
    );
    check_room(
        py,
        estimate.peak(),
        &format!("the run of {}", scenario.inner.origin),
        2,
    )?;
    let clock = std::time::Instant::now();
    let job = scenario.inner.clone();
    let progress = || match &on_progress {
        Some(cb) => cb
            .call1((cells_done.load(Ordering::Relaxed), total_cells))
            .map(drop),
        None => Ok(()),
    };
    let summary = cancellable(
        py,
        "run",
        &cancel,
        move || datapact_runner::run(&job, &opts),
        progress,
    )?
    .map_err(|e| runner_error(py, e))?;
    summary_dict(py, &summary, clock.elapsed().as_secs_f64())
}

/// As `--threads`: at least 1, all cores when not given.
pub(crate) fn thread_count(threads: Option<usize>) -> PyResult<usize> {
    match threads {
        Some(0) => Err(PyValueError::new_err("threads must be >= 1")),
        Some(t) => Ok(t),
        None => Ok(std::thread::available_parallelism().map_or(1, |n| n.get())),
    }
}

/// Runs `job` on a worker thread with the GIL released; this thread wakes every [`POLL`] to
/// check for Ctrl-C and to call `tick` (progress). On Ctrl-C (or an error of `tick`) it sets
/// `cancel`, waits for the job to stop (so no thread outlives the call) and raises
/// (`KeyboardInterrupt` for Ctrl-C). A panic of the job is an `InvariantError`.
pub(crate) fn cancellable<T: Send + 'static>(
    py: Python<'_>,
    what: &str,
    cancel: &AtomicBool,
    job: impl FnOnce() -> T + Send + 'static,
    mut tick: impl FnMut() -> PyResult<()>,
) -> PyResult<T> {
    let (done_tx, done_rx) = mpsc::channel::<()>();
    // Shared with the GIL-free closure below, which must be `Send`.
    let done_rx = std::sync::Mutex::new(done_rx);
    let worker = std::thread::Builder::new()
        .name(format!("datapact-{what}"))
        .spawn(move || {
            let result = job();
            let _ = done_tx.send(());
            result
        })
        .map_err(|e| {
            error(
                py,
                "OutputError",
                format!("cannot start the {what}: {e}"),
                &[],
            )
        })?;
    let mut finished = false;
    while !finished {
        // Disconnected (the worker ended without sending: it panicked) also means finished.
        finished = py.detach(|| {
            let rx = done_rx.lock().unwrap_or_else(|p| p.into_inner());
            !matches!(rx.recv_timeout(POLL), Err(mpsc::RecvTimeoutError::Timeout))
        });
        let stop = py.check_signals().and_then(|()| tick());
        if let Err(e) = stop {
            cancel.store(true, Ordering::Relaxed);
            let _ = py.detach(|| worker.join());
            return Err(e);
        }
    }
    worker.join().map_err(|panic| {
        let why = panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "unknown panic".into());
        error(
            py,
            "InvariantError",
            format!("the {what} stopped on an internal error (a bug: please report it): {why}"),
            &[],
        )
    })
}

/// A report error (a run's files unreadable or inconsistent, an output not writable).
fn report_error(py: Python<'_>, e: datapact_report::ReportError) -> PyErr {
    error(
        py,
        "OutputError",
        e.to_string(),
        &[("exit_code", obj(py, e.exit_code()))],
    )
}

/// `datapact sensitivity`: the indices of a designed run as a `pyarrow.Table` (the columns of
/// `sensitivity.parquet`); with `out`, also writes that file and the charts there.
#[pyfunction]
#[pyo3(signature = (dir, metric, mechanism=None, minus=None, second_order=false, out=None))]
fn sensitivity<'py>(
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

/// `datapact diff`: `(table, summary, cells, max_abs_z, over_threshold)` of runs `a` and `b`
/// (the table is `diff.parquet`'s; with `out`, also written there).
#[pyfunction]
#[pyo3(signature = (a, b, z, out=None))]
fn diff<'py>(
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

/// A claim as a dict: `id`, `statement`, `rule`, `verdict`, `numbers`.
fn claim_dict<'py>(
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
fn report<'py>(py: Python<'py>, dir: PathBuf, out: PathBuf) -> PyResult<Bound<'py, PyDict>> {
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

/// `datapact audit`: runs the incentive audit into `out` (Ctrl-C stops it); returns the report's
/// path and the claims' verdicts under each variant.
#[pyfunction]
#[pyo3(signature = (out, spec, threads, progress))]
fn audit<'py>(
    py: Python<'py>,
    out: PathBuf,
    spec: Option<PathBuf>,
    threads: Option<usize>,
    progress: bool,
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
        other => error(py, "OutputError", other.to_string(), &[]),
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

/// `datapact verify`: raises `VerifyError` naming missing, damaged and unexpected files (the
/// files are hashed with the GIL released).
#[pyfunction]
fn verify(py: Python<'_>, dir: PathBuf) -> PyResult<usize> {
    // Hashing every part takes a while: without the GIL.
    let v = py.detach(|| datapact_runner::verify(&dir)).map_err(|m| {
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

/// Reads table `name` of the run in `dir` into a `pyarrow.Table`, through the verified view:
/// the run must be finished and consistent, the table's parts must match the manifest
/// (checksums, rows, this run's metadata), and the manifest must be `manifest`, the one the
/// Python `Run` was opened with (so a directory rerun by a later call, or parts swapped in, raise
/// instead of handing over another run's rows). Only the manifest's parts are read (a stray file
/// is never). `swept` names the swept columns (for the schema of a table without rows). The
/// reading and hashing run with the GIL released.
#[pyfunction]
fn read_table<'py>(
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
fn schema<'py>(py: Python<'py>, swept: Vec<String>, network: bool) -> PyResult<Bound<'py, PyDict>> {
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

/// The `datapact` command line on `args` (the program's name first), with the GIL released:
/// what the console script pip installs runs. Returns the exit code.
#[pyfunction]
fn main(py: Python<'_>, args: Vec<std::ffi::OsString>) -> u8 {
    py.detach(|| {
        datapact::App::new()
            .add_plugins(datapact::CorePlugins)
            .run_cli_from(args)
    })
}

#[pymodule]
mod _native {
    #[pymodule_export]
    use super::search::search;
    #[pymodule_export]
    use super::{
        PyScenario, app_args, audit, diff, load, main, read_table, report, run, scenarios, schema,
        sensitivity, verify,
    };

    #[pymodule_export]
    const VERSION: &str = datapact_runner::VERSION;
}
