//! Streaming a compressed file of several members (see [`Members`]):
//! its segments are decoded on the pool, each by a task of its own, and
//! joined in order as soon as the ones before them are decoded, so that
//! decoding and mapping overlap with no step where the pool waits for
//! its slowest task.
//!
//! A fixed number of tasks go round: each fetches the next segment,
//! decodes it into a buffer used before, and hands it to the [`Order`].
//! A segment that is next in the input is cut at its records (the record
//! begun in the segment before it, carried, ends in it) and mapped, and
//! its task goes on to fetch another; a segment that is not next waits,
//! and its task ends, to be taken up by the task that maps it. So at most
//! that many segments are held at once, decoded or being decoded.

use std::collections::BTreeMap;
use std::io::Read;
use std::ops::Range;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use super::first::{FirstError, Place};
use super::stream::Streamed;
use super::Engine;
use crate::error::Error;
use crate::input::members::{Members, Next, Window};
use crate::input::read::Spares;
use crate::input::{BoxedReader, Records};
use crate::map::Mapper;

/// Segments held per thread, decoded or being decoded.
const SEGMENTS_PER_THREAD: usize = 2;
/// A segment may decode to at most this many chunks' worth of bytes, so
/// that the segments held take at most half the memory budget (a chunk is
/// an eighth of a thread's share), and much less at the usual ratios of
/// 3 to 4 (a segment is an eighth of a chunk compressed).
const MAX_SEGMENT_CHUNKS: usize = 2;

impl Engine {
    /// Decodes the members of open input `file` on the pool and maps
    /// their records as they come; from the first segment that does not
    /// decode on its own, one decoder goes on (which reports a real error
    /// where it is).
    pub(super) fn stream_members<'d, M: Mapper<'d>>(
        &self,
        file: usize,
        members: Members,
        streamed: &Streamed<'_, '_, 'd, M>,
    ) -> Result<(), Error> {
        // A segment that decodes to more than this (a member far larger
        // than a segment, or a bomb) is left to the one decoder, whose
        // memory is bounded.
        let most = self.chunk_size().saturating_mul(MAX_SEGMENT_CHUNKS);
        let flow = Flow::new(members, most);
        rayon::scope(|scope| {
            for _ in 0..SEGMENTS_PER_THREAD * self.threads.max(1) {
                scope.spawn(|scope| self.decode_next(file, &flow, streamed, scope));
            }
        });
        flow.first.into_result()?;
        let (feed, order) = (into_inner(flow.feed), into_inner(flow.order));
        if let Some(error) = feed.error {
            let path = streamed.task.inputs.files()[file].path();
            return Err(Error::read(path, error));
        }
        let stitch = order.stitch;
        match order.failed.or(feed.sequential) {
            Some(from) => self.stream_rest(file, feed.members, from, stitch, streamed),
            None if stitch.carry.is_empty() => Ok(()),
            None => {
                let last = (stitch.offset, stitch.read, &stitch.carry[..]);
                self.map_piece(file, last, streamed)
            }
        }
    }

    /// One round of a task of [`stream_members`](Engine::stream_members):
    /// decodes the next segment, then maps it and any that waited for it,
    /// each in a task that goes round again.
    fn decode_next<'s, 'd, M: Mapper<'d>>(
        &'s self,
        file: usize,
        flow: &'s Flow,
        streamed: &'s Streamed<'_, '_, 'd, M>,
        scope: &rayon::Scope<'s>,
    ) {
        let Some((index, window, i)) = flow.fetch() else {
            return;
        };
        let out = window.decode_into(i, flow.most, flow.spares.take());
        let (start, read) = window.segment(i);
        drop(window);
        for pieces in flow.arrive(index, Arrival { start, read, out }, &self.records) {
            scope.spawn(move |scope| {
                for piece in pieces {
                    let at = (file, piece.offset);
                    if flow.first.skips(at) {
                        return;
                    }
                    let chunk = (piece.offset, piece.read, &piece.bytes[piece.range.clone()]);
                    match self.map_piece(file, chunk, streamed) {
                        Ok(()) => flow.recycle(piece),
                        Err(error) => return flow.fail(at, error),
                    }
                }
                self.decode_next(file, flow, streamed, scope);
            });
        }
    }

    /// Goes on with one decoder from `from`, after the records stitched.
    fn stream_rest<'d, M: Mapper<'d>>(
        &self,
        file: usize,
        members: Members,
        from: u64,
        stitch: Stitch,
        streamed: &Streamed<'_, '_, 'd, M>,
    ) -> Result<(), Error> {
        let decoder = members.sequential(from);
        let reader: BoxedReader = Box::new(std::io::Cursor::new(stitch.carry).chain(decoder));
        self.stream_reader(file, (reader, stitch.offset), None, streamed)
    }
}

/// What the tasks of one file's streaming share.
struct Flow {
    feed: Mutex<Feed>,
    order: Mutex<Order>,
    /// Buffers mapped and free to decode into again.
    spares: Spares,
    /// Set when no more segments are to be fetched or mapped.
    stopped: AtomicBool,
    /// The earliest piece whose mapping failed.
    first: FirstError,
    /// The most bytes a segment may decode to.
    most: usize,
}

/// The segments not yet fetched.
struct Feed {
    members: Members,
    /// The window being handed out, and its next segment.
    window: Option<Arc<Window>>,
    next: usize,
    /// Segments fetched so far.
    fetched: usize,
    /// No member starts in a window from this offset on.
    sequential: Option<u64>,
    /// A read of the file failed.
    error: Option<std::io::Error>,
    ended: bool,
}

/// The segments decoded and not yet mapped, and what joins them.
struct Order {
    /// The index of the next segment in the input.
    next: usize,
    waiting: BTreeMap<usize, Arrival>,
    stitch: Stitch,
    /// The compressed offset of the first segment that did not decode.
    failed: Option<u64>,
    consumed: crate::input::compress::Consumed,
}

/// A segment decoded: its offset and length in the file, and its bytes if
/// it decoded on its own.
struct Arrival {
    start: u64,
    read: u64,
    out: Option<Vec<u8>>,
}

impl Flow {
    fn new(members: Members, most: usize) -> Flow {
        let consumed = members.consumed();
        Flow {
            feed: Mutex::new(Feed {
                members,
                window: None,
                next: 0,
                fetched: 0,
                sequential: None,
                error: None,
                ended: false,
            }),
            order: Mutex::new(Order {
                next: 0,
                waiting: BTreeMap::new(),
                stitch: Stitch::default(),
                failed: None,
                consumed,
            }),
            spares: Spares::new(most.saturating_add(1)),
            stopped: AtomicBool::new(false),
            first: FirstError::default(),
            most,
        }
    }

    /// The next segment: its index in the input, and its window and index
    /// there; `None` at the end, or once stopped.
    fn fetch(&self) -> Option<(usize, Arc<Window>, usize)> {
        let mut feed = lock(&self.feed);
        loop {
            if feed.ended || self.stopped.load(Ordering::Relaxed) {
                return None;
            }
            if let Some(window) = feed.window.clone().filter(|w| feed.next < w.segments()) {
                let at = (feed.fetched, window, feed.next);
                feed.fetched += 1;
                feed.next += 1;
                return Some(at);
            }
            match feed.members.next_window() {
                Ok(Next::Window(window)) => (feed.window, feed.next) = (Some(Arc::new(window)), 0),
                Ok(Next::End) => feed.ended = true,
                Ok(Next::Sequential(from)) => (feed.sequential, feed.ended) = (Some(from), true),
                Err(error) => {
                    (feed.error, feed.ended) = (Some(error), true);
                    self.stopped.store(true, Ordering::Relaxed);
                }
            }
        }
    }

    /// Segment `index` decoded; the pieces to map of it and of the
    /// segments after it that waited for it, a list for each segment.
    fn arrive(&self, index: usize, arrival: Arrival, records: &Records) -> Vec<Vec<Piece>> {
        let mut order = lock(&self.order);
        // Stopped, what is left is after a failure: not to be mapped.
        if self.stopped.load(Ordering::Relaxed) {
            return Vec::new();
        }
        order.waiting.insert(index, arrival);
        let mut released = Vec::new();
        loop {
            let next = order.next;
            let Some(arrival) = order.waiting.remove(&next) else {
                break;
            };
            let Some(out) = arrival.out else {
                order.failed = Some(arrival.start);
                order.waiting.clear();
                self.stopped.store(true, Ordering::Relaxed);
                break;
            };
            order.next += 1;
            order.consumed.fetch_add(arrival.read, Ordering::Relaxed);
            released.push(order.stitch.add(out, arrival.read, records));
        }
        released
    }

    /// Keeps the buffer of `piece`, mapped, to decode into again.
    fn recycle(&self, piece: Piece) {
        if piece.reuse {
            self.spares.give(piece.bytes);
        }
    }

    /// Mapping the piece at `at` failed with `error`: nothing after it is
    /// fetched or mapped.
    fn fail(&self, at: Place, error: Error) {
        self.stopped.store(true, Ordering::Relaxed);
        self.first.failed(at, error);
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn into_inner<T>(mutex: Mutex<T>) -> T {
    mutex.into_inner().unwrap_or_else(PoisonError::into_inner)
}

/// Whole records of an open input to map: `bytes[range]`, at `offset` in
/// the decoded input, made from `read` compressed bytes not counted yet.
#[derive(Debug, PartialEq)]
struct Piece {
    offset: u64,
    read: u64,
    bytes: Vec<u8>,
    range: Range<usize>,
    /// Whether `bytes` is a segment's buffer, to decode into again.
    reuse: bool,
}

/// Decoded segments joined at record ends: the bytes after the last
/// record's end are carried into the next.
#[derive(Default)]
pub(super) struct Stitch {
    carry: Vec<u8>,
    /// The offset in the decoded input of the carry's first byte.
    offset: u64,
    /// Compressed bytes decoded for the carry, not yet counted.
    read: u64,
}

impl Stitch {
    /// The whole records of the carry and `out`, decoded from `read`
    /// compressed bytes: the carry with the rest of its record, copied,
    /// then the records after it, in `out` itself. Copies only the
    /// records that cross the ends of `out`.
    fn add(&mut self, out: Vec<u8>, read: u64, records: &Records) -> Vec<Piece> {
        self.read += read;
        let head = match self.carry.is_empty() {
            true => Some(0),
            false => records.first_end(self.carry.len(), &out),
        };
        let Some(head) = head else {
            self.carry.extend_from_slice(&out);
            return Vec::new();
        };
        let mut pieces = Vec::with_capacity(2);
        if head > 0 {
            let mut joined = std::mem::take(&mut self.carry);
            joined.extend_from_slice(&out[..head]);
            pieces.push(self.piece(joined, 0, false));
        }
        match records.cut(&out[head..], 0) {
            Some(len) => {
                self.carry = out[head + len..].to_vec();
                let mut body = out;
                body.truncate(head + len);
                pieces.push(self.piece(body, head, true));
            }
            None => self.carry = out[head..].to_vec(),
        }
        pieces
    }

    /// `bytes` from `start` as the next piece.
    fn piece(&mut self, bytes: Vec<u8>, start: usize, reuse: bool) -> Piece {
        let offset = self.offset;
        self.offset += (bytes.len() - start) as u64;
        let range = start..bytes.len();
        let read = std::mem::take(&mut self.read);
        Piece {
            offset,
            read,
            bytes,
            range,
            reuse,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The pieces as (offset, read, bytes).
    fn add(
        stitch: &mut Stitch,
        bytes: &str,
        read: u64,
        records: &Records,
    ) -> Vec<(u64, u64, String)> {
        let pieces = stitch.add(bytes.as_bytes().to_vec(), read, records);
        let text = |p: &Piece| String::from_utf8(p.bytes[p.range.clone()].to_vec()).unwrap();
        pieces.iter().map(|p| (p.offset, p.read, text(p))).collect()
    }

    #[test]
    fn stitched_segments_make_pieces_of_whole_records_at_their_offsets() {
        let mut stitch = Stitch::default();
        let lines = Records::lines();
        assert_eq!(
            add(&mut stitch, "ab\ncd", 5, &lines),
            [(0, 5, "ab\n".into())]
        );
        // A segment with no record's end only grows the carry.
        assert_eq!(add(&mut stitch, "ef", 4, &lines), []);
        // The carry's record ends in the next, which has more records.
        assert_eq!(
            add(&mut stitch, "g\nh\ni\nj", 6, &lines),
            [(3, 10, "cdefg\n".into()), (9, 0, "h\ni\n".into())]
        );
        assert_eq!(
            (stitch.offset, stitch.read, &stitch.carry[..]),
            (13, 0, &b"j"[..])
        );
        // A segment that ends the carry's record and no other.
        assert_eq!(
            add(&mut stitch, "k\nl", 2, &lines),
            [(13, 2, "jk\n".into())]
        );
        // Fixed-size records cut at multiples of the size from the start.
        let mut stitch = Stitch::default();
        let fixed = Records::fixed(4);
        assert_eq!(
            add(&mut stitch, "abcdef", 1, &fixed),
            [(0, 1, "abcd".into())]
        );
        assert_eq!(
            add(&mut stitch, "ghijklm", 1, &fixed),
            [(4, 1, "efgh".into()), (8, 0, "ijkl".into())]
        );
        assert_eq!(add(&mut stitch, "n", 1, &fixed), []);
        assert_eq!(add(&mut stitch, "opq", 1, &fixed), [(12, 2, "mnop".into())]);
    }
}
