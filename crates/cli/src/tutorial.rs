//! The finished crate of `docs/extending.md`'s part 1, read from the doc itself: its Rust
//! blocks, in order, are a crate's `src/main.rs`, and its `scenario.toml` block is the crate's
//! scenario. One reading of the doc for both of its users: `datapact new` (the crate it writes)
//! and `examples/build.rs` (which compiles the code and runs its tests in CI), so the code a
//! researcher starts from is the code CI builds. Plain `std`: `examples/build.rs` includes this
//! file as a module.

/// The line that introduces part 1's scenario block.
const SCENARIO_LINE: &str = "`scenario.toml`:";

/// Part 1: the doc's text before its "## Part 2" heading.
fn part1(doc: &str) -> &str {
    doc.split("\n## Part 2").next().unwrap_or_default()
}

/// The fenced blocks of `text` opened by exactly ```` ```lang ````, each with its preceding
/// non-empty line.
fn blocks<'a>(text: &'a str, lang: &str) -> Vec<(&'a str, String)> {
    let fence = format!("```{lang}");
    let mut out = Vec::new();
    let mut before = "";
    let mut inside: Option<(&str, String)> = None;
    for line in text.lines() {
        match inside.as_mut() {
            Some((_, body)) if !line.trim_start().starts_with("```") => {
                body.push_str(line);
                body.push('\n');
            }
            Some(_) => out.extend(inside.take()),
            None if line.trim() == fence => inside = Some((before, String::new())),
            None if !line.trim().is_empty() => before = line.trim(),
            None => {}
        }
    }
    out
}

/// Part 1's Rust blocks, in order, each followed by an empty line: the tutorial's
/// `src/main.rs` (empty if the doc has none).
pub fn part1_code(doc: &str) -> String {
    blocks(part1(doc), "rust")
        .into_iter()
        .map(|(_, body)| body + "\n")
        .collect()
}

/// Part 1's scenario: the TOML block introduced by the line "`scenario.toml`:", if any.
pub fn part1_scenario(doc: &str) -> Option<String> {
    blocks(part1(doc), "toml")
        .into_iter()
        .find(|(before, _)| *before == SCENARIO_LINE)
        .map(|(_, body)| body)
}
