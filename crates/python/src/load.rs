//! Scenarios from what Python passes: a `Scenario`, a dict, TOML text, a path or an embedded
//! scenario's name (`load`, `app_args`), and the list of embedded scenarios (`scenarios`).

use std::path::{Path, PathBuf};

use datapact::embedded;
use datapact_scenario::{Scenario, ScenarioError};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};

use crate::convert::{dict_toml, override_texts};
use crate::errors::scenario_error;
use crate::scenario::PyScenario;

/// What a one-line str names when it is neither a file on disk nor an embedded scenario.
pub(crate) fn not_found(name: &str) -> ScenarioError {
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
pub(crate) enum StrScenario {
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
pub(crate) fn classify_str(text: &str) -> Result<StrScenario, ScenarioError> {
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
pub(crate) fn load_str(text: &str, overrides: &[String]) -> Result<Scenario, ScenarioError> {
    match classify_str(text)? {
        StrScenario::File => Scenario::load(Path::new(text), overrides),
        StrScenario::Embedded(found) => {
            Scenario::from_str(found, &format!("<embedded>/{text}"), overrides)
        }
        StrScenario::Text => Scenario::from_str(text, "<string>", overrides),
    }
}

/// What `datapact.run(..., app=APP)` hands the app's command line: `(toml, sets)`. `toml` is
/// the text to write to a file for a `Scenario` (its canonical text), a dict or TOML text, and
/// `None` for a path or an embedded name, which the app reads itself (a str is told apart as
/// [`load`] tells it apart); `sets` are `set=`'s items as `--set KEY=VALUE` strs, serialized
/// exactly as [`load`] serializes them.
#[pyfunction]
#[pyo3(signature = (scenario, overrides))]
pub(crate) fn app_args(
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
/// `overrides` are `set=`'s items (see [`override_text`](crate::convert::override_text)).
#[pyfunction]
#[pyo3(signature = (scenario, overrides))]
pub(crate) fn load(
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

/// The scenario a run's `manifest.json` records (`scenario`, its canonical text) of the run in
/// `dir`: loaded as if it were a file in `dir`, so that a listed design's
/// `file = "design_points.parquet"` reads the run's own points file (and its `points_sha256`
/// checks them).
#[pyfunction]
pub(crate) fn load_run_scenario(py: Python<'_>, text: &str, dir: PathBuf) -> PyResult<PyScenario> {
    let origin = dir.join("manifest.json").display().to_string();
    py.detach(|| Scenario::from_str(text, &origin, &[]))
        .map(|inner| PyScenario {
            inner,
            overrides: Vec::new(),
        })
        .map_err(|e| scenario_error(py, e))
}

/// The embedded scenarios: `(name, first comment line, TOML text)`.
#[pyfunction]
pub(crate) fn scenarios() -> Vec<(&'static str, String, &'static str)> {
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
