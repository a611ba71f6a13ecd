//! `sensitivity.parquet` and the charts: what [`super::write_outputs`] writes.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use datapact_trace::arrow::array::{ArrayRef, Float64Array, RecordBatch, StringArray, UInt32Array};
use datapact_trace::arrow::datatypes::{DataType, Field, Schema};

use super::analysis::{Analysis, Response};
use super::chart::{draw_chart, draw_mu_sigma};
use super::estimators::Index;
use crate::ReportError;

/// The columns of `sensitivity.parquet`: name, type and meaning (the one declaration
/// docs/schema.md's section is checked against).
pub const SENSITIVITY_COLUMNS: [(&str, &str, &str); 11] = [
    ("scenario", "Utf8", "Scenario name of the analysed run."),
    ("method", "Utf8", "`sobol` or `morris`: the design's kind."),
    (
        "metric",
        "Utf8",
        "The analysed `cells` column (its last round).",
    ),
    (
        "mechanism",
        "Utf8",
        "The mechanism analysed, or `A-B` for the contrast A minus B.",
    ),
    (
        "grid_cell",
        "UInt32",
        "Cell of the grid the design is crossed with (0 without one).",
    ),
    ("axis", "Utf8", "Output column of the design axis."),
    (
        "axis2",
        "Utf8",
        "The pair's second axis of a second-order index (`S2`, with `sensitivity --second-order`); null otherwise.",
    ),
    (
        "index",
        "Utf8",
        "`S1` first-order, `ST` total, `S2` second-order (Sobol); `mu_star`, `mu`, `sigma` (Morris, in output units per unit of the axis's range).",
    ),
    ("value", "Float64", "The estimate."),
    (
        "conf",
        "Float64",
        "Half-width of the 95% bootstrap interval (1000 resamples); null for `mu` and `sigma`.",
    ),
    (
        "noise_share",
        "Float64",
        "The response's replication noise: mean SE² over the points / the variance of the analysed values across them (paired SE for a contrast); null without an SE column.",
    ),
];

/// The analysis as one record batch, one row per (response, axis, index).
pub fn to_batch(a: &Analysis) -> Result<RecordBatch, ReportError> {
    // One row per (response, axis, index), then one per (response, pair) for S2, flattened.
    let rows: Vec<(&Response, &str, Option<&str>, &Index)> = a
        .responses
        .iter()
        .flat_map(|r| {
            let single = r.axes.iter().flat_map(move |(axis, ixs)| {
                ixs.iter().map(move |ix| (r, axis.as_str(), None, ix))
            });
            let pairs = r
                .pairs
                .iter()
                .map(move |(p, q, ix)| (r, p.as_str(), Some(q.as_str()), ix));
            single.chain(pairs)
        })
        .collect();
    let n = rows.len();
    let fields: Vec<Field> = SENSITIVITY_COLUMNS
        .iter()
        .map(|(name, ty, _)| {
            let dt = match *ty {
                "Utf8" => DataType::Utf8,
                "UInt32" => DataType::UInt32,
                _ => DataType::Float64,
            };
            Field::new(*name, dt, matches!(*name, "conf" | "axis2" | "noise_share"))
        })
        .collect();
    let arrays: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from(vec![a.scenario.as_str(); n])),
        Arc::new(StringArray::from(vec![a.method.as_str(); n])),
        Arc::new(StringArray::from(vec![a.metric.as_str(); n])),
        Arc::new(StringArray::from_iter_values(
            rows.iter().map(|r| r.0.mechanism.as_str()),
        )),
        Arc::new(UInt32Array::from_iter_values(
            rows.iter().map(|r| r.0.grid_cell),
        )),
        Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.1))),
        Arc::new(StringArray::from_iter(rows.iter().map(|r| r.2))),
        Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.3.name))),
        Arc::new(Float64Array::from_iter_values(
            rows.iter().map(|r| r.3.value),
        )),
        Arc::new(Float64Array::from_iter(rows.iter().map(|r| r.3.conf))),
        Arc::new(Float64Array::from_iter(
            rows.iter().map(|r| r.0.noise_share),
        )),
    ];
    RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays)
        .map_err(|e| ReportError::Data(format!("sensitivity table: {e}")))
}

/// Claims `out` for a sensitivity analysis (created, or adopted only if empty or an earlier
/// analysis; never inside a run but as a new name directly in it, the default
/// RUN/sensitivity), then writes its files ([`write_files`]).
pub fn write_outputs(a: &Analysis, out: &Path) -> Result<Vec<PathBuf>, ReportError> {
    datapact_trace::claim::claim_output_dir(out, "sensitivity")?;
    write_files(a, out)
}

/// Writes `out/sensitivity.parquet` (through a temporary file: whole or absent) and a bar chart
/// per grid cell, `out/sensitivity.png` (`sensitivity-gG.png` when crossed with a grid), and
/// for a Morris design its μ*–σ plot `out/sensitivity-mu-sigma.png` (`-gG` likewise), each
/// written to a temporary and renamed. Returns the files written. (`out` is a directory the
/// caller has claimed: the report's folder of the run, or [`write_outputs`]'s.)
pub fn write_files(a: &Analysis, out: &Path) -> Result<Vec<PathBuf>, ReportError> {
    std::fs::create_dir_all(out).map_err(|e| ReportError::io(out, e))?;
    let batch = to_batch(a)?;
    let path = out.join("sensitivity.parquet");
    let scenario = [(
        datapact_trace::keys::SCENARIO_NAME.to_string(),
        a.scenario.clone(),
    )];
    datapact_trace::write_table_file(&path, "sensitivity", &batch, &scenario)?;
    let mut files = vec![path];
    let grids: u32 = a
        .responses
        .iter()
        .map(|r| r.grid_cell + 1)
        .max()
        .unwrap_or(1);
    for g in 0..grids {
        let name = |stem: &str| {
            if grids == 1 {
                format!("{stem}.png")
            } else {
                format!("{stem}-g{g}.png")
            }
        };
        let responses: Vec<&Response> = a.responses.iter().filter(|r| r.grid_cell == g).collect();
        let png = out.join(name("sensitivity"));
        let io = |e| ReportError::io(&png, e);
        datapact_trace::atomic::render_atomic(&png, io, |tmp| draw_chart(a, &responses, tmp))?;
        files.push(png);
        if a.method == "morris" {
            let png = out.join(name("sensitivity-mu-sigma"));
            let io = |e| ReportError::io(&png, e);
            datapact_trace::atomic::render_atomic(&png, io, |tmp| {
                draw_mu_sigma(a, &responses, tmp)
            })?;
            files.push(png);
        }
    }
    Ok(files)
}
