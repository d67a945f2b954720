//! Compressed inputs: which format a stream is in, told by its first
//! bytes (never by its name), and a reader that decodes it.
//!
//! A stream may hold several members (gzip), frames (zstd) or streams
//! (bzip2, xz) one after another: they are decoded in turn, one at a time,
//! as `gzip -d` does. Bytes after the last that do not start another are
//! an error, as for `gzip -d`, as is a stream cut short or corrupt; the
//! errors name the compressed byte offset where decoding stopped.

use std::fmt;
use std::io::{self, BufRead, Read};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// A compression format that inputs are decoded from (see
/// [`InputOptions::decompress`](crate::InputOptions::decompress)).
///
/// # Example
///
/// ```
/// use mr_local::Compression;
///
/// assert_eq!(Compression::detect(b"\x1f\x8b\x08\0\0\0\0\0\0\x03"), Some(Compression::Gzip));
/// assert_eq!(Compression::detect(b"plain text\n"), None);
/// assert_eq!(Compression::Zstd.name(), "zstd");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Compression {
    /// gzip (RFC 1952), one member or several.
    Gzip,
    /// Zstandard, one frame or several.
    Zstd,
    /// bzip2, one stream or several.
    Bzip2,
    /// xz, one stream or several.
    Xz,
}

/// The bytes [`Compression::detect`] needs to tell every format.
pub(crate) const MAGIC_LEN: usize = 10;

impl Compression {
    /// The format whose magic bytes `head` starts with, if any. `head`
    /// should hold the stream's first 10 bytes, or all of a shorter one.
    pub fn detect(head: &[u8]) -> Option<Compression> {
        const BZIP2_BLOCK: &[u8] = &[0x31, 0x41, 0x59, 0x26, 0x53, 0x59];
        const BZIP2_END: &[u8] = &[0x17, 0x72, 0x45, 0x38, 0x50, 0x90];
        // gzip: the magic, deflate, and no reserved flag bit set.
        if head.len() >= 4 && head[..3] == [0x1f, 0x8b, 0x08] && head[3] & 0xe0 == 0 {
            return Some(Compression::Gzip);
        }
        // zstd: a frame, or a skippable frame (0x184D2A50..=0x184D2A5F).
        if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd])
            || (head.len() >= 4 && head[0] & 0xf0 == 0x50 && head[1..4] == [0x2a, 0x4d, 0x18])
        {
            return Some(Compression::Zstd);
        }
        // bzip2: "BZh", the block size, then a block or the end of the stream.
        if head.len() >= 10
            && head.starts_with(b"BZh")
            && (b'1'..=b'9').contains(&head[3])
            && (head[4..10] == *BZIP2_BLOCK || head[4..10] == *BZIP2_END)
        {
            return Some(Compression::Bzip2);
        }
        if head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0x00]) {
            return Some(Compression::Xz);
        }
        None
    }

    /// The format's name, as in messages: `gzip`, `zstd`, `bzip2`, `xz`.
    pub fn name(self) -> &'static str {
        match self {
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
            Compression::Bzip2 => "bzip2",
            Compression::Xz => "xz",
        }
    }
}

impl fmt::Display for Compression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How far decoding has gone: compressed bytes consumed, shared between
/// the decoder and whoever reports on it.
pub(crate) type Consumed = Arc<AtomicU64>;

/// The compressed bytes a decoder reads: a reader behind a buffer of its
/// own, or bytes in memory (a mapped file), counting what the decoder
/// consumes.
pub(crate) struct Source {
    bytes: Bytes,
    /// Where the buffered or held bytes not yet consumed start, and end.
    pos: usize,
    end: usize,
    /// Compressed bytes consumed before `pos`: the stream's offset.
    offset: u64,
    consumed: Consumed,
}

enum Bytes {
    Reader {
        reader: Box<dyn Read + Send>,
        buf: Vec<u8>,
    },
    Held(Arc<dyn AsRef<[u8]> + Send + Sync>),
}

/// Room for the compressed bytes read ahead of the decoder.
const SOURCE_BUFFER: usize = 256 * 1024;

impl Source {
    /// `reader`'s bytes, after the `head` already read from it.
    pub(crate) fn reader(head: Vec<u8>, reader: Box<dyn Read + Send>, consumed: Consumed) -> Self {
        let end = head.len();
        let mut buf = head;
        buf.resize(SOURCE_BUFFER.max(end), 0);
        Source {
            bytes: Bytes::Reader { reader, buf },
            pos: 0,
            end,
            offset: 0,
            consumed,
        }
    }

    /// Bytes held in memory, from `start` to `end`.
    pub(crate) fn held(
        bytes: Arc<dyn AsRef<[u8]> + Send + Sync>,
        (start, end): (usize, usize),
        consumed: Consumed,
    ) -> Self {
        Source {
            bytes: Bytes::Held(bytes),
            pos: start,
            end,
            offset: start as u64,
            consumed,
        }
    }

    /// The same, its first byte at `offset` in the stream, as error
    /// messages say.
    pub(crate) fn at(mut self, offset: u64) -> Self {
        self.offset = offset;
        self
    }

    /// The offset in the compressed stream of the next byte to consume.
    pub(crate) fn offset(&self) -> u64 {
        self.offset
    }

    /// At least `n` bytes not yet consumed, unless the stream ends first.
    fn peek(&mut self, n: usize) -> io::Result<&[u8]> {
        if let Bytes::Reader { reader, buf } = &mut self.bytes {
            if self.end - self.pos < n {
                buf.copy_within(self.pos..self.end, 0);
                self.end -= self.pos;
                self.pos = 0;
                while self.end < n {
                    match reader.read(&mut buf[self.end..]) {
                        Ok(0) => break,
                        Ok(got) => self.end += got,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => return Err(source_error(e)),
                    }
                }
            }
        }
        Ok(match &self.bytes {
            Bytes::Reader { buf, .. } => &buf[self.pos..self.end],
            Bytes::Held(bytes) => &(**bytes).as_ref()[self.pos..self.end],
        })
    }
}

impl Read for Source {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let have = self.fill_buf()?;
        let n = have.len().min(out.len());
        out[..n].copy_from_slice(&have[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl BufRead for Source {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.peek(1)
    }

    fn consume(&mut self, n: usize) {
        let n = n.min(self.end - self.pos);
        self.pos += n;
        self.offset += n as u64;
        self.consumed.fetch_add(n as u64, Ordering::Relaxed);
    }
}

/// An error of the reader under the decoder, marked so that it is not
/// taken for the decoder's own.
#[derive(Debug)]
struct SourceError(io::Error);

impl fmt::Display for SourceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for SourceError {}

fn source_error(err: io::Error) -> io::Error {
    io::Error::new(err.kind(), SourceError(err))
}

/// The reader's own error back, if `err` is one.
fn unwrap_source_error(err: io::Error) -> Result<io::Error, io::Error> {
    if err.get_ref().is_some_and(|e| e.is::<SourceError>()) {
        let inner = err.into_inner().expect("checked above");
        return Ok(inner.downcast::<SourceError>().expect("checked above").0);
    }
    Err(err)
}

/// Decodes a compressed stream: its members one after another, to the
/// end of the source.
pub(crate) struct Decoder {
    format: Compression,
    /// The member being decoded; `None` once the stream ended.
    member: Option<member::Member>,
}

impl Decoder {
    /// Decodes `source`, which starts with a member of `format`.
    pub(crate) fn new(format: Compression, source: Source) -> io::Result<Decoder> {
        Ok(Decoder {
            format,
            member: Some(member::Member::new(format, source)?),
        })
    }

    /// The message for an error decoding at `offset`, or the source's own
    /// error.
    fn explain(&self, err: io::Error, offset: u64, at_end: bool) -> io::Error {
        let err = match unwrap_source_error(err) {
            Ok(source) => return source,
            Err(err) => err,
        };
        if err.kind() == io::ErrorKind::OutOfMemory {
            return err;
        }
        let what = if at_end { "truncated" } else { "corrupt" };
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{what} {} stream at byte {offset}", self.format),
        )
    }

    /// After a member ended: starts the next, or ends the stream at the
    /// source's end; anything else is trailing garbage.
    fn next_member(&mut self, mut source: Source) -> io::Result<()> {
        if self.format == Compression::Xz {
            // Stream padding: zero bytes between and after xz streams.
            while source.peek(1)?.first() == Some(&0) {
                source.consume(1);
            }
        }
        let head = source.peek(MAGIC_LEN)?;
        if head.is_empty() {
            return Ok(());
        }
        if Compression::detect(head) != Some(self.format) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "trailing garbage after {} data at byte {}",
                    self.format,
                    source.offset()
                ),
            ));
        }
        self.member = Some(member::Member::new(self.format, source)?);
        Ok(())
    }
}

impl Read for Decoder {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            let Some(member) = self.member.as_mut() else {
                return Ok(0);
            };
            match member.read(buf) {
                Ok(0) => {
                    let source = self.member.take().expect("matched above").into_source();
                    self.next_member(source)?;
                }
                Ok(n) => return Ok(n),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    let source = member.source();
                    let offset = source.offset();
                    // Cut short, a stream ends where its decoder wanted
                    // more; a checksum that does not match fails there too.
                    let at_end = e.kind() == io::ErrorKind::UnexpectedEof
                        && matches!(source.peek(1), Ok(rest) if rest.is_empty());
                    // A decoder that failed is not asked again.
                    let err = self.explain(e, offset, at_end);
                    self.member = None;
                    return Err(err);
                }
            }
        }
    }
}

#[cfg(feature = "decompress")]
mod member {
    //! One member, frame or stream, decoded by its format's crate.

    use std::io::{self, Read};

    use super::{Compression, Source};

    pub(super) enum Member {
        Gzip(flate2::bufread::GzDecoder<Source>),
        Zstd(zstd::stream::read::Decoder<'static, Source>),
        Bzip2(bzip2::bufread::BzDecoder<Source>),
        Xz(liblzma::bufread::XzDecoder<Source>),
    }

    impl Member {
        pub(super) fn new(format: Compression, source: Source) -> io::Result<Member> {
            Ok(match format {
                Compression::Gzip => Member::Gzip(flate2::bufread::GzDecoder::new(source)),
                Compression::Zstd => {
                    let mut decoder = zstd::stream::read::Decoder::with_buffer(source)?;
                    // Frames made with `--long` need windows up to 2 GiB.
                    decoder.window_log_max(31)?;
                    Member::Zstd(decoder.single_frame())
                }
                Compression::Bzip2 => Member::Bzip2(bzip2::bufread::BzDecoder::new(source)),
                Compression::Xz => Member::Xz(liblzma::bufread::XzDecoder::new(source)),
            })
        }

        pub(super) fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            match self {
                Member::Gzip(d) => d.read(buf),
                Member::Zstd(d) => d.read(buf),
                Member::Bzip2(d) => d.read(buf),
                Member::Xz(d) => d.read(buf),
            }
        }

        pub(super) fn source(&mut self) -> &mut Source {
            match self {
                Member::Gzip(d) => d.get_mut(),
                Member::Zstd(d) => d.get_mut(),
                Member::Bzip2(d) => d.get_mut(),
                Member::Xz(d) => d.get_mut(),
            }
        }

        pub(super) fn into_source(self) -> Source {
            match self {
                Member::Gzip(d) => d.into_inner(),
                Member::Zstd(d) => d.finish(),
                Member::Bzip2(d) => d.into_inner(),
                Member::Xz(d) => d.into_inner(),
            }
        }
    }
}

#[cfg(not(feature = "decompress"))]
mod member {
    //! Built without the `decompress` feature: a compressed input is an
    //! error, not its compressed bytes read as text.

    use std::io;

    use super::{Compression, Source};

    /// Never made: [`Member::new`] fails.
    pub(super) struct Member(());

    impl Member {
        pub(super) fn new(format: Compression, _: Source) -> io::Result<Member> {
            Err(io::Error::new(
                io::ErrorKind::Unsupported,
                format!(
                    "{format} data, and this build reads no compressed input \
                     (built without the `decompress` feature)"
                ),
            ))
        }

        pub(super) fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
            unreachable!("never made")
        }

        pub(super) fn source(&mut self) -> &mut Source {
            unreachable!("never made")
        }

        pub(super) fn into_source(self) -> Source {
            unreachable!("never made")
        }
    }
}

/// Reads up to [`MAGIC_LEN`] bytes of `reader`: fewer only at its end.
pub(crate) fn read_magic(reader: &mut dyn Read) -> io::Result<Vec<u8>> {
    let mut head = vec![0; MAGIC_LEN];
    let mut got = 0;
    while got < MAGIC_LEN {
        match reader.read(&mut head[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    head.truncate(got);
    Ok(head)
}

/// A stream told apart on its first read: decoded if it starts with a
/// format's magic bytes, else passed through as it is. Reading nothing
/// before the first read, it opens without blocking on a pipe.
pub(crate) struct Sniffing {
    state: Sniffed,
    consumed: Consumed,
    format: Arc<std::sync::OnceLock<Compression>>,
}

enum Sniffed {
    Unread(Box<dyn Read + Send>),
    Plain(io::Chain<io::Cursor<Vec<u8>>, Box<dyn Read + Send>>),
    Decoded(Box<Decoder>),
    Failed,
}

impl Sniffing {
    /// `reader`, to be told apart on its first read; `consumed` counts the
    /// compressed bytes decoded, `format` is set if it is compressed.
    pub(crate) fn new(
        reader: Box<dyn Read + Send>,
        consumed: Consumed,
        format: Arc<std::sync::OnceLock<Compression>>,
    ) -> Sniffing {
        Sniffing {
            state: Sniffed::Unread(reader),
            consumed,
            format,
        }
    }
}

impl Read for Sniffing {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            match &mut self.state {
                Sniffed::Plain(plain) => return plain.read(buf),
                Sniffed::Decoded(decoder) => return decoder.read(buf),
                Sniffed::Failed => return Err(io::Error::other("already failed")),
                Sniffed::Unread(_) => {}
            }
            let Sniffed::Unread(mut reader) = std::mem::replace(&mut self.state, Sniffed::Failed)
            else {
                unreachable!("matched above");
            };
            let head = read_magic(&mut reader)?;
            self.state = match Compression::detect(&head) {
                None => Sniffed::Plain(io::Cursor::new(head).chain(reader)),
                Some(format) => {
                    let _ = self.format.set(format);
                    let source = Source::reader(head, reader, Arc::clone(&self.consumed));
                    Sniffed::Decoded(Box::new(Decoder::new(format, source)?))
                }
            };
        }
    }
}

#[cfg(all(test, feature = "decompress"))]
pub(super) mod tests {
    use super::*;
    use std::io::Write;

    /// `text` as one gzip member (also used by `members`' tests).
    pub(in crate::input) fn gzip(text: &[u8]) -> Vec<u8> {
        let mut out = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        out.write_all(text).unwrap();
        out.finish().unwrap()
    }

    fn decode(bytes: Vec<u8>) -> io::Result<Vec<u8>> {
        let consumed = Consumed::default();
        let reader = Sniffing::new(Box::new(io::Cursor::new(bytes)), consumed, Arc::default());
        let mut out = Vec::new();
        let mut reader = reader;
        reader.read_to_end(&mut out)?;
        Ok(out)
    }

    #[test]
    fn members_are_decoded_in_turn_and_plain_text_passes_through() {
        let mut two = gzip(b"one\n");
        two.extend(gzip(b"two\n"));
        assert_eq!(decode(two).unwrap(), b"one\ntwo\n");
        assert_eq!(decode(b"plain\n".to_vec()).unwrap(), b"plain\n");
        assert_eq!(decode(Vec::new()).unwrap(), b"");
        assert_eq!(decode(gzip(b"")).unwrap(), b"");
    }

    #[test]
    fn trailing_garbage_truncation_and_corruption_name_the_offset() {
        let one = gzip(&b"some words\n".repeat(1000));
        let mut garbage = one.clone();
        garbage.extend_from_slice(b"junk");
        let err = decode(garbage).unwrap_err().to_string();
        assert_eq!(
            err,
            format!("trailing garbage after gzip data at byte {}", one.len())
        );
        let err = decode(one[..one.len() - 3].to_vec())
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("truncated gzip stream at byte "), "{err}");
        let mut flipped = one.clone();
        flipped[20] ^= 0xff;
        let err = decode(flipped).unwrap_err().to_string();
        assert!(err.starts_with("corrupt gzip stream at byte "), "{err}");
    }

    #[test]
    fn formats_are_told_by_their_magic_bytes() {
        assert_eq!(Compression::detect(&gzip(b"x")), Some(Compression::Gzip));
        assert_eq!(
            Compression::detect(b"\x28\xb5\x2f\xfd\0"),
            Some(Compression::Zstd)
        );
        assert_eq!(Compression::detect(b"BZh91AY&SY"), Some(Compression::Bzip2));
        assert_eq!(Compression::detect(b"BZh9 text!"), None);
        assert_eq!(Compression::detect(b"\xfd7zXZ\0\0"), Some(Compression::Xz));
        assert_eq!(Compression::detect(b"\x1f\x8b"), None);
    }
}
