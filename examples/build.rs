//! Writes `docs/extending.md`'s part 1 — its Rust blocks, in order, as one module
//! (`$OUT_DIR/extending_part1.rs`), and its `scenario.toml` (`$OUT_DIR/extending_scenario.toml`)
//! — for `tests/extending.rs` to compile, test and load: the tutorial's code is the code CI
//! builds. The doc is read by the same function that `datapact new` writes a crate with.

use std::path::Path;

#[path = "../crates/cli/src/tutorial.rs"]
mod tutorial;

fn main() {
    let doc = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/extending.md");
    println!("cargo:rerun-if-changed={}", doc.display());
    let text = std::fs::read_to_string(&doc).expect("docs/extending.md is readable");
    let dir = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    let scenario = tutorial::part1_scenario(&text).expect("docs/extending.md shows scenario.toml");
    std::fs::write(
        Path::new(&dir).join("extending_part1.rs"),
        tutorial::part1_code(&text),
    )
    .expect("OUT_DIR is writable");
    std::fs::write(Path::new(&dir).join("extending_scenario.toml"), scenario)
        .expect("OUT_DIR is writable");
}
