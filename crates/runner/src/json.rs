//! JSON files written atomically: a hidden temporary file private to the writer, then a rename,
//! so a reader sees either nothing or a whole file (`_run.json`, the shard and chunk records,
//! `manifest.json`).

use std::io::Write;
use std::path::Path;

use serde::Serialize;

/// `value` as pretty JSON in a hidden temporary file beside `path`, under a random name created
/// exclusively: the shards of a Slurm array, possibly on several nodes with the same process
/// ids, write the same files (`_run.json`, `manifest.json`) at once, and a shared temporary
/// name lets one writer rename away the file another is about to rename. Dropped (on any
/// error), the temporary file is deleted.
fn write_tmp<T: Serialize>(path: &Path, value: &T) -> std::io::Result<tempfile::NamedTempFile> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let prefix = format!(".{name}.");
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(".tmp");
    // tempfile's default mode is 0600; like any file we write, let the umask decide, so that
    // colleagues who can read the parts can read the manifest.
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
    let mut tmp = builder.tempfile_in(dir)?;
    let mut text = serde_json::to_string_pretty(value).map_err(std::io::Error::other)?;
    text.push('\n');
    tmp.write_all(text.as_bytes())?;
    Ok(tmp)
}

/// Writes `value` as pretty JSON to `path` atomically (private temporary file, then rename).
/// Concurrent writers of the same path all succeed; the last rename wins.
pub fn write_json_atomic<T: Serialize>(path: &Path, value: &T) -> std::io::Result<()> {
    write_tmp(path, value)?
        .persist(path)
        .map(drop)
        .map_err(|e| e.error)
}

/// Writes `value` as pretty JSON to `path` only if no file is there, atomically: a whole file
/// appears under `path` or nothing does. Returns `false`, writing nothing, if `path` exists;
/// of concurrent callers exactly one gets `true`. (tempfile's `persist_noclobber` renames with
/// RENAME_NOREPLACE or hard-links, which cannot replace a file; on a filesystem that offers
/// neither, it falls back to a plain rename, where the last one wins.)
pub fn create_json_exclusive<T: Serialize>(path: &Path, value: &T) -> std::io::Result<bool> {
    match write_tmp(path, value)?.persist_noclobber(path) {
        Ok(_) => Ok(true),
        Err(e) if e.error.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) if !path.exists() => e.file.persist(path).map(|_| true).map_err(|e| e.error),
        Err(e) => Err(e.error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;
    use std::sync::{Arc, Barrier};

    fn fresh_dir(tag: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("datapact-manifest-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn leftovers(dir: &Path) -> Vec<String> {
        std::fs::read_dir(dir)
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with('.'))
            .collect()
    }

    /// Writers racing on one path, as the shards of an array do on `manifest.json`.
    #[test]
    fn concurrent_atomic_writers_of_one_path_all_succeed() {
        let dir = fresh_dir("atomic");
        let path = dir.join("manifest.json");
        let start = Arc::new(Barrier::new(8));
        let writers: Vec<_> = (0..8u64)
            .map(|w| {
                let (path, start) = (path.clone(), start.clone());
                std::thread::spawn(move || {
                    start.wait();
                    (0..200u64)
                        .filter(|i| write_json_atomic(&path, &(w * 1000 + i)).is_err())
                        .count()
                })
            })
            .collect();
        let failures: usize = writers.into_iter().map(|t| t.join().unwrap()).sum();
        assert_eq!(failures, 0, "some concurrent writes failed");
        let last: u64 = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert!(
            last % 1000 < 200 && last / 1000 < 8,
            "not a value any writer wrote: {last}"
        );
        assert_eq!(leftovers(&dir), Vec::<String>::new());
        #[cfg(unix)]
        {
            // Readable as any file the process writes (the umask decides), not tempfile's 0600.
            use std::os::unix::fs::PermissionsExt;
            std::fs::write(dir.join("plain"), "1").unwrap();
            let mode = |p: PathBuf| std::fs::metadata(p).unwrap().permissions().mode();
            assert_eq!(mode(path.clone()), mode(dir.join("plain")));
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// Shards claiming `_run.json` together: one creates it, the rest find it whole.
    #[test]
    fn exactly_one_of_concurrent_exclusive_creators_wins() {
        let dir = fresh_dir("exclusive");
        for round in 0..40 {
            let path = dir.join(format!("run-{round}.json"));
            let start = Arc::new(Barrier::new(6));
            let claimers: Vec<_> = (0..6u64)
                .map(|c| {
                    let (path, start) = (path.clone(), start.clone());
                    std::thread::spawn(move || {
                        start.wait();
                        let won = create_json_exclusive(&path, &c).unwrap();
                        let seen: u64 =
                            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
                        (c, won, seen)
                    })
                })
                .collect();
            let results: Vec<_> = claimers.into_iter().map(|t| t.join().unwrap()).collect();
            let winners: Vec<u64> = results.iter().filter(|r| r.1).map(|r| r.0).collect();
            assert_eq!(winners.len(), 1, "round {round}: winners {winners:?}");
            assert!(
                results.iter().all(|r| r.2 == winners[0]),
                "round {round}: a claimer read another value than the winner's: {results:?}"
            );
        }
        assert!(!create_json_exclusive(&dir.join("run-0.json"), &99u64).unwrap());
        assert_eq!(leftovers(&dir), Vec::<String>::new());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
