//! `--output-dir DIR` written in place, where DIR cannot be swapped: a
//! mount point, a directory whose parent this process cannot write, or the
//! current directory (or one above it).
//!
//! The run holds an exclusive `flock` on DIR for its whole life, so that a
//! second run into DIR fails at once (a swapping run holds a shared one);
//! removes `_SUCCESS` first; writes each part under a temporary name and
//! renames it into place; with `--force`, removes the earlier run's files
//! that it did not rewrite; and writes `_SUCCESS` last. A failed or
//! interrupted run thus leaves DIR without `_SUCCESS`: the earlier results
//! are not kept, as they are by a swap.

use std::ffi::OsString;
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use mr_local::output::{commit_temporary, forget_temporary, register_temporary};

use super::{fresh_path, is_ours, locked, replaceable_outputs, write_file, SUCCESS};
use crate::{io_failure, sys, Failure};

/// An output directory written in place (see the module's documentation).
pub(crate) struct InPlace {
    /// DIR as given, for messages.
    pub(super) shown: PathBuf,
    /// DIR with its links resolved.
    dir: PathBuf,
    force: bool,
    /// The names of the parts this run wrote.
    written: Mutex<Vec<OsString>>,
    /// DIR, open and locked for the whole run.
    _lock: File,
}

impl InPlace {
    /// Locks `dir` (DIR with its links resolved, `shown` as given) and
    /// removes its `_SUCCESS`.
    ///
    /// # Errors
    ///
    /// An error naming DIR if another run holds it (exit 1), if it holds
    /// files `mr-local` did not write or is not empty without `force`
    /// (exit 2), or if it cannot be opened.
    pub(super) fn open(shown: &Path, dir: PathBuf, force: bool) -> Result<InPlace, Failure> {
        let lock = File::open(&dir).map_err(|e| io_failure(shown, e))?;
        match sys::try_lock(&lock, true) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Err(locked(shown)),
            Err(e) => return Err(io_failure(shown, e)),
        }
        // Checked again now that no other run writes into it.
        let ours = replaceable_outputs(&dir, force)?;
        if ours.iter().any(|name| name == SUCCESS) {
            fs::remove_file(dir.join(SUCCESS)).map_err(|e| io_failure(shown.join(SUCCESS), e))?;
        }
        Ok(InPlace {
            shown: shown.to_path_buf(),
            dir,
            force,
            written: Mutex::new(Vec::new()),
            _lock: lock,
        })
    }

    /// Writes the part `name` under a temporary name, and renames it into
    /// place.
    pub(super) fn write_part(
        &self,
        name: &str,
        write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
    ) -> io::Result<()> {
        let path = self.dir.join(name);
        let temp = fresh_path(&path)?;
        // Registered before it exists, so that Ctrl-C can never leave it.
        register_temporary(&temp);
        let written = write_file(&temp, write)
            .and_then(|()| commit_temporary(&temp, || fs::rename(&temp, &path)));
        if written.is_err() {
            let _ = fs::remove_file(&temp);
            forget_temporary(&temp);
        }
        written?;
        self.written
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(name.into());
        Ok(())
    }

    /// With `--force`, removes the files of an earlier run that this one
    /// did not rewrite, then writes `_SUCCESS`.
    ///
    /// # Errors
    ///
    /// An I/O error naming the file that could not be removed or written.
    pub(super) fn commit(self) -> Result<(), Failure> {
        if self.force {
            let written = self
                .written
                .into_inner()
                .unwrap_or_else(PoisonError::into_inner);
            let entries = fs::read_dir(&self.dir).map_err(|e| io_failure(&self.shown, e))?;
            for entry in entries {
                let name = entry.map_err(|e| io_failure(&self.shown, e))?.file_name();
                if is_ours(&name) && !written.contains(&name) {
                    fs::remove_file(self.dir.join(&name))
                        .map_err(|e| io_failure(self.shown.join(&name), e))?;
                }
            }
        }
        write_file(&self.dir.join(SUCCESS), |_| Ok(()))
            .map_err(|e| io_failure(self.shown.join(SUCCESS), e))?;
        // Best effort: the names are in place either way.
        let _ = File::open(&self.dir).and_then(|d| d.sync_all());
        Ok(())
    }
}
