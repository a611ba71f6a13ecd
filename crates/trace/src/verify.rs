//! `datapact verify`: an output directory checked file by file through its [`RunView`]: every
//! part the run's chunk plan needs is present, matches the manifest's checksum and row count,
//! and carries this run's metadata; the manifest and shard records agree with `_run.json`, and
//! so does a listed design's `design_points.parquet`.

use std::path::Path;

use crate::FileError;
use crate::read::inspect_part_and_metadata;
use crate::run_view::RunView;

/// What is wrong with an output directory (empty vectors: all is well).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Verification {
    /// Part files checked.
    pub checked: usize,
    /// Part files the run's chunk plan needs that are not there.
    pub missing: Vec<String>,
    /// Files whose checksum, row count or metadata differs from the manifest and the run, or
    /// that do not read, with why.
    pub damaged: Vec<(String, String)>,
    /// Part files no chunk of the run writes.
    pub unexpected: Vec<String>,
    /// Partial files left by an interrupted run (harmless: readers skip dot-files).
    pub partial: Vec<String>,
    /// Where the manifest or a shard record disagrees with the run's identity (`_run.json`).
    pub inconsistent: Vec<String>,
}

impl Verification {
    /// Whether nothing is missing, damaged, unexpected or inconsistent (partial files do not
    /// count).
    pub fn ok(&self) -> bool {
        self.missing.is_empty()
            && self.damaged.is_empty()
            && self.unexpected.is_empty()
            && self.inconsistent.is_empty()
    }
}

/// Checks a finished run: the manifest against `_run.json`, and every part file the chunk plan
/// needs against the manifest (SHA-256, rows read back) and the run (metadata). Errs when the
/// directory is not a run or has no manifest (the run did not finish).
pub fn verify(out: &Path) -> Result<Verification, FileError> {
    let view = RunView::open(out).map_err(|e| {
        e.context(|e| {
            format!(
                "{e}: the run has not finished or is not a datapact run (see `datapact status`)"
            )
        })
    })?;
    let Some(manifest) = view.manifest.as_ref() else {
        // A manifest.json that is there but unreadable (damaged, a FIFO, a symlink) is named.
        let why = if view.problems.is_empty() {
            "no manifest.json: the run has not finished (see `datapact status`)".to_string()
        } else {
            view.problems.join("; ")
        };
        return Err(FileError::damaged(format!("{}: {why}", out.display())));
    };
    let mut v = Verification {
        inconsistent: view.problems.clone(),
        unexpected: view.strays.clone(),
        ..Verification::default()
    };
    for file in view.expected_parts() {
        let path = out.join(&file);
        v.checked += 1;
        if !path.is_file() {
            v.missing.push(file);
            continue;
        }
        let listed = manifest.parts.iter().find(|p| p.file == file);
        let checked = inspect_part_and_metadata(&path, listed.map(|p| p.sha256.as_str())).and_then(
            |(info, metadata)| match listed {
                Some(p) if p.rows != info.rows => {
                    Err(format!("{} rows, manifest says {}", info.rows, p.rows))
                }
                _ => view.check_metadata(&file, &metadata),
            },
        );
        if let Err(why) = checked {
            v.damaged.push((file, why));
        }
    }
    if view.identity.design_points.is_some() {
        let file = crate::DESIGN_POINTS_FILE.to_string();
        v.checked += 1;
        match crate::check_design_points(out, &view.identity) {
            Ok(()) => {}
            Err(_) if !out.join(&file).is_file() => v.missing.push(file),
            Err(why) => v.damaged.push((file, why)),
        }
    }
    for table in view.tables() {
        let Ok(entries) = std::fs::read_dir(out.join(table.dir_name())) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().to_string();
            if name.starts_with('.') {
                v.partial.push(format!("{}/{name}", table.dir_name()));
            }
        }
    }
    v.unexpected.sort();
    v.partial.sort();
    Ok(v)
}
