//! The command line's tests, in one test binary (one link of arrow, parquet and bevy instead of
//! one per file): each module was a test file of its own; `support` holds the helpers they
//! share (most from the `datapact-testkit` crate).

mod support;

mod audit;
mod cancel;
mod cli;
mod design_points;
mod determinism;
mod diff;
mod memory;
mod reliability;
mod reliability3;
mod reliability_long;
mod robustness;
mod search;
mod submit;
