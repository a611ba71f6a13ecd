//! Release-build timing of one S and one M campaign at large n (default 10^5), V = p = 0.15,
//! σ_w = 0.5: `cargo run --release -p datapact-benches --example large_campaign -- [n] [reps] [V] [p]
//! [path]`, where `path` is how M re-assigns: `default` (incremental from
//! `reassign::INCREMENTAL_MIN_USERS` users up), `fresh` (water-filling the undecided users
//! afresh after every withdrawal, as before the incremental structure) or `incremental` (always).
//! Prints each campaign's outcome (withdrawals show how often M re-assigned) and its wall time.
//! M runs after S on the same draws and workspace, as in a run, so its time leaves out the first
//! water-filling, which it reuses from S (`AssignMemo`).

use std::time::Instant;

use datapact_benches::CORE_RULES;
use datapact_benches::typical_game;
use datapact_model::{Draws, Kernel, NoEvents, Workspace, campaign_rng, run_campaign};

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().map_or(100_000, |a| a.parse().expect("n"));
    let reps: u64 = args.next().map_or(3, |a| a.parse().expect("reps"));
    let value: f64 = args.next().map_or(0.15, |a| a.parse().expect("V"));
    let payment: f64 = args.next().map_or(0.15, |a| a.parse().expect("p"));
    let path = args.next().unwrap_or_else(|| "default".into());
    let mut game = typical_game(n);
    game.value = value;
    game.payment = payment;
    let sampler = game.cost.sampler().expect("valid cost distribution");
    let mut draws = Draws::default();
    let mut ws = Workspace::default();
    match path.as_str() {
        "default" => {}
        "fresh" => ws.protocol.reassign.set_min_users(usize::MAX),
        "incremental" => ws.protocol.reassign.set_min_users(0),
        other => panic!("path must be default, fresh or incremental, not {other}"),
    }
    for rep in 0..reps {
        draws.fill(n, &sampler, &mut campaign_rng(7, 0, rep));
        for m in [Kernel::Simultaneous, Kernel::Sequential] {
            let start = Instant::now();
            let o = run_campaign(m, &game, &CORE_RULES, &draws, &mut ws, &mut NoEvents);
            let secs = start.elapsed().as_secs_f64();
            println!(
                "n={n} rep={rep} {path} {}: {:.4} s  status={} withdrawals={} data={:.1} welfare={:.3}",
                m.name(),
                secs,
                o.status.as_str(),
                o.withdrawals,
                o.data,
                o.welfare
            );
        }
    }
}
