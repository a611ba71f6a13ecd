//! The end-to-end tests in one test binary (one link of arrow, parquet and bevy instead of one
//! per file): each module was a test file of its own. `golden.rs` stays a binary of its own
//! (`cargo test -p datapact-tests --test golden`, as the README says).

mod adaptive;
mod asynchronous;
mod categorical;
mod cells;
mod contrasts;
mod dynamics;
mod edge_cases;
mod network;
mod schema_doc;
mod shards;
mod sweeps;
mod users;
mod variants;
