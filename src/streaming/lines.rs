//! The line format: cutting `key<SEP>value` lines ([`split_key_value`]),
//! reading them one by one or in groups of equal keys
//! ([`KeyValueReader`]), writing them ([`KeyValueWriter`]), and cutting a
//! mapper's input into chunks of whole lines ([`ChunkReader`]).

use std::io::{self, BufRead, BufWriter, Read, Write};

use memchr::memmem;

use super::{Field, Separator, BUFFER_SIZE};

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
pub(super) struct Splitter {
    finder: memmem::Finder<'static>,
    key_fields: usize,
}

impl Splitter {
    pub(super) fn new(separator: &Separator, key_fields: usize) -> Splitter {
        Splitter {
            finder: memmem::Finder::new(separator.as_bytes()).into_owned(),
            key_fields: key_fields.max(1),
        }
    }

    /// Returns (end of the key, start of the value).
    pub(super) fn split(&self, line: &[u8]) -> (usize, usize) {
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
/// line needs no newline (a `\r` ending the input is dropped as well: Hadoop
/// ends a line there, and a line written back with a `\n` after it would
/// read as CRLF). Every line is a record, the empty line included
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
        }
        // Before a `\n`, or at the end of the input.
        if self.line.last() == Some(&b'\r') {
            self.line.pop();
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

    /// Returns the number of lines read so far: after
    /// [`next_value`](Group::next_value), the line number of that value.
    pub fn records(&self) -> u64 {
        self.reader.records
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

/// Writes `key<SEP>value` lines through a large buffer, refusing a pair
/// that would not read back as itself.
///
/// A pair reads back as itself when neither part holds a line break (`\n`
/// or `\r`: Hadoop ends lines at either) and the line, cut as
/// [`split_key_value`] cuts it, gives back the key: a key holding the
/// separator (with one key field) would be cut short on the cluster, so it
/// is an error, not silently wrong output.
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
            out: BufWriter::with_capacity(BUFFER_SIZE, out),
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
        let breaks = memchr::memchr2(b'\n', b'\r', &self.line).is_some();
        if breaks || self.splitter.split(&self.line).0 != key_end {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "key {:?} with value {:?} would not read back with separator {:?}: \
                     keys must not hold the separator, nor keys or values a line break",
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

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use proptest::prelude::*;

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
        let input = b"a\t1\n\n\na\t2\nno separator\nx\t\ty\r\nlast\t9\r";
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

    /// Keys from a small alphabet, so that they repeat; values may hold the
    /// separator.
    fn pairs() -> impl Strategy<Value = Vec<(Vec<u8>, Vec<u8>)>> {
        let key = prop::collection::vec(
            prop::sample::select(vec![b'a', b'b', b' ', 0xff, 0x01]),
            0..3,
        );
        let value =
            prop::collection::vec(prop::sample::select(vec![b'1', b'\t', 0xfe, b'x']), 0..3);
        prop::collection::vec((key, value), 0..30)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        // Written, sorted by line (as `LC_ALL=C sort` does) and read back in
        // groups, pairs come back grouped by key with every value.
        #[test]
        fn written_pairs_read_back_in_groups(pairs in pairs()) {
            let mut out = Vec::new();
            let mut writer = KeyValueWriter::new(&mut out, Separator::tab(), 1);
            for (k, v) in &pairs {
                writer.write(&k[..], &v[..]).unwrap();
            }
            writer.flush().unwrap();
            drop(writer);
            let mut lines: Vec<&[u8]> = out.split_inclusive(|b| *b == b'\n').collect();
            lines.sort();
            let sorted = lines.concat();

            let mut expected: BTreeMap<Vec<u8>, Vec<Vec<u8>>> = BTreeMap::new();
            for (k, v) in pairs {
                expected.entry(k).or_default().push(v);
            }
            let mut reader = KeyValueReader::new(&sorted[..], Separator::tab(), 1);
            let mut got = BTreeMap::new();
            while let Some(mut group) = reader.next_group().unwrap() {
                let key = group.key().to_vec();
                let mut values = Vec::new();
                while let Some(v) = group.next_value().unwrap() {
                    values.push(v.to_vec());
                }
                prop_assert!(got.insert(key, values).is_none(), "a key came in two groups");
            }
            for values in expected.values_mut() {
                values.sort();
            }
            for values in got.values_mut() {
                values.sort();
            }
            prop_assert_eq!(got, expected);
        }
    }
}
