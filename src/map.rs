//! The map side: the [`Mapper`] trait, the [`Emit`] handle a map function
//! writes to, and the per-worker buffers behind it.
//!
//! Each pool thread owns one buffer for the whole map phase (confinement:
//! nothing is shared while a task runs), so a combiner folds values across
//! all the splits a thread maps, not only within one. A buffer leaves its
//! thread only when it is full or the map phase ends; it is then cut by
//! partition and handed to the [`Shuffle`](crate::shuffle).

use std::borrow::Borrow;
use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::hash::Hash;
use std::marker::PhantomData;
use std::ops::Range;
use std::path::Path;

use memchr::memchr_iter;

use crate::counters::LocalCounters;
use crate::error::BoxError;
use crate::input::records::{self, trim_cr, Format};
use crate::input::Records;
use crate::partition::Route;
use crate::shuffle::Partitioner;
use crate::shuffle::{Chunks, Local, Shuffle};
use crate::spill::{Spill, Spiller};

/// A combiner: folds a value into the accumulated value of its key.
pub(crate) type Combiner<'c, V> = dyn Fn(&mut V, V) + Sync + 'c;

/// A map function: turns records into key/value pairs.
///
/// Closures passed to [`Job::map_reduce`](crate::Job::map_reduce) are
/// wrapped in a `Mapper` for you; implement the trait yourself when a job
/// needs more, such as scanning a whole split at once instead of line by
/// line ([`Mapper::map_split`]).
///
/// Keys may borrow from the input (`'d` is the lifetime of the job's
/// [`Inputs`](crate::Inputs)): the engine keeps the input alive, mapped or
/// read, for as long as the keys are.
///
/// # Example
///
/// Count lines by their first byte:
///
/// ```
/// use mr_local::{BoxError, Emit, Inputs, Job, Mapper};
///
/// struct FirstByte;
///
/// impl<'d> Mapper<'d> for FirstByte {
///     type Key = u8;
///     type Value = u64;
///
///     fn map(&self, line: &'d [u8], out: &mut Emit<'_, u8, u64>) -> Result<(), BoxError> {
///         if let Some(&first) = line.first() {
///             out.emit(first, 1);
///         }
///         Ok(())
///     }
/// }
///
/// let mut inputs = Inputs::new();
/// inputs.push_bytes("animals", "ant\nbee\nasp\n");
/// let job = Job::builder().threads(2).build()?;
/// let mut counts = job.map_reduce_with(&inputs, &FirstByte, |a, b| *a += b)?.into_vec();
/// counts.sort();
/// assert_eq!(counts, [(b'a', 2), (b'b', 1)]);
/// # Ok::<(), mr_local::Error>(())
/// ```
pub trait Mapper<'d>: Sync {
    /// The type of the keys this mapper emits.
    type Key: Hash + Eq + Send + Sync + 'd;
    /// The type of the values this mapper emits.
    type Value: Send;

    /// Maps one record: by default a line without its `\n` or `\r\n`; the
    /// job's [`Records`](crate::Records) setting says otherwise.
    ///
    /// # Errors
    ///
    /// An error fails the job, naming the input and the byte offset of the
    /// record, unless the job skips bad records
    /// ([`JobBuilder::skip_bad_records`](crate::JobBuilder::skip_bad_records)).
    /// A panic is treated as an error.
    fn map(
        &self,
        record: &'d [u8],
        out: &mut Emit<'_, Self::Key, Self::Value>,
    ) -> Result<(), BoxError>;

    /// Maps a whole split: a run of complete records from one input.
    ///
    /// By default this cuts `split` into records of the job's format and
    /// calls [`Mapper::map`] on each. Override it when records need not be
    /// seen one by one (a word counter can scan the split in one pass). An
    /// override that still works record by record should call
    /// [`Emit::start_record`] before each, so that errors name the record
    /// and skipping can step over it.
    ///
    /// # Errors
    ///
    /// As for [`Mapper::map`].
    fn map_split(
        &self,
        split: &'d [u8],
        out: &mut Emit<'_, Self::Key, Self::Value>,
    ) -> Result<(), BoxError> {
        let format = &out.sink.records.0;
        if let Format::Lines = format {
            let mut start = 0;
            for end in memchr_iter(b'\n', split) {
                out.start_record(start, end + 1);
                self.map(trim_cr(&split[start..end]), out)?;
                start = end + 1;
            }
            if start < split.len() {
                out.start_record(start, split.len());
                self.map(&split[start..], out)?;
            }
            return Ok(());
        }
        let mut at = 0;
        while at < split.len() {
            // Until the reader has found the record's end, a bad record
            // reaches to the end of the split.
            out.record = at..split.len();
            let (content, next) = records::next_record(format, split, at)?;
            out.start_record(at, next);
            self.map(&split[content], out)?;
            at = next;
        }
        Ok(())
    }

    /// Called once on every pool thread after all splits are mapped, for
    /// mappers that keep per-thread state (an in-mapper combiner, say) to
    /// emit it. By default does nothing.
    ///
    /// Such state usually lives in a thread-local. A run that failed part
    /// way never reaches this call, so state found with a different
    /// [`Emit::run`] than the current one belongs to a dead run and must be
    /// discarded.
    ///
    /// # Errors
    ///
    /// As for [`Mapper::map`]; the error names no input.
    fn finish_thread(&self, _out: &mut Emit<'_, Self::Key, Self::Value>) -> Result<(), BoxError> {
        Ok(())
    }
}

/// A reference to a mapper is a mapper: what [`Job::map_with`] runs.
///
/// [`Job::map_with`]: crate::Job::map_with
impl<'d, M: Mapper<'d> + ?Sized> Mapper<'d> for &M {
    type Key = M::Key;
    type Value = M::Value;

    #[inline]
    fn map(&self, record: &'d [u8], out: &mut Emit<'_, M::Key, M::Value>) -> Result<(), BoxError> {
        (**self).map(record, out)
    }

    #[inline]
    fn map_split(
        &self,
        split: &'d [u8],
        out: &mut Emit<'_, M::Key, M::Value>,
    ) -> Result<(), BoxError> {
        (**self).map_split(split, out)
    }

    fn finish_thread(&self, out: &mut Emit<'_, M::Key, M::Value>) -> Result<(), BoxError> {
        (**self).finish_thread(out)
    }
}

/// Identifies one map phase: see [`Mapper::finish_thread`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RunId(u64);

impl RunId {
    /// A new identifier, different from every earlier one in this process.
    pub(crate) fn next() -> RunId {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        RunId(NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed))
    }
}

/// The handle a map function emits key/value pairs into.
///
/// Pairs go to a buffer owned by the current worker thread. When the job
/// has a combiner, a pair whose key is already buffered is folded into it at
/// once, so a word emitted a million times takes one slot.
pub struct Emit<'a, K, V> {
    worker: &'a mut Worker<K, V>,
    sink: &'a Sink<'a, K, V>,
    path: &'a Path,
    file: usize,
    offset: usize,
    finishes_thread: bool,
    /// The record being mapped, as offsets into the split: where it starts
    /// (for errors) and where the next one starts (for skipping).
    pub(crate) record: Range<usize>,
    /// Counted here, where they can live in a register, and added to the
    /// worker's counters when the `Emit` is dropped: incrementing a counter
    /// in memory on every pair made each emit wait on the one before.
    emitted: u64,
    records: u64,
    /// Set while the engine or the combiner runs inside an emit: a panic
    /// there is not the record's fault and is never skipped.
    pub(crate) in_engine: bool,
}

impl<K, V> Drop for Emit<'_, K, V> {
    fn drop(&mut self) {
        self.worker.counters.map_output += self.emitted;
        self.worker.counters.records += self.records;
    }
}

impl<'a, K: Hash + Eq + Send + Sync, V: Send> Emit<'a, K, V> {
    pub(crate) fn new(
        worker: &'a mut Worker<K, V>,
        sink: &'a Sink<'a, K, V>,
        (path, file, offset): (&'a Path, usize, usize),
        finishes_thread: bool,
    ) -> Self {
        Emit {
            worker,
            sink,
            path,
            file,
            offset,
            finishes_thread,
            record: 0..0,
            emitted: 0,
            records: 0,
            in_engine: false,
        }
    }

    /// Emits one key/value pair.
    #[inline]
    pub fn emit(&mut self, key: K, value: V) {
        self.emitted += 1;
        self.put(key, value);
    }

    /// Emits a pair that already folds `occurrences` pairs together, as a
    /// mapper that combines within itself does (see
    /// [`Mapper::finish_thread`]): the map output counter counts the pairs
    /// it stands for.
    #[inline]
    pub fn emit_folded(&mut self, key: K, value: V, occurrences: u64) {
        self.emitted += occurrences;
        self.put(key, value);
    }

    /// Adds `n` to the user counter `name`.
    ///
    /// Counters are kept per thread and summed when the map phase ends, so
    /// this is cheap enough to call per record. They come back in
    /// [`Output::counters`](crate::Output::counters).
    pub fn counter(&mut self, name: &'static str, n: u64) {
        self.worker.counters.add_user(name, n);
    }

    /// Counts `n` records read, for mappers that read records themselves in
    /// an overridden [`Mapper::map_split`] (the default counts lines).
    pub fn count_records(&mut self, n: u64) {
        self.records += n;
    }

    #[inline]
    fn put(&mut self, key: K, value: V) {
        match &mut self.worker.buffer {
            Buffer::Combining(map) => match map.entry(key) {
                Entry::Occupied(mut slot) => {
                    self.in_engine = true;
                    self.sink.combine(slot.get_mut(), value);
                    self.in_engine = false;
                }
                Entry::Vacant(slot) => {
                    slot.insert(value);
                    self.after_insert();
                }
            },
            Buffer::Appending { .. } => self.append(key, value),
            Buffer::Direct => self.direct(key, value),
        }
    }

    /// Emits a pair whose key is given by reference, making the owned key
    /// with `to_key` only if it is needed: when the key is new to this
    /// worker's buffer, or when the job has no combiner.
    ///
    /// This is how a map function avoids an allocation per record, for
    /// example when it lowercases into a scratch buffer.
    ///
    /// # Example
    ///
    /// ```
    /// use mr_local::{Emit, Inputs, Job};
    ///
    /// let mut inputs = Inputs::new();
    /// inputs.push_bytes("shout", "HEY\nhey\nHey\n");
    /// let job = Job::builder().build()?;
    /// let counts = job.map_reduce(
    ///     &inputs,
    ///     |line: &[u8], out: &mut Emit<Vec<u8>, u64>| {
    ///         let lower = line.to_ascii_lowercase();
    ///         out.emit_with(&lower[..], |k| k.to_vec(), 1);
    ///         Ok(())
    ///     },
    ///     |total, n| *total += n,
    /// )?;
    /// assert_eq!(counts.into_vec(), [(b"hey".to_vec(), 3)]);
    /// # Ok::<(), mr_local::Error>(())
    /// ```
    #[inline]
    pub fn emit_with<Q>(&mut self, key: &Q, to_key: impl FnOnce(&Q) -> K, value: V)
    where
        Q: Hash + Eq + ?Sized,
        K: Borrow<Q>,
    {
        self.emitted += 1;
        match &mut self.worker.buffer {
            Buffer::Combining(map) => match map.get_mut(key) {
                Some(acc) => {
                    self.in_engine = true;
                    self.sink.combine(acc, value);
                    self.in_engine = false;
                }
                None => {
                    map.insert(to_key(key), value);
                    self.after_insert();
                }
            },
            Buffer::Appending { .. } => self.append(to_key(key), value),
            Buffer::Direct => self.direct(to_key(key), value),
        }
    }

    /// Returns the identifier of the current map phase.
    pub fn run(&self) -> RunId {
        self.sink.run
    }

    /// Returns true if this map call runs on a pool thread's own worker,
    /// whose [`Mapper::finish_thread`] will be called; false for a task
    /// with a worker of its own (a per-task shuffle strategy, or a map
    /// function re-entered on the same thread), which must not leave
    /// per-thread state behind.
    pub fn finishes_thread(&self) -> bool {
        self.finishes_thread
    }

    /// This thread's share of the job's memory budget, in bytes: what a
    /// mapper that keeps state of its own (word count's tables) sizes it by.
    pub(crate) fn memory_share(&self) -> usize {
        self.sink.memory_share
    }

    /// Returns the name of the input the current record comes from.
    pub fn path(&self) -> &Path {
        self.path
    }

    /// Returns the position of the current record's input in
    /// [`Inputs::files`](crate::Inputs::files): a small document id, cheaper
    /// to emit than the path.
    ///
    /// # Example
    ///
    /// Which files contain each word (an inverted index):
    ///
    /// ```
    /// use mr_local::{Emit, Inputs, Job};
    ///
    /// let mut inputs = Inputs::new();
    /// inputs.push_bytes("a.txt", "red green");
    /// inputs.push_bytes("b.txt", "green");
    /// let job = Job::builder().build()?;
    /// let index = job.map_group(
    ///     &inputs,
    ///     |line: &[u8], out: &mut Emit<&[u8], usize>| {
    ///         for word in line.split(|b| *b == b' ') {
    ///             out.emit(word, out.file());
    ///         }
    ///         Ok(())
    ///     },
    ///     |_word, mut files| {
    ///         files.sort_unstable();
    ///         files.dedup();
    ///         files
    ///     },
    /// )?;
    /// let mut index = index.into_vec();
    /// index.sort();
    /// assert_eq!(index, [(&b"green"[..], vec![0, 1]), (&b"red"[..], vec![0])]);
    /// # Ok::<(), mr_local::Error>(())
    /// ```
    pub fn file(&self) -> usize {
        self.file
    }

    /// Returns the byte offset in its input of the split being mapped: the
    /// `split` that [`Mapper::map_split`] was given starts there. With
    /// [`Emit::start_record`]'s offsets, it places a record in its file.
    pub fn split_offset(&self) -> usize {
        self.offset
    }

    /// Marks the start of a record, for mappers that override
    /// [`Mapper::map_split`] but still go record by record: `start` is the
    /// record's offset in the split and `next` where the record after it
    /// starts. A failing record is then named by its own offset, and
    /// skipping bad records goes on from `next`. Also counts the record.
    #[inline]
    pub fn start_record(&mut self, start: usize, next: usize) {
        self.record = start..next;
        self.records += 1;
    }

    fn append(&mut self, key: K, value: V) {
        if let Buffer::Appending { parts, len } = &mut self.worker.buffer {
            parts[self.sink.route.partition(&key)].push((key, value));
            *len += 1;
        }
        self.after_insert();
    }

    fn direct(&mut self, key: K, value: V) {
        self.worker.counters.combine_output += 1;
        let partition = self.sink.route.partition(&key);
        // The strategy may combine into a shared table right here.
        self.in_engine = true;
        self.sink.shuffle.emit(partition, key, value);
        self.in_engine = false;
    }

    #[inline]
    fn after_insert(&mut self) {
        if self.worker.buffer.len() >= self.sink.local.flush_at {
            self.hand_over();
        }
    }

    #[cold]
    fn hand_over(&mut self) {
        self.in_engine = true;
        self.worker.flush(self.sink);
        self.in_engine = false;
    }
}

/// Maps a chunk of a streamed input: see [`map_chunk`].
pub(crate) type MapChunk<M, K, V> =
    for<'c, 'e> fn(&M, &'c [u8], &mut Emit<'e, K, V>) -> Result<(), BoxError>;

/// Maps `chunk`, whose bytes live shorter than the job's inputs, and hands
/// its pairs to `out` as keys and values that own their bytes, so that the
/// chunk can be freed as soon as this returns.
///
/// This is sound without `unsafe` because `M` maps input of any lifetime:
/// it cannot keep a borrow of the chunk anywhere but in the pairs it
/// emits, and those are copied through their spill encoding, whose
/// decoding cannot borrow from the bytes it reads.
pub(crate) fn map_chunk<'d, M>(
    mapper: &M,
    chunk: &[u8],
    out: &mut Emit<'_, <M as Mapper<'d>>::Key, <M as Mapper<'d>>::Value>,
) -> Result<(), BoxError>
where
    M: for<'c> Mapper<'c>,
    for<'c> <M as Mapper<'c>>::Key: Spill,
    for<'c> <M as Mapper<'c>>::Value: Spill,
{
    let route = Route::Hash(Partitioner::new(1));
    let (records, run, memory_share) = (out.sink.records, out.sink.run, out.sink.memory_share);
    let place = (out.path, out.file, out.offset);
    let finishes_thread = out.finishes_thread;
    let forward = Forward {
        out: std::sync::Mutex::new((&mut *out, Vec::new())),
        failed: std::sync::Mutex::new(None),
        types: PhantomData,
    };
    let sink = Sink {
        combiner: None,
        route: &route,
        records,
        shuffle: &forward,
        spill: None,
        local: Local {
            combine: false,
            flush_at: FORWARD_AT,
            per_task: true,
            direct: false,
        },
        run,
        memory_share,
    };
    let mut worker = Worker::new(sink.buffer());
    let (mapped, record) = {
        let mut inner = Emit::new(&mut worker, &sink, place, finishes_thread);
        let mapped = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            mapper.map_split(chunk, &mut inner)
        }));
        let record = inner.record.clone();
        (
            mapped.unwrap_or_else(|panic| Err(crate::error::panicked(panic))),
            record,
        )
    };
    // What was mapped before a failing record stays mapped, as it does
    // when a split of a file fails.
    worker.buffer.flush(&sink);
    let failed = forward
        .failed
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    drop(forward.out);
    if let Some(err) = failed {
        return Err(err);
    }
    out.record = record;
    out.emitted += worker.counters.map_output;
    out.records += worker.counters.records;
    for &(name, n) in &worker.counters.user {
        out.worker.counters.add_user(name, n);
    }
    mapped
}

/// Pairs [`map_chunk`]'s buffer holds before they go on to the thread's
/// own: a chunk's output is never held whole (a word count's table,
/// emptied in one go, can be millions of pairs).
const FORWARD_AT: usize = 4096;

/// The shuffle of [`map_chunk`]'s buffer: hands each batch on to the
/// outer [`Emit`] as keys and values that own their bytes, copied through
/// their spill encoding, and keeps the first error that decoding gives.
struct Forward<'o, 'e, K, V, KI, VI> {
    out: std::sync::Mutex<(&'o mut Emit<'e, K, V>, Vec<u8>)>,
    failed: std::sync::Mutex<Option<BoxError>>,
    types: PhantomData<fn(KI, VI)>,
}

impl<K, V, KI, VI> Shuffle<KI, VI> for Forward<'_, '_, K, V, KI, VI>
where
    K: Spill + Hash + Eq + Send + Sync,
    V: Spill + Send,
    KI: Spill,
    VI: Spill,
{
    fn local(&self) -> Local {
        unreachable!("map_chunk sets its own")
    }

    fn publish(&self, parts: Vec<Vec<(KI, VI)>>) {
        let mut out = self
            .out
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let (out, bytes) = &mut *out;
        let mut failed = self
            .failed
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if failed.is_some() {
            return;
        }
        for (key, value) in parts.into_iter().flatten() {
            bytes.clear();
            key.encode(bytes);
            value.encode(bytes);
            let mut input = &bytes[..];
            match K::decode(&mut input).and_then(|k| Ok((k, V::decode(&mut input)?))) {
                Ok((key, value)) => out.put(key, value),
                Err(err) => {
                    *failed = Some(err);
                    return;
                }
            }
        }
    }
}

/// What a worker's buffer needs to know to hand itself over.
pub(crate) struct Sink<'a, K, V> {
    /// The job's combiner; `None` for jobs whose buffers append.
    pub combiner: Option<&'a Combiner<'a, V>>,
    pub route: &'a Route<'a, K>,
    pub records: &'a Records,
    pub shuffle: &'a dyn Shuffle<K, V>,
    /// Where full buffers go instead of the shuffle, once the memory budget
    /// is spent.
    pub spill: Option<&'a Spiller<'a, K, V>>,
    /// How the shuffle wants map tasks to buffer.
    pub local: Local,
    /// This map phase.
    pub run: RunId,
    /// Each pool thread's share of the job's memory budget, in bytes.
    pub memory_share: usize,
}

impl<K, V> Sink<'_, K, V> {
    #[inline]
    fn combine(&self, acc: &mut V, value: V) {
        // A combining buffer is only made for a job with a combiner.
        debug_assert!(self.combiner.is_some());
        if let Some(combine) = self.combiner {
            combine(acc, value);
        }
    }

    /// Returns an empty buffer of the kind this job and shuffle use.
    pub fn buffer(&self) -> Buffer<K, V> {
        if self.local.direct {
            return Buffer::Direct;
        }
        match self.combiner {
            // A random seed per process keeps hostile input from flooding
            // one bucket; partitioning uses its own, fixed, hasher.
            Some(_) if self.local.combine => {
                Buffer::Combining(HashMap::with_hasher(ahash::RandomState::new()))
            }
            _ => Buffer::Appending {
                parts: (0..self.route.partitions()).map(|_| Vec::new()).collect(),
                len: 0,
            },
        }
    }
}

/// A pool thread's worker state; locked only by its own thread.
pub(crate) type Slot<K, V> = std::sync::Mutex<Option<Worker<K, V>>>;

/// What one thread (or one task) accumulates while mapping.
pub(crate) struct Worker<K, V> {
    pub buffer: Buffer<K, V>,
    pub counters: LocalCounters,
}

impl<K: Hash + Eq + Send, V: Send> Worker<K, V> {
    pub fn new(buffer: Buffer<K, V>) -> Self {
        Worker {
            buffer,
            counters: LocalCounters::default(),
        }
    }

    /// Hands the buffer's contents to the shuffle, counting them.
    pub fn flush(&mut self, sink: &Sink<'_, K, V>) {
        self.counters.combine_output += self.buffer.flush(sink) as u64;
    }
}

/// The map phase's result: every partition's chunks.
pub(crate) type Partitions<K, V> = Vec<Chunks<K, V>>;

/// One worker's map output, not yet handed to the shuffle.
pub(crate) enum Buffer<K, V> {
    /// Pairs folded by key with the job's combiner.
    Combining(HashMap<K, V, ahash::RandomState>),
    /// Pairs kept as they come, already cut by partition.
    Appending { parts: Vec<Vec<(K, V)>>, len: usize },
    /// Nothing kept: every pair goes straight to the shuffle.
    Direct,
}

impl<K: Hash + Eq + Send, V: Send> Buffer<K, V> {
    fn len(&self) -> usize {
        match self {
            Buffer::Combining(map) => map.len(),
            Buffer::Appending { len, .. } => *len,
            Buffer::Direct => 0,
        }
    }

    /// Cuts the buffered pairs by partition and hands them to the shuffle,
    /// keeping the buffer's allocation for what comes next. Returns the
    /// number of pairs handed over.
    pub fn flush(&mut self, sink: &Sink<'_, K, V>) -> usize {
        let partitions = sink.route.partitions();
        let len = self.len();
        let parts = match self {
            Buffer::Combining(map) => {
                if map.is_empty() {
                    return 0;
                }
                let mut parts: Vec<Vec<(K, V)>> = (0..partitions)
                    .map(|_| Vec::with_capacity(map.len() / partitions + 1))
                    .collect();
                for (key, value) in map.drain() {
                    parts[sink.route.partition(&key)].push((key, value));
                }
                parts
            }
            Buffer::Appending { parts, len } => {
                if *len == 0 {
                    return 0;
                }
                *len = 0;
                std::mem::replace(parts, (0..partitions).map(|_| Vec::new()).collect())
            }
            Buffer::Direct => return 0,
        };
        let mut parts = parts;
        if let Some(spiller) = sink.spill {
            if spiller.offer(&mut parts) {
                return len;
            }
        }
        sink.shuffle.publish(parts);
        len
    }
}

/// A closure as a [`Mapper`]: what [`Job::map`](crate::Job::map) and
/// [`Job::map_reduce`](crate::Job::map_reduce) make of theirs.
pub struct FnMapper<F, K, V> {
    map: F,
    types: PhantomData<fn() -> (K, V)>,
}

impl<F, K, V> FnMapper<F, K, V> {
    /// Wraps `map`, a function of a record and the [`Emit`] to emit into.
    ///
    /// # Example
    ///
    /// ```
    /// use mr_local::{Emit, FnMapper, Inputs, Job};
    ///
    /// let lengths = FnMapper::new(|line: &[u8], out: &mut Emit<usize, u64>| {
    ///     out.emit(line.len(), 1);
    ///     Ok(())
    /// });
    /// let mut inputs = Inputs::new();
    /// inputs.push_bytes("text", "ab\ncd\n");
    /// let job = Job::builder().build()?;
    /// let counts = job.map_reduce_with(&inputs, &lengths, |a, b| *a += b)?;
    /// assert_eq!(counts.into_vec(), [(2, 2)]);
    /// # Ok::<(), mr_local::Error>(())
    /// ```
    pub fn new(map: F) -> Self {
        FnMapper {
            map,
            types: PhantomData,
        }
    }
}

impl<'d, F, K, V> Mapper<'d> for FnMapper<F, K, V>
where
    F: Fn(&'d [u8], &mut Emit<'_, K, V>) -> Result<(), BoxError> + Sync,
    K: Hash + Eq + Send + Sync + 'd,
    V: Send,
{
    type Key = K;
    type Value = V;

    #[inline]
    fn map(&self, record: &'d [u8], out: &mut Emit<'_, K, V>) -> Result<(), BoxError> {
        (self.map)(record, out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_lose_their_newline_and_carriage_return() {
        assert_eq!(trim_cr(b"abc\r"), b"abc");
        assert_eq!(trim_cr(b"abc"), b"abc");
        assert_eq!(trim_cr(b"\r"), b"");
        assert_eq!(trim_cr(b"a\rb"), b"a\rb");
    }
}
