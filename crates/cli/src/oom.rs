//! An allocation failure as an error with a message and exit code 1, not Rust's default
//! "memory allocation of N bytes failed" and SIGABRT (a core dump, and a shell or Slurm that
//! reports a crash).
//!
//! The runner refuses runs whose estimated peak does not fit before starting; this catches what
//! the estimate misses. Nothing is half-written either way: parts are written to hidden
//! temporaries renamed only when complete, finished chunks are recorded atomically, and the next
//! run of the shard deletes the temporaries a dead process left. So exiting on the spot loses only
//! the chunk in progress, which `--resume` recomputes.

use std::alloc::{GlobalAlloc, Layout, System};

/// The system allocator, exiting with a message (code 1) when it returns no memory. The
/// `datapact` binary installs it; an app's binary may too:
///
/// ```no_run
/// #[global_allocator]
/// static ALLOCATOR: datapact::ExitOnOutOfMemory = datapact::ExitOnOutOfMemory;
/// # fn main() {}
/// ```
///
/// It makes fallible reservations (`try_reserve`) that the system cannot satisfy exit too,
/// which is what the program would do with their error anyway.
pub struct ExitOnOutOfMemory;

// SAFETY: every method forwards to `System` with the caller's arguments unchanged and returns
// its pointer, or does not return at all.
unsafe impl GlobalAlloc for ExitOnOutOfMemory {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract, which `System`'s shares.
        let p = unsafe { System.alloc(layout) };
        if p.is_null() {
            out_of_memory(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as `alloc`.
        let p = unsafe { System.alloc_zeroed(layout) };
        if p.is_null() {
            out_of_memory(layout.size());
        }
        p
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: `ptr` and `layout` come from this allocator, i.e. from `System`.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if p.is_null() {
            out_of_memory(new_size);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` and `layout` come from this allocator, i.e. from `System`.
        unsafe { System.dealloc(ptr, layout) }
    }
}

/// Writes the message with `write(2)` from a stack buffer (allocating is what just failed) and
/// leaves with `_exit`, which runs no destructor or handler that could allocate.
#[cold]
fn out_of_memory(size: usize) -> ! {
    let mut buf = [0u8; 512];
    let mut len = 0;
    let mut put = |bytes: &[u8]| {
        let n = bytes.len().min(buf.len() - len);
        buf[len..len + n].copy_from_slice(&bytes[..n]);
        len += n;
    };
    put(b"datapact: out of memory: an allocation of ");
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    let mut v = size;
    loop {
        i -= 1;
        digits[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    put(&digits[i..]);
    put(
        b" bytes failed. Finished chunks are kept and the chunk in progress is discarded; \
          `datapact validate` prints the memory a run needs. Lower population.users or \
          scenario.replications (or --threads), then rerun with --resume.\n",
    );
    let mut written = 0;
    while written < len {
        // SAFETY: writes initialised bytes of a live stack buffer to stderr.
        let n = unsafe { libc::write(2, buf[written..len].as_ptr().cast(), len - written) };
        if n <= 0 {
            break;
        }
        written += n as usize;
    }
    // SAFETY: `_exit` ends the process at once; nothing runs after it.
    unsafe { libc::_exit(1) }
}
