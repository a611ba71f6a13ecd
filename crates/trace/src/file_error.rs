//! Why a run's directory or one of its metadata files could not be used: a sentence naming the
//! file, the kind of failure (which decides the command line's exit code) and, for a failure of
//! the operating system, its [`std::io::Error`] as the source.

/// The kind of a [`FileError`]; the command line's exit code follows it
/// ([`FileErrorKind::exit_code`]), never the type that happened to carry the sentence.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileErrorKind {
    /// The request cannot be served as given: an output location datapact refuses (a file,
    /// a dangling symlink, someone else's non-empty directory, a place inside a run). Exit 2.
    BadInput,
    /// The operating system failed a read, a write or a listing (permissions, a full disk,
    /// a missing file). Exit 1.
    Io,
    /// A file is there but is not what datapact writes (unparsable, impossible counts, a
    /// symlink or FIFO in its place, larger than any run writes), or a run is incomplete or
    /// inconsistent. Exit 1.
    Damaged,
}

impl FileErrorKind {
    /// The exit code of a command that fails with this kind: 2 for bad input, 1 otherwise.
    pub fn exit_code(self) -> u8 {
        match self {
            FileErrorKind::BadInput => 2,
            FileErrorKind::Io | FileErrorKind::Damaged => 1,
        }
    }
}

/// A failure to use an output directory or read one of a run's files.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct FileError {
    /// What kind of failure it is.
    pub kind: FileErrorKind,
    /// The sentence shown, naming the file or directory.
    pub message: String,
    /// The operating system's error, for [`FileErrorKind::Io`] (and a failed open).
    #[source]
    pub source: Option<std::io::Error>,
}

impl FileError {
    /// A refused request (exit 2).
    pub fn bad_input(message: impl Into<String>) -> Self {
        FileError {
            kind: FileErrorKind::BadInput,
            message: message.into(),
            source: None,
        }
    }

    /// A file that is not what datapact writes, or an incomplete run (exit 1).
    pub fn damaged(message: impl Into<String>) -> Self {
        FileError {
            kind: FileErrorKind::Damaged,
            message: message.into(),
            source: None,
        }
    }

    /// An operating-system failure (exit 1); `message` usually ends with `source`'s text.
    pub fn io(message: impl Into<String>, source: std::io::Error) -> Self {
        FileError {
            kind: FileErrorKind::Io,
            message: message.into(),
            source: Some(source),
        }
    }

    /// The same failure (kind and source kept) told with `more` context: `f` receives the
    /// current sentence and returns the new one.
    pub fn context(mut self, f: impl FnOnce(&str) -> String) -> Self {
        self.message = f(&self.message);
        self
    }

    /// The exit code of a command that fails with it.
    pub fn exit_code(&self) -> u8 {
        self.kind.exit_code()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error;

    #[test]
    fn an_io_failure_keeps_its_source_through_added_context() {
        let dir = tempfile::tempdir().unwrap();
        let e = crate::files::read_regular(&dir.path().join("absent.json"), 10).unwrap_err();
        assert_eq!(e.kind, FileErrorKind::Io);
        let e = e.context(|m| format!("{m}; more"));
        let source = e.source().expect("the io::Error is the source");
        assert!(
            source.to_string().contains("No such file"),
            "{source}: {}",
            e.message
        );
        assert!(e.to_string().ends_with("; more"), "{e}");
        assert_eq!(e.exit_code(), 1);
        assert_eq!(FileError::bad_input("x").exit_code(), 2);
        assert_eq!(FileError::damaged("x").exit_code(), 1);
    }
}
