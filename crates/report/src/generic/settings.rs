//! What a run changed against a reference scenario, for titles and captions. The settings are
//! read from the canonical scenario text that `datapact-scenario`'s `normalize.rs` writes into
//! every part file (`datapact.scenario`): one `[section]` header or `key = value` line each, a
//! format datapact owns, so a line reader suffices.

use std::path::Path;

use datapact_trace::Table;

use super::run::RunStats;
use crate::ReportError;

/// A table header's dotted key as scenario keys are spelled: `mechanism."deposit"` (how the
/// normalized text quotes a mechanism's name) is `mechanism.deposit`, as in `[sweep]`.
fn unquoted(header: &str) -> String {
    header
        .split('.')
        .map(|part| {
            let part = part.trim();
            part.strip_prefix('"')
                .and_then(|p| p.strip_suffix('"'))
                .unwrap_or(part)
        })
        .collect::<Vec<_>>()
        .join(".")
}

/// The settings of a normalized scenario (`datapact.scenario` of its files) as `section.key =
/// value` lines, without the name and description, the sweep, design and output keys, and
/// without the base value of a swept key or design axis (unused): only settings that are fixed
/// in every cell.
fn flat_settings(toml: &str) -> Vec<(String, String)> {
    let mut section = String::new();
    let mut out = Vec::new();
    for line in toml.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(h) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = unquoted(h);
            continue;
        }
        // A point of a `points` design, `{ game.value = 0.1, game.payment = 0.2 },`: its keys
        // are design axes.
        if section == "design"
            && let Some(point) = line.strip_prefix('{')
        {
            let point = point.trim_end_matches(',').trim_end_matches('}');
            for kv in point.split(", ") {
                if let Some((k, v)) = kv.split_once(" = ") {
                    out.push((format!("design.{}", k.trim()), v.trim().to_string()));
                }
            }
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

/// The canonical scenario of a run, from its `_run.json`, else from the metadata of its first
/// `cells` part (empty when it has none). A listed design's names its points file instead of
/// listing the points: the design's keys are in the manifest's design record.
pub fn scenario_toml(dir: &Path) -> Result<String, ReportError> {
    if let Ok(identity) = datapact_trace::read_identity(dir) {
        return Ok(identity.scenario);
    }
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
            let short: Vec<String> = run
                .settings
                .iter()
                .filter(|s| !s.starts_with("scenario."))
                .take(3)
                .map(|s| s.split(" (").next().unwrap_or(s))
                .map(|s| match s.split_once(" = ") {
                    // A value written -0.0 in the scenario reads 0 in a title.
                    Some((k, v)) => format!("{k} = {}", crate::figures::unsigned_zero(v.into())),
                    None => s.to_string(),
                })
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    fn normalized(text: &str) -> String {
        let plugins = datapact_sim::PluginSet::core();
        let catalog = Arc::new(plugins.catalog().clone());
        datapact_scenario::Scenario::from_str_with(&catalog, text, "t.toml", &[])
            .unwrap()
            .normalized()
    }

    const DEFAULTS: &str = "[scenario]\nname = \"d\"\nseed = 0\nreplications = 1\n";

    /// Titles and captions list what is fixed in every cell: a design's axes are not.
    #[test]
    fn the_axes_of_a_points_design_are_not_fixed_settings() {
        let run = normalized(
            "[scenario]\nname = \"p\"\nseed = 1\nreplications = 2\n\
             [game]\npayment = 0.05\nvalue = 0.3\n\
             [design]\nkind = \"points\"\n\
             points = [{ game.value = 0.1, game.drift = 0.2 }, { game.value = 0.2, game.drift = 0.1 }]\n",
        );
        let changed = changed_settings(&run, &normalized(DEFAULTS));
        let keys: Vec<&str> = changed
            .iter()
            .filter_map(|s| s.split(" = ").next())
            .collect();
        let fixed = |key| keys.contains(&key);
        assert!(
            fixed("game.payment") && !fixed("game.value") && !fixed("game.drift"),
            "{changed:?}\n{run}"
        );
    }

    /// A swept plugin key's base value (a mechanism's section header is quoted) is not a fixed
    /// setting; its other keys are.
    #[test]
    fn a_swept_mechanism_key_is_not_a_fixed_setting() {
        let run = "mechanisms = [\"S\", \"deposit\"]\n\n[mechanism.\"deposit\"]\namount = 0.05\n\
                   rate = 2\n\n[scenario]\nname = \"x\"\n\n[game]\nvalue = 0.1\n\n[sweep]\n\
                   mechanism.deposit.amount = { values = [0, 0.1] }\n";
        let reference = "mechanisms = [\"S\"]\n\n[scenario]\nname = \"y\"\n\n[game]\nvalue = 0.1\n";
        assert_eq!(
            changed_settings(run, reference),
            [
                "mechanisms = [\"S\", \"deposit\"] (vs [\"S\"])",
                "mechanism.deposit.rate = 2 (new)"
            ]
        );
        assert_eq!(unquoted("population.withdraw"), "population.withdraw");
    }
}
