//! Sharding: the union of N shards' outputs equals the single-machine output file for file,
//! byte for byte, for N = 1, 3 and 7.

use std::path::Path;

use datapact_runner::Shard;
use datapact_tests::*;

fn part_files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for table in ["cells", "diagnostics", "rounds"] {
        for e in std::fs::read_dir(dir.join(table)).unwrap() {
            let p = e.unwrap().path();
            out.push((
                format!("{table}/{}", p.file_name().unwrap().to_string_lossy()),
                std::fs::read(&p).unwrap(),
            ));
        }
    }
    out.sort();
    out
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
