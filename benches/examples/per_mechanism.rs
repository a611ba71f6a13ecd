//! Campaigns per second per core for each mechanism alone, through the ECS and the direct
//! kernel (`run_cell`, Depth::Cells) on the small grid of the pipeline bench, back to back:
//! `cargo run --release -p datapact-benches --example per_mechanism -- [reps] [rounds]`.
//! Prints the median over `rounds` of each figure (single thread).

use std::time::Instant;

use datapact_benches::{core_spec, small_grid};
use datapact_sim::{Backend, CellJob, run_cell};

fn main() {
    let mut args = std::env::args().skip(1);
    let reps: u32 = args.next().map_or(500, |a| a.parse().expect("reps"));
    let rounds: usize = args.next().map_or(5, |a| a.parse().expect("rounds"));
    let jobs: Vec<CellJob> = small_grid()
        .into_iter()
        .enumerate()
        .map(|(index, game)| CellJob { index, game })
        .collect();
    println!("mechanism backend campaigns_per_s (median of {rounds}, {reps} reps x 9 cells)");
    for (m, name_m) in [(0u16, "C"), (1, "S"), (2, "M")] {
        for (name, backend) in [("ecs", Backend::Ecs), ("direct", Backend::Direct)] {
            let spec = core_spec(20260508, reps, vec![m], backend);
            let mut rates: Vec<f64> = (0..rounds)
                .map(|_| {
                    let start = Instant::now();
                    for job in &jobs {
                        std::hint::black_box(run_cell(job, &spec).unwrap());
                    }
                    (jobs.len() as f64 * reps as f64) / start.elapsed().as_secs_f64()
                })
                .collect();
            rates.sort_by(f64::total_cmp);
            println!("{name_m} {name} {:.0}", rates[rounds / 2]);
        }
    }
}
