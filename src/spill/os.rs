//! What spilling asks the operating system: whether a process still
//! exists and whether a directory is locked (to tell a dead run's spill
//! directory from a live one's), and how many more files this process may
//! open.

#![allow(unsafe_code)]

/// Whether process `pid` exists (or may: when it cannot be told, the
/// answer is yes, so that nothing of a live process is ever removed).
pub(crate) fn process_exists(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return true;
    };
    if pid <= 0 {
        return true;
    }
    // SAFETY: signal 0 sends nothing; kill only checks that the process
    // exists and that we may signal it. It reads no memory of ours.
    if unsafe { libc::kill(pid, 0) } == 0 {
        return true;
    }
    // EPERM: it exists, under another user.
    std::io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
}

/// Takes an exclusive `flock` on `file` without waiting; `Ok(false)` if
/// another open file holds one. The lock goes with the last descriptor of
/// the file, so a killed process's locks are gone.
pub(crate) fn try_lock(file: &std::fs::File) -> std::io::Result<bool> {
    use std::os::fd::AsRawFd;

    // SAFETY: flock takes a descriptor, which `file` keeps open for the
    // call, and touches no memory of ours.
    if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0 {
        return Ok(true);
    }
    let err = std::io::Error::last_os_error();
    match err.raw_os_error() {
        Some(libc::EWOULDBLOCK) => Ok(false),
        _ => Err(err),
    }
}

/// The soft limit on open file descriptors (`RLIMIT_NOFILE`), if there is
/// one that can be read.
pub(crate) fn open_files_limit() -> Option<u64> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes one `rlimit`, which `limit` is, and keeps
    // no pointer to it.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return None;
    }
    if limit.rlim_cur == libc::RLIM_INFINITY {
        return None;
    }
    // rlim_t is u64 here, not on every target.
    #[allow(clippy::useless_conversion)]
    u64::try_from(limit.rlim_cur).ok()
}

/// How many file descriptors this process has open now, if that can be
/// read (Linux: the entries of `/proc/self/fd`, less the one listing it).
pub(crate) fn open_files() -> Option<u64> {
    let entries = std::fs::read_dir("/proc/self/fd").ok()?;
    Some((entries.count() as u64).saturating_sub(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_exists_and_a_reaped_child_does_not() {
        assert!(process_exists(std::process::id()));
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        assert!(!process_exists(pid));
    }

    #[test]
    fn a_lock_excludes_another_open_file_until_it_closes() {
        let dir = std::env::temp_dir().join(format!("mr-local-unit-lock-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let first = std::fs::File::open(&dir).unwrap();
        assert!(try_lock(&first).unwrap());
        let second = std::fs::File::open(&dir).unwrap();
        assert!(!try_lock(&second).unwrap());
        drop(first);
        assert!(try_lock(&second).unwrap());
        std::fs::remove_dir(&dir).unwrap();
    }

    #[test]
    fn open_files_stay_below_the_limit() {
        if let (Some(open), Some(limit)) = (open_files(), open_files_limit()) {
            assert!(0 < open && open < limit, "{open} of {limit}");
        }
    }
}
