//! Refusing work that would not fit in memory before it starts: an interpreter cannot survive
//! an allocation failure inside the extension, so a run or a table read that needs more than the
//! process may still take raises `datapact.OutOfMemory` instead.

use pyo3::prelude::*;

use crate::errors::{error, obj};

/// Bytes this process may still take, and the limit that leaves that: the least of what the
/// runner's own check sees (`MemAvailable`, the cgroup's limit, `DATAPACT_MEMORY_LIMIT`) and what
/// the address-space limit (`RLIMIT_AS`: `ulimit -v`, `resource.setrlimit`) leaves above the
/// process's present size. An interpreter cannot survive an allocation failure inside the
/// extension (Rust aborts the process), so work that would not fit is refused before it starts.
pub(crate) fn memory_room() -> Option<(u64, String)> {
    let available = datapact_runner::available_memory()
        .ok()
        .flatten()
        .map(|a| (a.bytes, a.source.to_string()));
    let address_space =
        address_space_room().map(|b| (b, "the address-space limit (RLIMIT_AS)".into()));
    match (available, address_space) {
        (Some(a), Some(b)) => Some(if b.0 < a.0 { b } else { a }),
        (a, b) => a.or(b),
    }
}

/// `RLIMIT_AS`'s soft limit minus the process's virtual size (`VmSize`), when a limit is set.
pub(crate) fn address_space_room() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max address space"))?;
    let soft: u64 = line
        .trim_start_matches("Max address space")
        .split_whitespace()
        .next()?
        .parse()
        .ok()?; // "unlimited" does not parse: no limit
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb: u64 = status
        .lines()
        .find(|l| l.starts_with("VmSize:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    Some(soft.saturating_sub(kb.saturating_mul(1024)))
}

/// `MemoryError` (as `datapact.OutOfMemory`) when `need` bytes do not fit in what is left.
pub(crate) fn check_room(py: Python<'_>, need: u64, what: &str, exit_code: u8) -> PyResult<()> {
    let Some((room, source)) = memory_room() else {
        return Ok(());
    };
    if need <= room {
        return Ok(());
    }
    Err(error(
        py,
        "OutOfMemory",
        format!(
            "{what} needs ~{} and {source} leaves {}; nothing was done",
            datapact_runner::format_bytes(need),
            datapact_runner::format_bytes(room)
        ),
        &[
            ("exit_code", obj(py, exit_code)),
            ("needed", obj(py, need)),
            ("available", obj(py, room)),
        ],
    ))
}
