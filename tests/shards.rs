//! Sharding: the union of N shards' outputs equals the single-machine output file for file,
//! byte for byte, for N = 1, 3 and 7.

use std::path::Path;

use datapact_runner::Shard;
use datapact_tests::*;

fn part_files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    datapact_tests::part_files(dir, &["cells", "diagnostics", "rounds"])
}

#[test]
fn union_of_shards_equals_single_machine_output() {
    // 9 x 9 cells in chunks of 8 cells: 11 chunks, the last one short.
    let s = baseline(&[
        "scenario.replications=100",
        "output.trace=rounds",
        "output.chunk_cells=8",
        "sweep.game.value.steps=9",
        "sweep.game.payment.steps=9",
    ]);
    let whole = tempfile::tempdir().unwrap();
    run(&s, whole.path(), 2, Shard::WHOLE);
    let reference = part_files(whole.path());
    let manifest = datapact_runner::read_manifest(whole.path()).unwrap();
    assert!(
        manifest.chunks >= 7,
        "need at least 7 chunks to test 7 shards, got {}",
        manifest.chunks
    );
    for n in [1usize, 3, 7] {
        let dir = tempfile::tempdir().unwrap();
        for i in 0..n {
            // Shards run in reverse order with different thread counts: order and threads must not matter.
            run(
                &s,
                dir.path(),
                1 + (i % 2),
                Shard {
                    index: n - 1 - i,
                    count: n,
                },
            );
        }
        let union = part_files(dir.path());
        assert_eq!(union.len(), reference.len(), "N = {n}: file count");
        for (a, b) in union.iter().zip(&reference) {
            assert_eq!(a.0, b.0, "N = {n}");
            assert!(a.1 == b.1, "N = {n}: {} differs", a.0);
        }
        let merged = datapact_runner::read_manifest(dir.path()).unwrap();
        assert_eq!(
            (merged.parts.clone(), merged.rows.clone()),
            (manifest.parts.clone(), manifest.rows.clone()),
            "N = {n}"
        );
    }
}

/// A sampled design crossed with a grid shards and resumes like a grid: the union of shards, and
/// a resumed run that lost a chunk, equal the single-machine output byte for byte.
/// Every kind of design, crossed with a two-value grid: the union of three shards equals one
/// run byte for byte, the swept columns hold each cell's point, and a run that lost a chunk and
/// its manifest resumes to the same files.
#[test]
fn designs_shard_and_resume_like_grids() {
    let axes = "game.value = { from = 0.0, to = 0.3 }\n\
                game.payment = { from = 0.01, to = 0.3, log = true }";
    for (design, points) in [
        (format!("kind = \"sobol\"\nsamples = 4\n{axes}"), 24),
        (format!("kind = \"lhs\"\nsamples = 7\n{axes}"), 7),
        (format!("kind = \"morris\"\nsamples = 3\n{axes}"), 9),
        (
            "kind = \"points\"\npoints = [{ game.value = 0.1, game.payment = 0.2 }, \
             { game.value = 0.2, game.payment = 0.05 }, { game.value = 0.0, game.payment = 0.3 }]"
                .to_string(),
            3,
        ),
    ] {
        design_shards_and_resumes(&design, points);
    }
}

fn design_shards_and_resumes(design: &str, points: usize) {
    let s = scenario(
        &format!(
            r#"
[scenario]
name = "design"
seed = 11
replications = 40
[population]
users = 6
[sweep]
game.threshold = {{ values = [0.5, 0.8] }}
[design]
{design}
[output]
trace = "rounds"
chunk_cells = 5
"#
        ),
        &[],
    );
    assert_eq!(s.cell_count(), 2 * points, "{design}");
    let whole = tempfile::tempdir().unwrap();
    run(&s, whole.path(), 2, Shard::WHOLE);
    let reference = part_files(whole.path());
    let manifest = datapact_runner::read_manifest(whole.path()).unwrap();
    let recorded = manifest
        .design
        .as_ref()
        .expect("the manifest records the design");
    // A listed design's points are stored once, in `design_points.parquet`, which the record
    // names; the sampled kinds' are in the record.
    let values: Vec<f64> = match &recorded.points_file {
        Some(file) => {
            assert!(recorded.points.is_empty(), "{design}");
            assert_eq!(file.rows as usize, points);
            let listed = datapact_trace::read_part(&whole.path().join(&file.file)).unwrap();
            f64s(&listed, "game.value")
        }
        None => recorded.points.iter().map(|p| p[0]).collect(),
    };
    assert_eq!((values.len(), recorded.grid_cells), (points, 2));
    assert_eq!(recorded.columns, ["value", "payment"]);
    // The swept columns hold each cell's point.
    let cells = read(whole.path(), datapact_trace::Table::Cells);
    let (value, cell) = (f64s(&cells, "value"), u32s(&cells, "cell"));
    for (v, c) in value.iter().zip(&cell) {
        assert_eq!(*v, values[*c as usize % points], "{design}");
    }

    let sharded = tempfile::tempdir().unwrap();
    for i in 0..3 {
        run(
            &s,
            sharded.path(),
            1 + i % 2,
            Shard {
                index: 2 - i,
                count: 3,
            },
        );
    }
    assert_eq!(part_files(sharded.path()), reference, "{design}");

    // Lose a chunk and the manifest, then resume.
    std::fs::remove_file(whole.path().join("cells/part-000001.parquet")).unwrap();
    std::fs::remove_file(whole.path().join("manifest.json")).unwrap();
    let opts = datapact_runner::RunOptions {
        threads: 2,
        resume: true,
        ..datapact_runner::RunOptions::new(whole.path())
    };
    datapact_runner::run(&s, &opts).expect("resume succeeds");
    assert_eq!(part_files(whole.path()), reference, "{design}");
    assert_eq!(
        datapact_runner::read_manifest(whole.path()).unwrap(),
        manifest
    );
}

/// `datapact_runner::progress` (what `datapact status` shows while an array runs) counts, per
/// shard, the chunks whose parts are in place: a finished shard all of its chunks, a shard killed
/// after some chunks those chunks (and not the one it was writing), a shard not started none; a
/// chunk whose record lists a part that is gone is not done.
#[test]
fn progress_counts_the_chunks_each_shard_has_done() {
    // 10 cells in chunks of 1: 10 chunks; 3 shards own chunks {0,3,6,9}, {1,4,7}, {2,5,8}.
    let s = baseline(&[
        "scenario.replications=20",
        "output.chunk_cells=1",
        "sweep.game.value.steps=10",
        "sweep.game.payment={ values = [0.1] }",
    ]);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path();
    let three = |index| Shard { index, count: 3 };
    // Shard 0 finishes; shard 1 finishes, then loses its record (as if killed before writing
    // it) and its last chunk's parts, with the hidden temporary a writer leaves; shard 2 has
    // not started.
    run(&s, out, 1, three(0));
    run(&s, out, 1, three(1));
    std::fs::remove_file(out.join("_shards/shard-00001-of-00003.json")).unwrap();
    for table in ["cells", "diagnostics", "contrasts"] {
        let part = out.join(table).join("part-000007.parquet");
        std::fs::rename(&part, out.join(table).join(".part-000007.parquet.tmp")).unwrap();
    }
    // A chunk record whose part is gone does not count: chunk 4 loses its cells part.
    std::fs::remove_file(out.join("cells/part-000004.parquet")).unwrap();

    let view = datapact_runner::RunView::open(out).unwrap();
    let p = datapact_runner::progress(&view);
    let got: Vec<(usize, usize, usize, bool)> = p
        .shards
        .iter()
        .map(|s| (s.index, s.done, s.chunks, s.complete))
        .collect();
    assert_eq!(
        got,
        [(0, 4, 4, true), (1, 1, 3, false), (2, 0, 3, false)],
        "{p:?}"
    );
    assert_eq!((p.done, p.chunks), (5, 10));

    // Finishing the run: every chunk done, every shard complete.
    for table in ["cells", "diagnostics", "contrasts"] {
        std::fs::remove_file(out.join(table).join(".part-000007.parquet.tmp")).unwrap();
    }
    let mut opts = datapact_runner::RunOptions::new(out);
    opts.shard = three(1);
    opts.resume = true;
    datapact_runner::run(&s, &opts).unwrap();
    run(&s, out, 1, three(2));
    let p = datapact_runner::progress(&datapact_runner::RunView::open(out).unwrap());
    assert_eq!((p.done, p.chunks), (10, 10));
    assert!(p.shards.iter().all(|s| s.complete && s.done == s.chunks));
}

/// A run of more shards than chunks: only the shards that own a chunk are listed, whatever N.
#[test]
fn progress_lists_only_shards_that_own_a_chunk() {
    let s = baseline(&[
        "scenario.replications=10",
        "output.chunk_cells=1",
        "sweep.game.value.steps=3",
        "sweep.game.payment={ values = [0.1] }",
    ]);
    let dir = tempfile::tempdir().unwrap();
    run(
        &s,
        dir.path(),
        1,
        Shard {
            index: 1,
            count: 5000,
        },
    );
    let p = datapact_runner::progress(&datapact_runner::RunView::open(dir.path()).unwrap());
    assert_eq!(p.shards.len(), 3);
    assert_eq!((p.done, p.chunks), (1, 3));
    assert_eq!((p.shards[1].done, p.shards[1].complete), (1, true));
}
