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

/// The rows of the file at `path`, as `(key, value)` per column, located by their 1-based row
/// (shown as the "line" of an error). `Err` says what is wrong with the file as a whole.
pub(crate) fn parquet_rows(path: &Path) -> Result<Vec<Point>, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("cannot read it: {e}"))?;
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .and_then(|b| b.build())
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
            rows.push((point, Loc::File(Some(row))));
        }
    }
    if rows.is_empty() {
        return Err("the file has no rows".into());
    }
    Ok(rows)
}
