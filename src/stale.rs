//! What runs killed by SIGKILL leave behind, and how the next run tells it
//! from what a live run is still using.
//!
//! A run names its scratch files and directories after its PID: spill
//! directories `mr-local-spill-PID-N`, an output's temporary file and an
//! output directory's fresh directory `.NAME.mr-local-PID-N.tmp`. A signal
//! it can catch removes them; after a SIGKILL nothing can, so the next run
//! that makes one removes those beside it whose process is gone. One is
//! removed only if all of these hold, so that nothing of a live run or of
//! another program is ever touched:
//!
//! - its name is exactly the pattern, PID and N decimal;
//! - it is not a link, and it is owned by the same user as this process;
//! - no process PID exists (`kill(PID, 0)` fails with `ESRCH`), and PID is
//!   not this process;
//! - no one holds a lock on it: a live run locks its spill directories and
//!   temporary files (`flock`), which the kernel drops when the process
//!   dies however it dies. That protects the runs of another PID namespace
//!   (a container) sharing the directory, whose PIDs mean nothing here.
//!
//! A directory goes only if it holds nothing but what a run writes into it.

#![allow(unsafe_code)]

use std::ffi::OsStr;
use std::fs::{self, File};
use std::os::unix::fs::MetadataExt;
use std::path::Path;

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
pub(crate) fn try_lock(file: &File) -> std::io::Result<bool> {
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

/// Whether the entry at `path`, named after process `pid`, is a dead
/// run's: `pid` is gone and not ours, the entry is `uid`'s and no link,
/// and no one holds a lock on it (where locks work: an error tells
/// nothing, and the PID decides).
pub(crate) fn is_dead_runs(path: &Path, pid: u32, uid: u32) -> bool {
    if pid == std::process::id() || process_exists(pid) {
        return false;
    }
    let owned = fs::symlink_metadata(path).is_ok_and(|m| m.uid() == uid && !m.is_symlink());
    if !owned {
        return false;
    }
    let Ok(open) = File::open(path) else {
        return false;
    };
    !try_lock(&open).is_ok_and(|locked| !locked)
}

/// The PID in `name` if it is exactly `PREFIX` PID `-` N `SUFFIX`, PID and
/// N decimal.
pub(crate) fn pid_in(name: &str, prefix: &str, suffix: &str) -> Option<u32> {
    let rest = name.strip_prefix(prefix)?.strip_suffix(suffix)?;
    let (pid, n) = rest.split_once('-')?;
    let decimal = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !decimal(pid) || !decimal(n) {
        return None;
    }
    pid.parse().ok()
}

/// The user this process creates files as.
fn this_user() -> u32 {
    // SAFETY: geteuid takes nothing, cannot fail and touches no memory.
    unsafe { libc::geteuid() }
}

/// Removes beside `path` the temporary files and directories of dead runs
/// that wrote to `path` (`.NAME.mr-local-PID-N.tmp`, see the module's
/// documentation); best effort: whatever cannot be read or removed stays.
pub(crate) fn remove_stale_temporaries(path: &Path) {
    let Some(name) = path.file_name().and_then(OsStr::to_str) else {
        return;
    };
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let prefix = format!(".{name}.mr-local-");
    let uid = this_user();
    for entry in entries.flatten() {
        let entry_name = entry.file_name();
        let Some(pid) = entry_name.to_str().and_then(|n| pid_in(n, &prefix, ".tmp")) else {
            continue;
        };
        let path = entry.path();
        if !is_dead_runs(&path, pid, uid) {
            continue;
        }
        match entry.file_type() {
            Ok(kind) if kind.is_file() => {
                let _ = fs::remove_file(&path);
            }
            Ok(kind) if kind.is_dir() && holds_only_outputs(&path) => {
                let _ = fs::remove_dir_all(&path);
            }
            _ => {}
        }
    }
}

/// Whether `dir` holds only regular files named as an output directory's
/// (`part-*`, `_SUCCESS`, and their hidden temporary files).
fn holds_only_outputs(dir: &Path) -> bool {
    let Ok(entries) = fs::read_dir(dir) else {
        return false;
    };
    entries.into_iter().all(|entry| {
        entry.is_ok_and(|entry| {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            let ours = name.starts_with("part-")
                || name == "_SUCCESS"
                || (name.starts_with('.') && name.ends_with(".tmp") && name.contains(".mr-local-"));
            ours && entry.file_type().is_ok_and(|t| t.is_file())
        })
    })
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
    fn only_exact_names_carry_a_pid() {
        let pid = |name| pid_in(name, ".o.txt.mr-local-", ".tmp");
        assert_eq!(pid(".o.txt.mr-local-123-0.tmp"), Some(123));
        for name in [
            ".o.txt.mr-local-123-0.tmp.x",
            ".o.txt.mr-local-123.tmp",
            ".o.txt.mr-local--0.tmp",
            ".o.txt.mr-local-1x-0.tmp",
            ".o.txt.mr-local-1-2-3.tmp",
            "..o.txt.mr-local-1-2.tmp",
            ".o.txt.mr-local-99999999999-0.tmp",
        ] {
            assert_eq!(pid(name), None, "{name}");
        }
    }

    #[test]
    fn a_locked_temporary_of_a_dead_pid_stays() {
        let dir = crate::testutil::TempDir::new("stale-locked");
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead = child.id();
        child.wait().unwrap();
        let temp = dir.write(&format!(".o.txt.mr-local-{dead}-0.tmp"), "partial");
        let held = File::open(&temp).unwrap();
        assert!(try_lock(&held).unwrap());
        remove_stale_temporaries(&dir.path().join("o.txt"));
        assert!(temp.exists(), "a locked file stays");
        drop(held);
        remove_stale_temporaries(&dir.path().join("o.txt"));
        assert!(!temp.exists(), "an unlocked one goes");
    }
}
