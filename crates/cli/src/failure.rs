//! Exit codes: 0 success; 1 runtime failure (I/O, damaged outputs); 2 bad input (scenario,
//! arguments, refused directory, a plugin registered twice); 3 a model invariant was violated;
//! 130/143 interrupted by SIGINT/SIGTERM. The code follows the error's kind (each error type's
//! `exit_code`), never the type that carries the message.

use datapact_runner::RunnerError;
use datapact_scenario::ScenarioError;
use datapact_trace::FileError;

/// An error with its exit code.
pub(crate) struct Failure {
    pub(crate) code: u8,
    pub(crate) message: String,
}

impl From<ScenarioError> for Failure {
    fn from(e: ScenarioError) -> Self {
        Failure {
            code: e.exit_code(),
            message: e.to_string(),
        }
    }
}

impl From<RunnerError> for Failure {
    fn from(e: RunnerError) -> Self {
        Failure {
            code: e.exit_code(),
            message: e.to_string(),
        }
    }
}

impl From<FileError> for Failure {
    fn from(e: FileError) -> Self {
        Failure {
            code: e.exit_code(),
            message: e.to_string(),
        }
    }
}

impl From<datapact_report::ReportError> for Failure {
    fn from(e: datapact_report::ReportError) -> Self {
        Failure {
            code: e.exit_code(),
            message: e.to_string(),
        }
    }
}
