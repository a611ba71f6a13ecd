//! Serde helpers that write an `f64` as its shortest round-trip decimal text (`"0.1"`, `"inf"`,
//! `"NaN"`) and read it back with Rust's correctly rounded parser.
//!
//! A saved state must resume bit for bit, whatever the format and its float parser, and crowding
//! distances are infinite at the ends of a front, which JSON numbers cannot hold.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serializer};

/// Writes `x` as text that parses back to the same bits.
pub(crate) fn serialize<S: Serializer>(x: &f64, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(&format_args!("{x:?}"))
}

/// Reads a float written by [`serialize`].
pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    let text = String::deserialize(d)?;
    text.parse::<f64>()
        .map_err(|_| D::Error::custom(format!("`{text}` is not a number")))
}
