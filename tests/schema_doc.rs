//! docs/schema.md documents every event kind the simulator can emit.

use datapact_model::EventKind;

#[test]
fn every_event_kind_is_documented() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/schema.md");
    let doc = std::fs::read_to_string(path).expect("docs/schema.md");
    let section = doc
        .split("### Event kinds")
        .nth(1)
        .expect("docs/schema.md has an \"### Event kinds\" section");
    let section = section.split("\n## ").next().unwrap();
    for (i, kind) in EventKind::ALL.into_iter().enumerate() {
        assert_eq!(kind.position(), i, "EventKind::ALL is in declaration order");
        let row = format!("\n| `{}` |", kind.as_str());
        assert!(
            section.contains(&row),
            "docs/schema.md: event kind {:?} has no row in \"Event kinds\"",
            kind.as_str()
        );
    }
}
