//! `datapact scenarios`: the embedded scenarios, each with the first line of its comment.

use crate::embedded;

/// `datapact scenarios`.
pub(crate) fn list() {
    for (name, text) in embedded::SCENARIOS.iter().chain(embedded::PAPER) {
        let first = text
            .lines()
            .find(|l| l.starts_with('#'))
            .unwrap_or("")
            .trim_start_matches('#')
            .trim();
        println!("{name:<24} {first}");
    }
}
