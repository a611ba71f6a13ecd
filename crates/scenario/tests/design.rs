//! `[design]`: the sampled kinds' defining properties, listed points, crossing with a grid,
//! normalization and the validation errors.

use crate::support::write_parquet;

use datapact_scenario::design::{MORRIS_DELTA, point_count, unit_points};
use datapact_scenario::{DesignKind, Scenario};

fn load(text: &str) -> Scenario {
    match Scenario::from_str(text, "t.toml", &[]) {
        Ok(s) => s,
        Err(e) => panic!("unexpected error: {e}"),
    }
}

fn err(text: &str) -> String {
    match Scenario::from_str(text, "t.toml", &[]) {
        Ok(_) => panic!("expected an error for:\n{text}"),
        Err(e) => e.to_string(),
    }
}

fn with_design(design: &str) -> String {
    format!(
        "[scenario]\nname = \"d\"\nseed = 7\nreplications = 4\n[population]\nusers = 6\n\
         [design]\n{design}\n"
    )
}

/// The value of axis `key` in every cell, in cell order.
fn column(s: &Scenario, key: &str) -> Vec<f64> {
    let a = s.sweep.iter().position(|a| a.key == key).unwrap();
    (0..s.cell_count()).map(|i| s.cell(i).coords[a]).collect()
}

#[test]
fn lhs_hits_each_stratum_of_each_axis_exactly_once() {
    let n = 37;
    let s = load(&with_design(&format!(
        "kind = \"lhs\"\nsamples = {n}\ngame.value = {{ from = 0.0, to = 0.3 }}\n\
         game.payment = {{ from = 0.1, to = 0.5 }}\ngame.belief = {{ from = 0.01, to = 1.0, log = true }}"
    )));
    assert_eq!(s.cell_count(), n);
    for (key, from, to, log) in [
        ("game.value", 0.0, 0.3, false),
        ("game.payment", 0.1, 0.5, false),
        ("game.belief", 0.01, 1.0, true),
    ] {
        let mut strata: Vec<usize> = column(&s, key)
            .iter()
            .map(|&v| {
                let u = if log {
                    (v / from).ln() / (to / from).ln()
                } else {
                    (v - from) / (to - from)
                };
                ((u * n as f64).floor() as usize).min(n - 1)
            })
            .collect();
        strata.sort_unstable();
        assert_eq!(strata, (0..n).collect::<Vec<_>>(), "{key}");
    }
    // Each cell's game carries its point.
    let c = s.cell(5);
    assert_eq!(c.game.value, c.coords[0]);
    assert_eq!(c.game.payment, c.coords[1]);
}

#[test]
fn sobol_has_n_times_2d_plus_2_points_in_saltelli_blocks() {
    let (n, d) = (16, 3);
    let s = load(&with_design(&format!(
        "kind = \"sobol\"\nsamples = {n}\ngame.value = {{ from = 0.0, to = 0.3 }}\n\
         game.payment = {{ from = 0.0, to = 0.3 }}\ngame.threshold = {{ from = 0.2, to = 1.0 }}"
    )));
    assert_eq!(s.cell_count(), n * (2 * d + 2));
    let u = &s.design.unit;
    let step = 2 * d + 2;
    for j in 0..n {
        let (a, b) = (&u[j * step], &u[j * step + step - 1]);
        for i in 0..d {
            let ab = &u[j * step + 1 + i];
            let ba = &u[j * step + 1 + d + i];
            for k in 0..d {
                assert_eq!(ab[k], if k == i { b[k] } else { a[k] }, "AB_{i} of {j}");
                assert_eq!(ba[k], if k == i { a[k] } else { b[k] }, "BA_{i} of {j}");
            }
        }
    }
    // The base points are spread: every axis's A column hits each half of [0, 1) n/2 times
    // (a (0, m, s)-net property of the Sobol sequence, kept by Owen scrambling).
    let bases: Vec<&Vec<f64>> = u.iter().step_by(step).collect();
    for k in 0..d {
        let low = bases.iter().filter(|a| a[k] < 0.5).count();
        assert_eq!(low, n / 2, "axis {k}");
    }
}

#[test]
fn sobol_without_second_order_leaves_out_the_ba_blocks() {
    let (n, d) = (16, 3);
    let axes = "game.value = { from = 0.0, to = 0.3 }\n\
                game.payment = { from = 0.0, to = 0.3 }\ngame.threshold = { from = 0.2, to = 1.0 }";
    let full = load(&with_design(&format!(
        "kind = \"sobol\"\nsamples = {n}\n{axes}"
    )));
    let first = load(&with_design(&format!(
        "kind = \"sobol\"\nsamples = {n}\nsecond_order = false\n{axes}"
    )));
    assert!(first.design.first_order_only && !full.design.first_order_only);
    assert_eq!(first.cell_count(), n * (d + 2));
    assert_eq!(
        first.cell_count(),
        point_count(DesignKind::Sobol, n, d, true)
    );
    // The same A, AB and B points as the full layout, block by block, without BA.
    let (fs, ss) = (2 * d + 2, d + 2);
    for j in 0..n {
        let kept: Vec<&Vec<f64>> = (0..=d)
            .map(|k| &full.design.unit[j * fs + k])
            .chain([&full.design.unit[j * fs + fs - 1]])
            .collect();
        let got: Vec<&Vec<f64>> = (0..ss).map(|k| &first.design.unit[j * ss + k]).collect();
        assert_eq!(got, kept, "block {j}");
    }
    // Written into the canonical text (and the hash) only when false.
    assert!(first.normalized().contains("second_order = false"));
    assert!(!full.normalized().contains("second_order"));
    let explicit = load(&with_design(&format!(
        "kind = \"sobol\"\nsamples = {n}\nsecond_order = true\n{axes}"
    )));
    assert_eq!(explicit.hash(), full.hash());
    assert_ne!(first.hash(), full.hash());
    assert_eq!(load(&first.normalized()).design, first.design);
}

#[test]
fn morris_steps_change_one_axis_by_delta() {
    let (r, d) = (10, 4);
    let points = unit_points(DesignKind::Morris, r, d, false, 3);
    assert_eq!(points.len(), point_count(DesignKind::Morris, r, d, false));
    for t in 0..r {
        let traj = &points[t * (d + 1)..(t + 1) * (d + 1)];
        let mut moved = Vec::new();
        for w in traj.windows(2) {
            let changed: Vec<usize> = (0..d).filter(|&k| w[0][k] != w[1][k]).collect();
            assert_eq!(changed.len(), 1, "trajectory {t}: {w:?}");
            let k = changed[0];
            assert!(((w[1][k] - w[0][k]).abs() - MORRIS_DELTA).abs() < 1e-12);
            moved.push(k);
        }
        moved.sort_unstable();
        assert_eq!(moved, (0..d).collect::<Vec<_>>(), "each axis moves once");
        assert!(traj.iter().flatten().all(|x| (0.0..=1.0).contains(x)));
    }
}

#[test]
fn sampled_points_are_a_function_of_the_seed() {
    let text = with_design("kind = \"lhs\"\nsamples = 8\ngame.value = { from = 0.0, to = 0.3 }");
    assert_eq!(load(&text).sweep, load(&text).sweep);
    let other = load(&text.replace("seed = 7", "seed = 8"));
    assert_ne!(load(&text).sweep, other.sweep);
}

#[test]
fn points_from_csv_equal_inline_points() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("p.csv"),
        "# a comment\ngame.value,game.payment\n0.1,0.2\n0.05, 0.3\n\n0.0,0.0\n",
    )
    .unwrap();
    let inline = load(&with_design(
        "kind = \"points\"\npoints = [{ game.value = 0.1, game.payment = 0.2 }, \
         { game.payment = 0.3, game.value = 0.05 }, { \"game.value\" = 0.0, \"game.payment\" = 0.0 }]",
    ));
    let path = dir.path().join("s.toml");
    std::fs::write(&path, with_design("kind = \"points\"\nfile = \"p.csv\"")).unwrap();
    let file = Scenario::load(&path, &[]).unwrap();
    assert_eq!(inline.cell_count(), 3);
    assert_eq!(file.sweep, inline.sweep);
    assert_eq!(file.hash(), inline.hash());
    assert_eq!(column(&file, "game.payment"), vec![0.2, 0.3, 0.0]);
}

#[test]
fn points_from_parquet_equal_inline_points() {
    use arrow::array::{ArrayRef, Float64Array, Int32Array, StringArray};
    use std::sync::Arc;
    let dir = tempfile::tempdir().unwrap();
    // integers are numbers too (cast to Float64)
    write_parquet(
        &dir.path().join("p.parquet"),
        vec![
            (
                "game.value",
                Arc::new(Float64Array::from(vec![0.1, 0.05, 0.0])) as ArrayRef,
            ),
            (
                "population.users",
                Arc::new(Int32Array::from(vec![5, 8, 13])) as ArrayRef,
            ),
        ],
    );
    let inline = load(&with_design(
        "kind = \"points\"\npoints = [{ game.value = 0.1, population.users = 5 }, \
         { game.value = 0.05, population.users = 8 }, { game.value = 0.0, population.users = 13 }]",
    ));
    let path = dir.path().join("s.toml");
    std::fs::write(
        &path,
        with_design("kind = \"points\"\nfile = \"p.parquet\""),
    )
    .unwrap();
    let file = Scenario::load(&path, &[]).unwrap();
    assert_eq!(file.sweep, inline.sweep);
    assert_eq!(file.hash(), inline.hash());
    assert_eq!(column(&file, "population.users"), vec![5.0, 8.0, 13.0]);

    // a text column, a null and a value out of range are errors naming the file and the key
    let bad = |name: &str, columns: Vec<(&str, ArrayRef)>| {
        let p = dir.path().join(name);
        write_parquet(&p, columns);
        std::fs::write(
            &path,
            with_design(&format!("kind = \"points\"\nfile = \"{name}\"")),
        )
        .unwrap();
        Scenario::load(&path, &[]).unwrap_err().to_string()
    };
    let e = bad(
        "text.parquet",
        vec![(
            "game.order",
            Arc::new(StringArray::from(vec!["random"])) as ArrayRef,
        )],
    );
    assert!(
        e.contains("text.parquet")
            && e.contains("column `game.order` is Utf8")
            && e.contains("design.file"),
        "{e}"
    );
    let e = bad(
        "null.parquet",
        vec![(
            "game.value",
            Arc::new(Float64Array::from(vec![Some(0.1), None])) as ArrayRef,
        )],
    );
    assert!(e.contains("column `game.value` is null in row 2"), "{e}");
    let e = bad(
        "range.parquet",
        vec![(
            "game.value",
            Arc::new(Float64Array::from(vec![0.1, -3.0])) as ArrayRef,
        )],
    );
    assert!(
        e.contains("point 2 of design.file range.parquet") && e.contains("game.value = -3"),
        "{e}"
    );
    std::fs::write(dir.path().join("junk.parquet"), b"not parquet").unwrap();
    std::fs::write(
        &path,
        with_design("kind = \"points\"\nfile = \"junk.parquet\""),
    )
    .unwrap();
    let e = Scenario::load(&path, &[]).unwrap_err().to_string();
    assert!(
        e.contains("junk.parquet") && e.contains("not a readable Parquet file"),
        "{e}"
    );
}

#[test]
fn a_design_is_crossed_with_the_sweep_grid() {
    let s = load(&format!(
        "{}\n[sweep]\ngame.threshold = {{ values = [0.4, 0.8] }}\n",
        with_design("kind = \"lhs\"\nsamples = 5\ngame.value = { from = 0.0, to = 0.3 }")
    ));
    assert_eq!(s.cell_count(), 10);
    assert_eq!(s.design.first_axis, 1);
    let thresholds = column(&s, "game.threshold");
    assert_eq!(&thresholds[..5], &[0.4; 5]);
    assert_eq!(&thresholds[5..], &[0.8; 5]);
    let values = column(&s, "game.value");
    assert_eq!(values[..5], values[5..]);
}

#[test]
fn normalized_designs_load_back_to_the_same_cells() {
    for design in [
        "kind = \"sobol\"\nsamples = 4\ngame.value = { from = 0.0, to = 0.3 }\n\
         population.users = { from = 2, to = 40, log = true }",
        "kind = \"morris\"\nsamples = 3\ngame.value = { from = 0.0, to = 0.3 }",
        "kind = \"points\"\npoints = [{ game.value = 0.1 }, { game.value = 0.25 }]",
    ] {
        let s = load(&with_design(design));
        let back = load(&s.normalized());
        assert_eq!(back.sweep, s.sweep, "{design}");
        assert_eq!(back.design, s.design);
        assert_eq!(back.hash(), s.hash());
    }
    // Integer axes are rounded.
    let s = load(&with_design(
        "kind = \"lhs\"\nsamples = 9\npopulation.users = { from = 2, to = 40 }",
    ));
    assert!(
        column(&s, "population.users")
            .iter()
            .all(|u| u.fract() == 0.0)
    );
}

#[test]
fn a_grid_design_is_the_sweep() {
    let grid = load(&with_design(
        "kind = \"grid\"\ngame.value = { from = 0.0, to = 0.3, steps = 4 }",
    ));
    let sweep = load(
        "[scenario]\nname = \"d\"\nseed = 7\nreplications = 4\n[population]\nusers = 6\n\
         [sweep]\ngame.value = { from = 0.0, to = 0.3, steps = 4 }\n",
    );
    assert_eq!(grid.cell_count(), 4);
    assert_eq!(grid.hash(), sweep.hash());
}

#[test]
fn bad_designs_name_the_key_and_the_allowed_range() {
    let cases: &[(&str, &str)] = &[
        ("kind = \"cube\"", "design.kind"),
        (
            "kind = \"lhs\"\nsamples = 4\nsecond_order = false\ngame.value = { from = 0.0, to = 0.3 }",
            "design.second_order is only for design.kind = \"sobol\"",
        ),
        (
            "kind = \"sobol\"\nsamples = 4\nsecond_order = 0\ngame.value = { from = 0.0, to = 0.3 }",
            "design.second_order must be a boolean",
        ),
        (
            "kind = \"lhs\"\ngame.value = { from = 0.0, to = 0.3 }",
            "needs design.samples",
        ),
        ("kind = \"lhs\"\nsamples = 4", "at least one axis"),
        (
            "kind = \"lhs\"\nsamples = 0\ngame.value = { from = 0.0, to = 0.3 }",
            "integers in [1,",
        ),
        (
            "kind = \"sobol\"\nsamples = 70000\ngame.value = { from = 0.0, to = 0.3 }",
            "integers in [2, 65536]",
        ),
        (
            "kind = \"lhs\"\nsamples = 4\ngame.value = { from = 0.3, to = 0.1 }",
            "must be greater",
        ),
        (
            "kind = \"lhs\"\nsamples = 4\ngame.value = { from = 0.0, to = 0.3, log = true }",
            "log axis needs from > 0",
        ),
        (
            "kind = \"lhs\"\nsamples = 4\ngame.threshold = { from = 0.0, to = 1.0 }",
            "(0, 1]",
        ),
        (
            "kind = \"lhs\"\nsamples = 4\ngame.nope = { from = 0.0, to = 1.0 }",
            "unknown design key",
        ),
        ("kind = \"grid\"\nsamples = 4", "no effect"),
        ("kind = \"points\"", "needs design.points"),
        (
            "kind = \"points\"\npoints = [{ game.value = 0.1 }, { game.payment = 0.1 }]",
            "same keys",
        ),
        (
            "kind = \"points\"\npoints = [{ game.value = -1.0 }]",
            "point 1 of the design",
        ),
        (
            "kind = \"points\"\nfile = \"missing.csv\"",
            "missing.csv: cannot read it",
        ),
    ];
    for (design, want) in cases {
        let e = err(&with_design(design));
        assert!(e.contains(want), "{design}: {e}");
        assert!(e.contains("t.toml"), "{design}: {e}");
    }
    let e = err(&format!(
        "{}\n[sweep]\ngame.value = {{ values = [0.1] }}\n",
        with_design("kind = \"lhs\"\nsamples = 4\ngame.value = { from = 0.0, to = 0.3 }")
    ));
    assert!(e.contains("both under [sweep] and [design]"), "{e}");
}

/// A sampled axis's ends are checked against the key's own range and bound, not the 1e6 that
/// bounds real-valued keys: `population.users` runs to 2 000 000 under `[population]`, so it may
/// on an axis too (it was refused as an overflow), while a real key keeps its magnitude bound and
/// a key's range is still enforced at both ends.
#[test]
fn design_ranges_use_the_keys_own_bounds() {
    let s = load(&with_design(
        "kind = \"lhs\"\nsamples = 4\npopulation.users = { from = 10, to = 2000000 }",
    ));
    let users = column(&s, "population.users");
    assert_eq!(users.len(), 4);
    assert!(
        users
            .iter()
            .all(|&u| (10.0..=2e6).contains(&u) && u.fract() == 0.0)
    );
    assert!(users.iter().any(|&u| u > 1e6), "{users:?}");
    let cases: &[(&str, &str)] = &[
        // A real key keeps the magnitude bound, named with the axis end it came from.
        (
            "game.value = { from = 0.0, to = 2e6 }",
            "game.value = 2000000 (in design.game.value.to) is out of range",
        ),
        (
            "population.users = { from = 0, to = 20 }",
            "population.users = 0 (in design.population.users.from) is out of range",
        ),
        (
            "population.users = { from = 10, to = 1e300 }",
            "(in design.population.users.to) is out of range",
        ),
        ("game.value = { from = 0.0, to = nan }", "is not finite"),
        (
            "game.value = { from = \"a\", to = 0.3 }",
            "design.game.value.from must be a number",
        ),
    ];
    for (axis, want) in cases {
        let e = err(&with_design(&format!(
            "kind = \"lhs\"\nsamples = 4\n{axis}"
        )));
        assert!(e.contains(want), "{axis}: {e}");
    }
    // The same under [sweep], whose `{ from, to, steps }` was refused alike.
    let s = load(
        "[scenario]\nname = \"d\"\nseed = 7\nreplications = 4\n[population]\nusers = 6\n\
         [sweep]\npopulation.users = { from = 10, to = 2000000, steps = 3 }\n",
    );
    assert_eq!(column(&s, "population.users"), [10.0, 1000005.0, 2e6]);
    let e = err(
        "[scenario]\nname = \"d\"\nseed = 7\nreplications = 4\n[sweep]\n\
         game.value = { from = 0.0, to = 2e6, steps = 3 }\n",
    );
    assert!(
        e.contains("game.value = 2000000 (in sweep.game.value.to) is out of range"),
        "{e}"
    );
}

/// Writes `DIR/NAME.toml`, a points design read from the file `NAME` beside it; its path.
fn points_scenario(dir: &std::path::Path, name: &str) -> std::path::PathBuf {
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(
        &path,
        with_design(&format!("kind = \"points\"\nfile = \"{name}\"")),
    )
    .unwrap();
    path
}

/// Loads `file` on a thread: its result, or `None` if it has not returned after 20 s (a read
/// that blocks on a FIFO or never ends on a device).
fn load_within(file: &std::path::Path) -> Option<Result<Scenario, String>> {
    let file = file.to_path_buf();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(Scenario::load(&file, &[]).map_err(|e| e.to_string()));
    });
    rx.recv_timeout(std::time::Duration::from_secs(20)).ok()
}

#[cfg(unix)]
#[test]
fn a_points_file_that_is_a_fifo_or_a_device_is_refused_without_reading_it() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo.csv");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    std::os::unix::fs::symlink("/dev/zero", dir.path().join("zero.csv")).unwrap();
    for name in ["fifo.csv", "zero.csv"] {
        let path = dir.path().join("s.toml");
        std::fs::write(
            &path,
            with_design(&format!("kind = \"points\"\nfile = \"{name}\"")),
        )
        .unwrap();
        let e = load_within(&path)
            .unwrap_or_else(|| panic!("{name}: still reading after 20 s"))
            .err()
            .unwrap_or_else(|| panic!("{name}: accepted"));
        assert!(
            e.contains(name) && e.contains("is not a regular file") && e.contains("s.toml"),
            "{name}: {e}"
        );
    }
}

#[test]
fn points_files_beyond_the_limits_are_refused_before_their_points_are_read() {
    use arrow::array::{ArrayRef, Float64Array};
    use datapact_scenario::design::MAX_POINTS;
    let dir = tempfile::tempdir().unwrap();
    let scenario = |name: &str| points_scenario(dir.path(), name);
    let refused = |name: &str, want: &str| {
        let e = load_within(&scenario(name))
            .unwrap_or_else(|| panic!("{name}: still reading after 20 s"))
            .err()
            .unwrap_or_else(|| panic!("{name}: accepted"));
        assert!(e.contains(name) && e.contains(want), "{name}: {e}");
    };
    // 1 GiB + 1 byte (sparse: no disk used), refused by its size before a byte is read.
    let big = std::fs::File::create(dir.path().join("big.csv")).unwrap();
    big.set_len((1 << 30) + 1).unwrap();
    refused("big.csv", "more than the limit of 1073741824 bytes");
    // One point more than a design may have: the CSV's 20 MB are counted, not kept; the
    // Parquet file's footer (a few KB for a constant column) says so before a row is read.
    let mut csv = String::from("game.value\n");
    csv.push_str(&"0.1\n".repeat(MAX_POINTS + 1));
    std::fs::write(dir.path().join("many.csv"), csv).unwrap();
    // named at its own path and line
    refused("many.csv", &format!("many.csv:{}:", MAX_POINTS + 2));
    refused(
        "many.csv",
        &format!("more than the limit of {MAX_POINTS} design points"),
    );
    let values: ArrayRef = std::sync::Arc::new(Float64Array::from(vec![0.1; MAX_POINTS + 1]));
    write_parquet(
        &dir.path().join("many.parquet"),
        vec![("game.value", values)],
    );
    refused(
        "many.parquet",
        &format!(
            "{} rows, more than the limit of {MAX_POINTS} design points",
            MAX_POINTS + 1
        ),
    );
    // At the limit's edge a file still loads (a few points; the limits are not the sizes).
    std::fs::write(dir.path().join("few.csv"), "game.value\n0.1\n0.2\n").unwrap();
    assert_eq!(
        Scenario::load(&scenario("few.csv"), &[])
            .unwrap()
            .cell_count(),
        2
    );
}

#[test]
fn a_byte_order_mark_is_stripped_and_a_duplicate_column_is_named() {
    use arrow::array::{ArrayRef, Float64Array};
    let dir = tempfile::tempdir().unwrap();
    let scenario = |name: &str| {
        Scenario::load(&points_scenario(dir.path(), name), &[]).map_err(|e| e.to_string())
    };
    std::fs::write(dir.path().join("plain.csv"), "game.value\n0.1\n0.2\n").unwrap();
    std::fs::write(dir.path().join("bom.csv"), "\u{feff}game.value\n0.1\n0.2\n").unwrap();
    let (plain, bom) = (scenario("plain.csv").unwrap(), scenario("bom.csv").unwrap());
    assert_eq!(bom.sweep, plain.sweep);
    assert_eq!(bom.hash(), plain.hash());
    std::fs::write(
        dir.path().join("dup.csv"),
        "# points\ngame.value, game.value\n0.1,0.2\n",
    )
    .unwrap();
    let e = scenario("dup.csv").unwrap_err();
    assert!(
        e.contains("dup.csv:2:") && e.contains("names `game.value` twice"),
        "{e}"
    );
    let col = |v: f64| -> ArrayRef { std::sync::Arc::new(Float64Array::from(vec![v])) };
    write_parquet(
        &dir.path().join("dup.parquet"),
        vec![("game.value", col(0.1)), ("game.value", col(0.2))],
    );
    let e = scenario("dup.parquet").unwrap_err();
    assert!(
        e.contains("dup.parquet") && e.contains("names `game.value` twice"),
        "{e}"
    );
}

/// What is wrong in a points file is shown at that file's path and line (the line of the point
/// that is wrong); what concerns the scenario (a key also swept) at the scenario's `file =` line.
#[test]
fn points_file_errors_name_the_points_file_and_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let load_err = |csv: &str, toml_extra: &str| {
        std::fs::write(dir.path().join("p.csv"), csv).unwrap();
        let path = dir.path().join("s.toml");
        std::fs::write(
            &path,
            format!(
                "{}{toml_extra}",
                with_design("kind = \"points\"\nfile = \"p.csv\"")
            ),
        )
        .unwrap();
        Scenario::load(&path, &[]).unwrap_err()
    };
    let e = load_err("# comment\ngame.valu\n0.1\n", "");
    assert!(e.origin.ends_with("p.csv") && e.line == Some(3), "{e}");
    assert!(
        e.to_string().contains("unknown design key `game.valu`"),
        "{e}"
    );
    let e = load_err("game.value\n0.1\n\n-3\n", "");
    assert!(e.origin.ends_with("p.csv") && e.line == Some(4), "{e}");
    assert!(
        e.to_string().contains("point 2 of design.file p.csv"),
        "{e}"
    );
    // `file =` is line 9 of the scenario (HEAD of 6 lines, [design], kind, file).
    let e = load_err(
        "game.value\n0.1\n",
        "[sweep]\ngame.value = { values = [0.2] }\n",
    );
    assert!(e.origin.ends_with("s.toml") && e.line == Some(9), "{e}");
    assert!(
        e.to_string().contains("both under [sweep] and [design]"),
        "{e}"
    );
}

/// A listed design's canonical text (what the hash hashes and a run stores) names its points by
/// a file and their digest, `points_sha256`, instead of listing them; the digest pins the
/// points, so other points are another hash, and a `points_sha256` that does not match the
/// points is refused, naming the key. Other designs' canonical text is their normalised text.
#[test]
fn a_listed_designs_canonical_text_names_its_points_by_digest() {
    use sha2::Digest;
    let listed = "kind = \"points\"\npoints = [{ game.value = 0.1, game.payment = 0.2 }, \
                  { game.value = 0.05, game.payment = -0.0 }]";
    let s = load(&with_design(listed));
    let digest = s.points_sha256().unwrap();
    let canonical = s.canonical();
    assert!(!canonical.contains("points = ["), "{canonical}");
    assert!(
        canonical.contains(&format!(
            "file = \"design_points.parquet\"\npoints_sha256 = \"{digest}\"\n"
        )),
        "{canonical}"
    );
    let hex: String = sha2::Sha256::digest(canonical.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(s.hash(), hex);
    // The normalised text lists the points and loads back to the same hash.
    assert!(s.normalized().contains("points = ["));
    assert_eq!(load(&s.normalized()).hash(), s.hash());
    // One value one ulp apart: another digest and hash.
    let moved = load(&with_design(&listed.replace("0.05", "0.05000000000000001")));
    assert_ne!(moved.points_sha256().unwrap(), digest);
    assert_ne!(moved.hash(), s.hash());
    // Written by hand, it pins the points: the right digest loads, another is refused.
    let pinned = format!("{listed}\npoints_sha256 = \"{digest}\"");
    assert_eq!(load(&with_design(&pinned)).hash(), s.hash());
    let e = err(&with_design(&pinned.replace(&digest[..4], "0000")));
    assert!(
        e.contains("design.points_sha256") && e.contains("not the ones this scenario names"),
        "{e}"
    );
    let e = err(&with_design(&format!(
        "kind = \"lhs\"\nsamples = 3\ngame.value = {{ from = 0.0, to = 0.3 }}\n\
         points_sha256 = \"{digest}\""
    )));
    assert!(e.contains("only for design.kind = \"points\""), "{e}");
    // Any other design: canonical = normalised.
    for design in [
        "kind = \"lhs\"\nsamples = 3\ngame.value = { from = 0.0, to = 0.3 }",
        "kind = \"grid\"\ngame.value = { values = [0.1, 0.2] }",
    ] {
        let s = load(&with_design(design));
        assert_eq!(s.canonical(), s.normalized(), "{design}");
        assert_eq!(s.points_sha256(), None);
    }
}
