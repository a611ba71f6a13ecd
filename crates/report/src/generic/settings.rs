//! What a run changed against a reference scenario, for titles and captions. The settings are
//! read from the canonical scenario text that `datapact-scenario`'s `normalize.rs` writes into
//! every part file (`datapact.scenario`): one `[section]` header or `key = value` line each, a
//! format datapact owns, so a line reader suffices.

use std::path::Path;

use datapact_trace::Table;

use super::run::RunStats;
use crate::ReportError;

/// The settings of a normalized scenario (`datapact.scenario` of its files) as `section.key =
/// value` lines, without the name and description, the sweep, design and output keys, and
/// without the base value of a swept key or design axis (unused).
fn flat_settings(toml: &str) -> Vec<(String, String)> {
    let mut section = String::new();
    let mut out = Vec::new();
    for line in toml.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(h) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = h.to_string();
            continue;
        }
        if let Some((k, v)) = line.split_once(" = ") {
            let key = if section.is_empty() {
                k.to_string()
            } else {
                format!("{section}.{k}")
            };
            out.push((key, v.to_string()));
        }
    }
    let swept: Vec<String> = out
        .iter()
        .filter_map(|(k, _)| {
            k.strip_prefix("sweep.")
                .or_else(|| k.strip_prefix("design."))
                .map(str::to_string)
        })
        .collect();
    out.retain(|(k, _)| {
        !(k.starts_with("sweep.")
            || k.starts_with("design.")
            || k.starts_with("output.")
            || k == "scenario.name"
            || k == "scenario.description"
            || swept.iter().any(|s| s == k))
    });
    out
}

/// The settings of scenario `run_toml` that differ from `reference_toml` (both normalized
/// scenario texts), as `key = value` (with the reference's value, or "new"), in the run's order.
pub fn changed_settings(run_toml: &str, reference_toml: &str) -> Vec<String> {
    let reference = flat_settings(reference_toml);
    flat_settings(run_toml)
        .into_iter()
        .filter_map(|(k, v)| match reference.iter().find(|(rk, _)| *rk == k) {
            Some((_, rv)) if *rv == v => None,
            Some((_, rv)) => Some(format!("{k} = {v} (vs {rv})")),
            None => Some(format!("{k} = {v} (new)")),
        })
        .collect()
}

/// The normalized scenario of a run, from the metadata of its first `cells` part (empty when
/// it has none).
pub fn scenario_toml(dir: &Path) -> Result<String, ReportError> {
    let parts = datapact_trace::part_files(dir, Table::Cells)?;
    // No part: nothing to compare (the figures then fail with their own reason).
    let Some(first) = parts.first() else {
        return Ok(String::new());
    };
    let md = datapact_trace::read_metadata(first)?;
    Ok(md
        .get(datapact_trace::keys::SCENARIO)
        .cloned()
        .unwrap_or_default())
}

/// The run's changed settings for a title: the first three, then "…".
pub(super) fn settings_title(run: &RunStats) -> String {
    match run
        .settings
        .iter()
        .filter(|s| !s.starts_with("scenario."))
        .count()
    {
        0 => String::new(),
        n => {
            // Seed and replications go to the caption only.
            let short: Vec<&str> = run
                .settings
                .iter()
                .filter(|s| !s.starts_with("scenario."))
                .take(3)
                .map(|s| s.split(" (").next().unwrap_or(s))
                .collect();
            format!(" [{}{}]", short.join(", "), if n > 3 { ", …" } else { "" })
        }
    }
}

/// The run's changed settings for a caption: all of them, with the reference's values.
pub(super) fn settings_caption(run: &RunStats) -> String {
    if run.settings.is_empty() {
        return String::new();
    }
    format!(
        " Settings that differ from {}: {}.",
        run.settings_reference,
        run.settings.join("; ")
    )
}
