//! `datapact.verify`: an output directory's files checked against its manifest (`datapact
//! verify`).

use std::path::PathBuf;

use pyo3::prelude::*;

use crate::errors::{error, obj};

/// `datapact verify`: raises `VerifyError` naming missing, damaged and unexpected files (the
/// files are hashed with the GIL released).
#[pyfunction]
pub(crate) fn verify(py: Python<'_>, dir: PathBuf) -> PyResult<usize> {
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
