//! A generic figure, and rendering it to PNG and SVG.

use std::path::{Path, PathBuf};

use crate::ReportError;
use crate::charts::{self, BarChart, LineChart, ScatterChart};
use crate::figures::{self, Figure, FigureFiles};

/// A generic figure, in the form its sweep calls for.
#[derive(Clone, Debug)]
pub enum Chart {
    /// Heatmaps over two swept axes (small multiples beyond two).
    Heatmaps(Figure),
    /// Lines over one swept axis, with 95% bands.
    Lines(LineChart),
    /// Bars, for a run with no swept axis.
    Bars(BarChart),
    /// Scatter panels, for a sampled or listed design.
    Scatter(ScatterChart),
}

/// One statistic's figure of one run.
#[derive(Clone, Debug)]
pub struct StatFigure {
    /// File stem: the statistic's column.
    pub id: String,
    /// Title above the figure.
    pub title: String,
    /// One paragraph for the report: what is shown and from which run.
    pub caption: String,
    /// The chart.
    pub chart: Chart,
    /// Smallest and largest value drawn (means only); for heatmaps, the shared colour scale.
    pub value_range: (f64, f64),
}

/// The figures of one run.
#[derive(Clone, Debug)]
pub struct RunFigures {
    /// The run's scenario name.
    pub run: String,
    /// One figure per statistic, in declaration order.
    pub figures: Vec<StatFigure>,
    /// A remark shown above the figures (e.g. why a paper-named run is drawn generically).
    pub note: Option<String>,
    /// Sensitivity files written for the run (Sobol or Morris designs), relative to the report.
    pub sensitivity: Vec<String>,
}

/// Renders `fig` to `<dir>/<id>.png` and `.svg`; returns the files and the value range drawn
/// (for heatmaps, the bounds of the shared colour scale).
pub fn render(fig: &StatFigure, dir: &Path) -> Result<(FigureFiles, (f64, f64)), ReportError> {
    std::fs::create_dir_all(dir).map_err(|e| ReportError::io(dir, e))?;
    match &fig.chart {
        Chart::Heatmaps(f) => {
            let files = figures::render(f, dir)?;
            let bounds = f.rows[0][0].scale.bounds();
            Ok((files, bounds))
        }
        Chart::Lines(c) => Ok((charts::render_lines(c, dir, &fig.id)?, fig.value_range)),
        Chart::Bars(c) => Ok((charts::render_bars(c, dir, &fig.id)?, fig.value_range)),
        Chart::Scatter(c) => Ok((charts::render_scatter(c, dir, &fig.id)?, fig.value_range)),
    }
}

/// The report's subdirectory for `run`'s figures.
pub fn run_dir(out: &Path, run: &str) -> PathBuf {
    out.join(run)
}
