//! What stops the audit ([`AuditError`]), each variant's kind deciding the exit code.

use std::path::{Path, PathBuf};

use datapact_scenario::ScenarioError;

/// Anything that stops the audit.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// The audit settings are invalid.
    #[error("{origin}: {message}")]
    Spec {
        /// The settings file.
        origin: String,
        /// What is wrong, naming the key and its allowed range.
        message: String,
    },
    /// A scenario (with the audit's overrides) is invalid.
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    /// The output directory cannot be claimed: refused (another run's, a user's non-empty
    /// directory, inside a run: bad input, nothing written) or not created (I/O), as its kind
    /// says. The message names it.
    #[error(transparent)]
    File(#[from] datapact_trace::FileError),
    /// A claim run failed.
    #[error(transparent)]
    Runner(#[from] datapact_runner::RunnerError),
    /// SIGINT/SIGTERM (`AuditInputs::cancel`) stopped the audit. Nothing is half-written;
    /// the claim runs already finished are kept.
    #[error(
        "interrupted: run the same command again with --resume (same --spec, same --out) to \
         continue: the cells already finished (deviations and dynamics, \"which S?\", cost-bin \
         equilibria) and the claim runs already finished are kept, the claim run in progress \
         resumes"
    )]
    Interrupted,
    /// Reading the claim runs or drawing failed.
    #[error(transparent)]
    Report(#[from] datapact_report::ReportError),
    /// A table could not be written (`datapact_trace::write_table_file`).
    #[error(transparent)]
    Trace(#[from] datapact_trace::TraceError),
    /// A file could not be written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
}

impl AuditError {
    /// The exit code of the error's kind (`crates/cli/src/failure.rs`): 2 bad input (the
    /// settings, a scenario, a refused directory), 1 I/O or damaged outputs, 130 interrupted; a
    /// wrapped error's own code ([`datapact_runner::RunnerError::exit_code`],
    /// [`datapact_report::ReportError::exit_code`], [`datapact_trace::FileError::exit_code`]).
    pub fn exit_code(&self) -> u8 {
        match self {
            AuditError::Spec { .. } => 2,
            AuditError::Scenario(e) => e.exit_code(),
            AuditError::File(e) => e.exit_code(),
            AuditError::Runner(e) => e.exit_code(),
            AuditError::Interrupted => 130,
            AuditError::Report(e) => e.exit_code(),
            AuditError::Trace(_) | AuditError::Io { .. } => 1,
        }
    }

    pub(crate) fn io(path: &Path, e: std::io::Error) -> AuditError {
        AuditError::Io {
            path: path.to_path_buf(),
            source: e,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A wrapped error keeps its own kind's code (a refused report directory is bad input).
    #[test]
    fn the_exit_code_follows_the_wrapped_kind() {
        let report = |e| AuditError::Report(e).exit_code();
        assert_eq!(report(datapact_report::ReportError::Refused("x".into())), 2);
        assert_eq!(report(datapact_report::ReportError::Data("x".into())), 1);
        let spec = AuditError::Spec {
            origin: "a.toml".into(),
            message: "x".into(),
        };
        assert_eq!(
            (spec.exit_code(), AuditError::Interrupted.exit_code()),
            (2, 130)
        );
    }
}
