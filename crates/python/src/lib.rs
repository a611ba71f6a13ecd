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

use pyo3::prelude::*;

mod audit;
mod cli;
mod convert;
mod diff;
mod errors;
mod load;
mod memory;
mod report;
mod run;
mod scenario;
mod search;
mod sensitivity;
mod tables;
mod verify;
mod worker;

#[pymodule]
mod _native {
    #[pymodule_export]
    use super::{
        audit::audit,
        cli::main,
        diff::diff,
        load::{app_args, load, load_run_scenario, scenarios},
        report::report,
        run::run,
        scenario::PyScenario,
        search::search,
        sensitivity::sensitivity,
        tables::{read_table, schema},
        verify::verify,
    };

    #[pymodule_export]
    const VERSION: &str = datapact_runner::VERSION;
}
