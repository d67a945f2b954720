//! Bounded memory: spilling map output to disk and merging it back.
//!
//! - `mod.rs`: the [`Spiller`] that map tasks offer their full buffers to,
//!   and the memory budget it keeps.
//! - `codec`: [`Spill`], how keys and values are written and read.
//! - `run`: the run file format, with its checksums.
//! - `merge`: the k-way merge that reduce runs over a partition's memory
//!   and runs.
//! - `dir`: the spill directory of a job, and the removal of those that
//!   killed processes left behind.
//! - `layer`: [`Spilling`], the layer over any shuffle strategy that
//!   offers full buffers to the spiller before the strategy sees them.
//! - `files`: the [`FileBudget`] of files the merges hold open at once.
//! - `os`: what spilling asks the operating system (process liveness,
//!   descriptor limits).
//!
//! Map output handed to the shuffle stays in memory until reduce. The
//! spiller counts its bytes; once the next buffer would take the total past
//! the budget, that buffer is sorted by key and written as a run instead,
//! by the map task that filled it, while the others go on mapping. Reduce
//! then merges each partition's in-memory pairs with its segment of every
//! run, folding or grouping equal keys as they come out of the merge.

use std::io;
use std::mem::size_of;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock, PoisonError};

use crate::error::{BoxError, Error};
use crate::pairs::Combiner;
use crate::partition::Order;

pub(crate) mod codec;
mod dir;
mod files;
mod layer;
pub(crate) mod merge;
mod os;
pub(crate) mod run;

pub use codec::Spill;
use dir::SpillDir;
use files::Permits;
pub(crate) use files::{in_lanes, FileBudget};
pub(crate) use layer::Spilling;
pub(crate) use run::Segment;

/// Reads one pair from the front of a record.
pub(crate) type Decode<K, V> = fn(&mut &[u8]) -> Result<(K, V), BoxError>;

/// How a run's keys and values are written, read and weighed: `Spill`'s
/// functions, captured where the types are known to be `Spill`.
pub(crate) struct Codec<K, V> {
    pub encode: fn(&K, &V, &mut Vec<u8>),
    pub decode: Decode<K, V>,
    pub size: fn(&K, &V) -> usize,
    pub order: Order<K>,
}

impl<K, V> Clone for Codec<K, V> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<K, V> Copy for Codec<K, V> {}

impl<K: Spill + Ord, V: Spill> Codec<K, V> {
    pub fn new() -> Codec<K, V> {
        Codec {
            encode: |key, value, out| {
                key.encode(out);
                value.encode(out);
            },
            decode: |input| Ok((K::decode(input)?, V::decode(input)?)),
            size: |key, value| size_of::<(K, V)>() + key.heap_size() + value.heap_size(),
            order: K::cmp,
        }
    }
}

/// Where a job's spill runs go, and how much map output it keeps in memory.
#[derive(Clone, Debug)]
pub(crate) struct SpillSettings {
    pub budget: usize,
    pub dir: PathBuf,
    /// Files the merges may hold open at once; by default, what the
    /// descriptor limit leaves free (see [`files::free_files`]).
    pub open_files: Option<usize>,
    /// Merges that may run at once: the pool's threads.
    pub tasks: usize,
}

/// A default memory budget: half the machine's physical memory, or 1 GiB
/// where that cannot be read.
pub(crate) fn default_budget() -> usize {
    let total = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|info| {
            let line = info.lines().find(|l| l.starts_with("MemTotal:"))?;
            let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
            usize::try_from(kib.saturating_mul(1024)).ok()
        });
    total.map_or(1 << 30, |bytes| bytes / 2)
}

/// One map phase's spilling: the budget, the runs written so far, and the
/// first error, which fails the job.
pub(crate) struct Spiller<'s, K, V> {
    codec: Codec<K, V>,
    settings: &'s SpillSettings,
    partitions: usize,
    held: AtomicUsize,
    dir: OnceLock<Result<SpillDir, String>>,
    runs: Mutex<Vec<Vec<Segment>>>,
    failed: Mutex<Option<Error>>,
    spilled_bytes: AtomicU64,
    spilled_records: AtomicU64,
    /// How the merges share the files they may open.
    files: FileBudget,
    /// Files that map tasks writing runs may open at once.
    writers: Permits,
}

impl<'s, K, V> Spiller<'s, K, V> {
    pub fn new(codec: Codec<K, V>, settings: &'s SpillSettings, partitions: usize) -> Self {
        let free = files::free_files(settings.open_files, settings.tasks);
        Spiller {
            files: FileBudget::new(free, settings.tasks),
            writers: Permits::new(free.min(settings.tasks)),
            codec,
            settings,
            partitions,
            held: AtomicUsize::new(0),
            dir: OnceLock::new(),
            runs: Mutex::new(Vec::new()),
            failed: Mutex::new(None),
            spilled_bytes: AtomicU64::new(0),
            spilled_records: AtomicU64::new(0),
        }
    }

    /// Takes `parts` to disk if keeping them would pass the budget; returns
    /// whether it did. If writing fails, the error is kept for
    /// [`Spiller::check`] and the parts are dropped: the job will fail.
    pub fn offer(&self, parts: &mut [Vec<(K, V)>]) -> bool {
        let size = self.codec.size;
        let bytes: usize = parts
            .iter()
            .map(|part| part.iter().map(|(k, v)| size(k, v)).sum::<usize>())
            .sum();
        let fits = self
            .held
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |held| {
                let total = held.saturating_add(bytes);
                (total <= self.settings.budget).then_some(total)
            })
            .is_ok();
        if fits {
            // Kept, they must take no more than counted: a buffer grown by
            // doubling holds up to twice its pairs' room.
            for part in parts.iter_mut() {
                part.shrink_to_fit();
            }
            return false;
        }
        if let Err(err) = self.write(parts) {
            let mut failed = self.failed.lock().unwrap_or_else(PoisonError::into_inner);
            failed.get_or_insert(err);
        }
        true
    }

    fn write(&self, parts: &mut [Vec<(K, V)>]) -> Result<(), Error> {
        let order = self.codec.order;
        for part in parts.iter_mut() {
            part.sort_unstable_by(|a, b| order(&a.0, &b.0));
        }
        let dir = self
            .dir
            .get_or_init(|| SpillDir::create(&self.settings.dir).map_err(|e| e.to_string()))
            .as_ref()
            .map_err(|why| Error::io(&self.settings.dir, io::Error::other(why.clone())))?;
        let path = dir.next_run();
        let permit = self.writers.acquire();
        let (segments, bytes) = run::write(&path, parts, &self.codec)?;
        drop(permit);
        let records: u64 = segments.iter().map(|s| s.records).sum();
        self.spilled_bytes.fetch_add(bytes, Ordering::Relaxed);
        self.spilled_records.fetch_add(records, Ordering::Relaxed);
        self.runs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(segments);
        Ok(())
    }

    /// The first error a spill ran into, if any.
    pub fn check(&self) -> Result<(), Error> {
        match self
            .failed
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        {
            Some(err) => Err(err),
            None => Ok(()),
        }
    }

    /// Ends the map phase: every partition's segments, checked against
    /// their runs' footers, and the spill directory, which removes the
    /// runs when dropped. Runs past the fan-in of the job's
    /// [`FileBudget`] are first merged into fewer, larger ones (folded
    /// with `combiner`, if given), in rounds, so that each reduce task
    /// reads from no more than that many files at once.
    pub fn finish(self, combiner: Option<&Combiner<'_, V>>) -> Result<Spilled<K, V>, Error>
    where
        K: Send,
        V: Send,
    {
        self.check()?;
        let written = self
            .runs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len() as u64;
        let mut runs = self
            .runs
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner);
        let files = self.files;
        if runs.len() > files.fan_in {
            let dir = self.dir.get().and_then(|d| d.as_ref().ok());
            if let Some(dir) = dir {
                runs = merge_runs(runs, dir, &self.codec, combiner, files)?;
            }
        }
        let mut segments: Vec<Vec<Segment>> = vec![Vec::new(); self.partitions];
        for run in runs {
            // Re-read what was written: a run damaged on disk since is
            // refused here, before any of it is merged.
            let path = run.first().map(|s| s.path.clone());
            if let Some(path) = path {
                let footer = run::open(&path, self.partitions)?;
                if footer != run {
                    return Err(Error::io(
                        &path,
                        io::Error::new(
                            io::ErrorKind::InvalidData,
                            "corrupt spill run: footer changed",
                        ),
                    ));
                }
            }
            for (p, segment) in run.into_iter().enumerate() {
                if segment.records > 0 {
                    segments[p].push(segment);
                }
            }
        }
        Ok(Spilled {
            codec: self.codec,
            segments,
            bytes: self.spilled_bytes.into_inner(),
            runs: written,
            records: self.spilled_records.into_inner(),
            files,
            _dir: self.dir.into_inner().and_then(Result::ok),
        })
    }
}

/// Merges `runs` in groups of the budget's fan-in, partition by
/// partition, into new runs, until no more than the fan-in are left, with
/// no more merges at once than the budget's lanes; removes the merged ones.
fn merge_runs<K, V>(
    mut runs: Vec<Vec<Segment>>,
    dir: &SpillDir,
    codec: &Codec<K, V>,
    combiner: Option<&Combiner<'_, V>>,
    files: FileBudget,
) -> Result<Vec<Vec<Segment>>, Error>
where
    K: Send,
    V: Send,
{
    while runs.len() > files.fan_in {
        let groups: Vec<Vec<Vec<Segment>>> = runs.chunks(files.fan_in).map(<[_]>::to_vec).collect();
        runs = files.run(groups, |_, group| {
            if group.len() == 1 {
                return Ok(group.into_iter().next().unwrap_or_default());
            }
            let partitions = group[0].len();
            let path = dir.next_run();
            let mut writer =
                run::RunWriter::create(&path, partitions).map_err(|e| Error::io(&path, e))?;
            for p in 0..partitions {
                let segments: Vec<Segment> = group.iter().map(|run| run[p].clone()).collect();
                let merged = merge::Merge::new(Vec::new(), &segments, codec)?;
                match combiner {
                    Some(combine) => writer.segment(merge::Folding::new(merged, combine), codec)?,
                    None => writer.segment(merged, codec)?,
                }
            }
            let (segments, _) = writer.finish()?;
            for run in &group {
                if let Some(first) = run.first() {
                    let _ = std::fs::remove_file(&first.path);
                }
            }
            Ok(segments)
        })?;
    }
    Ok(runs)
}

/// What a map phase spilled, for reduce.
pub(crate) struct Spilled<K, V> {
    pub codec: Codec<K, V>,
    /// Each partition's segments, one per run that holds any of it.
    pub segments: Vec<Vec<Segment>>,
    pub bytes: u64,
    pub records: u64,
    /// Runs written by map tasks (before any merging of runs).
    pub runs: u64,
    /// How reduce tasks share the files they may open.
    pub files: FileBudget,
    _dir: Option<SpillDir>,
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use crate::{Emit, Inputs, Job};

    /// Lines `i * 7919 % 50_000` for `i` below `n` (each 0 to 49999 twice
    /// for `n` 100000), and how many times each comes.
    fn numbers(n: usize) -> (Inputs, BTreeMap<String, u64>) {
        let mut text = String::new();
        let mut expected = BTreeMap::new();
        for i in 0..n {
            let line = format!("{}", (i * 7919) % 50_000);
            text += &line;
            text.push('\n');
            *expected.entry(line).or_insert(0) += 1;
        }
        let mut inputs = Inputs::new();
        inputs.push_bytes("numbers", text);
        (inputs, expected)
    }

    fn emit_line(line: &[u8], out: &mut Emit<String, u64>) -> Result<(), crate::BoxError> {
        out.emit(String::from_utf8(line.to_vec())?, 1);
        Ok(())
    }

    #[test]
    fn a_tiny_fan_in_merges_in_rounds_and_gives_the_same_result() {
        let tmp = std::env::temp_dir().join(format!("mr-local-unit-fan-in-{}", std::process::id()));
        std::fs::create_dir_all(&tmp).unwrap();
        let (inputs, expected) = numbers(100_000);
        // Six files for two threads: two merges at once, of two runs each,
        // so the runs are merged in several rounds.
        let job = Job::builder()
            .threads(2)
            .memory(1024)
            .split_size(512)
            .open_files(6)
            .tmp_dir(&tmp)
            .build()
            .unwrap();
        assert_eq!(super::FileBudget::new(6, 2).fan_in, 2);
        let folded = job
            .map(&inputs, emit_line)
            .spill()
            .fold(|a, b| *a += b)
            .unwrap();
        assert!(folded.counters().spill_runs > 16, "{:?}", folded.counters());
        let got: BTreeMap<String, u64> = folded.into_vec().into_iter().collect();
        assert_eq!(got, expected);

        let grouped = job
            .map(&inputs, emit_line)
            .spill()
            .reduce(|_, values| values.len() as u64)
            .unwrap();
        let got: BTreeMap<String, u64> = grouped.into_vec().into_iter().collect();
        assert_eq!(got, expected);

        let (parts, counters) = job
            .map(&inputs, emit_line)
            .spill()
            .fold_into(|a, b| *a += b, |_, pairs| Ok(pairs.collect::<Vec<_>>()))
            .unwrap();
        assert!(counters.spill_runs > 16);
        let got: BTreeMap<String, u64> = parts.into_iter().flatten().collect();
        assert_eq!(got, expected);
        assert_eq!(std::fs::read_dir(&tmp).unwrap().count(), 0, "runs left");
        std::fs::remove_dir(&tmp).unwrap();
    }
}
