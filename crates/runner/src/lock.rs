//! A run's claim on its shard of an output directory: an exclusive lock on
//! `_locks/shard-I-of-N.lock` (`flock` through `std::fs::File::try_lock`), held until the run
//! ends, released by the kernel if the process dies (so `kill -9` leaves no stale claim). A
//! second writer of the same shard is refused with the holder's pid, host and start time, which
//! the holder writes into the file. Once it holds the lock, a run deletes the hidden temporaries
//! a dead holder left ([`remove_stale_temporaries`]).

use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

use datapact_trace::{PART_EXTENSION, TEMP_SUFFIX, Table};

use crate::error::{RunnerError, io_err};
use crate::plan::Shard;

/// A held claim; dropping it releases the lock (the file stays, naming the last holder).
#[derive(Debug)]
pub(crate) struct ShardLock {
    _file: std::fs::File,
}

/// The lock file of `shard` in `out`.
pub(crate) fn lock_path(out: &Path, shard: Shard) -> PathBuf {
    out.join("_locks").join(format!(
        "shard-{:05}-of-{:05}.lock",
        shard.index, shard.count
    ))
}

/// This process as a lock holder: `pid P on host H since T`.
fn holder() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown".into());
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| utc(d.as_secs()))
        .unwrap_or_default();
    format!("pid {} on host {host} since {since}", std::process::id())
}

/// `secs` since the epoch as `YYYY-MM-DDTHH:MM:SSZ` (civil-from-days, proleptic Gregorian).
fn utc(secs: u64) -> String {
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Claims `shard` of `out` for this process, or refuses naming the process that holds it.
pub(crate) fn lock_shard(out: &Path, shard: Shard) -> Result<ShardLock, RunnerError> {
    let path = lock_path(out, shard);
    let dir = out.join("_locks");
    std::fs::create_dir_all(&dir).map_err(io_err(&dir))?;
    // Never through a symlink: a lock file (or its directory) planted as a link would have its
    // target truncated and overwritten with the holder's name.
    let is_link = |p: &Path| std::fs::symlink_metadata(p).is_ok_and(|m| m.file_type().is_symlink());
    if is_link(&dir) {
        return Err(RunnerError::Refused(format!(
            "{} is a symbolic link; datapact writes only its own files there: remove it",
            dir.display()
        )));
    }
    let mut options = std::fs::OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
    }
    let mut file = options.open(&path).map_err(|e| {
        if is_link(&path) {
            RunnerError::Refused(format!(
                "{} is a symbolic link; datapact writes only its own files there: remove it",
                path.display()
            ))
        } else {
            io_err(&path)(e)
        }
    })?;
    if !file.metadata().is_ok_and(|m| m.is_file()) {
        return Err(RunnerError::Refused(format!(
            "{} is not a regular file; remove it",
            path.display()
        )));
    }
    match file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            let mut who = String::new();
            let _ = file.read_to_string(&mut who);
            let who = who.trim();
            return Err(RunnerError::Refused(format!(
                "shard {}/{} of {} is being written by another run ({}); wait for it to end \
                 or stop it, then --resume",
                shard.index,
                shard.count,
                out.display(),
                if who.is_empty() {
                    "holder unknown"
                } else {
                    who
                }
            )));
        }
        Err(std::fs::TryLockError::Error(e)) => {
            return Err(RunnerError::File(datapact_trace::FileError::io(
                format!("{}: cannot lock: {e}", path.display()),
                e,
            )));
        }
    }
    let mut write = || -> std::io::Result<()> {
        file.set_len(0)?;
        file.rewind()?;
        writeln!(file, "{}", holder())
    };
    write().map_err(io_err(&path))?;
    Ok(ShardLock { _file: file })
}

/// Deletes the hidden temporaries (`.part-NNNNNN.parquet.tmp`) of `shard`'s chunks in `out`.
/// A run calls it once it holds the shard's lock, for those a killed process left (a writer
/// deletes its own on every error, but not on SIGKILL, an allocation failure or a forced exit):
/// no live writer owns them. Never read as outputs, they would otherwise only waste space.
pub fn remove_stale_temporaries(out: &Path, shard: Shard) -> Result<(), RunnerError> {
    let suffix = format!(".{PART_EXTENSION}{TEMP_SUFFIX}");
    for table in Table::ALL {
        let dir = out.join(table.dir_name());
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let chunk = name
                .strip_prefix(".part-")
                .and_then(|rest| rest.strip_suffix(suffix.as_str()))
                .and_then(|digits| digits.parse::<usize>().ok());
            if chunk.is_some_and(|c| shard.owns(c)) {
                let path = entry.path();
                std::fs::remove_file(&path).map_err(io_err(&path))?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_formats_known_instants() {
        assert_eq!(utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(utc(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(utc(1_798_761_599), "2026-12-31T23:59:59Z");
    }

    #[test]
    fn a_second_claim_of_a_held_shard_is_refused_naming_the_holder() {
        let dir = tempfile::tempdir().unwrap();
        let shard = Shard { index: 1, count: 2 };
        let held = lock_shard(dir.path(), shard).unwrap();
        let err = lock_shard(dir.path(), shard).unwrap_err().to_string();
        assert!(
            err.contains(&format!("pid {}", std::process::id())) && err.contains("shard 1/2"),
            "{err}"
        );
        // Another shard of the same run is free; the held one is free again once released.
        drop(lock_shard(dir.path(), Shard { index: 0, count: 2 }).unwrap());
        drop(held);
        lock_shard(dir.path(), shard).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn a_lock_file_that_is_a_symlink_is_refused_and_its_target_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim.txt");
        std::fs::write(&victim, "precious").unwrap();
        let shard = Shard { index: 0, count: 1 };
        std::fs::create_dir_all(dir.path().join("_locks")).unwrap();
        std::os::unix::fs::symlink(&victim, lock_path(dir.path(), shard)).unwrap();
        let err = lock_shard(dir.path(), shard).unwrap_err().to_string();
        assert!(err.contains("symbolic link"), "{err}");
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
    }
}
