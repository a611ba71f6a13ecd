//! Streaming, atomic, deterministic Parquet part writers, and the one way every other datapact
//! table is written ([`write_table_file`]); both with the same [`properties`].

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::metadata::KeyValue;
use parquet::file::properties::{WriterProperties, WriterVersion};
use sha2::{Digest, Sha256};

use crate::error::TraceError;
use crate::schema::{SCHEMA_VERSION, Table};

/// Rows per Parquet row group; a writer buffers at most one row group in memory.
pub const MAX_ROW_GROUP_ROWS: usize = 1 << 20;

/// File extension of finished parts.
pub const PART_EXTENSION: &str = "parquet";

/// Suffix added to a part's file name while it is being written.
pub const TEMP_SUFFIX: &str = ".tmp";

/// Key-value metadata keys written to every part file.
pub mod keys {
    /// The normalised scenario TOML (defaults filled, overrides applied): equal for equivalent files.
    pub const SCENARIO: &str = "datapact.scenario";
    /// The scenario's name.
    pub const SCENARIO_NAME: &str = "datapact.scenario_name";
    /// Hash of the scenario (as computed by the caller).
    pub const SCENARIO_HASH: &str = "datapact.scenario_hash";
    /// Version of datapact that wrote the file.
    pub const VERSION: &str = "datapact.version";
    /// Master seed of the run, in decimal.
    pub const SEED: &str = "datapact.seed";
    /// Table name (`cells`, `diagnostics`, `contrasts`, `rounds`, `users` or `events`).
    pub const TABLE: &str = "datapact.table";
    /// Version of the table layouts ([`crate::SCHEMA_VERSION`]).
    pub const SCHEMA_VERSION: &str = "datapact.schema_version";
    /// The one replication a `--rep R` run played, in decimal (absent for a whole run).
    pub const REPLICATION: &str = "datapact.replication";
    /// In a part of a run with a listed design: the SHA-256 of the run's
    /// `design_points.parquet`, which holds the points its `datapact.scenario` names by
    /// `file = "design_points.parquet"` (absent otherwise).
    pub const DESIGN_POINTS: &str = "datapact.design_points";
    /// The Arrow schema, IPC-encoded and base64'd, written by the Parquet library.
    pub const ARROW_SCHEMA: &str = "ARROW:schema";

    /// Keys the caller cannot set through [`crate::FileMetadata::extra`].
    pub const RESERVED: [&str; 8] = [
        SCENARIO,
        SCENARIO_NAME,
        SCENARIO_HASH,
        VERSION,
        SEED,
        TABLE,
        SCHEMA_VERSION,
        ARROW_SCHEMA,
    ];
}

/// Provenance stored in every part file's key-value metadata.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FileMetadata {
    /// Scenario name (`datapact.scenario_name`).
    pub scenario_name: String,
    /// The scenario file's TOML text (`datapact.scenario`).
    pub scenario_toml: String,
    /// Hash of the scenario (`datapact.scenario_hash`).
    pub scenario_hash: String,
    /// datapact's version (`datapact.version`).
    pub version: String,
    /// Master seed (`datapact.seed`, decimal).
    pub seed: u64,
    /// Further key-value pairs, written after the fixed keys in this order. Keys must not be
    /// one of [`keys::RESERVED`].
    pub extra: Vec<(String, String)>,
}

/// What a finished part is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartInfo {
    /// Final path of the part file.
    pub path: PathBuf,
    /// Rows written.
    pub rows: u64,
    /// SHA-256 of the file's bytes, lowercase hex.
    pub sha256: String,
}

/// A `Write` that hashes everything passing through it.
struct HashingWriter {
    file: File,
    hasher: Sha256,
}

impl Write for HashingWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.file.write(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

/// Writes one Parquet part file of a table, streaming row groups as batches arrive.
///
/// The data goes to `.<part>.parquet.tmp`, renamed to `<part>.parquet` by [`PartWriter::finish`],
/// so readers never see a partial file. Dropping an unfinished writer deletes the temporary file.
/// The same batches always produce the same bytes (no timestamps; fixed `created_by`).
pub struct PartWriter {
    writer: Option<ArrowWriter<HashingWriter>>,
    tmp_path: PathBuf,
    path: PathBuf,
    rows: u64,
    finished: bool,
}

impl std::fmt::Debug for PartWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PartWriter")
            .field("path", &self.path)
            .field("rows", &self.rows)
            .field("open", &self.writer.is_some())
            .finish()
    }
}

fn valid_part_name(name: &str) -> bool {
    !name.is_empty() && !name.starts_with('.') && !name.contains(['/', '\\', '\0'])
}

impl PartWriter {
    /// Starts writing `out_dir/<table dir>/<part_name>.parquet` (creating directories as needed).
    ///
    /// `schema` is normally [`crate::schema`]`(table, swept)`; it is embedded in the file
    /// (`ARROW:schema`) so readers recover exact types and column descriptions.
    pub fn create(
        out_dir: &Path,
        table: Table,
        part_name: &str,
        schema: SchemaRef,
        metadata: &FileMetadata,
    ) -> Result<PartWriter, TraceError> {
        let dir = out_dir.join(table.dir_name());
        if !valid_part_name(part_name) {
            return Err(TraceError::InvalidPartName {
                path: dir,
                name: part_name.to_string(),
            });
        }
        let path = dir.join(format!("{part_name}.{PART_EXTENSION}"));
        // A leading dot hides the partial file from dataset readers (pyarrow skips dot-files).
        let tmp_path = dir.join(format!(".{part_name}.{PART_EXTENSION}{TEMP_SUFFIX}"));
        if let Some((key, _)) = metadata
            .extra
            .iter()
            .find(|(k, _)| keys::RESERVED.contains(&k.as_str()))
        {
            return Err(TraceError::ReservedMetadataKey {
                path,
                key: key.clone(),
            });
        }

        fs::create_dir_all(&dir).map_err(|e| TraceError::io(&dir, "create directory", e))?;
        // `create_new`: never through a link or into a file someone else holds (the run has
        // deleted its shard's stale temporaries, and holds the shard's lock).
        let file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp_path)
            .map_err(|e| TraceError::io(&tmp_path, "create", e))?;
        let sink = HashingWriter {
            file,
            hasher: Sha256::new(),
        };
        let mut kv = vec![
            KeyValue::new(keys::SCENARIO.into(), metadata.scenario_toml.clone()),
            KeyValue::new(keys::SCENARIO_NAME.into(), metadata.scenario_name.clone()),
            KeyValue::new(keys::SCENARIO_HASH.into(), metadata.scenario_hash.clone()),
            KeyValue::new(keys::VERSION.into(), metadata.version.clone()),
            KeyValue::new(keys::SEED.into(), metadata.seed.to_string()),
            KeyValue::new(keys::TABLE.into(), table.dir_name().to_string()),
            KeyValue::new(keys::SCHEMA_VERSION.into(), SCHEMA_VERSION.to_string()),
        ];
        kv.extend(
            metadata
                .extra
                .iter()
                .map(|(k, v)| KeyValue::new(k.clone(), v.clone())),
        );
        let props = properties(kv);
        // From here on, `Drop` removes the temporary file on every early return.
        let mut this = PartWriter {
            writer: None,
            tmp_path,
            path,
            rows: 0,
            finished: false,
        };
        let writer = ArrowWriter::try_new(sink, schema, Some(props))
            .map_err(|e| TraceError::parquet(&this.tmp_path, e))?;
        this.writer = Some(writer);
        Ok(this)
    }

    /// Appends a batch (its schema must equal the writer's). Full row groups are flushed to disk.
    pub fn write(&mut self, batch: &RecordBatch) -> Result<(), TraceError> {
        let writer = self
            .writer
            .as_mut()
            .expect("PartWriter is open until finish() consumes it");
        writer
            .write(batch)
            .map_err(|e| TraceError::parquet(&self.tmp_path, e))?;
        self.rows += batch.num_rows() as u64;
        Ok(())
    }

    /// Rows written so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// The final path of the part (which exists only after [`PartWriter::finish`]).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes the footer, syncs the file, and renames it into place.
    pub fn finish(mut self) -> Result<PartInfo, TraceError> {
        let writer = self
            .writer
            .take()
            .expect("PartWriter is open until finish() consumes it");
        let sink = writer
            .into_inner()
            .map_err(|e| TraceError::parquet(&self.tmp_path, e))?;
        let HashingWriter { mut file, hasher } = sink;
        file.flush()
            .map_err(|e| TraceError::io(&self.tmp_path, "flush", e))?;
        file.sync_all()
            .map_err(|e| TraceError::io(&self.tmp_path, "sync", e))?;
        drop(file);
        fs::rename(&self.tmp_path, &self.path)
            .map_err(|e| TraceError::io(&self.tmp_path, "rename into place", e))?;
        self.finished = true;
        // Best effort: make the rename durable. Not all platforms can open a directory.
        if let Some(dir) = self.path.parent()
            && let Ok(d) = File::open(dir)
        {
            let _ = d.sync_all();
        }
        Ok(PartInfo {
            path: self.path.clone(),
            rows: self.rows,
            sha256: hex(&hasher.finalize()),
        })
    }
}

impl Drop for PartWriter {
    fn drop(&mut self) {
        // Unfinished (or failed) writer: close the handle, then discard the partial file.
        if !self.finished {
            self.writer.take();
            let _ = fs::remove_file(&self.tmp_path);
        }
    }
}

/// Lowercase hex of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 0xf)] as char);
    }
    s
}

/// The writer properties of every Parquet file datapact writes (run parts, design points, and
/// the tables of searches, sensitivity, diff and audit): Snappy, Parquet 1.0 pages, row groups
/// of at most [`MAX_ROW_GROUP_ROWS`] rows, the Parquet library's `created_by`, and `metadata` as
/// the file's key-value metadata. A function of its arguments, so the same rows give the same
/// bytes.
pub fn properties(metadata: Vec<KeyValue>) -> WriterProperties {
    WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_writer_version(WriterVersion::PARQUET_1_0)
        .set_max_row_group_row_count(Some(MAX_ROW_GROUP_ROWS))
        .set_created_by(parquet::file::properties::DEFAULT_CREATED_BY.to_string())
        .set_key_value_metadata(Some(metadata))
        .build()
}

/// Writes `batch` as the whole Parquet file `path`, the one path of every datapact table that is
/// not a run's part (searches, sensitivity, diff, audit): a hidden temporary created exclusively
/// and renamed into place when complete ([`crate::atomic::AtomicFile`]: whole or absent, deleted
/// on failure or a signal), with [`properties`] and the key-value metadata `datapact.table` =
/// `table`, `datapact.version` = this datapact's version, then `extra` (what the table is of:
/// its search file, runs or settings).
pub fn write_table_file(
    path: &Path,
    table: &str,
    batch: &RecordBatch,
    extra: &[(String, String)],
) -> Result<(), TraceError> {
    let mut kv = vec![
        KeyValue::new(keys::TABLE.into(), table.to_string()),
        KeyValue::new(keys::VERSION.into(), env!("CARGO_PKG_VERSION").to_string()),
    ];
    kv.extend(
        extra
            .iter()
            .map(|(k, v)| KeyValue::new(k.clone(), v.clone())),
    );
    let mut file =
        crate::atomic::AtomicFile::create(path).map_err(|e| TraceError::io(path, "create", e))?;
    let parquet = |e| TraceError::parquet(path, e);
    let mut w =
        ArrowWriter::try_new(file.file(), batch.schema(), Some(properties(kv))).map_err(parquet)?;
    w.write(batch).map_err(parquet)?;
    w.close().map_err(parquet)?;
    file.commit().map_err(|e| TraceError::io(path, "rename", e))
}
