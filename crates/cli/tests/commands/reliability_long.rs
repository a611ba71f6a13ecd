//! Reliability of the long commands (issue 25, items 2 and 6): `audit` claims its output
//! directory as every writer does and writes every file through the one atomic path; SIGINT and
//! SIGTERM stop `audit`, `reproduce`, `report`, `sensitivity` and `diff` within about a second,
//! and the way to continue each names (the same command again) exists.
//!
//! `DATAPACT_BIN` runs these tests against another build of the binary (how each was checked to
//! fail on the code before its guarantee existed).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant, SystemTime};

use crate::support::{bin, hidden, run, s, snapshot, text};

const SPEC: &str = include_str!("../../../../scenarios/audit.toml");

/// The audit settings with every size reduced (as `tests/audit.rs`'s), then `edit` applied.
fn spec(dir: &Path, name: &str, edit: impl Fn(String) -> String) -> PathBuf {
    let tiny = SPEC
        .replace("replications = 500 ", "replications = 4 ")
        .replace("steps = 11 ", "steps = 2 ")
        .replace("replications = 200 ", "replications = 4 ")
        .replace("replications = 1000 ", "replications = 4 ")
        .replace("steps = 16 ", "steps = 2 ");
    let p = dir.join(name);
    std::fs::write(&p, edit(tiny)).unwrap();
    p
}

/// `datapact audit --spec SPEC --out OUT -q --threads 2`, to its end.
fn audit(spec: &Path, out: &Path) -> Output {
    start_audit(spec, out).wait_with_output().unwrap()
}

fn assert_refused(o: &Output, what: &str, says: &str) {
    let t = text(o);
    assert_eq!(o.status.code(), Some(2), "{what}: {t}");
    assert!(t.contains(says), "{what}: {t}");
    assert!(!t.contains("panicked"), "{what}: {t}");
}

#[test]
fn the_audit_claims_its_directory_and_writes_every_file_atomically() {
    let tmp = tempfile::tempdir().unwrap();
    let settings = spec(tmp.path(), "audit.toml", |t| t);

    // A user's own directory: refused, nothing touched.
    let mine = tmp.path().join("mine");
    std::fs::create_dir_all(mine.join("deviations")).unwrap();
    std::fs::write(mine.join("REPORT.md"), "my notes").unwrap();
    std::fs::write(mine.join("deviations/part-00000.parquet"), "my data").unwrap();
    let before = snapshot(&mine);
    assert_refused(
        &audit(&settings, &mine),
        "a user's directory",
        "is not empty",
    );
    assert_eq!(snapshot(&mine), before);

    // A run, anything inside it, and another kind of output: refused, the run still verified.
    let scenario = tmp.path().join("run.toml");
    std::fs::write(
        &scenario,
        "[scenario]\nname = \"r\"\nseed = 1\nreplications = 2\n[population]\nusers = 5\n",
    )
    .unwrap();
    let a = tmp.path().join("A");
    let o = run(&["run", s(&scenario), "--out", s(&a), "-q"]);
    assert!(o.status.success(), "{}", text(&o));
    let o = run(&["report", s(&a)]);
    assert!(o.status.success(), "{}", text(&o));
    let run_before = snapshot(&a);
    assert_refused(&audit(&settings, &a), "the run", "is a datapact run");
    for inside in [a.join("audit"), a.join("cells/x")] {
        assert_refused(
            &audit(&settings, &inside),
            &inside.display().to_string(),
            "inside the datapact run",
        );
    }
    assert_refused(
        &audit(&settings, &a.join("report")),
        "a report",
        "inside the datapact run",
    );
    assert_eq!(snapshot(&a), run_before);
    let o = run(&["verify", s(&a)]);
    assert!(o.status.success(), "{}", text(&o));

    // Its own directory: created, then adopted; its nested claim runs are its own. A symlink
    // planted at a final name or at a temporary name the old writer used is never followed.
    let out = tmp.path().join("audit");
    let o = audit(&settings, &out);
    assert!(o.status.success(), "{}", text(&o));
    let marker = std::fs::read_to_string(out.join("_output.json")).unwrap();
    assert!(marker.contains("\"audit\""), "{marker}");
    #[cfg(unix)]
    {
        let victim = |n: &str| {
            let p = tmp.path().join(n);
            std::fs::write(&p, "keep").unwrap();
            p
        };
        let planted = [
            (out.join("REPORT.md"), victim("v1")),
            (out.join("claims_variants.json"), victim("v2")),
            (out.join("deviations/.part-00000.parquet.tmp"), victim("v3")),
            (out.join("equilibria/part-00000.parquet"), victim("v4")),
        ];
        for (link, target) in &planted {
            let _ = std::fs::remove_file(link);
            std::os::unix::fs::symlink(target, link).unwrap();
        }
        let o = audit(&settings, &out);
        assert!(o.status.success(), "{}", text(&o));
        for (link, target) in &planted {
            assert_eq!(
                std::fs::read(target).unwrap(),
                b"keep",
                "{}",
                link.display()
            );
        }
        for name in [
            "REPORT.md",
            "claims_variants.json",
            "equilibria/part-00000.parquet",
        ] {
            let meta = std::fs::symlink_metadata(out.join(name)).unwrap();
            assert!(meta.is_file(), "{name} is still a symlink");
        }
        let _ = std::fs::remove_file(out.join("deviations/.part-00000.parquet.tmp"));
    }
    assert_eq!(hidden(&out), Vec::<PathBuf>::new());
    // Not another kind's: an audit directory is no report.
    let o = run(&["report", s(&a), "--out", s(&out)]);
    assert_refused(
        &o,
        "a report into an audit",
        "holds a datapact audit output",
    );
}

/// `datapact audit --spec SPEC --out OUT -q --threads 2`, then `more`, started.
fn start_audit_with(spec: &Path, out: &Path, more: &[&str]) -> Child {
    let mut args = vec![
        "audit",
        "--spec",
        s(spec),
        "--out",
        s(out),
        "-q",
        "--threads",
        "2",
    ];
    args.extend(more);
    start(&args)
}

/// `datapact audit --spec SPEC --out OUT -q --threads 2`, started.
fn start_audit(spec: &Path, out: &Path) -> Child {
    start_audit_with(spec, out, &[])
}

fn signal(child: &Child, name: &str) {
    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args([name, &pid])
            .status()
            .unwrap()
            .success()
    );
}

/// Waits for `child` at most `limit` (then kills it): its exit code, stderr and how long it
/// took.
fn wait_for(child: &mut Child, limit: Duration) -> (Option<i32>, String, Duration) {
    let sent = Instant::now();
    let code = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status.code();
        }
        if sent.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let took = sent.elapsed();
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    (code, stderr, took)
}

/// The continuation an interrupted command names: no `--resume` (none of these has one), the same
/// command again.
fn assert_names_the_continuation(stderr: &str, what: &str) {
    assert!(stderr.contains("interrupted"), "{what}: {stderr}");
    assert!(!stderr.contains("--resume"), "{what}: {stderr}");
    assert!(
        stderr.contains("run the same command again"),
        "{what}: {stderr}"
    );
}

/// `paths` that exist, with their modification times, sorted.
fn stamped(paths: impl IntoIterator<Item = PathBuf>) -> Vec<(PathBuf, SystemTime)> {
    let mut found: Vec<(PathBuf, SystemTime)> = paths
        .into_iter()
        .filter_map(|p| {
            let modified = std::fs::metadata(&p).ok()?.modified().unwrap();
            Some((p, modified))
        })
        .collect();
    found.sort();
    found
}

/// The entries of directory `dir` (none if it is absent).
fn entries(dir: &Path) -> impl Iterator<Item = PathBuf> + use<> {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .map(|e| e.unwrap().path())
}

/// The manifests of the audit's finished claim runs.
fn manifests(out: &Path) -> Vec<(PathBuf, SystemTime)> {
    stamped(
        entries(&out.join("variants"))
            .flat_map(|variant| entries(&variant).map(|run| run.join("manifest.json"))),
    )
}

/// Waits (at most `limit`) until `done`, `child` still running.
fn wait_until(child: &mut Child, limit: Duration, what: &str, done: impl Fn() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(
            child.try_wait().unwrap().is_none(),
            "{what}: ended too soon"
        );
        assert!(started.elapsed() < limit, "{what}: not within {limit:?}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn sigint_and_sigterm_stop_the_audit_within_a_second_and_the_same_command_continues() {
    let tmp = tempfile::tempdir().unwrap();
    // Deviations and dynamics of 100 000 replications per cell: seconds inside each cell
    // (release build), so the signal lands inside one (the campaigns look at the flag between
    // slices of a fraction of a second; the watcher ends a cell that still runs 0.5 s on).
    let slow = spec(tmp.path(), "slow.toml", |t| {
        t.replacen("replications = 4 ", "replications = 100000 ", 2)
    });
    for name in ["-INT", "-TERM"] {
        let out = tmp.path().join(format!("dev{name}"));
        let child = start_audit(&slow, &out);
        std::thread::sleep(Duration::from_millis(1500));
        // still in the deviation phase (`interrupt` checks the process is running)
        interrupt_audit(child, name, name);
        assert_eq!(hidden(&out), Vec::<PathBuf>::new(), "{name}");
        assert!(!out.join("REPORT.md").exists(), "{name}");
    }

    // Interrupted among its claim runs, then the same command again: the finished runs are
    // kept (not rewritten), and the audit ends with the bytes of an uninterrupted one.
    let settings = spec(tmp.path(), "audit.toml", |t| t);
    let out = tmp.path().join("resumed");
    let mut child = start_audit(&settings, &out);
    wait_until(&mut child, Duration::from_secs(60), "a claim run", || {
        !manifests(&out).is_empty()
    });
    interrupt_audit(child, "-INT", "claim runs");
    let kept = manifests(&out);
    assert!(!kept.is_empty() && !out.join("REPORT.md").exists());
    let o = audit(&settings, &out);
    assert!(o.status.success(), "{}", text(&o));
    for (m, modified) in &kept {
        let now = std::fs::metadata(m).unwrap().modified().unwrap();
        assert_eq!(now, *modified, "{} was rewritten", m.display());
    }
    let fresh = tmp.path().join("fresh");
    let o = audit(&settings, &fresh);
    assert!(o.status.success(), "{}", text(&o));
    assert_same_files(&out, &fresh);
}

/// A Sobol design of 65 536 base samples over three axes (327 680 points): `sensitivity`,
/// `diff` and `report` of it take seconds (6, 12 and 40 s in a debug build).
const SOBOL: &str = r#"mechanisms = ["S", "M"]
[scenario]
name = "sobol-large"
seed = 3
replications = 2
[population]
users = 5
[design]
kind = "sobol"
samples = 65536
game.value = { from = 0.05, to = 0.3 }
game.payment = { from = 0.0, to = 0.2 }
game.threshold = { from = 0.3, to = 0.9 }
"#;

fn start(args: &[&str]) -> Child {
    bin()
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Signals `child` (still running: else the workload is too small) and asserts it stops within
/// 2.5 s with 130/143, naming the same command as its continuation.
fn interrupt(child: Child, name: &str, what: &str) {
    let stderr = stops_within_a_second(child, name, what);
    assert_names_the_continuation(&stderr, what);
}

/// [`interrupt`] for the audit, whose continuation is the same command with `--resume`.
fn interrupt_audit(child: Child, name: &str, what: &str) {
    let stderr = stops_within_a_second(child, name, what);
    assert!(stderr.contains("interrupted"), "{what}: {stderr}");
    assert!(
        stderr.contains("run the same command again with --resume"),
        "{what}: {stderr}"
    );
}

/// Signals `child` (still running) and asserts it exits 130/143 within 2.5 s; its stderr.
fn stops_within_a_second(mut child: Child, name: &str, what: &str) -> String {
    assert!(
        child.try_wait().unwrap().is_none(),
        "{what}: ended before the signal: make it bigger"
    );
    signal(&child, name);
    let (got, stderr, took) = wait_for(&mut child, Duration::from_secs(60));
    assert!(
        took < Duration::from_millis(2500),
        "{what}: exited {took:?} after {name} ({got:?}): {stderr}"
    );
    let code = if name == "-INT" { 130 } else { 143 };
    assert_eq!(got, Some(code), "{what}: {stderr}");
    stderr
}

#[test]
fn report_sensitivity_and_diff_stop_within_a_second_and_the_same_command_redoes_them() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("sobol.toml");
    std::fs::write(&file, SOBOL).unwrap();
    let run_dir = tmp.path().join("S");
    let o = run(&[
        "run",
        s(&file),
        "--out",
        s(&run_dir),
        "-q",
        "--threads",
        "2",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let (rep, sens, diff) = (
        tmp.path().join("rep"),
        tmp.path().join("sens"),
        tmp.path().join("d/diff.parquet"),
    );
    let sensitivity = [
        "sensitivity",
        s(&run_dir),
        "--metric",
        "welfare_mean",
        "--out",
        s(&sens),
    ];
    let commands: [(&str, Vec<&str>); 3] = [
        ("-INT", vec!["report", s(&run_dir), "--out", s(&rep)]),
        ("-TERM", sensitivity.to_vec()),
        (
            "-INT",
            vec!["diff", s(&run_dir), s(&run_dir), "--out", s(&diff)],
        ),
    ];
    for (name, args) in &commands {
        let child = start(args);
        std::thread::sleep(Duration::from_millis(1500));
        interrupt(child, name, args[0]);
    }
    // Nothing half-written: no temporary left, no diff under its final name.
    assert_eq!(hidden(&rep), Vec::<PathBuf>::new());
    assert_eq!(hidden(&sens), Vec::<PathBuf>::new());
    assert_eq!(hidden(&tmp.path().join("d")), Vec::<PathBuf>::new());
    // The same command again redoes it into the directory it left.
    let o = run(&sensitivity);
    assert!(o.status.success(), "{}", text(&o));
    assert!(sens.join("sensitivity.parquet").is_file());
}

#[test]
fn reproduce_stops_within_a_second_and_the_same_command_continues_it() {
    use std::io::BufRead;
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("paper");
    let reproduce = ["reproduce", "--out", s(&out), "-q", "--threads", "2"];
    // Interrupted after its first run has finished (inside the second).
    let mut child = start(&reproduce);
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let finished = first.split(':').next().unwrap().to_string();
    assert!(first.contains("cells ×"), "{first}");
    std::thread::sleep(Duration::from_millis(300));
    interrupt(child, "-INT", "reproduce");
    // The same command skips the finished run (its files untouched) and goes on.
    let manifest = out.join(&finished).join("manifest.json");
    let modified = std::fs::metadata(&manifest).unwrap().modified().unwrap();
    let mut child = start(&reproduce);
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let again = lines.next().unwrap().unwrap();
    assert!(
        again.starts_with(&format!("{finished}: already computed")),
        "{again}"
    );
    let second = lines.next().unwrap().unwrap();
    assert!(second.contains("cells ×"), "{second}");
    interrupt(child, "-TERM", "reproduce again");
    assert_eq!(
        std::fs::metadata(&manifest).unwrap().modified().unwrap(),
        modified
    );
}

/// `datapact audit --resume` into `out` with the settings `spec`, to completion.
fn resume_audit(spec: &Path, out: &Path) -> Output {
    start_audit_with(spec, out, &["--resume"])
        .wait_with_output()
        .unwrap()
}

/// The same files with the same bytes under `a` and `b` (an interrupted audit continued, and
/// an uninterrupted one), lock files aside.
fn assert_same_files(a: &Path, b: &Path) {
    let (a, b) = (snapshot(a), snapshot(b));
    assert_eq!(
        a.iter().map(|f| &f.0).collect::<Vec<_>>(),
        b.iter().map(|f| &f.0).collect::<Vec<_>>()
    );
    for (r, u) in a.iter().zip(&b) {
        assert!(r.1 == u.1, "{} differs", r.0.display());
    }
}

/// The records of the finished cells of the phase whose record names start with `phase`
/// (`cell-` the deviations and dynamics, `which-s-` "which S?", `bins-` the cost-bin equilibria),
/// with their modification times.
fn phase_records(out: &Path, phase: &str) -> Vec<(PathBuf, SystemTime)> {
    stamped(entries(&out.join("_cells")).filter(|p| {
        let name = p.file_name().unwrap().to_string_lossy();
        name.starts_with(phase) && name.ends_with(".json")
    }))
}

/// Checks an audit of 9 cells interrupted in the phase whose records are `recorded` (some of its
/// cells recorded, not all; no `REPORT.md`, no hidden temporary), then damages `record`: bit 0
/// of `field[0][index]` flipped, its digest not (a resume must compute that cell again). Its
/// path and modification time.
fn interrupted_then_damaged(
    out: &Path,
    recorded: &[(PathBuf, SystemTime)],
    record: &Path,
    field: &str,
    index: usize,
) -> (PathBuf, SystemTime) {
    assert!(
        !recorded.is_empty() && recorded.len() < 9 && !out.join("REPORT.md").exists(),
        "{} of 9 cells recorded",
        recorded.len()
    );
    assert_eq!(hidden(out), Vec::<PathBuf>::new());
    crate::support::edit_json(record, |v| {
        let x = v[field][0][index].as_u64().unwrap();
        v[field][0][index] = (x ^ 1).into();
    });
    let touched = std::fs::metadata(record).unwrap().modified().unwrap();
    (record.to_path_buf(), touched)
}

/// The records of the deviation phase's finished cells, with their modification times.
fn cell_records(out: &Path) -> Vec<(PathBuf, SystemTime)> {
    phase_records(out, "cell-")
}

#[test]
fn audit_resume_continues_the_deviation_phase_from_its_verified_records() {
    let tmp = tempfile::tempdir().unwrap();
    // 9 cells of 3 000 deviation replications: each cell takes a moment, so the signal lands
    // after some cells are recorded and before all are.
    let settings = spec(tmp.path(), "audit.toml", |t| {
        t.replacen("replications = 4 ", "replications = 3000 ", 1)
            .replacen("steps = 2 ", "steps = 3 ", 1)
    });
    let out = tmp.path().join("resumed");
    let mut child = start_audit(&settings, &out);
    wait_until(&mut child, Duration::from_secs(300), "two cells", || {
        cell_records(&out).len() >= 2
    });
    interrupt_audit(child, "-INT", "deviation phase");
    let kept = cell_records(&out);
    assert!(kept.len() >= 2, "{} of 9 cells recorded", kept.len());
    // One record damaged (a value changed, its digest not): not used, its cell computed again.
    let (damaged, touched) = interrupted_then_damaged(&out, &kept, &kept[0].0, "deviations", 9);

    std::thread::sleep(Duration::from_millis(20));
    let o = resume_audit(&settings, &out);
    assert!(o.status.success(), "{}", text(&o));
    // The other finished cells were read back, not computed (their records not rewritten); the
    // damaged one was computed and rewritten.
    for (record, modified) in &kept[1..] {
        let now = std::fs::metadata(record).unwrap().modified().unwrap();
        assert_eq!(now, *modified, "{} was rewritten", record.display());
    }
    assert_ne!(
        std::fs::metadata(&damaged).unwrap().modified().unwrap(),
        touched,
        "the damaged record was used"
    );
    // The bytes of an uninterrupted audit (its records included).
    let fresh = tmp.path().join("fresh");
    let o = audit(&settings, &fresh);
    assert!(o.status.success(), "{}", text(&o));
    assert_same_files(&out, &fresh);
    // Records of other settings are never used: another spec, resumed into the same
    // directory, computes every cell (same cells, other replications) and rewrites them all.
    let other = spec(tmp.path(), "other.toml", |t| {
        t.replacen("replications = 4 ", "replications = 3001 ", 1)
            .replacen("steps = 2 ", "steps = 3 ", 1)
    });
    let before = cell_records(&out);
    std::thread::sleep(Duration::from_millis(20));
    let o = resume_audit(&other, &out);
    assert!(o.status.success(), "{}", text(&o));
    for ((record, was), (_, now)) in before.iter().zip(&cell_records(&out)) {
        assert_ne!(was, now, "{} of other settings was used", record.display());
    }
}

/// `audit --resume` keeps the later phases' finished cells too: "which S?" (S and M side by side
/// at R = 0 and R = 1) and the cost-bin equilibria record each cell when it finishes, and a
/// resume reads back the records that are this audit's instead of playing their cells. Before,
/// both phases were computed whole again on every resume.
#[test]
fn audit_resume_continues_which_s_and_the_cost_bin_phase_from_their_records() {
    let tmp = tempfile::tempdir().unwrap();
    // 9 cells; the cost-bin equilibria at 600 replications per evaluation take a moment per
    // cell, so the signal lands among them.
    let settings = spec(tmp.path(), "audit.toml", |t| {
        t.replacen("steps = 2 ", "steps = 3 ", 1).replace(
            "replications = 4        # per evaluation",
            "replications = 600      # per evaluation",
        )
    });
    let out = tmp.path().join("resumed");
    let mut child = start_audit(&settings, &out);
    wait_until(
        &mut child,
        Duration::from_secs(600),
        "a cost-bin cell",
        || !phase_records(&out, "bins-").is_empty(),
    );
    interrupt_audit(child, "-TERM", "cost-bin phase");
    let deviations = cell_records(&out);
    let which_s = phase_records(&out, "which-s-");
    let bins = phase_records(&out, "bins-");
    assert_eq!(deviations.len(), 9);
    assert_eq!(which_s.len(), 2 * 9, "R = 0 and R = 1 of every cell");
    // One "which S?" record damaged (a count changed, its digest not): computed again.
    let (damaged, touched) = interrupted_then_damaged(&out, &bins, &which_s[3].0, "rows", 6);

    std::thread::sleep(Duration::from_millis(20));
    let o = resume_audit(&settings, &out);
    assert!(o.status.success(), "{}", text(&o));
    // Every other record was read back, not computed (none rewritten).
    for (record, modified) in deviations.iter().chain(&which_s).chain(&bins) {
        let now = std::fs::metadata(record).unwrap().modified().unwrap();
        if *record == damaged {
            assert_ne!(now, touched, "the damaged record was used");
        } else {
            assert_eq!(now, *modified, "{} was rewritten", record.display());
        }
    }
    assert_eq!(phase_records(&out, "bins-").len(), 9);
    // The bytes of an uninterrupted audit (its records included).
    let fresh = tmp.path().join("fresh");
    let o = audit(&settings, &fresh);
    assert!(o.status.success(), "{}", text(&o));
    assert_same_files(&out, &fresh);
}
