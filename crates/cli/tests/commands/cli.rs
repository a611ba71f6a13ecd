//! The command line as a user meets it: exit codes, messages that name the problem, outputs
//! that do not depend on the thread count, and no output at all when the input is bad.

use crate::support::{run as datapact, text, write};
use std::path::{Path, PathBuf};
use std::process::Command;

const SMALL: &str = r#"
mechanisms = ["C", "S", "M"]
[scenario]
name = "small"
seed = 11
replications = 40
[population]
users = 12
[game]
recovery_rounds = 1
[sweep]
game.value = { from = 0.05, to = 0.3, steps = 3 }
game.payment = { values = [0.0, 0.2] }
[output]
trace = "events"
"#;

/// Replaces the first line starting with `key =` in `SMALL` (or appends under `table`).
fn variant(key: &str, value: &str) -> String {
    let mut lines: Vec<String> = SMALL.lines().map(String::from).collect();
    if let Some(l) = lines
        .iter_mut()
        .find(|l| l.trim_start().starts_with(&format!("{key} =")))
    {
        *l = format!("{key} = {value}");
        return lines.join("\n");
    }
    let table = if ["users", "cost"].contains(&key) {
        "[population]"
    } else {
        "[game]"
    };
    let at = lines.iter().position(|l| l == table).unwrap();
    lines.insert(at + 1, format!("{key} = {value}"));
    lines.join("\n")
}

#[test]
fn invalid_inputs_exit_2_and_name_the_key_before_any_output() {
    let dir = tempfile::tempdir().unwrap();
    let cases: Vec<(String, &str)> = vec![
        (variant("users", "0"), "users"),
        (variant("threshold", "1.5"), "threshold"),
        (variant("threshold", "0.0"), "threshold"),
        (variant("value", "-0.1"), "value"),
        (variant("payment", "-1"), "payment"),
        (variant("obs_noise", "-0.5"), "obs_noise"),
        (variant("drift", "nan"), "drift"),
        (variant("irreversible", "inf"), "irreversible"),
        (
            variant("game.value", "{ from = 0.0, to = 0.3, steps = 0 }"),
            "steps",
        ),
        (
            variant("cost", r#"{ dist = "beta", alpha = 0.0, beta = 2.0 }"#),
            "alpha",
        ),
        (variant("cost", r#"{ dist = "gamma", k = 1.0 }"#), "dist"),
        (variant("treshold", "0.5"), "treshold"),
        (variant("users", "\"twenty\""), "users"),
        (variant("recovery_rounds", "1.5"), "recovery_rounds"),
        (variant("order", "\"middle-first\""), "order"),
        (variant("replications", "0"), "replications"),
    ];
    for (i, (body, key)) in cases.iter().enumerate() {
        let file = write(dir.path(), &format!("bad{i}.toml"), body);
        let out = dir.path().join(format!("out{i}"));
        let o = datapact(&[
            "run",
            file.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "-q",
        ]);
        let msg = text(&o);
        assert_eq!(o.status.code(), Some(2), "case {key}: {msg}");
        assert!(
            msg.contains(key),
            "case {key}: message does not name the key: {msg}"
        );
        assert!(
            msg.contains(&format!("bad{i}.toml")),
            "case {key}: message does not name the file: {msg}"
        );
        assert!(!msg.contains("panicked"), "case {key}: {msg}");
        assert!(!out.exists(), "case {key}: output written for bad input");
    }
}

#[test]
fn bad_arguments_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "ok.toml", SMALL);
    let f = file.to_str().unwrap();
    for (args, needle) in [
        (vec!["run", f, "--threads", "0"], "--threads"),
        (vec!["run", f, "--shard", "3/2"], "--shard"),
        (vec!["run", f, "--set", "game.threshold=2"], "threshold"),
        (vec!["run", f, "--set", "game.nonsense=1"], "nonsense"),
        (vec!["run", "does-not-exist.toml"], "does-not-exist.toml"),
    ] {
        let o = datapact(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o));
        assert!(text(&o).contains(needle), "{args:?}: {}", text(&o));
    }
}

fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for table in ["cells", "diagnostics", "rounds", "users", "events"] {
        let Ok(entries) = std::fs::read_dir(dir.join(table)) else {
            continue;
        };
        for e in entries {
            let p = e.unwrap().path();
            out.push((
                format!("{table}/{}", p.file_name().unwrap().to_string_lossy()),
                std::fs::read(&p).unwrap(),
            ));
        }
    }
    out.sort();
    out.push((
        "manifest.json".into(),
        std::fs::read(dir.join("manifest.json")).unwrap(),
    ));
    out
}

#[test]
fn output_is_identical_for_one_and_two_threads() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "small.toml", SMALL);
    let mut outputs = Vec::new();
    for threads in ["1", "2"] {
        let out = dir.path().join(format!("t{threads}"));
        let o = datapact(&[
            "run",
            file.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--threads",
            threads,
            "-q",
        ]);
        assert!(o.status.success(), "{}", text(&o));
        outputs.push(files(&out));
    }
    assert!(
        outputs[0].iter().any(|(n, _)| n.starts_with("events/")),
        "events were traced"
    );
    assert_eq!(outputs[0].len(), outputs[1].len());
    for (a, b) in outputs[0].iter().zip(&outputs[1]) {
        assert_eq!(a.0, b.0);
        assert!(a.1 == b.1, "{} differs between 1 and 2 threads", a.0);
    }
}

/// The shards of a Slurm array start at the same moment and share `_run.json` and
/// `manifest.json`; every one must succeed, and together they must write the single run's parts.
#[test]
fn shards_started_together_into_one_directory_all_succeed() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "small.toml", SMALL);
    let f = file.to_str().unwrap();
    // One chunk per cell (6 chunks over 7 shards): all shards but one have work, so they also
    // finish together and race on manifest.json.
    let chunks = ["--set", "output.chunk_cells=1"];
    let one = dir.path().join("one");
    let o = datapact(
        &[
            &["run", f, "--out", one.to_str().unwrap(), "-q"][..],
            &chunks,
        ]
        .concat(),
    );
    assert!(o.status.success(), "{}", text(&o));
    let parts = |d: &Path| -> Vec<(String, Vec<u8>)> {
        files(d)
            .into_iter()
            .filter(|(n, _)| n != "manifest.json")
            .collect()
    };
    let single = parts(&one);
    // cells, diagnostics, contrasts, users and events.
    assert_eq!(single.len(), 6 * 5, "one part per chunk and table");
    const SHARDS: usize = 7;
    for attempt in 0..8 {
        let many = dir.path().join(format!("many-{attempt}"));
        let children: Vec<_> = (0..SHARDS)
            .map(|i| {
                Command::new(env!("CARGO_BIN_EXE_datapact"))
                    .args([
                        "run",
                        f,
                        "--out",
                        many.to_str().unwrap(),
                        "-q",
                        "--threads",
                        "1",
                    ])
                    .args(["--shard", &format!("{i}/{SHARDS}")])
                    .args(chunks)
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for (i, child) in children.into_iter().enumerate() {
            let o = child.wait_with_output().unwrap();
            assert!(
                o.status.success(),
                "attempt {attempt}, shard {i}: {}",
                text(&o)
            );
        }
        let status = datapact(&["status", many.to_str().unwrap()]);
        assert!(
            status.status.success(),
            "attempt {attempt}: {}",
            text(&status)
        );
        assert!(
            single == parts(&many),
            "attempt {attempt}: parts differ from the single run"
        );
        let leftovers: Vec<_> = std::fs::read_dir(&many)
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with('.'))
            .collect();
        assert!(
            leftovers.is_empty(),
            "attempt {attempt}: temporaries left: {leftovers:?}"
        );
    }
}

#[test]
fn refuses_a_directory_of_another_scenario() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "small.toml", SMALL);
    let out = dir.path().join("out");
    let (f, o) = (file.to_str().unwrap(), out.to_str().unwrap());
    assert!(datapact(&["run", f, "--out", o, "-q"]).status.success());
    let other = datapact(&["run", f, "--out", o, "-q", "--set", "scenario.seed=12"]);
    assert_eq!(other.status.code(), Some(2), "{}", text(&other));
    assert!(
        text(&other).contains("another --out directory") || text(&other).contains("not of"),
        "{}",
        text(&other)
    );
}

#[test]
fn validate_schema_and_summary() {
    let v = datapact(&["validate", "baseline"]);
    assert!(v.status.success(), "{}", text(&v));
    assert!(text(&v).contains("961"), "{}", text(&v));
    let s = datapact(&["schema"]);
    let t = text(&s);
    for column in [
        "success_rate",
        "pc_gap_mean",
        "withdrawals",
        "burden",
        "pareto_compensation",
    ] {
        assert!(t.contains(column), "schema lacks {column}");
    }
    // A network's columns are listed, saying they come only with a network.
    for column in ["degree", "cascade_mean", "trigger"] {
        assert!(
            t.lines()
                .any(|l| l.trim_start().starts_with(&format!("{column} "))
                    && l.contains("Network runs only")),
            "schema lacks the marked network column {column}:\n{t}"
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "small.toml", SMALL);
    let out = dir.path().join("out");
    let r = datapact(&[
        "run",
        file.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "-q",
    ]);
    let t = text(&r);
    for m in ["C ", "S ", "M "] {
        assert!(
            t.lines().any(|l| l.starts_with(m)),
            "summary lacks mechanism {m}: {t}"
        );
    }
    assert!(t.contains("success rate") && t.contains("leakage"), "{t}");
}

#[test]
fn plugins_lists_the_core_declarations_with_their_parameters() {
    let o = datapact(&["plugins"]);
    assert!(o.status.success(), "{}", text(&o));
    let out = text(&o);
    for expected in [
        "datapact-core",
        "C ",
        "S ",
        "M ",
        "truthful",
        "(default)",
        "population.report.factor",
        "(-1, inf)",
        "free-rider",
    ] {
        assert!(out.contains(expected), "missing {expected:?} in:\n{out}");
    }
}

#[test]
fn an_unknown_mechanism_lists_the_registered_ones() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(
        dir.path(),
        "x.toml",
        "mechanisms = [\"deposit\"]\n[scenario]\nname = \"x\"\nseed = 1\nreplications = 1\n",
    );
    let o = datapact(&["validate", f.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let out = text(&o);
    assert!(
        out.contains("x.toml:1") && out.contains("\"C\", \"S\", \"M\""),
        "{out}"
    );
}

/// Every row of `dir`'s `table` as `column=value` strings (Arrow's formatting: floats in their
/// shortest round-trip form), leaving out `cell` (the index in the run's own grid).
fn table_rows(dir: &Path, table: datapact_trace::Table) -> Vec<Vec<String>> {
    use datapact_trace::arrow::util::display::{ArrayFormatter, FormatOptions};
    let options = FormatOptions::default().with_null("null");
    let mut rows = Vec::new();
    for b in datapact_trace::read_table(dir, table).expect("table reads back") {
        let schema = b.schema();
        let columns: Vec<(String, ArrayFormatter)> = schema
            .fields()
            .iter()
            .zip(b.columns())
            .filter(|(f, _)| f.name() != "cell")
            .map(|(f, a)| {
                let formatter = ArrayFormatter::try_new(a.as_ref(), &options).unwrap();
                (f.name().clone(), formatter)
            })
            .collect();
        for i in 0..b.num_rows() {
            rows.push(
                columns
                    .iter()
                    .map(|(n, f)| format!("{n}={}", f.value(i)))
                    .collect(),
            );
        }
    }
    rows
}

fn has(row: &[String], cell: &str) -> bool {
    row.iter().any(|c| c == cell)
}

/// `--only` reproduces one cell of the full run, and `--rep` one replication of it, row for
/// row in every table (events included).
#[test]
fn only_and_rep_reproduce_a_cell_of_the_full_run() {
    use datapact_trace::Table;
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "small.toml", SMALL);
    let f = file.to_str().unwrap();
    let full = dir.path().join("full");
    let o = datapact(&["run", f, "--out", full.to_str().unwrap(), "-q"]);
    assert!(o.status.success(), "{}", text(&o));
    let one = dir.path().join("one");
    let only = "game.value=0.05,game.payment=0.2";
    let o = datapact(&[
        "run",
        f,
        "--out",
        one.to_str().unwrap(),
        "-q",
        "--only",
        only,
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let point = |r: &[String]| has(r, "value=0.05") && has(r, "payment=0.2");
    for table in [
        Table::Cells,
        Table::Diagnostics,
        Table::Rounds,
        Table::Users,
        Table::Events,
    ] {
        let expected: Vec<_> = table_rows(&full, table)
            .into_iter()
            .filter(|r| point(r))
            .collect();
        assert!(!expected.is_empty(), "{table:?}");
        assert_eq!(table_rows(&one, table), expected, "{table:?}");
    }
    let rep = dir.path().join("rep");
    let o = datapact(&[
        "run",
        f,
        "--out",
        rep.to_str().unwrap(),
        "-q",
        "--only",
        only,
        "--rep",
        "7",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    for table in [Table::Rounds, Table::Users, Table::Events] {
        let expected: Vec<_> = table_rows(&full, table)
            .into_iter()
            .filter(|r| point(r) && has(r, "rep=7"))
            .collect();
        assert!(!expected.is_empty(), "{table:?}");
        assert_eq!(table_rows(&rep, table), expected, "{table:?} --rep 7");
    }
}

#[test]
fn only_and_rep_name_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "small.toml", SMALL);
    let f = file.to_str().unwrap();
    let out = dir.path().join("out");
    let o_ = out.to_str().unwrap();
    for (args, needle) in [
        (vec!["--only", "game.drift=0.5"], "not swept"),
        (
            vec!["--only", "game.payment=0.1"],
            "game.payment takes 0, 0.2",
        ),
        (vec!["--only", "game.value"], "KEY=VALUE"),
        (vec!["--rep", "40"], "0..39"),
    ] {
        let o = datapact(&[&["run", f, "--out", o_, "-q"][..], &args[..]].concat());
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o));
        assert!(text(&o).contains(needle), "{args:?}: {}", text(&o));
        assert!(!out.join("cells").exists(), "{args:?}: nothing written");
    }
}

#[test]
fn a_shard_without_work_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "small.toml", SMALL);
    let f = file.to_str().unwrap();
    let out = dir.path().join("out");
    // 6 cells: 6 chunks, so shard 6 of 7 has none.
    let o = datapact(&[
        "run",
        f,
        "--out",
        out.to_str().unwrap(),
        "-q",
        "--shard",
        "6/7",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("has no work"), "{}", text(&o));
    let o = datapact(&["validate", f]);
    assert!(text(&o).contains("chunks       6"), "{}", text(&o));
}

/// A swept strategy name: `validate` lists its labels, share and parameters; `--only` selects a
/// strategy by its label and reproduces those cells of the full run; a wrong label or a report
/// strategy nobody would hold exits 2 naming the allowed values.
#[test]
fn strategy_axes_validate_and_select_by_label() {
    use datapact_trace::Table;
    let dir = tempfile::tempdir().unwrap();
    let body = SMALL
        .replace("trace = \"events\"", "trace = \"rounds\"")
        .replace(
            "[sweep]\n",
            "[population.report]\nshare = 0.5\nfactor = -0.3\n[sweep]\n\
         population.withdraw.strategy = { values = [\"sincere\", \"free-rider\"] }\n\
         population.report.strategy = { values = [\"truthful\", \"shade\"] }\n",
        );
    let file = write(dir.path(), "strategies.toml", &body);
    let f = file.to_str().unwrap();
    let o = datapact(&["validate", f]);
    assert!(o.status.success(), "{}", text(&o));
    let out = text(&o);
    assert!(
        out.contains(
            "population.withdraw.strategy -> column `withdraw_strategy` (Utf8): 2 categories: sincere, free-rider"
        ) && out.contains("report_strategy` (Utf8): 2 categories: truthful, shade")
            && out.contains("share 0.5; shade: factor = -0.3")
            && out.contains("cells        24"),
        "{out}"
    );

    let full = dir.path().join("full");
    let o = datapact(&["run", f, "--out", full.to_str().unwrap(), "-q"]);
    assert!(o.status.success(), "{}", text(&o));
    let one = dir.path().join("one");
    let o = datapact(&[
        "run",
        f,
        "--out",
        one.to_str().unwrap(),
        "-q",
        "--only",
        "population.withdraw.strategy=free-rider,population.report.strategy=shade",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    for table in [Table::Cells, Table::Rounds] {
        let expected: Vec<_> = table_rows(&full, table)
            .into_iter()
            .filter(|r| has(r, "withdraw_strategy=free-rider") && has(r, "report_strategy=shade"))
            .collect();
        assert_eq!(expected.len(), table_rows(&full, table).len() / 4);
        assert_eq!(table_rows(&one, table), expected, "{table:?}");
    }

    let out = dir.path().join("bad");
    let o = datapact(&[
        "run",
        f,
        "--out",
        out.to_str().unwrap(),
        "-q",
        "--only",
        "population.withdraw.strategy=lazy",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("population.withdraw.strategy takes sincere, free-rider"),
        "{}",
        text(&o)
    );
    assert!(!out.join("cells").exists());
    let zero = write(dir.path(), "zero.toml", &body.replace("share = 0.5\n", ""));
    let o = datapact(&["validate", zero.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("zero.toml:")
            && text(&o).contains("population.report.strategy is swept")
            && text(&o).contains("no user would hold \"shade\""),
        "{}",
        text(&o)
    );
}

// `datapact new`: the crate it writes is the tutorial's (docs/extending.md part 1) and points at
// this checkout; bad input writes nothing and exits with code 2. (CI builds and tests the
// written crate: `.ci/run`, "datapact new".)

/// The checkout these tests run in.
fn checkout_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// Every entry under `dir`, relative, sorted (hidden ones included).
fn tree(dir: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            out.push(p.strip_prefix(root).unwrap().display().to_string());
            if p.is_dir() {
                walk(root, &p, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

#[test]
fn new_writes_the_tutorials_crate_depending_on_this_checkout() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("my-deposit");
    let o = datapact(&["new", path.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("cargo test"), "{}", text(&o));
    assert_eq!(
        tree(tmp.path()),
        [
            "my-deposit",
            "my-deposit/.gitignore",
            "my-deposit/Cargo.lock",
            "my-deposit/Cargo.toml",
            "my-deposit/scenario.toml",
            "my-deposit/src",
            "my-deposit/src/main.rs",
        ],
        "the crate's files, and no temporary left beside it"
    );
    let root = checkout_root();
    let manifest: toml::Table =
        toml::from_str(&std::fs::read_to_string(path.join("Cargo.toml")).unwrap()).unwrap();
    assert_eq!(manifest["package"]["name"].as_str(), Some("my-deposit"));
    let dep = manifest["dependencies"]["datapact"]["path"]
        .as_str()
        .unwrap();
    assert_eq!(Path::new(dep), root.join("crates/cli"));
    assert_eq!(
        std::fs::read(path.join("Cargo.lock")).unwrap(),
        std::fs::read(root.join("Cargo.lock")).unwrap(),
        "the checkout's lock file pins the random streams"
    );
    // src/main.rs is part 1's Rust blocks, in order: each one where the previous ended.
    let doc = std::fs::read_to_string(root.join("docs/extending.md")).unwrap();
    let part1 = doc.split("\n## Part 2").next().unwrap();
    let main = std::fs::read_to_string(path.join("src/main.rs")).unwrap();
    let mut rest = main.as_str();
    let blocks: Vec<&str> = part1
        .split("```rust\n")
        .skip(1)
        .map(|b| b.split("```").next().unwrap())
        .collect();
    assert!(blocks.len() >= 5, "part 1 shows the crate's code");
    for block in blocks {
        let at = rest
            .find(block)
            .unwrap_or_else(|| panic!("src/main.rs lacks, in order, the doc's block\n{block}"));
        rest = &rest[at + block.len()..];
    }
    for piece in ["fn main()", ".run_cli()", "impl Plugin for", "#[cfg(test)]"] {
        assert!(main.contains(piece), "src/main.rs has no {piece}");
    }
    let scenario: toml::Table =
        toml::from_str(&std::fs::read_to_string(path.join("scenario.toml")).unwrap()).unwrap();
    let mechanisms = scenario["mechanisms"].as_array().unwrap();
    assert!(mechanisms.iter().any(|m| m.as_str() == Some("deposit")));
    assert!(doc.contains(&std::fs::read_to_string(path.join("scenario.toml")).unwrap()));

    // Written once: a second `new` of the same path is refused and changes nothing.
    let before = std::fs::read(path.join("src/main.rs")).unwrap();
    std::fs::write(path.join("src/main.rs"), b"// mine\n").unwrap();
    let o = datapact(&["new", path.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("already exists"), "{}", text(&o));
    assert_eq!(
        std::fs::read(path.join("src/main.rs")).unwrap(),
        b"// mine\n"
    );
    assert_ne!(before, b"// mine\n");
}

#[test]
fn bad_input_writes_nothing_and_exits_2() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::create_dir(dir.join("empty")).unwrap();
    std::fs::write(dir.join("file"), "x").unwrap();
    let not_a_checkout = dir.join("empty");
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec![dir.join("2fast").display().to_string()],
            "starts with a letter",
        ),
        (
            vec![dir.join("my crate").display().to_string()],
            "only letters",
        ),
        (vec![dir.join("fn").display().to_string()], "Rust keyword"),
        (
            vec![dir.join("datapact-sim").display().to_string()],
            "datapact crate",
        ),
        (
            vec![dir.join("empty").display().to_string()],
            "already exists",
        ),
        (
            vec![dir.join("file").display().to_string()],
            "already exists",
        ),
        (
            vec![dir.join("no/such").display().to_string()],
            "no such directory",
        ),
        (
            vec![
                dir.join("fine").display().to_string(),
                "--datapact-path".into(),
                not_a_checkout.display().to_string(),
            ],
            "is not a datapact checkout",
        ),
    ];
    let before = tree(dir);
    for (args, why) in cases {
        let mut all = vec!["new".to_string()];
        all.extend(args);
        let all: Vec<&str> = all.iter().map(String::as_str).collect();
        let o = datapact(&all);
        assert_eq!(o.status.code(), Some(2), "{all:?}: {}", text(&o));
        assert!(text(&o).contains(why), "{all:?}: {}", text(&o));
        assert!(text(&o).contains("nothing was written"), "{}", text(&o));
        assert_eq!(tree(dir), before, "{all:?} wrote something");
    }
}
