//! The chunk layout of a scenario and the shards that split it.

use datapact_scenario::Scenario;

/// Work per chunk, in user-campaigns (cells × replications × mechanisms × users).
const CHUNK_WORK: u128 = 10_000_000;

/// Cells `chunk·size .. (chunk+1)·size` form one chunk. A function of the scenario alone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChunkPlan {
    /// Cells of the scenario's grid.
    pub cells: usize,
    /// Cells per chunk (the last chunk may hold fewer); `output.chunk_cells`, or chosen for about
    /// 10^7 user-campaigns per chunk.
    pub chunk_cells: usize,
}

impl ChunkPlan {
    /// The scenario's chunk layout; depends on the scenario alone, never on threads or shards.
    pub fn for_scenario(scenario: &Scenario) -> Self {
        let cells = scenario.cell_count();
        let users = match scenario.sweep.iter().find(|a| a.key == "population.users") {
            Some(axis) => axis.values.iter().fold(0.0f64, |m, v| m.max(*v)) as usize,
            None => scenario.base.users,
        }
        .max(1);
        let per_cell =
            scenario.replications as u128 * scenario.mechanisms.len() as u128 * users as u128;
        let automatic = (CHUNK_WORK / per_cell.max(1)).clamp(1, cells.max(1) as u128) as usize;
        let chunk_cells = scenario
            .chunk_cells
            .unwrap_or(automatic)
            .clamp(1, cells.max(1));
        ChunkPlan { cells, chunk_cells }
    }

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
