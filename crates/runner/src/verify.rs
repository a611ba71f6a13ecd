//! `datapact verify`: an output directory checked against its manifest, file by file.

use std::path::Path;

use datapact_trace::{PartInfo, Table};

use crate::manifest::read_manifest;

/// What is wrong with an output directory (empty vectors: all is well).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Verification {
    /// Part files checked.
    pub checked: usize,
    /// Files the manifest lists that are not there.
    pub missing: Vec<String>,
    /// Files whose checksum or row count differs from the manifest, or that do not read, with why.
    pub damaged: Vec<(String, String)>,
    /// Part files no manifest entry accounts for.
    pub unexpected: Vec<String>,
    /// Partial files left by an interrupted run (harmless: readers skip dot-files).
    pub partial: Vec<String>,
}

impl Verification {
    /// Whether nothing is missing, damaged or unexpected (partial files do not count).
    pub fn ok(&self) -> bool {
        self.missing.is_empty() && self.damaged.is_empty() && self.unexpected.is_empty()
    }
}

/// Checks every part file against `manifest.json`: present, same SHA-256, same row count when
/// read back. Errs when there is no readable manifest (the run did not finish).
pub fn verify(out: &Path) -> Result<Verification, String> {
    let manifest = read_manifest(out)
        .map_err(|e| format!("{e}: the run has not finished (see `datapact status`)"))?;
    let mut v = Verification::default();
    for part in &manifest.parts {
        let path = out.join(&part.file);
        v.checked += 1;
        if !path.is_file() {
            v.missing.push(part.file.clone());
            continue;
        }
        match inspect_part(&path, Some(&part.sha256)) {
            Ok(info) if info.rows != part.rows => v.damaged.push((
                part.file.clone(),
                format!("{} rows, manifest says {}", info.rows, part.rows),
            )),
            Ok(_) => {}
            Err(why) => v.damaged.push((part.file.clone(), why)),
        }
    }
    for table in Table::ALL {
        let dir = out.join(table.dir_name());
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().to_string();
            let rel = format!("{}/{name}", table.dir_name());
            if name.starts_with('.') {
                v.partial.push(rel);
            } else if !manifest.parts.iter().any(|p| p.file == rel) {
                v.unexpected.push(rel);
            }
        }
    }
    v.unexpected.sort();
    v.partial.sort();
    Ok(v)
}

/// Checks one part file: its SHA-256 equals `recorded` (when a manifest or shard record holds
/// one), and it reads back whole. Returns what a manifest entry needs. Used by `verify` and by
/// `--resume`, which keeps a chunk only if every part passes.
pub(crate) fn inspect_part(path: &Path, recorded: Option<&str>) -> Result<PartInfo, String> {
    let sha256 = datapact_trace::sha256_file(path).map_err(|e| e.to_string())?;
    if let Some(r) = recorded.filter(|r| **r != *sha256) {
        return Err(format!(
            "checksum {} != recorded {}",
            &sha256[..12],
            &r[..12.min(r.len())]
        ));
    }
    let rows = datapact_trace::count_rows(path).map_err(|e| e.to_string())?;
    Ok(PartInfo {
        path: path.to_path_buf(),
        rows,
        sha256,
    })
}
