//! Generic figures for any run that is not one of the paper's: one figure per statistic of the
//! `cells` table (last round), the run's mechanisms side by side on a shared scale.
//!
//! The shape follows the sweep in `manifest.json`: two swept axes give heatmaps (one panel per
//! mechanism, x = the second axis, y = the first), more than two give small multiples (a row of
//! panels per combination of the extra axes' values, see [`Facets`]), one gives lines with 95%
//! bands, none gives bars. A sampled or listed design (`[design]` of kind lhs, sobol, morris or
//! points) has no grid to slice: each statistic is drawn as scatter panels, one per axis, the
//! value at every point against that axis ([`design_figures`]). A null value (a mechanism that does not compute a metric) is never drawn as
//! 0: heatmap cells are grey, lines have a gap, bars are labelled "n/a".

mod contrast;
mod design;
mod facets;
mod figure;
mod grid;
mod read;
mod run;
mod settings;

pub use design::design_figures;
pub use facets::{Facets, MAX_FACETS};
pub use figure::{Chart, RunFigures, StatFigure, render, run_dir};
pub use grid::build_run_figures;
pub use read::{load_contrasts, load_stats};
pub use run::{ContrastRow, RunContrasts, RunStats, Stat, StatRow};
pub use settings::{changed_settings, scenario_toml};
