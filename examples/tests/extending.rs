//! `docs/extending.md` cannot drift from the code: part 1's Rust blocks, in order, are one
//! module (a reader's `src/main.rs`, assembled by `build.rs`, and what `datapact new` writes)
//! that compiles here and whose own tests run here, and its `scenario.toml` loads with its
//! plugin; part 2's Rust blocks are verbatim excerpts of `examples/ppm.rs`.

#[allow(dead_code)]
mod tutorial {
    include!(concat!(env!("OUT_DIR"), "/extending_part1.rs"));
}

#[test]
fn part_1_scenario_loads_with_part_1_plugin() {
    use datapact::prelude::PluginSet;
    let mut plugins = PluginSet::core();
    plugins.add_plugins(tutorial::DepositPlugin);
    plugins.validate().unwrap();
    let catalog = std::sync::Arc::new(plugins.catalog().clone());
    let text = include_str!(concat!(env!("OUT_DIR"), "/extending_scenario.toml"));
    let s = datapact_scenario::Scenario::from_str_with(&catalog, text, "scenario.toml", &[])
        .unwrap_or_else(|e| panic!("docs/extending.md's scenario.toml: {e}"));
    assert!(s.normalized().contains("deposit"), "{}", s.normalized());
}

/// The non-empty lines of `text`, trimmed.
fn lines(text: &str) -> Vec<&str> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect()
}

#[test]
fn part_2_blocks_are_excerpts_of_the_ppm_example() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let doc = std::fs::read_to_string(root.join("../docs/extending.md")).unwrap();
    let ppm = std::fs::read_to_string(root.join("ppm.rs")).unwrap();
    let ppm = lines(&ppm);
    let part2 = doc
        .split("\n## Part 2")
        .nth(1)
        .expect("docs/extending.md has a part 2");
    let blocks: Vec<&str> = part2
        .split("```rust\n")
        .skip(1)
        .map(|b| b.split("```").next().unwrap())
        .collect();
    assert!(blocks.len() >= 3, "part 2 shows the ppm code");
    for block in blocks {
        let want = lines(block);
        assert!(
            ppm.windows(want.len()).any(|w| w == want.as_slice()),
            "docs/extending.md part 2 shows code that is not in examples/ppm.rs:\n{block}"
        );
    }
}
