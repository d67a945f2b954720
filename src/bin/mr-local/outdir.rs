//! `--output-dir DIR`: part files that appear all at once or not at all.
//!
//! The parts and `_SUCCESS` are written into a fresh directory beside DIR,
//! `.DIR.mr-local-PID-N.tmp`, which is then put in DIR's place in one
//! step: a rename where DIR is missing or empty, else (with `--force`) an
//! exchange of the two directories (Linux's `renameat2(RENAME_EXCHANGE)`),
//! after which the earlier results, now under the fresh name, are removed.
//! So DIR always holds one run's complete output or what it held before:
//!
//! - a failed run (a full disk, a write error) leaves the earlier results
//!   as they were, and removes its own directory;
//! - Ctrl-C (or SIGTERM, SIGHUP) removes the fresh directory (it is
//!   registered with `mr_local::output::register_temporary`), never
//!   leaving parts without `_SUCCESS`; the rename or exchange goes through
//!   `commit_temporary`, so that it and that removal never overlap;
//! - concurrent runs never mix: each swaps in a whole directory of its own,
//!   and the last one wins, as if they had run one after the other; without
//!   `--force`, a run that finds DIR filled by another fails.
//!
//! Where the exchange is not supported, DIR is renamed aside and the fresh
//! directory renamed in: never a mix either, but DIR is missing for a
//! moment.
//!
//! Some directories cannot be swapped: a mount point (a rename fails with
//! "device or resource busy"), one whose parent this process cannot write,
//! and the current directory or one above it (the shell would be left in a
//! directory no longer in the tree). Those are written in place, under an
//! exclusive lock, with `_SUCCESS` last (see `in_place`). The choice is
//! made before the job, from DIR as it is then.

use std::ffi::{OsStr, OsString};
use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use mr_local::output::{commit_temporary, forget_temporary, register_temporary};
use mr_local::Error;

use crate::{io_failure, sys, Failure};

mod in_place;

use in_place::InPlace;

/// The name of the file written last into an output directory.
pub(crate) const SUCCESS: &str = "_SUCCESS";

/// Buffer of a part file being written.
const FILE_BUFFER: usize = 1 << 20;

/// An output directory being written, in one of two ways (see the
/// module's documentation): by a swap or in place.
pub(crate) enum OutputDir {
    Swap(Swap),
    InPlace(InPlace),
}

impl OutputDir {
    /// Prepares to write into `dir`: a fresh directory beside it, or, where
    /// `dir` cannot be swapped, `dir` itself, locked.
    ///
    /// # Errors
    ///
    /// An error naming `dir` if its parent directory is missing or not
    /// writable, or if another run writes into it in place.
    pub fn create(dir: &Path, force: bool) -> Result<OutputDir, Failure> {
        let Ok(meta) = fs::metadata(dir) else {
            return Swap::create(dir, dir.to_path_buf(), None, force).map(OutputDir::Swap);
        };
        let target = fs::canonicalize(dir).map_err(|e| io_failure(dir, e))?;
        if swappable(&target, &meta) {
            Swap::create(dir, target, Some(meta), force).map(OutputDir::Swap)
        } else {
            InPlace::open(dir, target, force).map(OutputDir::InPlace)
        }
    }

    /// Writes part `partition` with `write`, and syncs it.
    ///
    /// # Errors
    ///
    /// An error naming the part's final path, `DIR/part-NNNNN`.
    pub fn write_part(
        &self,
        partition: usize,
        write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
    ) -> Result<(), Error> {
        let name = format!("part-{partition:05}");
        let (shown, written) = match self {
            OutputDir::Swap(out) => (&out.shown, write_file(&out.fresh.join(&name), write)),
            OutputDir::InPlace(out) => (&out.shown, out.write_part(&name, write)),
        };
        written.map_err(|e| Error::io(shown.join(&name), e))
    }

    /// Writes `_SUCCESS` and makes the parts DIR's contents.
    ///
    /// # Errors
    ///
    /// See [`Swap::commit`] and [`InPlace::commit`].
    pub fn commit(self) -> Result<(), Failure> {
        match self {
            OutputDir::Swap(out) => out.commit(),
            OutputDir::InPlace(out) => out.commit(),
        }
    }
}

/// True if the existing directory `target` can be replaced by a sibling:
/// it is not a mount point (its device is its parent's), its parent is
/// writable, and it is not the current directory or one above it (which
/// the shell would keep, as a directory no longer in the tree).
fn swappable(target: &Path, meta: &fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;

    let Some(parent) = target.parent() else {
        return false; // the root
    };
    let same_device = fs::metadata(parent).is_ok_and(|p| p.dev() == meta.dev());
    let holds_cwd = std::env::current_dir()
        .and_then(fs::canonicalize)
        .is_ok_and(|cwd| cwd.starts_with(target));
    same_device && sys::is_writable(parent) && !holds_cwd
}

/// Creates `path` (which must not exist), writes it with `write`, and
/// syncs it.
fn write_file(path: &Path, write: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> io::Result<()> {
    let file = File::create_new(path)?;
    let mut out = BufWriter::with_capacity(FILE_BUFFER, file);
    write(&mut out)?;
    out.into_inner()
        .map_err(io::IntoInnerError::into_error)?
        .sync_all()
}

/// The message for a directory that another run holds locked.
fn locked(shown: &Path) -> Failure {
    Failure::Job(format!(
        "{}: another mr-local run is writing into this directory",
        shown.display()
    ))
}

/// An output directory written by a swap: its parts go into a fresh
/// directory, put in DIR's place by [`commit`](Swap::commit); dropped
/// uncommitted, the fresh directory is removed.
pub(crate) struct Swap {
    /// DIR as given, for messages.
    shown: PathBuf,
    /// DIR where it is a link: its target, which is what gets replaced.
    target: PathBuf,
    /// The fresh directory beside `target`.
    fresh: PathBuf,
    force: bool,
    committed: bool,
    /// A shared lock on the existing DIR, which keeps out a run that
    /// writes into it in place (see [`InPlace`]).
    _lock: Option<File>,
}

impl Swap {
    /// Creates the fresh directory beside `target`, which is `dir` with its
    /// links resolved, and `existing` its metadata where it exists.
    fn create(
        dir: &Path,
        target: PathBuf,
        existing: Option<fs::Metadata>,
        force: bool,
    ) -> Result<Swap, Failure> {
        let lock = match existing {
            Some(_) => match File::open(&target) {
                Ok(file) => match sys::try_lock(&file, false) {
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Err(locked(dir)),
                    _ => Some(file),
                },
                Err(_) => None,
            },
            None => None,
        };
        let fresh = fresh_path(&target).map_err(|e| io_failure(dir, e))?;
        // Registered before it exists, so that Ctrl-C can never leave it.
        register_temporary(&fresh);
        let out = Swap {
            shown: dir.to_path_buf(),
            target,
            fresh,
            force,
            committed: false,
            _lock: lock,
        };
        // Created under the registry's lock too, so that a signal's cleanup
        // that came first cannot miss it: it is then not created at all.
        commit_temporary(&out.fresh, || fs::create_dir(&out.fresh))
            .map_err(|e| io_failure(dir, e))?;
        // What runs killed by SIGKILL left beside DIR.
        mr_local::output::remove_stale_temporaries(&out.target);
        if let Some(meta) = existing {
            // The results keep DIR's permissions. Best effort.
            let _ = fs::set_permissions(&out.fresh, meta.permissions());
        }
        Ok(out)
    }

    /// Writes `_SUCCESS` and puts the parts in DIR's place.
    ///
    /// # Errors
    ///
    /// A usage error if DIR was filled meanwhile and `--force` was not
    /// given, or now holds files `mr-local` did not write; an I/O error
    /// naming DIR if a rename fails. DIR is as it was, either way.
    pub fn commit(mut self) -> Result<(), Failure> {
        File::create_new(self.fresh.join(SUCCESS))
            .and_then(|f| f.sync_all())
            .map_err(|e| io_failure(self.shown.join(SUCCESS), e))?;
        // Under the registry's lock, which the signal handler holds while it
        // removes the temporary files: either the rename comes first and the
        // handler leaves DIR alone, or the handler does and there is no
        // rename. Never the fresh directory removed as it becomes DIR.
        let renamed = commit_temporary(&self.fresh, || fs::rename(&self.fresh, &self.target));
        match renamed {
            // DIR was missing, or empty.
            Ok(()) => {
                self.committed = true;
                return Ok(());
            }
            Err(e) if is_not_empty(&e) => {}
            Err(e) => return Err(io_failure(&self.shown, e)),
        }
        // Checked again now, not only before the job: --force never
        // removes a file that mr-local did not write.
        replaceable_outputs(&self.target, self.force)?;
        let old = self.swap()?;
        self.committed = true;
        // The earlier results, now at `old`: all ours, just checked.
        // Registered until they are gone, so Ctrl-C removes them too.
        remove_outputs(&old);
        forget_temporary(&old);
        Ok(())
    }

    /// Puts the fresh directory in place of the existing DIR; returns where
    /// DIR's earlier contents now are.
    ///
    /// Each step is a commit of the fresh directory (see `commit`). After an
    /// exchange, the earlier results are at the fresh name, which stays
    /// registered until they are removed.
    fn swap(&self) -> Result<PathBuf, Failure> {
        let exchanged = commit_temporary(&self.fresh, || sys::exchange(&self.fresh, &self.target));
        match exchanged {
            Ok(()) => return Ok(self.fresh.clone()),
            Err(e) if e.kind() == io::ErrorKind::Unsupported => {}
            Err(e) => return Err(io_failure(&self.shown, e)),
        }
        let aside = fresh_path(&self.target).map_err(|e| io_failure(&self.shown, e))?;
        register_temporary(&aside);
        let swapped = commit_temporary(&self.fresh, || {
            fs::rename(&self.target, &aside)?;
            fs::rename(&self.fresh, &self.target).inspect_err(|_| {
                // Put the earlier results back (unless another run has
                // filled DIR meanwhile: then they go, and the error says so).
                let _ = fs::rename(&aside, &self.target);
            })
        });
        if let Err(e) = swapped {
            remove_outputs(&aside);
            forget_temporary(&aside);
            return Err(io_failure(&self.shown, e));
        }
        Ok(aside)
    }
}

impl Drop for Swap {
    fn drop(&mut self) {
        if !self.committed {
            // Nothing but this run's own files is in it.
            let _ = fs::remove_dir_all(&self.fresh);
            forget_temporary(&self.fresh);
        }
    }
}

/// True for the errors of a rename onto a directory that is not empty.
fn is_not_empty(err: &io::Error) -> bool {
    err.kind() == io::ErrorKind::DirectoryNotEmpty || err.raw_os_error() == Some(libc::EEXIST)
}

/// Removes a directory of earlier results: the files an earlier run
/// writes, then the directory if nothing else is left. Best effort: the
/// run has succeeded.
fn remove_outputs(dir: &Path) {
    if let Ok(entries) = fs::read_dir(dir) {
        for entry in entries.flatten() {
            if is_ours(&entry.file_name()) {
                let _ = fs::remove_file(entry.path());
            }
        }
    }
    let _ = fs::remove_dir(dir);
}

/// Returns a fresh name beside `dir`: `.NAME.mr-local-PID-N.tmp`.
fn fresh_path(dir: &Path) -> io::Result<PathBuf> {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let name = dir
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "not a directory name"))?;
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let mut fresh = OsString::from(".");
    fresh.push(name);
    fresh.push(format!(".mr-local-{}-{n}.tmp", std::process::id()));
    Ok(dir.with_file_name(fresh))
}

/// Returns the entries of the existing `dir` that `force` may replace.
///
/// `dir` must be a directory, and empty unless `force`. With `force`, it
/// may hold only what an earlier run writes (`part-*`, `_SUCCESS`, and the
/// hidden temporary files of a run that was killed); anything else makes it
/// refuse, so that `--force` never deletes a file `mr-local` did not write.
pub(crate) fn replaceable_outputs(dir: &Path, force: bool) -> Result<Vec<OsString>, Failure> {
    let shown = dir.display();
    if !dir.is_dir() {
        return Err(Failure::Usage(format!(
            "{shown}: exists and is not a directory (--output-dir needs a directory)"
        )));
    }
    let mut ours = Vec::new();
    let mut others = Vec::new();
    for entry in fs::read_dir(dir).map_err(|e| io_failure(dir, e))? {
        let name = entry.map_err(|e| io_failure(dir, e))?.file_name();
        if is_ours(&name) {
            ours.push(name);
        } else {
            others.push(name);
        }
    }
    if ours.is_empty() && others.is_empty() {
        return Ok(ours);
    }
    if !force {
        return Err(Failure::Usage(format!(
            "{shown}: directory is not empty (--force replaces the part files of an earlier run)"
        )));
    }
    if let Some(other) = others.iter().min() {
        return Err(Failure::Usage(format!(
            "{}: not an output file of mr-local: --force only replaces part-* and {SUCCESS}",
            dir.join(other).display()
        )));
    }
    Ok(ours)
}

/// True for the names an earlier run leaves in an output directory:
/// `part-*`, `_SUCCESS`, and the temporary files that earlier versions
/// wrote parts under (`.part-00000.mr-local-PID-N.tmp`), which a killed
/// run may have left.
fn is_ours(name: &OsStr) -> bool {
    let name = name.as_encoded_bytes();
    if name == SUCCESS.as_bytes() || name.starts_with(b"part-") {
        return true;
    }
    let temp_of = |prefix: &[u8]| {
        name.starts_with(prefix)
            && name.ends_with(b".tmp")
            && name.windows(10).any(|w| w == b".mr-local-")
    };
    temp_of(b".part-") || temp_of(b"._SUCCESS.mr-local-")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_of_earlier_runs_are_ours() {
        for name in [
            "_SUCCESS",
            "part-00000",
            "part-12345",
            "part-r-00000",
            ".part-00003.mr-local-123-4.tmp",
            "._SUCCESS.mr-local-9-0.tmp",
        ] {
            assert!(is_ours(OsStr::new(name)), "{name}");
        }
        for name in [
            "notes.txt",
            "_SUCCESS.bak",
            ".part-00000",
            ".part-00003.tmp",
            "._SUCCESS",
            "success",
            "Part-00000",
        ] {
            assert!(!is_ours(OsStr::new(name)), "{name}");
        }
    }
}
