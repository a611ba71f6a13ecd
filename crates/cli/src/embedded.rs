//! Scenario files shipped inside the binary, so the main job runs on a fresh machine from any
//! directory. A path on disk always wins over an embedded name.

pub const SCENARIOS: &[(&str, &str)] =
    &[("baseline", include_str!("../../../scenarios/baseline.toml"))];

pub fn find(name: &str) -> Option<&'static str> {
    let name = name
        .trim_end_matches(".toml")
        .trim_start_matches("scenarios/");
    SCENARIOS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, text)| *text)
}
