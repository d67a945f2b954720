//! The registry of temporary files: what a signal handler removes before
//! the process ends.
//!
//! Two threads meet here: the one that writes a temporary file or
//! directory and at last renames it into place ([`commit_temporary`]), and
//! a signal thread that removes every temporary file it finds listed
//! ([`remove_temporary_files`]). The two never overlap: both hold the
//! list's lock while they act, and a commit that comes after the cleanup
//! began is refused. Otherwise the cleanup, removing a directory by its
//! path, could carry on inside it after the commit had renamed it into
//! place, deleting part of a result reported whole.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

/// A list of temporary paths to remove on a signal, and whether the
/// removal has begun.
struct Registry {
    /// Temporary files of [`AtomicFile`](crate::output::AtomicFile)s not yet
    /// committed or removed, spill directories of running jobs, and
    /// whatever else was registered.
    pending: Mutex<Vec<PathBuf>>,
    /// Set once [`Registry::remove_all`] has begun: anything registered
    /// after is removed at once, and no commit is allowed.
    closed: AtomicBool,
}

/// The process's registry, which the public functions use.
static REGISTRY: Registry = Registry::new();

impl Registry {
    const fn new() -> Registry {
        Registry {
            pending: Mutex::new(Vec::new()),
            closed: AtomicBool::new(false),
        }
    }

    fn pending(&self) -> MutexGuard<'_, Vec<PathBuf>> {
        // The list stays valid whatever panicked while holding it.
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn register(&self, path: &Path) {
        let mut pending = self.pending();
        if self.closed.load(Ordering::SeqCst) {
            // Too late to list: the process is on its way out.
            drop(pending);
            remove(path);
            return;
        }
        pending.push(path.to_path_buf());
    }

    fn forget(&self, path: &Path) {
        self.pending().retain(|p| p != path);
    }

    fn commit<T>(&self, path: &Path, commit: impl FnOnce() -> io::Result<T>) -> io::Result<T> {
        let mut pending = self.pending();
        if self.closed.load(Ordering::SeqCst) {
            return Err(io::Error::new(
                io::ErrorKind::Interrupted,
                "interrupted: temporary files are being removed",
            ));
        }
        let done = commit()?;
        if fs::symlink_metadata(path).is_err() {
            pending.retain(|p| p != path);
        }
        Ok(done)
    }

    fn remove_all(&self) {
        let mut pending = self.pending();
        self.closed.store(true, Ordering::SeqCst);
        for temp in pending.drain(..) {
            remove(&temp);
        }
    }
}

/// Adds a temporary file or directory of the caller's for
/// [`remove_temporary_files`] to remove, so that Ctrl-C leaves it behind no
/// more than it does an [`AtomicFile`](crate::output::AtomicFile)'s.
///
/// # Example
///
/// ```
/// use mr_local::output::{forget_temporary, register_temporary, remove_temporary_files};
///
/// let path = std::env::temp_dir().join(format!("mr-local-doc-register-{}", std::process::id()));
/// std::fs::write(&path, "scratch")?;
/// register_temporary(&path);
/// remove_temporary_files();
/// assert!(!path.exists());
/// forget_temporary(&path); // nothing left to forget: harmless
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn register_temporary(path: &Path) {
    REGISTRY.register(path);
}

/// Takes `path` off the list of [`register_temporary`], once its owner
/// has removed it (or kept it).
pub fn forget_temporary(path: &Path) {
    REGISTRY.forget(path);
}

/// Runs `commit`, which puts the registered temporary `path` in its final
/// place (a rename, an exchange of two directories), so that no
/// [`remove_temporary_files`] runs at the same time, and then takes `path`
/// off the list, unless `commit` left something there (an exchange puts
/// the replaced file at `path`: it stays listed, for its owner or the
/// cleanup to remove).
///
/// A cleanup that has begun is waited for, and then `commit` is not run:
/// the files are being removed, because the process is about to end.
///
/// Creating a registered path through it keeps a cleanup from missing it:
/// it is created before the cleanup runs (and stays listed, as it exists),
/// or not at all.
///
/// # Errors
///
/// `ErrorKind::Interrupted` if [`remove_temporary_files`] has begun, else
/// what `commit` returns (then `path` stays listed).
///
/// # Example
///
/// ```
/// use mr_local::output::{commit_temporary, register_temporary};
///
/// let dir = std::env::temp_dir();
/// let temp = dir.join(format!(".mr-local-doc-commit-{}.tmp", std::process::id()));
/// let path = dir.join(format!("mr-local-doc-commit-{}", std::process::id()));
/// register_temporary(&temp);
/// std::fs::write(&temp, "done\n")?;
/// commit_temporary(&temp, || std::fs::rename(&temp, &path))?;
/// assert_eq!(std::fs::read(&path)?, b"done\n");
/// # std::fs::remove_file(&path)?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn commit_temporary<T>(path: &Path, commit: impl FnOnce() -> io::Result<T>) -> io::Result<T> {
    REGISTRY.commit(path, commit)
}

/// Removes the temporary file of every [`AtomicFile`](crate::output::AtomicFile)
/// not yet committed, the spill directory of every job still running, and
/// everything else registered with [`register_temporary`].
///
/// For a signal handler that is about to end the process (on Ctrl-C, say),
/// where destructors will not run: without it, an interrupted run would
/// leave its temporary files behind. The `AtomicFile`s themselves must not
/// be used afterwards, whatever is registered afterwards is removed at
/// once, and [`commit_temporary`] refuses to commit. A commit under way is
/// waited for, so that nothing is removed from under it.
///
/// A directory is first renamed to a fresh name and then removed, so that
/// other threads, which reach it by its path, can no longer create files in
/// it while it is being removed (theirs fail, as the path is gone).
///
/// # Example
///
/// ```
/// use mr_local::output::{remove_temporary_files, AtomicFile};
///
/// let path = std::env::temp_dir().join(format!("mr-local-doc-pending-{}", std::process::id()));
/// let file = AtomicFile::create(&path)?;
/// remove_temporary_files();
/// assert!(file.commit().is_err(), "its temporary file is gone");
/// assert!(!path.exists());
/// # Ok::<(), mr_local::Error>(())
/// ```
pub fn remove_temporary_files() {
    REGISTRY.remove_all();
}

/// Removes a temporary file, or a directory and everything in it.
///
/// A directory is renamed aside first (`NAME.mr-local-trash-PID-N`): other
/// threads may still be writing into it (a job's spill runs, an output
/// directory's parts), by its path, which then no longer leads to it. Files
/// they had open may still grow, so that removing it can find it not
/// empty: it tries again until the directory is gone.
fn remove(path: &Path) {
    if !path.is_dir() {
        let _ = fs::remove_file(path);
        return;
    }
    let trash = trash_path(path);
    let doomed = match fs::rename(path, &trash) {
        Ok(()) => trash.as_path(),
        Err(_) => path,
    };
    for _ in 0..1000 {
        match fs::remove_dir_all(doomed) {
            Ok(()) => return,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return,
            Err(_) => {}
        }
    }
}

/// A fresh name beside `path` for a directory about to be removed.
fn trash_path(path: &Path) -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".mr-local-trash-{}-{n}", std::process::id()));
    path.with_file_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::TempDir;

    /// A commit is refused once a cleanup has begun, and one that
    /// succeeded is not undone by it; an exchange leaves the replaced
    /// file listed.
    #[test]
    fn commit_and_cleanup_exclude_each_other() {
        let registry = Registry::new();
        let listed = |path: &Path| registry.pending().iter().any(|p| p == path);
        let dir = TempDir::new("commit-temporary");
        let temp = dir.write(".a.tmp", "a\n");
        let done = dir.path().join("a");
        registry.register(&temp);
        registry.commit(&temp, || fs::rename(&temp, &done)).unwrap();
        assert!(!listed(&temp));

        // An exchange-like commit: something is left at the path.
        let swapped = dir.write(".b.tmp", "old\n");
        registry.register(&swapped);
        registry.commit(&swapped, || Ok(())).unwrap();
        assert!(listed(&swapped));

        // A failed commit keeps the path listed.
        let failed = dir.write(".c.tmp", "c\n");
        registry.register(&failed);
        let err = registry.commit(&failed, || Err::<(), _>(io::Error::other("no")));
        assert!(err.is_err());
        assert!(listed(&failed));

        let late = dir.path().join(".d.tmp");
        fs::create_dir(&late).unwrap();
        fs::write(late.join("part-00000"), "x\n").unwrap();
        registry.register(&late);
        registry.remove_all();
        let refused = registry.commit(&late, || -> io::Result<()> { panic!("ran") });
        assert_eq!(refused.unwrap_err().kind(), io::ErrorKind::Interrupted);
        assert_eq!(fs::read(&done).unwrap(), b"a\n", "a commit is never undone");
        let mut left: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        left.sort();
        assert_eq!(left, ["a"], "the cleanup removed the rest");

        // Registered after the cleanup: removed at once.
        let after = dir.write(".e.tmp", "e\n");
        registry.register(&after);
        assert!(!after.exists());
    }
}
