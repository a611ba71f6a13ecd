//! The DIR argument of the commands that read one run (`status`, `verify`, `sensitivity`): a
//! path that is not a run at all is bad input (exit 2), as `diff` already says; a run that is
//! there but damaged or unfinished stays a runtime failure (exit 1).

use std::path::Path;

use crate::failure::Failure;

/// Refuses (exit 2) a DIR that does not exist, is not a directory, or holds neither a run's
/// identity (`_run.json`) nor a manifest: nothing of a run is there to check or read. A
/// directory with a manifest but no `_run.json` is a damaged (or pre-0.1) run: left to the
/// command, which names it (exit 1).
pub(crate) fn require_run_dir(dir: &Path) -> Result<(), Failure> {
    let refused = |why: String| Failure {
        code: 2,
        message: format!("{}: {why}", dir.display()),
    };
    match std::fs::metadata(dir) {
        Err(e) => Err(refused(format!("{e}; give a run's output directory"))),
        Ok(m) if !m.is_dir() => Err(refused(
            "not a directory; give a run's output directory".into(),
        )),
        Ok(_) => {
            let has = |name: &str| std::fs::symlink_metadata(dir.join(name)).is_ok();
            if has("_run.json") || has("manifest.json") {
                Ok(())
            } else {
                Err(refused(
                    "not a datapact run (no _run.json nor manifest.json in it); give a run's \
                     output directory"
                        .into(),
                ))
            }
        }
    }
}

/// Refuses (exit 2) a report's DIR that does not exist or is not a directory.
pub(crate) fn require_dir(dir: &Path) -> Result<(), Failure> {
    match std::fs::metadata(dir) {
        Ok(m) if m.is_dir() => Ok(()),
        Ok(_) => Err(Failure {
            code: 2,
            message: format!(
                "{}: not a directory; give a run or a directory of runs",
                dir.display()
            ),
        }),
        Err(e) => Err(Failure {
            code: 2,
            message: format!("{}: {e}; give a run or a directory of runs", dir.display()),
        }),
    }
}
