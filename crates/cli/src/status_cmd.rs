//! `datapact status`: which shards of an output directory are complete, how many chunks each
//! unfinished one has done, and what is wrong.

use std::path::Path;

use crate::failure::Failure;

/// `datapact status DIR`.
pub(crate) fn status(dir: &Path) -> Result<(), Failure> {
    crate::run_arg::require_run_dir(dir)?;
    let view = datapact_runner::RunView::open(dir)?;
    // N comes from the run's identity, never from the records found: a record of another N is
    // a problem, not the directory's shard count. Nothing here allocates by N.
    let count = view.identity.shards;
    let complete = view.complete_shards();
    let progress = datapact_runner::progress(&view);
    println!(
        "{}: {} of {} shards complete, {} of {} chunks done",
        dir.display(),
        complete.len(),
        count,
        progress.done,
        progress.chunks
    );
    println!(
        "  complete: {}",
        ranges((0..count).filter(|i| view.records.contains_key(i)))
    );
    let missing = count - complete.len();
    if missing > 0 {
        println!(
            "  missing:  {}",
            ranges((0..count).filter(|i| !view.records.contains_key(i)))
        );
    }
    // Chunks done per unfinished shard (those beyond the chunk count own none).
    const SHOWN: usize = 32;
    let unfinished: Vec<_> = progress.shards.iter().filter(|s| !s.complete).collect();
    for s in unfinished.iter().take(SHOWN) {
        println!("  shard {}: {}/{} chunks done", s.index, s.done, s.chunks);
    }
    if unfinished.len() > SHOWN {
        println!(
            "  ... and {} more unfinished shards",
            unfinished.len() - SHOWN
        );
    }
    for p in &view.problems {
        println!("  problem:  {p}");
    }
    for f in &view.strays {
        println!("  stray:    {f} (no chunk of this run writes it)");
    }
    let manifest = if view.manifest.is_some() {
        "written"
    } else if missing == 0 {
        "missing (rerun any shard with --resume to merge)"
    } else {
        "not yet (written when every shard has finished)"
    };
    println!("  manifest: {manifest}");
    let bad = view.problems.len() + view.strays.len();
    if missing > 0 || bad > 0 || view.manifest.is_none() {
        return Err(Failure {
            code: 1,
            message: format!(
                "{missing} shard(s) not complete, {bad} problem(s){}",
                if view.manifest.is_none() {
                    ", no manifest"
                } else {
                    ""
                }
            ),
        });
    }
    Ok(())
}

/// `0-3, 5, 7-9`: indices as ranges, so a listing stays short whatever N is.
fn ranges(indices: impl Iterator<Item = usize>) -> String {
    let mut spans: Vec<(usize, usize)> = Vec::new();
    for i in indices {
        match spans.last_mut() {
            Some((_, end)) if *end + 1 == i => *end = i,
            _ => spans.push((i, i)),
        }
    }
    if spans.is_empty() {
        return "none".into();
    }
    spans
        .iter()
        .map(|&(a, b)| {
            if a == b {
                a.to_string()
            } else {
                format!("{a}-{b}")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}
