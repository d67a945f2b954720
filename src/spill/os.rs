//! What spilling asks the operating system: whether a process still
//! exists and whether a directory is locked (to tell a dead run's spill
//! directory from a live one's), and how many more files this process may
//! open.

#![allow(unsafe_code)]

pub(crate) use crate::stale::{process_exists, try_lock};

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
