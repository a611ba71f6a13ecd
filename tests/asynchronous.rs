//! Mechanism `async` end to end: its limiting timings reproduce S and M through the ECS, campaign
//! by campaign; a scenario with `mechanisms = ["S", "M", "async"]` and `trace = "events"` runs,
//! shards and resumes like any other, with its events in non-decreasing continuous time.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use datapact_model::asynchronous::AsyncParams;
use datapact_model::{Game, ParamValues, Params};
use datapact_runner::Shard;
use datapact_sim::{Backend, CellJob, Depth, PluginSet, RunSpec, run_cell};
use datapact_tests::*;
use datapact_trace::Table;

/// Per-campaign outcomes of `S`/`M` (`core`) and `async` with `params`, on the same draws.
fn paired(core: &str, params: AsyncParams, game: Game) -> (Vec<String>, Vec<String>) {
    let plugins = Arc::new(PluginSet::core());
    let catalog = plugins.catalog();
    let id = |name: &str| catalog.mechanism(name).expect("core mechanism");
    let mut game = game;
    let specs = <AsyncParams as Params>::SPECS;
    let mut values = ParamValues::default();
    for (spec, v) in specs.iter().zip([
        params.deadline,
        params.regret_rate,
        params.regret_size,
        params.reassign_delay,
        params.spread,
    ]) {
        assert!(values.set(specs, spec.key, v));
    }
    game.mechanism_params
        .resize(id("async") + 1, ParamValues::default());
    game.mechanism_params[id("async")] = values;
    let spec = RunSpec {
        seed: 17,
        replications: 300,
        mechanisms: vec![id(core) as u16, id("async") as u16],
        depth: Depth::Rounds,
        backend: Backend::Ecs,
        plugins: plugins.clone(),
        variants: Vec::new(),
        first_replication: 0,
        adaptive: None,
    };
    let out = run_cell(&CellJob { index: 2, game }, &spec).expect("invariants hold");
    let of = |name: &str| -> Vec<String> {
        out.rounds
            .iter()
            .filter(|r| r.mechanism == id(name) as u16)
            .map(|r| format!("{} {:?}", r.rep, r.outcome))
            .collect()
    };
    (of(core), of("async"))
}

fn typical() -> Game {
    Game {
        value: 0.1,
        payment: 0.05,
        users: 20,
        ..Game::default()
    }
}

#[test]
fn answers_at_once_without_regret_are_s_campaign_by_campaign() {
    let params = AsyncParams {
        regret_rate: 0.0,
        spread: 0.0,
        ..AsyncParams::default()
    };
    let (s, a) = paired("S", params, typical());
    assert_eq!(s.len(), 300);
    assert!(
        s.iter().any(|r| !r.contains("withdrawals: 0,")),
        "no withdrawal exercised"
    );
    assert_eq!(s, a);
}

#[test]
fn staggered_answers_without_regret_are_m_campaign_by_campaign() {
    let params = AsyncParams {
        regret_rate: 0.0,
        spread: 0.9,
        reassign_delay: 0.0,
        ..AsyncParams::default()
    };
    let (m, a) = paired("M", params, typical());
    assert_eq!(m.len(), 300);
    assert!(
        m.iter().any(|r| !r.contains("withdrawals: 0,")),
        "no withdrawal exercised"
    );
    assert_eq!(m, a);
}

/// A campaign of the events table: (cell, rep, round, mechanism).
type Campaign<'a> = (u32, u32, u32, &'a str);

const SCENARIO: &str = r#"
mechanisms = ["S", "M", "async"]
[scenario]
name = "async_events"
seed = 3
replications = 40
[population]
users = 12
[game]
value = 0.1
payment = 0.05
[mechanism.async]
deadline = 1.0
regret_rate = 2.0
[sweep]
game.value = { values = [0.06, 0.1, 0.14] }
mechanism.async.deadline = { values = [0.5, 1.0] }
[output]
trace = "events"
chunk_cells = 2
"#;

fn parts(dir: &Path) -> Vec<(String, Vec<u8>)> {
    datapact_tests::part_files(dir, &["cells", "diagnostics", "rounds", "events"])
}

#[test]
fn an_async_scenario_runs_shards_and_resumes_with_ordered_event_times() {
    let s = scenario(SCENARIO, &[]);
    let tmp = tempfile::tempdir().unwrap();
    let whole = tmp.path().join("whole");
    run(&s, &whole, 2, Shard::WHOLE);
    let expected = parts(&whole);
    assert_eq!(expected.len(), 4 * 3, "3 chunks of 2 cells, 4 tables");

    let sharded = tmp.path().join("sharded");
    for index in [1, 0] {
        run(&s, &sharded, 1, Shard { index, count: 2 });
    }
    assert_eq!(parts(&sharded), expected, "sharded run differs");

    // An interrupted run: one chunk's parts and the manifest lost; --resume recomputes them.
    let resumed = tmp.path().join("resumed");
    run(&s, &resumed, 1, Shard::WHOLE);
    for table in ["cells", "diagnostics", "rounds", "events"] {
        std::fs::remove_file(resumed.join(table).join("part-000001.parquet")).unwrap();
    }
    std::fs::remove_file(resumed.join("manifest.json")).unwrap();
    let opts = datapact_runner::RunOptions {
        threads: 2,
        resume: true,
        ..datapact_runner::RunOptions::new(&resumed)
    };
    datapact_runner::run(&s, &opts).expect("resume succeeds");
    assert_eq!(parts(&resumed), expected, "resumed run differs");

    // Event times: continuous for async, non-decreasing in seq order within every campaign.
    let events = read(&whole, Table::Events);
    let (cell, rep, round) = (
        u32s(&events, "cell"),
        u32s(&events, "rep"),
        u32s(&events, "round"),
    );
    let (mechanism, seq, time) = (
        strings(&events, "mechanism"),
        u32s(&events, "seq"),
        f64s(&events, "time"),
    );
    let mut campaigns: HashMap<Campaign, Vec<(u32, f64)>> = HashMap::new();
    for k in 0..time.len() {
        campaigns
            .entry((cell[k], rep[k], round[k], mechanism[k].as_str()))
            .or_default()
            .push((seq[k], time[k]));
    }
    assert_eq!(campaigns.len(), 6 * 40 * 3);
    for (key, mut evs) in campaigns {
        evs.sort_by_key(|e| e.0);
        assert!(
            evs.windows(2).all(|w| w[0].1 <= w[1].1),
            "campaign {key:?}: times decrease: {evs:?}"
        );
    }
    let fractional = (0..time.len())
        .filter(|&k| mechanism[k] == "async" && time[k].fract() != 0.0)
        .count();
    assert!(fractional > 0, "async events carry continuous times");
}
