//! Resuming: which chunks an earlier run into the same directory left complete.

use std::collections::HashMap;
use std::path::Path;

use datapact_trace::{PartInfo, Table};

use crate::manifest::{read_shard_record, shard_record_path, shard_records};
use crate::plan::ChunkPlan;

/// Checksums recorded by earlier runs into `out` (the manifest and every shard record).
pub(crate) fn known_checksums(out: &Path) -> HashMap<String, String> {
    let mut known = HashMap::new();
    if let Ok(m) = crate::manifest::read_manifest(out) {
        known.extend(m.parts.into_iter().map(|p| (p.file, p.sha256)));
    }
    for (shard, shards) in shard_records(out).unwrap_or_default() {
        if let Ok(r) = read_shard_record(&shard_record_path(out, shard, shards)) {
            known.extend(r.parts.into_iter().map(|p| (p.file, p.sha256)));
        }
    }
    known
}

/// The parts of a chunk left by an earlier run, if every table has one under its final name that
/// reads back whole and matches any checksum recorded for it. Parts are renamed into place only
/// when complete, so this fails only on damage after the fact; such a chunk is recomputed.
pub(crate) fn kept_parts(
    out: &Path,
    tables: &[Table],
    chunk: usize,
    known: &HashMap<String, String>,
) -> Option<Vec<PartInfo>> {
    let name = ChunkPlan::part_name(chunk);
    tables
        .iter()
        .map(|t| {
            let file = format!("{}/{name}.parquet", t.dir_name());
            crate::verify::inspect_part(&out.join(&file), known.get(&file).map(String::as_str)).ok()
        })
        .collect()
}
