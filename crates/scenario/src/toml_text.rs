//! Values written as canonical TOML: what the normalised scenario text (and so the scenario
//! hash) and the TOML form of a categorical value are made of.

use std::fmt::Write;

/// A float as TOML: shortest round-trip form, `-0.0` folded into `0.0`.
pub(crate) fn float(v: f64) -> String {
    let v = if v == 0.0 { 0.0 } else { v };
    format!("{v:?}")
}

/// A TOML basic string.
pub(crate) fn string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A distribution as TOML: `{ dist = "NAME", <its written parameters> }` (`population.cost`, a
/// value of a swept `population.cost.dist`, a drawn `population.withdraw.threshold`).
pub(crate) fn distribution(d: &datapact_model::CostDist) -> String {
    let params: Vec<String> = d
        .params()
        .iter()
        .map(|(k, v)| format!("{k} = {}", float(*v)))
        .collect();
    format!("{{ dist = {}, {} }}", string(d.name()), params.join(", "))
}

/// Hex SHA-256 of canonical text (a scenario's or a search file's identity).
pub(crate) fn sha256_hex(text: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(text.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}
