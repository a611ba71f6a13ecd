//! Helpers shared by the scenario crate's test files.

/// Writes `columns` (name, array) to a Parquet file at `path`.
pub fn write_parquet(path: &std::path::Path, columns: Vec<(&str, arrow::array::ArrayRef)>) {
    let batch = arrow::record_batch::RecordBatch::try_from_iter(columns).unwrap();
    let file = std::fs::File::create(path).unwrap();
    let mut w = parquet::arrow::ArrowWriter::try_new(file, batch.schema(), None).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
}
