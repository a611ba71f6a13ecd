//! How much memory a run needs, estimated from the scenario and the run options before anything
//! starts, and how much the machine has: a run that cannot fit is refused (exit 2, nothing
//! created) instead of being aborted or killed half-way.
//!
//! The peak is the sum of three parts: the process's baseline (binary, thread pool, Parquet
//! writers), the live simulator state of every worker thread (a thread keeps the world of the
//! cell it plays: users × replications per batch × bytes per user of each mechanism), and the
//! rows the chunk in progress holds (one window of cell outputs and the writers' row groups).
//! The per-user constants are measured; [`SimulatorCosts`] is the one place they live.

use datapact_model::Stage;
use datapact_scenario::{Scenario, TraceLevel};
use datapact_sim::large::LARGE_MIN_USER_CAMPAIGNS;
use datapact_sim::sweep::batch_capacity;
use datapact_sim::{Backend, EventRecord, RoundRecord, UserRecord};
use datapact_trace::MAX_ROW_GROUP_ROWS;

use crate::plan::chunk_plan;

/// Bytes of simulator state per user of one campaign, per path. Measured as the slope of peak
/// RSS between n = 10^5 and n = 10^6 (one campaign, one thread, MODEL.md defaults):
///
/// ```text
/// printf '[scenario]\nname = "mem"\nseed = 1\nreplications = 1\n' > one.toml
/// for m in '["C"]' '["S"]' '["M"]' '["C","S","M"]'; do for n in 100000 1000000; do
///   /usr/bin/time -f "%M kB" datapact run one.toml -q --threads 1 --out /tmp/mem-$n \
///     --set population.users=$n --set "scenario.mechanisms=$m"   # add --direct for the kernel
/// done; done
/// ```
///
/// | slope, bytes per user | C   | S   | M   | C, S, M | shared |
/// |-----------------------|-----|-----|-----|---------|--------|
/// | ECS                   | 261 | 439 | 568 | 1202    | 33     |
/// | direct                | 102 | 150 | 279 | 403     | 64     |
///
/// `shared` is what the mechanisms of a replication share (its draws: common random numbers):
/// (C + S + M − all three) / 2; a mechanism's own figure is its slope minus `shared`. The
/// constants are those, rounded up (the estimate errs high). When the lower-memory path of
/// issue 11 (point 2) lands in `crates/sim`, re-measure and change only these numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SimulatorCosts {
    /// Per user and replication, shared by the replication's mechanisms.
    pub shared: u64,
    /// Per user of a campaign of C.
    pub subsidy: u64,
    /// Per user of a campaign of S.
    pub simultaneous: u64,
    /// Per user of a campaign of M, and of any other mechanism whose users report (vcg,
    /// plugins: M's is the largest figure of the three paper mechanisms).
    pub reporting: u64,
    /// Per user of a campaign of async (its event calendar and re-decisions).
    pub asynchronous: u64,
    /// Per user of a campaign of a plugin mechanism whose users contribute (as C's).
    pub contributing: u64,
}

/// The ECS path (the default backend).
pub const ECS_COSTS: SimulatorCosts = SimulatorCosts {
    shared: 40,
    subsidy: 240,
    simultaneous: 420,
    // M measured 568 − 33 at 10^5..10^6 (above).
    reporting: 600,
    // async alone: 612 bytes per user in all (slope of 2 replications of 10^5 and 4·10^5 users,
    // trace = cells, two threads: peak RSS 75 384 and 254 812 KiB; 571 from 10^5 to 10^6), so
    // 572 beside `shared`. Rounded up to 700: the users trace at 10^5 is the closest row of the
    // memory table (1.10×). It had grown to 1 022 in all at aa93302: a9007e0's lock-step
    // assignment and settlement kept lane buffers of n·L values for a batch's only campaign
    // (now computed in place: datapact_model::lanes, "Memory").
    asynchronous: 700,
    contributing: 240,
};

/// The large-campaign path (`datapact_sim::large`: core kernels from 2^16 user-campaigns per
/// replication, one round, trace ≤ rounds), which plays the mechanisms one after another, so
/// its peak is the largest mechanism's figure, not their sum, plus `shared` when C and M are
/// both played (C's payoffs kept for the M-vs-C diagnostic). Measured (BENCHMARKS.md, "Very
/// large populations in little memory", and the memory table): C ≈ 0, S 55, M 82 (+ 8 with a
/// random order) bytes per user at n = 10^6..10^8.
pub const LARGE_COSTS: SimulatorCosts = SimulatorCosts {
    shared: 8,
    subsidy: 0,
    simultaneous: 60,
    reporting: 96,
    // As before this field existed: M's figure.
    asynchronous: 96,
    contributing: 8,
};

/// The direct kernel (`--direct`; core mechanisms only).
pub const DIRECT_COSTS: SimulatorCosts = SimulatorCosts {
    shared: 70,
    subsidy: 45,
    simultaneous: 95,
    reporting: 230,
    // As before this field existed: M's figure.
    asynchronous: 230,
    contributing: 45,
};

impl SimulatorCosts {
    /// Bytes per user of one campaign of `mechanism`.
    fn per_user(&self, mechanism: &datapact_model::MechanismDecl) -> u64 {
        use datapact_model::catalog::CoreMechanism as Core;
        match Core::named(mechanism.name) {
            Some(Core::Subsidy) => self.subsidy,
            Some(Core::Simultaneous) => self.simultaneous,
            Some(Core::Asynchronous) => self.asynchronous,
            Some(Core::Sequential | Core::Vcg) => self.reporting,
            None if mechanism.stages.has(Stage::Report) => self.reporting,
            None => self.contributing,
        }
    }
}

/// Bytes of a campaign's network (`[population.network]`) per user, on top of its mechanism's
/// figure: each campaign slot holds its graph (CSR offsets and both ends of every edge) and the
/// protocol's per-user counts, and the graph's generation keeps its edge lists until the CSR is
/// built. Measured (M alone, Watts–Strogatz, one replication, one thread, n = 10^6; peak RSS
/// 560, 601 and 694 MiB for k = 2, 10 and 20): about 7.8 bytes per user per unit of mean
/// degree, on top of M's ECS figure; the constants round up (the estimate errs high).
/// Networked cells always play on the ECS.
const NETWORK_PER_USER: u64 = 32;
/// See [`NETWORK_PER_USER`]: bytes per user per unit of mean degree.
const NETWORK_PER_DEGREE: u64 = 8;
/// Bytes per user of a campaign slot whose thresholds are drawn
/// (`[population.withdraw] threshold = { dist = ... }`): her φ_i, an `f64` (not measured: the
/// vector's size).
const DRAWN_THRESHOLD_PER_USER: u64 = 8;

/// The process before any cell: binary, allocator arenas, the writers' buffers (measured 12 to
/// 13 MiB with one cell played off the ECS: tools/bench/memory_table.sh, C at 10^5 and 10^6
/// users).
const BASELINE: u64 = 16 << 20;

/// Per worker thread: its stack, the world's fixed part (schedule, resources) and the draws it
/// keeps from cell to cell (at most `DRAW_BANK_USERS` users of `BANKED_BYTES_PER_USER`, 4 MiB).
const PER_THREAD: u64 = (2 << 20)
    + (datapact_sim::systems::draw::DRAW_BANK_USERS
        * datapact_sim::systems::draw::BANKED_BYTES_PER_USER) as u64;

/// Bytes a held `rounds` or `events` row costs beyond its record in the window of cell outputs
/// (the Arrow builders and the writer's buffered row group hold at most a row group of them).
/// With the record's size, measured 90 to 130 bytes a `rounds` row (3·10^5 and 10^6
/// replications of one user, C, S and M: 9·10^5 and 3·10^6 rows) and 74 an `events` row.
const ROW_BUFFERED: u64 = 40;

/// Events a campaign of `decl` emits per user at `n` users (measured at MODEL.md defaults,
/// n = 10^4, tools/bench/memory_table.sh): C 1 (its response), S 3 (report, assign,
/// decision), async 5.7 (re-assignments and regret re-decisions: 6), others 3. M emits one
/// more per undecided user at every re-assignment, n × withdrawals in all: 7.5 per user at
/// n = 10^3, 25 at 3·10^3, 60 at 10^4 (about n/170); counted as 3 + n/150. Parameters with many
/// more withdrawals than the defaults make more (at most n/2 per user).
fn events_per_user(decl: &datapact_model::MechanismDecl, n: u64) -> u64 {
    use datapact_model::catalog::CoreMechanism as Core;
    match Core::named(decl.name) {
        Some(Core::Subsidy) => 1,
        Some(Core::Sequential) => 3 + n / 150,
        Some(Core::Asynchronous) => 6,
        Some(Core::Simultaneous | Core::Vcg) | None => 3,
    }
}

/// Events the users trace keeps per user of a campaign while it plays (`TrailEvents`: her
/// assignment and her decision, and async's regret re-decisions: 3 leaves a margin).
const TRAIL_EVENTS_PER_USER: u64 = 3;

/// Bytes a cell's statistics cost per mechanism and round while held (its cells, diagnostics
/// and contrasts rows): measured about 1 300 (262 144 one-user cells, windows of 16 384).
const CELL_HELD_PER_MECHANISM: u64 = 1400;

/// The estimated peak of a run, in bytes, by part.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemoryEstimate {
    /// Binary, thread stacks, fixed parts of the worlds.
    pub baseline: u64,
    /// The live worlds (or the direct kernel's buffers) of the threads playing the largest
    /// cells at once.
    pub simulator: u64,
    /// Rows held by the chunk in progress before they reach the part files.
    pub outputs: u64,
    /// Worker threads that play cells at the same time (at most the cells of a window).
    pub busy_threads: usize,
    /// Users per campaign of the largest cell.
    pub largest_users: usize,
}

impl MemoryEstimate {
    /// The estimated peak resident memory.
    pub fn peak(&self) -> u64 {
        self.baseline
            .saturating_add(self.simulator)
            .saturating_add(self.outputs)
    }
}

/// The estimated peak memory of running `scenario` with `threads` worker threads on `backend`,
/// playing `replications` replications of each cell (the scenario's, or 1 for `--rep`);
/// `kernels_only` is [`datapact_sim::PluginSet::plays_kernels_only`] of the app's plugins
/// (whether its large cells may leave the ECS).
pub fn estimate_peak_bytes(
    scenario: &Scenario,
    threads: usize,
    backend: Backend,
    replications: u32,
    kernels_only: bool,
) -> MemoryEstimate {
    let costs = match backend {
        Backend::Ecs => ECS_COSTS,
        Backend::Direct => DIRECT_COSTS,
    };
    let cells = scenario.cell_count().max(1);
    let m = scenario.mechanisms.len().max(1);
    // A network: every campaign slot holds its graph (see `NETWORK_PER_USER`).
    let network = scenario.max_mean_degree().map_or(0, |z| {
        let thresholds = scenario
            .base
            .peer_threshold
            .as_ref()
            .map_or(0, |_| DRAWN_THRESHOLD_PER_USER);
        NETWORK_PER_USER + NETWORK_PER_DEGREE * z.ceil().max(0.0) as u64 + thresholds
    });
    let decls: Vec<&datapact_model::MechanismDecl> = scenario
        .mechanisms
        .iter()
        .map(|r| &scenario.catalog.mechanisms[scenario.catalog.plays_as(r.index)])
        .collect();
    // A traced campaign keeps its event log in the world until it is read: the users trace the
    // assignments and decisions (`TrailEvents`), the events trace every event.
    let log = |decl: &datapact_model::MechanismDecl, n: usize| -> u64 {
        std::mem::size_of::<datapact_model::Event>() as u64
            * match scenario.trace {
                TraceLevel::Users => TRAIL_EVENTS_PER_USER,
                TraceLevel::Events => events_per_user(decl, n as u64),
                _ => 0,
            }
    };
    let per_user_campaign = |n: usize| -> u64 {
        costs.shared
            + decls
                .iter()
                .map(|d| costs.per_user(d) + network + log(d, n))
                .sum::<u64>()
    };
    // Large cells off the ECS (see `LARGE_COSTS`): one replication at a time, mechanisms in turn.
    let large_path = backend == Backend::Ecs
        && !scenario.has_network()
        && scenario.trace <= TraceLevel::Rounds
        && scenario.base.dynamics.rounds <= 1
        && kernels_only
        && scenario.mechanisms.iter().all(|r| {
            datapact_model::Kernel::of(
                scenario.catalog.mechanisms[scenario.catalog.plays_as(r.index)].name,
            )
            .is_some()
        });
    let plays = |decl: &datapact_model::MechanismDecl| {
        scenario.mechanisms.iter().any(|r| {
            scenario.catalog.mechanisms[scenario.catalog.plays_as(r.index)].name == decl.name
        })
    };
    let payoffs_kept =
        plays(&datapact_model::catalog::SUBSIDY) && plays(&datapact_model::catalog::SEQUENTIAL);
    let large_per_user: u64 = if payoffs_kept { LARGE_COSTS.shared } else { 0 }
        + scenario
            .mechanisms
            .iter()
            .map(|r| {
                LARGE_COSTS
                    .per_user(&scenario.catalog.mechanisms[scenario.catalog.plays_as(r.index)])
            })
            .max()
            .unwrap_or(0);
    // The users of the cells, largest first, with how many cells have each.
    let mut sizes: Vec<(usize, usize)> =
        match scenario.sweep.iter().find(|a| a.key == "population.users") {
            Some(axis) => axis
                .values
                .iter()
                .map(|v| (*v as usize, (cells / axis.values.len().max(1)).max(1)))
                .collect(),
            None => vec![(scenario.base.users, cells)],
        };
    sizes.sort_unstable_by_key(|s| std::cmp::Reverse(s.0));
    let plan = chunk_plan(scenario);
    // Cells in flight at once: one window of a chunk (a thread's world outlives its cell, but
    // the next cell it plays rebuilds it unless it has the same shape).
    let window = match scenario.trace {
        TraceLevel::Users | TraceLevel::Events => threads.max(1),
        _ => plan.chunk_cells,
    };
    let busy = threads.min(window).clamp(1, cells);
    let world = |n: usize| -> u64 {
        if large_path && n.saturating_mul(m) >= LARGE_MIN_USER_CAMPAIGNS {
            return (n as u64).saturating_mul(large_per_user);
        }
        let reps = batch_capacity(n, m, replications) as u64;
        (n as u64)
            .saturating_mul(reps)
            .saturating_mul(per_user_campaign(n))
    };
    // The `busy` largest cells may be in flight together.
    let mut simulator = 0u64;
    let mut left = busy;
    for &(n, count) in &sizes {
        let take = count.min(left);
        simulator = simulator.saturating_add(world(n).saturating_mul(take as u64));
        left -= take;
        if left == 0 {
            break;
        }
    }
    let largest = sizes.first().map_or(1, |s| s.0).max(1);
    let rounds = scenario.base.dynamics.rounds.max(1) as u64;
    let campaigns_per_cell = replications as u64 * m as u64 * rounds;
    let window = window as u64;
    let mut outputs = window.saturating_mul(rounds * m as u64 * CELL_HELD_PER_MECHANISM);
    if scenario.trace >= TraceLevel::Rounds {
        let rows = window.saturating_mul(campaigns_per_cell);
        outputs = outputs.saturating_add(held_rows(rows, round_record_bytes()));
    }
    if scenario.trace >= TraceLevel::Users {
        let rows = window.saturating_mul(campaigns_per_cell.saturating_mul(largest as u64));
        outputs = outputs.saturating_add(held_rows(rows, std::mem::size_of::<UserRecord>() as u64));
    }
    if scenario.trace >= TraceLevel::Events {
        // Events of one replication's campaigns (all mechanisms), a few per campaign besides.
        let per_replication: u64 = decls
            .iter()
            .map(|d| events_per_user(d, largest as u64).saturating_mul(largest as u64) + 4)
            .sum();
        let rows =
            window.saturating_mul((replications as u64 * rounds).saturating_mul(per_replication));
        outputs =
            outputs.saturating_add(held_rows(rows, std::mem::size_of::<EventRecord>() as u64));
    }
    MemoryEstimate {
        baseline: BASELINE + PER_THREAD * busy as u64,
        simulator,
        outputs,
        busy_threads: busy,
        largest_users: largest,
    }
}

/// A window of `rows` records costs `record` bytes each while held in the cell outputs; the
/// builders and the writer's row group hold at most one row group of them.
fn held_rows(rows: u64, record: u64) -> u64 {
    let buffered = rows.min(MAX_ROW_GROUP_ROWS as u64);
    rows.saturating_mul(record)
        .saturating_add(buffered.saturating_mul(ROW_BUFFERED))
}

fn round_record_bytes() -> u64 {
    std::mem::size_of::<RoundRecord>() as u64
}

/// Memory this process may use, and where the figure comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Available {
    /// Bytes.
    pub bytes: u64,
    /// `DATAPACT_MEMORY_LIMIT`, `MemAvailable` or the cgroup's limit.
    pub source: &'static str,
}

/// The environment variable that overrides the available memory (bytes, or `24G`, `512M`).
pub const MEMORY_LIMIT_VAR: &str = "DATAPACT_MEMORY_LIMIT";

/// The memory available to this process: `DATAPACT_MEMORY_LIMIT` if set, else the least of
/// `/proc/meminfo`'s `MemAvailable` and what the process's cgroup (v2 `memory.max`, v1
/// `memory.limit_in_bytes`, e.g. a Slurm job's) leaves; `None` when none can be read (no check).
/// The error names the variable and the accepted forms.
pub fn available_memory() -> Result<Option<Available>, String> {
    if let Some(text) = std::env::var_os(MEMORY_LIMIT_VAR) {
        let text = text.to_string_lossy();
        return parse_size(&text)
            .map(|bytes| {
                Some(Available {
                    bytes,
                    source: MEMORY_LIMIT_VAR,
                })
            })
            .ok_or_else(|| {
                format!(
                    "{MEMORY_LIMIT_VAR}={text:?}: expected a number of bytes >= 1 or a size \
                     such as 512M, 24G or 1.5T (K, M, G, T are powers of 1024)"
                )
            });
    }
    let meminfo = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|t| mem_available(&t))
        .map(|bytes| Available {
            bytes,
            source: "MemAvailable",
        });
    let cgroup = cgroup_room().map(|bytes| Available {
        bytes,
        source: "the cgroup's memory limit",
    });
    Ok(match (meminfo, cgroup) {
        (Some(a), Some(b)) => Some(if b.bytes < a.bytes { b } else { a }),
        (a, b) => a.or(b),
    })
}

/// `MemAvailable` of a `/proc/meminfo` text, in bytes.
fn mem_available(meminfo: &str) -> Option<u64> {
    let line = meminfo.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb.saturating_mul(1024))
}

/// What the process's memory cgroup still allows (limit − usage), if it sets a limit.
fn cgroup_room() -> Option<u64> {
    let read = |p: &str| -> Option<u64> { std::fs::read_to_string(p).ok()?.trim().parse().ok() };
    // v2: the process's own group (`0::/path`), or the root of a container's namespace.
    let own = std::fs::read_to_string("/proc/self/cgroup")
        .ok()
        .and_then(|t| {
            t.lines().find_map(|l| {
                l.strip_prefix("0::")
                    .map(|p| p.trim_end_matches('/').to_string())
            })
        })
        .unwrap_or_default();
    for dir in [format!("/sys/fs/cgroup{own}"), "/sys/fs/cgroup".to_string()] {
        if let Some(max) = read(&format!("{dir}/memory.max")) {
            let used = read(&format!("{dir}/memory.current")).unwrap_or(0);
            return Some(max.saturating_sub(used));
        }
    }
    // v1: a limit near 2^63 means none.
    let limit = read("/sys/fs/cgroup/memory/memory.limit_in_bytes")?;
    if limit >= 1 << 60 {
        return None;
    }
    let used = read("/sys/fs/cgroup/memory/memory.usage_in_bytes").unwrap_or(0);
    Some(limit.saturating_sub(used))
}

/// Bytes from `123`, `512M`, `24G`, `1.5T`, `24GiB`, `24GB` (K, M, G, T: powers of 1024).
pub fn parse_size(text: &str) -> Option<u64> {
    let t = text.trim();
    let t = t
        .strip_suffix("iB")
        .or_else(|| t.strip_suffix('B'))
        .unwrap_or(t);
    let (number, scale) = match t.char_indices().last()? {
        (i, c) if c.is_ascii_alphabetic() => {
            let power = match c.to_ascii_uppercase() {
                'K' => 1,
                'M' => 2,
                'G' => 3,
                'T' => 4,
                _ => return None,
            };
            (&t[..i], 1u64 << (10 * power))
        }
        _ => (t, 1),
    };
    let number = number.trim();
    let bytes = if scale == 1 {
        number.parse::<u64>().ok()?
    } else {
        let v: f64 = number.parse().ok()?;
        if !v.is_finite() || v <= 0.0 || v * scale as f64 >= u64::MAX as f64 {
            return None;
        }
        (v * scale as f64) as u64
    };
    (bytes >= 1).then_some(bytes)
}

/// `31 GiB`, `450 MiB`, `12 KiB`: at most three significant figures, rounded up.
pub fn format_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["bytes", "KiB", "MiB", "GiB", "TiB"];
    let mut v = bytes as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} bytes")
    } else if v < 10.0 {
        format!("{:.1} {}", (v * 10.0).ceil() / 10.0, UNITS[unit])
    } else {
        format!("{:.0} {}", v.ceil(), UNITS[unit])
    }
}

/// Refuses a run whose estimated peak exceeds the available memory; the message gives both
/// figures and what to lower.
pub(crate) fn check_fits(
    scenario: &Scenario,
    estimate: &MemoryEstimate,
    available: Option<&Available>,
    threads: usize,
) -> Result<(), String> {
    let Some(available) = available else {
        return Ok(());
    };
    if estimate.peak() <= available.bytes {
        return Ok(());
    }
    let threads_hint = if estimate.busy_threads > 1 && threads > 1 {
        " (or --threads)"
    } else {
        ""
    };
    Err(format!(
        "{}: needs ~{} ({} for {} thread(s) playing cells of up to {} users, {} of held rows); \
         this machine has {} ({}); lower population.users or scenario.replications{threads_hint}, \
         or set {MEMORY_LIMIT_VAR} to override",
        scenario.origin,
        format_bytes(estimate.peak()),
        format_bytes(estimate.simulator),
        estimate.busy_threads,
        estimate.largest_users,
        format_bytes(estimate.outputs),
        format_bytes(available.bytes),
        available.source,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_in_powers_of_1024() {
        assert_eq!(parse_size("123"), Some(123));
        assert_eq!(parse_size("24G"), Some(24 << 30));
        assert_eq!(parse_size("24GiB"), Some(24 << 30));
        assert_eq!(parse_size("24gb"), None); // lowercase b is not a unit
        assert_eq!(parse_size("512M"), Some(512 << 20));
        assert_eq!(parse_size("1.5k"), Some(1536));
        assert_eq!(parse_size(" 2T "), Some(2 << 40));
        for bad in ["", "0", "-1G", "G", "1X", "abc", "1e30T", "NaNG"] {
            assert_eq!(parse_size(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn bytes_format_rounded_up() {
        assert_eq!(format_bytes(512), "512 bytes");
        assert_eq!(format_bytes(31 << 30), "31 GiB");
        assert_eq!(format_bytes((1 << 30) + 1), "1.1 GiB");
        assert_eq!(format_bytes(450 << 20), "450 MiB");
    }

    #[test]
    fn meminfo_is_read_in_kib() {
        let text = "MemTotal:       24000000 kB\nMemAvailable:   2000 kB\n";
        assert_eq!(mem_available(text), Some(2000 * 1024));
        assert_eq!(mem_available("MemTotal: 1 kB\n"), None);
    }

    fn scenario(extra: &str) -> Scenario {
        let text = format!("[scenario]\nname = \"t\"\nseed = 1\nreplications = 10\n{extra}\n");
        Scenario::from_str(&text, "t.toml", &[]).expect("valid scenario")
    }

    #[test]
    fn the_simulator_grows_with_users_and_threads() {
        let small = estimate_peak_bytes(
            &scenario("[population]\nusers = 100000"),
            1,
            Backend::Ecs,
            10,
            false,
        );
        let big = estimate_peak_bytes(
            &scenario("[population]\nusers = 1000000"),
            1,
            Backend::Ecs,
            10,
            false,
        );
        // One replication per batch at these sizes: 10× the users, 10× the world.
        assert_eq!(big.simulator, 10 * small.simulator);
        assert_eq!(
            small.simulator,
            100_000
                * (ECS_COSTS.shared
                    + ECS_COSTS.subsidy
                    + ECS_COSTS.simultaneous
                    + ECS_COSTS.reporting)
        );
        // One cell: a second thread has nothing to play.
        let two = estimate_peak_bytes(
            &scenario("[population]\nusers = 1000000"),
            2,
            Backend::Ecs,
            10,
            false,
        );
        assert_eq!((two.busy_threads, two.simulator), (1, big.simulator));
        // Two cells of 10^6 users and one of 10 in one chunk: two threads hold the two largest.
        let swept = scenario(
            "[sweep]\npopulation.users = { values = [10, 1000000, 1000000] }\n\
             [output]\nchunk_cells = 3",
        );
        let e = estimate_peak_bytes(&swept, 2, Backend::Ecs, 10, false);
        assert_eq!((e.busy_threads, e.simulator), (2, 2 * big.simulator));
        assert_eq!(e.largest_users, 1_000_000);
        // Off the ECS (core kernels only), a large cell holds one mechanism at a time.
        let large = estimate_peak_bytes(
            &scenario("[population]\nusers = 1000000"),
            1,
            Backend::Ecs,
            10,
            true,
        );
        assert_eq!(
            large.simulator,
            1_000_000 * (LARGE_COSTS.shared + LARGE_COSTS.reporting)
        );
        assert!(large.simulator * 10 < big.simulator);
        // C alone keeps no payoffs for the M-vs-C diagnostic, and its kernel holds nothing per user.
        let c_alone = estimate_peak_bytes(
            &scenario("mechanisms = [\"C\"]\n[population]\nusers = 1000000"),
            1,
            Backend::Ecs,
            10,
            true,
        );
        assert_eq!(c_alone.simulator, 1_000_000 * LARGE_COSTS.subsidy);
    }

    /// async never leaves the ECS, and its own figure is counted: one cell of 10^6 users,
    /// 2 replications, 2 threads (the memory table's row) between the measured peak (563 MiB
    /// with trace = cells) and twice it.
    #[test]
    fn async_counts_its_own_figure_within_the_promise() {
        let text = "mechanisms = [\"async\"]\n[population]\nusers = 1000000";
        let e = estimate_peak_bytes(&scenario(text), 2, Backend::Ecs, 2, true);
        assert_eq!(
            e.simulator,
            1_000_000 * (ECS_COSTS.shared + ECS_COSTS.asynchronous)
        );
        let measured: u64 = 563 << 20;
        assert!(
            (measured..=2 * measured).contains(&e.peak()),
            "{} MiB against a measured peak of 563 MiB",
            e.peak() >> 20
        );
    }

    /// A networked cell plays on the ECS (never the large path), and each campaign slot counts
    /// its graph: 10^6 users under M on Watts–Strogatz k = 10 hold M's ECS world plus
    /// 32 + 8·10 bytes per user (measured: 601 MiB peak, under the estimate).
    #[test]
    fn a_network_counts_its_edges_and_stays_on_the_ecs() {
        let net = "mechanisms = [\"M\"]\n[population]\nusers = 1000000\n\
                   [population.network]\nmodel = \"watts-strogatz\"\nk = 10";
        let e = estimate_peak_bytes(&scenario(net), 1, Backend::Ecs, 1, true);
        assert_eq!(
            e.simulator,
            1_000_000 * (ECS_COSTS.shared + ECS_COSTS.reporting + 32 + 8 * 10)
        );
        assert!(e.peak() > 601 << 20, "{} below the measured peak", e.peak());
        // Denser: more bytes; a swept k counts its largest value.
        let swept = format!("{net}\n[sweep]\npopulation.network.k = {{ values = [2, 20] }}");
        let d = estimate_peak_bytes(&scenario(&swept), 1, Backend::Ecs, 1, true);
        assert_eq!(d.simulator - e.simulator, 1_000_000 * 8 * 10);
        // Drawn thresholds add each user's φ_i.
        let drawn = format!(
            "{net}\n[population.withdraw]\nstrategy = \"threshold\"\nshare = 1.0\n\
             threshold = {{ dist = \"beta\", alpha = 2.0, beta = 5.0 }}"
        );
        let t = estimate_peak_bytes(&scenario(&drawn), 1, Backend::Ecs, 1, true);
        assert_eq!(
            t.simulator - e.simulator,
            1_000_000 * DRAWN_THRESHOLD_PER_USER
        );
        // Without the network the same cell leaves the ECS (M alone: no C payoffs kept).
        let plain = "mechanisms = [\"M\"]\n[population]\nusers = 1000000";
        let p = estimate_peak_bytes(&scenario(plain), 1, Backend::Ecs, 1, true);
        assert_eq!(p.simulator, 1_000_000 * LARGE_COSTS.reporting);
    }

    #[test]
    fn held_rows_grow_with_the_trace_level() {
        let cells = estimate_peak_bytes(&scenario(""), 1, Backend::Ecs, 10, true);
        let rounds = estimate_peak_bytes(
            &scenario("[output]\ntrace = \"rounds\""),
            1,
            Backend::Ecs,
            10,
            false,
        );
        let events = estimate_peak_bytes(
            &scenario("[output]\ntrace = \"events\""),
            1,
            Backend::Ecs,
            10,
            false,
        );
        assert!(cells.outputs < rounds.outputs && rounds.outputs < events.outputs);
    }

    #[test]
    fn a_run_that_cannot_fit_is_refused_with_both_figures() {
        let s = scenario("[population]\nusers = 100000000");
        let e = estimate_peak_bytes(&s, 2, Backend::Ecs, 10, false);
        assert!(e.peak() > 30 << 30, "{e:?}");
        let small = Available {
            bytes: 1 << 30,
            source: MEMORY_LIMIT_VAR,
        };
        let why = check_fits(&s, &e, Some(&small), 2).unwrap_err();
        assert!(why.starts_with("t.toml: needs ~"), "{why}");
        assert!(
            why.contains("this machine has 1.0 GiB (DATAPACT_MEMORY_LIMIT)"),
            "{why}"
        );
        assert!(why.contains("lower population.users"), "{why}");
        let plenty = Available {
            bytes: u64::MAX,
            source: MEMORY_LIMIT_VAR,
        };
        assert_eq!(check_fits(&s, &e, Some(&plenty), 2), Ok(()));
        assert_eq!(check_fits(&s, &e, None, 2), Ok(()));
    }
}
