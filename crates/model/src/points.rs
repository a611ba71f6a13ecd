//! The digest of a listed design's points (`[design] kind = "points"`): what the canonical text
//! of such a scenario names instead of listing the points (`points_sha256`), so that a run stores
//! them once, in its `design_points.parquet`, while its scenario hash still tells any two sets of
//! points apart. The scenario loader, the runner and `verify` compute it alike from here.

use sha2::{Digest, Sha256};

/// SHA-256 of a listed design's keys and points (each point's values in the keys' order), by
/// their exact bits: a tag, the number of keys, each key's length and bytes, the number of
/// points, then every value's IEEE-754 bits (little-endian), point by point, −0 as 0 (as the
/// scenario text writes it). Any other key, order, count or value (one bit of one value) gives
/// another digest.
pub fn points_sha256<'a>(
    keys: &[String],
    points: usize,
    values: impl IntoIterator<Item = &'a f64>,
) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"datapact.design_points.v1");
    h.update((keys.len() as u64).to_le_bytes());
    for k in keys {
        h.update((k.len() as u64).to_le_bytes());
        h.update(k.as_bytes());
    }
    h.update((points as u64).to_le_bytes());
    for &v in values {
        let v = if v == 0.0 { 0.0 } else { v };
        h.update(v.to_bits().to_le_bytes());
    }
    h.finalize().into()
}

/// [`points_sha256`] as lowercase hex, as scenarios write it.
pub fn points_sha256_hex<'a>(
    keys: &[String],
    points: usize,
    values: impl IntoIterator<Item = &'a f64>,
) -> String {
    points_sha256(keys, points, values)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_other_key_count_or_bit_gives_another_digest() {
        let keys = vec!["game.value".to_string(), "game.payment".to_string()];
        let values = [0.1, 0.2, 0.3, 0.4];
        let base = points_sha256_hex(&keys, 2, &values);
        assert_eq!(base.len(), 64);
        assert_eq!(base, points_sha256_hex(&keys, 2, &values));
        // −0 is 0, as in the scenario's text.
        assert_eq!(
            points_sha256_hex(&keys, 2, &[0.0, 0.2, 0.3, 0.4]),
            points_sha256_hex(&keys, 2, &[-0.0, 0.2, 0.3, 0.4])
        );
        let swapped = vec![keys[1].clone(), keys[0].clone()];
        let mut one_bit = values;
        one_bit[3] = f64::from_bits(one_bit[3].to_bits() ^ 1);
        let others = [
            points_sha256_hex(&swapped, 2, &values),
            points_sha256_hex(&keys, 2, &one_bit),
            points_sha256_hex(&keys, 2, &[0.0, 0.2, 0.3, 0.4]),
            points_sha256_hex(&keys[..1], 4, &values),
            points_sha256_hex(&keys, 1, &values[..2]),
        ];
        for (i, o) in others.iter().enumerate() {
            assert_ne!(*o, base, "variant {i}");
            for later in &others[i + 1..] {
                assert_ne!(o, later);
            }
        }
    }
}
