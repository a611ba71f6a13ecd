//! Worked examples of extending datapact (see `examples/*.rs`).

#![warn(missing_docs)]
