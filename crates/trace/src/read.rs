//! Reading part files back: a table's parts, one part's batches, rows and metadata, and a part
//! checked against its recorded checksum.

use std::collections::HashMap;
use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};

use arrow::array::RecordBatch;
use parquet::arrow::arrow_reader::{ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder};
use parquet::file::metadata::FileMetaData;
use parquet::file::reader::{ChunkReader, FileReader, SerializedFileReader};
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
    batches_of(path, file).map(|(batches, _)| batches)
}

/// The batches of a part read from `source` (a file, or its bytes already in memory), and its
/// key-value metadata (from the footer the reader parses anyway).
fn batches_of<R: ChunkReader + 'static>(
    path: &Path,
    source: R,
) -> Result<(ParquetRecordBatchReader, HashMap<String, String>), TraceError> {
    let builder = ParquetRecordBatchReaderBuilder::try_new(source)
        .map_err(|e| TraceError::parquet(path, e))?;
    let metadata = key_values(builder.metadata().file_metadata());
    let batches = builder
        .with_batch_size(64 * 1024)
        .build()
        .map_err(|e| TraceError::parquet(path, e))?;
    Ok((batches, metadata))
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
    rows_of(path, open_part(path)?)
}

fn rows_of(path: &Path, batches: ParquetRecordBatchReader) -> Result<u64, TraceError> {
    let mut rows = 0u64;
    for batch in batches {
        rows += batch.map_err(arrow_err(path))?.num_rows() as u64;
    }
    Ok(rows)
}

/// Parts up to this size are checked from one read into memory ([`inspect_part`]); larger ones
/// are streamed (read twice, one batch held at a time), so checking a part holds at most this
/// much more than streaming it.
pub const IN_MEMORY_PART_BYTES: u64 = 1 << 20;

/// The key-value metadata of one Parquet file (including `ARROW:schema` when present).
/// Keys without a value map to the empty string.
pub fn read_metadata(file: &Path) -> Result<HashMap<String, String>, TraceError> {
    let f = File::open(file).map_err(|e| TraceError::io(file, "open", e))?;
    let reader = SerializedFileReader::new(f).map_err(|e| TraceError::parquet(file, e))?;
    Ok(key_values(reader.metadata().file_metadata()))
}

fn key_values(meta: &FileMetaData) -> HashMap<String, String> {
    meta.key_value_metadata()
        .map(|kvs| {
            kvs.iter()
                .map(|kv| (kv.key.clone(), kv.value.clone().unwrap_or_default()))
                .collect()
        })
        .unwrap_or_default()
}

/// Checks one part file: its SHA-256 equals `recorded` (when a record holds one), and it reads
/// back whole. Returns what a manifest entry needs. Used by `verify` and by `--resume`, which
/// keeps a chunk only if every part passes.
///
/// A regular file of at most [`IN_MEMORY_PART_BYTES`] is read once, and its checksum and rows
/// come from those bytes: the same answers as streaming it, without a second read and without
/// the small reads (each a `dup`, `lseek`, `read` and `close`, per column) that decoding a part
/// from a `File` costs, which dominate for the small parts of a run of many chunks. A larger
/// file is streamed.
pub fn inspect_part(path: &Path, recorded: Option<&str>) -> Result<PartInfo, String> {
    inspect_part_and_metadata(path, recorded).map(|(info, _)| info)
}

/// [`inspect_part`], and the part's key-value metadata (as [`read_metadata`] returns it) from
/// the same read: what a reader checking the part against its run needs
/// ([`crate::RunView::check_metadata`]).
pub fn inspect_part_and_metadata(
    path: &Path,
    recorded: Option<&str>,
) -> Result<(PartInfo, HashMap<String, String>), String> {
    let mut bytes = None;
    if fs::metadata(path).is_ok_and(|m| m.is_file()) {
        let file = File::open(path).map_err(|e| TraceError::io(path, "open", e).to_string())?;
        let len = file
            .metadata()
            .map_err(|e| TraceError::io(path, "inspect", e).to_string())?
            .len();
        if len <= IN_MEMORY_PART_BYTES {
            // One read of `len` bytes (a file that shrank since is a short read: an error).
            let read = file.get_bytes(0, len as usize);
            bytes = Some(read.map_err(|e| TraceError::parquet(path, e).to_string())?);
        }
    }
    let sha256 = match &bytes {
        Some(b) => hex(&Sha256::digest(b)),
        None => sha256_file(path).map_err(|e| e.to_string())?,
    };
    if let Some(r) = recorded.filter(|r| **r != *sha256) {
        return Err(format!(
            "checksum {} != recorded {}",
            &sha256[..12],
            // The recorded value comes from disk: cut by characters, not bytes (a non-ASCII
            // record cut at byte 12 panicked; found by the run-metadata fuzz).
            r.chars().take(12).collect::<String>()
        ));
    }
    let read = match bytes {
        Some(b) => batches_of(path, b),
        None => File::open(path)
            .map_err(|e| TraceError::io(path, "open", e))
            .and_then(|file| batches_of(path, file)),
    };
    let (rows, metadata) = read
        .and_then(|(batches, metadata)| Ok((rows_of(path, batches)?, metadata)))
        .map_err(|e| e.to_string())?;
    let info = PartInfo {
        path: path.to_path_buf(),
        rows,
        sha256,
    };
    Ok((info, metadata))
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
