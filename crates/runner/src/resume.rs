//! Resuming: which chunks an earlier run into the same directory left complete. A part is kept
//! only if a record of this run (the manifest, a shard record or the chunk's own record, written
//! when the chunk finished) holds its checksum and row count, the file matches both, and its
//! embedded metadata names this run's seed, scenario and chunk. A part no record vouches for (a
//! `kill -9` between a part's rename and its chunk record, or a file copied in) is recomputed.

use std::collections::HashMap;

use datapact_trace::{PartEntry, PartInfo, RunView, Table, inspect_part_and_metadata};

use crate::plan::ChunkPlan;

pub(crate) use datapact_trace::manifest::chunk_record_path;
pub(crate) use datapact_trace::manifest::read_chunk_record;

/// Rows and checksums recorded for this run's parts: by the manifest and shard records the view
/// found consistent, and by each finished chunk.
pub(crate) fn known_parts(view: &RunView) -> HashMap<String, PartEntry> {
    let mut known = HashMap::new();
    for chunk in 0..view.plan().chunks() {
        if let Ok(parts) = read_chunk_record(&chunk_record_path(&view.dir, chunk)) {
            known.extend(parts.into_iter().map(|p| (p.file.clone(), p)));
        }
    }
    for record in view.records.values() {
        known.extend(record.parts.iter().map(|p| (p.file.clone(), p.clone())));
    }
    if let Some(m) = view.trusted_manifest() {
        known.extend(m.parts.iter().map(|p| (p.file.clone(), p.clone())));
    }
    known
}

/// The parts of a chunk left by an earlier run, if every table has one that a record vouches
/// for, matches it, and carries this run's metadata; otherwise the chunk is recomputed.
pub(crate) fn kept_parts(
    view: &RunView,
    tables: &[Table],
    chunk: usize,
    known: &HashMap<String, PartEntry>,
) -> Option<Vec<PartInfo>> {
    let name = ChunkPlan::part_name(chunk);
    tables
        .iter()
        .map(|t| {
            let file = format!("{}/{name}.parquet", t.dir_name());
            let recorded = known.get(&file)?;
            let (info, metadata) =
                inspect_part_and_metadata(&view.dir.join(&file), Some(&recorded.sha256)).ok()?;
            (info.rows == recorded.rows && view.check_metadata(&file, &metadata).is_ok())
                .then_some(info)
        })
        .collect()
}
