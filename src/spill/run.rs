//! Spill runs on disk: one append-only file per spilled buffer, holding one
//! segment per partition, each sorted by key.
//!
//! ```text
//! header   "MRLSPILL"  version: u32  partitions: u32
//! segment  record*     (partition 0, then 1, ...)
//! record   len: varint  payload: len bytes (key, then value, as Spill encodes them)
//! footer   per partition: offset u64, length u64, records u64, crc32 u32
//!          records: u64  partitions: u32  crc32 of the footer so far: u32
//!          "MRLSEND1"
//! ```
//!
//! Integers are little-endian. Each segment's CRC-32 covers its bytes; a
//! reader checks it, and the record count, when it reaches the segment's
//! end, and refuses a file whose footer is missing or damaged when it is
//! opened: a truncated or corrupted run fails the job, never passes for
//! data.

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::marker::PhantomData;
use std::path::{Path, PathBuf};

use crate::error::Error;
use crate::spill::codec::{get_varint, put_varint};
use crate::spill::{Codec, Decode};

const MAGIC: &[u8; 8] = b"MRLSPILL";
const END_MAGIC: &[u8; 8] = b"MRLSEND1";
const VERSION: u32 = 1;
const HEADER_LEN: u64 = 16;
const ENTRY_LEN: u64 = 28;
const TAIL_LEN: u64 = 8 + 4 + 4 + 8;
/// Buffer of each segment reader: a merge reads from many at once.
const READ_BUFFER: usize = 32 * 1024;

/// Where one partition's data lies in a run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Segment {
    pub path: PathBuf,
    pub offset: u64,
    pub len: u64,
    pub records: u64,
    pub crc: u32,
}

/// Writes a run, segment by segment: partition 0 first.
pub(crate) struct RunWriter {
    out: BufWriter<File>,
    path: PathBuf,
    offset: u64,
    partitions: usize,
    segments: Vec<Segment>,
    payload: Vec<u8>,
    record: Vec<u8>,
}

impl RunWriter {
    /// Creates the run at `path` (which must not exist) and writes its
    /// header.
    pub fn create(path: &Path, partitions: usize) -> io::Result<RunWriter> {
        let mut out = BufWriter::with_capacity(1 << 20, File::create_new(path)?);
        out.write_all(MAGIC)?;
        out.write_all(&VERSION.to_le_bytes())?;
        out.write_all(&(partitions as u32).to_le_bytes())?;
        Ok(RunWriter {
            out,
            path: path.to_path_buf(),
            offset: HEADER_LEN,
            partitions,
            segments: Vec::with_capacity(partitions),
            payload: Vec::new(),
            record: Vec::new(),
        })
    }

    /// Writes the next partition's segment: `pairs`, sorted by key.
    pub fn segment<K, V>(
        &mut self,
        pairs: impl Iterator<Item = Result<(K, V), Error>>,
        codec: &Codec<K, V>,
    ) -> Result<(), Error> {
        debug_assert!(self.segments.len() < self.partitions);
        let mut crc = crc32fast::Hasher::new();
        let (start, mut records) = (self.offset, 0);
        for pair in pairs {
            let (key, value) = pair?;
            self.payload.clear();
            (codec.encode)(&key, &value, &mut self.payload);
            self.record.clear();
            put_varint(&mut self.record, self.payload.len() as u64);
            self.record.extend_from_slice(&self.payload);
            crc.update(&self.record);
            self.out
                .write_all(&self.record)
                .map_err(|e| Error::io(&self.path, e))?;
            self.offset += self.record.len() as u64;
            records += 1;
        }
        self.segments.push(Segment {
            path: self.path.clone(),
            offset: start,
            len: self.offset - start,
            records,
            crc: crc.finalize(),
        });
        Ok(())
    }

    /// Writes the footer: the run's segments, and its length in bytes.
    pub fn finish(mut self) -> Result<(Vec<Segment>, u64), Error> {
        debug_assert_eq!(self.segments.len(), self.partitions);
        let entries = ENTRY_LEN as usize * self.segments.len();
        let mut footer = Vec::with_capacity(entries + TAIL_LEN as usize);
        for segment in &self.segments {
            footer.extend_from_slice(&segment.offset.to_le_bytes());
            footer.extend_from_slice(&segment.len.to_le_bytes());
            footer.extend_from_slice(&segment.records.to_le_bytes());
            footer.extend_from_slice(&segment.crc.to_le_bytes());
        }
        let records: u64 = self.segments.iter().map(|s| s.records).sum();
        footer.extend_from_slice(&records.to_le_bytes());
        footer.extend_from_slice(&(self.segments.len() as u32).to_le_bytes());
        let crc = crc32fast::hash(&footer);
        footer.extend_from_slice(&crc.to_le_bytes());
        footer.extend_from_slice(END_MAGIC);
        self.out
            .write_all(&footer)
            .and_then(|()| self.out.flush())
            .map_err(|e| Error::io(&self.path, e))?;
        Ok((self.segments, self.offset + footer.len() as u64))
    }
}

/// Writes `parts` (each sorted by key) as a run at `path`; returns its
/// segments, partition by partition, and the bytes written.
pub(crate) fn write<K, V>(
    path: &Path,
    parts: &mut [Vec<(K, V)>],
    codec: &Codec<K, V>,
) -> Result<(Vec<Segment>, u64), Error> {
    let mut run = RunWriter::create(path, parts.len()).map_err(|e| Error::io(path, e))?;
    for part in parts {
        run.segment(std::mem::take(part).into_iter().map(Ok), codec)?;
    }
    run.finish()
}

/// Reads and checks a run's header and footer: its segments, partition by
/// partition.
pub(crate) fn open(path: &Path, partitions: usize) -> Result<Vec<Segment>, Error> {
    let corrupt = |why: &str| {
        Error::io(
            path,
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("corrupt spill run: {why}"),
            ),
        )
    };
    let mut file = File::open(path).map_err(|e| Error::io(path, e))?;
    let len = file.metadata().map_err(|e| Error::io(path, e))?.len();
    let footer_len = ENTRY_LEN * partitions as u64 + TAIL_LEN;
    if len < HEADER_LEN + footer_len {
        return Err(corrupt("truncated (shorter than its header and footer)"));
    }
    let mut header = [0u8; HEADER_LEN as usize];
    file.read_exact(&mut header)
        .map_err(|e| Error::io(path, e))?;
    if &header[..8] != MAGIC || header[8..12] != VERSION.to_le_bytes() {
        return Err(corrupt("not a spill run of this version"));
    }
    let mut footer = vec![0u8; footer_len as usize];
    file.seek(SeekFrom::Start(len - footer_len))
        .and_then(|_| file.read_exact(&mut footer))
        .map_err(|e| Error::io(path, e))?;
    let (body, tail) = footer.split_at(footer.len() - 12);
    if &tail[4..] != END_MAGIC {
        return Err(corrupt("truncated (no footer)"));
    }
    if crc32fast::hash(body) != u32::from_le_bytes(tail[..4].try_into().unwrap_or_default()) {
        return Err(corrupt("footer checksum mismatch"));
    }
    let field = |at: usize, n: usize| -> u64 {
        let mut bytes = [0u8; 8];
        bytes[..n].copy_from_slice(&body[at..at + n]);
        u64::from_le_bytes(bytes)
    };
    let entries = ENTRY_LEN as usize * partitions;
    if field(entries + 8, 4) != partitions as u64 {
        return Err(corrupt("written for another partition count"));
    }
    let mut next = HEADER_LEN;
    let mut segments = Vec::with_capacity(partitions);
    for p in 0..partitions {
        let at = p * ENTRY_LEN as usize;
        let segment = Segment {
            path: path.to_path_buf(),
            offset: field(at, 8),
            len: field(at + 8, 8),
            records: field(at + 16, 8),
            crc: field(at + 24, 4) as u32,
        };
        if segment.offset != next {
            return Err(corrupt("segments out of place"));
        }
        next = segment.offset.saturating_add(segment.len);
        segments.push(segment);
    }
    if next != len - footer_len {
        return Err(corrupt("segments do not fill the file"));
    }
    Ok(segments)
}

/// Reads one segment's pairs, checking its checksum and record count at
/// its end.
pub(crate) struct SegmentReader<K, V> {
    segment: Segment,
    input: BufReader<io::Take<File>>,
    decode: Decode<K, V>,
    crc: crc32fast::Hasher,
    read: u64,
    records: u64,
    payload: Vec<u8>,
    done: bool,
    types: PhantomData<fn() -> (K, V)>,
}

impl<K, V> SegmentReader<K, V> {
    pub fn open(segment: Segment, codec: &Codec<K, V>) -> Result<Self, Error> {
        let mut file = File::open(&segment.path).map_err(|e| Error::io(&segment.path, e))?;
        file.seek(SeekFrom::Start(segment.offset))
            .map_err(|e| Error::io(&segment.path, e))?;
        let input = BufReader::with_capacity(READ_BUFFER, file.take(segment.len));
        Ok(SegmentReader {
            segment,
            input,
            decode: codec.decode,
            crc: crc32fast::Hasher::new(),
            read: 0,
            records: 0,
            payload: Vec::new(),
            done: false,
            types: PhantomData,
        })
    }

    fn corrupt(&self, why: &str) -> Error {
        Error::io(
            &self.segment.path,
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "corrupt spill run at byte {}: {why}",
                    self.segment.offset + self.read
                ),
            ),
        )
    }

    fn next_pair(&mut self) -> Result<Option<(K, V)>, Error> {
        if self.read == self.segment.len {
            if self.records != self.segment.records {
                return Err(self.corrupt("record count mismatch"));
            }
            let crc = std::mem::take(&mut self.crc).finalize();
            if crc != self.segment.crc {
                return Err(self.corrupt("checksum mismatch"));
            }
            return Ok(None);
        }
        let mut prefix = Vec::with_capacity(10);
        let len = loop {
            let mut byte = [0u8];
            self.input
                .read_exact(&mut byte)
                .map_err(|e| self.read_error(e))?;
            prefix.push(byte[0]);
            if byte[0] < 0x80 {
                break get_varint(&mut &prefix[..]).map_err(|_| self.corrupt("bad length"))?;
            }
            if prefix.len() > 10 {
                return Err(self.corrupt("bad length"));
            }
        };
        let remaining = self.segment.len - self.read - prefix.len() as u64;
        if len > remaining {
            return Err(self.corrupt("a record runs past its segment"));
        }
        self.payload.resize(len as usize, 0);
        self.input
            .read_exact(&mut self.payload)
            .map_err(|e| self.read_error(e))?;
        self.crc.update(&prefix);
        self.crc.update(&self.payload);
        self.read += (prefix.len() + self.payload.len()) as u64;
        self.records += 1;
        let mut input = &self.payload[..];
        let pair = (self.decode)(&mut input).map_err(|e| self.corrupt(&e.to_string()))?;
        if !input.is_empty() {
            return Err(self.corrupt("a record longer than its key and value"));
        }
        Ok(Some(pair))
    }

    fn read_error(&self, err: io::Error) -> Error {
        match err.kind() {
            io::ErrorKind::UnexpectedEof => self.corrupt("truncated"),
            _ => Error::io(&self.segment.path, err),
        }
    }
}

impl<K, V> Iterator for SegmentReader<K, V> {
    type Item = Result<(K, V), Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let next = self.next_pair();
        self.done = !matches!(next, Ok(Some(_)));
        next.transpose()
    }
}
