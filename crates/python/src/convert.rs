//! Python values as TOML: a scenario dict (or mapping) and `set=`'s overrides become the text
//! the scenario reader reads, so a scenario from Python is checked exactly as a file is.

use datapact_scenario::ScenarioError;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyList, PyString, PyTuple};

use crate::errors::scenario_error;

/// How deep a scenario value may nest (tables in tables, lists in lists): far beyond any
/// scenario, and far below what would exhaust the stack (a self-referencing dict stops here).
pub(crate) const MAX_DEPTH: usize = 64;

/// A TOML value from a Python value of a scenario dict or of `set=`; `at` is the dotted key, for
/// errors. Any real or integral number is a number (numpy scalars and 0-d arrays included, by
/// the `numbers` ABCs numpy registers with), and any array-like with `tolist` (a numpy array) a
/// list.
pub(crate) fn toml_value(
    value: &Bound<'_, PyAny>,
    at: &str,
    depth: usize,
) -> PyResult<toml::Value> {
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

pub(crate) fn toml_table(
    dict: &Bound<'_, PyDict>,
    at: &str,
    depth: usize,
) -> PyResult<toml::Table> {
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
pub(crate) fn override_text(py: Python<'_>, item: &Bound<'_, PyAny>) -> PyResult<String> {
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

/// `set=`'s items as `--set KEY=VALUE` strs (see [`override_text`]).
pub(crate) fn override_texts(
    py: Python<'_>,
    overrides: &[Bound<'_, PyAny>],
) -> PyResult<Vec<String>> {
    overrides.iter().map(|o| override_text(py, o)).collect()
}

/// A dict scenario as TOML text.
pub(crate) fn dict_toml(dict: &Bound<'_, PyDict>) -> PyResult<String> {
    toml::to_string(&toml_table(dict, "", 0)?)
        .map_err(|e| PyValueError::new_err(format!("scenario dict: {e}")))
}
