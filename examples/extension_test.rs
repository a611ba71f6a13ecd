//! The extension example really extends the simulator: with no deadline and nobody stubborn it
//! reproduces the core large-first M protocol exactly; with a deadline of 0 nobody withdraws; and
//! its outputs go through the runner, the Parquet traces and the report's loader.

#[path = "large_first_deadline.rs"]
mod example;

use datapact_model::{Game, Mechanism, Order};
use datapact_sim::{Backend, CellJob, Depth, Extension, RunSpec, run_cell};

const NO_DEADLINE: Extension = Extension {
    name: "large-first-no-deadline",
    systems: example::add_systems,
    setup: |w| {
        example::setup(
            w,
            example::Deadline {
                deadline: usize::MAX,
                stubborn_every: 0,
            },
        )
    },
};

const DEADLINE_ZERO: Extension = Extension {
    name: "large-first-deadline-zero",
    systems: example::add_systems,
    setup: |w| {
        example::setup(
            w,
            example::Deadline {
                deadline: 0,
                stubborn_every: 0,
            },
        )
    },
};

fn spec(extension: Option<Extension>) -> RunSpec {
    RunSpec {
        seed: 11,
        replications: 200,
        mechanisms: vec![Mechanism::C, Mechanism::S, Mechanism::M],
        depth: Depth::Rounds,
        backend: Backend::Ecs,
        extension,
    }
}

#[test]
fn without_a_deadline_it_is_the_core_large_first_protocol() {
    let game = Game {
        value: 0.2,
        payment: 0.1,
        ..Game::default()
    };
    let core = run_cell(
        &CellJob {
            index: 3,
            game: Game {
                order: Order::LargeFirst,
                ..game.clone()
            },
        },
        &spec(None),
    )
    .unwrap();
    let extended = run_cell(&CellJob { index: 3, game }, &spec(Some(NO_DEADLINE))).unwrap();
    assert!(
        core.rounds
            .iter()
            .any(|r| r.mechanism == Mechanism::M && r.outcome.withdrawals > 0),
        "the comparison needs withdrawals"
    );
    assert_eq!(core, extended);
}

#[test]
fn a_deadline_of_zero_binds_everyone() {
    let game = Game {
        value: 0.2,
        payment: 0.1,
        ..Game::default()
    };
    let o = run_cell(&CellJob { index: 3, game }, &spec(Some(DEADLINE_ZERO))).unwrap();
    let m: Vec<_> = o
        .rounds
        .iter()
        .filter(|r| r.mechanism == Mechanism::M)
        .collect();
    assert_eq!(m.len(), 200);
    assert!(m.iter().all(|r| r.outcome.withdrawals == 0));
    // S is untouched by the extension and still sees withdrawals.
    assert!(
        o.rounds
            .iter()
            .any(|r| r.mechanism == Mechanism::S && r.outcome.withdrawals > 0)
    );
}

#[test]
fn outputs_go_through_runner_traces_and_report() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = datapact_scenario::Scenario::from_str(
        "[scenario]\nname = \"deadline\"\nseed = 7\nreplications = 30\n[sweep]\ngame.value = { from = 0.0, to = 0.3, steps = 4 }\n",
        "<test>",
        &[],
    )
    .unwrap();
    let options = datapact_runner::RunOptions {
        out: dir.path().join("deadline"),
        threads: 2,
        shard: datapact_runner::Shard::WHOLE,
        resume: false,
        progress: false,
        backend: Backend::Ecs,
        cancel: None,
        extension: Some(example::EXTENSION),
    };
    datapact_runner::run(&scenario, &options).unwrap();
    let part = dir.path().join("deadline/cells/part-000000.parquet");
    let meta = datapact_trace::read_metadata(&part).unwrap();
    assert_eq!(
        meta.get("datapact.extension").map(String::as_str),
        Some("large-first-deadline")
    );
    let run = datapact_report::tables::load_run(&dir.path().join("deadline"), &[]).unwrap();
    assert_eq!(run.cells.rows.len(), 4 * 3);
    // Without the extension, the same directory is refused: outputs never mix.
    let plain = datapact_runner::RunOptions {
        extension: None,
        ..options
    };
    assert!(datapact_runner::run(&scenario, &plain).is_err());
}
