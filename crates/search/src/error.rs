//! The one error type of the crate.

use std::fmt;

/// What went wrong, with a message naming the variable, setting or candidate at fault.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SearchError {
    /// The search space is malformed (empty, a bad range, repeated names, too few labels).
    Space(String),
    /// A setting is out of its allowed range.
    Config(String),
    /// Results told back do not fit what was asked (count, width, non-finite values).
    Tell(String),
}

impl fmt::Display for SearchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SearchError::Space(m) => write!(f, "search space: {m}"),
            SearchError::Config(m) => write!(f, "search settings: {m}"),
            SearchError::Tell(m) => write!(f, "told results: {m}"),
        }
    }
}

impl std::error::Error for SearchError {}

/// The pending batch of generation `generation`, if `told` results fit it: the common first
/// check of every `tell` (`what` names the results, e.g. "evaluations").
pub(crate) fn pending<'a, T>(
    pending: Option<&'a Vec<T>>,
    generation: u32,
    told: usize,
    what: &str,
) -> Result<&'a [T], SearchError> {
    let Some(asked) = pending else {
        return Err(SearchError::Tell(format!(
            "generation {generation} was told before it was asked"
        )));
    };
    if asked.len() != told {
        return Err(SearchError::Tell(format!(
            "generation {generation} asked for {} {what}, got {told}",
            asked.len()
        )));
    }
    Ok(asked)
}
