//! The values of a `{ from, to, steps }` axis: linearly spaced, each the decimal a person would
//! write when it can be.

/// Largest `steps` of one sweep axis.
pub(crate) const MAX_STEPS: i64 = 1_000_000;

/// The linearly spaced values of a `{ from, to, steps }` axis; both endpoints exact.
///
/// Each point is the decimal a person would write: when `from`, `to` and the step
/// (to − from)/(steps − 1) are all finite decimals and every point fits in 15 significant digits,
/// point i is the f64 nearest to the exact decimal from + i·step (so `{ from = 0, to = 0.3,
/// steps = 31 }` holds 0.03, not 0.029999999999999995, and `WHERE value = 0.03` finds it).
/// Otherwise (e.g. a step of 1/3) point i is from + (to − from)·i/(steps − 1) in f64.
pub(crate) fn linspace(from: f64, to: f64, steps: usize) -> Vec<f64> {
    if steps <= 1 {
        return vec![from];
    }
    let last = steps - 1;
    let decimal = DecimalAxis::new(from, to, last);
    (0..steps)
        .map(|i| {
            if i == 0 {
                from
            } else if i == last {
                to
            } else if let Some(axis) = &decimal {
                axis.point(i)
            } else {
                from + (to - from) * (i as f64) / (last as f64)
            }
        })
        .collect()
}

/// An axis whose points are exact decimals: point i = (start + i·step)·10^−decimals, all
/// integers below 10^15 in magnitude (15 significant digits, so each is exact in f64 and the
/// division by 10^decimals ≤ 10^22, also exact, rounds once: to the f64 nearest the decimal, the
/// same value as parsing its literal).
struct DecimalAxis {
    start: i64,
    step: i64,
    scale: f64,
}

impl DecimalAxis {
    /// Largest |numerator| of a point: 15 significant digits.
    const MAX_NUMERATOR: i128 = 1_000_000_000_000_000;
    /// Largest power of ten that is exact in f64.
    const MAX_DECIMALS: i32 = 22;

    fn new(from: f64, to: f64, intervals: usize) -> Option<DecimalAxis> {
        let (from_digits, from_exp) = shortest_decimal(from)?;
        let (to_digits, to_exp) = shortest_decimal(to)?;
        let intervals = i128::try_from(intervals).ok()?;
        // Write both endpoints over the same power of ten, then add decimals until the interval
        // count divides the span exactly.
        let mut decimals = (-from_exp.min(to_exp)).max(0);
        let scaled = |digits: i128, exp: i32, decimals: i32| {
            digits.checked_mul(10i128.checked_pow(u32::try_from(exp + decimals).ok()?)?)
        };
        loop {
            if decimals > Self::MAX_DECIMALS {
                return None;
            }
            let start = scaled(from_digits, from_exp, decimals)?;
            let end = scaled(to_digits, to_exp, decimals)?;
            if start.abs() >= Self::MAX_NUMERATOR || end.abs() >= Self::MAX_NUMERATOR {
                return None;
            }
            let span = end - start;
            if span % intervals == 0 {
                return Some(DecimalAxis {
                    start: i64::try_from(start).ok()?,
                    step: i64::try_from(span / intervals).ok()?,
                    // 10^d = 2^d·5^d with 5^d < 2^53 for d ≤ 22: exact in f64.
                    scale: 10i128.pow(decimals as u32) as f64,
                });
            }
            decimals += 1;
        }
    }

    /// Point i, for 0 ≤ i ≤ intervals (between the endpoints, so below 10^15 too).
    fn point(&self, i: usize) -> f64 {
        (self.start + i as i64 * self.step) as f64 / self.scale
    }
}

/// x = digits·10^exp with the fewest digits that read back as x (Rust's shortest round-trip
/// formatting); `None` for non-finite x.
fn shortest_decimal(x: f64) -> Option<(i128, i32)> {
    if !x.is_finite() {
        return None;
    }
    let text = format!("{x:e}");
    let (mantissa, exp) = text.split_once('e')?;
    let exp: i32 = exp.parse().ok()?;
    let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits: i128 = format!("{int_part}{frac_part}").parse().ok()?;
    Some((digits, exp - frac_part.len() as i32))
}
