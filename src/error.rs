//! Errors: one [`Error`] type for everything a job can fail on.
//!
//! Every message carries its context first (`path: byte 1234: cause`), so
//! that the CLI can print it on one line as it is.

use std::error::Error as StdError;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// A boxed error returned by a user's map closure.
pub type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// The error type of every fallible operation in this crate.
///
/// It is a box around an [`ErrorKind`], so that a `Result<T, Error>` stays
/// one pointer wide on the happy path.
///
/// # Example
///
/// ```
/// use mr_local::{ErrorKind, InputOptions, Inputs};
///
/// let err = Inputs::open(["no/such/file"], &InputOptions::default()).unwrap_err();
/// assert!(matches!(err.kind(), ErrorKind::Io { .. }));
/// assert!(err.to_string().starts_with("no/such/file: "));
/// ```
pub struct Error(Box<ErrorKind>);

/// Shows the message, as `Display` does, so that a
/// `main` that returns `Result<(), Box<dyn Error>>` prints a readable line.
impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")
    }
}

/// What went wrong, with the context needed to say where.
#[derive(Debug)]
#[non_exhaustive]
pub enum ErrorKind {
    /// Reading or writing `path` failed.
    Io {
        /// The file involved.
        path: PathBuf,
        /// The operating system's error.
        err: io::Error,
    },
    /// `path` is a directory and recursion was not asked for.
    IsDirectory {
        /// The directory given as an input.
        path: PathBuf,
    },
    /// A user's map closure returned an error or panicked on the record at
    /// `offset`, or the input format found a malformed record there.
    Map {
        /// The input the record came from.
        path: PathBuf,
        /// Byte offset of the record within that input.
        offset: u64,
        /// What the map closure returned, or the panic's message.
        err: BoxError,
    },
    /// A reduce function (or a combiner merging partitions) panicked.
    Reduce {
        /// The partition whose reduce task failed.
        partition: usize,
        /// The panic's message.
        err: BoxError,
    },
    /// A buffer that grows with an input could not be allocated.
    OutOfMemory {
        /// What needed the memory, e.g. `reading big.txt`.
        doing: String,
    },
    /// The job's settings were rejected by [`JobBuilder::build`].
    ///
    /// [`JobBuilder::build`]: crate::JobBuilder::build
    Config(ConfigError),
}

/// A setting that [`JobBuilder::build`] refuses.
///
/// [`JobBuilder::build`]: crate::JobBuilder::build
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// `threads(0)`.
    ZeroThreads,
    /// `partitions(0)`.
    ZeroPartitions,
    /// `split_size(0)`.
    ZeroSplitSize,
    /// `threads(n)` with `n` above [`MAX_THREADS`](crate::MAX_THREADS).
    TooManyThreads(usize),
    /// `partitions(n)` with `n` above [`MAX_PARTITIONS`](crate::MAX_PARTITIONS).
    TooManyPartitions(usize),
    /// The thread pool could not be started.
    ThreadPool(String),
}

thread_local! {
    /// How many fallible reservations this thread is inside.
    static FALLIBLE: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// Returns true while the calling thread is inside one of the library's
/// fallible reservations (`try_reserve` of a buffer that grows with an
/// input), whose failure becomes [`ErrorKind::OutOfMemory`].
///
/// For a `#[global_allocator]` that ends the process when memory runs out
/// (as the `mr-local` command's does, to exit with one line instead of an
/// abort): it should return null while this is true, so that the library
/// reports the failure with the file it was reading.
///
/// ```
/// assert!(!mr_local::allocation_is_fallible());
/// ```
pub fn allocation_is_fallible() -> bool {
    FALLIBLE.try_with(|depth| depth.get() > 0).unwrap_or(false)
}

/// Runs `reserve`, during which [`allocation_is_fallible`] is true.
pub(crate) fn fallibly<T>(reserve: impl FnOnce() -> T) -> T {
    FALLIBLE.with(|depth| depth.set(depth.get() + 1));
    let result = reserve();
    FALLIBLE.with(|depth| depth.set(depth.get() - 1));
    result
}

impl Error {
    /// Returns what went wrong.
    pub fn kind(&self) -> &ErrorKind {
        &self.0
    }

    /// Consumes the error, returning what went wrong.
    pub fn into_kind(self) -> ErrorKind {
        *self.0
    }

    /// Returns true if this is an I/O error.
    pub fn is_io_error(&self) -> bool {
        matches!(*self.0, ErrorKind::Io { .. })
    }

    /// Returns the file the error is about, if there is one.
    pub fn path(&self) -> Option<&Path> {
        match &*self.0 {
            ErrorKind::Io { path, .. }
            | ErrorKind::IsDirectory { path }
            | ErrorKind::Map { path, .. } => Some(path),
            ErrorKind::Config(_) | ErrorKind::Reduce { .. } | ErrorKind::OutOfMemory { .. } => None,
        }
    }

    /// Returns an I/O error about `path`, for callers that do their own
    /// I/O around a job (writing its output, say) and want the same
    /// messages.
    ///
    /// # Example
    ///
    /// ```
    /// use std::io;
    ///
    /// let err = mr_local::Error::io("out.tsv", io::Error::from(io::ErrorKind::PermissionDenied));
    /// assert_eq!(err.to_string(), "out.tsv: permission denied");
    /// ```
    pub fn io(path: impl Into<PathBuf>, err: io::Error) -> Error {
        Error(Box::new(ErrorKind::Io {
            path: path.into(),
            err,
        }))
    }

    /// An error reading `path`: out of memory where that is what `err`
    /// says, else an I/O error.
    pub(crate) fn read(path: impl Into<PathBuf>, err: io::Error) -> Error {
        let path = path.into();
        if err.kind() == io::ErrorKind::OutOfMemory {
            return Error::out_of_memory(format!("reading {}", path.display()));
        }
        Error::io(path, err)
    }

    /// Out of memory while `doing` something.
    pub(crate) fn out_of_memory(doing: impl Into<String>) -> Error {
        Error(Box::new(ErrorKind::OutOfMemory {
            doing: doing.into(),
        }))
    }

    pub(crate) fn is_directory(path: impl Into<PathBuf>) -> Error {
        Error(Box::new(ErrorKind::IsDirectory { path: path.into() }))
    }

    pub(crate) fn reduce(partition: usize, err: BoxError) -> Error {
        Error(Box::new(ErrorKind::Reduce { partition, err }))
    }

    pub(crate) fn map(path: impl Into<PathBuf>, offset: u64, err: BoxError) -> Error {
        Error(Box::new(ErrorKind::Map {
            path: path.into(),
            offset,
            err,
        }))
    }
}

/// Turns a caught panic into an error that carries its message.
pub(crate) fn panicked(payload: Box<dyn std::any::Any + Send>) -> BoxError {
    let message = match payload.downcast::<String>() {
        Ok(message) => *message,
        Err(payload) => match payload.downcast::<&'static str>() {
            Ok(message) => (*message).to_string(),
            Err(_) => "a panic without a message".to_string(),
        },
    };
    format!("panicked: {message}").into()
}

impl From<ConfigError> for Error {
    fn from(err: ConfigError) -> Error {
        Error(Box::new(ErrorKind::Config(err)))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &*self.0 {
            ErrorKind::Io { path, err } => {
                write!(f, "{}: {}", path.display(), io_cause(err))
            }
            ErrorKind::IsDirectory { path } => write!(
                f,
                "{}: is a directory (use --recursive to read the files in it)",
                path.display()
            ),
            ErrorKind::Map { path, offset, err } => {
                write!(
                    f,
                    "{}: byte {}: map failed: {}",
                    path.display(),
                    offset,
                    err
                )
            }
            ErrorKind::Reduce { partition, err } => {
                write!(f, "reduce failed in partition {partition}: {err}")
            }
            ErrorKind::OutOfMemory { doing } => write!(f, "out of memory while {doing}"),
            ErrorKind::Config(err) => err.fmt(f),
        }
    }
}

/// `io::Error`'s Display appends "(os error 2)"; keep only the cause, in
/// lowercase, as the rest of our messages are.
fn io_cause(err: &io::Error) -> String {
    let text = err.to_string();
    let text = match text.find(" (os error") {
        Some(at) => &text[..at],
        None => &text[..],
    };
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

impl StdError for Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match &*self.0 {
            ErrorKind::Io { err, .. } => Some(err),
            ErrorKind::Map { err, .. } | ErrorKind::Reduce { err, .. } => Some(&**err),
            ErrorKind::Config(err) => Some(err),
            ErrorKind::IsDirectory { .. } | ErrorKind::OutOfMemory { .. } => None,
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::ZeroThreads => f.write_str("the number of threads must be at least 1"),
            ConfigError::ZeroPartitions => {
                f.write_str("the number of partitions must be at least 1")
            }
            ConfigError::ZeroSplitSize => f.write_str("the split size must be at least 1 byte"),
            ConfigError::TooManyThreads(n) => write!(
                f,
                "{n} threads: the most a job runs is {}",
                crate::MAX_THREADS
            ),
            ConfigError::TooManyPartitions(n) => write!(
                f,
                "{n} partitions: the most a job has is {}",
                crate::MAX_PARTITIONS
            ),
            ConfigError::ThreadPool(why) => write!(f, "cannot start the thread pool: {why}"),
        }
    }
}

impl StdError for ConfigError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_message_names_the_path_and_the_cause_in_lowercase() {
        let err = Error::io("a/b.txt", io::Error::from(io::ErrorKind::NotFound));
        assert_eq!(err.to_string(), "a/b.txt: entity not found");
        let os = io::Error::from_raw_os_error(2);
        assert_eq!(
            Error::io("x", os).to_string(),
            "x: no such file or directory"
        );
    }

    #[test]
    fn map_message_names_the_offset() {
        let err = Error::map("in.txt", 42, "bad record".into());
        assert_eq!(err.to_string(), "in.txt: byte 42: map failed: bad record");
        assert_eq!(err.path(), Some(Path::new("in.txt")));
    }
}
