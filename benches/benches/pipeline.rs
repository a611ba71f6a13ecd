//! The cells pipeline on a small grid (9 cells of 20 users, V and p over {0.05, 0.15, 0.25},
//! 200 replications × C, S, M): `run_cell` through the ECS and through the direct kernel
//! (Depth::Cells, statistics folded), and the simplest possible direct loop (draw, assign,
//! decide, accumulate; no ECS, no statistics, no output) as the practical limit.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use datapact_benches::{CORE_KERNELS, core_spec, plain_loop, small_grid};
use datapact_model::{Draws, Workspace};
use datapact_sim::{Backend, CellJob, run_cell};

const REPS: u32 = 200;
const SEED: u64 = 20260508;

fn bench_pipeline(c: &mut Criterion) {
    let mechanisms = vec![0u16, 1, 2];
    let jobs: Vec<CellJob> = small_grid()
        .into_iter()
        .enumerate()
        .map(|(index, game)| CellJob { index, game })
        .collect();
    let campaigns = jobs.len() as u64 * REPS as u64 * mechanisms.len() as u64;
    let mut group = c.benchmark_group("pipeline_9cells");
    group
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(4))
        .sample_size(20)
        .throughput(Throughput::Elements(campaigns));
    for (name, backend) in [("ecs", Backend::Ecs), ("direct", Backend::Direct)] {
        let spec = core_spec(SEED, REPS, mechanisms.clone(), backend);
        group.bench_function(name, |b| {
            b.iter(|| {
                for job in &jobs {
                    black_box(run_cell(black_box(job), &spec).unwrap());
                }
            })
        });
    }
    let mut draws = Draws::default();
    let mut ws = Workspace::default();
    group.bench_function("plain_loop", |b| {
        b.iter(|| {
            let mut total = 0.0;
            for job in &jobs {
                total += plain_loop(
                    black_box(&job.game),
                    job.index as u64,
                    SEED,
                    REPS,
                    &CORE_KERNELS,
                    &mut draws,
                    &mut ws,
                );
            }
            total
        })
    });
    group.finish();
}

criterion_group!(benches, bench_pipeline);
criterion_main!(benches);
