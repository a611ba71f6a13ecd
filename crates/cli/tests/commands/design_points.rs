//! A listed design's points are stored once per run (issue 25, item 4): in
//! `design_points.parquet`, which `_run.json` records (rows, SHA-256) and every part names by
//! its checksum, instead of in every part's embedded scenario. Checked by `verify` and every
//! verified reader like a part.

use std::path::{Path, PathBuf};

use crate::support::{assert_refused, edit_json, run, run_ok, s, text, write};

/// A listed design of `points` points over two keys, in chunks of `chunk_cells` cells.
fn listed(dir: &Path, points: usize, chunk_cells: usize) -> PathBuf {
    let mut csv = String::from("game.value,game.payment\n");
    for i in 0..points {
        csv.push_str(&format!(
            "{},{}\n",
            0.3 * (i % 97) as f64 / 97.0,
            0.2 * (i % 89) as f64 / 89.0
        ));
    }
    write(dir, "points.csv", &csv);
    write(
        dir,
        "listed.toml",
        &format!(
            r#"mechanisms = ["C", "S"]
[scenario]
name = "listed"
seed = 5
replications = 2
[population]
users = 4
[design]
kind = "points"
file = "points.csv"
[output]
chunk_cells = {chunk_cells}
"#
        ),
    )
}

/// A listed design of 40 points in chunks of 10 cells, run into `dir/run`: its file and run.
fn forty_points_run(dir: &Path) -> (PathBuf, PathBuf) {
    let file = listed(dir, 40, 10);
    let out = dir.join("run");
    run_ok(&file, &out, &[]);
    (file, out)
}

/// Bytes of every file under `dir`.
fn bytes_under(dir: &Path) -> u64 {
    let mut total = 0;
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let m = e.metadata().unwrap();
        total += if m.is_dir() {
            bytes_under(&e.path())
        } else {
            m.len()
        };
    }
    total
}

/// The parts of a run's table directories and their total bytes.
fn parts_and_bytes(out: &Path) -> (usize, u64) {
    let (mut n, mut total) = (0, 0);
    for t in ["cells", "diagnostics", "contrasts"] {
        for e in std::fs::read_dir(out.join(t)).unwrap().flatten() {
            n += 1;
            total += e.metadata().unwrap().len();
        }
    }
    (n, total)
}

#[test]
fn a_listed_designs_points_are_stored_once_per_run_not_in_every_part() {
    let dir = tempfile::tempdir().unwrap();
    let points = 3000;
    let file = listed(dir.path(), points, 30);
    let out = dir.path().join("run");
    run_ok(&file, &out, &[]);
    let (parts, part_bytes) = parts_and_bytes(&out);
    let total = bytes_under(&out);
    let identity = datapact_trace::read_identity(&out).unwrap();
    let entry = identity
        .design_points
        .clone()
        .expect("_run.json records the points file");
    assert_eq!(entry.rows, points as u64);
    // Each part names the points file and its checksum, not the points.
    let md = datapact_trace::read_metadata(&out.join("cells/part-000000.parquet")).unwrap();
    let embedded = &md[datapact_trace::keys::SCENARIO];
    assert!(
        embedded.contains("file = \"design_points.parquet\"") && !embedded.contains("points = ["),
        "{embedded}"
    );
    assert_eq!(md[datapact_trace::keys::DESIGN_POINTS], entry.sha256);
    // What every part embedded before (and `_run.json` and the manifest held): the scenario with
    // the points inline.
    let normalized = datapact_scenario::Scenario::load(&file, &[])
        .unwrap()
        .normalized();
    let inline = (normalized.len() - embedded.len()) as u64;
    eprintln!(
        "{points} points, {parts} parts: parts {part_bytes} bytes, run {total} bytes; \
         the points inline {inline} bytes"
    );
    assert_eq!(parts, 300, "100 chunks × 3 tables");
    // Before, each of the 300 parts embedded the points (~140 KB), 40 MB in all. Now a part
    // holds its rows and a header of fixed size: under 30 KB each.
    assert!(inline > 100_000, "the points inline take {inline} bytes");
    assert!(
        part_bytes < parts as u64 * 30_000,
        "{part_bytes} bytes in {parts} parts"
    );
    // Stored once: `design_points.parquet` is the one copy. `_run.json` and `manifest.json` (its
    // scenario text and its design record) name the file, its rows and SHA-256, and the points'
    // digest, and list no point (before, they held 1.6 MB and 3.1 MB at 30 000 points).
    let points_file = std::fs::metadata(out.join("design_points.parquet"))
        .unwrap()
        .len();
    let run_json = std::fs::read_to_string(out.join("_run.json")).unwrap();
    let manifest = std::fs::read_to_string(out.join("manifest.json")).unwrap();
    let a_value = format!("{:?}", 0.3 * 50.0 / 97.0);
    assert!(normalized.contains(&a_value), "{a_value}");
    for (name, json) in [("_run.json", &run_json), ("manifest.json", &manifest)] {
        assert!(
            !json.contains("points = [") && !json.contains(&a_value),
            "{name} lists the points"
        );
    }
    assert_eq!(identity.scenario, *embedded, "one canonical text");
    assert!(
        run_json.len() < 8_000,
        "_run.json: {} bytes",
        run_json.len()
    );
    let record: serde_json::Value = serde_json::from_str(&manifest).unwrap();
    assert_eq!(record["design"]["points"], serde_json::json!([]));
    assert_eq!(
        record["design"]["points_file"],
        serde_json::to_value(&entry).unwrap()
    );
    // Beyond its parts and the points file, the run's records (a few hundred bytes per part in
    // the manifest, shard and chunk records) take less than one copy of the points as text.
    let records = total - part_bytes - points_file;
    eprintln!("points file {points_file} bytes; the other records {records} bytes");
    assert!(
        records < inline,
        "the run's records take {records} bytes, the points inline {inline}"
    );
    // The part's scenario, saved next to the points file, is the run's scenario (same hash):
    // the part with its run's points file is still enough to run it again.
    let again = dir.path().join("again");
    std::fs::create_dir(&again).unwrap();
    std::fs::copy(
        out.join("design_points.parquet"),
        again.join("design_points.parquet"),
    )
    .unwrap();
    let reloaded = write(&again, "scenario.toml", embedded);
    let scenario = datapact_scenario::Scenario::load(&reloaded, &[]).unwrap();
    assert_eq!(scenario.hash(), identity.scenario_hash);
    // The file is an ordinary Parquet table of one column per key, one row per point.
    let batches = datapact_trace::read_part(&out.join("design_points.parquet")).unwrap();
    let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
    assert_eq!(rows, points);
    let schema = batches[0].schema();
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    assert_eq!(names, ["game.value", "game.payment"]);

    // The same design in one chunk: the run's size no longer grows with its parts.
    let one = dir.path().join("one");
    run_ok(&file, &one, &["--set", "output.chunk_cells=3000"]);
    let one_total = bytes_under(&one);
    eprintln!("the same run in 3 parts: {one_total} bytes");
    assert!(
        total < one_total + parts as u64 * 30_000,
        "{total} bytes in 300 parts vs {one_total} in 3"
    );
}

#[test]
fn a_swapped_edited_or_missing_points_file_is_caught() {
    let dir = tempfile::tempdir().unwrap();
    let (file, out) = forty_points_run(dir.path());
    assert!(run(&["verify", s(&out)]).status.success());
    // Another run's points: the same keys, other values.
    let other_dir = dir.path().join("other");
    std::fs::create_dir(&other_dir).unwrap();
    let other = listed(&other_dir, 41, 10);
    let other_out = other_dir.join("run");
    run_ok(&other, &other_out, &[]);
    let points = out.join("design_points.parquet");
    let genuine = std::fs::read(&points).unwrap();

    let refused = |what: &str, out: &Path| {
        let o = run(&["verify", s(out)]);
        assert_refused(&o, 1, what);
        assert!(
            text(&o).contains("design_points.parquet"),
            "{what}: {}",
            text(&o)
        );
        let o = run(&["report", s(out), "--out", s(&dir.path().join("report"))]);
        assert_refused(&o, 1, &format!("{what}: report"));
        assert!(
            text(&o).contains("design_points.parquet"),
            "{what}: {}",
            text(&o)
        );
    };
    std::fs::copy(other_out.join("design_points.parquet"), &points).unwrap();
    refused("another run's points", &out);
    // One value changed, the file still a valid Parquet table of the run's keys and rows.
    let mut edited = genuine.clone();
    let (keys, mut values): (Vec<String>, Vec<Vec<f64>>) = (
        vec!["game.value".into(), "game.payment".into()],
        (0..40)
            .map(|i| vec![0.3 * (i % 97) as f64 / 97.0, 0.2 * (i % 89) as f64 / 89.0])
            .collect(),
    );
    values[7][0] = 0.123;
    let id = datapact_trace::read_identity(&out).unwrap();
    let forged = datapact_trace::design_points_bytes(
        &keys,
        &values,
        &id.scenario_hash,
        id.seed,
        &id.version,
    )
    .unwrap();
    assert_ne!(forged, genuine);
    std::fs::write(&points, &forged).unwrap();
    refused("a value edited", &out);
    // A flipped byte.
    let last = edited.len() - 20;
    edited[last] ^= 1;
    std::fs::write(&points, &edited).unwrap();
    refused("a byte flipped", &out);
    std::fs::remove_file(&points).unwrap();
    refused("deleted", &out);
    // `_run.json` made to record the forged file: the parts still name the genuine one.
    std::fs::write(&points, &forged).unwrap();
    edit_json(&out.join("_run.json"), |v| {
        v["design_points"]["sha256"] = datapact_trace::design_points_entry(&forged, 40)
            .sha256
            .into();
    });
    let o = run(&["verify", s(&out)]);
    assert_refused(&o, 1, "_run.json edited with it");
    assert!(text(&o).contains("datapact.design_points"), "{}", text(&o));
    // A resume writes the genuine file again (and refuses an edited `_run.json`).
    let o = run(&["run", s(&file), "--out", s(&out), "-q", "--resume"]);
    assert_refused(&o, 2, "resume into an edited _run.json");
    edit_json(&out.join("_run.json"), |v| {
        v["design_points"]["sha256"] = datapact_trace::design_points_entry(&genuine, 40)
            .sha256
            .into();
    });
    run_ok(&file, &out, &["--resume"]);
    assert_eq!(std::fs::read(&points).unwrap(), genuine);
    assert!(run(&["verify", s(&out)]).status.success());
}

/// The canonical text names the points by their digest (`points_sha256`), so the scenario hash
/// is still a faithful identity of the points: other points are another scenario, refused by a
/// resume, and a points file with other points is refused by the text that names them.
#[test]
fn other_points_are_another_scenario_though_no_text_lists_them() {
    let dir = tempfile::tempdir().unwrap();
    let (file, out) = forty_points_run(dir.path());
    let identity = datapact_trace::read_identity(&out).unwrap();
    // The text `_run.json` holds is what its hash hashes, and names the points' digest.
    let scenario = datapact_scenario::Scenario::load(&file, &[]).unwrap();
    let digest = scenario.points_sha256().expect("a listed design");
    assert!(
        identity
            .scenario
            .contains(&format!("points_sha256 = \"{digest}\"")),
        "{}",
        identity.scenario
    );
    use sha2::Digest;
    let hashed: String = sha2::Sha256::digest(identity.scenario.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(hashed, identity.scenario_hash);
    assert_eq!(scenario.hash(), identity.scenario_hash);

    // The same keys and count, one value of one point moved by one ulp.
    let other_dir = dir.path().join("other");
    std::fs::create_dir(&other_dir).unwrap();
    let other = listed(&other_dir, 40, 10);
    let csv = std::fs::read_to_string(other_dir.join("points.csv")).unwrap();
    let mut lines: Vec<String> = csv.lines().map(str::to_string).collect();
    let (v, p) = lines[8].split_once(',').unwrap();
    let bumped = f64::from_bits(v.parse::<f64>().unwrap().to_bits() + 1);
    lines[8] = format!("{bumped:?},{p}");
    write(&other_dir, "points.csv", &(lines.join("\n") + "\n"));
    let moved = datapact_scenario::Scenario::load(&other, &[]).unwrap();
    assert_ne!(moved.hash(), identity.scenario_hash);
    let o = run(&["run", s(&other), "--out", s(&out), "-q", "--resume"]);
    assert_refused(&o, 2, "other points into the run");
    assert!(text(&o).contains("points_sha256 = "), "{}", text(&o));

    // The run's text beside a points file with other points: refused, naming the key.
    let beside = dir.path().join("beside");
    std::fs::create_dir(&beside).unwrap();
    let other_out = other_dir.join("run");
    run_ok(&other, &other_out, &[]);
    std::fs::copy(
        other_out.join("design_points.parquet"),
        beside.join("design_points.parquet"),
    )
    .unwrap();
    let saved = write(&beside, "scenario.toml", &identity.scenario);
    let e = datapact_scenario::Scenario::load(&saved, &[]).unwrap_err();
    assert_eq!(e.key.as_deref(), Some("design.points_sha256"), "{e}");
    assert!(e.to_string().contains("design_points.parquet"), "{e}");
    assert_refused(
        &run(&["validate", s(&saved)]),
        2,
        "validate beside other points",
    );
    // With its own points it is the run's scenario, and `datapact run` of it resumes the run.
    std::fs::copy(
        out.join("design_points.parquet"),
        beside.join("design_points.parquet"),
    )
    .unwrap();
    let again = datapact_scenario::Scenario::load(&saved, &[]).unwrap();
    assert_eq!(again.hash(), identity.scenario_hash);
    run_ok(&saved, &out, &["--resume"]);
    assert!(run(&["verify", s(&out)]).status.success());
    // The verified readers read it: a report of the run.
    let o = run(&["report", s(&out), "--out", s(&dir.path().join("report"))]);
    assert!(o.status.success(), "{}", text(&o));
}
