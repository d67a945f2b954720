//! Streaming open inputs: a reader thread cuts each into chunks of whole
//! records, and the pool maps them as they come (see
//! [`MapReduce::streamed`](crate::MapReduce::streamed)).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::sync::mpsc::Receiver;

use rayon::prelude::*;

use super::first::FirstError;
use super::{Engine, Meter, Task, MAX_AUTO_SPLIT, MIN_AUTO_SPLIT};
use crate::error::{panicked, Error};
use crate::input::members::Members;
use crate::input::{read, BoxedReader, Compressed};
use crate::map::{MapChunk, Mapper, Slot};
use crate::spill::Spiller;

impl Engine {
    /// The size of the chunks open inputs are read in: the split size if
    /// one was set, else an eighth of each thread's share of the memory
    /// budget, within the bounds of the automatic split size. At most
    /// `2 × threads + 1` chunks are held at once: one being mapped per
    /// thread, as many queued, and one being read.
    pub fn chunk_size(&self) -> usize {
        self.split_size.unwrap_or_else(|| {
            (self.spill.budget / self.threads.max(1) / 8).clamp(MIN_AUTO_SPLIT, MAX_AUTO_SPLIT)
        })
    }

    /// Maps open input `file` as it is read: a compressed file of several
    /// members decoded on the pool, a segment per task (see
    /// [`stream_members`](Engine::stream_members)); anything else read in
    /// chunks on a thread of its own.
    pub(super) fn stream<'d, M: Mapper<'d>>(
        &self,
        file: usize,
        streamed: &Streamed<'_, '_, 'd, M>,
    ) -> Result<(), Error> {
        let input = &streamed.task.inputs.files()[file];
        // A head read ahead (to sample keys) was decoded by the one
        // decoder, which must then go on.
        let fresh = input.bytes().is_empty();
        let segment = (self.chunk_size() / 8).max(MIN_SEGMENT);
        let members = fresh
            .then(|| Members::of(input, segment, 2 * self.threads))
            .flatten();
        // The reader goes on after the head read ahead, already mapped;
        // the length expected counts the head.
        let (reader, offset, expected) = input.take_reader()?;
        match members {
            Some(members) => self.stream_members(file, members, streamed),
            None => self.stream_reader(file, (reader, offset), expected, streamed),
        }
    }

    /// Reads `reader`, open input `file` from `offset`, in chunks on a
    /// thread of its own and maps the chunks on the pool as they come.
    pub(super) fn stream_reader<'d, M: Mapper<'d>>(
        &self,
        file: usize,
        from: (BoxedReader, u64),
        expected: Option<u64>,
        streamed: &Streamed<'_, '_, 'd, M>,
    ) -> Result<(), Error> {
        let input = &streamed.task.inputs.files()[file];
        let size = self.chunk_size();
        // A chunk grown past twice the size, for a long record, is freed.
        let spares = read::Spares::new(size.saturating_mul(2));
        let mut chunks = read::Chunks::new(from, &self.records, size, expected, spares.clone());
        let path = input.path().to_path_buf();
        // Progress counts a compressed input's compressed bytes.
        let compressed = input.compressed().cloned();
        let mut read_before = compressed
            .as_ref()
            .and_then(Compressed::consumed)
            .unwrap_or(0);
        let mut read = move |chunk: &[u8]| match compressed.as_ref().and_then(Compressed::consumed)
        {
            Some(now) => now - std::mem::replace(&mut read_before, now),
            None => chunk.len() as u64,
        };
        let (send, receive) = std::sync::mpsc::sync_channel(self.threads);
        // Not a scoped thread: a run that fails must not wait for a read
        // that may block for as long as the writer of a pipe likes. It ends
        // at its next chunk, when sending finds no receiver. A reader that
        // panics (a caller's) sends the panic as an error.
        std::thread::Builder::new()
            .name("mr-local-read".to_string())
            .spawn(move || loop {
                let next = catch_unwind(AssertUnwindSafe(|| chunks.next_chunk()));
                let next = match next {
                    Ok(next) => next
                        .map(|next| next.map(|(at, chunk)| (at, read(&chunk), chunk)))
                        .map_err(|e| Error::read(&path, e)),
                    Err(panic) => Err(reader_failed(&path, format!("reader {}", panicked(panic)))),
                };
                let last = !matches!(next, Ok(Some(_)));
                if send.send(next).is_err() || last {
                    break;
                }
            })
            .map_err(|e| Error::io(input.path(), e))?;
        // Chunks come in order: once one fails, those still to come are
        // after it, and only those being mapped may fail before it.
        let first = FirstError::default();
        let _stopped = received(receive, input.path())
            .par_bridge()
            .try_for_each(|item| {
                let (offset, read, chunk) = item.map_err(|e| first.failed((file, u64::MAX), e))?;
                self.map_piece(file, (offset, read, &chunk), streamed)
                    .map_err(|e| first.failed((file, offset), e))?;
                spares.give(chunk);
                Ok::<(), ()>(())
            });
        first.into_result()
    }

    /// Maps a chunk of open input `file`: its offset, the bytes of the
    /// input read to make it, and its bytes.
    pub(super) fn map_piece<'d, M: Mapper<'d>>(
        &self,
        file: usize,
        (offset, read, chunk): (u64, u64, &[u8]),
        streamed: &Streamed<'_, '_, 'd, M>,
    ) -> Result<(), Error> {
        let offset = usize::try_from(offset).unwrap_or(usize::MAX);
        streamed
            .task
            .run_chunk(file, offset, chunk, streamed.map, streamed.slots)?;
        if let Some(spiller) = streamed.spiller {
            spiller.check()?;
        }
        streamed.meter.streamed(chunk.len() as u64, read);
        Ok(())
    }
}

/// Compressed segments are at least this long.
const MIN_SEGMENT: usize = 64 * 1024;

/// A chunk of an open input: its offset in the input, the bytes read of
/// the input to make it (compressed bytes, if it is compressed), and its
/// bytes.
type Chunk = (u64, u64, Vec<u8>);

/// The chunks the reader thread sends, until it sends the end (`None`) or
/// an error; a thread that went away without either (it cannot, but then
/// the chunks are not all there) is an error, not the end.
fn received(
    receive: Receiver<Result<Option<Chunk>, Error>>,
    path: &Path,
) -> impl Iterator<Item = Result<Chunk, Error>> + Send + use<> {
    let path = path.to_path_buf();
    let mut over = false;
    std::iter::from_fn(move || {
        if over {
            return None;
        }
        let next = match receive.recv() {
            Ok(next) => next.transpose(),
            Err(_) => Some(Err(reader_failed(
                &path,
                "reader stopped before the end".into(),
            ))),
        };
        over = !matches!(next, Some(Ok(_)));
        next
    })
}

/// The error of a reader thread that failed other than by a read error.
fn reader_failed(path: &Path, why: String) -> Error {
    Error::io(path, std::io::Error::other(why))
}

/// What mapping the chunks of open inputs needs.
pub(super) struct Streamed<'s, 't, 'd, M: Mapper<'d>> {
    pub task: &'s Task<'t, 'd, M>,
    pub map: MapChunk<M, M::Key, M::Value>,
    pub slots: &'s [Slot<M::Key, M::Value>],
    pub spiller: Option<&'s Spiller<'s, M::Key, M::Value>>,
    /// Counts the chunks and bytes streamed, and reports progress.
    pub meter: &'s Meter<'s>,
}
