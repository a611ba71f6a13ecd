//! The random streams: ChaCha8 keyed by (scenario seed, draw key, replication, tag), so that no
//! stream depends on threads, sharding or the grid, and the uniform draw every module shares.
//! What is drawn from them is in [`crate::draws`] (a campaign's users) and the modules that keep
//! streams of their own.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A uniform draw in [0, 1) with 53 random bits.
#[inline]
pub fn unit_f64<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// The random stream of one campaign: ChaCha8 keyed by
/// `le(seed) ‖ le(key) ‖ le(replication) ‖ "datapact"`, where `key` is the cell's
/// [`crate::draw_key`], so that streams of different (seed, population, replication) are independent
/// and no stream depends on threads, sharding or the grid. It is round 0 of
/// [`round_rng`].
pub fn campaign_rng(seed: u64, key: u64, replication: u64) -> ChaCha8Rng {
    stream(seed, key, replication, u64::from_le_bytes(*b"datapact"))
}

/// ChaCha8 keyed by `le(seed) ‖ le(key) ‖ le(replication) ‖ le(tag)`.
pub(crate) fn stream(seed: u64, draw_key: u64, replication: u64, tag: u64) -> ChaCha8Rng {
    let mut key = [0u8; 32];
    key[0..8].copy_from_slice(&seed.to_le_bytes());
    key[8..16].copy_from_slice(&draw_key.to_le_bytes());
    key[16..24].copy_from_slice(&replication.to_le_bytes());
    key[24..32].copy_from_slice(&tag.to_le_bytes());
    ChaCha8Rng::from_seed(key)
}

/// The random stream of round `round` of a replication: the campaign key with its tag mixed with
/// the round. Round 0 is [`crate::campaign_rng`]; `key` is the cell's [`crate::draw_key`].
pub fn round_rng(seed: u64, key: u64, replication: u64, round: u32) -> ChaCha8Rng {
    let tag = u64::from_le_bytes(*b"datapact") ^ (round as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    stream(seed, key, replication, tag)
}
