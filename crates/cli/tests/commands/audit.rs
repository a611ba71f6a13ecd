//! `datapact audit` as a user meets it: bad settings exit 2 naming file and key and write
//! nothing; a tiny audit writes its report and prints the claims of every variant.

use crate::support::run as datapact;

const SPEC: &str = include_str!("../../../../scenarios/audit.toml");

fn tiny() -> String {
    SPEC.replace("replications = 500 ", "replications = 4 ")
        .replace("steps = 11 ", "steps = 2 ")
        .replace("replications = 200 ", "replications = 4 ")
        .replace("replications = 1000 ", "replications = 4 ")
        .replace("steps = 16 ", "steps = 2 ")
}

#[test]
fn audit_command_rejects_bad_settings_and_runs_a_tiny_audit() {
    let tmp = tempfile::tempdir().unwrap();
    let bad = tmp.path().join("bad.toml");
    std::fs::write(&bad, tiny().replace("max_rounds = 8 ", "max_rounds = 0 ")).unwrap();
    let out = tmp.path().join("out");
    let o = datapact(&[
        "audit",
        "--spec",
        bad.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "-q",
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("bad.toml")
            && err.contains("analysis.dynamics.max_rounds")
            && err.contains("[1, 100]"),
        "{err}"
    );
    assert!(!out.exists());

    let good = tmp.path().join("good.toml");
    std::fs::write(&good, tiny()).unwrap();
    let o = datapact(&[
        "audit",
        "--spec",
        good.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "-q",
        "--threads",
        "2",
    ]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        stdout.contains("baseline") && stdout.contains("recovery_1"),
        "{stdout}"
    );
    assert!(out.join("REPORT.md").is_file() && out.join("claims_variants.json").is_file());
}
