//! `[scenario] replications`: a fixed count or an adaptive rule; each invalid rule is an error
//! naming the file, line, key and allowed range; the rule survives normalisation.

use datapact_model::stats::{Stat, TargetMetric};
use datapact_scenario::{Scenario, ScenarioError};

/// A scenario whose `replications` (line 4) is `value`.
fn text(value: &str) -> String {
    format!("[scenario]\nname = \"a\"\nseed = 1\nreplications = {value}\n")
}

fn ok(value: &str) -> Scenario {
    Scenario::from_str(&text(value), "a.toml", &[]).expect("valid")
}

/// Asserts `value` is refused at line 4 naming `key` and every word of `words`.
#[track_caller]
fn refused(value: &str, key: &str, words: &[&str]) -> ScenarioError {
    let e = match Scenario::from_str(&text(value), "a.toml", &[]) {
        Ok(_) => panic!("expected an error for replications = {value}"),
        Err(e) => e,
    };
    let shown = e.to_string();
    assert!(shown.starts_with("a.toml:4: "), "{shown}");
    assert_eq!(e.key.as_deref(), Some(key), "{shown}");
    for w in words {
        assert!(shown.contains(w), "`{w}` not in: {shown}");
    }
    e
}

#[test]
fn a_count_is_fixed_and_a_table_is_adaptive() {
    let s = ok("300");
    assert_eq!((s.replications, s.adaptive.is_none()), (300, true));
    let s = ok(r#"{ target_se = 0.005, metric = "success_rate", min = 200, max = 100000 }"#);
    let a = s.adaptive.as_ref().expect("adaptive");
    assert_eq!(s.replications, 100_000, "the most a cell plays");
    assert_eq!(
        (a.target_se, a.metric, a.min, a.max, a.batch, a.contrast),
        (
            0.005,
            TargetMetric::Core(Stat::Success),
            200,
            100_000,
            200,
            None
        ),
        "batch defaults to min"
    );
    let s = ok(
        r#"{ target_se = 0.1, metric = "welfare_mean", min = 10, max = 50, batch = 7, contrast = "M-S" }"#,
    );
    let a = s.adaptive.as_ref().expect("adaptive");
    assert_eq!(a.batch, 7);
    assert_eq!(a.contrast.map(|p| p.label()).as_deref(), Some("M-S"));
}

#[test]
fn the_rule_survives_normalisation_and_changes_the_hash() {
    for v in [
        r#"{ target_se = 0.005, metric = "data_mean", min = 20, max = 400 }"#,
        r#"{ target_se = 0.1, metric = "welfare_mean", min = 10, max = 50, batch = 7, contrast = "M-S" }"#,
    ] {
        let s = ok(v);
        let back = Scenario::from_str(&s.normalized(), "n.toml", &[]).expect("normalised loads");
        assert_eq!(back.adaptive, s.adaptive);
        assert_eq!(back.hash(), s.hash());
        assert_ne!(s.hash(), ok("400").hash());
    }
    // A key of the rule can be overridden like any other.
    let sets = ["scenario.replications.target_se=0.5".to_string()];
    let s = Scenario::from_str(
        &text(r#"{ target_se = 0.005, metric = "data_mean", min = 20, max = 400 }"#),
        "a.toml",
        &sets,
    )
    .expect("override");
    assert_eq!(s.adaptive.map(|a| a.target_se), Some(0.5));
}

#[test]
fn invalid_rules_name_the_key_and_the_allowed_range() {
    let rule = |fields: &str| format!("{{ {fields} }}");
    let base = r#"metric = "success_rate", min = 20, max = 400"#;
    refused(
        &rule(&format!("target_se = 0.0, {base}")),
        "scenario.replications.target_se",
        &["(0, inf)"],
    );
    refused(
        &rule(&format!("target_se = \"small\", {base}")),
        "scenario.replications.target_se",
        &["number", "string"],
    );
    let e = refused(
        &rule(r#"target_se = 0.01, metric = "null_rate", min = 20, max = 400"#),
        "scenario.replications.metric",
        &[
            "\"success_rate\"",
            "\"welfare_mean\"",
            "\"withdrawals_mean\"",
        ],
    );
    assert!(e.to_string().contains("standard error"), "{e}");
    refused(
        &rule(r#"target_se = 0.01, metric = "success_rate", min = 500, max = 400"#),
        "scenario.replications.min",
        &["integers in [2, 400]"],
    );
    refused(
        &rule(r#"target_se = 0.01, metric = "success_rate", min = 1, max = 400"#),
        "scenario.replications.min",
        &["integers in [2, 400]"],
    );
    refused(
        &rule(r#"target_se = 0.01, metric = "success_rate", min = 2, max = 1000000000"#),
        "scenario.replications.max",
        &["integers in [2, 100000000]"],
    );
    refused(
        &rule(r#"target_se = 0.01, metric = "success_rate", min = 2.5, max = 400"#),
        "scenario.replications.min",
        &["integer", "float"],
    );
    refused(
        &rule(&format!("target_se = 0.01, {base}, batch = 0")),
        "scenario.replications.batch",
        &["integers in [1, 100000000]"],
    );
    refused(
        &rule(&format!("target_se = 0.01, {base}, contrast = \"M-X\"")),
        "scenario.replications.contrast",
        &["\"M-X\"", "C, S, M"],
    );
    refused(
        &rule(
            r#"target_se = 0.01, metric = "leakage_mean", min = 20, max = 400, contrast = "M-S""#,
        ),
        "scenario.replications.metric",
        &["no paired contrast", "\"welfare_mean\""],
    );
    refused(
        &rule(&format!("target_se = 0.01, {base}, until = 3")),
        "scenario.replications.until",
        &["allowed: target_se, metric, min, max, batch, contrast"],
    );
    refused(
        &rule(r#"metric = "success_rate", min = 20, max = 400"#),
        "scenario.replications.target_se",
        &["missing"],
    );
    refused(
        "0",
        "scenario.replications",
        &["integers in [1, 4294967295]"],
    );
    refused(
        "\"many\"",
        "scenario.replications",
        &["integer >= 1 or a table"],
    );
}
