//! Word count's result in count order within the memory budget: an
//! external merge sort.
//!
//! No line of the count order can be written before every count is known,
//! so the result must be held somewhere. Each partition, as reduce makes
//! it, is cut into chunks of at most its thread's share of half the budget;
//! each chunk is sorted by count, in the partition's reduce task, then kept
//! in memory if it fits in what is left of the other half, else written as
//! a run: `count` (u64), `length` (u32)
//! and the word's bytes per pair, little-endian, then a CRC-32 of all that.
//! The runs and the chunks kept in memory are merged k ways into the
//! output, in rounds of at most [`FAN_IN`] runs. Where nothing was written
//! (with the default budget, half of physical memory, as a rule), the
//! caller merges the chunks on every thread instead (`pieces`).

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering as Atomic};

use mr_local::jobs::wordcount::Word;
use mr_local::output::{forget_temporary, register_temporary};
use mr_local::{Error, Job};

type Pair<'d> = (Word<'d>, u64);

/// Buffer of a run being written or read.
const RUN_BUFFER: usize = 1 << 16;

/// Word count's result cut into sorted runs: on disk, or kept in memory.
pub(crate) struct SortedRuns<'d> {
    files: Vec<RunFile>,
    memory: Vec<Vec<Pair<'d>>>,
}

/// How [`SortedRuns::sort`] cuts partitions into chunks.
pub(crate) struct Budget<'a> {
    /// The most a chunk holds, in bytes.
    chunk: usize,
    /// What is left of the budget for the chunks kept in memory.
    left: AtomicUsize,
    tmp_dir: &'a Path,
}

impl Budget<'_> {
    /// Half of `job`'s budget for the chunks being sorted (a share per
    /// thread), half for those kept.
    pub fn of(job: &Job) -> Budget<'_> {
        let half = job.memory() / 2;
        Budget {
            chunk: (half / job.threads().max(1)).max(1),
            left: AtomicUsize::new(half),
            tmp_dir: job.tmp_dir(),
        }
    }

    /// A budget for one partition at a time per thread (part files in
    /// count order): each thread's share of half of `job`'s budget for the
    /// chunk being sorted, as much again for those kept.
    pub fn per_thread(job: &Job) -> Budget<'_> {
        let share = (job.memory() / 2 / job.threads().max(1)).max(1);
        Budget {
            chunk: share,
            left: AtomicUsize::new(share),
            tmp_dir: job.tmp_dir(),
        }
    }

    /// Takes `bytes` from what is left, if that many are.
    fn take(&self, bytes: usize) -> bool {
        self.left
            .fetch_update(Atomic::Relaxed, Atomic::Relaxed, |left| {
                left.checked_sub(bytes)
            })
            .is_ok()
    }
}

/// The bytes a pair holds in memory.
fn size(pair: &Pair<'_>) -> usize {
    std::mem::size_of::<Pair<'_>>() + pair.0.heap_size()
}

impl<'d> SortedRuns<'d> {
    /// Cuts one partition's `pairs` into sorted runs, within `budget`.
    pub fn sort(
        budget: &Budget<'_>,
        pairs: &mut dyn Iterator<Item = Pair<'d>>,
        compare: impl Fn(&Pair<'d>, &Pair<'d>) -> Ordering,
    ) -> Result<SortedRuns<'d>, Error> {
        let mut runs = SortedRuns {
            files: Vec::new(),
            memory: Vec::new(),
        };
        // Sized once where the partition says how many pairs it holds (a
        // partition in memory does), not grown by doubling, which would
        // copy it and touch fresh pages for up to twice its room.
        let most = budget.chunk / std::mem::size_of::<Pair<'_>>();
        let mut chunk = Vec::with_capacity(pairs.size_hint().0.min(most));
        let mut bytes = 0;
        let mut pairs = pairs.peekable();
        while let Some(pair) = pairs.next() {
            bytes += size(&pair);
            chunk.push(pair);
            if bytes < budget.chunk && pairs.peek().is_some() {
                continue;
            }
            // Sorted here, in the partition's reduce task, so that the
            // partitions sort on every thread at once.
            chunk.sort_unstable_by(&compare);
            if budget.take(bytes) {
                chunk.shrink_to_fit();
                runs.memory.push(std::mem::take(&mut chunk));
            } else {
                runs.files.push(RunFile::write(budget.tmp_dir, &chunk)?);
                chunk.clear();
            }
            bytes = 0;
        }
        Ok(runs)
    }

    /// Every partition's sorted chunks, if none went to disk; else the
    /// runs, given back.
    #[allow(clippy::type_complexity)]
    pub fn in_memory(all: Vec<SortedRuns<'d>>) -> Result<Vec<Vec<Pair<'d>>>, Vec<SortedRuns<'d>>> {
        if all.iter().any(|runs| !runs.files.is_empty()) {
            return Err(all);
        }
        Ok(all.into_iter().flat_map(|runs| runs.memory).collect())
    }

    /// Merges every partition's runs into one sequence in `compare`'s
    /// order, handing each pair to `each`.
    ///
    /// # Errors
    ///
    /// A run that cannot be read back whole, or what `each` returns.
    pub fn merge(
        all: Vec<SortedRuns<'d>>,
        tmp_dir: &Path,
        compare: fn(&Pair<'d>, &Pair<'d>) -> Ordering,
        each: &mut dyn FnMut(Pair<'d>) -> Result<(), Error>,
    ) -> Result<(), Error> {
        let mut memory = Vec::new();
        let mut files = Vec::new();
        for runs in all {
            memory.extend(runs.memory);
            files.extend(runs.files);
        }
        // Merged in rounds where they are many, so that open files stay
        // few whatever the budget.
        while files.len() > FAN_IN {
            let group: Vec<RunFile> = files.drain(..FAN_IN).collect();
            let mut merged = RunWriter::create(tmp_dir)?;
            merge_sources(files_of(group)?, compare, &mut |pair| merged.push(&pair))?;
            files.push(merged.finish()?);
        }
        let mut sources = files_of(files)?;
        for chunk in memory {
            sources.push(Source::Memory(chunk.into_iter()));
        }
        merge_sources(sources, compare, each)
    }
}

/// The most runs on disk a merge reads at once.
const FAN_IN: usize = 64;

/// Opens `files` for a merge.
fn files_of<'d>(files: Vec<RunFile>) -> Result<Vec<Source<'d>>, Error> {
    files
        .into_iter()
        .map(|f| Ok(Source::File(f.open()?)))
        .collect()
}

/// Merges `sources`, each in `compare`'s order, handing each pair to
/// `each`.
fn merge_sources<'d>(
    mut sources: Vec<Source<'d>>,
    compare: fn(&Pair<'d>, &Pair<'d>) -> Ordering,
    each: &mut dyn FnMut(Pair<'d>) -> Result<(), Error>,
) -> Result<(), Error> {
    let mut heap = BinaryHeap::with_capacity(sources.len());
    for (i, source) in sources.iter_mut().enumerate() {
        if let Some(pair) = source.next()? {
            heap.push(Head {
                pair,
                source: i,
                compare,
            });
        }
    }
    while let Some(Head { pair, source, .. }) = heap.pop() {
        if let Some(next) = sources[source].next()? {
            heap.push(Head {
                pair: next,
                source,
                compare,
            });
        }
        each(pair)?;
    }
    Ok(())
}

/// The next pair of one source, in a max-heap that pops the first in
/// `compare`'s order.
struct Head<'d> {
    pair: Pair<'d>,
    source: usize,
    compare: fn(&Pair<'d>, &Pair<'d>) -> Ordering,
}

impl Ord for Head<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        // Reversed: the heap pops its greatest. Ties (none: keys are
        // unique) go to the lower source.
        (self.compare)(&other.pair, &self.pair).then(other.source.cmp(&self.source))
    }
}

impl PartialOrd for Head<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Head<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Head<'_> {}

/// Where a merge reads from.
enum Source<'d> {
    Memory(std::vec::IntoIter<Pair<'d>>),
    File(RunReader),
}

impl<'d> Source<'d> {
    fn next(&mut self) -> Result<Option<Pair<'d>>, Error> {
        match self {
            Source::Memory(pairs) => Ok(pairs.next()),
            Source::File(reader) => reader.next(),
        }
    }
}

/// A run on disk, removed when dropped.
struct RunFile {
    path: PathBuf,
    pairs: u64,
}

/// A run being written.
struct RunWriter {
    out: Crc<BufWriter<File>>,
    run: RunFile,
}

impl RunWriter {
    /// Creates a run file in `dir`.
    fn create(dir: &Path) -> Result<RunWriter, Error> {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Atomic::Relaxed);
        let path = dir.join(format!("mr-local-by-count-{}-{n}.tmp", std::process::id()));
        // Registered before it exists, so that Ctrl-C can never leave it.
        register_temporary(&path);
        let run = RunFile { path, pairs: 0 };
        let file = File::create_new(&run.path).map_err(|e| Error::io(&run.path, e))?;
        Ok(RunWriter {
            out: Crc(
                BufWriter::with_capacity(RUN_BUFFER, file),
                crc32fast::Hasher::new(),
            ),
            run,
        })
    }

    /// Appends a pair.
    fn push(&mut self, (word, count): &Pair<'_>) -> Result<(), Error> {
        let written = (|| {
            let len = u32::try_from(word.len()).map_err(|_| io::ErrorKind::InvalidInput)?;
            self.out.write_all(&count.to_le_bytes())?;
            self.out.write_all(&len.to_le_bytes())?;
            self.out.write_all(word)
        })();
        self.run.pairs += 1;
        written.map_err(|e| Error::io(&self.run.path, e))
    }

    /// Ends the run with its checksum.
    fn finish(self) -> Result<RunFile, Error> {
        let RunWriter {
            out: Crc(mut file, crc),
            run,
        } = self;
        file.write_all(&crc.finalize().to_le_bytes())
            .and_then(|()| file.flush())
            .map_err(|e| Error::io(&run.path, e))?;
        Ok(run)
    }
}

impl RunFile {
    /// Writes sorted `pairs` as a run in `dir`.
    fn write(dir: &Path, pairs: &[Pair<'_>]) -> Result<RunFile, Error> {
        let mut run = RunWriter::create(dir)?;
        for pair in pairs {
            run.push(pair)?;
        }
        run.finish()
    }

    /// Opens the run for reading.
    fn open(self) -> Result<RunReader, Error> {
        let file = File::open(&self.path).map_err(|e| Error::io(&self.path, e))?;
        Ok(RunReader {
            input: BufReader::with_capacity(RUN_BUFFER, file),
            crc: crc32fast::Hasher::new(),
            left: self.pairs,
            run: self,
        })
    }
}

impl Drop for RunFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
        forget_temporary(&self.path);
    }
}

/// A writer that keeps a CRC-32 of what goes through it.
struct Crc<W>(W, crc32fast::Hasher);

impl<W: Write> Write for Crc<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.0.write(buf)?;
        self.1.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

/// Reads a run back, checking its CRC at the end.
struct RunReader {
    input: BufReader<File>,
    crc: crc32fast::Hasher,
    left: u64,
    run: RunFile,
}

impl RunReader {
    fn next<'d>(&mut self) -> Result<Option<Pair<'d>>, Error> {
        self.read().map_err(|e| Error::io(&self.run.path, e))
    }

    fn read<'d>(&mut self) -> io::Result<Option<Pair<'d>>> {
        if self.left == 0 {
            let mut stored = [0; 4];
            self.input.read_exact(&mut stored)?;
            if u32::from_le_bytes(stored) != self.crc.clone().finalize() {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "damaged run (checksum mismatch)",
                ));
            }
            return Ok(None);
        }
        self.left -= 1;
        let mut head = [0; 12];
        self.input.read_exact(&mut head)?;
        self.crc.update(&head);
        let count = u64::from_le_bytes(head[..8].try_into().unwrap_or_default());
        let len = u32::from_le_bytes(head[8..].try_into().unwrap_or_default());
        let mut word = vec![0; len as usize];
        self.input.read_exact(&mut word)?;
        self.crc.update(&word);
        Ok(Some((Word::copied(&word), count)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn by_count(a: &Pair<'_>, b: &Pair<'_>) -> Ordering {
        b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0))
    }

    #[test]
    fn runs_on_disk_and_in_memory_merge_in_order() {
        let dir = std::env::temp_dir();
        let words: Vec<Vec<u8>> = (0..3000u32)
            .map(|i| format!("w{}", i * 7919 % 3001).into_bytes())
            .collect();
        let pairs: Vec<Pair<'_>> = words
            .iter()
            .enumerate()
            .map(|(i, w)| (Word::borrowed(w), (i % 17) as u64))
            .collect();
        let mut expected = pairs.clone();
        expected.sort_by(by_count);
        // Two pairs a run (so many runs that they merge in rounds), a few
        // hundred, some kept in memory, one a partition, all in memory.
        for (chunk, left) in [
            (100, 0),
            (2000, 0),
            (2000, 30_000),
            (1 << 20, 0),
            (1 << 30, 1 << 30),
        ] {
            let budget = Budget {
                chunk,
                left: AtomicUsize::new(left),
                tmp_dir: &dir,
            };
            let mut all = Vec::new();
            for part in pairs.chunks(700) {
                all.push(SortedRuns::sort(&budget, &mut part.iter().cloned(), by_count).unwrap());
            }
            let mut got = Vec::new();
            SortedRuns::merge(all, &dir, by_count, &mut |pair| {
                got.push(pair);
                Ok(())
            })
            .unwrap();
            assert!(got == expected, "chunk {chunk}, left {left}");
        }
    }
}
