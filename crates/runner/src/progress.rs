//! How far a run has got, for `datapact status` while a job array runs: per shard, how many of
//! the chunks it owns are done. A chunk is done when the record its run writes once the chunk's
//! parts are in place (`_chunks/part-NNNNNN.json`) lists exactly the chunk's parts and those
//! files exist, or when its shard's record (or the manifest) vouches for it. Cheap: reads the
//! small records and looks the parts up, opening no part file (`datapact verify` reads them).

use std::collections::BTreeSet;

use datapact_trace::RunView;

use crate::plan::ChunkPlan;
use crate::resume::{chunk_record_path, read_chunk_record};

/// One shard's progress.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShardProgress {
    /// The shard's index I.
    pub index: usize,
    /// Chunks the shard owns (I, I + N, ...).
    pub chunks: usize,
    /// Of those, the chunks done.
    pub done: usize,
    /// Whether the shard has finished (its record is present and consistent).
    pub complete: bool,
}

/// A run's progress, chunk by chunk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Progress {
    /// Chunks of the run.
    pub chunks: usize,
    /// Chunks done, over all shards.
    pub done: usize,
    /// The shards that own a chunk, ascending (a shard beyond the chunk count owns none), so
    /// that nothing here grows with N beyond the chunk count.
    pub shards: Vec<ShardProgress>,
}

/// How many chunks each shard of `view`'s run has done.
pub fn progress(view: &RunView) -> Progress {
    let chunks = view.plan().chunks();
    let count = view.identity.shards.max(1);
    let finished = view.trusted_manifest().is_some();
    let mut shards: Vec<ShardProgress> = (0..count.min(chunks))
        .map(|index| ShardProgress {
            index,
            chunks: 0,
            done: 0,
            complete: finished || view.records.contains_key(&index),
        })
        .collect();
    for chunk in 0..chunks {
        let shard = &mut shards[chunk % count];
        shard.chunks += 1;
        if shard.complete || chunk_done(view, chunk) {
            shard.done += 1;
        }
    }
    Progress {
        chunks,
        done: shards.iter().map(|s| s.done).sum(),
        shards,
    }
}

/// The chunk's record lists exactly its parts (one per table of the run), and they are all in
/// place.
fn chunk_done(view: &RunView, chunk: usize) -> bool {
    let Ok(parts) = read_chunk_record(&chunk_record_path(&view.dir, chunk)) else {
        return false;
    };
    let name = ChunkPlan::part_name(chunk);
    let expected: BTreeSet<String> = view
        .tables()
        .iter()
        .map(|t| format!("{}/{name}.parquet", t.dir_name()))
        .collect();
    let listed: BTreeSet<String> = parts.iter().map(|p| p.file.clone()).collect();
    listed.len() == parts.len()
        && listed == expected
        && parts.iter().all(|p| view.dir.join(&p.file).is_file())
}
