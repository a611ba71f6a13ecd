//! The golden test: the values (not the bytes) of a few small fixed runs are committed in
//! `tests/golden/`, and the scenario hashes of the 14 embedded scenarios are pinned below. Any change that moves one number
//! fails here until the golden files are updated in the same commit, with the reason in its
//! message:
//!
//! ```sh
//! DATAPACT_BLESS=1 cargo test -p datapact-tests --test golden   # rewrite tests/golden/*
//! ```
//!
//! The runs cover the core mechanisms C, S and M, `async`, adaptive replications, a categorical
//! axis, repeated games with dynamics and strategies, and every trace level (`cells`, `rounds`,
//! `users`, `events`), each small enough to run in a second. Values are compared as Arrow
//! formats them (floats in their shortest round-trip form, so equal text means equal bits;
//! NaN as `NaN`): exact equality, since every output is bit-reproducible.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use datapact_runner::Shard;
use datapact_tests::*;

/// The golden runs: a name and the scenario text.
const RUNS: &[(&str, &str)] = &[
    (
        "cells_adaptive_categorical",
        r#"
mechanisms = ["C", "S", "M"]
[scenario]
name = "golden_cells"
seed = 11
replications = { target_se = 0.08, metric = "success_rate", min = 12, max = 60 }
[population]
users = 8
[game]
obs_noise = 0.05
payment = 0.05
[sweep]
game.value = { values = [0.05, 0.2] }
population.cost.dist = { values = [{ dist = "uniform", low = 0.0, high = 1.0 }, { dist = "beta", alpha = 2.0, beta = 5.0 }] }
[output]
trace = "cells"
"#,
    ),
    (
        "rounds_dynamics_strategies",
        r#"
mechanisms = ["C", "S", "M"]
[scenario]
name = "golden_rounds"
seed = 12
replications = 6
[population]
users = 6
cost = { dist = "lognormal", mu = -1.0, sigma = 0.5 }
[population.report]
strategy = "shade"
share = 0.5
[population.withdraw]
strategy = "free-rider"
share = 0.3
[game]
value = 0.15
payment = 0.1
irreversible = 0.3
order = "large-first"
[dynamics]
rounds = 3
cost_process = "ar1"
persistence = 0.4
learning = "adaptive"
learning_rate = 0.3
[sweep]
game.drift = { values = [0.0, 0.5] }
[output]
trace = "rounds"
contrasts = ["M-S", "S-C"]
"#,
    ),
    (
        "users_recovery_async",
        r#"
mechanisms = ["S", "M", "async"]
[scenario]
name = "golden_users"
seed = 13
replications = 4
[population]
users = 5
[game]
value = 0.1
payment = 0.08
recovery_rounds = 1
order = "random"
[output]
trace = "users"
"#,
    ),
    (
        "events_all_core",
        r#"
mechanisms = ["C", "S", "M", "async"]
[scenario]
name = "golden_events"
seed = 14
replications = 3
[population]
users = 5
[game]
value = 0.12
payment = 0.06
belief = 0.3
[output]
trace = "events"
"#,
    ),
];

/// The embedded scenarios (`scenarios/` as `datapact` embeds them; a test of the CLI keeps the two
/// equal) and the SHA-256 of their canonical text. Pinned here, not in a blessable file: a
/// change of hash would make every existing run of them look foreign to `--resume`, `verify`
/// and the report's paper matching, so no refactoring may move one.
const EMBEDDED_HASHES: &[(&str, &str)] = &[
    (
        "baseline",
        "6be034f77cdbc8ce3edc365db4cd459695f495119f82e04257f0664cd6a942ef",
    ),
    (
        "paper/f1_success_m",
        "e5f389cee81f9b37251c5e7eb4fe61d052abd3cc0a6093f36f408985aca47cf2",
    ),
    (
        "paper/f2_success_c",
        "14e5f5f9d50930ed8dbca15fb695602c965a3086cf7ade1f89bcc989d79048ca",
    ),
    (
        "paper/f3_welfare",
        "c78238cfc8054de6aa472e8ebdbb4464fdf98ab29b7fd3075a16fe1d4d6a3156",
    ),
    (
        "paper/f4_beta25",
        "f5b52c94a2e97dc8063d15f10484fbdaf60352b71696d94c952046bdda983102",
    ),
    (
        "paper/f5_beta52",
        "dab4b214030a75e9bee0c568715dd9b1105da3fe50ec1264da616d7bf3da07f4",
    ),
    (
        "paper/f6_obs_noise",
        "d52d1faf41ecc24dfbbf4f338d8c3e637ad8da58b8a0439ac37a007f04ad89a5",
    ),
    (
        "paper/f7_cost_efficiency",
        "3415cff73f52e0ade737e4c334edde33ee83868ff8f45be383d08d7fda878c96",
    ),
    (
        "paper/f8_pareto",
        "b1fe95b2967551f2b25970cdbe326b064c8ad6868c492de655ce6ff95b50082b",
    ),
    (
        "paper/f9_leakage",
        "824e0125a46570e3519b92ea34301678266a24921ff566b1474c31ac6516d49a",
    ),
    (
        "paper/claims_nulls",
        "3d85b8b12ae43dbef746a9ade3ed149d29224557d463de22c632b5172171559b",
    ),
    (
        "paper/f10_free_riders",
        "ebb6021512a45695396b52b56e52e4928963b7a798f7c869a83a98942f7df420",
    ),
    (
        "paper/f11_scaling",
        "fd71a1b5961a6e76c9fe2b06d791844eb50c7052bae298eb8b7dd001303b055f",
    ),
    (
        "paper/f11_scaling_large",
        "c030772d4a8da07fac22f5046f842cb14dac33fc51d3fb372c38ecb0dfcc17a4",
    ),
];

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("golden")
}

fn blessing() -> bool {
    std::env::var_os("DATAPACT_BLESS").is_some_and(|v| v != "0")
}

/// Compares `found` with the committed `file`, or rewrites it under `DATAPACT_BLESS=1`.
fn check(file: &str, found: &str) {
    let path = golden_dir().join(file);
    if blessing() {
        std::fs::create_dir_all(golden_dir()).unwrap();
        std::fs::write(&path, found).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; create it with DATAPACT_BLESS=1 cargo test -p datapact-tests --test golden",
            path.display()
        )
    });
    if expected == found {
        return;
    }
    let (mut section, mut differences, mut shown) = (String::new(), 0usize, String::new());
    let (e, f): (Vec<&str>, Vec<&str>) = (expected.lines().collect(), found.lines().collect());
    for i in 0..e.len().max(f.len()) {
        let (a, b) = (e.get(i).copied(), f.get(i).copied());
        if let Some(s) = b.filter(|l| l.starts_with('#')) {
            section = s.to_string();
        }
        if a != b {
            differences += 1;
            if differences <= 8 {
                let _ = writeln!(
                    shown,
                    "  line {} (under {section:?}):\n    golden: {}\n    now:    {}",
                    i + 1,
                    a.unwrap_or("<none>"),
                    b.unwrap_or("<none>")
                );
            }
        }
    }
    panic!(
        "{}: {differences} line(s) differ from the committed values:\n{shown}\
         If the change is intended, update the file in the same commit and say why in its \
         message:\n  DATAPACT_BLESS=1 cargo test -p datapact-tests --test golden",
        path.display()
    );
}

/// Every table of a finished run as text: per table a header line, the column names, then one
/// tab-separated line per row.
fn values(dir: &Path) -> String {
    let manifest = datapact_runner::read_manifest(dir).expect("the run finished");
    let mut out = format!("## scenario_hash {}\n", manifest.scenario_hash);
    for table in datapact_trace::Table::ALL {
        if !dir.join(table.dir_name()).is_dir() {
            continue;
        }
        let batches = read(dir, table);
        let names: Vec<String> = batches
            .first()
            .map(|b| {
                b.schema()
                    .fields()
                    .iter()
                    .map(|f| f.name().clone())
                    .collect()
            })
            .unwrap_or_default();
        let rows = rows(&batches, &[]);
        let _ = writeln!(out, "## table {} ({} rows)", table.dir_name(), rows.len());
        out.push_str(&names.join("\t"));
        out.push('\n');
        for row in rows {
            let line: Vec<String> = row.into_iter().map(|(_, v)| v).collect();
            out.push_str(&line.join("\t"));
            out.push('\n');
        }
    }
    out
}

#[test]
fn small_runs_keep_their_values() {
    for (name, text) in RUNS {
        let dir = tempfile::tempdir().unwrap();
        run(&scenario(text, &[]), dir.path(), 1, Shard::WHOLE);
        let found = format!("# run {name}\n{}", values(dir.path()));
        check(&format!("{name}.tsv"), &found);
    }
}

#[test]
fn embedded_scenarios_keep_their_hashes() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios");
    let moved: Vec<String> = EMBEDDED_HASHES
        .iter()
        .filter_map(|(name, pinned)| {
            let text = std::fs::read_to_string(root.join(format!("{name}.toml"))).unwrap();
            let hash = scenario(&text, &[]).hash();
            (hash != *pinned).then(|| format!("{name}: {hash}, pinned {pinned}"))
        })
        .collect();
    assert!(
        moved.is_empty(),
        "canonical hashes moved:\n{}",
        moved.join("\n")
    );
}
