//! The scenario crate's tests in one test binary (one link instead of one per file): each module
//! was a test file of its own; `support` holds the helpers they share. `autotests = false` in
//! Cargo.toml: a file of this directory runs only as a module listed here
//! (`every_test_file_is_a_module` checks that none is left out).

mod support;

mod axes;
mod categorical;
mod design;
mod errors;
mod fuzz;
mod load;
mod network;
mod plugins;
mod replications;

#[test]
fn every_test_file_is_a_module() {
    datapact_testkit::assert_every_file_is_a_module(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests"),
        include_str!("main.rs"),
    );
}
