//! Reading a run's small metadata files (`_run.json`, `manifest.json`, the shard and chunk
//! records) defensively: only regular files, never through a symlink, never blocking on a FIFO
//! or device, and never more than a stated number of bytes, checked before anything is read.
//! A directory is data somebody else may have edited; nothing read from it is trusted.

use std::io::Read;
use std::path::Path;

use crate::FileError;

/// Largest `_run.json` read: it holds the normalised scenario, whose listed design points are
/// bounded by the scenario loader (about 10^7 numbers).
pub const MAX_IDENTITY_BYTES: u64 = 1 << 30;

/// Largest `manifest.json` read: a part entry is about 130 bytes, and a run has at most
/// [`crate::MAX_CHUNKS`] chunks of six tables, plus the scenario and a sampled design's points.
pub const MAX_MANIFEST_BYTES: u64 = 2 << 30;

/// Largest shard or chunk record read (their part lists are shorter than the manifest's).
pub const MAX_RECORD_BYTES: u64 = 1 << 30;

/// The bytes of the regular file at `path`, at most `limit` of them. A symlink, a directory, a
/// FIFO, a socket or a device is refused without reading (and without blocking: the file is
/// opened non-blocking and checked after opening, so a file swapped in between is caught too).
/// An operating system's failure is [`crate::FileErrorKind::Io`] (with its source); anything else
/// refused is [`crate::FileErrorKind::Damaged`].
pub fn read_regular(path: &Path, limit: u64) -> Result<Vec<u8>, FileError> {
    let shown = path.display();
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
    }
    let file = options.open(path).map_err(|e| {
        #[cfg(unix)]
        if e.raw_os_error() == Some(libc::ELOOP) {
            return FileError::damaged(format!(
                "{shown}: is a symbolic link; datapact reads its own files only"
            ));
        }
        FileError::io(format!("{shown}: {e}"), e)
    })?;
    let meta = file
        .metadata()
        .map_err(|e| FileError::io(format!("{shown}: {e}"), e))?;
    if !meta.is_file() {
        return Err(FileError::damaged(format!(
            "{shown}: is not a regular file ({}); datapact reads its own files only",
            kind(&meta)
        )));
    }
    if meta.len() > limit {
        return Err(FileError::damaged(format!(
            "{shown}: {} bytes, more than the {} bytes any run writes",
            meta.len(),
            limit
        )));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    // `take`: a file growing while it is read is still read only up to the limit.
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| FileError::io(format!("{shown}: {e}"), e))?;
    if bytes.len() as u64 > limit {
        return Err(FileError::damaged(format!(
            "{shown}: grew past {limit} bytes while being read"
        )));
    }
    Ok(bytes)
}

/// At most the first `max` bytes of `s`, cut at a character boundary (`…` appended when cut):
/// for showing values read from a run's files in messages, which may be anything.
pub fn clip(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

fn kind(meta: &std::fs::Metadata) -> &'static str {
    let t = meta.file_type();
    if t.is_dir() {
        return "a directory";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a FIFO";
        }
        if t.is_socket() {
            return "a socket";
        }
        if t.is_block_device() || t.is_char_device() {
            return "a device";
        }
    }
    "not a file"
}

/// A JSON file of type `T`, read with [`read_regular`]; the error names the path (JSON that
/// does not parse as `T` is [`crate::FileErrorKind::Damaged`]).
pub fn read_json<T: serde::de::DeserializeOwned>(path: &Path, limit: u64) -> Result<T, FileError> {
    let bytes = read_regular(path, limit)?;
    serde_json::from_slice(&bytes)
        .map_err(|e| FileError::damaged(format!("{}: {e}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clip_cuts_at_a_character_boundary() {
        assert_eq!(clip("abc", 3), "abc");
        assert_eq!(clip("abcd", 3), "abc…");
        assert_eq!(clip("ééé", 3), "é…");
        assert_eq!(clip("", 0), "");
    }

    #[test]
    fn only_regular_files_within_the_limit_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a.json");
        std::fs::write(&file, b"[1, 2]").unwrap();
        assert_eq!(read_json::<Vec<u8>>(&file, 100).unwrap(), vec![1, 2]);
        let err = read_regular(&file, 3).unwrap_err().message;
        assert!(err.contains("6 bytes, more than the 3"), "{err}");
        let err = read_regular(dir.path(), 100).unwrap_err().message;
        assert!(err.contains("not a regular file (a directory)"), "{err}");
        #[cfg(unix)]
        {
            let link = dir.path().join("link.json");
            std::os::unix::fs::symlink(&file, &link).unwrap();
            let err = read_regular(&link, 100).unwrap_err().message;
            assert!(err.contains("symbolic link"), "{err}");
            // A FIFO would block a plain open for reading until a writer comes: refused at once.
            let fifo = dir.path().join("fifo.json");
            let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
            // SAFETY: a valid NUL-terminated path.
            assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
            let err = read_regular(&fifo, 100).unwrap_err().message;
            assert!(err.contains("a FIFO"), "{err}");
        }
    }
}
