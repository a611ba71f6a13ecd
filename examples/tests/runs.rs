//! A scenario mixing core and plugin mechanisms, sweeping a plugin parameter and a plugin
//! strategy's share, runs through the runner like any other: sharded and resumed runs give the
//! whole run's files byte for byte, the outputs name the plugins, and the metric columns exist.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use datapact_runner::{RunOptions, Shard, read_manifest};
use datapact_scenario::Scenario;

use crate::example_pivotal as pivotal;

fn plugins() -> Arc<datapact::PluginSet> {
    let mut set = datapact::PluginSet::core();
    set.add_plugins((
        pivotal::deposit::DepositPlugin,
        pivotal::random_order::RandomOrderPlugin,
        pivotal::PivotalPlugin,
    ));
    Arc::new(set)
}

/// `scenarios/pivotal.toml` under `plugins`' catalog, with `overrides` (`--set` lines).
fn load_pivotal(
    plugins: &datapact::PluginSet,
    overrides: &[String],
) -> Result<Scenario, datapact_scenario::ScenarioError> {
    let catalog = Arc::new(plugins.catalog().clone());
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/pivotal.toml");
    Scenario::load_with(&catalog, &path, overrides)
}

fn scenario(plugins: &datapact::PluginSet) -> Scenario {
    let overrides = [
        "scenario.replications=30",
        "output.trace=rounds",
        "output.chunk_cells=3",
        "sweep.game.value={ values = [0.05, 0.15] }",
        "sweep.mechanism.deposit.amount={ values = [0.0, 0.1] }",
    ]
    .map(String::from);
    load_pivotal(plugins, &overrides).expect("the example scenario loads")
}

fn run(
    scenario: &Scenario,
    plugins: &Arc<datapact::PluginSet>,
    out: &Path,
    shard: Shard,
    resume: bool,
) {
    let opts = RunOptions {
        threads: 2,
        shard,
        resume,
        plugins: plugins.clone(),
        ..RunOptions::new(out)
    };
    datapact_runner::run(scenario, &opts).expect("the run succeeds");
}

/// Every part file under `dir`, relative, with its bytes.
fn parts(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    for table in ["cells", "diagnostics", "rounds"] {
        let mut files: Vec<_> = std::fs::read_dir(dir.join(table))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        for f in files {
            let rel = f.strip_prefix(dir).unwrap().to_path_buf();
            out.push((rel, std::fs::read(&f).unwrap()));
        }
    }
    out
}

#[test]
fn plugin_scenarios_shard_resume_and_record_their_plugins() {
    let plugins = plugins();
    let s = scenario(&plugins);
    assert_eq!(s.mechanism_names(), ["S", "M", "deposit", "random_order"]);
    assert_eq!(s.cell_count(), 5 * 2 * 2);
    let tmp = tempfile::tempdir().unwrap();
    let whole = tmp.path().join("whole");
    run(&s, &plugins, &whole, Shard::WHOLE, false);
    let expected = parts(&whole);
    assert_eq!(expected.len(), 3 * 7, "7 chunks of 3 cells, 3 tables");

    let sharded = tmp.path().join("sharded");
    for index in 0..2 {
        run(&s, &plugins, &sharded, Shard { index, count: 2 }, false);
    }
    assert_eq!(
        parts(&sharded),
        expected,
        "sharded run differs from the whole run"
    );

    // An interrupted run: one chunk's parts and the manifest lost; --resume recomputes them.
    let resumed = tmp.path().join("resumed");
    run(&s, &plugins, &resumed, Shard::WHOLE, false);
    for table in ["cells", "diagnostics", "rounds"] {
        std::fs::remove_file(resumed.join(table).join("part-000004.parquet")).unwrap();
    }
    std::fs::remove_file(resumed.join("manifest.json")).unwrap();
    run(&s, &plugins, &resumed, Shard::WHOLE, true);
    assert_eq!(
        parts(&resumed),
        expected,
        "resumed run differs from the whole run"
    );

    let manifest = read_manifest(&whole).unwrap();
    assert_eq!(manifest.mechanisms, ["S", "M", "deposit", "random_order"]);
    for p in ["deposit 1.0", "random_order 1.0", "pivotal 1.0"] {
        assert!(
            manifest.plugins.iter().any(|x| x == p),
            "{:?}",
            manifest.plugins
        );
    }
    assert_eq!(manifest.metrics, ["forfeited"]);

    // The report draws the run, mechanisms side by side, the plugin metric included.
    let report = tmp.path().join("report");
    let output =
        datapact_report::render_report(&whole, &report, &datapact_report::Reference::default())
            .expect("the run is drawn");
    assert_eq!(output.other_runs, ["pivotal"]);
    let pngs: Vec<String> = std::fs::read_dir(report.join("pivotal"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| n.ends_with(".png"))
        .collect();
    assert!(pngs.len() >= 5, "{pngs:?}");
    assert!(pngs.iter().any(|n| n.contains("forfeited")), "{pngs:?}");
    let metadata = datapact_trace::read_metadata(&whole.join("cells/part-000000.parquet")).unwrap();
    assert!(metadata["datapact.plugins"].contains("deposit 1.0"));

    // The metric's columns: set for deposit's campaigns and cells, null for every other mechanism.
    use datapact_trace::arrow::array::{Array, AsArray};
    use datapact_trace::arrow::datatypes::Float64Type;
    for (table, column) in [
        (datapact_trace::Table::Rounds, "forfeited"),
        (datapact_trace::Table::Cells, "forfeited_mean"),
        (datapact_trace::Table::Cells, "forfeited_se"),
    ] {
        let (mut set, mut null) = (0, 0);
        for batch in datapact_trace::read_table(&whole, table).unwrap() {
            let mechanism = batch
                .column_by_name("mechanism")
                .unwrap()
                .as_string::<i32>();
            let values = batch
                .column_by_name(column)
                .unwrap()
                .as_primitive::<Float64Type>();
            for row in 0..batch.num_rows() {
                if mechanism.value(row) == "deposit" {
                    assert!(values.is_valid(row), "{column} null for deposit");
                    set += 1;
                } else {
                    assert!(
                        values.is_null(row),
                        "{column} set for {}",
                        mechanism.value(row)
                    );
                    null += 1;
                }
            }
        }
        assert!(set > 0 && null > 0, "{column}: {set} set, {null} null");
    }
}

#[test]
fn a_directory_made_with_other_plugins_is_refused() {
    let plugins = plugins();
    let s = scenario(&plugins);
    let tmp = tempfile::tempdir().unwrap();
    run(&s, &plugins, tmp.path(), Shard::WHOLE, false);
    // The same scenario, the same names, but another version of the deposit plugin.
    struct DepositV2;
    impl datapact::Plugin for DepositV2 {
        fn build(&self, app: &mut datapact::PluginSet) {
            pivotal::deposit::DepositPlugin.build(app)
        }
        fn name(&self) -> &str {
            "deposit"
        }
        fn version(&self) -> &str {
            "2.0"
        }
    }
    let mut other = datapact::PluginSet::core();
    other.add_plugins((
        DepositV2,
        pivotal::random_order::RandomOrderPlugin,
        pivotal::PivotalPlugin,
    ));
    let opts = RunOptions {
        resume: true,
        plugins: Arc::new(other),
        ..RunOptions::new(tmp.path())
    };
    let err = datapact_runner::run(&s, &opts).unwrap_err().to_string();
    assert!(
        err.contains("deposit 2.0") && err.contains("deposit 1.0"),
        "{err}"
    );
}

#[test]
fn an_adaptive_rule_on_a_plugin_metric_runs_shards_and_is_recorded() {
    let plugins = plugins();
    let load = |rule: &str| {
        let overrides = [
            format!("scenario.replications={rule}"),
            "output.trace=rounds".into(),
            "output.chunk_cells=2".into(),
            "sweep.game.value={ values = [0.05, 0.15] }".into(),
            "sweep.mechanism.deposit.amount={ values = [0.05, 0.2] }".into(),
        ];
        load_pivotal(&plugins, &overrides)
    };
    let s =
        load("{ target_se = 0.01, metric = \"forfeited_mean\", min = 10, max = 400, batch = 10 }")
            .expect("a plugin metric is a valid target");
    let tmp = tempfile::tempdir().unwrap();
    let (whole, sharded) = (tmp.path().join("whole"), tmp.path().join("sharded"));
    run(&s, &plugins, &whole, Shard::WHOLE, false);
    for index in 0..2 {
        run(&s, &plugins, &sharded, Shard { index, count: 2 }, false);
    }
    assert_eq!(
        parts(&sharded),
        parts(&whole),
        "sharded adaptive run differs"
    );
    let manifest = read_manifest(&whole).unwrap();
    assert_eq!(manifest.adaptive.unwrap().metric, "forfeited_mean");
    // Cells stop at different counts: the rule read the metric, not a fixed count.
    let mut reps = std::collections::BTreeSet::new();
    for batch in datapact_trace::read_table(&whole, datapact_trace::Table::Cells).unwrap() {
        use datapact_trace::arrow::array::AsArray;
        use datapact_trace::arrow::datatypes::UInt32Type;
        let column = batch.column_by_name("reps").unwrap();
        reps.extend(column.as_primitive::<UInt32Type>().values().iter().copied());
    }
    assert!(reps.len() > 1, "every cell played {reps:?}");

    // Unknown names list the plugin's metric; a contrast needs a core metric.
    let unknown = load("{ target_se = 0.01, metric = \"forfeit\", min = 10, max = 400 }")
        .unwrap_err()
        .to_string();
    assert!(unknown.contains("\"forfeited_mean\""), "{unknown}");
    let contrasted = load(
        "{ target_se = 0.01, metric = \"forfeited_mean\", min = 10, max = 400, contrast = \"M-S\" }",
    )
    .unwrap_err()
    .to_string();
    assert!(
        contrasted.contains("has no paired contrast"),
        "{contrasted}"
    );
}

/// A plugin strategy is a value of a swept strategy name: its parameter (`prior`) is read beside
/// `strategy`, its cells are the games of the strategy fixed in the table, and the run labels
/// them.
#[test]
fn a_plugin_strategy_is_swept_by_name() {
    let plugins = plugins();
    let common = [
        "scenario.replications=10",
        "population.withdraw.prior=0.3",
        "sweep.game.value={ values = [0.1] }",
        "sweep.population.withdraw.share={ values = [0.5] }",
    ];
    let load = |extra: &[&str]| {
        let overrides: Vec<String> = common.iter().chain(extra).map(|s| s.to_string()).collect();
        load_pivotal(&plugins, &overrides).expect("the example scenario loads")
    };
    let swept = load(&[
        "sweep.population.withdraw.strategy={ values = [\"sincere\", \"pivotal\", \"free-rider\"] }",
    ]);
    let axis = swept
        .sweep
        .iter()
        .find(|a| a.column == "withdraw_strategy")
        .unwrap();
    assert_eq!(axis.labels(), ["sincere", "pivotal", "free-rider"]);
    assert_eq!(swept.cell_count(), 3);
    let fixed = load(&[]);
    assert_eq!(fixed.cell_count(), 1);
    assert_eq!(swept.cell(1).game, fixed.cell(0).game);
    assert_eq!(swept.cell(1).game.population.withdraw.params.0, [0.3]);
    let free_rider = load(&["population.withdraw.strategy=\"free-rider\""]);
    assert_eq!(swept.cell(2).game, free_rider.cell(0).game);

    let tmp = tempfile::tempdir().unwrap();
    run(&swept, &plugins, tmp.path(), Shard::WHOLE, false);
    let manifest = read_manifest(tmp.path()).unwrap();
    assert_eq!(
        manifest.categories["withdraw_strategy"],
        ["sincere", "pivotal", "free-rider"]
    );
}

#[test]
fn a_run_lists_only_the_plugins_it_uses() {
    let version = env!("CARGO_PKG_VERSION");
    let core = Arc::new(datapact::PluginSet::core());
    let mut extended = datapact::PluginSet::core();
    extended.add_plugins((
        pivotal::random_order::RandomOrderPlugin,
        pivotal::PivotalPlugin,
    ));
    let extended = Arc::new(extended);
    let load = |plugins: &datapact::PluginSet, text: &str| {
        let catalog = Arc::new(plugins.catalog().clone());
        Scenario::from_str_with(&catalog, text, "<test>", &[]).expect("the scenario loads")
    };
    let s_and_m =
        "mechanisms = [\"S\", \"M\"]\n[scenario]\nname = \"sm\"\nseed = 7\nreplications = 20\n";
    let tmp = tempfile::tempdir().unwrap();
    let (with_core, with_more) = (tmp.path().join("core"), tmp.path().join("more"));
    run(
        &load(&core, s_and_m),
        &core,
        &with_core,
        Shard::WHOLE,
        false,
    );
    run(
        &load(&extended, s_and_m),
        &extended,
        &with_more,
        Shard::WHOLE,
        false,
    );
    // The plugins S and M come from, and the core strategies their users hold; not C, async,
    // random_order or pivotal, which the app has and the run does not use.
    let expected: Vec<String> = [
        "datapact-core",
        "datapact-core/strategies",
        "datapact-core/S",
        "datapact-core/M",
    ]
    .iter()
    .map(|p| format!("{p} {version}"))
    .collect();
    assert_eq!(read_manifest(&with_core).unwrap().plugins, expected);
    // So an app with more plugins writes the same run, file for file.
    assert_eq!(read_manifest(&with_more).unwrap().plugins, expected);
    let parts = |dir: &Path| {
        let mut files: Vec<_> = std::fs::read_dir(dir.join("cells"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        files
            .iter()
            .map(|f| std::fs::read(f).unwrap())
            .collect::<Vec<_>>()
    };
    assert_eq!(parts(&with_core), parts(&with_more));

    // A strategy the scenario names brings its plugin, and a mechanism its plugin.
    let named = concat!(
        "mechanisms = [\"M\", \"random_order\"]\n[scenario]\nname = \"named\"\nseed = 7\nreplications = 20\n",
        "[population.withdraw]\nstrategy = \"pivotal\"\nshare = 0.5\n"
    );
    let dir = tmp.path().join("named");
    run(
        &load(&extended, named),
        &extended,
        &dir,
        Shard::WHOLE,
        false,
    );
    let listed = read_manifest(&dir).unwrap().plugins;
    let expected: Vec<String> = [
        format!("datapact-core {version}"),
        format!("datapact-core/strategies {version}"),
        format!("datapact-core/M {version}"),
        "random_order 1.0".into(),
        "pivotal 1.0".into(),
    ]
    .into();
    assert_eq!(listed, expected);
}
