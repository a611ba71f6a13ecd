//! `datapact.optimize` and `datapact.calibrate`: the searches of `datapact optimize` and
//! `datapact calibrate` (`datapact_runner::search`), on the same files, writing the same
//! directory byte for byte (the command line also draws `front.png`/`posterior.png`, which
//! need the report crate the extension does not link). The Python half reads the tables.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use datapact_runner::search::{SearchOptions, calibrate, optimize};
use datapact_scenario::search::SearchFile;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};

use crate::convert::{override_text, toml_table};
use crate::errors::{error, runner_error, scenario_error};
use crate::run::CORE;
use crate::worker::{cancellable, thread_count};

/// A search file from what `datapact.optimize`/`calibrate` take: a dict, a path, or TOML text
/// (a line break or `=`, and no such file).
fn load_search(
    py: Python<'_>,
    file: &Bound<'_, PyAny>,
    overrides: &[String],
) -> PyResult<SearchFile> {
    let catalog = Arc::new(CORE.catalog().clone());
    let loaded = if let Ok(dict) = file.cast::<PyDict>() {
        let text = toml::to_string(&toml_table(dict, "", 0)?)
            .map_err(|e| PyValueError::new_err(format!("search dict: {e}")))?;
        SearchFile::from_str_with(&catalog, &text, "<dict>", overrides)
    } else if let Ok(text) = file.extract::<String>()
        && file.is_instance_of::<PyString>()
    {
        // As `datapact.run`'s str: a file on disk wins (a path may hold `=`), then TOML text.
        let one_line = !text.contains('\n');
        let a_file = one_line && !text.is_empty() && Path::new(&text).exists();
        if a_file || (one_line && !text.contains('=')) {
            SearchFile::load_with(&catalog, Path::new(&text), overrides)
        } else {
            SearchFile::from_str_with(&catalog, &text, "<string>", overrides)
        }
    } else if let Ok(path) = py
        .import("os")?
        .call_method1("fspath", (file,))
        .and_then(|p| p.extract::<PathBuf>())
    {
        SearchFile::load_with(&catalog, &path, overrides)
    } else {
        return Err(PyTypeError::new_err(format!(
            "file must be a path, TOML text or a dict with an [optimize] or [calibrate] table, not {}",
            file.get_type().name()?
        )));
    };
    loaded.map_err(|e| scenario_error(py, e))
}

/// Runs the search `kind` (`"optimize"` or `"calibrate"`) of `file` into `out` with the GIL
/// released; Ctrl-C stops it after the runs in flight (`resume=True` continues it). Returns
/// the files written.
#[pyfunction]
#[pyo3(signature = (kind, file, overrides, out, threads, resume))]
pub(crate) fn search(
    py: Python<'_>,
    kind: &str,
    file: &Bound<'_, PyAny>,
    overrides: Vec<Bound<'_, PyAny>>,
    out: PathBuf,
    threads: Option<usize>,
    resume: bool,
) -> PyResult<Vec<String>> {
    let overrides = overrides
        .iter()
        .map(|o| override_text(py, o))
        .collect::<PyResult<Vec<String>>>()?;
    let search = load_search(py, file, &overrides)?;
    let missing = match kind {
        "optimize" => search.optimize.is_none(),
        "calibrate" => search.calibrate.is_none(),
        _ => return Err(PyValueError::new_err(format!("no search {kind:?}"))),
    };
    if missing {
        return Err(error(
            py,
            "ScenarioError",
            format!(
                "{}: no [{kind}] table; datapact.{kind} reads one (docs/optimize.md)",
                search.scenario.origin
            ),
            &[],
        ));
    }
    let threads = thread_count(threads)?;
    let cancel = Arc::new(AtomicBool::new(false));
    let opts = SearchOptions {
        out,
        threads,
        resume,
        prepare: false,
        cancel: Some(cancel.clone()),
        plugins: CORE.clone(),
    };
    let optimizing = kind == "optimize";
    let files = cancellable(
        py,
        kind,
        &cancel,
        move || {
            if optimizing {
                optimize(&search, &opts, &mut |_| {}).map(|s| s.files)
            } else {
                calibrate(&search, &opts, &mut |_, _, _| {}).map(|s| s.files)
            }
        },
        || Ok(()),
    )?
    .map_err(|e| runner_error(py, e))?;
    Ok(files.iter().map(|f| f.display().to_string()).collect())
}
