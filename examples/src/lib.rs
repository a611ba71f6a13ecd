//! Worked examples of extending datapact (see `examples/*.rs`).
