//! What the standard library does not offer: whether stdout was open when
//! the process started, and swapping two directories in one step. The
//! command's only `unsafe` code.

#![allow(unsafe_code)]

use std::io;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

/// Set before `main` if file descriptor 1 was closed (`mr-local ... >&-`).
static STDOUT_CLOSED: AtomicBool = AtomicBool::new(false);

/// Returns true if the process started with its stdout closed.
///
/// The standard library's runtime opens `/dev/null` on a closed stdout
/// before `main` runs (so that no file opened later takes its number), and
/// everything written there then vanishes without an error. The state at
/// start is therefore noted earlier, by a constructor that runs before the
/// runtime's setup.
pub(crate) fn stdout_was_closed() -> bool {
    STDOUT_CLOSED.load(Ordering::Relaxed)
}

extern "C" fn note_closed_stdout() {
    // SAFETY: F_GETFD only reads the descriptor's flags; it takes no
    // pointers and fails with EBADF where the descriptor is not open.
    let closed = unsafe { libc::fcntl(libc::STDOUT_FILENO, libc::F_GETFD) } == -1;
    STDOUT_CLOSED.store(closed, Ordering::Relaxed);
}

/// Runs `note_closed_stdout` among the program's constructors, which the
/// dynamic loader runs before the C `main` that starts Rust's runtime.
#[cfg(any(
    target_os = "linux",
    target_os = "android",
    target_os = "freebsd",
    target_os = "netbsd",
    target_os = "openbsd",
    target_os = "dragonfly",
))]
#[used]
// SAFETY: `.init_array` holds pointers to functions that take nothing and
// return nothing, which is this static's type; the function touches only a
// descriptor's flags and an atomic, so it may run before Rust's runtime.
#[unsafe(link_section = ".init_array")]
static NOTE_CLOSED_STDOUT: extern "C" fn() = note_closed_stdout;

#[cfg(target_os = "macos")]
#[used]
// SAFETY: as for `.init_array` above: `__mod_init_func` holds pointers to
// functions of this static's type, run by dyld before the C `main`.
#[unsafe(link_section = "__DATA,__mod_init_func")]
static NOTE_CLOSED_STDOUT: extern "C" fn() = note_closed_stdout;

/// Swaps `a` and `b`, two existing paths on one file system, in one step:
/// there is no moment when either is missing.
///
/// # Errors
///
/// `Unsupported` where the system or the file system cannot do it (the
/// caller then falls back on two renames), or the system's error.
pub(crate) fn exchange(a: &Path, b: &Path) -> io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        use std::ffi::CString;
        use std::os::unix::ffi::OsStrExt;

        let a = CString::new(a.as_os_str().as_bytes())?;
        let b = CString::new(b.as_os_str().as_bytes())?;
        // SAFETY: both pointers are to NUL-terminated strings that outlive
        // the call, which reads them and writes no memory.
        let done = unsafe {
            libc::syscall(
                libc::SYS_renameat2,
                libc::AT_FDCWD,
                a.as_ptr(),
                libc::AT_FDCWD,
                b.as_ptr(),
                libc::RENAME_EXCHANGE,
            )
        };
        if done == 0 {
            return Ok(());
        }
        let err = io::Error::last_os_error();
        match err.raw_os_error() {
            Some(libc::ENOSYS | libc::EINVAL) => Err(io::ErrorKind::Unsupported.into()),
            _ => Err(err),
        }
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = (a, b);
        Err(io::ErrorKind::Unsupported.into())
    }
}

/// Takes an exclusive (`exclusive`) or shared lock on `file` with
/// `flock`, without waiting.
///
/// # Errors
///
/// `WouldBlock` if another open file holds a conflicting lock, or the
/// system's error.
pub(crate) fn try_lock(file: &std::fs::File, exclusive: bool) -> io::Result<()> {
    use std::os::fd::AsRawFd;

    let kind = if exclusive {
        libc::LOCK_EX
    } else {
        libc::LOCK_SH
    };
    // SAFETY: the descriptor is `file`'s, open for the whole call; flock
    // takes no pointers.
    let done = unsafe { libc::flock(file.as_raw_fd(), kind | libc::LOCK_NB) };
    if done == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Returns true if this process may create and remove entries in the
/// directory `dir` (`access(W_OK)`: its permissions, a read-only mount).
pub(crate) fn is_writable(dir: &Path) -> bool {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;

    let Ok(dir) = CString::new(dir.as_os_str().as_bytes()) else {
        return false;
    };
    // SAFETY: the pointer is to a NUL-terminated string that outlives the
    // call, which only reads it.
    unsafe { libc::access(dir.as_ptr(), libc::W_OK | libc::X_OK) == 0 }
}

/// Has glibc's allocator give freed memory back to the system, so that a
/// job's peak resident memory is what it holds, not what it once held.
///
/// By default glibc raises its threshold for serving an allocation from
/// its own mapping up to 32 MiB, each time such a block is freed; the
/// buffers a job fills and frees (map output, spill runs, read chunks) then
/// come from the threads' arenas, which keep them after they are freed and
/// cannot reuse one another's. Measured: word count of 5 million distinct
/// words at `--memory 64M` on 2 threads peaked at about 250 MB resident
/// with the defaults, 150-170 MB with these. Blocks of 1 MiB or more get
/// mappings of their own, unmapped when freed; an arena keeps at most
/// 4 MiB free at its top.
pub(crate) fn return_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets the allocator's tunables, before any
    // thread is started; it takes no pointers.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 4 << 20);
    }
}
