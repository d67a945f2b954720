//! Streaming open inputs: a reader thread cuts each into chunks of whole
//! records, and the pool maps them as they come (see
//! [`MapReduce::streamed`](crate::MapReduce::streamed)).

use std::io::Read;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::sync::mpsc::Receiver;

use rayon::prelude::*;

use super::{Engine, Meter, Task, MAX_AUTO_SPLIT, MIN_AUTO_SPLIT};
use crate::error::{panicked, Error};
use crate::input::members::{Members, Next, Window};
use crate::input::{read, BoxedReader, Compressed, Records};
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
    /// members decoded on the pool, a part per task, when the pool has 3
    /// threads or more; anything else read in chunks on a thread of its
    /// own.
    pub(super) fn stream<'d, M: Mapper<'d>>(
        &self,
        file: usize,
        streamed: &Streamed<'_, '_, 'd, M>,
    ) -> Result<(), Error> {
        let input = &streamed.task.inputs.files()[file];
        // A head read ahead (to sample keys) was decoded by the one
        // decoder, which must then go on.
        let fresh = input.bytes().is_empty();
        let chunk = self.chunk_size();
        let members = (self.threads >= PARALLEL_DECODE_THREADS && fresh)
            .then(|| Members::of(input, (chunk / 8).max(MIN_SEGMENT), 2 * self.threads))
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
    fn stream_reader<'d, M: Mapper<'d>>(
        &self,
        file: usize,
        from: (BoxedReader, u64),
        expected: Option<u64>,
        streamed: &Streamed<'_, '_, 'd, M>,
    ) -> Result<(), Error> {
        let input = &streamed.task.inputs.files()[file];
        let mut chunks = read::Chunks::new(from, &self.records, self.chunk_size(), expected);
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
        received(receive, input.path())
            .par_bridge()
            .try_for_each(|item| {
                let (offset, read, chunk) = item?;
                self.map_piece(file, (offset, read, &chunk), streamed)
            })
    }

    /// Decodes the members of open input `file` on the pool, a window of
    /// segments at a time (see [`Members`]), mapping the records of one
    /// window while the next is decoded; from the first segment that does
    /// not decode on its own, one decoder goes on (which reports a real
    /// error where it is).
    fn stream_members<'d, M: Mapper<'d>>(
        &self,
        file: usize,
        mut members: Members,
        streamed: &Streamed<'_, '_, 'd, M>,
    ) -> Result<(), Error> {
        let path = streamed.task.inputs.files()[file].path();
        // A segment that decodes to more than this (a member far larger
        // than a segment, or a bomb) is left to the one decoder, whose
        // memory is bounded.
        let most = self.chunk_size().saturating_mul(MAX_SEGMENT_CHUNKS);
        let decode = |next: &Next| match next {
            Next::Window(window) => (0..window.segments())
                .into_par_iter()
                .map(|i| window.decode(i, most))
                .collect(),
            _ => Vec::new(),
        };
        let mut stitch = Stitch::default();
        let mut next = members.next_window().map_err(|e| Error::read(path, e))?;
        let mut decoded: Vec<Option<Vec<u8>>> = decode(&next);
        loop {
            let window = match next {
                Next::End if stitch.carry.is_empty() => return Ok(()),
                Next::End => {
                    let last = (
                        stitch.offset,
                        stitch.read,
                        std::mem::take(&mut stitch.carry),
                    );
                    return self.map_pieces(file, vec![last], streamed);
                }
                Next::Sequential(from) => {
                    return self.stream_rest(file, members, None, from, stitch, streamed)
                }
                Next::Window(window) => window,
            };
            let good = decoded.iter().take_while(|d| d.is_some()).count();
            let mut pieces = Vec::with_capacity(good);
            for (i, out) in decoded.into_iter().take(good).enumerate() {
                let read = window.segment(i).1;
                members.decoded(read);
                pieces.extend(stitch.add(out.expect("counted above"), read, &self.records));
            }
            if good < window.segments() {
                self.map_pieces(file, pieces, streamed)?;
                let from = window.segment(good).0;
                return self.stream_rest(file, members, Some(&window), from, stitch, streamed);
            }
            next = members.next_window().map_err(|e| Error::read(path, e))?;
            let (mapped, more) =
                rayon::join(|| self.map_pieces(file, pieces, streamed), || decode(&next));
            mapped?;
            decoded = more;
        }
    }

    /// Goes on with one decoder from `from`, after the records stitched.
    fn stream_rest<'d, M: Mapper<'d>>(
        &self,
        file: usize,
        members: Members,
        window: Option<&Window>,
        from: u64,
        stitch: Stitch,
        streamed: &Streamed<'_, '_, 'd, M>,
    ) -> Result<(), Error> {
        let decoder = members.sequential(window, from);
        let reader: BoxedReader = Box::new(std::io::Cursor::new(stitch.carry).chain(decoder));
        self.stream_reader(file, (reader, stitch.offset), None, streamed)
    }

    /// Maps decoded segments of open input `file`, each cut into chunks of
    /// the chunk size at record ends, all in parallel.
    fn map_pieces<'d, M: Mapper<'d>>(
        &self,
        file: usize,
        pieces: Vec<Chunk>,
        streamed: &Streamed<'_, '_, 'd, M>,
    ) -> Result<(), Error> {
        let size = self.chunk_size();
        let mut chunks = Vec::new();
        for (offset, read, bytes) in &pieces {
            let (mut start, mut read) = (0, *read);
            while start < bytes.len() {
                let end = self.records.split_end(bytes, start, size);
                let at = offset + start as u64;
                chunks.push((at, std::mem::take(&mut read), &bytes[start..end]));
                start = end;
            }
        }
        chunks
            .into_par_iter()
            .try_for_each(|chunk| self.map_piece(file, chunk, streamed))
    }

    /// Maps a chunk of open input `file`: its offset, the bytes of the
    /// input read to make it, and its bytes.
    fn map_piece<'d, M: Mapper<'d>>(
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

/// Streamed, members are decoded on the pool from this many threads. At 2,
/// one decoder on the reader thread beside 2 mapping threads was as fast
/// for gzip and 25% faster for zstd on 2 cores (benches/compressed.sh):
/// one decoder keeps up with 2 mapping threads, not with more.
const PARALLEL_DECODE_THREADS: usize = 3;
/// Compressed segments are at least this long.
const MIN_SEGMENT: usize = 64 * 1024;
/// A segment may decode to at most this many chunks' worth of bytes: two
/// windows of `2 x threads` segments then hold at most the memory budget
/// (a chunk is an eighth of a thread's share), a quarter of it at the
/// usual ratios of 3 to 4 (a segment is an eighth of a chunk compressed).
const MAX_SEGMENT_CHUNKS: usize = 2;

/// Decoded segments joined into chunks of whole records: the bytes after
/// the last record's end are carried into the next.
#[derive(Default)]
struct Stitch {
    carry: Vec<u8>,
    /// The offset in the decoded input of the carry's first byte.
    offset: u64,
    /// Compressed bytes decoded for the carry, not yet counted.
    read: u64,
}

impl Stitch {
    /// The whole records of the carry and `out` (decoded from `read`
    /// compressed bytes) as a chunk, if any ends there.
    fn add(&mut self, out: Vec<u8>, read: u64, records: &Records) -> Option<Chunk> {
        self.read += read;
        // The carry moves in front of the output, in the output's own room
        // where it fits: no new buffer whose pages must all be faulted in.
        let mut bytes = out;
        if !self.carry.is_empty() {
            let carry = std::mem::take(&mut self.carry);
            bytes.splice(0..0, carry);
        }
        let Some(end) = records.cut(&bytes, 0) else {
            self.carry = bytes;
            return None;
        };
        self.carry = bytes[end..].to_vec();
        bytes.truncate(end);
        let offset = self.offset;
        self.offset += end as u64;
        Some((offset, std::mem::take(&mut self.read), bytes))
    }
}

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
) -> impl Iterator<Item = Result<Chunk, Error>> + Send {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stitched_segments_make_chunks_of_whole_records_at_their_offsets() {
        let mut stitch = Stitch::default();
        let lines = Records::lines();
        let piece =
            |s: &mut Stitch, bytes: &str, read| s.add(bytes.as_bytes().to_vec(), read, &lines);
        assert_eq!(
            piece(&mut stitch, "ab\ncd", 5),
            Some((0, 5, b"ab\n".to_vec()))
        );
        // A segment with no record's end only grows the carry.
        assert_eq!(piece(&mut stitch, "ef", 4), None);
        assert_eq!(
            piece(&mut stitch, "g\nh", 6),
            Some((3, 10, b"cdefg\n".to_vec()))
        );
        assert_eq!(
            (stitch.offset, stitch.read, &stitch.carry[..]),
            (9, 0, &b"h"[..])
        );
        // Fixed-size records cut at multiples of the size from the carry.
        let mut stitch = Stitch::default();
        let fixed = Records::fixed(4);
        assert_eq!(
            stitch.add(b"abcdef".to_vec(), 1, &fixed),
            Some((0, 1, b"abcd".to_vec()))
        );
        assert_eq!(
            stitch.add(b"ghijk".to_vec(), 1, &fixed),
            Some((4, 1, b"efgh".to_vec()))
        );
    }
}
