//! The event calendar's cost per event (`datapact_model::calendar::Calendar`): the hold model —
//! pop the earliest event, schedule one later — with m = 10^2, 10^4 and 10^6 events pending (an
//! async campaign of n users keeps about n pending: one answer or regret shock per user), and
//! one whole `async` campaign of n = 1000 users per iteration, reported per event.

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use datapact_benches::AsyncCampaign;
use datapact_model::calendar::Calendar;

/// A deterministic stream of waiting times in (0, 1].
fn waits() -> impl FnMut() -> f64 {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        ((state >> 11) as f64 + 1.0) / (1u64 << 53) as f64
    }
}

fn bench_hold(c: &mut Criterion) {
    let mut group = c.benchmark_group("calendar_hold");
    group
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(2));
    for m in [100usize, 10_000, 1_000_000] {
        let mut wait = waits();
        let mut cal = Calendar::new();
        for k in 0..m {
            cal.schedule(wait(), k as u64, k as u32);
        }
        group.throughput(Throughput::Elements(1));
        group.bench_with_input(BenchmarkId::from_parameter(m), &m, |b, _| {
            b.iter(|| {
                let (t, e) = cal.pop().expect("the calendar holds m events");
                cal.schedule(t + wait(), u64::from(e), black_box(e));
            })
        });
    }
    group.finish();
}

fn bench_async_campaign(c: &mut Criterion) {
    let mut group = c.benchmark_group("async_campaign");
    group
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(3));
    let n = 1_000;
    let mut campaign = AsyncCampaign::new(n, 1);
    let events = campaign.play().1;
    group.throughput(Throughput::Elements(events));
    group.bench_with_input(BenchmarkId::new("events", n), &n, |b, _| {
        b.iter(|| black_box(campaign.play()))
    });
    group.finish();
}

criterion_group!(benches, bench_hold, bench_async_campaign);
criterion_main!(benches);
