//! Assembles the Rust blocks of `docs/extending.md`'s part 1, in order, into one module
//! (`$OUT_DIR/extending_part1.rs`) that `tests/extending.rs` compiles and tests: the tutorial's
//! code is the code CI builds.

use std::path::Path;

fn main() {
    let doc = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/extending.md");
    println!("cargo:rerun-if-changed={}", doc.display());
    let text = std::fs::read_to_string(&doc).expect("docs/extending.md is readable");
    let part1 = text.split("\n## Part 2").next().unwrap_or_default();
    let mut out = String::new();
    let mut inside = false;
    for line in part1.lines() {
        if inside {
            if line.trim_start().starts_with("```") {
                inside = false;
                out.push('\n');
            } else {
                out.push_str(line);
                out.push('\n');
            }
        } else if line.trim() == "```rust" {
            inside = true;
        }
    }
    let dir = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    std::fs::write(Path::new(&dir).join("extending_part1.rs"), out).expect("OUT_DIR is writable");
}
