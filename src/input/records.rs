//! Input types (the MapReduce paper's §4.4): how a split's bytes divide into
//! the records that `map` sees.
//!
//! Every format answers two questions: where a split may end (so that no
//! record straddles two splits), and where each record in a split begins and
//! ends. Lines are the default; a custom delimiter, fixed-size binary
//! records and whole files are built in; anything else implements
//! [`RecordReader`].

use std::fmt;
use std::num::NonZeroUsize;
use std::ops::Range;
use std::sync::Arc;

use memchr::memchr;

use crate::error::BoxError;

/// How input bytes divide into records.
///
/// By default ([`Records::lines`]) a record is a line without its `\n` (and
/// without a `\r` before it).
///
/// # Example
///
/// Count the 4-byte records of a binary input whose first byte is zero:
///
/// ```
/// use mr_local::{Emit, Inputs, Job, Records};
///
/// let mut inputs = Inputs::new();
/// inputs.push_bytes("data.bin", [0u8, 1, 2, 3, 0, 9, 9, 9, 7, 7, 7, 7]);
/// let job = Job::builder().records(Records::fixed(4)).build()?;
/// let out = job.map_reduce(
///     &inputs,
///     |record: &[u8], out: &mut Emit<bool, u64>| {
///         assert_eq!(record.len(), 4);
///         out.emit(record[0] == 0, 1);
///         Ok(())
///     },
///     |a, b| *a += b,
/// )?;
/// let mut counts = out.into_vec();
/// counts.sort();
/// assert_eq!(counts, [(false, 1), (true, 2)]);
/// # Ok::<(), mr_local::Error>(())
/// ```
#[derive(Clone, Default)]
pub struct Records(pub(crate) Format);

#[derive(Clone, Default)]
pub(crate) enum Format {
    #[default]
    Lines,
    Delimited(u8),
    Fixed(NonZeroUsize),
    WholeFile,
    Custom(Arc<dyn RecordReader>),
}

impl Records {
    /// Lines: records end with `\n`, which the record does not include, nor
    /// a `\r` just before it. The last line of a file needs no `\n`. This is
    /// the default.
    pub fn lines() -> Records {
        Records(Format::Lines)
    }

    /// Records that end with `delimiter`, which the record does not include.
    /// The last record of a file needs no delimiter. `Records::delimited(b'\0')`
    /// reads the output of `find -print0`. `delimited(b'\n')` differs from
    /// [`Records::lines`]: a `\r` before the `\n` stays in the record, as
    /// `sort` and `grep` see lines.
    ///
    /// # Example
    ///
    /// ```
    /// use mr_local::Records;
    ///
    /// let records = Records::delimited(b'\0');
    /// assert_eq!(format!("{records:?}"), r"Records::delimited(b'\x00')");
    /// ```
    pub fn delimited(delimiter: u8) -> Records {
        Records(Format::Delimited(delimiter))
    }

    /// Fixed-size binary records of `size` bytes each, counted from the
    /// start of each file. A file whose length is not a multiple of `size`
    /// ends in a bad record: the job fails on it, or skips it when skipping
    /// bad records is enabled.
    ///
    /// # Panics
    ///
    /// If `size` is zero.
    pub fn fixed(size: usize) -> Records {
        let size = NonZeroUsize::new(size).expect("Records::fixed: record size must be non-zero");
        Records(Format::Fixed(size))
    }

    /// One record per file: the whole file. `map` learns which file from
    /// [`Emit::path`](crate::Emit::path). Files are never cut, so one large
    /// file is one map task. An empty file has no record.
    pub fn whole_file() -> Records {
        Records(Format::WholeFile)
    }

    /// Records as a user-defined [`RecordReader`] finds them.
    pub fn custom(reader: impl RecordReader + 'static) -> Records {
        Records(Format::Custom(Arc::new(reader)))
    }

    /// The delimiter that ends a record, for formats that have one.
    pub(crate) fn delimiter(&self) -> Option<u8> {
        match self.0 {
            Format::Lines => Some(b'\n'),
            Format::Delimited(d) => Some(d),
            _ => None,
        }
    }

    /// Returns true if a stream of records of this format can be cut into
    /// chunks as it is read, without knowing where it ends: lines, a
    /// delimiter, fixed-size records.
    pub(crate) fn streams(&self) -> bool {
        matches!(
            self.0,
            Format::Lines | Format::Delimited(_) | Format::Fixed(_)
        )
    }

    /// Where the last whole record of `bytes`, a stream's beginning, ends;
    /// `None` if no record ends in it past `scanned` (a count of bytes
    /// already known to hold none).
    pub(crate) fn cut(&self, bytes: &[u8], scanned: usize) -> Option<usize> {
        match &self.0 {
            Format::Fixed(size) => Some(bytes.len() / size.get() * size.get()).filter(|&n| n > 0),
            _ => {
                let delimiter = self.delimiter()?;
                memchr::memrchr(delimiter, &bytes[scanned..]).map(|at| scanned + at + 1)
            }
        }
    }

    /// Where the record that goes on from the last `carried` bytes of a
    /// stream (after a record's end) ends in `bytes`, which follow them;
    /// `None` if it does not end in `bytes`. For formats that stream.
    pub(crate) fn first_end(&self, carried: usize, bytes: &[u8]) -> Option<usize> {
        match &self.0 {
            Format::Fixed(size) => {
                let rest = (size.get() - carried % size.get()) % size.get();
                (rest <= bytes.len()).then_some(rest)
            }
            _ => memchr(self.delimiter()?, bytes).map(|at| at + 1),
        }
    }

    /// Where a split of `file` that starts at `start` ends: at the first
    /// record boundary at least `split_size` bytes on, or at the file's end.
    /// Always after `start`, so that planning makes progress.
    pub(crate) fn split_end(&self, file: &[u8], start: usize, split_size: usize) -> usize {
        let target = start.saturating_add(split_size.max(1) - 1);
        if target >= file.len() {
            return file.len();
        }
        match &self.0 {
            Format::Lines | Format::Delimited(_) => {
                let delimiter = self.delimiter().unwrap_or(b'\n');
                match memchr(delimiter, &file[target..]) {
                    Some(at) => target + at + 1,
                    None => file.len(),
                }
            }
            Format::Fixed(size) => (target + 1).next_multiple_of(size.get()).min(file.len()),
            Format::WholeFile => file.len(),
            Format::Custom(reader) => reader
                .boundary(file, target + 1)
                .clamp(target + 1, file.len()),
        }
    }
}

impl fmt::Debug for Records {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Format::Lines => f.write_str("Records::lines()"),
            Format::Delimited(d) => {
                write!(f, "Records::delimited(b'{}')", d.escape_ascii())
            }
            Format::Fixed(size) => write!(f, "Records::fixed({size})"),
            Format::WholeFile => f.write_str("Records::whole_file()"),
            Format::Custom(_) => f.write_str("Records::custom(..)"),
        }
    }
}

/// A user-defined input format: finds the records in a split.
///
/// The engine cuts files into splits only where [`boundary`] allows, and
/// calls [`read`] from the start of each split, then from wherever the
/// previous record said the next one starts.
///
/// [`boundary`]: RecordReader::boundary
/// [`read`]: RecordReader::read
///
/// # Example
///
/// Records that carry their length in a one-byte prefix:
///
/// ```
/// use std::ops::Range;
///
/// use mr_local::{BoxError, Emit, Inputs, Job, RecordReader, Records};
///
/// struct LengthPrefixed;
///
/// impl RecordReader for LengthPrefixed {
///     fn read(&self, split: &[u8], at: usize) -> Result<(Range<usize>, usize), BoxError> {
///         let len = usize::from(split[at]);
///         let end = at + 1 + len;
///         if end > split.len() {
///             return Err(format!("record of {len} bytes runs past the end").into());
///         }
///         Ok((at + 1..end, end))
///     }
/// }
///
/// let mut inputs = Inputs::new();
/// inputs.push_bytes("in", *b"\x03abc\x01d\x03abc");
/// let job = Job::builder().records(Records::custom(LengthPrefixed)).build()?;
/// let out = job.map_reduce(
///     &inputs,
///     |record: &[u8], out: &mut Emit<Vec<u8>, u64>| {
///         out.emit(record.to_vec(), 1);
///         Ok(())
///     },
///     |a, b| *a += b,
/// )?;
/// let mut counts = out.into_vec();
/// counts.sort();
/// assert_eq!(counts, [(b"abc".to_vec(), 2), (b"d".to_vec(), 1)]);
/// # Ok::<(), mr_local::Error>(())
/// ```
pub trait RecordReader: Send + Sync {
    /// Reads the record that starts at `at` in `split` (`at < split.len()`)
    /// and returns the range of its contents in `split` and where the next
    /// record starts, which must be after `at`.
    ///
    /// # Errors
    ///
    /// A malformed record: the job fails naming the file and the record's
    /// byte offset, or skips the record when skipping bad records is
    /// enabled, going on from the next record's start if the error comes
    /// with one (see [`BadRecord`]), else from the end of the split.
    fn read(&self, split: &[u8], at: usize) -> Result<(Range<usize>, usize), BoxError>;

    /// The first record boundary at or after `at` in `file`, where a split
    /// may end. By default only the end of the file is a boundary, so a
    /// file is never cut, which is right for any format that must be read
    /// from the start.
    fn boundary(&self, file: &[u8], at: usize) -> usize {
        let _ = at;
        file.len()
    }
}

/// An error from a record reader that says where the next record starts, so
/// that skipping the bad record can go on from there.
///
/// # Example
///
/// ```
/// use mr_local::BadRecord;
///
/// let err = BadRecord::new("checksum mismatch", 512);
/// assert_eq!(err.to_string(), "checksum mismatch");
/// assert_eq!(err.next(), 512);
/// ```
#[derive(Debug)]
pub struct BadRecord {
    message: String,
    next: usize,
}

impl BadRecord {
    /// A bad record whose successor starts at `next` (an offset in the split).
    pub fn new(message: impl Into<String>, next: usize) -> BadRecord {
        BadRecord {
            message: message.into(),
            next,
        }
    }

    /// Where the next record starts.
    pub fn next(&self) -> usize {
        self.next
    }
}

impl fmt::Display for BadRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for BadRecord {}

/// A fixed-size format's last record, cut short.
#[derive(Debug)]
pub(crate) struct ShortRecord {
    pub len: usize,
    pub size: usize,
}

impl fmt::Display for ShortRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the last {} bytes are not a whole {}-byte record",
            self.len, self.size
        )
    }
}

impl std::error::Error for ShortRecord {}

/// Strips the `\r` of a CRLF line.
pub(crate) fn trim_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// The record that starts at `at` in `split`: its contents and where the
/// next one starts.
///
/// The mapper's line loop has a faster path of its own for `Lines`; this one
/// serves resuming after a bad record.
pub(crate) fn next_record(
    format: &Format,
    split: &[u8],
    at: usize,
) -> Result<(Range<usize>, usize), BoxError> {
    debug_assert!(at < split.len());
    match format {
        Format::Lines => match memchr(b'\n', &split[at..]) {
            Some(i) => Ok((at..at + trim_cr(&split[at..at + i]).len(), at + i + 1)),
            None => Ok((at..split.len(), split.len())),
        },
        Format::Delimited(d) => {
            let end = memchr(*d, &split[at..]).map_or(split.len(), |i| at + i);
            Ok((at..end, (end + 1).min(split.len())))
        }
        Format::Fixed(size) => {
            let end = at + size.get();
            if end > split.len() {
                return Err(Box::new(ShortRecord {
                    len: split.len() - at,
                    size: size.get(),
                }));
            }
            Ok((at..end, end))
        }
        Format::WholeFile => Ok((at..split.len(), split.len())),
        Format::Custom(reader) => {
            let (content, next) = reader.read(split, at)?;
            if next <= at || next > split.len() || content.end > split.len() {
                return Err(format!(
                    "record reader returned record {content:?} and next start {next} \
                     for a record at {at} in a split of {} bytes",
                    split.len()
                )
                .into());
            }
            Ok((content, next))
        }
    }
}

/// Cuts a split into its records, one at a time: the loop of
/// [`Job::map_combine`](crate::Job::map_combine)'s mapper. Lines and
/// fixed-size records are cut here; other formats, and a short last
/// fixed-size record (which is refused), go through [`next_record`].
pub(crate) struct Cut<'s> {
    format: &'s Format,
    /// The record size, for fixed-size records; else 0.
    fixed: usize,
    split: &'s [u8],
    /// Where the next record starts.
    at: usize,
    newlines: memchr::Memchr<'s>,
}

impl<'s> Cut<'s> {
    pub fn new(format: &'s Format, split: &'s [u8]) -> Self {
        let fixed = match format {
            Format::Fixed(size) => size.get(),
            _ => 0,
        };
        Cut {
            format,
            fixed,
            split,
            at: 0,
            newlines: memchr::memchr_iter(b'\n', split),
        }
    }

    /// Where the next record starts.
    pub fn at(&self) -> usize {
        self.at
    }

    /// The next record's content and where the record after it starts, or
    /// `None` at the end of the split.
    #[inline]
    pub fn next_record(&mut self) -> Result<Option<(Range<usize>, usize)>, BoxError> {
        let (at, len) = (self.at, self.split.len());
        if at >= len {
            return Ok(None);
        }
        // A whole fixed-size record: the size was read once, up front.
        if self.fixed != 0 && self.fixed <= len - at {
            self.at = at + self.fixed;
            return Ok(Some((at..self.at, self.at)));
        }
        let (content, next) = match self.format {
            Format::Lines => match self.newlines.next() {
                Some(end) => (at..at + trim_cr(&self.split[at..end]).len(), end + 1),
                None => (at..len, len),
            },
            format => next_record(format, self.split, at)?,
        };
        self.at = next;
        Ok(Some((content, next)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(format: &Records, split: &[u8]) -> Result<Vec<Vec<u8>>, String> {
        let mut at = 0;
        let mut out = Vec::new();
        while at < split.len() {
            let (content, next) = next_record(&format.0, split, at).map_err(|e| e.to_string())?;
            out.push(split[content].to_vec());
            at = next;
        }
        Ok(out)
    }

    #[test]
    fn lines_drop_newlines_and_carriage_returns() {
        let got = records(&Records::lines(), b"a\r\nb\n\nc\r").unwrap();
        assert_eq!(got, [&b"a"[..], b"b", b"", b"c\r"]);
        assert_eq!(trim_cr(b"\r"), b"");
        assert_eq!(trim_cr(b"a\rb"), b"a\rb");
    }

    #[test]
    fn delimited_records_keep_everything_but_the_delimiter() {
        let got = records(&Records::delimited(b'\0'), b"a\r\0b\0\0c").unwrap();
        assert_eq!(got, [&b"a\r"[..], b"b", b"", b"c"]);
        let got = records(&Records::delimited(b'\n'), b"a\r\nb").unwrap();
        assert_eq!(got, [&b"a\r"[..], b"b"]);
    }

    #[test]
    fn fixed_records_report_a_short_tail() {
        let got = records(&Records::fixed(2), b"abcd").unwrap();
        assert_eq!(got, [b"ab", b"cd"]);
        let err = records(&Records::fixed(2), b"abcde").unwrap_err();
        assert_eq!(err, "the last 1 bytes are not a whole 2-byte record");
    }

    #[test]
    fn splits_end_on_record_boundaries() {
        let file = b"aaa\nbbb\nccc";
        assert_eq!(Records::lines().split_end(file, 0, 3), 4);
        assert_eq!(Records::lines().split_end(file, 4, 6), 11);
        assert_eq!(Records::fixed(4).split_end(b"0123456789", 0, 5), 8);
        assert_eq!(Records::fixed(4).split_end(b"0123456789", 8, 1), 10);
        assert_eq!(Records::fixed(4).split_end(b"0123456789", 0, 4), 4);
        assert_eq!(Records::fixed(4).split_end(b"0123456789", 4, 1), 8);
        assert_eq!(Records::whole_file().split_end(file, 0, 1), 11);
        assert_eq!(Records::delimited(b'b').split_end(file, 0, 1), 5);
    }

    #[test]
    fn a_reader_that_makes_no_progress_is_an_error() {
        struct Stuck;
        impl RecordReader for Stuck {
            fn read(&self, _: &[u8], at: usize) -> Result<(Range<usize>, usize), BoxError> {
                Ok((at..at, at))
            }
        }
        let err = records(&Records::custom(Stuck), b"xyz").unwrap_err();
        assert!(err.contains("next start 0"), "{err}");
    }
}
