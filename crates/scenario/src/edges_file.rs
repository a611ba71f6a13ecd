//! `[population.network] model = "file"`: an edge list read from `path` (relative to the
//! scenario file's folder). CSV: one edge per line, two 0-based user indices `i,j` separated by
//! a comma; blank lines and lines starting with `#` are skipped, and a first line that is not
//! two indices (e.g. `source,target`) is a header. Parquet (a name ending in `.parquet`): exactly
//! two integer columns, one edge per row. The edges must form a simple undirected graph (no
//! self-loop, no pair twice in either orientation); that every index is below the number of
//! users is checked against each cell's users once the sweep is known ([`crate::network`]).

use std::path::Path;
use std::sync::Arc;

use arrow::array::{Array, Int64Array};
use arrow::datatypes::DataType;
use datapact_model::network::EdgeError;
use datapact_model::{Csr, Network, edges_sha256};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use crate::read::{Cx, Res, string};
use crate::tree::{Loc, Node};

const KEY: &str = "population.network.path";

/// Edges, and the 1-based line (CSV) or row (Parquet) of each.
type Edges = (Vec<(u32, u32)>, Vec<usize>);

/// The largest user index an edge may name (users are `u32` indices).
const MAX_INDEX: u64 = u32::MAX as u64 - 1;

/// The network of the edge list at `n` (`population.network.path`), checked against
/// `digest` (`population.network.edges_sha256`, if given).
pub(crate) fn read(cx: &Cx, n: &Node, digest: Option<&Node>) -> Res<Network> {
    let written = string(cx, KEY, n)?;
    let base = Path::new(cx.origin).parent().unwrap_or(Path::new("."));
    let full = base.join(written);
    let shown = full.display().to_string();
    let at = |why: String| cx.err(&n.loc, KEY, format!("{KEY} {shown}: {why}"));
    let fcx = Cx { origin: &shown };
    let (edges, lines) = if shown.to_ascii_lowercase().ends_with(".parquet") {
        parquet_edges(&full).map_err(|(loc, why)| match loc {
            None => at(why),
            Some(row) => fcx.err(
                &Loc::File(Some(row)),
                KEY,
                format!("row {row}: {why} (in {KEY} of {})", cx.origin),
            ),
        })?
    } else {
        let text =
            std::fs::read_to_string(&full).map_err(|e| at(format!("cannot read it: {e}")))?;
        csv_edges(&text).map_err(|(line, why)| {
            fcx.err(
                &Loc::File(Some(line)),
                KEY,
                format!("{why} (in {KEY} of {})", cx.origin),
            )
        })?
    };
    if edges.is_empty() {
        return Err(at(
            "the file has no edges (for users without ties, use model = \"none\")".into(),
        ));
    }
    // A simple graph over the users the file names (the users of each cell are checked later).
    let most = edges.iter().map(|&(a, b)| a.max(b)).max().unwrap_or(0) as usize;
    let pairs: Vec<(usize, usize)> = edges
        .iter()
        .map(|&(a, b)| (a as usize, b as usize))
        .collect();
    if let Err(e) = Csr::from_edges(most + 1, &pairs) {
        let edge = match e {
            EdgeError::SelfLoop { edge, .. }
            | EdgeError::Duplicate { edge, .. }
            | EdgeError::OutOfRange { edge, .. } => edge,
            EdgeError::TooManyUsers { .. } => 0,
        };
        let what = match e {
            EdgeError::SelfLoop { node, .. } => format!("edge ({node}, {node}) is a self-loop"),
            EdgeError::Duplicate { pair, first, .. } => format!(
                "edge ({}, {}) repeats the edge of {} {} (an undirected graph has each pair once)",
                pair.0,
                pair.1,
                if shown.to_ascii_lowercase().ends_with(".parquet") {
                    "row"
                } else {
                    "line"
                },
                lines[first]
            ),
            other => other.to_string(),
        };
        return Err(fcx.err(
            &Loc::File(Some(lines[edge])),
            KEY,
            format!("{what} (in {KEY} of {})", cx.origin),
        ));
    }
    let sha256 = edges_sha256(&edges);
    if let Some(d) = digest {
        let given = string(cx, "population.network.edges_sha256", d)?;
        let hex: String = sha256.iter().map(|b| format!("{b:02x}")).collect();
        if !given.eq_ignore_ascii_case(&hex) {
            return Err(cx.err(
                &d.loc,
                "population.network.edges_sha256",
                format!(
                    "population.network.edges_sha256 = {given:?}, but the edges of {shown} have \
                     SHA-256 {hex}: the file is not the one the scenario was written with"
                ),
            ));
        }
    }
    Ok(Network::File {
        path: written.to_string(),
        edges: Arc::from(edges),
        sha256,
    })
}

/// A user index as written in a file: a non-negative integer at most [`MAX_INDEX`].
fn index(text: &str) -> Result<u32, String> {
    text.parse::<u64>()
        .ok()
        .filter(|&v| v <= MAX_INDEX)
        .map(|v| v as u32)
        .ok_or_else(|| {
            format!("{text:?} is not a user index: an integer in [0, {MAX_INDEX}] (0-based)")
        })
}

/// The edges of a CSV text and the 1-based line of each; `Err((line, why))`.
fn csv_edges(text: &str) -> Result<Edges, (usize, String)> {
    let (mut edges, mut lines) = (Vec::new(), Vec::new());
    let mut first = true;
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = t.split(',').map(str::trim).collect();
        if fields.len() != 2 {
            return Err((
                i + 1,
                format!(
                    "line has {} values; an edge is two user indices `i,j`",
                    fields.len()
                ),
            ));
        }
        let pair = index(fields[0]).and_then(|a| Ok((a, index(fields[1])?)));
        match pair {
            Ok(p) => {
                edges.push(p);
                lines.push(i + 1);
            }
            // A first line that is not two indices is a header.
            Err(_) if first => {}
            Err(why) => return Err((i + 1, why)),
        }
        first = false;
    }
    Ok((edges, lines))
}

/// The edges of a Parquet file (two integer columns) and the 1-based row of each;
/// `Err((row, why))`, `row` `None` for the file as a whole.
fn parquet_edges(path: &Path) -> Result<Edges, (Option<usize>, String)> {
    let whole = |why: String| (None, why);
    let file = std::fs::File::open(path).map_err(|e| whole(format!("cannot read it: {e}")))?;
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .and_then(|b| b.build())
        .map_err(|e| whole(format!("not a readable Parquet file: {e}")))?;
    let (mut edges, mut rows) = (Vec::new(), Vec::new());
    for batch in reader {
        let batch = batch.map_err(|e| whole(format!("cannot read its rows: {e}")))?;
        let schema = batch.schema();
        if batch.num_columns() != 2 {
            return Err(whole(format!(
                "it has {} columns; an edge list has two integer columns (the edge's two user indices)",
                batch.num_columns()
            )));
        }
        let mut ends = Vec::with_capacity(2);
        for (field, column) in schema.fields().iter().zip(batch.columns()) {
            if !field.data_type().is_integer() {
                return Err(whole(format!(
                    "column `{}` is {}; user indices are integers",
                    field.name(),
                    field.data_type()
                )));
            }
            let cast = arrow::compute::cast(column, &DataType::Int64)
                .map_err(|e| whole(format!("column `{}`: {e}", field.name())))?;
            let values = cast
                .as_any()
                .downcast_ref::<Int64Array>()
                .expect("cast to Int64")
                .clone();
            ends.push((field.name().clone(), values));
        }
        for i in 0..batch.num_rows() {
            let row = rows.len() + 1;
            let mut pair = [0u32; 2];
            for (p, (name, values)) in pair.iter_mut().zip(&ends) {
                if values.is_null(i) {
                    return Err((Some(row), format!("column `{name}` is null")));
                }
                let v = values.value(i);
                *p = u64::try_from(v)
                    .ok()
                    .filter(|&v| v <= MAX_INDEX)
                    .map(|v| v as u32)
                    .ok_or_else(|| {
                        (
                            Some(row),
                            format!(
                                "column `{name}` holds {v}, not a user index: an integer in [0, {MAX_INDEX}] (0-based)"
                            ),
                        )
                    })?;
            }
            edges.push((pair[0], pair[1]));
            rows.push(row);
        }
    }
    Ok((edges, rows))
}
