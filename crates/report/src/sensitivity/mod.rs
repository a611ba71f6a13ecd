//! Sensitivity analysis of a designed run: Sobol first-order and total indices (and, when asked
//! for, second-order ones) from a Saltelli (`kind = "sobol"`) design, Morris elementary effects from a `kind = "morris"` design.
//!
//! The estimators are those of SALib (`sobol.analyze`, `morris.analyze`): with the outputs
//! standardised, S1ᵢ = mean(f(B)·(f(ABᵢ) − f(A))) / Var (Saltelli et al. 2010) and
//! STᵢ = mean((f(A) − f(ABᵢ))²) / (2·Var) (Jansen 1999), Var the population variance of f over A
//! and B; their 95% intervals are ±1.96 standard deviations of the estimate over bootstrap
//! resamples of the N base samples. Morris: μ*ᵢ = mean |EEᵢ|, μᵢ = mean EEᵢ, σᵢ = standard
//! deviation of EEᵢ (n − 1), over the trajectories, with EEᵢ = Δy / Δxᵢ in the unit cube.
//! Bootstraps read a ChaCha8 stream seeded from the run's seed, so the output is reproducible.
//!
//! [`analyze`] reads a run directory (its manifest's design record and `cells` table) and
//! [`write_outputs`] writes `sensitivity.parquet` (columns in [`SENSITIVITY_COLUMNS`]) and one
//! bar chart per grid cell (for Morris also a μ*–σ plot per grid cell).

mod analysis;
mod chart;
mod estimators;
mod table;

use std::path::{Path, PathBuf};

pub use analysis::{Analysis, Request, Response, analyze};
pub use estimators::{Index, RESAMPLES, morris_effects, sobol_indices, sobol_second_order};
pub use table::{SENSITIVITY_COLUMNS, to_batch, write_files, write_outputs};

use crate::ReportError;

/// For `datapact report`: the run in `dir`, if it has a Sobol or Morris design, gets the
/// sensitivity of `welfare_mean` for each mechanism written into `out` (nothing otherwise).
pub fn render_for_report(dir: &Path, out: &Path) -> Result<Vec<PathBuf>, ReportError> {
    let manifest = datapact_trace::read_manifest(dir)?;
    match manifest.design {
        Some(d) if d.kind == "sobol" || d.kind == "morris" => {
            let request = Request {
                metric: "welfare_mean".into(),
                mechanism: None,
                minus: None,
                second_order: false,
            };
            write_files(&analyze(dir, &request)?, out)
        }
        _ => Ok(Vec::new()),
    }
}
