//! Jobs: [`JobBuilder`] checks the settings, [`Job`] runs the stages.
//!
//! A run goes: plan splits → map them on the job's own pool (each worker
//! fills a buffer it alone owns) → hand buffers to the shuffle → reduce
//! every partition in parallel → [`Output`]. Open inputs of a streamed run
//! are read and mapped chunk by chunk after the splits ([`stream`]).

use std::hash::Hash;
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use rayon::prelude::*;
use rayon::ThreadPool;

use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::counters::{
    take_thread_counters, Counters, Phase, Progress, ProgressFn, SkipLog, Skipped,
};
use crate::error::{panicked, BoxError, ConfigError, Error};
use crate::input::split::Split;
use crate::input::{BadRecord, Inputs, Records};
use crate::map::{Emit, FnMapper, MapChunk, Mapper, RunId, Sink, Slot, Worker};
use crate::pairs::{Chunks, Combiner, Partitions};
use crate::partition::Route;
use crate::reduce::{Output, ReduceInput};
use crate::shuffle::{Shuffle, ShuffleStrategy};
use crate::spec::MapReduce;
use crate::spill::{self, Codec, SpillSettings, Spilled, Spiller, Spilling};

mod stream;

use stream::Streamed;

/// Bounds of the automatic split size.
const MIN_AUTO_SPLIT: usize = 64 * 1024;
const MAX_AUTO_SPLIT: usize = 8 * 1024 * 1024;
/// The automatic split size aims at this many splits per thread, so that
/// work stealing can even out uneven splits.
const SPLITS_PER_THREAD: usize = 16;

/// The most threads a [`Job`] runs: [`JobBuilder::build`] refuses more.
///
/// The limit comes from the cost of waking a rayon pool, not from the
/// engine's buffers. Each time work arrives, every idle pool thread scans
/// every other thread's queue, a few dozen times, before it sleeps again,
/// and each look pins crossbeam's epoch, whose collector walks a list of
/// all the threads: waking `n` threads costs about `n³` steps. With more
/// threads than cores that is what a run spends its time on: on 2 cores, a
/// tiny input takes 0.35 s at 512 threads, 1.6 to 2.9 s at 1024 and 25 s at
/// 2000. 512 is more than most machines have cores; more threads than
/// cores gain nothing for the CPU-bound work of a job.
///
/// ```
/// use mr_local::{ConfigError, ErrorKind, Job, MAX_THREADS};
///
/// let err = Job::builder().threads(MAX_THREADS + 1).build().unwrap_err();
/// assert!(matches!(err.kind(), ErrorKind::Config(ConfigError::TooManyThreads(_))));
/// ```
pub const MAX_THREADS: usize = 512;

/// The most partitions a [`Job`] has: [`JobBuilder::build`] refuses more.
///
/// Every partition costs each map thread a buffer and, with part files, a
/// file: a tiny input on 2 threads took 0.78 s and 790 MB at a million
/// partitions, 20 s and 7.9 GB at ten million. 65,536 reduce tasks are far
/// more than a single machine can use, and start in a few hundredths of a
/// second.
///
/// ```
/// use mr_local::{ConfigError, ErrorKind, Job, MAX_PARTITIONS};
///
/// let err = Job::builder().partitions(MAX_PARTITIONS + 1).build().unwrap_err();
/// assert!(matches!(err.kind(), ErrorKind::Config(ConfigError::TooManyPartitions(_))));
/// ```
pub const MAX_PARTITIONS: usize = 1 << 16;

/// Settings for a [`Job`].
///
/// # Example
///
/// ```
/// use mr_local::Job;
///
/// let job = Job::builder().threads(2).partitions(16).split_size(1 << 20).build()?;
/// assert_eq!((job.threads(), job.partitions()), (2, 16));
/// assert!(Job::builder().threads(0).build().is_err());
/// # Ok::<(), mr_local::Error>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct JobBuilder {
    threads: Option<usize>,
    partitions: Option<usize>,
    split_size: Option<usize>,
    shuffle: ShuffleStrategy,
    progress: Option<ProgressFn>,
    records: Records,
    skip_bad_records: bool,
    memory: Option<usize>,
    tmp_dir: Option<PathBuf>,
    open_files: Option<usize>,
}

impl JobBuilder {
    /// Sets the number of threads of the job's pool, from 1 to
    /// [`MAX_THREADS`].
    ///
    /// By default, `RAYON_NUM_THREADS` if it is set to a positive number,
    /// else the number of CPUs this process may use; either is lowered to
    /// [`MAX_THREADS`] if it is above it.
    pub fn threads(&mut self, threads: usize) -> &mut Self {
        self.threads = Some(threads);
        self
    }

    /// Sets the number of partitions R, which is also the number of reduce
    /// tasks, from 1 to [`MAX_PARTITIONS`]. By default, four per thread.
    pub fn partitions(&mut self, partitions: usize) -> &mut Self {
        self.partitions = Some(partitions);
        self
    }

    /// Sets the target size of a split in bytes.
    ///
    /// By default it follows the input: about sixteen splits per thread,
    /// between 64 KiB and 8 MiB each.
    pub fn split_size(&mut self, bytes: usize) -> &mut Self {
        self.split_size = Some(bytes);
        self
    }

    /// Sets how map output reaches the reduce tasks. By default,
    /// [`ShuffleStrategy::lockfree`].
    pub fn shuffle(&mut self, strategy: ShuffleStrategy) -> &mut Self {
        self.shuffle = strategy;
        self
    }

    /// Sets how inputs divide into records (the paper's §4.4). By default,
    /// [`Records::lines`].
    pub fn records(&mut self, records: Records) -> &mut Self {
        self.records = records;
        self
    }

    /// Sets whether bad records are skipped (the paper's §4.6).
    ///
    /// A bad record is one whose map call returns an error or panics, or
    /// that the input format finds malformed. By default the first one
    /// fails the job, with an error naming its input and byte offset. When
    /// skipping, the job goes on from the next record, counts the bad one
    /// in [`Counters::skipped_records`] and lists the first few in
    /// [`Counters::skipped`]. A reduce call that panics is skipped the same
    /// way ([`Counters::skipped_keys`]). A panic still goes through the
    /// process's panic hook, which prints it to stderr by default.
    ///
    /// A mapper that overrides [`Mapper::map_split`] without marking its
    /// records ([`Emit::start_record`]) loses the rest of the split with
    /// the bad record.
    pub fn skip_bad_records(&mut self, skip: bool) -> &mut Self {
        self.skip_bad_records = skip;
        self
    }

    /// Sets the memory budget, in bytes, for map output held until reduce.
    /// Past it, runs that allow spilling ([`MapReduce::spill`]) write map
    /// output to disk as sorted runs, and reduce merges them back; other
    /// runs ignore it. By default, half of the machine's physical memory.
    ///
    /// The budget counts the pairs handed to the shuffle (their size, and
    /// what [`Spill::heap_size`](crate::Spill::heap_size) says they hold on
    /// the heap); each thread's combining buffer, the input, and the
    /// output come on top. Open inputs of a
    /// [streamed](crate::MapReduce::streamed) run are read in chunks of an
    /// eighth of a thread's share of it (64 KiB to 8 MiB), at most
    /// `2 × threads + 1` of them held at once (one being mapped per
    /// thread, as many queued, one being read).
    pub fn memory(&mut self, bytes: usize) -> &mut Self {
        self.memory = Some(bytes);
        self
    }

    /// Sets the directory in which spill runs are written (in a directory
    /// of their own, removed when the run ends, fails or is interrupted
    /// through the CLI). By default, [`std::env::temp_dir`].
    pub fn tmp_dir(&mut self, dir: impl Into<PathBuf>) -> &mut Self {
        self.tmp_dir = Some(dir.into());
        self
    }

    /// Sets how many spill files a run may hold open at once: runs being
    /// written by map tasks, and the runs merges read from and write to,
    /// all tasks together. Past it, writers wait their turn, and merges
    /// run on fewer threads, or read fewer runs each and merge the runs in
    /// more rounds, but never open more. By default, what the process's
    /// descriptor limit (`RLIMIT_NOFILE`) leaves free when the map phase
    /// starts, less a few for the caller's own files; the merges want at
    /// most 65 per thread.
    ///
    /// # Example
    ///
    /// ```
    /// let job = mr_local::Job::builder().open_files(100).build()?;
    /// assert_eq!(job.open_files(), Some(100));
    /// # Ok::<(), mr_local::Error>(())
    /// ```
    pub fn open_files(&mut self, files: usize) -> &mut Self {
        self.open_files = Some(files);
        self
    }

    /// Calls `report` when each phase starts and each time a split has been
    /// mapped (from the pool's threads, so it must be cheap and `Sync`).
    /// By default nothing is reported.
    ///
    /// # Example
    ///
    /// ```
    /// use std::sync::atomic::{AtomicU64, Ordering};
    /// use std::sync::Arc;
    /// use mr_local::{Emit, Inputs, Job};
    ///
    /// let done = Arc::new(AtomicU64::new(0));
    /// let seen = Arc::clone(&done);
    /// let job = Job::builder()
    ///     .progress(move |p| {
    ///         seen.fetch_max(p.bytes_done, Ordering::Relaxed);
    ///     })
    ///     .build()?;
    /// let mut inputs = Inputs::new();
    /// inputs.push_bytes("text", "a\nb\n");
    /// job.map_reduce(
    ///     &inputs,
    ///     |l: &[u8], out: &mut Emit<&[u8], u8>| {
    ///         out.emit(l, 1);
    ///         Ok(())
    ///     },
    ///     |a, b| *a += b,
    /// )?;
    /// assert_eq!(done.load(Ordering::Relaxed), 4);
    /// # Ok::<(), mr_local::Error>(())
    /// ```
    pub fn progress(&mut self, report: impl Fn(Progress) + Send + Sync + 'static) -> &mut Self {
        self.progress = Some(ProgressFn(Arc::new(report)));
        self
    }

    /// Checks the settings and starts the job's thread pool.
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] for zero threads, partitions or split size, for
    /// more than [`MAX_THREADS`] threads or [`MAX_PARTITIONS`] partitions,
    /// or if the pool's threads cannot be started.
    pub fn build(&self) -> Result<Job, Error> {
        let threads = match self.threads {
            Some(0) => return Err(ConfigError::ZeroThreads.into()),
            Some(n) if n > MAX_THREADS => return Err(ConfigError::TooManyThreads(n).into()),
            Some(n) => n,
            None => default_threads().min(MAX_THREADS),
        };
        let partitions = match self.partitions {
            Some(0) => return Err(ConfigError::ZeroPartitions.into()),
            Some(n) if n > MAX_PARTITIONS => return Err(ConfigError::TooManyPartitions(n).into()),
            Some(n) => n,
            None => threads.saturating_mul(4),
        };
        if self.split_size == Some(0) {
            return Err(ConfigError::ZeroSplitSize.into());
        }
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("mr-local-{i}"))
            .build()
            .map_err(|e| ConfigError::ThreadPool(e.to_string()))?;
        Ok(Job {
            pool,
            threads,
            partitions,
            split_size: self.split_size,
            shuffle: self.shuffle,
            progress: self.progress.clone(),
            records: self.records.clone(),
            skip_bad_records: self.skip_bad_records,
            spill: SpillSettings {
                budget: self.memory.unwrap_or_else(spill::default_budget),
                dir: self.tmp_dir.clone().unwrap_or_else(std::env::temp_dir),
                open_files: self.open_files,
                tasks: threads,
            },
        })
    }
}

fn default_threads() -> usize {
    std::env::var("RAYON_NUM_THREADS")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|&n| n > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, NonZeroUsize::get))
}

/// A configured MapReduce engine with its own thread pool.
///
/// A `Job` can run any number of map/reduce passes; each runs entirely on
/// the job's pool, never on rayon's global one.
///
/// # Example
///
/// Count words, the classic first job:
///
/// ```
/// use mr_local::{Emit, Inputs, Job};
///
/// let mut inputs = Inputs::new();
/// inputs.push_bytes("poem", "the cat\nthe hat\n");
///
/// let job = Job::builder().threads(2).build()?;
/// let output = job.map_reduce(
///     &inputs,
///     // Keys borrow from the input: no allocation per word.
///     |line: &[u8], out: &mut Emit<&[u8], u64>| {
///         for word in line.split(|b| *b == b' ').filter(|w| !w.is_empty()) {
///             out.emit(word, 1);
///         }
///         Ok(())
///     },
///     |total, n| *total += n,
/// )?;
/// let mut counts = output.into_vec();
/// counts.sort();
/// assert_eq!(counts, [(&b"cat"[..], 1), (b"hat", 1), (b"the", 2)]);
/// # Ok::<(), mr_local::Error>(())
/// ```
#[derive(Debug)]
pub struct Job {
    pool: ThreadPool,
    threads: usize,
    partitions: usize,
    split_size: Option<usize>,
    shuffle: ShuffleStrategy,
    progress: Option<ProgressFn>,
    records: Records,
    skip_bad_records: bool,
    spill: SpillSettings,
}

impl Job {
    /// Returns a builder with the default settings.
    pub fn builder() -> JobBuilder {
        JobBuilder::default()
    }

    /// Returns the number of threads in the job's pool.
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// Returns the number of partitions (reduce tasks).
    pub fn partitions(&self) -> usize {
        self.partitions
    }

    /// Returns the shuffle strategy.
    pub fn shuffle_strategy(&self) -> ShuffleStrategy {
        self.shuffle
    }

    /// Returns how inputs divide into records.
    pub fn records(&self) -> &Records {
        &self.records
    }

    /// Returns the memory budget for map output, in bytes.
    pub fn memory(&self) -> usize {
        self.spill.budget
    }

    /// Returns the directory spill runs go to.
    pub fn tmp_dir(&self) -> &Path {
        &self.spill.dir
    }

    /// Returns how many files spill merges may hold open at once, if set
    /// ([`JobBuilder::open_files`]); `None` for the descriptor limit's.
    pub fn open_files(&self) -> Option<usize> {
        self.spill.open_files
    }

    /// Returns whether bad records are skipped.
    pub fn skips_bad_records(&self) -> bool {
        self.skip_bad_records
    }

    /// Returns the split size this job uses for `inputs`.
    pub fn split_size_for(&self, inputs: &Inputs) -> usize {
        self.split_size.unwrap_or_else(|| {
            let total = usize::try_from(inputs.total_bytes()).unwrap_or(usize::MAX);
            (total / self.threads.saturating_mul(SPLITS_PER_THREAD))
                .clamp(MIN_AUTO_SPLIT, MAX_AUTO_SPLIT)
        })
    }

    /// Starts specifying a run of `map` over `inputs`: add a combiner, a
    /// partitioning function or sorted order to the [`MapReduce`], then run
    /// it with [`MapReduce::fold`] or [`MapReduce::reduce`].
    ///
    /// # Example
    ///
    /// ```
    /// use mr_local::{Emit, Inputs, Job};
    ///
    /// let mut inputs = Inputs::new();
    /// inputs.push_bytes("text", "b a\nc b\n");
    /// let job = Job::builder().partitions(1).build()?;
    /// let output = job
    ///     .map(&inputs, |line: &[u8], out: &mut Emit<&[u8], u32>| {
    ///         for word in line.split(|b| *b == b' ') {
    ///             out.emit(word, 1);
    ///         }
    ///         Ok(())
    ///     })
    ///     .sorted()
    ///     .fold(|a, b| *a += b)?;
    /// assert_eq!(output.into_vec(), [(&b"a"[..], 1), (b"b", 2), (b"c", 1)]);
    /// # Ok::<(), mr_local::Error>(())
    /// ```
    pub fn map<'d, K, V, M>(
        &self,
        inputs: &'d Inputs,
        map: M,
    ) -> MapReduce<'_, 'd, FnMapper<M, K, V>>
    where
        K: Hash + Eq + Send + Sync + 'd,
        V: Send,
        M: Fn(&'d [u8], &mut Emit<'_, K, V>) -> Result<(), BoxError> + Sync,
    {
        MapReduce::new(self, inputs, FnMapper::new(map))
    }

    /// Like [`Job::map`], with a [`Mapper`] implementation.
    pub fn map_with<'j, 'd, M: Mapper<'d>>(
        &'j self,
        inputs: &'d Inputs,
        mapper: &'j M,
    ) -> MapReduce<'j, 'd, &'j M> {
        MapReduce::new(self, inputs, mapper)
    }

    /// Runs `map` over every record of `inputs` and folds the values of
    /// each key with `combine`: short for
    /// `job.map(inputs, map).fold(combine)`.
    ///
    /// `combine` is the combiner and the reducer at once: it runs on each
    /// worker as pairs are emitted, and again when partitions are merged.
    /// It may run any number of times per key, in any order, so it must be
    /// associative and commutative (a sum, a max, a set union).
    ///
    /// # Errors
    ///
    /// The first bad record: an error or a panic in `map`, naming its input
    /// and the byte offset of the record (unless the job skips bad
    /// records); or a panic in `combine`.
    pub fn map_reduce<'d, K, V, M, C>(
        &self,
        inputs: &'d Inputs,
        map: M,
        combine: C,
    ) -> Result<Output<K, V>, Error>
    where
        K: Hash + Eq + Send + Sync + 'd,
        V: Send,
        M: Fn(&'d [u8], &mut Emit<'_, K, V>) -> Result<(), BoxError> + Sync,
        C: Fn(&mut V, V) + Sync,
    {
        self.map_reduce_with(inputs, &FnMapper::new(map), combine)
    }

    /// Like [`Job::map_reduce`], with a [`Mapper`] implementation.
    ///
    /// # Errors
    ///
    /// As for [`Job::map_reduce`].
    pub fn map_reduce_with<'d, M, C>(
        &self,
        inputs: &'d Inputs,
        mapper: &M,
        combine: C,
    ) -> Result<Output<M::Key, M::Value>, Error>
    where
        M: Mapper<'d>,
        C: Fn(&mut M::Value, M::Value) + Sync,
    {
        self.map_with(inputs, mapper).fold(combine)
    }

    /// Runs `map` over every record of `inputs`, then hands each key with
    /// all its values to `reduce`: short for
    /// `job.map(inputs, map).sorted().reduce(reduce)`.
    ///
    /// Within a partition, `reduce` sees keys in increasing order; the
    /// values of a key come in no particular order. No combiner runs, so
    /// every emitted pair is held until reduce: prefer
    /// [`Job::map_reduce`] where values can be folded.
    ///
    /// # Errors
    ///
    /// As for [`MapReduce::reduce`].
    ///
    /// # Example
    ///
    /// Which lines does each word appear on?
    ///
    /// ```
    /// use mr_local::{Emit, Inputs, Job};
    ///
    /// let mut inputs = Inputs::new();
    /// inputs.push_bytes("text", "a b\nb c\n");
    /// let job = Job::builder().partitions(1).build()?;
    /// let index = job.map_group(
    ///     &inputs,
    ///     |line: &[u8], out: &mut Emit<u8, String>| {
    ///         let text = String::from_utf8_lossy(line);
    ///         for word in line.split(|b| *b == b' ') {
    ///             out.emit(word[0], text.to_string());
    ///         }
    ///         Ok(())
    ///     },
    ///     |_word, mut lines| {
    ///         lines.sort();
    ///         lines
    ///     },
    /// )?;
    /// assert_eq!(index.into_vec()[1], (b'b', vec!["a b".to_string(), "b c".to_string()]));
    /// # Ok::<(), mr_local::Error>(())
    /// ```
    pub fn map_group<'d, K, V, R, M, G>(
        &self,
        inputs: &'d Inputs,
        map: M,
        reduce: G,
    ) -> Result<Output<K, R>, Error>
    where
        K: Hash + Ord + Send + Sync + 'd,
        V: Send,
        R: Send,
        M: Fn(&'d [u8], &mut Emit<'_, K, V>) -> Result<(), BoxError> + Sync,
        G: Fn(&K, Vec<V>) -> R + Sync,
    {
        self.map_group_with(inputs, &FnMapper::new(map), reduce)
    }

    /// Like [`Job::map_group`], with a [`Mapper`] implementation.
    ///
    /// # Errors
    ///
    /// As for [`Job::map_reduce`].
    pub fn map_group_with<'d, M, R, G>(
        &self,
        inputs: &'d Inputs,
        mapper: &M,
        reduce: G,
    ) -> Result<Output<M::Key, R>, Error>
    where
        M: Mapper<'d>,
        M::Key: Ord,
        R: Send,
        G: Fn(&M::Key, Vec<M::Value>) -> R + Sync,
    {
        self.map_with(inputs, mapper).sorted().reduce(reduce)
    }

    /// Sorts `items` with `compare` on the job's pool.
    ///
    /// # Example
    ///
    /// ```
    /// let job = mr_local::Job::builder().build()?;
    /// let mut v = vec![3, 1, 2];
    /// job.par_sort_by(&mut v, |a, b| b.cmp(a));
    /// assert_eq!(v, [3, 2, 1]);
    /// # Ok::<(), mr_local::Error>(())
    /// ```
    pub fn par_sort_by<T, F>(&self, items: &mut [T], compare: F)
    where
        T: Send,
        F: Fn(&T, &T) -> std::cmp::Ordering + Send + Sync,
    {
        self.pool.install(|| items.par_sort_unstable_by(compare));
    }

    /// Runs one map/reduce pass, then `reduce` on every partition, one
    /// task per partition.
    ///
    /// `reduce` returns what it made of its partition and how many pairs
    /// that holds; the run returns the former, partition by partition.
    pub(crate) fn run<'d, M, P>(
        &self,
        pass: &Pass<'_, 'd, M>,
        reduce: impl Fn(usize, ReduceInput<'_, M::Key, M::Value>, &SkipLog) -> Result<(P, u64), Error>
            + Sync,
    ) -> Result<(Vec<P>, Counters), Error>
    where
        M: Mapper<'d>,
        P: Send,
    {
        let log = SkipLog::default();
        let (chunks, mut counters, spilled) = self.map_phase(pass, &log)?;
        if let Some(spilled) = &spilled {
            counters.spilled_bytes = spilled.bytes;
            counters.spilled_records = spilled.records;
            counters.spill_runs = spilled.runs;
        }
        let started = Instant::now();
        let total = pass.inputs.total_bytes();
        if pass.report {
            self.report(Progress {
                phase: Phase::Reduce,
                bytes_done: total,
                bytes_total: total,
            });
        }
        let reduce_one = |partition: usize, chunks: Chunks<M::Key, M::Value>| {
            let spilled = spilled
                .as_ref()
                .map(|s| (s.segments[partition].as_slice(), &s.codec))
                .filter(|(segments, _)| !segments.is_empty());
            reduce(partition, ReduceInput { chunks, spilled }, &log)
        };
        let parts = self.pool.install(|| match &spilled {
            // Each task merges its runs: no more at once than the files
            // allow.
            Some(spilled) => spilled.files.run(chunks, reduce_one),
            None => chunks
                .into_par_iter()
                .enumerate()
                .map(|(partition, chunks)| reduce_one(partition, chunks))
                .collect::<Result<Vec<_>, Error>>(),
        })?;
        let (parts, sizes): (Vec<P>, Vec<u64>) = parts.into_iter().unzip();
        counters.distinct_keys = sizes.iter().sum();
        counters.reduce_output_records = counters.distinct_keys;
        counters.reduce_time = started.elapsed();
        for counts in self.pool.broadcast(|_| take_thread_counters()) {
            counters.add_user(&counts);
        }
        log.into_counters(&mut counters);
        Ok((parts, counters))
    }

    fn report(&self, progress: Progress) {
        if let Some(ProgressFn(report)) = &self.progress {
            report(progress);
        }
    }

    /// Maps every split on the pool and returns each partition's chunks.
    fn map_phase<'d, M: Mapper<'d>>(
        &self,
        pass: &Pass<'_, 'd, M>,
        log: &SkipLog,
    ) -> Result<MapPhase<M::Key, M::Value>, Error> {
        let Pass {
            inputs,
            splits,
            mapper,
            combiner,
            route,
            report,
            codec,
            chunks,
        } = *pass;
        let started = Instant::now();
        let totals = Mutex::new(Counters::default());
        let total = inputs.total_bytes();
        // Open inputs count what they held when opened, where that is known.
        let expected = total + inputs.open_bytes_expected();
        let done = AtomicU64::new(0);
        let progress = |phase, bytes_done: u64| {
            if report {
                self.report(Progress {
                    phase,
                    bytes_done,
                    bytes_total: expected.max(bytes_done),
                })
            }
        };
        let streamed_chunks = AtomicU64::new(0);
        let streamed_bytes = AtomicU64::new(0);
        // Counters left by an earlier run that failed belong to no one.
        self.pool.broadcast(|_| take_thread_counters());
        progress(Phase::Map, 0);
        let partitions = route.partitions();
        let spiller = codec.map(|codec| Spiller::new(codec, &self.spill, partitions));
        // A panic that escapes the shuffle (a combiner on a strategy's own
        // thread) fails the phase; one in a task is caught in the task.
        let shuffled = catch_unwind(AssertUnwindSafe(|| {
            self.shuffle.run(partitions, combiner, |strategy| {
                let spilling = spiller.as_ref().map(|s| Spilling::new(strategy, s));
                let shuffle: &dyn Shuffle<_, _> = match &spilling {
                    Some(spilling) => spilling,
                    None => strategy,
                };
                let sink = Sink {
                    combiner,
                    route,
                    records: &self.records,
                    shuffle,
                    run: RunId::next(),
                    memory_share: self.spill.budget / self.threads.max(1),
                };
                let task = Task {
                    inputs,
                    mapper,
                    sink: &sink,
                    totals: &totals,
                    skip: self.skip_bad_records.then_some(log),
                };
                // One worker per pool thread, each behind a lock that only its
                // own thread takes (see `Task::run`), so never contended.
                let slots: Vec<Slot<M::Key, M::Value>> =
                    (0..self.threads).map(|_| Mutex::new(None)).collect();
                self.pool.install(|| {
                    splits.par_iter().with_max_len(1).try_for_each(|split| {
                        task.run(split, &slots)?;
                        if let Some(spiller) = &spiller {
                            spiller.check()?;
                        }
                        let bytes = split
                            .pieces
                            .iter()
                            .map(|p| (p.end - p.start) as u64)
                            .sum::<u64>();
                        progress(Phase::Map, done.fetch_add(bytes, Ordering::Relaxed) + bytes);
                        Ok::<(), Error>(())
                    })?;
                    if let Some(map) = chunks {
                        let streamed = Streamed {
                            task: &task,
                            map,
                            slots: &slots,
                            spiller: spiller.as_ref(),
                            progress: &|bytes| {
                                progress(
                                    Phase::Map,
                                    done.fetch_add(bytes, Ordering::Relaxed) + bytes,
                                )
                            },
                            chunks: &streamed_chunks,
                            bytes: &streamed_bytes,
                        };
                        for (file, input) in inputs.files().iter().enumerate() {
                            if input.is_open() {
                                self.stream(file, &streamed)?;
                            }
                        }
                    }
                    progress(Phase::Shuffle, done.load(Ordering::Relaxed));
                    // Let mappers with per-thread state emit it, on the thread
                    // that holds it, into that thread's worker.
                    let finished: Vec<Result<(), Error>> = self.pool.broadcast(|ctx| {
                        let mut slot = lock(&slots[ctx.index()]);
                        let worker = slot.get_or_insert_with(|| Worker::new(sink.buffer()));
                        let mut out = Emit::new(worker, &sink, (Path::new(""), 0, 0), true);
                        let finished =
                            catch_unwind(AssertUnwindSafe(|| mapper.finish_thread(&mut out)));
                        finished
                            .unwrap_or_else(|panic| Err(panicked(panic)))
                            .map_err(|err| Error::map("<map phase end>", 0, err))
                    });
                    finished.into_iter().collect::<Result<(), Error>>()?;
                    slots.into_par_iter().for_each(|slot| {
                        if let Some(mut worker) = slot.into_inner().ok().flatten() {
                            worker.flush(&sink);
                            lock(&totals).add_local(&worker.counters);
                        }
                    });
                    Ok::<(), Error>(())
                })
            })
        }));
        let (mapped, chunks) =
            shuffled.map_err(|panic| Error::map("<shuffle>", 0, panicked(panic)))?;
        mapped?;
        // Merging runs in rounds folds with the combiner, which may panic.
        let spilled = catch_unwind(AssertUnwindSafe(|| {
            self.pool
                .install(|| spiller.map(|s| s.finish(combiner)).transpose())
        }))
        .map_err(|panic| Error::map("<spill merge>", 0, panicked(panic)))??;
        let mut counters = totals.into_inner().unwrap_or_else(PoisonError::into_inner);
        counters.input_files = inputs.files().len() as u64;
        counters.input_bytes = total + streamed_bytes.into_inner();
        counters.splits = splits.len() as u64 + streamed_chunks.into_inner();
        counters.partitions = partitions as u64;
        counters.map_time = started.elapsed();
        Ok((chunks, counters, spilled))
    }
}

/// What one map phase runs.
pub(crate) struct Pass<'a, 'd, M: Mapper<'d>> {
    pub inputs: &'d Inputs,
    pub splits: &'a [Split],
    pub mapper: &'a M,
    pub combiner: Option<&'a Combiner<'a, M::Value>>,
    pub route: &'a Route<'a, M::Key>,
    /// Whether to call the job's progress function: not for a sample.
    pub report: bool,
    /// How to spill map output past the memory budget, if the run may.
    pub codec: Option<Codec<M::Key, M::Value>>,
    /// How to map chunks of the open inputs, if the run streams them.
    pub chunks: Option<MapChunk<M, M::Key, M::Value>>,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// What the map phase hands to reduce: each partition's chunks, the counts
/// so far, and what was spilled.
type MapPhase<K, V> = (Partitions<K, V>, Counters, Option<Spilled<K, V>>);

/// What every map task needs.
struct Task<'t, 'd, M: Mapper<'d>> {
    inputs: &'d Inputs,
    mapper: &'t M,
    sink: &'t Sink<'t, M::Key, M::Value>,
    totals: &'t Mutex<Counters>,
    /// Where skipped records go, when the job skips them.
    skip: Option<&'t SkipLog>,
}

impl<'d, M: Mapper<'d>> Task<'_, 'd, M> {
    /// Maps one split into the current thread's worker, or into a worker
    /// of its own if the strategy wants one per task or the thread's worker
    /// is busy (a map function that re-entered the pool).
    fn run(&self, split: &Split, slots: &[Slot<M::Key, M::Value>]) -> Result<(), Error> {
        self.with_worker(slots, |worker, finishes_thread| {
            for piece in &split.pieces {
                let input = &self.inputs.files()[piece.file];
                let bytes = &input.bytes()[piece.start..piece.end];
                let place = (input.path(), piece.file, piece.start);
                self.map_bytes(worker, finishes_thread, place, bytes.len(), |at, out| {
                    self.mapper.map_split(&bytes[at..], out)
                })?;
            }
            Ok(())
        })
    }

    /// Maps one chunk of open input `file`, which starts at `offset` in
    /// it, as [`Task::run`] maps a split.
    fn run_chunk(
        &self,
        file: usize,
        offset: usize,
        chunk: &[u8],
        map: MapChunk<M, M::Key, M::Value>,
        slots: &[Slot<M::Key, M::Value>],
    ) -> Result<(), Error> {
        self.with_worker(slots, |worker, finishes_thread| {
            let place = (self.inputs.files()[file].path(), file, offset);
            self.map_bytes(worker, finishes_thread, place, chunk.len(), |at, out| {
                map(self.mapper, &chunk[at..], out)
            })
        })
    }

    /// Runs `work` with the current thread's worker, or a worker of its
    /// own (see [`Task::run`]), and whether that worker's thread will be
    /// finished.
    fn with_worker(
        &self,
        slots: &[Slot<M::Key, M::Value>],
        work: impl FnOnce(&mut Worker<M::Key, M::Value>, bool) -> Result<(), Error>,
    ) -> Result<(), Error> {
        let sink = self.sink;
        let mut guard = match sink.shuffle.per_task() {
            true => None,
            false => slots[rayon::current_thread_index().unwrap_or(0) % slots.len()]
                .try_lock()
                .ok(),
        };
        let finishes_thread = guard.is_some();
        let mut own = None;
        let worker = match guard.as_deref_mut() {
            Some(held) => held.get_or_insert_with(|| Worker::new(sink.buffer())),
            None => own.insert(Worker::new(sink.buffer())),
        };
        work(worker, finishes_thread)?;
        if let Some(mut own) = own {
            own.flush(sink);
            lock(self.totals).add_local(&own.counters);
            sink.shuffle.recycle(own.buffer);
        }
        Ok(())
    }

    /// Maps `len` bytes of an input that start at `start` in it, calling
    /// `map` with the offset to map from: once, unless a bad record is
    /// skipped, then again from the record after it.
    fn map_bytes(
        &self,
        worker: &mut Worker<M::Key, M::Value>,
        finishes_thread: bool,
        (path, file, start): (&Path, usize, usize),
        len: usize,
        map: impl Fn(usize, &mut Emit<'_, M::Key, M::Value>) -> Result<(), BoxError>,
    ) -> Result<(), Error> {
        let sink = self.sink;
        let mut at = 0;
        while at < len {
            let mut out = Emit::new(worker, sink, (path, file, start + at), finishes_thread);
            let mapped = catch_unwind(AssertUnwindSafe(|| map(at, &mut out)));
            let err = match mapped {
                Ok(Ok(())) => break,
                Ok(Err(err)) => err,
                Err(panic) => panicked(panic),
            };
            let record = out.record.clone();
            let skip = self.skip.filter(|_| !out.in_engine);
            drop(out);
            let offset = (start + at + record.start) as u64;
            let Some(log) = skip else {
                return Err(Error::map(path, offset, err));
            };
            // Go on after the bad record: from where the reader says the
            // next one starts, or the record's end, or (if the mapper marks
            // no records) the end of the piece.
            let next = match err.downcast_ref::<BadRecord>() {
                Some(bad) => bad.next(),
                None => record.end,
            };
            at = match next > record.start {
                true => at + next,
                false => len,
            };
            log.add(Skipped::Record {
                path: path.to_path_buf(),
                offset,
                reason: err.to_string(),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::jobs::wordcount::{WordCount, WordSplit};
    use crate::testutil::JobTester;
    use crate::ErrorKind;

    const MODES: [WordCount; 4] = [
        WordCount {
            split: WordSplit::Alphanumeric,
            case_sensitive: false,
        },
        WordCount {
            split: WordSplit::Alphanumeric,
            case_sensitive: true,
        },
        WordCount {
            split: WordSplit::Whitespace,
            case_sensitive: false,
        },
        WordCount {
            split: WordSplit::Whitespace,
            case_sensitive: true,
        },
    ];

    fn check_all_modes(texts: &[&[u8]]) {
        for wc in &MODES {
            JobTester::default().test(wc, texts);
        }
    }

    #[test]
    fn a_word_straddling_every_possible_split_point() {
        check_all_modes(&[b"alpha beta\ngamma delta\nepsilon\n"]);
    }

    #[test]
    fn crlf_and_a_final_line_without_newline() {
        check_all_modes(&[b"One two\r\nthree One\r\nlast line, no newline"]);
    }

    #[test]
    fn a_line_longer_than_the_split() {
        let long = "word ".repeat(5000) + "\nshort\n";
        check_all_modes(&[long.as_bytes()]);
    }

    #[test]
    fn a_multibyte_character_at_every_split_point() {
        check_all_modes(&["Ünïcödé straße\nΟΔΟΣ 東京タワー\nçà et là\n".as_bytes()]);
    }

    #[test]
    fn empty_files_and_files_of_separators_only() {
        check_all_modes(&[b"", b"  ,,; \n\n\t", b"", b"x"]);
        check_all_modes(&[]);
    }

    #[test]
    fn many_small_files_are_grouped() {
        let texts: Vec<Vec<u8>> = (0..40)
            .map(|i| format!("file {i} word{}\n", i % 3).into_bytes())
            .collect();
        let texts: Vec<&[u8]> = texts.iter().map(Vec::as_slice).collect();
        JobTester::default().test(&WordCount::default(), &texts);
    }

    #[test]
    fn a_map_error_names_the_file_and_the_offset() {
        let mut inputs = Inputs::new();
        inputs.push_bytes("first", "ok\nok\n");
        inputs.push_bytes("second", "ok\nbad\nok\n");
        let job = Job::builder().threads(2).split_size(1).build().unwrap();
        let err = job
            .map_reduce(
                &inputs,
                |line: &[u8], out: &mut Emit<&[u8], u64>| {
                    if line == b"bad" {
                        return Err("no bad lines".into());
                    }
                    out.emit(line, 1);
                    Ok(())
                },
                |a, b| *a += b,
            )
            .unwrap_err();
        assert_eq!(err.to_string(), "second: byte 3: map failed: no bad lines");
    }

    #[test]
    fn a_panic_in_map_is_an_error_naming_the_record_and_the_job_stays_usable() {
        let mut inputs = Inputs::new();
        inputs.push_bytes("text", "a\nb\nboom\nc\n".repeat(100));
        let job = Job::builder().threads(2).split_size(8).build().unwrap();
        let err = job
            .map_reduce(
                &inputs,
                |line: &[u8], out: &mut Emit<Vec<u8>, u64>| {
                    assert!(line != b"boom", "boom");
                    out.emit(line.to_vec(), 1);
                    Ok(())
                },
                |a, b| *a += b,
            )
            .unwrap_err();
        // Some "boom" line fails first: its offset is 4 past a multiple of 11.
        let ErrorKind::Map { path, offset, err } = err.kind() else {
            panic!("{err}");
        };
        assert_eq!((path.to_str(), offset % 11), (Some("text"), 4));
        assert_eq!(err.to_string(), "panicked: boom");
        let counts = job
            .map_reduce(
                &inputs,
                |l: &[u8], out: &mut Emit<&[u8], u64>| {
                    out.emit(l, 1);
                    Ok(())
                },
                |a, b| *a += b,
            )
            .unwrap();
        assert_eq!(counts.len(), 4);
    }

    #[test]
    fn map_group_sees_every_value_with_keys_in_order() {
        let mut inputs = Inputs::new();
        inputs.push_bytes("a", "x 1\ny 2\nx 3\n".repeat(50));
        for threads in [1, 3] {
            let job = Job::builder()
                .threads(threads)
                .partitions(2)
                .split_size(5)
                .build()
                .unwrap();
            let output = job
                .map_group(
                    &inputs,
                    |line: &[u8], out: &mut Emit<u8, u32>| {
                        out.emit(line[0], u32::from(line[2] - b'0'));
                        Ok(())
                    },
                    |_, values| values.iter().sum::<u32>(),
                )
                .unwrap();
            for part in output.partitions() {
                assert!(part.windows(2).all(|w| w[0].0 < w[1].0));
            }
            let mut all = output.into_vec();
            all.sort();
            assert_eq!(all, [(b'x', 200), (b'y', 100)]);
        }
    }

    #[test]
    fn bad_settings_are_refused() {
        assert!(matches!(
            Job::builder().threads(0).build().unwrap_err().kind(),
            crate::ErrorKind::Config(ConfigError::ZeroThreads)
        ));
        assert!(Job::builder().partitions(0).build().is_err());
        let err = Job::builder().threads(MAX_THREADS + 1).build().unwrap_err();
        assert!(matches!(
            err.kind(),
            crate::ErrorKind::Config(ConfigError::TooManyThreads(n)) if *n == MAX_THREADS + 1
        ));
        assert_eq!(err.to_string(), "513 threads: the most a job runs is 512");
        let err = Job::builder()
            .partitions(MAX_PARTITIONS + 1)
            .build()
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "65537 partitions: the most a job has is 65536"
        );
        assert!(Job::builder().split_size(0).build().is_err());
    }

    /// Bytes drawn to hit the scanner's interesting cases: ASCII words and
    /// separators, multi-byte characters, and invalid UTF-8.
    fn text() -> impl Strategy<Value = Vec<u8>> {
        let piece = prop_oneof![
            4 => "[a-zA-Z0-9]{1,6}".prop_map(String::into_bytes),
            3 => prop::sample::select(vec![" ", "\n", "\r\n", ",", "\t", "\x0b", "-"]).prop_map(|s| s.as_bytes().to_vec()),
            2 => prop::sample::select(vec!["é", "Ü", "ß", "Σ", "ς", "東", "İ", "ǅ", "\u{a0}", "\u{3000}", "١"]).prop_map(|s| s.as_bytes().to_vec()),
            1 => prop::collection::vec(any::<u8>(), 1..4),
        ];
        prop::collection::vec(piece, 0..40).prop_map(|pieces| pieces.concat())
    }

    /// Mostly ASCII text, long enough for the scanner's 64-byte blocks,
    /// with a character outside ASCII, or bytes that are not UTF-8 (inside
    /// words, with `--split whitespace`), now and then.
    fn ascii_text() -> impl Strategy<Value = Vec<u8>> {
        let piece = prop_oneof![
            20 => "[a-zA-Z0-9]{1,20}".prop_map(String::into_bytes),
            15 => prop::sample::select(vec![" ", "\n", "\r\n", ", ", "\t", "  ", "."]).prop_map(|s| s.as_bytes().to_vec()),
            1 => prop::sample::select(vec!["é", "Σ", "\u{3000}"]).prop_map(|s| s.as_bytes().to_vec()),
            1 => prop::sample::select(vec![&b"\xff"[..], b"\xe3\x80", b"\xc3", b"\xce\xa3\xff"]).prop_map(<[u8]>::to_vec),
        ];
        prop::collection::vec(piece, 0..300).prop_map(|pieces| pieces.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn the_engine_agrees_with_a_sequential_reference(
            texts in prop::collection::vec(prop_oneof![text(), ascii_text()], 0..4),
            threads in 1usize..5,
            partitions in 1usize..9,
            split_size in prop_oneof![1usize..48, 48usize..1024],
            mode in 0usize..MODES.len(),
        ) {
            let texts: Vec<&[u8]> = texts.iter().map(Vec::as_slice).collect();
            JobTester::with(threads, partitions, split_size).test(&MODES[mode], &texts);
        }

        #[test]
        fn arbitrary_bytes_never_panic_and_agree(
            bytes in prop::collection::vec(any::<u8>(), 0..200),
            split_size in 1usize..32,
        ) {
            JobTester::with(2, 3, split_size).test(&WordCount::default(), &[&bytes]);
        }
    }
}
