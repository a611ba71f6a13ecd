//! The examples' tests in one test binary (one link of arrow, parquet and bevy instead of one
//! per file): each module was a test file of its own; `common` holds the helpers they share.
//! `autotests = false` in Cargo.toml: a file of this directory runs only as a module listed here
//! (`every_test_file_is_a_module` checks that none is left out).

mod common;

/// The example apps, each file loaded once: `pivotal.rs` loads `deposit.rs` and `random_order.rs`
/// as its modules `deposit` and `random_order`, as its binary does.
#[path = "../pivotal.rs"]
#[allow(dead_code)]
mod example_pivotal;
#[path = "../ppm.rs"]
#[allow(dead_code)]
mod example_ppm;

mod audit;
mod deposit;
mod extending;
mod pivotal;
mod ppm;
mod random_order;
mod runs;
mod search;

#[test]
fn every_test_file_is_a_module() {
    datapact_testkit::assert_every_file_is_a_module(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests"),
        include_str!("main.rs"),
    );
}
