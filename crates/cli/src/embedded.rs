//! Scenario files shipped inside the binary, so the main job runs on a fresh machine from any
//! directory. A path on disk always wins over an embedded name. The paper's reference (what
//! `datapact report` compares runs against) is loaded from them here.

use std::sync::Arc;

/// General scenarios, by name.
pub const SCENARIOS: &[(&str, &str)] =
    &[("baseline", include_str!("../../../scenarios/baseline.toml"))];

/// The paper reproduction (`datapact reproduce`): one scenario per figure F1–F10 of
/// `docs/model.md`, the campaign-level run of claim 2 and the two runs of the scaling study F11,
/// in run order. A test checks they equal
/// `scenarios/paper/`.
pub const PAPER: &[(&str, &str)] = &[
    (
        "f1_success_m",
        include_str!("../../../scenarios/paper/f1_success_m.toml"),
    ),
    (
        "f2_success_c",
        include_str!("../../../scenarios/paper/f2_success_c.toml"),
    ),
    (
        "f3_welfare",
        include_str!("../../../scenarios/paper/f3_welfare.toml"),
    ),
    (
        "f4_beta25",
        include_str!("../../../scenarios/paper/f4_beta25.toml"),
    ),
    (
        "f5_beta52",
        include_str!("../../../scenarios/paper/f5_beta52.toml"),
    ),
    (
        "f6_obs_noise",
        include_str!("../../../scenarios/paper/f6_obs_noise.toml"),
    ),
    (
        "f7_cost_efficiency",
        include_str!("../../../scenarios/paper/f7_cost_efficiency.toml"),
    ),
    (
        "f8_pareto",
        include_str!("../../../scenarios/paper/f8_pareto.toml"),
    ),
    (
        "f9_leakage",
        include_str!("../../../scenarios/paper/f9_leakage.toml"),
    ),
    (
        "claims_nulls",
        include_str!("../../../scenarios/paper/claims_nulls.toml"),
    ),
    (
        "f10_free_riders",
        include_str!("../../../scenarios/paper/f10_free_riders.toml"),
    ),
    (
        "f11_scaling",
        include_str!("../../../scenarios/paper/f11_scaling.toml"),
    ),
    (
        "f11_scaling_large",
        include_str!("../../../scenarios/paper/f11_scaling_large.toml"),
    ),
];

/// The text of the embedded scenario called `name` (with or without `scenarios/`, `paper/` or
/// `.toml`).
pub fn find(name: &str) -> Option<&'static str> {
    let name = name
        .trim_end_matches(".toml")
        .trim_start_matches("scenarios/")
        .trim_start_matches("paper/");
    SCENARIOS
        .iter()
        .chain(PAPER)
        .find(|(n, _)| *n == name)
        .map(|(_, text)| *text)
}

/// The paper's embedded scenarios (name, hash, canonical text) and the defaults' canonical text,
/// loaded with `catalog`: what `datapact report` compares runs against (for programs that render
/// reports themselves, such as the Python package).
///
/// # Errors
/// If an embedded scenario does not load with `catalog` (a plugin set without the core).
pub fn paper_reference(
    catalog: &Arc<datapact_model::Catalog>,
) -> Result<datapact_report::Reference, datapact_scenario::ScenarioError> {
    paper_reference_seeded(catalog, 0)
}

/// An embedded paper scenario loaded with `catalog`, its seed raised by `offset` (0: as
/// shipped; `reproduce --seeds K` uses 0..K).
///
/// # Errors
/// If it does not load with `catalog`, or its seed plus `offset` overflows.
pub fn paper_scenario(
    catalog: &Arc<datapact_model::Catalog>,
    name: &str,
    text: &str,
    offset: u64,
) -> Result<datapact_scenario::Scenario, datapact_scenario::ScenarioError> {
    use datapact_scenario::Scenario;
    let origin = format!("<embedded>/paper/{name}.toml");
    let s = Scenario::from_str_with(catalog, text, &origin, &[])?;
    if offset == 0 {
        return Ok(s);
    }
    let seed = s
        .seed
        .checked_add(offset)
        .ok_or_else(|| datapact_scenario::ScenarioError {
            origin: origin.clone(),
            line: None,
            key: Some("scenario.seed".into()),
            message: format!("{} + {offset} exceeds the largest seed", s.seed),
        })?;
    Scenario::from_str_with(catalog, text, &origin, &[format!("scenario.seed={seed}")])
}

/// [`paper_reference`] with every paper scenario's seed raised by `offset`.
///
/// # Errors
/// As [`paper_scenario`].
pub fn paper_reference_seeded(
    catalog: &Arc<datapact_model::Catalog>,
    offset: u64,
) -> Result<datapact_report::Reference, datapact_scenario::ScenarioError> {
    use datapact_scenario::Scenario;
    let paper = PAPER
        .iter()
        .map(|(name, text)| {
            let s = paper_scenario(catalog, name, text, offset)?;
            Ok(datapact_report::PaperScenario {
                name: s.name.clone(),
                hash: s.hash(),
                toml: s.normalized(),
            })
        })
        .collect::<Result<Vec<_>, datapact_scenario::ScenarioError>>()?;
    let defaults = Scenario::from_str_with(
        catalog,
        "[scenario]\nname = \"defaults\"\nseed = 0\nreplications = 1\n",
        "<defaults>",
        &[],
    )?;
    Ok(datapact_report::Reference {
        paper,
        defaults_toml: defaults.normalized(),
    })
}

#[cfg(test)]
mod tests {
    use super::PAPER;

    /// The embedded paper scenarios are exactly the files in `scenarios/paper/`, all of them.
    #[test]
    fn embedded_paper_scenarios_equal_files_on_disk() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/paper");
        let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().to_string())
            .filter(|n| n.ends_with(".toml"))
            .collect();
        on_disk.sort();
        let mut embedded_names: Vec<String> =
            PAPER.iter().map(|(n, _)| format!("{n}.toml")).collect();
        embedded_names.sort();
        assert_eq!(on_disk, embedded_names, "scenarios/paper/ and PAPER differ");
        for (name, text) in PAPER {
            let file = std::fs::read_to_string(dir.join(format!("{name}.toml"))).unwrap();
            assert_eq!(&file, text, "{name}.toml differs from its embedded copy");
            let s = datapact_scenario::Scenario::from_str(text, name, &[]).unwrap();
            assert_eq!(&s.name, name, "scenario name must equal its file name");
        }
    }
}
