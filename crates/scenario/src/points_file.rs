//! A design's points from a Parquet file (`[design] file = "points.parquet"`): one numeric column
//! per swept key, one row per point, as a researcher's optimiser or a previous run's filtered
//! `cells` would write them.

use std::path::Path;

use arrow::array::{Array, Float64Array};
use arrow::datatypes::DataType;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use crate::tree::Loc;

/// One point: its (key, value) pairs and where it was read.
pub(crate) type Point = (Vec<(String, f64)>, Loc);

/// Largest points file read, CSV or Parquet: 10^7 points ([`crate::design::MAX_POINTS`]) of
/// about 100 bytes of CSV each. Checked (with the file's kind) before anything is read.
pub const MAX_POINTS_FILE_BYTES: u64 = 1 << 30;

/// Opens the points file at `path` (a user's file: a symlink to one is followed): a regular
/// file of at most [`MAX_POINTS_FILE_BYTES`]; a FIFO, a device (`/dev/zero`), a directory or a
/// socket is refused without reading and without blocking (opened non-blocking, checked after
/// opening). `Err` says what is wrong, for "design.file PATH: …".
pub(crate) fn open_bounded(path: &Path) -> Result<(std::fs::File, u64), String> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = options
        .open(path)
        .map_err(|e| format!("cannot read it: {e}"))?;
    let meta = file
        .metadata()
        .map_err(|e| format!("cannot read it: {e}"))?;
    if !meta.is_file() {
        return Err(
            "is not a regular file (a FIFO, a device or a directory); give a CSV or Parquet file"
                .into(),
        );
    }
    if meta.len() > MAX_POINTS_FILE_BYTES {
        return Err(format!(
            "{} bytes, more than the limit of {MAX_POINTS_FILE_BYTES} bytes for a points file",
            meta.len()
        ));
    }
    Ok((file, meta.len()))
}

/// The rows of the file at `path`, as `(key, value)` per column, located by their 1-based row
/// (shown as the "line" of an error). `Err` says what is wrong with the file as a whole. The
/// row count in the file's footer is checked against `max_rows` before any row is read.
pub(crate) fn parquet_rows(path: &Path, max_rows: usize) -> Result<Vec<Point>, String> {
    let (file, _) = open_bounded(path)?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file)
        .map_err(|e| format!("not a readable Parquet file: {e}"))?;
    let count = builder.metadata().file_metadata().num_rows();
    if usize::try_from(count).map_or(true, |n| n > max_rows) {
        return Err(format!(
            "{count} rows, more than the limit of {max_rows} design points"
        ));
    }
    let reader = builder
        .build()
        .map_err(|e| format!("not a readable Parquet file: {e}"))?;
    let mut rows = Vec::new();
    for batch in reader {
        let batch = batch.map_err(|e| format!("cannot read its rows: {e}"))?;
        let schema = batch.schema();
        let mut columns = Vec::with_capacity(batch.num_columns());
        for (field, column) in schema.fields().iter().zip(batch.columns()) {
            let numeric = field.data_type().is_numeric() && *field.data_type() != DataType::Float16;
            if !numeric {
                return Err(format!(
                    "column `{}` is {}; design points must be numbers (integers, floats or decimals)",
                    field.name(),
                    field.data_type()
                ));
            }
            let cast = arrow::compute::cast(column, &DataType::Float64)
                .map_err(|e| format!("column `{}`: {e}", field.name()))?;
            let values = cast
                .as_any()
                .downcast_ref::<Float64Array>()
                .expect("cast to Float64")
                .clone();
            columns.push((field.name().clone(), values));
        }
        for i in 0..batch.num_rows() {
            let row = rows.len() + 1;
            let mut point = Vec::with_capacity(columns.len());
            for (key, values) in &columns {
                if values.is_null(i) {
                    return Err(format!("column `{key}` is null in row {row}"));
                }
                point.push((key.clone(), values.value(i)));
            }
            if rows.len() == max_rows {
                return Err(format!(
                    "more than the limit of {max_rows} design points (its footer said {count} rows)"
                ));
            }
            rows.push((point, Loc::File(Some(row))));
        }
    }
    if rows.is_empty() {
        return Err("the file has no rows".into());
    }
    Ok(rows)
}
