//! Every file datapact writes that is not a Parquet part (those are [`crate::PartWriter`]'s):
//! JSON records and manifests, figures (PNG, SVG), pages (HTML, Markdown). Each is written to a
//! hidden temporary file beside its final name — created exclusively under a random name, so
//! that concurrent writers (the shards of a job array, possibly on several nodes with equal
//! process ids) never share one and a symlink planted there is never followed — then synced and
//! renamed into place. A reader sees the old file, the new file, or nothing; never a part of one
//! (a full disk, a crash or a signal leaves only the hidden temporary, which a dropped writer
//! deletes).
//!
//! The temporaries in flight are registered, so that a command interrupted by a signal can
//! delete them before it exits ([`remove_in_flight`]).

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::Serialize;

/// The temporaries being written by this process.
static IN_FLIGHT: Mutex<BTreeSet<PathBuf>> = Mutex::new(BTreeSet::new());

fn register(path: &Path) {
    if let Ok(mut set) = IN_FLIGHT.lock() {
        set.insert(path.to_path_buf());
    }
}

fn unregister(path: &Path) {
    if let Ok(mut set) = IN_FLIGHT.lock() {
        set.remove(path);
    }
}

/// Deletes every temporary this process is writing (for a signal handler's watcher, just
/// before it ends the process; the files' writers are abandoned). Returns how many it deleted.
pub fn remove_in_flight() -> usize {
    remove_in_flight_where(|_| true)
}

fn remove_in_flight_where(which: impl Fn(&Path) -> bool) -> usize {
    // `try_lock`: never wait for a writer thread that holds the lock while the process ends.
    let Ok(set) = IN_FLIGHT.try_lock() else {
        return 0;
    };
    set.iter()
        .filter(|p| which(p) && std::fs::remove_file(p).is_ok())
        .count()
}

/// A file being written under a hidden temporary name beside `path`, renamed to `path` by
/// [`AtomicFile::commit`]; dropped uncommitted, the temporary is deleted.
#[derive(Debug)]
pub struct AtomicFile {
    tmp: Option<tempfile::NamedTempFile>,
    path: PathBuf,
}

impl AtomicFile {
    /// Starts writing `path`: a hidden temporary `.NAME.RANDOM.tmp` in `path`'s directory
    /// (which must exist), created exclusively, with the permissions the umask gives (not
    /// tempfile's 0600: colleagues who can read the outputs can read these).
    pub fn create(path: &Path) -> std::io::Result<AtomicFile> {
        Self::create_with_suffix(path, ".tmp")
    }

    /// As [`AtomicFile::create`], the temporary's name ending in `suffix` (e.g. `.tmp.png`, for
    /// writers that choose the format by the file's extension).
    pub fn create_with_suffix(path: &Path, suffix: &str) -> std::io::Result<AtomicFile> {
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "file".into());
        let prefix = format!(".{name}.");
        let mut builder = tempfile::Builder::new();
        builder.prefix(&prefix).suffix(suffix);
        #[cfg(unix)]
        builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
        let tmp = builder.tempfile_in(dir)?;
        register(tmp.path());
        Ok(AtomicFile {
            tmp: Some(tmp),
            path: path.to_path_buf(),
        })
    }

    /// The temporary file's path (for writers that open the path themselves).
    pub fn temp_path(&self) -> &Path {
        self.tmp
            .as_ref()
            .map(|t| t.path())
            .unwrap_or(self.path.as_path())
    }

    /// The open temporary file.
    pub fn file(&mut self) -> &mut std::fs::File {
        self.tmp
            .as_mut()
            .expect("open until committed")
            .as_file_mut()
    }

    fn take(&mut self) -> tempfile::NamedTempFile {
        let tmp = self.tmp.take().expect("open until committed");
        unregister(tmp.path());
        tmp
    }

    /// Syncs the temporary and renames it to the final path, replacing what was there (the
    /// last of concurrent writers wins).
    pub fn commit(mut self) -> std::io::Result<()> {
        let tmp = self.take();
        tmp.as_file().sync_all()?;
        tmp.persist(&self.path).map(drop).map_err(|e| e.error)?;
        sync_parent(&self.path);
        Ok(())
    }

    /// Syncs the temporary and renames it to the final path only if nothing is there: returns
    /// `false`, writing nothing, if the path exists; of concurrent callers exactly one gets
    /// `true`. (tempfile's `persist_noclobber` renames with RENAME_NOREPLACE or hard-links, which
    /// cannot replace a file; on a filesystem that offers neither it falls back to a plain
    /// rename, where the last one wins.)
    pub fn commit_new(mut self) -> std::io::Result<bool> {
        let tmp = self.take();
        tmp.as_file().sync_all()?;
        let created = match tmp.persist_noclobber(&self.path) {
            Ok(_) => true,
            Err(e) if e.error.kind() == std::io::ErrorKind::AlreadyExists => false,
            Err(e) if std::fs::symlink_metadata(&self.path).is_err() => {
                e.file.persist(&self.path).map_err(|e| e.error)?;
                true
            }
            Err(e) => return Err(e.error),
        };
        if created {
            sync_parent(&self.path);
        }
        Ok(created)
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if let Some(tmp) = self.tmp.take() {
            unregister(tmp.path());
            // NamedTempFile's own drop deletes the file.
        }
    }
}

/// Best effort: make a rename durable. Not all platforms can open a directory.
fn sync_parent(path: &Path) {
    if let Some(dir) = path.parent()
        && let Ok(d) = std::fs::File::open(if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        })
    {
        let _ = d.sync_all();
    }
}

/// Writes `bytes` to `path` atomically (hidden temporary, then rename).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut file = AtomicFile::create(path)?;
    file.file().write_all(bytes)?;
    file.commit()
}

/// Renders a file by a writer that takes a path and chooses the format by its extension
/// (plotters' PNG and SVG backends): `render` writes the hidden temporary (whose name ends with
/// `path`'s extension), which is then renamed to `path`. If `render` fails, nothing is left;
/// `io` turns this function's own I/O errors into the caller's error type.
pub fn render_atomic<E>(
    path: &Path,
    io: impl Fn(std::io::Error) -> E,
    render: impl FnOnce(&Path) -> Result<(), E>,
) -> Result<(), E> {
    let suffix = match path.extension() {
        Some(ext) => format!(".tmp.{}", ext.to_string_lossy()),
        None => ".tmp".to_string(),
    };
    let file = AtomicFile::create_with_suffix(path, &suffix).map_err(&io)?;
    render(file.temp_path())?;
    file.commit().map_err(io)
}

fn pretty_json<T: Serialize>(value: &T) -> std::io::Result<Vec<u8>> {
    let mut text = serde_json::to_vec_pretty(value).map_err(std::io::Error::other)?;
    text.push(b'\n');
    Ok(text)
}

/// Writes `value` as pretty JSON to `path` atomically, creating `path`'s directory if needed.
/// Concurrent writers of the same path all succeed; the last rename wins.
pub fn write_json_atomic<T: Serialize>(path: &Path, value: &T) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    write_atomic(path, &pretty_json(value)?)
}

/// Writes `value` as pretty JSON to `path` only if no file is there, atomically: a whole file
/// appears under `path` or nothing does. Returns `false`, writing nothing, if `path` exists;
/// of concurrent callers exactly one gets `true` ([`AtomicFile::commit_new`]).
pub fn create_json_exclusive<T: Serialize>(path: &Path, value: &T) -> std::io::Result<bool> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut file = AtomicFile::create(path)?;
    file.file().write_all(&pretty_json(value)?)?;
    file.commit_new()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Barrier};

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
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("manifest.json");
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
        assert_eq!(leftovers(dir.path()), Vec::<String>::new());
        #[cfg(unix)]
        {
            // Readable as any file the process writes (the umask decides), not tempfile's 0600.
            use std::os::unix::fs::PermissionsExt;
            std::fs::write(dir.path().join("plain"), "1").unwrap();
            let mode = |p: PathBuf| std::fs::metadata(p).unwrap().permissions().mode();
            assert_eq!(mode(path.clone()), mode(dir.path().join("plain")));
        }
    }

    /// Shards claiming `_run.json` together: one creates it, the rest find it whole.
    #[test]
    fn exactly_one_of_concurrent_exclusive_creators_wins() {
        let dir = tempfile::tempdir().unwrap();
        for round in 0..40 {
            let path = dir.path().join(format!("run-{round}.json"));
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
        assert!(!create_json_exclusive(&dir.path().join("run-0.json"), &99u64).unwrap());
        assert_eq!(leftovers(dir.path()), Vec::<String>::new());
    }

    #[test]
    fn a_failed_render_leaves_nothing_and_a_symlink_is_replaced_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let png = dir.path().join("figure.png");
        let mut seen = PathBuf::new();
        let failed: Result<(), std::io::Error> = render_atomic(
            &png,
            |e| e,
            |tmp| {
                assert!(tmp.to_string_lossy().ends_with(".tmp.png"), "{tmp:?}");
                assert!(IN_FLIGHT.lock().unwrap().contains(tmp));
                seen = tmp.to_path_buf();
                std::fs::write(tmp, b"half")?;
                Err(std::io::Error::other("disk full"))
            },
        );
        assert!(failed.is_err());
        assert!(!png.exists());
        assert_eq!(leftovers(dir.path()), Vec::<String>::new());
        assert!(!IN_FLIGHT.lock().unwrap().contains(&seen));
        #[cfg(unix)]
        {
            let victim = dir.path().join("victim");
            std::fs::write(&victim, b"keep").unwrap();
            let link = dir.path().join("out.md");
            std::os::unix::fs::symlink(&victim, &link).unwrap();
            write_atomic(&link, b"new").unwrap();
            assert_eq!(std::fs::read(&victim).unwrap(), b"keep");
            assert_eq!(std::fs::read(&link).unwrap(), b"new");
            assert!(!std::fs::symlink_metadata(&link).unwrap().is_symlink());
        }
    }

    #[test]
    fn in_flight_temporaries_are_removed_on_request() {
        let dir = tempfile::tempdir().unwrap();
        let a = AtomicFile::create(&dir.path().join("a.html")).unwrap();
        let tmp = a.temp_path().to_path_buf();
        assert!(tmp.exists());
        assert_eq!(remove_in_flight_where(|p| p.starts_with(dir.path())), 1);
        assert!(!tmp.exists());
        drop(a);
    }
}
