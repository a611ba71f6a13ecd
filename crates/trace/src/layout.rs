//! The layout of a run's outputs: cells in fixed chunks (the unit of part files, shards and
//! resume), the shards that split them, and the names of the files they write.

/// Cells `chunk·size .. (chunk+1)·size` form one chunk. A function of the scenario alone
/// (`datapact_runner::chunk_plan` computes it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChunkPlan {
    /// Cells of the scenario's grid.
    pub cells: usize,
    /// Cells per chunk (the last chunk may hold fewer); `output.chunk_cells`, or automatic: the
    /// least of about 10^7 user-campaigns of work, 16 384 cells, and ⌊cells / 16⌋ (so that
    /// sweeps of 16 cells or more split into at least 16 chunks).
    pub chunk_cells: usize,
}

impl ChunkPlan {
    /// Number of chunks, the last one possibly partial.
    pub fn chunks(&self) -> usize {
        self.cells.div_ceil(self.chunk_cells)
    }

    /// The grid indices of the cells in `chunk`.
    pub fn cells_of(&self, chunk: usize) -> std::ops::Range<usize> {
        chunk * self.chunk_cells..((chunk + 1) * self.chunk_cells).min(self.cells)
    }

    /// The part file name of a chunk (the same in every table).
    pub fn part_name(chunk: usize) -> String {
        format!("part-{chunk:06}")
    }
}

/// Shard `index` of `count` takes chunks `index, index + count, …` (round-robin: balanced, and
/// each shard's files are disjoint from every other's).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// This shard's index I, from 0.
    pub index: usize,
    /// Number of shards N (≥ 1).
    pub count: usize,
}

impl Shard {
    /// The single shard that owns every chunk (`0/1`).
    pub const WHOLE: Shard = Shard { index: 0, count: 1 };

    /// Parses `I/N` with 0 ≤ I < N.
    pub fn parse(text: &str) -> Result<Shard, String> {
        let (i, n) = text
            .split_once('/')
            .ok_or_else(|| format!("--shard {text:?}: expected I/N, e.g. 0/4"))?;
        let index: usize = i
            .trim()
            .parse()
            .map_err(|_| format!("--shard {text:?}: I must be an integer >= 0"))?;
        let count: usize = n
            .trim()
            .parse()
            .map_err(|_| format!("--shard {text:?}: N must be an integer >= 1"))?;
        if count == 0 || index >= count {
            return Err(format!("--shard {text:?}: need 0 <= I < N"));
        }
        Ok(Shard { index, count })
    }

    /// Whether this shard writes `chunk`.
    pub fn owns(&self, chunk: usize) -> bool {
        chunk % self.count == self.index
    }
}

/// The part-file metadata key holding the chunk a part belongs to (decimal).
pub const CHUNK_KEY: &str = "datapact.chunk";

/// Most shards a run may be split into (shard records are named with five digits).
pub const MAX_SHARDS: usize = 99_999;

/// Most chunks a run may have: part files are numbered with six digits (`part-NNNNNN`), and
/// readers list a table's parts in file-name order. (The automatic chunk plan stays below it;
/// the runner refuses an `output.chunk_cells` that would exceed it.)
pub const MAX_CHUNKS: usize = 1_000_000;

/// Most cells a run may have: every cell plays at least one user-campaign, and the scenario
/// loader refuses more than 10^11 (`datapact_scenario::MAX_CAMPAIGN_USERS`).
pub const MAX_CELLS: usize = 100_000_000_000;

/// The chunk index in a part file's name (`cells/part-000012.parquet` → 12).
pub fn chunk_of_file(file: &str) -> Option<usize> {
    let name = file.rsplit('/').next()?;
    let digits = name.strip_prefix("part-")?.strip_suffix(".parquet")?;
    // Exactly the six digits `ChunkPlan::part_name` writes: `part-+00001` or `part-1` name
    // no chunk (`parse` alone would accept them).
    if digits.len() != 6 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}
