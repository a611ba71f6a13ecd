//! The chunk layout of a scenario ([`ChunkPlan`] and [`Shard`] are in `datapact_trace`, which
//! reads runs back).

use datapact_scenario::Scenario;
pub use datapact_trace::{ChunkPlan, Shard};

/// Work per chunk, in user-campaigns (cells × replications × mechanisms × users).
const CHUNK_WORK: u128 = 10_000_000;

/// Cells per automatic chunk at most: bounds the rows a chunk holds in memory (one window of
/// cell outputs and its builders) whatever the size of the sweep.
const MAX_CHUNK_CELLS: usize = 16_384;

/// Automatic chunking makes at least this many chunks when the grid has that many cells, so that
/// up to this many shards each get work. A constant (never the shard count), so the layout stays
/// a function of the scenario alone.
pub(crate) const MIN_CHUNKS: usize = 16;

/// The scenario's chunk layout; depends on the scenario alone, never on threads or shards.
pub fn chunk_plan(scenario: &Scenario) -> ChunkPlan {
    let cells = scenario.cell_count();
    let users = match scenario.sweep.iter().find(|a| a.key == "population.users") {
        Some(axis) => axis.values.iter().fold(0.0f64, |m, v| m.max(*v)) as usize,
        None => scenario.base.users,
    }
    .max(1);
    // An adaptive cell plays min..=max replications. Per-campaign records (trace >= rounds)
    // grow with the count, so chunks are sized for max; at trace = cells a cell's output is
    // a few statistics whatever its count (and ECS worlds are bounded apart), so chunks are
    // sized as for a fixed run of min, keeping cells in parallel.
    let reps = match (&scenario.adaptive, scenario.trace) {
        (Some(a), datapact_scenario::TraceLevel::Cells) => a.min,
        _ => scenario.replications,
    };
    let per_cell = reps as u128 * scenario.mechanisms.len() as u128 * users as u128;
    let by_work = (CHUNK_WORK / per_cell.max(1)).min(MAX_CHUNK_CELLS as u128) as usize;
    // ⌊cells / MIN_CHUNKS⌋ cells per chunk makes at least MIN_CHUNKS chunks (⌈⌉ would not:
    // 40 cells in chunks of 3 are 14 chunks).
    // Never more than MAX_CHUNKS chunks (part files have six digits): only grids of more than
    // 1.6·10^10 cells reach it.
    let automatic = by_work
        .min(cells / MIN_CHUNKS)
        .max(1)
        .max(cells.div_ceil(datapact_trace::MAX_CHUNKS));
    let chunk_cells = scenario
        .chunk_cells
        .unwrap_or(automatic)
        .clamp(1, cells.max(1));
    ChunkPlan { cells, chunk_cells }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(text: &str) -> ChunkPlan {
        let s = Scenario::from_str(text, "test.toml", &[]).expect("valid scenario");
        chunk_plan(&s)
    }

    const HEAD: &str = "[scenario]\nname = \"t\"\nseed = 1\nreplications = 1\n";

    #[test]
    fn small_sweeps_split_into_min_chunks() {
        let p = plan(&format!(
            "{HEAD}[sweep]\ngame.value = {{ from = 0.0, to = 0.3, steps = 40 }}\n"
        ));
        assert_eq!(p.cells, 40);
        assert!(p.chunks() >= MIN_CHUNKS, "{p:?}");
        // Every shard of up to MIN_CHUNKS gets at least one chunk.
        for count in 1..=MIN_CHUNKS {
            for index in 0..count {
                let shard = Shard { index, count };
                assert!((0..p.chunks()).any(|c| shard.owns(c)), "{shard:?} {p:?}");
            }
        }
        let few = plan(&format!(
            "{HEAD}[sweep]\ngame.value = {{ values = [0.1, 0.2, 0.3] }}\n"
        ));
        assert_eq!((few.chunk_cells, few.chunks()), (1, 3));
    }

    #[test]
    fn huge_sweeps_have_bounded_chunks() {
        let p = plan(&format!(
            "{HEAD}[population]\nusers = 2\n[sweep]\ngame.value = {{ from = 0.0, to = 1.0, steps = 1000 }}\n\
             game.payment = {{ from = 0.0, to = 1.0, steps = 1000 }}\n"
        ));
        assert_eq!(p.cells, 1_000_000);
        assert!(p.chunk_cells <= MAX_CHUNK_CELLS, "{p:?}");
        assert_eq!(p.chunks(), p.cells.div_ceil(p.chunk_cells));
    }

    #[test]
    fn adaptive_chunks_are_sized_for_max_when_records_are_kept() {
        // 20 users x 3 mechanisms x 100 000 replications = 6·10^6 user-campaigns per cell at
        // max: one cell per chunk when every campaign's record is held; sized for min = 200 at
        // trace = cells, where a cell's output does not grow with its count.
        let text = |trace: &str| {
            format!(
                "[scenario]\nname = \"t\"\nseed = 1\nreplications = {{ target_se = 0.01, \
                 metric = \"success_rate\", min = 200, max = 100000 }}\n[sweep]\n\
                 game.value = {{ from = 0.0, to = 0.3, steps = 640 }}\n[output]\ntrace = \"{trace}\"\n"
            )
        };
        assert_eq!(plan(&text("rounds")).chunk_cells, 1);
        let fixed_min = plan(
            "[scenario]\nname = \"t\"\nseed = 1\nreplications = 200\n[sweep]\n\
             game.value = { from = 0.0, to = 0.3, steps = 640 }\n",
        );
        assert_eq!(plan(&text("cells")), fixed_min);
        assert!(fixed_min.chunk_cells > 1, "{fixed_min:?}");
    }

    #[test]
    fn an_explicit_chunk_size_is_kept() {
        let p = plan(&format!(
            "{HEAD}[sweep]\ngame.value = {{ from = 0.0, to = 0.3, steps = 40 }}\n[output]\nchunk_cells = 40\n"
        ));
        assert_eq!(p.chunks(), 1);
    }
}
