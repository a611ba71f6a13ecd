//! Claiming an output location, for every writer (`run`, `report`, `sensitivity`, `diff`,
//! `audit`): a directory is created, or adopted only when it is empty or already this kind of
//! output; a file is created, or replaced only when it is this kind of output; and nothing is
//! ever written inside another run, where it would be read as that run's outputs or damage it.
//! The one exception is what a run is designed to hold beside its data: a derived output as a
//! direct child of the run's directory under a name the run does not use (`RUN/report`,
//! `RUN/sensitivity`, `RUN/diff.parquet`, the defaults of `report` and `sensitivity`).
//!
//! A claimed directory (other than a run's, whose claim is `_run.json`) holds `_output.json`,
//! naming its kind; a run's claim is made by the runner (`datapact_runner`).

use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::FileError;

/// The file that marks a directory as a datapact output of a kind (not a run).
pub const OUTPUT_MARKER: &str = "_output.json";

/// What `_output.json` says.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OutputMarker {
    /// `report`, `sensitivity`, `audit`, …
    pub kind: String,
    /// The datapact version that claimed the directory.
    pub datapact_version: String,
}

/// Names a run's directory uses for its own files (tables, records, locks, metadata); a
/// derived output may not take them.
pub fn reserved_in_run(name: &str) -> bool {
    name.starts_with('.')
        || name.starts_with('_')
        || name == "manifest.json"
        || crate::Table::ALL.iter().any(|t| t.dir_name() == name)
}

/// `path` made absolute and free of `.`/`..` and of symlinks as far as it exists (the deepest
/// existing ancestor canonicalised, the rest appended): where writing to it actually goes.
fn resolved(path: &Path) -> Result<PathBuf, FileError> {
    let absolute = std::path::absolute(path)
        .map_err(|e| FileError::io(format!("{}: {e}", path.display()), e))?;
    let mut rest: Vec<std::ffi::OsString> = Vec::new();
    let mut at = absolute.as_path();
    loop {
        if let Ok(canonical) = at.canonicalize() {
            let mut out = canonical;
            for part in rest.iter().rev() {
                match Path::new(part).components().next() {
                    Some(Component::ParentDir) => {
                        out.pop();
                    }
                    Some(Component::CurDir) | None => {}
                    _ => out.push(part),
                }
            }
            return Ok(out);
        }
        match (at.parent(), at.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_os_string());
                at = parent;
            }
            (Some(parent), None) => {
                // `..` or `.` as the last component of a path that does not exist yet.
                rest.push(
                    at.components()
                        .next_back()
                        .map_or_else(std::ffi::OsString::new, |c| c.as_os_str().to_os_string()),
                );
                at = parent;
            }
            _ => return Ok(absolute),
        }
    }
}

/// Refuses `out` if it lies inside a datapact run (a directory with `_run.json` among its
/// ancestors, or `out` itself when `out_may_be_a_run` is false), unless it is a direct child of
/// that run under a name the run does not use and `derived` allows it (a report or an analysis
/// of the run beside its data). The error names the run.
pub fn check_not_inside_a_run(
    out: &Path,
    out_may_be_a_run: bool,
    derived: bool,
) -> Result<(), FileError> {
    let target = resolved(out)?;
    let mut child: Option<&std::ffi::OsStr> = None;
    for (depth, dir) in target.ancestors().enumerate() {
        let is_run = std::fs::symlink_metadata(crate::identity_path(dir)).is_ok();
        if is_run && !(depth == 0 && out_may_be_a_run) {
            let beside = depth == 1
                && derived
                && child.is_some_and(|c| !reserved_in_run(&c.to_string_lossy()));
            if !beside {
                let how = if depth == 0 {
                    "is a datapact run".to_string()
                } else {
                    format!("is inside the datapact run {}", dir.display())
                };
                return Err(FileError::bad_input(format!(
                    "{} {how}; writing there would mix files into that run's outputs (or \
                     damage them): give a directory outside it{}",
                    out.display(),
                    if derived {
                        " (or a new name directly in it, like RUN/report)"
                    } else {
                        ""
                    }
                )));
            }
        }
        child = dir.file_name();
    }
    Ok(())
}

/// Whether a directory entry is a hidden temporary some datapact writer left (a killed one):
/// a directory holding only these counts as empty.
fn is_leftover_temporary(name: &str) -> bool {
    name.starts_with('.') && name.contains(".tmp")
}

/// Claims directory `out` for an output of `kind` (`report`, `sensitivity`, `audit`):
/// creates it, or adopts it if it is empty or already holds this kind of output
/// (`_output.json`); refuses a file, a dangling symlink, another kind's output, a non-empty
/// directory that is no datapact output (its files could be overwritten), and any place
/// inside a run other than a new name directly in it ([`check_not_inside_a_run`]). Writes
/// the marker. The error is a sentence naming `out`.
pub fn claim_output_dir(out: &Path, kind: &str) -> Result<(), FileError> {
    claim_dir(out, kind, true)
}

/// As [`claim_output_dir`], for an output that is no analysis of one run (the audit, whose
/// own claim runs are nested in it): refused anywhere inside a run, a new name directly in
/// it included.
pub fn claim_output_dir_outside_runs(out: &Path, kind: &str) -> Result<(), FileError> {
    claim_dir(out, kind, false)
}

fn claim_dir(out: &Path, kind: &str, derived: bool) -> Result<(), FileError> {
    let shown = out.display();
    check_not_inside_a_run(out, false, derived)?;
    match std::fs::symlink_metadata(out) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(out)
                .map_err(|e| FileError::io(format!("{shown}: cannot create it: {e}"), e))?;
        }
        Err(e) => return Err(FileError::io(format!("{shown}: cannot inspect it: {e}"), e)),
        Ok(_) => {
            let meta = std::fs::metadata(out).map_err(|e| {
                if e.kind() == std::io::ErrorKind::NotFound {
                    FileError::bad_input(format!(
                        "{shown}: is a dangling symlink (its target does not exist)"
                    ))
                } else {
                    FileError::io(format!("{shown}: cannot follow it: {e}"), e)
                }
            })?;
            if !meta.is_dir() {
                return Err(FileError::bad_input(format!(
                    "{shown}: exists and is not a directory; give a new or empty directory"
                )));
            }
            let marker = out.join(OUTPUT_MARKER);
            if std::fs::symlink_metadata(&marker).is_ok() {
                let found: OutputMarker =
                    crate::files::read_json(&marker, 1 << 16).map_err(|e| {
                        e.context(|e| {
                            format!("{e}; {shown} is not a datapact output this version can adopt")
                        })
                    })?;
                if found.kind != kind {
                    return Err(FileError::bad_input(format!(
                        "{shown}: holds a datapact {} output, not a {kind}; give another \
                         directory",
                        crate::files::clip(&found.kind, 40)
                    )));
                }
            } else {
                let entries = std::fs::read_dir(out)
                    .map_err(|e| FileError::io(format!("{shown}: cannot list it: {e}"), e))?;
                let foreign: Vec<String> = entries
                    .flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| !is_leftover_temporary(n))
                    .take(3)
                    .collect();
                if !foreign.is_empty() {
                    return Err(FileError::bad_input(format!(
                        "{shown}: is not empty ({}{}) and not a datapact {kind} (no \
                         {OUTPUT_MARKER}); its files could be overwritten, so give a new or \
                         empty directory",
                        foreign
                            .iter()
                            .map(|n| crate::files::clip(n, 60))
                            .collect::<Vec<_>>()
                            .join(", "),
                        if foreign.len() == 3 { ", ..." } else { "" }
                    )));
                }
            }
        }
    }
    let marker = OutputMarker {
        kind: kind.to_string(),
        datapact_version: env!("CARGO_PKG_VERSION").to_string(),
    };
    crate::atomic::write_json_atomic(&out.join(OUTPUT_MARKER), &marker)
        .map_err(|e| FileError::io(format!("{shown}: cannot write {OUTPUT_MARKER}: {e}"), e))
}

/// Claims file `out` for an output that `is_own` recognises (e.g. a `diff.parquet` by its
/// metadata): absent (its directory is created), or a regular file `is_own` accepts; never
/// a directory, a symlink or a file of something else, and never inside a run other than
/// directly in its directory under a name it does not use.
pub fn claim_output_file(
    out: &Path,
    what: &str,
    is_own: impl FnOnce(&Path) -> bool,
) -> Result<(), FileError> {
    let shown = out.display();
    check_not_inside_a_run(out, false, true)?;
    match std::fs::symlink_metadata(out) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|e| {
                    FileError::io(format!("{}: cannot create it: {e}", dir.display()), e)
                })?;
            }
            Ok(())
        }
        Err(e) => Err(FileError::io(format!("{shown}: cannot inspect it: {e}"), e)),
        Ok(m) if m.is_file() && is_own(out) => Ok(()),
        Ok(m) if m.is_file() => Err(FileError::bad_input(format!(
            "{shown}: exists and is not a {what} written by datapact; it would be overwritten, \
             so give another path"
        ))),
        Ok(_) => Err(FileError::bad_input(format!(
            "{shown}: exists and is not a regular file; give a file path for the {what}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_at(dir: &Path) {
        std::fs::create_dir_all(dir.join("cells")).unwrap();
        std::fs::write(dir.join("_run.json"), "{}").unwrap();
    }

    #[test]
    fn nothing_is_written_inside_a_run_but_beside_its_data() {
        let tmp = tempfile::tempdir().unwrap();
        let run = tmp.path().join("A");
        run_at(&run);
        assert!(check_not_inside_a_run(&run.join("cells/sub"), true, false).is_err());
        assert!(check_not_inside_a_run(&run.join("cells"), false, true).is_err());
        assert!(check_not_inside_a_run(&run.join("x/y"), false, true).is_err());
        assert!(check_not_inside_a_run(&run.join("_shards"), false, true).is_err());
        assert!(check_not_inside_a_run(&run.join("new/../cells"), false, true).is_err());
        assert!(check_not_inside_a_run(&run, false, true).is_err());
        // A run may resume in place; a derived output may take a new name in the run.
        assert!(check_not_inside_a_run(&run, true, false).is_ok());
        assert!(check_not_inside_a_run(&run.join("report"), false, true).is_ok());
        assert!(check_not_inside_a_run(&run.join("report"), true, false).is_err());
        assert!(check_not_inside_a_run(&tmp.path().join("B"), true, false).is_ok());
        #[cfg(unix)]
        {
            // Through a symlink to the run's table directory.
            let link = tmp.path().join("link");
            std::os::unix::fs::symlink(run.join("cells"), &link).unwrap();
            assert!(check_not_inside_a_run(&link.join("x"), true, false).is_err());
        }
    }

    #[test]
    fn a_directory_is_created_or_adopted_only_when_empty_or_its_kind() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("rep");
        claim_output_dir(&out, "report").unwrap();
        std::fs::write(out.join("REPORT.md"), "x").unwrap();
        claim_output_dir(&out, "report").unwrap();
        let err = claim_output_dir(&out, "sensitivity").unwrap_err().message;
        assert!(err.contains("holds a datapact report output"), "{err}");
        let mine = tmp.path().join("mine");
        std::fs::create_dir(&mine).unwrap();
        std::fs::write(mine.join("REPORT.md"), "my notes").unwrap();
        let err = claim_output_dir(&mine, "report").unwrap_err().message;
        assert!(err.contains("is not empty (REPORT.md)"), "{err}");
        assert_eq!(
            std::fs::read_to_string(mine.join("REPORT.md")).unwrap(),
            "my notes"
        );
        let file = tmp.path().join("file");
        std::fs::write(&file, "x").unwrap();
        assert!(claim_output_dir(&file, "report").is_err());
        let empty = tmp.path().join("empty");
        std::fs::create_dir(&empty).unwrap();
        std::fs::write(empty.join(".x.md.AbC123.tmp"), "").unwrap();
        claim_output_dir(&empty, "audit").unwrap();
        // An output that is no analysis of a run takes no name in one either.
        let run = tmp.path().join("A");
        run_at(&run);
        assert!(claim_output_dir(&run.join("report"), "report").is_ok());
        let err = claim_output_dir_outside_runs(&run.join("audit"), "audit")
            .unwrap_err()
            .message;
        assert!(err.contains("inside the datapact run"), "{err}");
        assert!(!run.join("audit").exists());
        claim_output_dir_outside_runs(&empty, "audit").unwrap();
    }

    #[test]
    fn a_file_is_replaced_only_when_it_is_its_own() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("d/diff.parquet");
        claim_output_file(&out, "diff", |_| false).unwrap();
        std::fs::write(&out, "x").unwrap();
        assert!(claim_output_file(&out, "diff", |_| true).is_ok());
        let err = claim_output_file(&out, "diff", |_| false)
            .unwrap_err()
            .message;
        assert!(err.contains("not a diff written by datapact"), "{err}");
        assert!(claim_output_file(tmp.path(), "diff", |_| true).is_err());
    }
}
