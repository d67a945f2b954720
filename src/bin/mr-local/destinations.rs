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
//! Special files (a FIFO, `/dev/null`, a terminal) are written into, not
//! replaced. Two outputs may share `/dev/null` or a terminal, never one
//! file, FIFO or socket (the data and the JSON would mix): those are told
//! apart by device and inode, stdout too. `--stats-json -` is stdout, so
//! it needs the data written elsewhere (`-o`, `--output-dir`).

use std::ffi::OsString;
use std::fs;
use std::io::{self, IsTerminal as _};
use std::path::Path;

use mr_local::Inputs;

use crate::{io_failure, outdir, Failure};

/// One place a run writes to.
#[derive(Clone, Copy)]
enum Destination<'a> {
    /// Standard output: the main output, or what `flag` writes there
    /// (`--stats-json -`).
    Stdout { flag: Option<&'static str> },
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
            None => Destination::Stdout { flag: None },
        });
        self
    }

    /// Adds an output directory (`--output-dir`).
    pub fn dir(mut self, path: &'a Path, force: bool) -> Self {
        self.list.push(Destination::Dir { path, force });
        self
    }

    /// Adds another file, written by `flag` (`--stats-json`), if given;
    /// `-` is stdout.
    pub fn file(mut self, path: Option<&'a Path>, flag: &'static str) -> Self {
        match path {
            Some(path) if path == Path::new("-") => {
                self.list.push(Destination::Stdout { flag: Some(flag) });
            }
            Some(path) => self.list.push(Destination::File { path, flag }),
            None => {}
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
            let (shown, parent) = match later {
                Destination::File { path, .. } => (path.display(), Id::of(parent_of(path))),
                Destination::Stdout { flag: Some(_) } => (Path::new("-").display(), None),
                _ => continue,
            };
            for (earlier, id) in self.list[..i].iter().zip(&ids) {
                if let (Destination::Stdout { .. }, Destination::Stdout { flag: Some(flag) }) =
                    (earlier, later)
                {
                    return Err(Failure::Usage(format!(
                        "-: refusing to write {flag} into stdout, which the output goes to \
                         (write that with -o or --output-dir)"
                    )));
                }
                let clash = id.is_some()
                    && (*id == ids[i]
                        || matches!(earlier, Destination::Dir { .. }) && *id == parent);
                if clash {
                    return Err(Failure::Usage(format!(
                        "{shown}: refusing to overwrite another output of the same run ({})",
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
        Destination::Stdout { .. } => {
            crate::stdout().map(drop)?;
            // As after `>> INPUT` or `1<> INPUT`: stdout writes into it.
            if stdout_file().is_some_and(|stdout| inputs.holds_file(&stdout)) {
                return Err(Failure::Usage(
                    "<stdout>: refusing to write into an input file".to_string(),
                ));
            }
            Ok(())
        }
        Destination::File { path, .. } => {
            refuse_to_overwrite_an_input(path, inputs)?;
            match fs::metadata(path) {
                // Found now, not when the job's result is renamed over it.
                Ok(meta) if meta.is_dir() => Err(Failure::Usage(format!(
                    "{}: is a directory",
                    path.display()
                ))),
                Ok(_) => Ok(()),
                Err(_) if fs::symlink_metadata(path).is_ok() => Ok(()),
                Err(_) => parent_exists(path),
            }
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
            Destination::Stdout { .. } => stdout_id(),
            Destination::File { path, .. } | Destination::Dir { path, .. } => Id::of(path),
        }
    }

    /// How messages name it.
    fn name(&self) -> String {
        match self {
            Destination::Stdout { flag: None } => "stdout".to_string(),
            Destination::Stdout { flag: Some(flag) } => format!("{flag} -"),
            Destination::File { flag, .. } => flag.to_string(),
            Destination::Dir { .. } => "--output-dir".to_string(),
        }
    }
}

/// What makes two paths one file or directory, existing or to be created.
#[derive(Debug, PartialEq, Eq)]
enum Id {
    /// An existing regular file, directory, FIFO or socket: its device and
    /// inode.
    Inode(u64, u64),
    /// A path yet to be created: its directory's identity and its name.
    Entry(Box<Id>, OsString),
}

impl Id {
    /// The identity of `path`; `None` for a device (`/dev/null`, a
    /// terminal, which outputs may share), or a path whose directory is
    /// missing too far up to matter (it cannot be created).
    fn of(path: &Path) -> Option<Id> {
        match fs::metadata(path) {
            Ok(meta) => Id::of_meta(&meta),
            Err(_) => {
                let name = path.file_name()?.to_os_string();
                let parent = Id::of(parent_of(path))?;
                Some(Id::Entry(Box::new(parent), name))
            }
        }
    }
}

impl Id {
    /// The identity of an existing file, unless it is a device.
    fn of_meta(meta: &fs::Metadata) -> Option<Id> {
        use std::os::unix::fs::{FileTypeExt, MetadataExt};

        let kind = meta.file_type();
        let one = kind.is_file() || kind.is_dir() || kind.is_fifo() || kind.is_socket();
        one.then(|| Id::Inode(meta.dev(), meta.ino()))
    }
}

/// Refuses a stdout that writes into the regular file stdin reads (as
/// `mr-local streaming map wordcount < f >> f` would, reading its own
/// output back), for the commands that read only stdin.
///
/// # Errors
///
/// A usage error naming `<stdout>`.
pub(crate) fn refuse_stdout_into_stdin() -> Result<(), Failure> {
    use std::os::fd::AsFd;

    let stdin = io::stdin();
    let stdin_id = stdin
        .as_fd()
        .try_clone_to_owned()
        .ok()
        .map(fs::File::from)
        .and_then(|file| file.metadata().ok())
        .filter(fs::Metadata::is_file)
        .and_then(|meta| Id::of_meta(&meta));
    if stdin_id.is_some() && stdin_id == stdout_id() {
        return Err(Failure::Usage(
            "<stdout>: refusing to write into the file stdin reads".to_string(),
        ));
    }
    Ok(())
}

/// The identity of the file, pipe or socket stdout writes into, if it does
/// (as after `> FILE` or in a pipeline).
fn stdout_id() -> Option<Id> {
    Id::of_meta(&stdout_file()?.metadata().ok()?)
}

/// Stdout, as a file of its own, unless it is a terminal or closed.
fn stdout_file() -> Option<fs::File> {
    use std::os::fd::AsFd;

    let stdout = io::stdout();
    if stdout.is_terminal() {
        return None;
    }
    Some(fs::File::from(stdout.as_fd().try_clone_to_owned().ok()?))
}
