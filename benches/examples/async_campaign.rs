//! Release-build timing of one `async` campaign at large n (default 10^6) with the default
//! parameters (T = 1, λ = 1, σ_r = 0.5, d = 0.05, s = 0.5) of the default game at V = p = 0.15:
//! `cargo run --release -p datapact-benches --example async_campaign -- [n] [regret_rate]`.
//! Prints the events popped E, the withdrawals and the wall time per event (O(log n) each).

use std::time::Instant;

use datapact_benches::AsyncCampaign;

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().map_or(1_000_000, |a| a.parse().expect("n"));
    let rate: f64 = args.next().map_or(1.0, |a| a.parse().expect("regret_rate"));
    let setup = Instant::now();
    let mut campaign = AsyncCampaign::new(n, 0);
    campaign.params.regret_rate = rate;
    let setup = setup.elapsed().as_secs_f64();
    let start = Instant::now();
    let (end, events) = campaign.play();
    let secs = start.elapsed().as_secs_f64();
    println!(
        "n={n} regret_rate={rate}: setup {setup:.3} s, play {secs:.3} s, E={events} events \
         ({:.0} ns/event), withdrawals={}, end={end:?}",
        secs / events as f64 * 1e9,
        campaign.withdrawals()
    );
}
