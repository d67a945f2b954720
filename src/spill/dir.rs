//! A job's spill directory, `mr-local-spill-PID-N` under the temporary
//! directory, and the removal of those left by processes that were killed
//! before they could remove their own.
//!
//! A run removes its directory when it ends, fails, or (through the CLI's
//! signal handler and the temporary-files registry) is interrupted. After
//! a SIGKILL nothing can: so each new spill directory's creator first looks
//! beside it for directories that only a dead process's spill can have
//! left, and removes them. One is removed only if all of these hold, so
//! that nothing of a live run or of another program is ever touched:
//!
//! - its name is exactly `mr-local-spill-PID-N`, PID and N decimal;
//! - it is a directory (not a link to one), owned by the same user as the
//!   new one;
//! - it holds nothing but regular files named `run-` and digits;
//! - no process PID exists (`kill(PID, 0)` fails with `ESRCH`), and PID is
//!   not this process;
//! - no one holds the directory's lock: each run holds an exclusive
//!   `flock` on its directory while it lives, which the kernel drops when
//!   the process dies however it dies. This protects the runs of another
//!   PID namespace (a container) that shares the directory, whose PIDs
//!   mean nothing here. Where locks are not supported (some network file
//!   systems), the PID alone decides.

use std::fs::{self, File};
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use super::os;

const PREFIX: &str = "mr-local-spill-";

/// A directory of spill runs, removed with everything in it when dropped,
/// and by the CLI's signal handler through the temporary-files registry.
pub(crate) struct SpillDir {
    path: PathBuf,
    next: AtomicUsize,
    /// The directory, open and locked while the run lives.
    _lock: Option<File>,
}

impl SpillDir {
    /// Creates a fresh spill directory in `parent`, and removes those of
    /// dead processes there.
    pub fn create(parent: &Path) -> io::Result<SpillDir> {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = parent.join(format!("{PREFIX}{}-{n}", std::process::id()));
        fs::create_dir(&path)?;
        crate::temporary::register_temporary(&path);
        let lock = File::open(&path)
            .ok()
            .filter(|dir| os::try_lock(dir).is_ok_and(|locked| locked));
        if let Ok(ours) = fs::symlink_metadata(&path) {
            remove_stale(parent, ours.uid());
        }
        Ok(SpillDir {
            path,
            next: AtomicUsize::new(0),
            _lock: lock,
        })
    }

    /// The path of the next run.
    pub fn next_run(&self) -> PathBuf {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        self.path.join(format!("run-{n:06}"))
    }
}

impl Drop for SpillDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.path);
        crate::temporary::forget_temporary(&self.path);
    }
}

/// Removes from `parent` the spill directories of dead processes owned by
/// `uid` (see the module's documentation). Best effort: whatever cannot be
/// read or removed stays.
fn remove_stale(parent: &Path, uid: u32) {
    let Ok(entries) = fs::read_dir(parent) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(spill_dir_pid) else {
            continue;
        };
        if pid == std::process::id() || os::process_exists(pid) {
            continue;
        }
        let path = entry.path();
        let owned = fs::symlink_metadata(&path).is_ok_and(|m| m.is_dir() && m.uid() == uid);
        if !owned || !holds_only_runs(&path) {
            continue;
        }
        let Ok(dir) = File::open(&path) else {
            continue;
        };
        // Locked: its run lives (in another PID namespace). An error
        // tells nothing: the PID decides.
        if os::try_lock(&dir).is_ok_and(|locked| !locked) {
            continue;
        }
        let _ = fs::remove_dir_all(&path);
    }
}

/// The PID in a spill directory's name, `mr-local-spill-PID-N`.
fn spill_dir_pid(name: &str) -> Option<u32> {
    let (pid, n) = name.strip_prefix(PREFIX)?.split_once('-')?;
    let decimal = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !decimal(pid) || !decimal(n) {
        return None;
    }
    pid.parse().ok()
}

/// Whether `dir` holds only regular files named like spill runs.
fn holds_only_runs(dir: &Path) -> bool {
    let Ok(entries) = fs::read_dir(dir) else {
        return false;
    };
    entries.into_iter().all(|entry| {
        entry.is_ok_and(|entry| {
            let name = entry.file_name();
            let is_run = name
                .to_str()
                .and_then(|n| n.strip_prefix("run-"))
                .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
            is_run && entry.file_type().is_ok_and(|t| t.is_file())
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dead_pid_s_directory_goes_unless_it_is_locked() {
        let parent =
            std::env::temp_dir().join(format!("mr-local-unit-stale-{}", std::process::id()));
        fs::create_dir_all(&parent).unwrap();
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead = child.id();
        child.wait().unwrap();
        let stale = parent.join(format!("{PREFIX}{dead}-0"));
        fs::create_dir(&stale).unwrap();
        fs::write(stale.join("run-000000"), "run").unwrap();
        let uid = fs::symlink_metadata(&stale).unwrap().uid();
        // As if its run lived on in another PID namespace.
        let held = File::open(&stale).unwrap();
        assert!(os::try_lock(&held).unwrap());
        remove_stale(&parent, uid);
        assert!(stale.exists(), "a locked directory stays");
        drop(held);
        remove_stale(&parent, uid);
        assert!(!stale.exists(), "an unlocked one goes");
        fs::remove_dir(&parent).unwrap();
    }

    #[test]
    fn only_exact_names_carry_a_pid() {
        assert_eq!(spill_dir_pid("mr-local-spill-123-0"), Some(123));
        assert_eq!(spill_dir_pid("mr-local-spill-123-45"), Some(123));
        for name in [
            "mr-local-spill-123",
            "mr-local-spill-123-",
            "mr-local-spill--0",
            "mr-local-spill-12x-0",
            "mr-local-spill-123-0-1",
            "mr-local-spill-+12-0",
            "xmr-local-spill-123-0",
            "mr-local-spill-99999999999-0",
        ] {
            assert_eq!(spill_dir_pid(name), None, "{name}");
        }
    }
}
