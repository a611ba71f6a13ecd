//! A run cancelled while a round is being played: the round skips its remaining phases, so its
//! campaigns are never settled, and the cell must end as cancelled without reading them (it
//! panicked when the flag arrived between the round's start and its training phase: the
//! outcomes were read before the flag was checked).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use datapact_model::Game;
use datapact_sim::{
    Backend, CellJob, Depth, Phase, PhaseSystems, Plugin, PluginSet, RunError, RunSpec, Sink,
    Systems, run_cells,
};

/// The run's cancel flag, set by [`CancelDuringAssign`] as if a signal arrived mid-round.
static FLAG: OnceLock<Arc<AtomicBool>> = OnceLock::new();

fn flag() -> &'static Arc<AtomicBool> {
    FLAG.get_or_init(|| Arc::new(AtomicBool::new(false)))
}

fn cancel_now() {
    flag().store(true, Ordering::Relaxed);
}

/// Sets the cancel flag in the assign phase: the withdraw and train phases of that round are
/// skipped.
struct CancelDuringAssign;

impl Systems for CancelDuringAssign {
    fn systems<S: Sink>(systems: &mut PhaseSystems) {
        systems.add(Phase::Assign, cancel_now);
    }
}

struct CancelPlugin;

impl Plugin for CancelPlugin {
    fn build(&self, app: &mut PluginSet) {
        app.add_systems::<CancelDuringAssign>();
    }
}

#[test]
fn a_round_cancelled_mid_way_ends_the_run_as_cancelled_without_reading_its_outcomes() {
    let mut plugins = PluginSet::core();
    plugins.add_plugin(CancelPlugin);
    let plugins = Arc::new(plugins);
    for depth in [Depth::Cells, Depth::Users, Depth::Events] {
        flag().store(false, Ordering::Relaxed);
        let spec = RunSpec {
            seed: 7,
            replications: 4,
            first_replication: 0,
            mechanisms: vec![0, 1, 2],
            depth,
            backend: Backend::Ecs,
            plugins: plugins.clone(),
            variants: Vec::new(),
            adaptive: None,
        };
        let job = CellJob {
            index: 0,
            game: Game {
                users: 20,
                ..Game::default()
            },
        };
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        let mut delivered = 0;
        let result = run_cells(&[job], &spec, &pool, 1, Some(flag()), |_| {
            delivered += 1;
            Ok::<(), ()>(())
        });
        assert!(
            matches!(result, Err(RunError::Cancelled)),
            "{depth:?}: {:?}",
            result.err().map(|e| matches!(e, RunError::Invariant(_)))
        );
        assert_eq!(delivered, 0, "{depth:?}: a cancelled cell is not delivered");
        assert!(flag().load(Ordering::Relaxed), "the system ran");
    }
}
