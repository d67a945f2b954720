//! Reading inputs that are not mapped: stdin, pipes, small files, and any
//! file whose mapping failed; whole, or in chunks of whole records.

use std::fs::File;
use std::io::{self, Read};
use std::sync::{Arc, Mutex, PoisonError};

use crate::input::Records;

/// Reads all of `reader`, which had `expected` bytes when opened where
/// that is known (a regular file's length).
///
/// The buffer grows by doubling with `try_reserve`, so that an input too
/// large for memory is an error ([`io::ErrorKind::OutOfMemory`]) rather
/// than an abort.
///
/// # Errors
///
/// The reader's errors; out of memory; and a regular file that ends before
/// `expected` bytes ([`changed_while_read`]).
pub(crate) fn read_all(reader: impl Read, expected: Option<u64>) -> io::Result<Vec<u8>> {
    read_all_after(&[], reader, expected)
}

/// Reads all of an input whose first bytes, `head`, were read already and
/// whose `reader` goes on after them: the whole input, head first, which
/// must be at least `expected` bytes long, head included.
///
/// # Errors
///
/// As for [`read_all`].
pub(crate) fn read_all_after(
    head: &[u8],
    mut reader: impl Read,
    expected: Option<u64>,
) -> io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    reserve(&mut bytes, head.len())?;
    bytes.extend_from_slice(head);
    let hint = expected.unwrap_or(head.len() as u64 + 64 * 1024);
    read_sized(bytes, &mut reader, hint, expected)
}

/// Reads all of `reader` after `bytes` into a buffer of `hint + 1` bytes
/// to start with, so that an input of that size takes two `read` calls
/// (the second finds the end).
fn read_sized(
    mut bytes: Vec<u8>,
    reader: &mut impl Read,
    hint: u64,
    expected: Option<u64>,
) -> io::Result<Vec<u8>> {
    let first = usize::try_from(hint).unwrap_or(usize::MAX);
    let more = first.saturating_sub(bytes.len()).saturating_add(1);
    reserve(&mut bytes, more)?;
    while !fill(reader, &mut bytes)? {
        let more = bytes.capacity();
        reserve(&mut bytes, more)?;
    }
    check_length(bytes.len() as u64, expected)?;
    Ok(bytes)
}

/// Reads the first `most` bytes of `reader`, or all of it if it is
/// shorter; true with them if it ended.
pub(crate) fn read_prefix(
    reader: &mut (impl Read + ?Sized),
    most: usize,
) -> io::Result<(Vec<u8>, bool)> {
    // Grown by doubling, not reserved whole: `most` is a share of the
    // memory budget, often far more than the input holds.
    let mut bytes = Vec::new();
    reserve(&mut bytes, most.min(64 * 1024))?;
    loop {
        if fill(reader, &mut bytes)? {
            return Ok((bytes, true));
        }
        if bytes.len() >= most {
            return Ok((bytes, false));
        }
        let more = bytes.capacity().min(most - bytes.len());
        reserve(&mut bytes, more)?;
    }
}

/// Reserves room for `more` bytes, or fails with an out-of-memory error.
fn reserve(bytes: &mut Vec<u8>, more: usize) -> io::Result<()> {
    crate::error::fallibly(|| bytes.try_reserve_exact(more))
        .map_err(|_| io::Error::from(io::ErrorKind::OutOfMemory))
}

/// Reads into the spare capacity of `bytes` until it is full or the
/// input ends; returns true at the end of the input.
fn fill(reader: &mut (impl Read + ?Sized), bytes: &mut Vec<u8>) -> io::Result<bool> {
    let want = bytes.capacity() - bytes.len();
    // `read_to_end` on a `Take` of exactly the spare room neither zeroes
    // the room on every call nor grows the buffer past it.
    let got = Read::take(&mut *reader, want as u64).read_to_end(bytes)?;
    Ok(got < want)
}

/// A regular file that gave fewer bytes than it had when opened was
/// truncated under us.
fn check_length(read: u64, expected: Option<u64>) -> io::Result<()> {
    match expected {
        Some(len) if read < len => Err(changed_while_read()),
        _ => Ok(()),
    }
}

/// Reads a stream in chunks of whole records, each about `chunk_size`
/// bytes: a chunk ends just after a record's end (or at the end of the
/// input); a record longer than `chunk_size` makes a longer chunk, never
/// two.
pub(crate) struct Chunks {
    reader: Box<dyn Read + Send>,
    records: Records,
    chunk_size: usize,
    /// Bytes read past the last chunk's end: the start of its next record.
    carry: Vec<u8>,
    /// Where the next chunk starts in the stream.
    offset: u64,
    /// The length of a regular file when it was opened.
    expected: Option<u64>,
    done: bool,
    /// Chunks mapped, to read into again.
    spares: Spares,
}

impl Chunks {
    /// Chunks of `reader`, which starts at `offset` in its input, cut
    /// where `records` may end (the format must [stream](Records::cut)).
    pub(crate) fn new(
        (reader, offset): (Box<dyn Read + Send>, u64),
        records: &Records,
        chunk_size: usize,
        expected: Option<u64>,
        spares: Spares,
    ) -> Chunks {
        Chunks {
            reader,
            records: records.clone(),
            chunk_size: chunk_size.max(1),
            carry: Vec::new(),
            offset,
            expected,
            done: false,
            spares,
        }
    }

    /// Returns the next chunk and its offset in the stream, or `None` at
    /// the end.
    ///
    /// # Errors
    ///
    /// As for [`read_all`].
    pub(crate) fn next_chunk(&mut self) -> io::Result<Option<(u64, Vec<u8>)>> {
        if self.done {
            return Ok(None);
        }
        let mut chunk = self.spares.take();
        reserve(&mut chunk, self.chunk_size.max(self.carry.len()))?;
        chunk.append(&mut self.carry);
        // Bytes of `chunk` known to hold no record's end.
        let mut scanned = 0;
        loop {
            if fill(&mut *self.reader, &mut chunk)? {
                self.done = true;
                break;
            }
            if let Some(end) = self.records.cut(&chunk, scanned) {
                reserve(&mut self.carry, chunk.len() - end)?;
                self.carry.extend_from_slice(&chunk[end..]);
                chunk.truncate(end);
                break;
            }
            // One record fills the chunk: grow it until the record ends.
            scanned = chunk.len();
            let more = chunk.len();
            reserve(&mut chunk, more)?;
        }
        let at = self.offset;
        self.offset += chunk.len() as u64;
        if self.done {
            check_length(self.offset, self.expected)?;
        }
        Ok((!chunk.is_empty()).then_some((at, chunk)))
    }
}

/// Buffers whose bytes were used, to be filled again: their pages,
/// faulted in once (about a tenth of the time of decoding a compressed
/// input), are used again rather than new ones mapped.
#[derive(Clone)]
pub(crate) struct Spares {
    buffers: Arc<Mutex<Vec<Vec<u8>>>>,
    /// Buffers with more room than this are freed.
    room: usize,
}

impl Spares {
    /// Buffers beyond this many are freed.
    const MOST: usize = 64;

    /// Spares of at most `room` bytes each.
    pub(crate) fn new(room: usize) -> Spares {
        let buffers = Arc::default();
        Spares { buffers, room }
    }

    /// An empty buffer, with room where one was given back.
    pub(crate) fn take(&self) -> Vec<u8> {
        let mut spares = self.buffers.lock().unwrap_or_else(PoisonError::into_inner);
        spares.pop().unwrap_or_default()
    }

    /// Gives `bytes` back, to be taken again.
    pub(crate) fn give(&self, mut bytes: Vec<u8>) {
        if bytes.capacity() > self.room {
            return;
        }
        bytes.clear();
        let mut spares = self.buffers.lock().unwrap_or_else(PoisonError::into_inner);
        if spares.len() < Self::MOST {
            spares.push(bytes);
        }
    }
}

/// Reads all of an open file whose metadata says `len` bytes.
///
/// Sized by `len`, the standard library's own sizing (another `fstat` and
/// an `lseek` per file) is skipped: it shows when inputs are thousands of
/// small files. A file that has grown meanwhile is read to its real end.
///
/// # Errors
///
/// As for [`read_all`]; where `regular` (the length is a regular file's,
/// not a pipe's or a device's), a file that ends before `len` bytes was
/// truncated while being read: counting what is left would be a wrong
/// result given as a right one.
pub(crate) fn read_file(mut file: &File, len: u64, regular: bool) -> io::Result<Vec<u8>> {
    read_sized(Vec::new(), &mut file, len, regular.then_some(len))
}

/// As for [`read_file`], but reads at most `len` bytes: a part of the
/// file, which must have them all if it is `regular`.
pub(crate) fn read_file_part(file: &File, len: u64, regular: bool) -> io::Result<Vec<u8>> {
    read_sized(Vec::new(), &mut file.take(len), len, regular.then_some(len))
}

/// The error of a regular file that ended before the length it had when it
/// was opened.
pub(crate) fn changed_while_read() -> io::Error {
    io::Error::new(io::ErrorKind::UnexpectedEof, "changed while being read")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::TempDir;

    #[test]
    fn a_prefix_stops_at_its_length_and_grows_only_as_needed() {
        let text: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let (prefix, ended) = read_prefix(&mut &text[..], 100_000).unwrap();
        assert_eq!((&prefix[..], ended), (&text[..100_000], false));
        // A budget far larger than the input reserves about the input.
        let (all, ended) = read_prefix(&mut &text[..], 1 << 40).unwrap();
        assert_eq!((&all[..], ended), (&text[..], true));
        assert!(all.capacity() < 2 * text.len(), "{}", all.capacity());
    }

    #[test]
    fn a_file_shorter_than_its_length_at_open_is_an_error() {
        let dir = TempDir::new("read-short");
        let path = dir.write("a.txt", "twelve bytes");
        let file = File::open(&path).unwrap();
        // As if it had been 4096 bytes long when opened, and truncated since.
        let err = read_file(&file, 4096, true).unwrap_err();
        assert_eq!(err.to_string(), "changed while being read");
        // A pipe's or device's length means nothing; a grown file is read
        // to its end; the exact length is the common case.
        for (len, regular) in [(4096, false), (5, true), (12, true), (0, true)] {
            let file = File::open(&path).unwrap();
            assert_eq!(read_file(&file, len, regular).unwrap(), b"twelve bytes");
        }
    }
}
