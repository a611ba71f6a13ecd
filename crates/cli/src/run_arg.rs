//! The DIR argument of the commands that read one run (`status`, `verify`, `sensitivity`) or
//! runs (`report`): a path that is not a run at all is bad input (exit 2), as `diff` already
//! says; a run that is there but damaged or unfinished stays a runtime failure (exit 1).

use std::path::Path;

use crate::failure::Failure;

/// Refuses (exit 2) a DIR that does not exist, is not a directory, or holds neither a run's
/// identity (`_run.json`) nor a manifest: nothing of a run is there to check or read. A
/// directory with a manifest but no `_run.json` is a damaged (or pre-0.1) run: left to the
/// command, which names it (exit 1).
pub(crate) fn require_run_dir(dir: &Path) -> Result<(), Failure> {
    const WANTED: &str = "give a run's output directory";
    existing_dir(dir, WANTED)?;
    let has = |path: &Path| std::fs::symlink_metadata(path).is_ok();
    if has(&datapact_trace::identity_path(dir)) || has(&dir.join("manifest.json")) {
        Ok(())
    } else {
        Err(refused(
            dir,
            format!("not a datapact run (no _run.json nor manifest.json in it); {WANTED}"),
        ))
    }
}

/// Refuses (exit 2) a report's DIR that does not exist or is not a directory.
pub(crate) fn require_dir(dir: &Path) -> Result<(), Failure> {
    existing_dir(dir, "give a run or a directory of runs")
}

/// Refuses (exit 2) a DIR that does not exist or is not a directory; `wanted` says what to give.
fn existing_dir(dir: &Path, wanted: &str) -> Result<(), Failure> {
    match std::fs::metadata(dir) {
        Ok(m) if m.is_dir() => Ok(()),
        Ok(_) => Err(refused(dir, format!("not a directory; {wanted}"))),
        Err(e) => Err(refused(dir, format!("{e}; {wanted}"))),
    }
}

fn refused(dir: &Path, why: String) -> Failure {
    Failure {
        code: 2,
        message: format!("{}: {why}", dir.display()),
    }
}
