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
            &r[..12.min(r.len())]
        ));
    }
    let rows = count_rows(path).map_err(|e| e.to_string())?;
    Ok(PartInfo {
        path: path.to_path_buf(),
        rows,
        sha256,
    })
}
