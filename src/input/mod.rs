//! Inputs: opening files, choosing between mapping and reading, and cutting
//! the bytes into record-aligned splits.
//!
//! - `mod.rs`: [`Inputs`], [`InputFile`]; opening paths,
//!   walking directories.
//! - `compress`: [`Compression`], telling formats by their magic bytes,
//!   and the decoder.
//! - `decode`: opening compressed inputs.
//! - `members`: a compressed file of several members cut into segments
//!   to decode in parallel.
//! - [`mmap`]: [`MmapChoice`], the input side's only `unsafe` code.
//! - `open`: inputs left open, to be read when a run maps them.
//! - `options`: [`InputOptions`].
//! - `range`: [`Inputs::push_file_from`], a file's bytes from an offset.
//! - `read`: reading stdin, pipes and small files.
//! - `records`: [`Records`], the input formats: how bytes divide into
//!   records.
//! - `split`: planning the map tasks' splits.

use std::fs::{self, File};
use std::io::Read;
use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::sync::PoisonError;

use memmap2::Mmap;

use crate::error::Error;

pub(crate) mod compress;
mod decode;
pub(crate) mod members;
pub mod mmap;
mod open;
mod options;
mod range;
pub(crate) mod read;
pub(crate) mod records;
pub(crate) mod split;

pub use compress::Compression;
pub(crate) use decode::Compressed;
pub use mmap::MmapChoice;
pub(crate) use open::BoxedReader;
use open::{Feed, Reopen, Stream};
pub use options::InputOptions;
pub use records::{BadRecord, RecordReader, Records};

/// Files smaller than this are read even when mapping is allowed: a read
/// costs one copy, a map costs system calls and a page fault per page, and
/// for small files the copy is cheaper.
const MMAP_MIN_LEN: u64 = 256 * 1024;

/// The bytes of all a job's inputs, held for as long as the job's keys may
/// borrow from them.
///
/// # Example
///
/// ```
/// use mr_local::Inputs;
///
/// let mut inputs = Inputs::new();
/// inputs.push_bytes("greeting", "hello world\n");
/// assert_eq!(inputs.total_bytes(), 12);
/// assert_eq!(inputs.files()[0].bytes(), b"hello world\n");
/// ```
#[derive(Debug, Default)]
pub struct Inputs {
    files: Vec<InputFile>,
}

/// One input: its name and its bytes, mapped or read.
#[derive(Debug)]
pub struct InputFile {
    path: PathBuf,
    data: Data,
    /// The opened file's identity, where it is a regular file.
    id: Option<FileId>,
    /// Where the input is decoded if compressed: its format and progress.
    compressed: Option<decode::Compressed>,
}

/// What makes a file the same file however it is named: its device and
/// inode number (on Unix; elsewhere, its canonical path).
#[derive(Clone, Debug, PartialEq, Eq)]
struct FileId {
    #[cfg(unix)]
    device_inode: (u64, u64),
    #[cfg(not(unix))]
    path: PathBuf,
}

impl FileId {
    fn of(path: &Path, meta: &fs::Metadata) -> Option<FileId> {
        if !meta.is_file() {
            return None;
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            let _ = path;
            Some(FileId {
                device_inode: (meta.dev(), meta.ino()),
            })
        }
        #[cfg(not(unix))]
        {
            fs::canonicalize(path).ok().map(|path| FileId { path })
        }
    }
}

#[derive(Debug)]
enum Data {
    Mapped(Mmap),
    Owned(Vec<u8>),
    Open(Stream),
}

impl Inputs {
    /// Returns an empty set of inputs.
    pub fn new() -> Inputs {
        Inputs::default()
    }

    /// Opens every path, in order; `-` is standard input.
    ///
    /// All inputs are opened before any is processed, so a missing or
    /// unreadable file fails the job before any output is written. With
    /// [`InputOptions::recursive`], a directory adds the files below it in
    /// bytewise order of their names; symbolic links to files are followed,
    /// links to directories are not (so a link cycle cannot loop), and
    /// FIFOs, sockets and devices below it are skipped (as `grep -r` does).
    ///
    /// # Errors
    ///
    /// The first path that cannot be opened or read, or that is a directory
    /// without `recursive`, gives an error naming it.
    ///
    /// # Example
    ///
    /// ```
    /// use mr_local::{InputOptions, Inputs};
    ///
    /// let dir = std::env::temp_dir().join(format!("mr-local-doc-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir)?;
    /// std::fs::write(dir.join("a.txt"), "one two\n")?;
    /// let inputs = Inputs::open([dir.join("a.txt")], &InputOptions::default())?;
    /// assert_eq!(inputs.total_bytes(), 8);
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn open<I, P>(paths: I, options: &InputOptions) -> Result<Inputs, Error>
    where
        I: IntoIterator<Item = P>,
        P: AsRef<Path>,
    {
        let mut sources = Vec::new();
        for path in paths {
            collect(path.as_ref(), options, &mut sources)?;
        }
        Ok(Inputs {
            files: open_all(&sources, options)?,
        })
    }

    /// Adds an input to be read from `reader` as a job maps it, named `name`
    /// in messages: a decompressor's output, say. See
    /// [`InputOptions::stream`] for how it is read.
    ///
    /// # Example
    ///
    /// ```
    /// use mr_local::jobs::wordcount::WordCount;
    /// use mr_local::{Inputs, Job};
    ///
    /// let mut inputs = Inputs::new();
    /// inputs.push_reader("piped", std::io::Cursor::new(b"a b\nb\n".to_vec()));
    /// assert_eq!(inputs.files()[0].bytes(), b"");
    /// let job = Job::builder().build()?;
    /// let counts = job
    ///     .map_with(&inputs, &WordCount::default())
    ///     .streamed()
    ///     .fold(|a, b| *a += b)?;
    /// assert_eq!(counts.len(), 2);
    /// # Ok::<(), mr_local::Error>(())
    /// ```
    pub fn push_reader(&mut self, name: impl Into<PathBuf>, reader: impl Read + Send + 'static) {
        self.files.push(InputFile {
            path: name.into(),
            data: Data::Open(Stream::new(Feed::Reader(Box::new(reader)), None)),
            id: None,
            compressed: None,
        });
    }

    /// The bytes still to be read of the open inputs, as far as their
    /// lengths when opened say (nothing for pipes): of a compressed file,
    /// the compressed bytes.
    pub(crate) fn open_bytes_expected(&self) -> u64 {
        let unread = |f: &InputFile| match &f.data {
            Data::Open(_)
                if f.is_open() && f.compressed.as_ref().is_some_and(|c| c.len().is_some()) =>
            {
                let compressed = f.compressed.as_ref().expect("matched");
                let len = compressed.len().unwrap_or(0);
                len.saturating_sub(compressed.consumed().unwrap_or(0))
            }
            Data::Open(stream) if f.is_open() => stream
                .expected
                .map_or(0, |len| len.saturating_sub(f.bytes().len() as u64)),
            _ => 0,
        };
        self.files.iter().map(unread).sum()
    }

    /// Fails if an earlier run streamed an input: its bytes are gone.
    pub(crate) fn check_not_streamed(&self) -> Result<(), Error> {
        for file in &self.files {
            if let Data::Open(stream) = &file.data {
                if stream.streamed.load(std::sync::atomic::Ordering::Relaxed) {
                    return Err(already_read(&file.path));
                }
            }
        }
        Ok(())
    }

    /// Reads whole every input still open (see [`InputOptions::stream`]),
    /// for a run that cannot read them in chunks; with `parallel`, a
    /// compressed file of several members is decoded on the current rayon
    /// pool (see [`members`]).
    pub(crate) fn read_open_inputs(&self, parallel: bool) -> Result<(), Error> {
        for file in &self.files {
            if let Data::Open(stream) = &file.data {
                if !file.is_open() {
                    continue;
                }
                if parallel && stream.head.get().is_none() {
                    if let Some(whole) = members::read_whole(file) {
                        let bytes = whole.map_err(|e| Error::read(&file.path, e))?;
                        stream.take(&file.path)?;
                        stream
                            .whole
                            .set(bytes)
                            .map_err(|_| already_read(&file.path))?;
                        continue;
                    }
                }
                let reader = stream.take(&file.path)?;
                // A head read ahead by an earlier run is the start of the
                // bytes: the reader goes on after it.
                let head = stream.head.get().map_or(&[][..], Vec::as_slice);
                let bytes = read::read_all_after(head, reader, stream.expected)
                    .map_err(|e| Error::read(&file.path, e))?;
                stream
                    .whole
                    .set(bytes)
                    .map_err(|_| already_read(&file.path))?;
            }
        }
        Ok(())
    }

    /// Reads ahead the first records of every input still open, for a run
    /// that samples keys before it maps: about `total` bytes for them all,
    /// an equal share each, but at least `least` each. They become the
    /// input's [`InputFile::bytes`], mapped as a file's are, and streaming
    /// goes on after them.
    pub(crate) fn read_heads(
        &self,
        records: &Records,
        total: usize,
        least: usize,
    ) -> Result<(), Error> {
        let unread = |f: &&InputFile| match &f.data {
            Data::Open(stream) => f.is_open() && stream.head.get().is_none(),
            _ => false,
        };
        let count = self.files.iter().filter(unread).count();
        let most = (total / count.max(1)).max(least).max(1);
        for file in &self.files {
            let Data::Open(stream) = &file.data else {
                continue;
            };
            if !file.is_open() || stream.head.get().is_some() {
                continue;
            }
            let mut slot = stream.reader.lock().unwrap_or_else(PoisonError::into_inner);
            let Some(unread) = slot.as_mut() else {
                continue;
            };
            let (mut head, ended) = read::read_prefix(&mut unread.feed, most)
                .map_err(|e| Error::read(&file.path, e))?;
            let cut = match ended {
                true => head.len(),
                false => records.cut(&head, 0).unwrap_or(0),
            };
            unread.rest = head.split_off(cut);
            // Thousands of inputs must not hold thousands of descriptors
            // until they are streamed: a file read to its end is closed,
            // one read part way is closed and reopened where it stopped.
            match (ended, &mut unread.feed) {
                (true, feed) => *feed = Feed::Ended,
                (false, Feed::File(file)) => file.close(),
                _ => {}
            }
            // The lock is held and the head was not set: nothing else sets it.
            stream
                .head
                .set(head)
                .map_err(|_| already_read(&file.path))?;
        }
        Ok(())
    }

    /// Adds an input held in memory, named `name` in messages.
    pub fn push_bytes(&mut self, name: impl Into<PathBuf>, bytes: impl Into<Vec<u8>>) {
        self.files.push(InputFile {
            path: name.into(),
            data: Data::Owned(bytes.into()),
            id: None,
            compressed: None,
        });
    }

    /// Returns true if `path` names a regular file opened as one of the
    /// inputs, under any name (a link, a relative path), stdin included
    /// when redirected from a file: the file a job must not write its
    /// output over.
    ///
    /// # Example
    ///
    /// ```
    /// use mr_local::{InputOptions, Inputs};
    ///
    /// let dir = std::env::temp_dir().join(format!("mr-local-doc-holds-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir)?;
    /// std::fs::write(dir.join("a.txt"), "one two\n")?;
    /// let inputs = Inputs::open([dir.join("a.txt")], &InputOptions::default())?;
    /// assert!(inputs.holds(&dir.join(".").join("a.txt")));
    /// assert!(!inputs.holds(&dir.join("b.txt")));
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn holds(&self, path: &Path) -> bool {
        let Some(id) = fs::metadata(path)
            .ok()
            .and_then(|meta| FileId::of(path, &meta))
        else {
            return false;
        };
        self.files.iter().any(|f| f.id.as_ref() == Some(&id))
    }

    /// Returns true if the open `file` is a regular file opened as one of
    /// the inputs (stdin included, when redirected from a file): a file a
    /// job must not write into, as when stdout is an input (`>> input`).
    ///
    /// # Example
    ///
    /// ```
    /// use mr_local::{InputOptions, Inputs};
    ///
    /// let path = std::env::temp_dir().join(format!("mr-local-doc-holds-file-{}", std::process::id()));
    /// std::fs::write(&path, "one two\n")?;
    /// let inputs = Inputs::open([&path], &InputOptions::default())?;
    /// assert!(inputs.holds_file(&std::fs::File::open(&path)?));
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn holds_file(&self, file: &File) -> bool {
        let Some(id) = file
            .metadata()
            .ok()
            .and_then(|meta| FileId::of(Path::new(""), &meta))
        else {
            return false;
        };
        self.files.iter().any(|f| f.id.as_ref() == Some(&id))
    }

    /// Returns the inputs in the order they were given.
    pub fn files(&self) -> &[InputFile] {
        &self.files
    }

    /// The compressed bytes decoded so far of the inputs found to be
    /// compressed.
    pub(crate) fn compressed_bytes(&self) -> u64 {
        let consumed = |f: &InputFile| f.compressed.as_ref().and_then(Compressed::consumed);
        self.files.iter().filter_map(consumed).sum()
    }

    /// Returns the sum of the inputs' lengths in bytes: of an open input
    /// (see [`InputOptions::stream`]), what is held of it.
    pub fn total_bytes(&self) -> u64 {
        self.files.iter().map(|f| f.bytes().len() as u64).sum()
    }
}

fn already_read(path: &Path) -> Error {
    Error::io(
        path,
        std::io::Error::other("already read by an earlier run (a stream is read once)"),
    )
}

/// An input to open: stdin, or a file (never a directory: those are walked
/// into their files first).
enum Source {
    Stdin,
    File(PathBuf),
}

/// Below this many inputs, opening them on several threads costs more than
/// it saves.
const PARALLEL_OPEN_MIN: usize = 64;
/// Opening is system calls and copies: a few threads are enough.
const MAX_OPEN_THREADS: usize = 8;

/// Adds the inputs `path` stands for: itself, stdin, or, with `recursive`,
/// the files below it.
fn collect(path: &Path, options: &InputOptions, sources: &mut Vec<Source>) -> Result<(), Error> {
    if path == Path::new("-") {
        sources.push(Source::Stdin);
        return Ok(());
    }
    // Without `recursive`, opening the path finds out whether it is a
    // directory: asking here first would cost a system call per file.
    if options.recursive && fs::metadata(path).map_err(|e| Error::io(path, e))?.is_dir() {
        walk(path, sources)
    } else {
        sources.push(Source::File(path.to_path_buf()));
        Ok(())
    }
}

/// Adds the files below `dir`, in bytewise order of their paths.
fn walk(dir: &Path, sources: &mut Vec<Source>) -> Result<(), Error> {
    let mut entries = Vec::new();
    for entry in fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let kind = entry.file_type().map_err(|e| Error::io(entry.path(), e))?;
        entries.push((entry.path(), kind));
    }
    entries.sort_by(|a, b| a.0.as_os_str().cmp(b.0.as_os_str()));
    for (path, kind) in entries {
        if kind.is_dir() {
            walk(&path, sources)?;
        } else if kind.is_symlink() {
            // Follow links to files; skip links to directories and dangling
            // links, as `find` does without `-L`.
            if fs::metadata(&path).is_ok_and(|m| m.is_file()) {
                sources.push(Source::File(path));
            }
        } else if kind.is_file() {
            sources.push(Source::File(path));
        }
        // FIFOs, sockets and devices are skipped, as `grep -r` does: a
        // FIFO would block the job until some writer came, a socket cannot
        // be opened. Named on the command line, they are still read.
    }
    Ok(())
}

/// Opens every source, in order; many small files are opened on a few
/// threads at once, since opening is mostly waiting on system calls. The
/// error returned is the first in input order, whichever thread met it.
fn open_all(sources: &[Source], options: &InputOptions) -> Result<Vec<InputFile>, Error> {
    let open = |source: &Source| match source {
        Source::Stdin => {
            let path = PathBuf::from("<stdin>");
            let (data, compressed) = if options.decompress {
                let (data, compressed) = decode::open_stdin(&path, options)?;
                (data, Some(compressed))
            } else if options.stream {
                let stdin = Feed::Reader(Box::new(std::io::stdin()));
                (Data::Open(Stream::new(stdin, None)), None)
            } else {
                let bytes = read::read_all(std::io::stdin().lock(), None);
                (Data::Owned(bytes.map_err(|e| Error::read(&path, e))?), None)
            };
            Ok(InputFile {
                path,
                data,
                compressed,
                // Stdin redirected from a file (`< FILE`) is that file.
                id: stdin_id(),
            })
        }
        Source::File(path) => open_file(path, options),
    };
    if sources.len() < PARALLEL_OPEN_MIN {
        return sources.iter().map(open).collect();
    }
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(MAX_OPEN_THREADS);
    let chunk = sources.len().div_ceil(threads);
    let opened: Vec<Vec<Result<InputFile, Error>>> = std::thread::scope(|scope| {
        let open = &open;
        let workers: Vec<_> = sources
            .chunks(chunk)
            .map(|c| scope.spawn(move || c.iter().map(open).collect::<Vec<_>>()))
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    });
    opened.into_iter().flatten().collect()
}

/// The identity of the regular file stdin reads from, if it does.
fn stdin_id() -> Option<FileId> {
    #[cfg(unix)]
    {
        use std::os::fd::AsFd;
        let stdin = File::from(std::io::stdin().as_fd().try_clone_to_owned().ok()?);
        let meta = stdin.metadata().ok()?;
        FileId::of(Path::new("-"), &meta)
    }
    #[cfg(not(unix))]
    None
}

/// Maps or reads one file.
fn open_file(path: &Path, options: &InputOptions) -> Result<InputFile, Error> {
    open_file_part(path, 0, None, options)
}

/// Maps or reads one file's bytes from `offset` to `end`, or to its end
/// (see [`Inputs::push_file_range`]).
fn open_file_part(
    path: &Path,
    offset: u64,
    end: Option<u64>,
    options: &InputOptions,
) -> Result<InputFile, Error> {
    let mut file = File::open(path).map_err(|e| Error::io(path, e))?;
    // Ask the open file, not the path: `/dev/stdin` and process
    // substitution name pipes, which must be read, never mapped.
    let meta = file.metadata().map_err(|e| Error::io(path, e))?;
    if meta.is_dir() {
        return Err(Error::is_directory(path));
    }
    if options.decompress && offset == 0 && end.is_none() {
        file = match decode::open_file(path, file, &meta, options)? {
            Ok((data, compressed)) => {
                let (id, compressed) = (FileId::of(path, &meta), Some(compressed));
                let path = path.to_path_buf();
                return Ok(InputFile {
                    path,
                    data,
                    id,
                    compressed,
                });
            }
            Err(plain) => plain,
        };
    }
    let regular = meta.is_file();
    let len = match regular {
        true => range::len_of(path, meta.len(), offset, end)?,
        false => meta.len(),
    };
    if offset > 0 {
        range::skip(path, &mut file, offset, regular)?;
    }
    let small = regular && len < MMAP_MIN_LEN;
    let mapped = if regular && !small {
        options.mmap.open_part(&file, offset, len)
    } else {
        None
    };
    let data = match mapped {
        Some(map) => Data::Mapped(map),
        // A regular file is opened again when a run reads it, so that
        // thousands of inputs do not hold thousands of descriptors.
        None if options.stream && regular && !small => {
            let reopen = Reopen::new(path, FileId::of(path, &meta)).part(offset, len);
            Data::Open(Stream::new(Feed::File(reopen), Some(len)))
        }
        None if options.stream && !small => {
            let reader = file.take(end.map_or(u64::MAX, |end| end - offset));
            Data::Open(Stream::new(Feed::Reader(Box::new(reader)), None))
        }
        None => Data::Owned(
            match end {
                None => read::read_file(&file, len, regular),
                Some(end) => read::read_file_part(&file, end - offset, regular),
            }
            .map_err(|e| Error::read(path, e))?,
        ),
    };
    Ok(InputFile {
        id: FileId::of(path, &meta),
        path: path.to_path_buf(),
        data,
        compressed: None,
    })
}

impl InputFile {
    /// Returns the name of this input: its path, or `<stdin>`.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Returns the input's bytes: none for an input still open (see
    /// [`InputOptions::stream`]).
    pub fn bytes(&self) -> &[u8] {
        match &self.data {
            Data::Mapped(map) => map.deref(),
            Data::Owned(bytes) => bytes,
            Data::Open(stream) => stream.held(),
        }
    }

    /// Returns true if the input is open, to be read as it is mapped (see
    /// [`InputOptions::stream`]): not read whole, nor streamed yet.
    pub fn is_open(&self) -> bool {
        match &self.data {
            Data::Open(stream) => stream
                .reader
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .is_some(),
            _ => false,
        }
    }

    /// Takes the reader of an open input, with where it starts in the
    /// input (after the head read ahead, the input's
    /// [`InputFile::bytes`]) and the length the input had when opened if
    /// it is a regular file, head included.
    pub(crate) fn take_reader(&self) -> Result<(BoxedReader, u64, Option<u64>), Error> {
        match &self.data {
            Data::Open(stream) => {
                let reader = stream.take(&self.path)?;
                stream
                    .streamed
                    .store(true, std::sync::atomic::Ordering::Relaxed);
                Ok((reader, stream.head_len() as u64, stream.expected))
            }
            _ => Err(Error::io(
                &self.path,
                std::io::Error::other("not an open input"),
            )),
        }
    }

    /// Returns the format the input was decoded from, if it was found to be
    /// compressed (see [`InputOptions::decompress`]); an input left open is
    /// told apart when first read.
    ///
    /// # Example
    ///
    /// ```
    /// use mr_local::Inputs;
    ///
    /// let mut inputs = Inputs::new();
    /// inputs.push_bytes("plain", "text\n");
    /// assert_eq!(inputs.files()[0].compression(), None);
    /// ```
    pub fn compression(&self) -> Option<Compression> {
        self.compressed
            .as_ref()
            .and_then(decode::Compressed::format)
    }

    /// How the input is decoded, if it may be compressed.
    pub(crate) fn compressed(&self) -> Option<&Compressed> {
        self.compressed.as_ref()
    }

    /// Returns true if the input is memory-mapped rather than read.
    pub fn is_mapped(&self) -> bool {
        matches!(self.data, Data::Mapped(_))
    }

    /// Asks the kernel to map the pages of `range` of a mapped input all
    /// at once (`MADV_POPULATE_READ`), just before a task reads them: one
    /// call per split where reading would fault every few pages. Only a
    /// hint: nothing happens for an input that is not mapped, or where
    /// the kernel refuses (before Linux 5.14, or a file cut short, whose
    /// reads then fail as they would have).
    pub(crate) fn prefault(&self, range: std::ops::Range<usize>) {
        #[cfg(target_os = "linux")]
        if let Data::Mapped(map) = &self.data {
            if range.start < range.end && range.end <= map.len() {
                let _ = map.advise_range(memmap2::Advice::PopulateRead, range.start, range.len());
            }
        }
        #[cfg(not(target_os = "linux"))]
        let _ = range;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;
    use crate::testutil::TempDir;

    #[test]
    fn a_directory_is_an_error_unless_recursive() {
        let dir = TempDir::new("input-dir");
        dir.write("b/2.txt", "two\n");
        dir.write("a.txt", "one\n");
        dir.write("b/1.txt", "three\n");
        let err = Inputs::open([dir.path()], &InputOptions::default()).unwrap_err();
        assert!(matches!(err.kind(), ErrorKind::IsDirectory { .. }));
        assert!(err.to_string().contains("is a directory"));

        let options = InputOptions {
            recursive: true,
            ..InputOptions::default()
        };
        let inputs = Inputs::open([dir.path()], &options).unwrap();
        let names: Vec<_> = inputs.files().iter().map(|f| f.bytes().to_vec()).collect();
        assert_eq!(
            names,
            vec![b"one\n".to_vec(), b"three\n".to_vec(), b"two\n".to_vec()]
        );
    }

    #[test]
    fn many_inputs_are_opened_in_parallel_and_kept_in_order() {
        let dir = TempDir::new("input-many");
        let count = PARALLEL_OPEN_MIN * 3 + 7;
        let paths: Vec<PathBuf> = (0..count)
            .map(|i| dir.write(&format!("f{i:04}.txt"), format!("{i}\n")))
            .collect();
        let mut given = paths.clone();
        given.reverse();
        let inputs = Inputs::open(&given, &InputOptions::default()).unwrap();
        let got: Vec<&[u8]> = inputs.files().iter().map(InputFile::bytes).collect();
        let want: Vec<Vec<u8>> = (0..count)
            .rev()
            .map(|i| format!("{i}\n").into_bytes())
            .collect();
        assert_eq!(got, want.iter().map(Vec::as_slice).collect::<Vec<_>>());
        assert_eq!(inputs.files()[0].path(), given[0].as_path());

        let walked = Inputs::open([dir.path()], &InputOptions::default().recursive(true)).unwrap();
        assert_eq!(walked.files().len(), count);
        assert_eq!(
            walked.files()[count - 1].bytes(),
            format!("{}\n", count - 1).as_bytes()
        );
    }

    #[test]
    fn a_missing_file_names_the_path() {
        let dir = TempDir::new("input-missing");
        let missing = dir.path().join("nope.txt");
        let err = Inputs::open([&missing], &InputOptions::default()).unwrap_err();
        assert_eq!(err.path(), Some(missing.as_path()));
        assert!(
            err.to_string().ends_with(": no such file or directory"),
            "{err}"
        );
    }

    #[test]
    #[allow(unsafe_code)]
    fn large_files_are_mapped_small_and_empty_ones_read() {
        let dir = TempDir::new("input-mmap");
        dir.write("big.txt", "word ".repeat(100_000));
        dir.write("small.txt", "word\n");
        dir.write("empty.txt", "");
        // SAFETY: the test's files are not modified while it runs.
        let options = InputOptions::default().mmap(unsafe { MmapChoice::auto() });
        let names = ["big.txt", "small.txt", "empty.txt"].map(|n| dir.path().join(n));
        let inputs = Inputs::open(&names, &options).unwrap();
        let mapped: Vec<bool> = inputs.files().iter().map(InputFile::is_mapped).collect();
        assert_eq!(mapped, [true, false, false]);
        assert_eq!(inputs.files()[0].bytes().len(), 500_000);

        let read = Inputs::open(&names, &InputOptions::default()).unwrap();
        assert!(read.files().iter().all(|f| !f.is_mapped()));
        assert_eq!(read.total_bytes(), inputs.total_bytes());
    }

    #[test]
    fn a_file_closed_after_its_head_is_reopened_where_it_stopped_if_the_same() {
        let dir = TempDir::new("input-reopen");
        let text: String = (0..60_000).map(|i| format!("{i}\n")).collect();
        let path = dir.write("big.txt", &text);
        let options = InputOptions::default().stream(true);
        let lines = Records::lines();
        for replaced in [false, true] {
            let inputs = Inputs::open([&path], &options).unwrap();
            inputs.read_heads(&lines, 4096, 1).unwrap();
            let head = inputs.files()[0].bytes().len();
            assert!(head > 0 && head <= 4096 && text.as_bytes()[head - 1] == b'\n');
            if replaced {
                // Another file under the same name.
                let other = dir.write("other.txt", &text);
                fs::rename(&other, &path).unwrap();
            }
            let (mut reader, offset, expected) = inputs.files()[0].take_reader().unwrap();
            assert_eq!((offset, expected), (head as u64, Some(text.len() as u64)));
            let mut rest = Vec::new();
            match reader.read_to_end(&mut rest) {
                Ok(_) => assert!(!replaced && rest == text.as_bytes()[head..]),
                Err(e) => assert!(replaced && e.to_string() == "changed while being read"),
            }
        }
    }
}
