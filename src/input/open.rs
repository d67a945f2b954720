//! Inputs left open (see [`InputOptions::stream`](super::InputOptions::stream)):
//! the reader a run takes to stream one or read it whole, what was read
//! ahead of it, and regular files opened again by name when read.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock, PoisonError};

use super::{already_read, read, FileId};
use crate::error::Error;

/// The reader of an open input.
pub(crate) type BoxedReader = Box<dyn Read + Send>;

/// An input left open, to be read in chunks by the run that maps it, or
/// whole by one that cannot map chunks.
pub(super) struct Stream {
    /// The reader, until a run takes it to stream the input or reads it
    /// whole.
    pub(super) reader: Mutex<Option<Unread>>,
    /// Set when a run took the reader to stream the input.
    pub(super) streamed: std::sync::atomic::AtomicBool,
    /// The length of a regular file when it was opened.
    pub(super) expected: Option<u64>,
    /// The first records, read ahead to sample keys from: the start of
    /// the input, which the reader goes on after.
    pub(super) head: OnceLock<Vec<u8>>,
    /// All the bytes, head first, once read whole. The head is kept apart
    /// rather than grown in place: a run may have borrowed from it.
    pub(super) whole: OnceLock<Vec<u8>>,
}

impl std::fmt::Debug for Stream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stream")
            .field("expected", &self.expected)
            .field("held", &self.held().len())
            .finish_non_exhaustive()
    }
}

impl Stream {
    pub(super) fn new(feed: Feed, expected: Option<u64>) -> Stream {
        Stream {
            reader: Mutex::new(Some(Unread {
                rest: Vec::new(),
                feed,
            })),
            streamed: std::sync::atomic::AtomicBool::new(false),
            expected,
            head: OnceLock::new(),
            whole: OnceLock::new(),
        }
    }

    /// The bytes read and held: all of them, once read whole, else the
    /// head, if read.
    pub(super) fn held(&self) -> &[u8] {
        let held = self.whole.get().or(self.head.get());
        held.map_or(&[], Vec::as_slice)
    }

    /// The length of the head read ahead: where the reader starts.
    pub(super) fn head_len(&self) -> usize {
        self.head.get().map_or(0, Vec::len)
    }

    pub(super) fn take(&self, path: &Path) -> Result<BoxedReader, Error> {
        let taken = self
            .reader
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        let Unread { rest, feed } = taken.ok_or_else(|| already_read(path))?;
        Ok(match rest.is_empty() {
            true => Box::new(feed),
            false => Box::new(std::io::Cursor::new(rest).chain(feed)),
        })
    }
}

/// What is still to be read of an open input: the bytes read past its
/// head, then what its feed gives.
pub(super) struct Unread {
    pub(super) rest: Vec<u8>,
    pub(super) feed: Feed,
}

/// Where an open input's bytes come from.
pub(super) enum Feed {
    /// Stdin, a pipe, or a caller's reader.
    Reader(BoxedReader),
    /// A regular file, opened by name when read.
    File(Reopen),
    /// Nothing more: the input ended within its head.
    Ended,
}

impl Read for Feed {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Feed::Reader(reader) => reader.read(buf),
            Feed::File(file) => file.read(buf),
            Feed::Ended => Ok(0),
        }
    }
}

/// A regular file left open by name, opened again when read, and again
/// after [`Reopen::close`], where it left off; the file found must be the
/// one opened first.
pub(super) struct Reopen {
    path: PathBuf,
    id: Option<FileId>,
    file: Option<File>,
    /// How far it has been read.
    offset: u64,
    /// Where to stop reading, if before the file's end.
    end: Option<u64>,
}

impl Reopen {
    /// The file at `path`, `id` when opened, to be opened again when read.
    pub(super) fn new(path: &Path, id: Option<FileId>) -> Reopen {
        Reopen {
            path: path.to_path_buf(),
            id,
            file: None,
            offset: 0,
            end: None,
        }
    }

    /// The same, read from `offset` for `len` bytes.
    pub(super) fn part(mut self, offset: u64, len: u64) -> Reopen {
        self.offset = offset;
        self.end = Some(offset.saturating_add(len));
        self
    }

    /// Closes the file until it is next read.
    pub(super) fn close(&mut self) {
        self.file = None;
    }
}

impl Read for Reopen {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let file = match &mut self.file {
            Some(file) => file,
            None => {
                let mut file = File::open(&self.path)?;
                let meta = file.metadata()?;
                if FileId::of(&self.path, &meta) != self.id {
                    return Err(read::changed_while_read());
                }
                if self.offset > 0 {
                    std::io::Seek::seek(&mut file, std::io::SeekFrom::Start(self.offset))?;
                }
                self.file.insert(file)
            }
        };
        let left = self.end.map_or(usize::MAX, |end| {
            usize::try_from(end.saturating_sub(self.offset)).unwrap_or(usize::MAX)
        });
        let room = buf.len().min(left);
        let n = file.read(&mut buf[..room])?;
        self.offset += n as u64;
        Ok(n)
    }
}
