//! Counters (the MapReduce paper's §4.9) and progress reports (§4.8).
//!
//! Every pool thread counts into its own [`LocalCounters`], next to its map
//! buffer, so counting costs an increment of an unshared integer; the job
//! sums them once, when the map phase ends.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// What a job counted.
///
/// # Example
///
/// ```
/// use mr_local::{Emit, Inputs, Job};
///
/// let mut inputs = Inputs::new();
/// inputs.push_bytes("log", "ok\nERROR disk\nok\n");
/// let job = Job::builder().threads(2).build()?;
/// let output = job.map_reduce(
///     &inputs,
///     |line: &[u8], out: &mut Emit<&[u8], u64>| {
///         if line.starts_with(b"ERROR") {
///             out.counter("errors", 1);
///         }
///         out.emit(line, 1);
///         Ok(())
///     },
///     |a, b| *a += b,
/// )?;
/// let counters = output.counters();
/// assert_eq!(counters.records, 3);
/// assert_eq!(counters.map_output_records, 3);
/// assert_eq!(counters.distinct_keys, 2);
/// assert_eq!(counters.user("errors"), 1);
/// # Ok::<(), mr_local::Error>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Counters {
    /// Inputs read (files, and stdin).
    pub input_files: u64,
    /// Bytes in all inputs: of a compressed input, the bytes decoded.
    pub input_bytes: u64,
    /// Compressed bytes read of the inputs found to be compressed (see
    /// [`InputOptions::decompress`](crate::InputOptions::decompress)).
    pub compressed_bytes: u64,
    /// Records read: lines, by default.
    pub records: u64,
    /// Key/value pairs the map function produced (a mapper that combines
    /// within itself, like word count's, reports the pairs it folded).
    pub map_output_records: u64,
    /// Pairs handed to the shuffle, after combining on each thread.
    pub combine_output_records: u64,
    /// Distinct keys in the output.
    pub distinct_keys: u64,
    /// Pairs the reduce side produced.
    pub reduce_output_records: u64,
    /// Map tasks (splits).
    pub splits: u64,
    /// Partitions (reduce tasks).
    pub partitions: u64,
    /// Wall time of the map phase, the hand-over to the shuffle included.
    pub map_time: Duration,
    /// Wall time of the reduce phase.
    pub reduce_time: Duration,
    /// Counters that map functions incremented with
    /// [`Emit::counter`](crate::Emit::counter), by name.
    pub user_counters: BTreeMap<&'static str, u64>,
    /// Bad records skipped by the map side, when skipping is enabled
    /// ([`JobBuilder::skip_bad_records`](crate::JobBuilder::skip_bad_records)).
    pub skipped_records: u64,
    /// Keys whose reduce call panicked and was skipped.
    pub skipped_keys: u64,
    /// Pairs written to spill runs, past the memory budget.
    pub spilled_records: u64,
    /// Bytes of spill runs written by map tasks.
    pub spilled_bytes: u64,
    /// Spill runs written by map tasks.
    pub spill_runs: u64,
    /// The first [`SKIPPED_LISTED`] of the skipped records and keys, in no
    /// particular order.
    pub skipped: Vec<Skipped>,
}

/// How many skipped records and keys [`Counters::skipped`] lists.
pub const SKIPPED_LISTED: usize = 20;

/// A record or key that a job skipped, and why.
///
/// # Example
///
/// ```
/// use mr_local::{Emit, Inputs, Job, Skipped};
///
/// let mut inputs = Inputs::new();
/// inputs.push_bytes("numbers", "1\n2\nthree\n4\n");
/// let job = Job::builder().skip_bad_records(true).build()?;
/// let sum = job.map_reduce(
///     &inputs,
///     |line: &[u8], out: &mut Emit<(), u64>| {
///         let n: u64 = std::str::from_utf8(line)?.parse()?;
///         out.emit((), n);
///         Ok(())
///     },
///     |a, b| *a += b,
/// )?;
/// assert_eq!(sum.partitions().concat(), [((), 7)]);
/// let counters = sum.counters();
/// assert_eq!(counters.skipped_records, 1);
/// assert!(matches!(&counters.skipped[0], Skipped::Record { offset: 4, .. }));
/// assert_eq!(
///     counters.skipped[0].to_string(),
///     "numbers: byte 4: invalid digit found in string"
/// );
/// # Ok::<(), mr_local::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Skipped {
    /// A record that failed in map (or that the input format found
    /// malformed).
    Record {
        /// The input it came from.
        path: PathBuf,
        /// Its byte offset in that input.
        offset: u64,
        /// The error or panic message.
        reason: String,
    },
    /// A key whose reduce call panicked.
    Key {
        /// The key's partition.
        partition: usize,
        /// The panic message.
        reason: String,
    },
}

impl fmt::Display for Skipped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Skipped::Record {
                path,
                offset,
                reason,
            } => write!(f, "{}: byte {offset}: {reason}", path.display()),
            Skipped::Key { partition, reason } => {
                write!(f, "a key in reduce partition {partition}: {reason}")
            }
        }
    }
}

/// Where a run's tasks record what they skipped: rare, so one lock will do.
#[derive(Debug, Default)]
pub(crate) struct SkipLog(Mutex<(u64, u64, Vec<Skipped>)>);

impl SkipLog {
    pub fn add(&self, skipped: Skipped) {
        let mut log = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        match skipped {
            Skipped::Record { .. } => log.0 += 1,
            Skipped::Key { .. } => log.1 += 1,
        }
        if log.2.len() < SKIPPED_LISTED {
            log.2.push(skipped);
        }
    }

    pub fn into_counters(self, counters: &mut Counters) {
        let (records, keys, listed) = self.0.into_inner().unwrap_or_else(PoisonError::into_inner);
        counters.skipped_records += records;
        counters.skipped_keys += keys;
        counters.skipped.extend(listed);
        counters.skipped.truncate(SKIPPED_LISTED);
    }
}

impl Counters {
    /// Returns the user counter `name`, or 0 if nothing incremented it.
    pub fn user(&self, name: &str) -> u64 {
        self.user_counters.get(name).copied().unwrap_or(0)
    }

    pub(crate) fn add_user(&mut self, counts: &[(&'static str, u64)]) {
        for (name, n) in counts {
            *self.user_counters.entry(name).or_default() += n;
        }
    }

    pub(crate) fn add_local(&mut self, local: &LocalCounters) {
        self.records += local.records;
        self.map_output_records += local.map_output;
        self.combine_output_records += local.combine_output;
        self.add_user(&local.user);
    }
}

/// One thread's counts, summed into [`Counters`] at the end.
#[derive(Clone, Debug, Default)]
pub(crate) struct LocalCounters {
    pub records: u64,
    pub map_output: u64,
    pub combine_output: u64,
    /// Few names, so a list beats a map.
    pub user: Vec<(&'static str, u64)>,
}

impl LocalCounters {
    pub fn add_user(&mut self, name: &'static str, n: u64) {
        match self.user.iter_mut().find(|(k, _)| *k == name) {
            Some((_, total)) => *total += n,
            None => self.user.push((name, n)),
        }
    }
}

thread_local! {
    /// User counters added with [`add_to_counter`] on this thread.
    static THREAD_COUNTERS: RefCell<Vec<(&'static str, u64)>> = const { RefCell::new(Vec::new()) };
}

/// Adds `n` to the user counter `name`, from any closure a job runs on its
/// threads: a reduce closure (which has no [`Emit`](crate::Emit)), a map
/// closure, a combiner.
///
/// Counts are kept per thread, cleared when a job starts and summed when
/// it ends, into [`Counters::user_counters`] beside those of
/// [`Emit::counter`](crate::Emit::counter). Counts made on threads that
/// are not the job's are not collected.
///
/// # Example
///
/// ```
/// use mr_local::{add_to_counter, Emit, Inputs, Job};
///
/// let mut inputs = Inputs::new();
/// inputs.push_bytes("text", "a\nb\na\n");
/// let job = Job::builder().build()?;
/// let output = job.map_group(
///     &inputs,
///     |line: &[u8], out: &mut Emit<Vec<u8>, u32>| {
///         out.emit(line.to_vec(), 1);
///         Ok(())
///     },
///     |_key, values| {
///         if values.len() > 1 {
///             add_to_counter("repeated keys", 1);
///         }
///         values.len()
///     },
/// )?;
/// assert_eq!(output.counters().user("repeated keys"), 1);
/// # Ok::<(), mr_local::Error>(())
/// ```
pub fn add_to_counter(name: &'static str, n: u64) {
    THREAD_COUNTERS.with(|cell| {
        let mut counters = cell.borrow_mut();
        match counters.iter_mut().find(|(k, _)| *k == name) {
            Some((_, total)) => *total += n,
            None => counters.push((name, n)),
        }
    });
}

/// Takes this thread's [`add_to_counter`] counts, leaving none.
pub(crate) fn take_thread_counters() -> Vec<(&'static str, u64)> {
    THREAD_COUNTERS.with(|cell| std::mem::take(&mut *cell.borrow_mut()))
}

/// The phases of a job, as progress reports name them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Phase {
    /// Mapping splits (and handing buffers to the shuffle as they fill).
    Map,
    /// Handing the last buffers to the shuffle.
    Shuffle,
    /// Reducing partitions.
    Reduce,
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Phase::Map => "map",
            Phase::Shuffle => "shuffle",
            Phase::Reduce => "reduce",
        })
    }
}

/// A progress report: sent when a phase starts and each time a split has
/// been mapped, so reporting costs nothing per record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Progress {
    /// The phase the job is in.
    pub phase: Phase,
    /// Input bytes mapped so far: of a compressed input, the compressed
    /// bytes decoded for what was mapped.
    pub bytes_done: u64,
    /// Input bytes in all, as far as known (a pipe's are not): of a
    /// compressed file, its compressed length.
    pub bytes_total: u64,
}

/// A progress callback, shared by the pool's threads.
#[derive(Clone)]
pub(crate) struct ProgressFn(pub Arc<dyn Fn(Progress) + Send + Sync>);

impl fmt::Debug for ProgressFn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ProgressFn(..)")
    }
}
