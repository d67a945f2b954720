//! Where a run writes, checked together before its job runs.
//!
//! Every command lists its destinations (stdout, `-o FILE`,
//! `--output-dir DIR`, `--stats-json FILE`) in a [`Destinations`] and
//! calls [`Destinations::check`] once its inputs are open. The check
//! refuses (a usage error) to write over an opened input, under any name,
//! and to write two outputs of the run into one file; it also finds the
//! mistakes that would otherwise fail a long job at its very end (a
//! missing directory, a closed stdout). The files themselves are then
//! written atomically ([`mr_local::output::AtomicFile`]).
//!
//! Special files (`/dev/null`, a FIFO, a terminal) are written into, not
//! replaced, so two outputs may share one.

use std::ffi::OsString;
use std::fs;
use std::io::{self, IsTerminal as _};
use std::path::Path;

use mr_local::Inputs;

use crate::{io_failure, outdir, Failure};

/// One place a run writes to.
#[derive(Clone, Copy)]
enum Destination<'a> {
    /// Standard output.
    Stdout,
    /// A file, replaced atomically; `flag` names it in messages.
    File { path: &'a Path, flag: &'static str },
    /// A directory of part files.
    Dir { path: &'a Path, force: bool },
}

/// Every place a run writes to.
#[derive(Clone, Default)]
pub(crate) struct Destinations<'a> {
    list: Vec<Destination<'a>>,
}

impl<'a> Destinations<'a> {
    /// Adds the main output: the file `-o` names, else stdout.
    pub fn output(mut self, path: Option<&'a Path>) -> Self {
        self.list.push(match path {
            Some(path) => Destination::File { path, flag: "-o" },
            None => Destination::Stdout,
        });
        self
    }

    /// Adds an output directory (`--output-dir`).
    pub fn dir(mut self, path: &'a Path, force: bool) -> Self {
        self.list.push(Destination::Dir { path, force });
        self
    }

    /// Adds another file, written by `flag` (`--stats-json`), if given.
    pub fn file(mut self, path: Option<&'a Path>, flag: &'static str) -> Self {
        if let Some(path) = path {
            self.list.push(Destination::File { path, flag });
        }
        self
    }

    /// Checks every destination against `inputs` and against the others.
    ///
    /// # Errors
    ///
    /// A usage error if a destination would replace an input or another
    /// destination; an I/O error if one cannot be written at all (a
    /// missing parent directory, a closed stdout).
    pub fn check(&self, inputs: &Inputs) -> Result<(), Failure> {
        self.refuse_clashes()?;
        for destination in &self.list {
            check_one(destination, inputs)?;
        }
        Ok(())
    }

    /// Refuses two destinations that name one file, or a file inside the
    /// output directory (which `--force` would refuse next time).
    fn refuse_clashes(&self) -> Result<(), Failure> {
        let ids: Vec<Option<Id>> = self.list.iter().map(Destination::id).collect();
        for (i, later) in self.list.iter().enumerate() {
            let Destination::File { path, .. } = later else {
                continue;
            };
            let parent = Id::of(parent_of(path));
            for (earlier, id) in self.list[..i].iter().zip(&ids) {
                let clash = id.is_some()
                    && (*id == ids[i]
                        || matches!(earlier, Destination::Dir { .. }) && *id == parent);
                if clash {
                    return Err(Failure::Usage(format!(
                        "{}: refusing to overwrite another output of the same run ({})",
                        path.display(),
                        earlier.name()
                    )));
                }
            }
        }
        Ok(())
    }
}

/// The checks of one destination on its own.
fn check_one(destination: &Destination<'_>, inputs: &Inputs) -> Result<(), Failure> {
    match *destination {
        Destination::Stdout => crate::stdout().map(drop),
        Destination::File { path, .. } => {
            refuse_to_overwrite_an_input(path, inputs)?;
            if fs::symlink_metadata(path).is_err() {
                parent_exists(path)?;
            }
            Ok(())
        }
        Destination::Dir { path, force } => match fs::symlink_metadata(path) {
            Ok(_) => {
                // The files --force would replace, among them those that an
                // input read, or an input below DIR given with -r.
                let mut names = outdir::replaceable_outputs(path, force)?;
                names.sort();
                for name in names {
                    refuse_to_overwrite_an_input(&path.join(name), inputs)?;
                }
                Ok(())
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => parent_exists(path),
            Err(e) => Err(io_failure(path, e)),
        },
    }
}

fn refuse_to_overwrite_an_input(path: &Path, inputs: &Inputs) -> Result<(), Failure> {
    // Every opened file counts, including those found below a directory
    // given with -r, whatever name they were opened by.
    if inputs.holds(path) {
        return Err(Failure::Usage(format!(
            "{}: refusing to overwrite an input file",
            path.display()
        )));
    }
    Ok(())
}

/// The directory `path` is in: `.` for a bare name.
fn parent_of(path: &Path) -> &Path {
    path.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// An error naming `path` if the directory it would be created in is
/// missing.
pub(crate) fn parent_exists(path: &Path) -> Result<(), Failure> {
    match fs::metadata(parent_of(path)) {
        Ok(meta) if meta.is_dir() => Ok(()),
        Ok(_) => Err(io_failure(
            path,
            io::Error::from(io::ErrorKind::NotADirectory),
        )),
        Err(e) => Err(io_failure(path, e)),
    }
}

impl Destination<'_> {
    /// What identifies the file or directory this destination replaces;
    /// `None` if it replaces nothing (a special file, a terminal).
    fn id(&self) -> Option<Id> {
        match *self {
            Destination::Stdout => stdout_id(),
            Destination::File { path, .. } | Destination::Dir { path, .. } => Id::of(path),
        }
    }

    /// How messages name it.
    fn name(&self) -> String {
        match self {
            Destination::Stdout => "stdout".to_string(),
            Destination::File { flag, .. } => flag.to_string(),
            Destination::Dir { .. } => "--output-dir".to_string(),
        }
    }
}

/// What makes two paths one file or directory, existing or to be created.
#[derive(Debug, PartialEq, Eq)]
enum Id {
    /// An existing regular file or directory: its device and inode.
    Inode(u64, u64),
    /// A path yet to be created: its directory's identity and its name.
    Entry(Box<Id>, OsString),
}

impl Id {
    /// The identity of `path`; `None` for a special file, or a path whose
    /// directory is missing too far up to matter (it cannot be created).
    fn of(path: &Path) -> Option<Id> {
        use std::os::unix::fs::MetadataExt;

        match fs::metadata(path) {
            Ok(meta) if meta.is_file() || meta.is_dir() => Some(Id::Inode(meta.dev(), meta.ino())),
            Ok(_) => None,
            Err(_) => {
                let name = path.file_name()?.to_os_string();
                let parent = Id::of(parent_of(path))?;
                Some(Id::Entry(Box::new(parent), name))
            }
        }
    }
}

/// The identity of the regular file stdout writes into, if it does (as
/// after `> FILE`).
fn stdout_id() -> Option<Id> {
    use std::os::fd::AsFd;
    use std::os::unix::fs::MetadataExt;

    let stdout = io::stdout();
    if stdout.is_terminal() {
        return None;
    }
    let file = fs::File::from(stdout.as_fd().try_clone_to_owned().ok()?);
    let meta = file.metadata().ok()?;
    meta.is_file().then(|| Id::Inode(meta.dev(), meta.ino()))
}
