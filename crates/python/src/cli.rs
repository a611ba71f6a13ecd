//! `datapact.main`: the command line itself, what the console script pip installs runs.

use pyo3::prelude::*;

/// The `datapact` command line on `args` (the program's name first), with the GIL released:
/// what the console script pip installs runs. Returns the exit code.
#[pyfunction]
pub(crate) fn main(py: Python<'_>, args: Vec<std::ffi::OsString>) -> u8 {
    py.detach(|| {
        datapact::App::new()
            .add_plugins(datapact::CorePlugins)
            .run_cli_from(args)
    })
}
