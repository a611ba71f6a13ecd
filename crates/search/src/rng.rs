//! The crate's random numbers: one ChaCha8 stream per (seed, generation, phase).
//!
//! Nothing of a generator's position is ever stored: the stream for a generation is rebuilt from
//! the seed, so a run resumed from a saved state draws exactly the numbers an uninterrupted run
//! draws. Uniforms and normals are computed here (not by `rand`'s distributions) so that the
//! bits do not move with a `rand` upgrade.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// What a stream is used for within one generation.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Phase {
    /// Drawing the candidates a generation asks for.
    Ask = 0,
    /// Tie-breaks and noise drawn while a generation's results are told.
    Tell = 1,
}

/// The generator for `phase` of `generation` under `seed`.
pub(crate) fn stream(seed: u64, generation: u32, phase: Phase) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream((u64::from(generation) << 8) | phase as u64);
    rng
}

/// A uniform draw in [0, 1) with 53 random bits.
pub(crate) fn uniform(rng: &mut ChaCha8Rng) -> f64 {
    (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// A uniform index in `0..n` (n > 0), without modulo bias.
pub(crate) fn below(rng: &mut ChaCha8Rng, n: usize) -> usize {
    debug_assert!(n > 0);
    let n = n as u64;
    // Reject the top partial block of 2^64 so that every residue is equally likely.
    let zone = u64::MAX - (u64::MAX % n + 1) % n;
    loop {
        let x = rng.next_u64();
        if x <= zone {
            return (x % n) as usize;
        }
    }
}

/// A standard normal draw (Box–Muller, one of the pair).
pub(crate) fn normal(rng: &mut ChaCha8Rng) -> f64 {
    // 1 - u lies in (0, 1]: the logarithm is finite.
    let u1 = 1.0 - uniform(rng);
    let u2 = uniform(rng);
    (-2.0 * libm::log(u1)).sqrt() * libm::cos(std::f64::consts::TAU * u2)
}

/// A uniformly random permutation of `0..n` (Fisher–Yates).
pub(crate) fn permutation(rng: &mut ChaCha8Rng, n: usize) -> Vec<usize> {
    let mut p: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        let j = below(rng, i + 1);
        p.swap(i, j);
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_differ_by_generation_and_phase_and_repeat_by_seed() {
        let draw = |g, p| stream(7, g, p).next_u64();
        assert_eq!(draw(3, Phase::Ask), draw(3, Phase::Ask));
        assert_ne!(draw(3, Phase::Ask), draw(4, Phase::Ask));
        assert_ne!(draw(3, Phase::Ask), draw(3, Phase::Tell));
        assert_ne!(
            stream(7, 0, Phase::Ask).next_u64(),
            stream(8, 0, Phase::Ask).next_u64()
        );
    }

    #[test]
    fn uniform_below_and_normal_have_the_right_moments() {
        let mut rng = stream(1, 0, Phase::Ask);
        let n = 20_000;
        let u: Vec<f64> = (0..n).map(|_| uniform(&mut rng)).collect();
        let mean = u.iter().sum::<f64>() / n as f64;
        // SE of the mean of U(0,1) is sqrt(1/12/n) = 0.002.
        assert!((mean - 0.5).abs() < 0.01, "{mean}");
        assert!(u.iter().all(|&x| (0.0..1.0).contains(&x)));
        let mut counts = [0usize; 3];
        for _ in 0..n {
            counts[below(&mut rng, 3)] += 1;
        }
        for c in counts {
            // Binomial SD is about 67: 5 SD.
            assert!((c as f64 - n as f64 / 3.0).abs() < 340.0, "{counts:?}");
        }
        let z: Vec<f64> = (0..n).map(|_| normal(&mut rng)).collect();
        let m = z.iter().sum::<f64>() / n as f64;
        let v = z.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1) as f64;
        assert!(m.abs() < 0.035, "{m}");
        assert!((v - 1.0).abs() < 0.05, "{v}");
        let mut p = permutation(&mut rng, 10);
        p.sort_unstable();
        assert_eq!(p, (0..10).collect::<Vec<_>>());
    }
}
