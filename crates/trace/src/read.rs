//! Reading part files back: a table's parts, one part's batches, rows and metadata, and a part
//! checked against its recorded checksum.

use std::collections::HashMap;
use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};

use arrow::array::RecordBatch;
use parquet::arrow::arrow_reader::{ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder};
use parquet::file::reader::{FileReader, SerializedFileReader};
use sha2::{Digest, Sha256};

use crate::error::TraceError;
use crate::schema::Table;
use crate::writer::{PART_EXTENSION, PartInfo, hex};

/// SHA-256 of a file's bytes, lowercase hex (as in [`PartInfo::sha256`]).
pub fn sha256_file(path: &Path) -> Result<String, TraceError> {
    let mut file = File::open(path).map_err(|e| TraceError::io(path, "open", e))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = io::Read::read(&mut file, &mut buf).map_err(|e| TraceError::io(path, "read", e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex(&hasher.finalize()))
}

/// The finished part files of `table` under `dir` (the output directory), sorted by file name.
/// Temporary files of unfinished writers are skipped. A missing table directory is an error.
pub fn part_files(dir: &Path, table: Table) -> Result<Vec<PathBuf>, TraceError> {
    let table_dir = dir.join(table.dir_name());
    let entries =
        fs::read_dir(&table_dir).map_err(|e| TraceError::io(&table_dir, "list directory", e))?;
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| TraceError::io(&table_dir, "list directory", e))?;
        let path = entry.path();
        let is_part = path.extension().is_some_and(|e| e == PART_EXTENSION)
            && !path
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with('.'));
        if is_part && path.is_file() {
            files.push(path);
        }
    }
    files.sort_by(|a, b| a.file_name().cmp(&b.file_name()));
    Ok(files)
}

/// Reads every part of `table` under `dir` (the output directory), in file-name order.
pub fn read_table(dir: &Path, table: Table) -> Result<Vec<RecordBatch>, TraceError> {
    let mut batches = Vec::new();
    for path in part_files(dir, table)? {
        batches.extend(read_part(&path)?);
    }
    Ok(batches)
}

fn open_part(path: &Path) -> Result<ParquetRecordBatchReader, TraceError> {
    let file = File::open(path).map_err(|e| TraceError::io(path, "open", e))?;
    ParquetRecordBatchReaderBuilder::try_new(file)
        .and_then(|b| b.with_batch_size(64 * 1024).build())
        .map_err(|e| TraceError::parquet(path, e))
}

fn arrow_err(path: &Path) -> impl FnOnce(arrow::error::ArrowError) -> TraceError + '_ {
    move |source| TraceError::Arrow {
        path: path.to_path_buf(),
        source,
    }
}

/// Reads one part file into record batches (with the embedded Arrow schema's exact types).
pub fn read_part(path: &Path) -> Result<Vec<RecordBatch>, TraceError> {
    open_part(path)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(arrow_err(path))
}

/// An upper estimate of the bytes [`read_part`] holds for one part file, from its footer alone
/// (nothing decoded): per row group, the larger of its uncompressed size and 8 bytes per value
/// (a dictionary-encoded or bit-packed column decodes to more than it stores), plus the Arrow
/// offsets of its string columns. A reader checks it against the memory it may use before
/// decoding, so a table too large is an error, not an allocation failure.
pub fn decoded_bytes(path: &Path) -> Result<u64, TraceError> {
    let f = File::open(path).map_err(|e| TraceError::io(path, "open", e))?;
    let reader = SerializedFileReader::new(f).map_err(|e| TraceError::parquet(path, e))?;
    let meta = reader.metadata();
    let mut total = 0u64;
    for rg in meta.row_groups() {
        let rows = u64::try_from(rg.num_rows()).unwrap_or(0);
        let stored = u64::try_from(rg.total_byte_size()).unwrap_or(0);
        let values = rows.saturating_mul(rg.num_columns() as u64);
        let strings: u64 = rg
            .columns()
            .iter()
            .filter(|c| c.column_type() == parquet::basic::Type::BYTE_ARRAY)
            .map(|_| rows.saturating_mul(8))
            .sum();
        total = total
            .saturating_add(stored.max(values.saturating_mul(8)))
            .saturating_add(strings);
    }
    Ok(total)
}

/// The rows of one part file, decoding every page (so damage is found) but holding one batch
/// at a time: a part of tens of millions of events is checked in bounded memory.
pub fn count_rows(path: &Path) -> Result<u64, TraceError> {
    open_part(path)?.try_fold(0u64, |rows, batch| {
        Ok(rows + batch.map_err(arrow_err(path))?.num_rows() as u64)
    })
}

/// The key-value metadata of one Parquet file (including `ARROW:schema` when present).
/// Keys without a value map to the empty string.
pub fn read_metadata(file: &Path) -> Result<HashMap<String, String>, TraceError> {
    let f = File::open(file).map_err(|e| TraceError::io(file, "open", e))?;
    let reader = SerializedFileReader::new(f).map_err(|e| TraceError::parquet(file, e))?;
    Ok(reader
        .metadata()
        .file_metadata()
        .key_value_metadata()
        .map(|kvs| {
            kvs.iter()
                .map(|kv| (kv.key.clone(), kv.value.clone().unwrap_or_default()))
                .collect()
        })
        .unwrap_or_default())
}

/// Checks one part file: its SHA-256 equals `recorded` (when a record holds one), and it reads
/// back whole. Returns what a manifest entry needs. Used by `verify` and by `--resume`, which
/// keeps a chunk only if every part passes.
pub fn inspect_part(path: &Path, recorded: Option<&str>) -> Result<PartInfo, String> {
    let sha256 = sha256_file(path).map_err(|e| e.to_string())?;
    if let Some(r) = recorded.filter(|r| **r != *sha256) {
        return Err(format!(
            "checksum {} != recorded {}",
            &sha256[..12],
            // The recorded value comes from disk: cut by characters, not bytes (a non-ASCII
            // record cut at byte 12 panicked; found by the run-metadata fuzz).
            r.chars().take(12).collect::<String>()
        ));
    }
    let rows = count_rows(path).map_err(|e| e.to_string())?;
    Ok(PartInfo {
        path: path.to_path_buf(),
        rows,
        sha256,
    })
}

#[cfg(test)]
mod tests {
    use super::inspect_part;

    /// A recorded checksum read from a damaged manifest may be any string: a non-ASCII one is
    /// reported, not sliced inside a character (it panicked).
    #[test]
    fn a_non_ascii_recorded_checksum_is_an_error_not_a_panic() {
        let dir = std::env::temp_dir().join(format!("datapact-inspect-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let part = dir.join("part.parquet");
        std::fs::write(&part, b"not a part").unwrap();
        let recorded = "aéééééééééééééééé"; // byte 12 falls inside an é
        let err = inspect_part(&part, Some(recorded)).unwrap_err();
        assert!(err.contains("recorded aééééééééééé"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
