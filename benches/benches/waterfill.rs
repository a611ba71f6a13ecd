//! Exact water-filling (`datapact_model::waterfill::water_fill`) at n = 20, 10^3 and 10^5 users.

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use datapact_benches::fill_instance;
use datapact_model::waterfill::{FillScratch, water_fill};

fn bench_water_fill(c: &mut Criterion) {
    let mut group = c.benchmark_group("water_fill");
    group
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(2));
    for n in [20usize, 1_000, 100_000] {
        let (cost, cap, need) = fill_instance(n);
        let mut out = vec![0.0; n];
        let mut scratch = FillScratch::default();
        let tol = 1e-9 * n as f64;
        group.throughput(Throughput::Elements(n as u64));
        group.sample_size(if n >= 100_000 { 20 } else { 50 });
        group.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
            b.iter(|| {
                water_fill(
                    black_box(&cost),
                    black_box(&cap),
                    need,
                    tol,
                    &mut out,
                    &mut scratch,
                )
                .unwrap()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench_water_fill);
criterion_main!(benches);
