//! Decoding a compressed file on several threads: split at member (gzip),
//! frame (zstd) or stream (bzip2, xz) boundaries, each part decoded on
//! its own.
//!
//! The file is read in windows of compressed bytes; in each, the places
//! where a member could start (its magic bytes) cut it into segments of
//! about a set size, which the caller decodes in parallel
//! ([`Window::decode`]). A place that only looks like a member's start
//! (the magic bytes inside compressed data) cannot pass: the segment
//! before it ends inside a member (cut short), or the one after it starts
//! with no valid member. Once a segment that started at a real boundary
//! decodes whole, to its very end, its end is a real boundary too, so the
//! segments decoded in order give exactly what one decoder would. At the
//! first segment that fails, the caller goes on with one decoder from
//! that segment's start ([`Members::sequential`]), which also reports
//! any real corruption, with its true offset.

use std::io::{self, Read};
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use super::compress::{Compression, Consumed, Decoder, Source, MAGIC_LEN};
use super::open::{BoxedReader, Reopen};
use super::{Data, FileId, InputFile};

/// A compressed regular file being read window by window.
pub(crate) struct Members {
    format: Compression,
    reader: BoxedReader,
    /// Bytes read and not yet handed out in a window, and the offset in
    /// the file of the first.
    pending: Vec<u8>,
    pending_at: u64,
    ended: bool,
    segment: usize,
    window: usize,
    /// The input's count of compressed bytes decoded.
    consumed: Consumed,
    /// The file, to be read again by one decoder from a member's start,
    /// and its length.
    path: PathBuf,
    id: Option<FileId>,
    len: u64,
}

/// What the next window is.
pub(crate) enum Next {
    /// Segments to decode in parallel.
    Window(Window),
    /// No member starts in a window's length: go on with one decoder from
    /// this offset.
    Sequential(u64),
    /// The file ended.
    End,
}

/// A window of compressed bytes, cut into segments at member starts.
pub(crate) struct Window {
    format: Compression,
    bytes: Arc<Vec<u8>>,
    /// The window's offset in the file.
    at: u64,
    /// Segment `i` is `bytes[bounds[i]..bounds[i + 1]]`.
    bounds: Vec<usize>,
}

impl Members {
    /// The members of `input`, a compressed regular file not yet read, to
    /// be cut into segments of about `segment` compressed bytes, `window`
    /// segments at a time; `None` for any other input.
    pub(crate) fn of(input: &InputFile, segment: usize, window: usize) -> Option<Members> {
        let compressed = input.compressed()?;
        let (format, len) = (compressed.format()?, compressed.len()?);
        if !matches!(input.data, Data::Open(_)) || !input.is_open() {
            return None;
        }
        let reader = Reopen::new(input.path(), input.id.clone()).part(0, len);
        Some(Members {
            format,
            reader: Box::new(reader),
            pending: Vec::new(),
            pending_at: 0,
            ended: false,
            segment: segment.max(MAGIC_LEN),
            window: window.max(1),
            consumed: compressed.consumed_counter(),
            path: input.path().to_path_buf(),
            id: input.id.clone(),
            len,
        })
    }

    /// Reads the next window.
    ///
    /// # Errors
    ///
    /// The file's read errors.
    pub(crate) fn next_window(&mut self) -> io::Result<Next> {
        // A segment more than the window's share: the last segment ends at
        // a member start past it.
        let want = self.segment.saturating_mul(self.window + 1);
        while !self.ended && self.pending.len() < want {
            let have = self.pending.len();
            self.pending.resize(want, 0);
            let got = loop {
                match self.reader.read(&mut self.pending[have..]) {
                    Ok(n) => break n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => {
                        self.pending.truncate(have);
                        return Err(e);
                    }
                }
            };
            self.pending.truncate(have + got);
            self.ended = got == 0;
        }
        if self.pending.is_empty() {
            return Ok(Next::End);
        }
        // Cut at the first member start past each multiple of the segment
        // size, so that members a little longer than a segment still make
        // a window of several.
        let mut bounds = vec![0];
        for start in member_starts(self.format, &self.pending) {
            if start >= bounds.len() * self.segment {
                bounds.push(start);
                if bounds.len() > self.window {
                    break;
                }
            }
        }
        if self.ended {
            if bounds.last() != Some(&self.pending.len()) {
                bounds.push(self.pending.len());
            }
        } else if bounds.len() < 2 {
            return Ok(Next::Sequential(self.pending_at));
        }
        let end = bounds[bounds.len() - 1];
        let rest = self.pending.split_off(end);
        let bytes = Arc::new(std::mem::replace(&mut self.pending, rest));
        let at = self.pending_at;
        self.pending_at += end as u64;
        Ok(Next::Window(Window {
            format: self.format,
            bytes,
            at,
            bounds,
        }))
    }

    /// The input's count of compressed bytes decoded, which
    /// [`decoded`](Members::decoded) adds to.
    pub(crate) fn consumed(&self) -> Consumed {
        self.consumed.clone()
    }

    /// Counts `bytes` compressed bytes decoded, of segments that passed.
    pub(crate) fn decoded(&self, bytes: u64) {
        self.consumed.fetch_add(bytes, Ordering::Relaxed);
    }

    /// One decoder for the rest of the file from `offset`, the start of a
    /// member, reading the file again from there.
    ///
    /// # Errors
    ///
    /// None here: the decoder's, when read.
    pub(crate) fn sequential(self, offset: u64) -> BoxedReader {
        let rest = self.len.saturating_sub(offset);
        let reader = Reopen::new(&self.path, self.id).part(offset, rest);
        let source = Source::reader(Vec::new(), Box::new(reader), self.consumed).at(offset);
        let format = self.format;
        let mut decoder = None;
        // Made on the first read, where its errors can be reported.
        let mut source = Some(source);
        Box::new(LazyDecoder(move |buf: &mut [u8]| {
            if decoder.is_none() {
                let source = source.take().ok_or_else(|| io::Error::other("failed"))?;
                decoder = Some(Decoder::new(format, source)?);
            }
            decoder.as_mut().expect("made above").read(buf)
        }))
    }
}

/// Segments of a compressed file read whole are about this long.
const WHOLE_SEGMENT: usize = 1 << 20;

/// Decodes all of `input`, a compressed file of several members, on the
/// current rayon pool, a window of segments at a time, after `head`; the
/// rest with one decoder from the first segment that does not decode on
/// its own. `None` if `input` is not such a file (see [`Members::of`]).
///
/// # Errors
///
/// The file's read errors and the one decoder's.
pub(crate) fn read_whole(input: &InputFile) -> Option<io::Result<Vec<u8>>> {
    use rayon::prelude::*;

    let window = 2 * rayon::current_num_threads();
    let mut members = Members::of(input, WHOLE_SEGMENT, window)?;
    let mut bytes = Vec::new();
    let mut read = || -> io::Result<Vec<u8>> {
        loop {
            let window = match members.next_window()? {
                Next::End => return Ok(std::mem::take(&mut bytes)),
                Next::Sequential(from) => return members.finish(from, &mut bytes),
                Next::Window(window) => window,
            };
            let decoded: Vec<Option<Vec<u8>>> = (0..window.segments())
                .into_par_iter()
                .map(|i| window.decode(i, usize::MAX))
                .collect();
            for (i, out) in decoded.into_iter().enumerate() {
                let Some(out) = out else {
                    let from = window.segment(i).0;
                    return members.finish(from, &mut bytes);
                };
                members.decoded(window.segment(i).1);
                bytes.extend_from_slice(&out);
            }
        }
    };
    Some(read())
}

impl Members {
    /// Decodes the rest from `from` with one decoder, after `bytes`.
    fn finish(&mut self, from: u64, bytes: &mut Vec<u8>) -> io::Result<Vec<u8>> {
        let this = std::mem::replace(self, Members::ended(self.format));
        this.sequential(from).read_to_end(bytes)?;
        Ok(std::mem::take(bytes))
    }

    /// Members of nothing, in place of one used up.
    fn ended(format: Compression) -> Members {
        Members {
            format,
            reader: Box::new(io::empty()),
            pending: Vec::new(),
            pending_at: 0,
            ended: true,
            segment: 1,
            window: 1,
            consumed: Consumed::default(),
            path: PathBuf::new(),
            id: None,
            len: 0,
        }
    }
}

/// A reader made of a closure.
struct LazyDecoder<F>(F);

impl<F: FnMut(&mut [u8]) -> io::Result<usize>> Read for LazyDecoder<F> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        (self.0)(buf)
    }
}

impl Window {
    /// The number of segments.
    pub(crate) fn segments(&self) -> usize {
        self.bounds.len() - 1
    }

    /// Segment `i`'s offset in the file and compressed length.
    pub(crate) fn segment(&self, i: usize) -> (u64, u64) {
        let (start, end) = (self.bounds[i], self.bounds[i + 1]);
        (self.at + start as u64, (end - start) as u64)
    }

    /// Segment `i` decoded, if it decodes whole, to its end, to at most
    /// `most` bytes; `None` if not (see the module's docs).
    pub(crate) fn decode(&self, i: usize, most: usize) -> Option<Vec<u8>> {
        self.decode_into(i, most, Vec::new())
    }

    /// The same, decoded into `out`, a buffer used before whose room (and
    /// pages, faulted in already) is used again.
    pub(crate) fn decode_into(&self, i: usize, most: usize, mut out: Vec<u8>) -> Option<Vec<u8>> {
        let range = (self.bounds[i], self.bounds[i + 1]);
        let source = Source::held(self.bytes.clone(), range, Consumed::default());
        let decoder = Decoder::new(self.format, source).ok()?;
        // Room for the limit at once, not grown by doubling (a copy of the
        // output each time): only the pages written are ever touched.
        let room = most.min(64 * (range.1 - range.0)).saturating_add(1);
        out.clear();
        out.reserve(room);
        let limit = u64::try_from(most).unwrap_or(u64::MAX).saturating_add(1);
        decoder.take(limit).read_to_end(&mut out).ok()?;
        (out.len() <= most).then_some(out)
    }
}

/// Where a member of `format` may start in `bytes`, after its first byte:
/// where its magic bytes are.
fn member_starts(format: Compression, bytes: &[u8]) -> impl Iterator<Item = usize> + '_ {
    let magic: &'static [u8] = match format {
        Compression::Gzip => &[0x1f, 0x8b, 0x08],
        Compression::Zstd => &[0x28, 0xb5, 0x2f, 0xfd],
        Compression::Bzip2 => b"BZh",
        Compression::Xz => &[0xfd, b'7', b'z', b'X', b'Z', 0x00],
    };
    memchr::memmem::find_iter(bytes, magic).filter(move |&at| {
        at > 0 && Compression::detect(&bytes[at..bytes.len().min(at + MAGIC_LEN)]) == Some(format)
    })
}

#[cfg(all(test, feature = "decompress"))]
mod tests {
    use super::*;
    use std::io::Write;

    use crate::input::compress::tests::gzip;

    fn members(bytes: Vec<u8>, segment: usize, window: usize) -> Members {
        Members {
            format: Compression::Gzip,
            reader: Box::new(io::Cursor::new(bytes)),
            pending: Vec::new(),
            pending_at: 0,
            ended: false,
            segment,
            window,
            consumed: Consumed::default(),
            path: PathBuf::new(),
            id: None,
            len: 0,
        }
    }

    #[test]
    fn windows_are_cut_at_member_starts_and_decode_in_order() {
        let parts: Vec<Vec<u8>> = (0..7)
            .map(|i| format!("part {i}\n").repeat(500).into_bytes())
            .collect();
        let packed: Vec<u8> = parts.iter().flat_map(|p| gzip(p)).collect();
        let mut members = members(packed.clone(), 30, 2);
        let (mut decoded, mut ends) = (Vec::new(), Vec::new());
        while let Next::Window(window) = members.next_window().unwrap() {
            assert!(window.segments() <= 2);
            for i in 0..window.segments() {
                decoded.extend(window.decode(i, usize::MAX).unwrap());
                let (at, len) = window.segment(i);
                ends.push(at + len);
            }
        }
        assert_eq!(decoded, parts.concat());
        assert_eq!(ends.last(), Some(&(packed.len() as u64)));
    }

    #[test]
    fn a_false_start_or_an_oversized_segment_fails_and_no_start_goes_sequential() {
        // A member whose bytes, stored, hold another member's magic.
        let inner = gzip(b"inner\n");
        let mut outer = Vec::new();
        {
            let mut out = flate2::write::GzEncoder::new(&mut outer, flate2::Compression::none());
            out.write_all(&inner).unwrap();
            out.finish().unwrap();
        }
        let at = member_starts(Compression::Gzip, &outer)
            .next()
            .expect("a false start");
        let mut packed = outer.clone();
        packed.extend(gzip(b"after\n"));
        let Next::Window(window) = members(packed.clone(), at, 4).next_window().unwrap() else {
            panic!("a window");
        };
        assert_eq!(window.segment(0), (0, at as u64));
        assert_eq!(window.decode(0, usize::MAX), None);
        // Whole, it decodes; past `most` bytes, it does not.
        let Next::Window(window) = members(packed.clone(), outer.len(), 1)
            .next_window()
            .unwrap()
        else {
            panic!("a window");
        };
        assert_eq!(window.decode(0, inner.len()), Some(inner.clone()));
        assert_eq!(window.decode(0, inner.len() - 1), None);
        // No member starts within a window's length: one decoder goes on.
        let long = gzip(&b"x".repeat(1 << 20));
        let mut long_members = long.clone();
        long_members.extend(gzip(b"y\n"));
        let next = members(long_members, 8, 1).next_window().unwrap();
        assert!(matches!(next, Next::Sequential(0)));
    }
}
