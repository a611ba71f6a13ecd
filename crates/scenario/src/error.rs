//! The one error type of the crate.

use std::fmt;

/// A scenario that cannot be loaded. Displays as `origin:line: message` when the line is known,
/// otherwise `origin: key: message` (the key is left out when the message already names it).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct ScenarioError {
    /// The file path, `<builtin>/name.toml`, or `--set <key>` for an override.
    pub origin: String,
    /// 1-based line in the file, when known.
    pub line: Option<usize>,
    /// The dotted key concerned, when there is one.
    pub key: Option<String>,
    /// What is wrong, and what is allowed.
    pub message: String,
}

impl ScenarioError {
    /// The exit code of its kind: 2, bad input (the scenario, an override, or its file that
    /// cannot be read), whatever the message.
    pub fn exit_code(&self) -> u8 {
        2
    }
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.line, &self.key) {
            (Some(line), _) => write!(f, "{}:{}: {}", self.origin, line, self.message),
            (None, Some(key)) if !self.message.contains(key.as_str()) => {
                write!(f, "{}: {}: {}", self.origin, key, self.message)
            }
            _ => write!(f, "{}: {}", self.origin, self.message),
        }
    }
}
