//! Lock-step kernels across replications: several campaigns of one cell computed together, one
//! campaign per *lane*, in structure-of-arrays form.
//!
//! A batch holds many replications of one cell (the ECS engine's campaign slots `r·M + m`), and
//! the campaigns of one mechanism in it run the same code on different draws. The scalar
//! kernels ([`crate::waterfill`], [`crate::assign`], …) sum over users in user order, so a
//! campaign's sums are serial and cannot use vector registers without changing bits; across
//! campaigns they can: with `L` campaigns side by side, user i of every lane is one `[f64; L]`,
//! and each of the scalar code's operations becomes one vector operation over the lanes.
//!
//! **Exactness.** Each lane performs exactly the scalar code's floating-point operations, in the
//! same order, on the same values: the same expressions (the scalar `#[inline]` functions are
//! called element by element where they are branch-free; where a scalar function selects, the
//! lane code writes the same arithmetic with the select as a bit mask, [`pick`], which LLVM
//! vectorises), sums started from the value Rust's `Sum` starts from (−0.0) and skipped terms
//! added as −0.0 (the exact identity of `+`) where the scalar code filters, `+0.0` where it adds
//! `+0.0`. No fused multiply-add is ever formed (Rust
//! does not contract `a * b + c`, whatever the target features), no sum is reassociated, and
//! transcendental functions are not called here. A lane whose control flow leaves the common
//! path (infeasible, free data covering the need, more users than the sort-free level handles)
//! is computed by the scalar function itself. So a lane equals the scalar function bit for bit;
//! the tests in `crates/model/tests/lanes.rs` check it with `to_bits` on random campaigns.
//!
//! **Width and dispatch.** The kernels are written once, generic over the lane count `L`, on
//! plain arrays that LLVM vectorises; [`Isa::detect`] picks at run time (the build targets plain
//! x86-64) 8 lanes compiled for AVX-512F, 4 for AVX2, or 4 on the baseline (SSE2 pairs). Where
//! LLVM left a generic loop scalar or packed it along the users instead of the lanes (the
//! settlements, M's ranks), the AVX2 and AVX-512 paths run the same operations written with
//! intrinsics, four lanes per register (each kernel's `x86` module); the baseline keeps the
//! generic loop.
//!
//! **Layout.** A batch's columns hold each campaign's n users contiguously (campaign block
//! `start..start + n`); a kernel gathers `L` blocks into lanes (`lanes[i][l]` = user i of block
//! l), computes, and scatters the results back (under AVX2 and AVX-512 as 4 × 4 transposes in
//! vector registers; M's loop gathers its users in decision order, value by
//! value). Fewer than `L` blocks fill the spare lanes with copies of the last block, computed and
//! discarded.
//!
//! **Memory.** The lane buffers ([`LaneScratch`]) hold `n·L` values each, however many blocks
//! there are. A batch of a large population holds one replication, so a table often has a single
//! campaign: lanes gain nothing then, and their buffers would cost `L` times that campaign's
//! columns (in the assignment and the settlement together about 390 bytes per user at `L` = 8,
//! which grew async's peak from 670 to 1 022 bytes per user, and 200 at `L` = 4). So
//! [`assign::assign_blocks`], [`settle::settle_blocks`] and [`settle::settle_subsidy_blocks`], the
//! kernels the engine runs at any n, compute a group of one block by the scalar function on the
//! columns in place: no gather, no
//! lane buffers, no padded lanes, the same bits. (The engine runs the others only below
//! [`crate::reassign::INCREMENTAL_MIN_USERS`] users, or, for the decision order, keeps the
//! scalar code above 64 users.)

/// Runs `$body` compiled for the instruction set `$isa` with the lane count bound to the const
/// `$l` (8 for AVX-512, 4 otherwise): the body is inlined into a function with the instruction
/// set's target features (see [`run`]).
macro_rules! for_lanes {
    ($isa:expr, $l:ident => $body:block) => {
        $crate::lanes::run(
            $isa,
            #[inline(always)]
            |isa: $crate::lanes::Isa| {
                if isa.lanes() == 8 {
                    const $l: usize = 8;
                    $body
                } else {
                    const $l: usize = 4;
                    $body
                }
            },
        )
    };
}

pub mod assign;
pub mod order;
pub mod settle;
pub mod waterfill;
pub mod withdraw;

/// The vector instruction set a lane kernel is compiled for, chosen at run time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Isa {
    /// Plain x86-64 (SSE2) or another architecture: 4 lanes.
    Baseline,
    /// AVX2: 4 lanes in one 256-bit register.
    Avx2,
    /// AVX-512F: 8 lanes in one 512-bit register.
    Avx512,
}

impl Isa {
    /// The instruction set the lane kernels use: the one [`Isa::choose`] set for this process,
    /// or else AVX2 where the CPU runs it, else the baseline (the check is cached by std).
    pub fn detect() -> Isa {
        match CHOSEN.load(std::sync::atomic::Ordering::Relaxed) {
            1 => return Isa::Baseline,
            2 => return Isa::Avx2,
            3 => return Isa::Avx512,
            _ => {}
        }
        Isa::default_for_cpu()
    }

    /// Makes every later [`Isa::detect`] in this process return `isa` (for timing one width
    /// against another: outputs are the same bits under every width). The CLI sets it from
    /// `DATAPACT_ISA`.
    ///
    /// # Errors
    /// If this CPU does not run `isa`; nothing is changed then.
    pub fn choose(isa: Isa) -> Result<(), String> {
        if !Isa::available().contains(&isa) {
            return Err(format!(
                "this CPU does not run {} (it runs {})",
                isa.name(),
                Isa::available()
                    .iter()
                    .map(|i| i.name())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        let code = match isa {
            Isa::Baseline => 1,
            Isa::Avx2 => 2,
            Isa::Avx512 => 3,
        };
        CHOSEN.store(code, std::sync::atomic::Ordering::Relaxed);
        Ok(())
    }

    /// The instruction set named `name` (`baseline`, `avx2` or `avx512`).
    pub fn from_name(name: &str) -> Option<Isa> {
        [Isa::Baseline, Isa::Avx2, Isa::Avx512]
            .into_iter()
            .find(|isa| isa.name() == name)
    }

    /// The name [`Isa::from_name`] reads.
    pub fn name(self) -> &'static str {
        match self {
            Isa::Baseline => "baseline",
            Isa::Avx2 => "avx2",
            Isa::Avx512 => "avx512",
        }
    }

    /// The default: AVX2's 4 lanes where the CPU runs AVX2, even where it also runs AVX-512.
    /// Measured on the baseline, one core (BENCHMARKS.md, "Lane widths"), 8 lanes under
    /// AVX-512F took 1.37x the time of 4 under AVX2: the gather into lanes and the wider
    /// registers cost more than the extra lanes save at n = 20. `DATAPACT_ISA=avx512` still
    /// selects them.
    fn default_for_cpu() -> Isa {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx2") {
                return Isa::Avx2;
            }
        }
        Isa::Baseline
    }

    /// Every instruction set this CPU runs (for tests comparing each with the scalar code).
    pub fn available() -> Vec<Isa> {
        let mut all = vec![Isa::Baseline];
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx2") {
                all.push(Isa::Avx2);
            }
            if std::arch::is_x86_feature_detected!("avx512f") {
                all.push(Isa::Avx512);
            }
        }
        all
    }

    /// Campaigns computed together under this instruction set.
    pub fn lanes(self) -> usize {
        match self {
            Isa::Baseline | Isa::Avx2 => 4,
            Isa::Avx512 => 8,
        }
    }
}

/// What [`Isa::choose`] set: 0 for nothing (the default for the CPU), else 1, 2, 3 for
/// baseline, AVX2, AVX-512.
static CHOSEN: std::sync::atomic::AtomicU8 = std::sync::atomic::AtomicU8::new(0);

/// Buffers of the lane kernels, reused across batches (nothing is allocated in steady state).
#[derive(Clone, Debug, Default)]
pub struct LaneScratch {
    /// Lanes of costs, caps and burdens (`n·L` values each, user-major).
    pub(crate) a: Vec<f64>,
    pub(crate) b: Vec<f64>,
    pub(crate) c: Vec<f64>,
    /// One campaign's order, for the scalar fallback.
    pub(crate) order: Vec<u32>,
    /// Lanes of ranks (M's order, `n·L`).
    pub(crate) rank: Vec<u64>,
    /// Lanes of stay masks (S's and M's decisions: all ones for a user who stays), or of
    /// decisions as their discriminants (the settlement).
    pub(crate) stays: Vec<u64>,
    /// What a lane computed by the scalar code needs.
    pub(crate) fallback: Fallback,
}

/// Buffers of the scalar fallback (one lane's columns and the scalar water-filling's scratch)
/// and of the lanes' sort-free level (per-user slopes, caps and breakpoints, `n·L` each).
#[derive(Clone, Debug, Default)]
pub(crate) struct Fallback {
    pub(crate) cost: Vec<f64>,
    pub(crate) hi: Vec<f64>,
    pub(crate) out: Vec<f64>,
    pub(crate) fill: crate::waterfill::FillScratch,
    pub(crate) level: [Vec<f64>; 3],
}

/// Runs `kernel` compiled for `isa`: the kernel (and everything it calls, `#[inline(always)]`)
/// is inlined into a function with the instruction set's target features enabled.
#[inline(always)]
pub(crate) fn run<R>(isa: Isa, kernel: impl FnOnce(Isa) -> R) -> R {
    match isa {
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512 => {
            assert!(std::arch::is_x86_feature_detected!("avx512f"));
            // SAFETY: the CPU runs AVX-512F (checked above).
            unsafe { with_avx512(kernel) }
        }
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2 => {
            assert!(std::arch::is_x86_feature_detected!("avx2"));
            // SAFETY: the CPU runs AVX2 (checked above).
            unsafe { with_avx2(kernel) }
        }
        _ => kernel(isa),
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn with_avx512<R>(kernel: impl FnOnce(Isa) -> R) -> R {
    kernel(Isa::Avx512)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn with_avx2<R>(kernel: impl FnOnce(Isa) -> R) -> R {
    kernel(Isa::Avx2)
}

/// `buffer` resized to `n` users of `L` lanes, viewed as lanes.
#[inline(always)]
pub(crate) fn lanes_of<const L: usize>(buffer: &mut Vec<f64>, n: usize) -> &mut [[f64; L]] {
    buffer.resize(n * L, 0.0);
    buffer.as_chunks_mut::<L>().0
}

/// The block starts of one group: `starts` padded to `L` with its last entry.
#[inline(always)]
pub(crate) fn padded<const L: usize>(starts: &[usize]) -> [usize; L] {
    debug_assert!(!starts.is_empty() && starts.len() <= L);
    std::array::from_fn(|l| starts[l.min(starts.len() - 1)])
}

/// Lanes from campaign blocks: `out[i][l] = column[starts[l] + i]`. Under AVX2 or AVX-512 the
/// blocks are transposed four users by four lanes at a time in vector registers (4 loads,
/// 8 shuffles, 4 stores per 16 values; see [`x86::gather_tiles`]), else value by value.
#[inline(always)]
pub(crate) fn gather<const L: usize>(
    isa: Isa,
    column: &[f64],
    starts: &[usize; L],
    out: &mut [[f64; L]],
) {
    let n = out.len();
    let blocks: [&[f64]; L] = std::array::from_fn(|l| &column[starts[l]..starts[l] + n]);
    gather_blocks(isa, &blocks, out);
}

/// Lanes from `L` blocks of `out.len()` values each: `out[i][l] = blocks[l][i]` (see
/// [`gather`]).
#[inline(always)]
pub(crate) fn gather_blocks<const L: usize>(isa: Isa, blocks: &[&[f64]; L], out: &mut [[f64; L]]) {
    let mut done = 0;
    #[cfg(target_arch = "x86_64")]
    if isa != Isa::Baseline && L.is_multiple_of(4) {
        // SAFETY: an `Isa` other than the baseline reaches a kernel only through [`run`], which
        // checked that the CPU runs it (AVX2 or AVX-512F, each with AVX).
        done = unsafe { x86::gather_tiles(blocks, out) };
    }
    let _ = isa;
    for (i, user) in out.iter_mut().enumerate().skip(done) {
        for l in 0..L {
            user[l] = blocks[l][i];
        }
    }
}

/// Campaign blocks from lanes: `column[starts[l] + i] = lanes[i][l]` for the first `used` lanes
/// (transposed in registers under AVX2 or AVX-512 when every lane is used; see [`gather`]).
#[inline(always)]
pub(crate) fn scatter<const L: usize>(
    isa: Isa,
    lanes: &[[f64; L]],
    starts: &[usize; L],
    used: usize,
    column: &mut [f64],
) {
    let n = lanes.len();
    #[cfg(target_arch = "x86_64")]
    if isa != Isa::Baseline && L.is_multiple_of(4) && used == L {
        assert!(starts.iter().all(|&start| start + n <= column.len()));
        let base = column.as_mut_ptr();
        // SAFETY: every block start..start + n lies in `column` (checked above).
        let ptrs = starts.map(|start| unsafe { base.add(start) });
        // SAFETY: as in `gather` for the instruction set; every pointer starts `n` values of
        // `column`, written through raw pointers only while no reference to it is used.
        let done = unsafe { x86::scatter_tiles(lanes, &ptrs) };
        for (l, &start) in starts.iter().enumerate() {
            for (i, user) in lanes.iter().enumerate().skip(done) {
                column[start + i] = user[l];
            }
        }
        return;
    }
    let _ = isa;
    for (l, &start) in starts.iter().enumerate().take(used) {
        for (i, user) in lanes.iter().enumerate() {
            column[start + i] = user[l];
        }
    }
}

/// The 4 × 4 transposes of [`gather`] and [`scatter`] (AVX: `vunpcklpd`/`vunpckhpd` and
/// `vperm2f128`; AVX-512F implies AVX). Moves only: every value keeps its bits.
#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::{
        __m256d, _mm256_loadu_pd, _mm256_permute2f128_pd, _mm256_storeu_pd, _mm256_unpackhi_pd,
        _mm256_unpacklo_pd,
    };

    /// Rows `[a, b, c, d]` (4 values each) transposed: result j holds value j of each row.
    #[inline]
    #[target_feature(enable = "avx")]
    fn transpose(r: [__m256d; 4]) -> [__m256d; 4] {
        let t0 = _mm256_unpacklo_pd(r[0], r[1]);
        let t1 = _mm256_unpackhi_pd(r[0], r[1]);
        let t2 = _mm256_unpacklo_pd(r[2], r[3]);
        let t3 = _mm256_unpackhi_pd(r[2], r[3]);
        [
            _mm256_permute2f128_pd::<0x20>(t0, t2),
            _mm256_permute2f128_pd::<0x20>(t1, t3),
            _mm256_permute2f128_pd::<0x31>(t0, t2),
            _mm256_permute2f128_pd::<0x31>(t1, t3),
        ]
    }

    /// Four vectors of four values loaded from `from`, transposed, stored to `to`.
    ///
    /// # Safety
    /// Each of `from` points to 4 readable values, each of `to` to 4 writable ones.
    #[inline]
    #[target_feature(enable = "avx")]
    unsafe fn move_tile(from: [*const f64; 4], to: [*mut f64; 4]) {
        // SAFETY: the caller's promise.
        unsafe {
            let moved = transpose(from.map(|p| _mm256_loadu_pd(p)));
            for (p, v) in to.into_iter().zip(moved) {
                _mm256_storeu_pd(p, v);
            }
        }
    }

    /// `out[i][l] = blocks[l][i]` for the users of whole tiles of four (`L` a multiple of 4,
    /// every block `out.len()` long); returns how many users it moved.
    #[inline]
    #[target_feature(enable = "avx")]
    pub(super) fn gather_tiles<const L: usize>(
        blocks: &[&[f64]; L],
        out: &mut [[f64; L]],
    ) -> usize {
        let lanes = out.as_mut_ptr().cast::<f64>();
        // SAFETY: i + 4 ≤ out.len(), every block's length; lanes q..q + 4 ≤ L.
        unsafe {
            tiles::<L>(
                out.len(),
                |i, q| std::array::from_fn(|k| blocks[q + k].as_ptr().add(i)),
                |i, q| std::array::from_fn(|j| lanes.add((i + j) * L + q)),
            )
        }
    }

    /// `blocks[l][i] = lanes[i][l]` for the users of whole tiles of four (`L` a multiple of 4);
    /// returns how many users it moved.
    ///
    /// # Safety
    /// Each of `blocks` points to `lanes.len()` writable values.
    #[inline]
    #[target_feature(enable = "avx")]
    pub(super) unsafe fn scatter_tiles<const L: usize>(
        lanes: &[[f64; L]],
        blocks: &[*mut f64; L],
    ) -> usize {
        let values = lanes.as_ptr().cast::<f64>();
        // SAFETY: i + 4 ≤ lanes.len(), the length of every block (the caller's promise).
        unsafe {
            tiles::<L>(
                lanes.len(),
                |i, q| std::array::from_fn(|j| values.add((i + j) * L + q)),
                |i, q| std::array::from_fn(|k| blocks[q + k].add(i)),
            )
        }
    }

    /// [`move_tile`] of every tile (users i..i + 4, lanes q..q + 4) of the whole tiles of four
    /// among `users` users; returns how many users it moved.
    ///
    /// # Safety
    /// `from(i, q)` and `to(i, q)` point to 4 readable, resp. writable, values.
    #[inline(always)]
    unsafe fn tiles<const L: usize>(
        users: usize,
        from: impl Fn(usize, usize) -> [*const f64; 4],
        to: impl Fn(usize, usize) -> [*mut f64; 4],
    ) -> usize {
        let whole = users / 4 * 4;
        for i in (0..whole).step_by(4) {
            for q in (0..L).step_by(4) {
                // SAFETY: the caller's promise.
                unsafe { move_tile(from(i, q), to(i, q)) };
            }
        }
        whole
    }
}

/// Four lanes at a time in AVX registers: the loads, stores and selects the kernels' AVX2 forms
/// share (each kernel's `x86` module). A lane array's row `[f64; L]` holds lanes `q..q + 4` at
/// offset `q` (`L` a multiple of 4, `q` a multiple of 4 below `L`).
#[cfg(target_arch = "x86_64")]
pub(crate) mod quad {
    use std::arch::x86_64::{
        __m256d, _mm256_blendv_pd, _mm256_castpd_si256, _mm256_castsi256_pd, _mm256_loadu_pd,
        _mm256_loadu_si256, _mm256_movemask_pd, _mm256_storeu_pd, _mm256_storeu_si256,
    };

    /// Lanes `q..q + 4` of `row`.
    #[inline]
    #[target_feature(enable = "avx2")]
    pub(crate) fn get<const L: usize>(row: &[f64; L], q: usize) -> __m256d {
        assert!(q + 4 <= L);
        // SAFETY: lanes q..q + 4 lie in the row (checked above).
        unsafe { _mm256_loadu_pd(row.as_ptr().add(q)) }
    }

    /// Lanes `q..q + 4` of `row` set to `v`.
    #[inline]
    #[target_feature(enable = "avx2")]
    pub(crate) fn put<const L: usize>(row: &mut [f64; L], q: usize, v: __m256d) {
        assert!(q + 4 <= L);
        // SAFETY: as in `get`.
        unsafe { _mm256_storeu_pd(row.as_mut_ptr().add(q), v) }
    }

    /// Lanes `q..q + 4` of a row of 64-bit masks or counts, as a vector of doubles' bits.
    #[inline]
    #[target_feature(enable = "avx2")]
    pub(crate) fn get_bits<const L: usize>(row: &[u64; L], q: usize) -> __m256d {
        assert!(q + 4 <= L);
        // SAFETY: as in `get`.
        unsafe { _mm256_castsi256_pd(_mm256_loadu_si256(row.as_ptr().add(q).cast())) }
    }

    /// Lanes `q..q + 4` of a row of 64-bit masks or counts set to `v`'s bits.
    #[inline]
    #[target_feature(enable = "avx2")]
    pub(crate) fn put_bits<const L: usize>(row: &mut [u64; L], q: usize, v: __m256d) {
        assert!(q + 4 <= L);
        // SAFETY: as in `get`.
        unsafe { _mm256_storeu_si256(row.as_mut_ptr().add(q).cast(), _mm256_castpd_si256(v)) }
    }

    /// Lanes `q..q + 4` of `flags` as masks (all ones where set).
    #[inline]
    #[target_feature(enable = "avx2")]
    pub(crate) fn flags<const L: usize>(flags: &[bool; L], q: usize) -> __m256d {
        get_bits(&flags.map(super::mask), q)
    }

    /// `a` where `mask` is all ones, `b` where it is zero ([`super::select`], one `vblendvpd`).
    #[inline]
    #[target_feature(enable = "avx2")]
    pub(crate) fn select(mask: __m256d, a: __m256d, b: __m256d) -> __m256d {
        _mm256_blendv_pd(b, a, mask)
    }

    /// Whether any of the four masks is set.
    #[inline]
    #[target_feature(enable = "avx2")]
    pub(crate) fn any(mask: __m256d) -> bool {
        _mm256_movemask_pd(mask) != 0
    }
}

/// `if cond { a } else { b }`, bit for bit, as bit masks: LLVM vectorises a loop of these across
/// lanes, where it turned a loop of selects into a branch per lane.
#[inline(always)]
pub fn pick(cond: bool, a: f64, b: f64) -> f64 {
    select(mask(cond), a, b)
}

/// All ones if `cond`, else zero: a lane's condition as a mask of the values' width.
#[inline(always)]
pub(crate) fn mask(cond: bool) -> u64 {
    0u64.wrapping_sub(cond as u64)
}

/// `a` where `mask` is all ones, `b` where it is zero, bit for bit ([`pick`] on a mask).
#[inline(always)]
pub(crate) fn select(mask: u64, a: f64, b: f64) -> f64 {
    f64::from_bits((a.to_bits() & mask) | (b.to_bits() & !mask))
}

/// Lane `l` of `lanes`, as a column.
#[inline(always)]
pub(crate) fn lane<const L: usize>(lanes: &[[f64; L]], l: usize, out: &mut Vec<f64>) {
    out.clear();
    out.extend(lanes.iter().map(|user| user[l]));
}

/// Lane `l` of `lanes` set from a column.
#[inline(always)]
pub(crate) fn set_lane<const L: usize>(lanes: &mut [[f64; L]], l: usize, column: &[f64]) {
    for (user, v) in lanes.iter_mut().zip(column) {
        user[l] = *v;
    }
}

#[cfg(test)]
mod tests {
    use super::assign::assign_blocks;
    use super::settle::{ToSettle, settle_blocks};
    use super::{Isa, LaneScratch};
    use crate::withdraw::{Decision, ProtocolEnd};
    use crate::{Game, NoEvents};

    /// The lane buffers' room, in values.
    fn lane_room(scratch: &LaneScratch) -> usize {
        scratch.a.capacity()
            + scratch.b.capacity()
            + scratch.c.capacity()
            + scratch.rank.capacity()
            + scratch.stays.capacity()
            + scratch
                .fallback
                .level
                .iter()
                .map(Vec::capacity)
                .sum::<usize>()
            + scratch.fallback.cost.capacity()
            + scratch.fallback.hi.capacity()
            + scratch.fallback.out.capacity()
    }

    /// A lone campaign (a batch of one replication of a large population) is assigned and
    /// settled in place, bit for bit as the scalar functions, without lane buffers (they held
    /// `n·L` values each: async's peak grew by half); two campaigns still use the lanes.
    #[test]
    fn a_lone_campaign_needs_no_lane_buffers() {
        let n = 1000;
        let game = Game {
            users: n,
            ..Game::default()
        };
        let observed: Vec<f64> = (0..2 * n)
            .map(|i| (i * 7919 % 1000) as f64 / 400.0)
            .collect();
        let decision: Vec<Decision> = (0..2 * n)
            .map(|i| [Decision::Stay, Decision::Withdraw][i % 7 / 6])
            .collect();
        for isa in Isa::available() {
            for blocks in [1, 2] {
                let starts: Vec<usize> = (0..blocks).map(|k| k * n).collect();
                let (mut cap, mut burden) = (vec![0.0; 2 * n], vec![0.0; 2 * n]);
                let mut scratch = LaneScratch::default();
                let mut assignments = Vec::new();
                assign_blocks(
                    isa,
                    &observed,
                    n,
                    &starts,
                    &game,
                    (&mut cap, &mut burden),
                    &mut scratch,
                    &mut assignments,
                );
                let mut fill = crate::waterfill::FillScratch::default();
                let (mut cap_1, mut burden_1) = (vec![0.0; n], vec![0.0; n]);
                let expected = crate::assign::assign(
                    &observed[..n],
                    &game,
                    &mut cap_1,
                    &mut burden_1,
                    &mut fill,
                    &mut NoEvents,
                );
                assert_eq!(assignments[0], expected, "{isa:?}, {blocks} block(s)");
                assert!(crate::assign::same_bits(&burden[..n], &burden_1));
                let campaigns: Vec<ToSettle> = starts
                    .iter()
                    .map(|&start| ToSettle {
                        start,
                        end: ProtocolEnd::Trained {
                            committed: 0.4 * n as f64,
                        },
                        backstoppers: 3,
                    })
                    .collect();
                let mut payoff = vec![f64::NAN; 2 * n];
                let mut outcomes = Vec::new();
                settle_blocks(
                    isa,
                    (&observed, &burden, &decision),
                    n,
                    &campaigns,
                    &game,
                    &mut payoff,
                    &mut scratch,
                    &mut outcomes,
                );
                let mut payoff_1 = vec![f64::NAN; n];
                let expected = crate::settle::settle_withdrawal_at(
                    campaigns[0].end,
                    0.0,
                    &observed[..n],
                    &burden[..n],
                    &decision[..n],
                    &game,
                    3,
                    &mut payoff_1,
                    &mut NoEvents,
                );
                assert_eq!(outcomes[0], expected, "{isa:?}, {blocks} block(s)");
                assert!(crate::assign::same_bits(&payoff[..n], &payoff_1));
                let room = lane_room(&scratch);
                if blocks == 1 {
                    assert_eq!(room, 0, "{isa:?}: lane buffers for one campaign");
                } else {
                    assert!(
                        room >= 3 * n * isa.lanes(),
                        "{isa:?}: the lanes were not used"
                    );
                }
            }
        }
    }
}
