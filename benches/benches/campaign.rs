//! One campaign of C, S and M (`datapact_model::run_campaign`, `NoEvents`) at n = 20 and the
//! typical V = p = 0.15, averaged over 256 prepared draw sets; and one S and one M campaign at
//! n = 10^5 (σ_w = 0.5, so many users withdraw and M re-assigns often), alternating two draw
//! sets so that no campaign reuses the previous one's assignment. `m_reassign`: M campaigns of
//! n = 32 … 4096 users (V = p = 0.1) with its two re-assignment paths forced (`fresh`: water-filling the
//! undecided afresh after each withdrawal; `incremental`: `reassign::Reassign`), to place the
//! size threshold `reassign::INCREMENTAL_MIN_USERS`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use datapact_benches::CORE_RULES;
use datapact_benches::typical_game;
use datapact_model::{Draws, Game, Kernel, NoEvents, Workspace, campaign_rng, run_campaign};

fn prepared(n: usize, count: u64) -> Vec<Draws> {
    let game = typical_game(n);
    let sampler = game.cost.sampler().unwrap();
    (0..count)
        .map(|rep| {
            let mut d = Draws::default();
            d.fill(n, &sampler, &mut campaign_rng(7, 0, rep));
            d
        })
        .collect()
}

fn bench_small(c: &mut Criterion) {
    let n = 20;
    let game = typical_game(n);
    let draws = prepared(n, 256);
    let mut group = c.benchmark_group("campaign_n20");
    group
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(2))
        .sample_size(50)
        .throughput(Throughput::Elements(draws.len() as u64));
    for m in [Kernel::Subsidy, Kernel::Simultaneous, Kernel::Sequential] {
        let mut ws = Workspace::default();
        group.bench_with_input(BenchmarkId::from_parameter(m.name()), &m, |b, &m| {
            b.iter(|| {
                let mut welfare = 0.0;
                for d in &draws {
                    welfare +=
                        run_campaign(m, &game, &CORE_RULES, black_box(d), &mut ws, &mut NoEvents)
                            .welfare;
                }
                welfare
            })
        });
    }
    group.finish();
}

fn bench_large(c: &mut Criterion) {
    let n = 100_000;
    let game = typical_game(n);
    // Two draw sets, alternated: with one, every iteration after the first would find its
    // assignment in the workspace's memo (`AssignMemo`) and skip the water-filling it times.
    let draws = prepared(n, 2);
    let mut group = c.benchmark_group("campaign_n100000");
    group
        .warm_up_time(Duration::from_millis(200))
        .measurement_time(Duration::from_secs(3))
        .sample_size(10)
        .throughput(Throughput::Elements(1));
    for m in [Kernel::Simultaneous, Kernel::Sequential] {
        let mut ws = Workspace::default();
        let mut next = 0;
        group.bench_with_input(BenchmarkId::from_parameter(m.name()), &m, |b, &m| {
            b.iter(|| {
                next ^= 1;
                run_campaign(
                    m,
                    &game,
                    &CORE_RULES,
                    black_box(&draws[next]),
                    &mut ws,
                    &mut NoEvents,
                )
            })
        });
    }
    group.finish();
}

fn bench_reassign_threshold(c: &mut Criterion) {
    let mut group = c.benchmark_group("m_reassign");
    group
        .warm_up_time(Duration::from_millis(200))
        .measurement_time(Duration::from_secs(2))
        .sample_size(20);
    for n in [32, 128, 160, 256, 1024, 4096] {
        // V = p = 0.1: M re-assigns more often than at 0.15 before it stops.
        let game = Game {
            value: 0.1,
            payment: 0.1,
            ..typical_game(n)
        };
        // About 10^5 users in all per iteration, so that every n times the same amount of work.
        let draws = prepared(n, (100_000 / n as u64).max(16));
        group.throughput(Throughput::Elements(draws.len() as u64));
        for (path, min_users) in [("fresh", usize::MAX), ("incremental", 0)] {
            let mut ws = Workspace::default();
            ws.protocol.reassign.set_min_users(min_users);
            group.bench_with_input(BenchmarkId::new(path, n), &n, |b, _| {
                b.iter(|| {
                    let mut welfare = 0.0;
                    for d in &draws {
                        welfare += run_campaign(
                            Kernel::Sequential,
                            &game,
                            &CORE_RULES,
                            black_box(d),
                            &mut ws,
                            &mut NoEvents,
                        )
                        .welfare;
                    }
                    welfare
                })
            });
        }
    }
    group.finish();
}

criterion_group!(benches, bench_small, bench_large, bench_reassign_threshold);
criterion_main!(benches);
