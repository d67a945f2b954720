//! The descriptor limit, raised at start from the soft limit to the hard
//! one, as programs that may open many files at once commonly do: the
//! soft limit is often 1024 while the hard one is far higher, and a job
//! that spills merges many runs on every thread. The library still keeps
//! its merges within whatever limit is left (`JobBuilder::open_files`).

#![allow(unsafe_code)]

/// Raises the soft `RLIMIT_NOFILE` to the hard one; where that fails, the
/// limit stays as it was.
pub(crate) fn raise_open_files_limit() {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes one `rlimit`, which `limit` is, and keeps
    // no pointer to it.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return;
    }
    if limit.rlim_cur >= limit.rlim_max {
        return;
    }
    limit.rlim_cur = limit.rlim_max;
    // SAFETY: setrlimit reads one `rlimit`, which `limit` is, and keeps no
    // pointer to it. A limit it refuses (EINVAL, EPERM) changes nothing.
    let _ = unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) };
}
