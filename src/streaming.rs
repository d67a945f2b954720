//! Hadoop Streaming: a job's map and reduce sides as executables that talk
//! over stdin and stdout, so the same job runs on Hadoop, Amazon EMR,
//! Dataproc or Spark (`rdd.pipe`) when its data outgrows one machine.
//!
//! The contract, as Hadoop Streaming defines it:
//!
//! - A **mapper** reads raw input lines on stdin and writes
//!   `key<SEP>value` lines on stdout.
//! - The cluster sorts map output by key (bytewise) and hands each reducer
//!   `key<SEP>value` lines in which equal keys are consecutive.
//! - A **reducer** (or a combiner, which has the same shape) folds each run
//!   of equal keys and writes `key<SEP>value` lines.
//! - Counters and status go to stderr as `reporter:counter:GROUP,NAME,N`
//!   and `reporter:status:MESSAGE` lines ([`Reporter`]).
//!
//! What lives here:
//!
//! - [`Config`] and [`Separator`]: the separators and key-field counts,
//!   named after Hadoop's `stream.*` properties.
//! - [`split_key_value`], [`KeyValueReader`] (lines, and groups of
//!   consecutive equal keys), [`KeyValueWriter`]: the line format.
//! - [`Field`]: how keys and values are written as text and parsed back.
//! - [`ChunkReader`]: stdin cut into large chunks of whole lines.
//! - [`run_mapper`], [`run_mapper_with`] and [`run_reducer`]: a whole
//!   streaming mapper or reducer from a job's closures, in a few lines. The
//!   mapper runs the parallel engine on each chunk of its input, combining
//!   within the chunk before it writes, so a cluster's map task is as fast
//!   per core as a local run.
//!
//! # Example
//!
//! A word-count mapper and reducer, run the way a cluster runs them
//! (`map | sort | reduce`), here on byte buffers instead of pipes:
//!
//! ```
//! use mr_local::streaming::{self, Config};
//! use mr_local::{Emit, Job};
//!
//! let config = Config::default();
//! let job = Job::builder().threads(2).build()?;
//! let mut mapped = Vec::new();
//! streaming::run_mapper(
//!     &job,
//!     &config,
//!     |line: &[u8], out: &mut Emit<Vec<u8>, u64>| {
//!         for word in line.split(|b| *b == b' ').filter(|w| !w.is_empty()) {
//!             out.emit(word.to_vec(), 1);
//!         }
//!         Ok(())
//!     },
//!     |total, n| *total += n,
//!     &b"b a\na a\n"[..],
//!     &mut mapped,
//!     std::io::sink(),
//! )?;
//!
//! // The cluster's sort.
//! let mut lines: Vec<&[u8]> = mapped.split_inclusive(|b| *b == b'\n').collect();
//! lines.sort();
//!
//! let mut reduced = Vec::new();
//! streaming::run_reducer(
//!     &config,
//!     |total: &mut u64, n| *total += n,
//!     &lines.concat()[..],
//!     &mut reduced,
//!     std::io::sink(),
//! )?;
//! assert_eq!(reduced, b"a\t3\nb\t1\n");
//! # Ok::<(), mr_local::Error>(())
//! ```

use std::fmt;
use std::hash::Hash;
use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};

use memchr::memmem;

use crate::error::{BoxError, Error};
use crate::input::Inputs;
use crate::job::Job;
use crate::jobs::wordcount::Word;
use crate::map::{Emit, FnMapper, Mapper};

/// The size of the chunks a streaming mapper cuts its input into, by
/// default: large enough that the engine's threads have work to share, small
/// enough to hold in memory twice over.
pub const DEFAULT_CHUNK_SIZE: usize = 64 * 1024 * 1024;

/// Capacity of the writers' buffers: a reducer's output is many short lines.
const WRITE_BUFFER: usize = 1 << 20;

/// The counter group of the counters this module reports.
pub const COUNTER_GROUP: &str = "mr-local";

/// A field separator: non-empty, without `\n` or `\r`.
///
/// By default, a tab, as in Hadoop.
///
/// # Example
///
/// ```
/// use mr_local::streaming::Separator;
///
/// assert_eq!(Separator::default().as_bytes(), b"\t");
/// assert_eq!(Separator::new("::").unwrap().as_bytes(), b"::");
/// assert!(Separator::new("").is_none());
/// assert!(Separator::new("a\nb").is_none());
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Separator(Box<[u8]>);

impl Separator {
    /// A separator of `bytes`, or `None` if they are empty or hold a line
    /// break (a separator cannot cross lines).
    pub fn new(bytes: impl Into<Vec<u8>>) -> Option<Separator> {
        let bytes = bytes.into();
        let valid = !bytes.is_empty() && !bytes.iter().any(|&b| b == b'\n' || b == b'\r');
        valid.then(|| Separator(bytes.into_boxed_slice()))
    }

    /// A tab, Hadoop's default.
    pub fn tab() -> Separator {
        Separator(Box::new(*b"\t"))
    }

    /// Returns the separator's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl Default for Separator {
    fn default() -> Separator {
        Separator::tab()
    }
}

impl fmt::Debug for Separator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Separator({:?})", String::from_utf8_lossy(&self.0))
    }
}

/// Separators and key-field counts of a streaming job, named after
/// Hadoop's `stream.*` properties, and the mapper's chunk size.
///
/// A line is cut into key and value at the `N`th occurrence of its
/// separator (`N` = the key fields, 1 unless told otherwise); a line with
/// fewer occurrences is all key, with an empty value ([`split_key_value`]).
/// A key-field count of 0 is taken as 1.
///
/// By default every separator is a tab and every key is one field.
///
/// # Example
///
/// Hadoop's `-D stream.map.output.field.separator=. -D
/// stream.num.map.output.key.fields=2`:
///
/// ```
/// use mr_local::streaming::{Config, Separator};
///
/// let mut config = Config::default();
/// config.map_output = Separator::new(".").unwrap();
/// config.map_output_key_fields = 2;
/// assert_eq!(config.reduce_input, Separator::tab());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Config {
    /// Between key and value in the mapper's output:
    /// `stream.map.output.field.separator`.
    pub map_output: Separator,
    /// Fields in a map output key: `stream.num.map.output.key.fields`.
    pub map_output_key_fields: usize,
    /// Between key and value in the reducer's (and the combiner's) input:
    /// `stream.reduce.input.field.separator`.
    pub reduce_input: Separator,
    /// Fields in a reduce input key. Hadoop has no property for it: it
    /// matters only when the reduce input separator also occurs inside
    /// keys, as when it equals a map output separator used with several
    /// key fields.
    pub reduce_input_key_fields: usize,
    /// Between key and value in the reducer's output:
    /// `stream.reduce.output.field.separator`.
    pub reduce_output: Separator,
    /// Fields in a reduce output key: `stream.num.reduce.output.key.fields`.
    pub reduce_output_key_fields: usize,
    /// Bytes of input the mapper runs the engine on at a time (cut at a
    /// newline; a longer line makes a longer chunk). By default
    /// [`DEFAULT_CHUNK_SIZE`].
    pub chunk_size: usize,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            map_output: Separator::tab(),
            map_output_key_fields: 1,
            reduce_input: Separator::tab(),
            reduce_input_key_fields: 1,
            reduce_output: Separator::tab(),
            reduce_output_key_fields: 1,
            chunk_size: DEFAULT_CHUNK_SIZE,
        }
    }
}

/// Cuts `line` into key and value at the `key_fields`th occurrence of
/// `separator`, as Hadoop does: a line with fewer occurrences is all key,
/// with an empty value. Any bytes are fine: keys need not be UTF-8. A
/// `key_fields` of 0 is taken as 1.
///
/// # Example
///
/// ```
/// use mr_local::streaming::{split_key_value, Separator};
///
/// let tab = Separator::tab();
/// assert_eq!(split_key_value(b"the\t12", &tab, 1), (&b"the"[..], &b"12"[..]));
/// assert_eq!(split_key_value(b"a\tb\tc", &tab, 1), (&b"a"[..], &b"b\tc"[..]));
/// assert_eq!(split_key_value(b"a\tb\tc", &tab, 2), (&b"a\tb"[..], &b"c"[..]));
/// assert_eq!(split_key_value(b"no separator", &tab, 1), (&b"no separator"[..], &b""[..]));
/// assert_eq!(split_key_value(b"", &tab, 1), (&b""[..], &b""[..]));
/// ```
pub fn split_key_value<'l>(
    line: &'l [u8],
    separator: &Separator,
    key_fields: usize,
) -> (&'l [u8], &'l [u8]) {
    let (key_end, value_start) = Splitter::new(separator, key_fields).split(line);
    (&line[..key_end], &line[value_start..])
}

/// Finds where a line's key ends and its value starts.
#[derive(Clone, Debug)]
struct Splitter {
    finder: memmem::Finder<'static>,
    key_fields: usize,
}

impl Splitter {
    fn new(separator: &Separator, key_fields: usize) -> Splitter {
        Splitter {
            finder: memmem::Finder::new(separator.as_bytes()).into_owned(),
            key_fields: key_fields.max(1),
        }
    }

    /// Returns (end of the key, start of the value).
    fn split(&self, line: &[u8]) -> (usize, usize) {
        let len = self.finder.needle().len();
        let mut from = 0;
        for field in 1..=self.key_fields {
            match self.finder.find(&line[from..]) {
                Some(at) if field == self.key_fields => return (from + at, from + at + len),
                Some(at) => from += at + len,
                None => break,
            }
        }
        (line.len(), line.len())
    }
}

/// Reads `key<SEP>value` lines, one record at a time or in groups of
/// consecutive equal keys (a reducer's input).
///
/// Lines end at `\n`; a `\r` before it is dropped too (CRLF), and the last
/// line needs no newline. Every line is a record, the empty line included
/// (an empty key and value); a line is cut as [`split_key_value`] says.
///
/// # Example
///
/// ```
/// use mr_local::streaming::{KeyValueReader, Separator};
///
/// let input = &b"a\t1\na\t2\r\nb\nc\t3"[..];
/// let mut reader = KeyValueReader::new(input, Separator::tab(), 1);
/// let mut groups = Vec::new();
/// while let Some(mut group) = reader.next_group()? {
///     let key = group.key().to_vec();
///     let mut values = Vec::new();
///     while let Some(value) = group.next_value()? {
///         values.push(value.to_vec());
///     }
///     groups.push((key, values));
/// }
/// assert_eq!(groups, [
///     (b"a".to_vec(), vec![b"1".to_vec(), b"2".to_vec()]),
///     (b"b".to_vec(), vec![b"".to_vec()]),
///     (b"c".to_vec(), vec![b"3".to_vec()]),
/// ]);
/// assert_eq!(reader.records(), 4);
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct KeyValueReader<R> {
    input: R,
    splitter: Splitter,
    line: Vec<u8>,
    key_end: usize,
    value_start: usize,
    /// `line` holds a record not yet handed out.
    pending: bool,
    /// The key of the open group, if `in_group`.
    group: Vec<u8>,
    in_group: bool,
    records: u64,
}

impl<R: BufRead> KeyValueReader<R> {
    /// A reader of `input`'s lines, cut at the `key_fields`th `separator`.
    pub fn new(input: R, separator: Separator, key_fields: usize) -> KeyValueReader<R> {
        KeyValueReader {
            input,
            splitter: Splitter::new(&separator, key_fields),
            line: Vec::new(),
            key_end: 0,
            value_start: 0,
            pending: false,
            group: Vec::new(),
            in_group: false,
            records: 0,
        }
    }

    /// Returns the next record as (key, value), or `None` at the end.
    ///
    /// # Errors
    ///
    /// Whatever reading the input returns.
    pub fn read_record(&mut self) -> io::Result<Option<(&[u8], &[u8])>> {
        self.in_group = false;
        if !self.pending && !self.fill()? {
            return Ok(None);
        }
        self.pending = false;
        Ok(Some((
            &self.line[..self.key_end],
            &self.line[self.value_start..],
        )))
    }

    /// Returns the next run of records with equal keys, or `None` at the
    /// end. Values the previous group did not read are skipped.
    ///
    /// Keys are compared as bytes, and only with the record before: the
    /// input must be sorted (or at least grouped) by key, as a cluster's
    /// shuffle leaves it, for each key to come as one group.
    ///
    /// # Errors
    ///
    /// Whatever reading the input returns.
    pub fn next_group(&mut self) -> io::Result<Option<Group<'_, R>>> {
        if self.in_group {
            while self.next_in_group()?.is_some() {}
        }
        if !self.pending && !self.fill()? {
            return Ok(None);
        }
        self.group.clear();
        self.group.extend_from_slice(&self.line[..self.key_end]);
        self.in_group = true;
        Ok(Some(Group { reader: self }))
    }

    /// Returns the number of lines read so far.
    pub fn records(&self) -> u64 {
        self.records
    }

    /// The value of the next record if its key is the open group's.
    fn next_in_group(&mut self) -> io::Result<Option<&[u8]>> {
        if !self.in_group {
            return Ok(None);
        }
        if !self.pending && !self.fill()? {
            self.in_group = false;
            return Ok(None);
        }
        if self.line[..self.key_end] != self.group[..] {
            self.in_group = false;
            return Ok(None);
        }
        self.pending = false;
        Ok(Some(&self.line[self.value_start..]))
    }

    /// Reads the next line into `line`; false at the end of the input.
    fn fill(&mut self) -> io::Result<bool> {
        self.line.clear();
        if self.input.read_until(b'\n', &mut self.line)? == 0 {
            return Ok(false);
        }
        if self.line.last() == Some(&b'\n') {
            self.line.pop();
            if self.line.last() == Some(&b'\r') {
                self.line.pop();
            }
        }
        (self.key_end, self.value_start) = self.splitter.split(&self.line);
        self.pending = true;
        self.records += 1;
        Ok(true)
    }
}

/// Consecutive records with equal keys: see [`KeyValueReader::next_group`].
#[derive(Debug)]
pub struct Group<'r, R> {
    reader: &'r mut KeyValueReader<R>,
}

impl<R: BufRead> Group<'_, R> {
    /// Returns the group's key.
    pub fn key(&self) -> &[u8] {
        &self.reader.group
    }

    /// Returns the next value of the group, or `None` after its last.
    ///
    /// # Errors
    ///
    /// Whatever reading the input returns.
    pub fn next_value(&mut self) -> io::Result<Option<&[u8]>> {
        self.reader.next_in_group()
    }
}

/// A key or value as it appears in a streaming line: how it is written as
/// text.
///
/// Implemented for the integer and float types (decimal, as `Display` has
/// them), `String` and `str`, `Vec<u8>` and `[u8]` (any bytes) and word
/// count's [`Word`]. A reducer parses values back with [`FromField`].
///
/// # Example
///
/// ```
/// use mr_local::streaming::Field;
///
/// let mut line = Vec::new();
/// 42u64.write_field(&mut line);
/// "cat".write_field(&mut line);
/// assert_eq!(line, b"42cat");
/// ```
pub trait Field {
    /// Appends the field's text to `out`.
    fn write_field(&self, out: &mut Vec<u8>);
}

/// A value a reducer can parse back from a streaming line.
///
/// Implemented for the integer and float types (as `FromStr` parses them:
/// no spaces), `String` (valid UTF-8 only), `Vec<u8>` and [`Word`] (any
/// bytes).
///
/// # Example
///
/// ```
/// use mr_local::streaming::FromField;
///
/// assert_eq!(u64::from_field(b"42"), Some(42));
/// assert_eq!(u64::from_field(b"4x2"), None);
/// assert_eq!(u64::from_field(b""), None);
/// assert_eq!(String::from_field(b"\xff"), None);
/// ```
pub trait FromField: Field + Sized {
    /// Parses a field, or returns `None` if `bytes` are not one.
    fn from_field(bytes: &[u8]) -> Option<Self>;
}

macro_rules! display_fields {
    ($($t:ty),*) => {$(
        impl Field for $t {
            fn write_field(&self, out: &mut Vec<u8>) {
                // Writing to a Vec cannot fail.
                let _ = write!(out, "{self}");
            }
        }

        impl FromField for $t {
            fn from_field(bytes: &[u8]) -> Option<$t> {
                std::str::from_utf8(bytes).ok()?.parse().ok()
            }
        }
    )*};
}

display_fields!(u8, u16, u32, u64, u128, usize, i8, i16, i32, i64, i128, isize, f32, f64);

impl Field for str {
    fn write_field(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.as_bytes());
    }
}

impl Field for String {
    fn write_field(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.as_bytes());
    }
}

impl FromField for String {
    fn from_field(bytes: &[u8]) -> Option<String> {
        String::from_utf8(bytes.to_vec()).ok()
    }
}

impl Field for [u8] {
    fn write_field(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self);
    }
}

impl Field for Vec<u8> {
    fn write_field(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self);
    }
}

impl FromField for Vec<u8> {
    fn from_field(bytes: &[u8]) -> Option<Vec<u8>> {
        Some(bytes.to_vec())
    }
}

impl Field for Word<'_> {
    fn write_field(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.as_bytes());
    }
}

impl FromField for Word<'_> {
    fn from_field(bytes: &[u8]) -> Option<Self> {
        Some(Word::copied(bytes))
    }
}

/// Writes `key<SEP>value` lines through a large buffer, refusing a pair
/// that would not read back as itself.
///
/// A pair reads back as itself when neither part holds a newline and the
/// line, cut as [`split_key_value`] cuts it, gives back the key: a key
/// holding the separator (with one key field) would be cut short on the
/// cluster, so it is an error, not silently wrong output.
///
/// # Example
///
/// ```
/// use mr_local::streaming::{KeyValueWriter, Separator};
///
/// let mut out = Vec::new();
/// let mut writer = KeyValueWriter::new(&mut out, Separator::new(",").unwrap(), 1);
/// writer.write(&b"the"[..], &12u64)?;
/// writer.write("cat", "3")?;
/// assert!(writer.write("a,b", &1u64).is_err());
/// writer.flush()?;
/// drop(writer);
/// assert_eq!(out, b"the,12\ncat,3\n");
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct KeyValueWriter<W: Write> {
    out: BufWriter<W>,
    separator: Separator,
    splitter: Splitter,
    line: Vec<u8>,
}

impl<W: Write> KeyValueWriter<W> {
    /// A writer of lines to `out`, whose keys are `key_fields` fields.
    pub fn new(out: W, separator: Separator, key_fields: usize) -> KeyValueWriter<W> {
        KeyValueWriter {
            out: BufWriter::with_capacity(WRITE_BUFFER, out),
            splitter: Splitter::new(&separator, key_fields),
            separator,
            line: Vec::new(),
        }
    }

    /// Writes one `key<SEP>value` line.
    ///
    /// # Errors
    ///
    /// An error of kind [`io::ErrorKind::InvalidData`] if the line would not
    /// read back as this pair (see the type's docs); otherwise whatever
    /// writing returns.
    pub fn write<K, V>(&mut self, key: &K, value: &V) -> io::Result<()>
    where
        K: Field + ?Sized,
        V: Field + ?Sized,
    {
        self.line.clear();
        key.write_field(&mut self.line);
        let key_end = self.line.len();
        self.line.extend_from_slice(self.separator.as_bytes());
        value.write_field(&mut self.line);
        if self.splitter.split(&self.line).0 != key_end || self.line.contains(&b'\n') {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "key {:?} with value {:?} would not read back with separator {:?}: \
                     keys must not hold the separator, nor keys or values a newline",
                    String::from_utf8_lossy(&self.line[..key_end]),
                    String::from_utf8_lossy(&self.line[key_end + self.separator.0.len()..]),
                    String::from_utf8_lossy(self.separator.as_bytes()),
                ),
            ));
        }
        self.line.push(b'\n');
        self.out.write_all(&self.line)
    }

    /// Writes out what is buffered.
    ///
    /// # Errors
    ///
    /// Whatever writing returns.
    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// Reports counters and status to a streaming cluster, in the lines
/// Hadoop reads on a task's stderr.
///
/// A counter line adds its amount to the cluster's counter, so report
/// increments, not totals. Commas and line breaks in names, which the line
/// format cannot carry, become spaces.
///
/// # Example
///
/// ```
/// use mr_local::streaming::Reporter;
///
/// let mut reporter = Reporter::new(Vec::new());
/// reporter.counter("wordcount", "bad records", 2)?;
/// reporter.status("read 64 MiB\nof input")?;
/// assert_eq!(
///     String::from_utf8(reporter.into_inner()).unwrap(),
///     "reporter:counter:wordcount,bad records,2\nreporter:status:read 64 MiB of input\n",
/// );
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct Reporter<W> {
    out: W,
}

impl<W: Write> Reporter<W> {
    /// A reporter writing to `out`, usually `std::io::stderr()`.
    pub fn new(out: W) -> Reporter<W> {
        Reporter { out }
    }

    /// Adds `amount` to the counter `name` of `group`.
    ///
    /// # Errors
    ///
    /// Whatever writing returns.
    pub fn counter(&mut self, group: &str, name: &str, amount: u64) -> io::Result<()> {
        let clean = |s: &str| s.replace([',', '\n', '\r'], " ");
        let line = format!(
            "reporter:counter:{},{},{amount}\n",
            clean(group),
            clean(name)
        );
        self.out.write_all(line.as_bytes())?;
        self.out.flush()
    }

    /// Sets the task's status message.
    ///
    /// # Errors
    ///
    /// Whatever writing returns.
    pub fn status(&mut self, message: &str) -> io::Result<()> {
        let line = format!("reporter:status:{}\n", message.replace(['\n', '\r'], " "));
        self.out.write_all(line.as_bytes())?;
        self.out.flush()
    }

    /// Returns the underlying writer.
    pub fn into_inner(self) -> W {
        self.out
    }
}

/// Cuts a stream into chunks of whole lines, each about `chunk_size`
/// bytes: the mapper's unit of work.
///
/// A chunk ends after a newline (or at the end of the input); a line longer
/// than `chunk_size` makes a longer chunk, never two.
///
/// # Example
///
/// ```
/// use mr_local::streaming::ChunkReader;
///
/// let mut chunks = ChunkReader::new(&b"one\ntwo\nthree"[..], 5);
/// assert_eq!(chunks.next_chunk()?, Some((0, b"one\n".to_vec())));
/// assert_eq!(chunks.next_chunk()?, Some((4, b"two\n".to_vec())));
/// assert_eq!(chunks.next_chunk()?, Some((8, b"three".to_vec())));
/// assert_eq!(chunks.next_chunk()?, None);
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct ChunkReader<R> {
    input: R,
    chunk_size: usize,
    carry: Vec<u8>,
    offset: u64,
    done: bool,
}

impl<R: Read> ChunkReader<R> {
    /// A reader of `input` in chunks of about `chunk_size` bytes (at least
    /// 1).
    pub fn new(input: R, chunk_size: usize) -> ChunkReader<R> {
        ChunkReader {
            input,
            chunk_size: chunk_size.max(1),
            carry: Vec::new(),
            offset: 0,
            done: false,
        }
    }

    /// Returns the next chunk with its offset in the stream, or `None` at
    /// the end.
    ///
    /// # Errors
    ///
    /// Whatever reading the input returns.
    pub fn next_chunk(&mut self) -> io::Result<Option<(u64, Vec<u8>)>> {
        let mut chunk = std::mem::take(&mut self.carry);
        // Bytes of `chunk` known to hold no newline.
        let mut scanned = 0;
        let mut target = self.chunk_size;
        while !self.done {
            if chunk.len() < target {
                let want = target - chunk.len();
                chunk.reserve(want);
                let got = (&mut self.input)
                    .take(want as u64)
                    .read_to_end(&mut chunk)?;
                if got < want {
                    self.done = true;
                    break;
                }
            }
            if let Some(at) = memchr::memrchr(b'\n', &chunk[scanned..]) {
                self.carry = chunk[scanned + at + 1..].to_vec();
                chunk.truncate(scanned + at + 1);
                break;
            }
            scanned = chunk.len();
            target = chunk.len() + self.chunk_size;
        }
        if chunk.is_empty() {
            return Ok(None);
        }
        let offset = self.offset;
        self.offset += chunk.len() as u64;
        Ok(Some((offset, chunk)))
    }
}

/// Runs a streaming mapper made of closures: reads `input` in chunks
/// ([`Config::chunk_size`]), maps and combines each chunk on `job`'s pool
/// ([`Job::map_reduce`]), and writes the combined pairs as
/// `key<SEP>value` lines ([`Config::map_output`]) to `output`, in no
/// particular order.
///
/// Each chunk's counts go to `stderr` as counters of the group
/// [`COUNTER_GROUP`] (`map input records`, `map output records`,
/// `combine output records`, and the map closures' own, from
/// [`Emit::counter`]), with a status line.
///
/// See [`run_mapper_with`] for a [`Mapper`] implementation instead of a
/// closure; the module's docs have an example.
///
/// # Errors
///
/// An error reading `input` or writing `output` or `stderr` (named
/// `<stdin>`, `<stdout>` and `<stderr>`), a pair that would not read back
/// ([`KeyValueWriter::write`]), or the first error of `map`.
///
/// # Panics
///
/// A panic in `map` or `combine` is passed on to the caller.
pub fn run_mapper<K, V, M, C>(
    job: &Job,
    config: &Config,
    map: M,
    combine: C,
    input: impl Read,
    output: impl Write,
    stderr: impl Write,
) -> Result<(), Error>
where
    K: Field + Hash + Eq + Send + Sync + 'static,
    V: Field + Send,
    M: for<'d> Fn(&'d [u8], &mut Emit<'_, K, V>) -> Result<(), BoxError> + Sync,
    C: Fn(&mut V, V) + Sync,
{
    run_mapper_with(
        job,
        config,
        &FnMapper::new(map),
        combine,
        input,
        output,
        stderr,
    )
}

/// Like [`run_mapper`], with a [`Mapper`] implementation, whose keys may
/// borrow from the input (each chunk's keys are written before the next
/// chunk is read).
///
/// # Errors
///
/// As for [`run_mapper`].
///
/// # Example
///
/// The built-in word count as a streaming mapper:
///
/// ```
/// use mr_local::jobs::wordcount::WordCount;
/// use mr_local::streaming::{self, Config};
/// use mr_local::Job;
///
/// let job = Job::builder().threads(2).build()?;
/// let mut out = Vec::new();
/// let input = &b"The cat; the CAT!\n"[..];
/// streaming::run_mapper_with(
///     &job,
///     &Config::default(),
///     &WordCount::default(),
///     |total, n| *total += n,
///     input,
///     &mut out,
///     std::io::sink(),
/// )?;
/// let mut lines: Vec<&[u8]> = out.split(|b| *b == b'\n').collect();
/// lines.sort();
/// assert_eq!(lines, [&b""[..], b"cat\t2", b"the\t2"]);
/// # Ok::<(), mr_local::Error>(())
/// ```
pub fn run_mapper_with<M, V, C>(
    job: &Job,
    config: &Config,
    mapper: &M,
    combine: C,
    input: impl Read,
    output: impl Write,
    stderr: impl Write,
) -> Result<(), Error>
where
    M: for<'d> Mapper<'d, Value = V>,
    for<'d> <M as Mapper<'d>>::Key: Field,
    V: Field,
    C: Fn(&mut V, V) + Sync,
{
    let mut chunks = ChunkReader::new(input, config.chunk_size);
    let mut writer = KeyValueWriter::new(
        output,
        config.map_output.clone(),
        config.map_output_key_fields,
    );
    let mut reporter = Reporter::new(stderr);
    let stdout_error = |e| Error::io("<stdout>", e);
    let stderr_error = |e| Error::io("<stderr>", e);
    while let Some((offset, bytes)) = chunks.next_chunk().map_err(|e| Error::io("<stdin>", e))? {
        let mut inputs = Inputs::new();
        let len = bytes.len();
        inputs.push_bytes(format!("<stdin> from byte {offset}"), bytes);
        let result = job.map_reduce_with(&inputs, mapper, &combine)?;
        for (key, value) in result.partitions().iter().flatten() {
            writer.write(key, value).map_err(stdout_error)?;
        }
        let counters = result.counters();
        let counts = [
            ("map input records", counters.records),
            ("map output records", counters.map_output_records),
            ("combine output records", result.len() as u64),
        ];
        let user = counters.user_counters.iter().map(|(k, v)| (*k, *v));
        for (name, n) in counts.into_iter().chain(user) {
            reporter
                .counter(COUNTER_GROUP, name, n)
                .map_err(stderr_error)?;
        }
        reporter
            .status(&format!("mapped {} bytes", offset + len as u64))
            .map_err(stderr_error)?;
    }
    writer.flush().map_err(stdout_error)
}

/// What [`run_reducer`] read and wrote.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReduceCounts {
    /// Lines read.
    pub records: u64,
    /// Groups of consecutive equal keys.
    pub groups: u64,
    /// Lines whose value did not parse, skipped.
    pub bad_records: u64,
    /// Lines written.
    pub output_records: u64,
}

/// Runs a streaming reducer (or combiner) made of a fold: reads
/// `key<SEP>value` lines from `input` ([`Config::reduce_input`]), folds the
/// values of each run of equal keys with `combine`, and writes one
/// `key<SEP>value` line per run ([`Config::reduce_output`]), in the order
/// of the input.
///
/// A value that does not parse as a `V` ([`FromField::from_field`]) is a bad
/// record: skipped, and counted. So is a line without a separator, which
/// Hadoop reads as all key and an empty value; a key whose values are all
/// bad writes no line. The counts go to `stderr` at the end, as counters of
/// the group [`COUNTER_GROUP`] (`reduce input records`, `reduce input
/// groups`, `bad records`, `reduce output records`), and are returned.
///
/// # Errors
///
/// An error reading `input` or writing `output` or `stderr` (named
/// `<stdin>`, `<stdout>` and `<stderr>`), or a pair that would not read
/// back ([`KeyValueWriter::write`]); a bad record is not an error.
///
/// # Example
///
/// ```
/// use mr_local::streaming::{self, Config};
///
/// let input = &b"a\t1\na\t2\na\tx\nb\t5\nnothing\n"[..];
/// let mut out = Vec::new();
/// let mut err = Vec::new();
/// let counts = streaming::run_reducer(&Config::default(), |a: &mut u64, b| *a += b, input, &mut out, &mut err)?;
/// assert_eq!(out, b"a\t3\nb\t5\n");
/// assert_eq!(counts.bad_records, 2);
/// assert!(String::from_utf8(err).unwrap().contains("reporter:counter:mr-local,bad records,2\n"));
/// # Ok::<(), mr_local::Error>(())
/// ```
pub fn run_reducer<V, C>(
    config: &Config,
    mut combine: C,
    input: impl Read,
    output: impl Write,
    stderr: impl Write,
) -> Result<ReduceCounts, Error>
where
    V: FromField,
    C: FnMut(&mut V, V),
{
    let stdin_error = |e| Error::io("<stdin>", e);
    let mut reader = KeyValueReader::new(
        BufReader::with_capacity(WRITE_BUFFER, input),
        config.reduce_input.clone(),
        config.reduce_input_key_fields,
    );
    let mut writer = KeyValueWriter::new(
        output,
        config.reduce_output.clone(),
        config.reduce_output_key_fields,
    );
    let mut counts = ReduceCounts::default();
    while let Some(mut group) = reader.next_group().map_err(stdin_error)? {
        counts.groups += 1;
        let mut total: Option<V> = None;
        while let Some(value) = group.next_value().map_err(stdin_error)? {
            match (V::from_field(value), &mut total) {
                (None, _) => counts.bad_records += 1,
                (Some(v), Some(total)) => combine(total, v),
                (Some(v), None) => total = Some(v),
            }
        }
        if let Some(total) = total {
            writer
                .write(group.key(), &total)
                .map_err(|e| Error::io("<stdout>", e))?;
            counts.output_records += 1;
        }
    }
    counts.records = reader.records();
    writer.flush().map_err(|e| Error::io("<stdout>", e))?;
    let mut reporter = Reporter::new(stderr);
    for (name, n) in [
        ("reduce input records", counts.records),
        ("reduce input groups", counts.groups),
        ("bad records", counts.bad_records),
        ("reduce output records", counts.output_records),
    ] {
        reporter
            .counter(COUNTER_GROUP, name, n)
            .map_err(|e| Error::io("<stderr>", e))?;
    }
    Ok(counts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn groups(input: &[u8], separator: &str, key_fields: usize) -> Vec<(String, Vec<String>)> {
        let sep = Separator::new(separator).unwrap();
        let mut reader = KeyValueReader::new(input, sep, key_fields);
        let mut out = Vec::new();
        while let Some(mut group) = reader.next_group().unwrap() {
            let key = String::from_utf8_lossy(group.key()).into_owned();
            let mut values = Vec::new();
            while let Some(v) = group.next_value().unwrap() {
                values.push(String::from_utf8_lossy(v).into_owned());
            }
            out.push((key, values));
        }
        out
    }

    fn g(key: &str, values: &[&str]) -> (String, Vec<String>) {
        (
            key.to_string(),
            values.iter().map(|v| v.to_string()).collect(),
        )
    }

    #[test]
    fn lines_follow_hadoops_rules() {
        let input = b"a\t1\n\n\na\t2\nno separator\nx\t\ty\r\nlast\t9";
        assert_eq!(
            groups(input, "\t", 1),
            [
                g("a", &["1"]),
                g("", &["", ""]),
                g("a", &["2"]),
                g("no separator", &[""]),
                g("x", &["\ty"]),
                g("last", &["9"]),
            ]
        );
        assert_eq!(
            groups(b"a::b::1\na::b::2\na::c\n", "::", 2),
            [g("a::b", &["1", "2"]), g("a::c", &[""])]
        );
        assert!(groups(b"", "\t", 1).is_empty());
    }

    #[test]
    fn unread_values_are_skipped_by_the_next_group() {
        let mut reader = KeyValueReader::new(&b"a\t1\na\t2\na\t3\nb\t4\n"[..], Separator::tab(), 1);
        let mut group = reader.next_group().unwrap().unwrap();
        assert_eq!(group.next_value().unwrap(), Some(&b"1"[..]));
        let mut group = reader.next_group().unwrap().unwrap();
        assert_eq!(group.key(), b"b");
        assert_eq!(group.next_value().unwrap(), Some(&b"4"[..]));
        assert_eq!(group.next_value().unwrap(), None);
        assert!(reader.next_group().unwrap().is_none());
        assert_eq!(reader.records(), 4);
    }

    #[test]
    fn invalid_utf8_keys_are_bytes() {
        let mut out = Vec::new();
        let counts = run_reducer(
            &Config::default(),
            |a: &mut u64, b| *a += b,
            &b"\xff\xfe\t1\n\xff\xfe\t2\n\xff\t\xff\n"[..],
            &mut out,
            io::sink(),
        )
        .unwrap();
        assert_eq!(out, b"\xff\xfe\t3\n");
        assert_eq!(counts.bad_records, 1);
        assert_eq!(counts.groups, 2);
    }

    #[test]
    fn chunks_cut_at_newlines_whatever_the_size() {
        let text = b"a\nbb\n\nccc dd\neeeeeeeeeeeeee\nf";
        for size in 1..text.len() + 2 {
            let mut reader = ChunkReader::new(&text[..], size);
            let mut joined = Vec::new();
            while let Some((offset, chunk)) = reader.next_chunk().unwrap() {
                assert_eq!(offset as usize, joined.len());
                assert!(!chunk.is_empty());
                let last = offset as usize + chunk.len() == text.len();
                assert!(last || chunk.ends_with(b"\n"), "size {size}: {chunk:?}");
                joined.extend_from_slice(&chunk);
            }
            assert_eq!(joined, text);
        }
        assert_eq!(ChunkReader::new(&b""[..], 4).next_chunk().unwrap(), None);
    }

    #[test]
    fn mapper_combines_within_and_across_chunks() {
        let job = Job::builder().threads(2).build().unwrap();
        let mut config = Config::default();
        config.chunk_size = 8;
        config.map_output = Separator::new(" = ").unwrap();
        let mut out = Vec::new();
        let mut err = Vec::new();
        run_mapper(
            &job,
            &config,
            |line: &[u8], out: &mut Emit<String, u64>| {
                for w in line.split(|b| *b == b' ').filter(|w| !w.is_empty()) {
                    out.emit(String::from_utf8_lossy(w).into_owned(), 1);
                }
                Ok(())
            },
            |a, b| *a += b,
            &b"x y x\nx\ny y y y y y y\n"[..],
            &mut out,
            &mut err,
        )
        .unwrap();
        let mut lines: Vec<&[u8]> = out.split(|b| *b == b'\n').collect();
        lines.sort();
        // Two chunks: "x y x\nx\n" (cut at its last newline) and the long
        // line, longer than a chunk but never cut.
        assert_eq!(lines, [&b""[..], b"x = 3", b"y = 1", b"y = 7"]);
        let err = String::from_utf8(err).unwrap();
        for line in [
            "reporter:counter:mr-local,map input records,2\n",
            "reporter:counter:mr-local,map output records,4\n",
            "reporter:counter:mr-local,combine output records,2\n",
            "reporter:status:mapped 8 bytes\n",
            "reporter:counter:mr-local,map input records,1\n",
            "reporter:counter:mr-local,map output records,7\n",
        ] {
            assert!(err.contains(line), "{line:?} not in {err}");
        }
        assert!(err.ends_with("reporter:status:mapped 22 bytes\n"), "{err}");
    }

    #[test]
    fn mapper_refuses_keys_holding_the_separator() {
        let job = Job::builder().threads(1).build().unwrap();
        let mut config = Config::default();
        config.map_output = Separator::new(",").unwrap();
        let err = run_mapper(
            &job,
            &config,
            |line: &[u8], out: &mut Emit<Vec<u8>, u64>| {
                out.emit(line.to_vec(), 1);
                Ok(())
            },
            |a, b| *a += b,
            &b"a,b\n"[..],
            io::sink(),
            io::sink(),
        )
        .unwrap_err();
        assert!(
            err.to_string().starts_with("<stdout>: key \"a,b\""),
            "{err}"
        );
    }

    #[test]
    fn map_errors_name_the_chunk() {
        let job = Job::builder().threads(1).build().unwrap();
        let mut config = Config::default();
        config.chunk_size = 4;
        let err = run_mapper(
            &job,
            &config,
            |line: &[u8], _: &mut Emit<Vec<u8>, u64>| {
                if line == b"bad" {
                    return Err("bad line".into());
                }
                Ok(())
            },
            |a, b| *a += b,
            &b"ok\nbad\n"[..],
            io::sink(),
            io::sink(),
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "<stdin> from byte 3: byte 0: map failed: bad line"
        );
    }
}
