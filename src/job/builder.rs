//! [`JobBuilder`]: a job's settings, checked when the job is built.

use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::sync::Arc;

use super::{Job, MAX_PARTITIONS, MAX_THREADS};
use crate::buffer::Container;
use crate::counters::{Progress, ProgressFn};
use crate::error::{ConfigError, Error};
use crate::exec::Engine;
use crate::input::Records;
use crate::shuffle::ShuffleStrategy;
use crate::spill::{self, SpillSettings};

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
    container: Container,
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

    /// Sets the container that map-side buffers fold pairs in (see
    /// [`Container`]): by default [`Container::Auto`], chosen by the key
    /// type.
    pub fn container(&mut self, container: Container) -> &mut Self {
        self.container = container;
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
    ///
    /// [`Counters::skipped_records`]: crate::Counters::skipped_records
    /// [`Counters::skipped`]: crate::Counters::skipped
    /// [`Counters::skipped_keys`]: crate::Counters::skipped_keys
    /// [`Mapper::map_split`]: crate::Mapper::map_split
    /// [`Emit::start_record`]: crate::Emit::start_record
    pub fn skip_bad_records(&mut self, skip: bool) -> &mut Self {
        self.skip_bad_records = skip;
        self
    }

    /// Sets the memory budget, in bytes, for map output held until reduce.
    /// Past it, runs that allow spilling
    /// ([`MapReduce::spill`](crate::MapReduce::spill)) write map output to
    /// disk as sorted runs, and reduce merges them back; other runs ignore
    /// it. By default, half of the machine's physical memory.
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
        let engine = Engine {
            pool,
            threads,
            split_size: self.split_size,
            shuffle: self.shuffle,
            progress: self.progress.clone(),
            records: self.records.clone(),
            container: self.container,
            skip_bad_records: self.skip_bad_records,
            spill: SpillSettings {
                budget: self.memory.unwrap_or_else(spill::default_budget),
                dir: self.tmp_dir.clone().unwrap_or_else(std::env::temp_dir),
                open_files: self.open_files,
                tasks: threads,
            },
        };
        Ok(Job { engine, partitions })
    }
}

fn default_threads() -> usize {
    std::env::var("RAYON_NUM_THREADS")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|&n| n > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, NonZeroUsize::get))
}
