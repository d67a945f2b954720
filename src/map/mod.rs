//! The map side: the [`Mapper`] trait, the [`Emit`] handle a map function
//! writes to, and the per-worker buffers behind it.
//!
//! Each pool thread owns one buffer for the whole map phase (confinement:
//! nothing is shared while a task runs), so a combiner folds values across
//! all the splits a thread maps, not only within one. A buffer leaves its
//! thread only when it is full or the map phase ends; it is then cut by
//! partition and handed to the [`Shuffle`](crate::shuffle).

use std::borrow::Borrow;
use std::hash::Hash;
use std::marker::PhantomData;
use std::ops::Range;
use std::path::Path;

use memchr::memchr_iter;

use crate::buffer::Put;
use crate::error::BoxError;
use crate::input::records::{self, trim_cr, Format};

mod combining;
mod dense;
mod forward;
mod worker;

pub use combining::Combining;
pub(crate) use combining::CombiningMapper;
pub(crate) use dense::DenseMapper;
pub use dense::{Dense, DenseKey};

pub(crate) use forward::{map_chunk, MapChunk};
use worker::STAGED;
pub(crate) use worker::{Absorb, Folder, Sink, Slot, Unfolded, Worker};

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
        if let Format::Fixed(size) = format {
            let size = size.get();
            let whole = split.len() - split.len() % size;
            for (i, record) in split[..whole].chunks_exact(size).enumerate() {
                out.start_record(i * size, (i + 1) * size);
                self.map(record, out)?;
            }
            if whole == split.len() {
                return Ok(());
            }
        }
        // Records the reader finds one by one; for fixed-size records, only
        // a short last one, which it refuses.
        let mut at = match format {
            Format::Fixed(size) => split.len() - split.len() % size.get(),
            _ => 0,
        };
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
/// has a combiner, a pair whose key is already buffered is folded into it,
/// so a word emitted a million times takes one slot.
///
/// [`Emit::emit`] only stages a pair, in a short array; every 128 pairs the
/// engine folds the staged ones into the thread's buffer in one loop built
/// for the run's combiner, so a combiner given to
/// [`Job::map_reduce`](crate::Job::map_reduce) or
/// [`MapReduce::fold`](crate::MapReduce::fold) is inlined there rather than
/// called through a pointer (one given to
/// [`MapReduce::combine`](crate::MapReduce::combine) is still called through
/// one). Which container folds them follows from the keys: keys whose
/// `Hash` writes one integer below 65,536 (`u8`, `u16`, `bool`, small
/// `u32`/`u64`/`usize` values, and types that hash as one) go in an array
/// indexed by that integer, each slot checked with `==`, so that a type whose
/// `Hash` is not one-to-one still counts right; byte strings (`&[u8]`,
/// `Vec<u8>`, `String`, `&str`, [`Word`](crate::jobs::wordcount::Word)) go
/// in a table that keeps keys of up to 16 bytes inline, compared without
/// reading them back from the input, and prefetched a batch ahead once
/// the table outgrows the caches; every other key goes in a hash table.
/// The first key a thread emits decides whether it looks at the array. A
/// buffer whose keys mostly do not repeat (ids, n-grams, lines to sort)
/// stops folding for a while and appends pairs to their partitions
/// instead, leaving the folding to reduce. For small-integer keys,
/// [`Job::map_combine`](crate::Job::map_combine) folds each pair where it
/// is emitted instead, with no staging ([`Combining`]).
pub struct Emit<'a, K, V> {
    /// Pairs emitted and not yet absorbed: the worker's, held here while
    /// the `Emit` lives, one pointer nearer the map function.
    staged: Vec<(K, V)>,
    worker: &'a mut Worker<K, V>,
    sink: &'a Sink<'a, K, V>,
    path: &'a Path,
    file: usize,
    offset: usize,
    finishes_thread: bool,
    /// The record being mapped, as offsets into the split: where it starts
    /// (for errors) and where the next one starts (for skipping).
    pub(crate) record: Range<usize>,
    /// Counted here and added to the worker's counters when the `Emit` is
    /// dropped. Pairs staged count when they are absorbed or the `Emit` is
    /// dropped, not one by one: incrementing a counter in memory on every
    /// pair made each emit wait on the one before.
    emitted: u64,
    records: u64,
    /// Set while the engine or the combiner runs inside an emit: a panic
    /// there is not the record's fault and is never skipped.
    pub(crate) in_engine: bool,
}

impl<K, V> Drop for Emit<'_, K, V> {
    fn drop(&mut self) {
        self.emitted = self.emitted.wrapping_add(self.staged.len() as u64);
        self.worker.staged = std::mem::take(&mut self.staged);
        self.worker.counters.map_output =
            self.worker.counters.map_output.wrapping_add(self.emitted);
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
        let staged = std::mem::take(&mut worker.staged);
        Emit {
            // Pairs an earlier `Emit` left staged were counted by it.
            emitted: (staged.len() as u64).wrapping_neg(),
            staged,
            worker,
            sink,
            path,
            file,
            offset,
            finishes_thread,
            record: 0..0,
            records: 0,
            in_engine: false,
        }
    }

    /// Emits one key/value pair.
    #[inline]
    pub fn emit(&mut self, key: K, value: V) {
        self.stage(key, value);
    }

    /// Emits a pair that already folds `occurrences` pairs together, as a
    /// mapper that combines within itself does (see
    /// [`Mapper::finish_thread`]): the map output counter counts the pairs
    /// it stands for.
    #[inline]
    pub fn emit_folded(&mut self, key: K, value: V, occurrences: u64) {
        // The pair itself counts once it is absorbed.
        self.emitted = self.emitted.wrapping_add(occurrences.wrapping_sub(1));
        self.stage(key, value);
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

    /// Stages a pair: the worker absorbs staged pairs into its buffer
    /// [`STAGED`] at a time.
    #[inline]
    fn stage(&mut self, key: K, value: V) {
        self.staged.push((key, value));
        if self.staged.len() >= STAGED {
            self.absorb();
        }
    }

    /// Stages a pair counted already where it was first emitted (one of a
    /// streamed chunk's, re-homed): it does not count again.
    fn restage(&mut self, key: K, value: V) {
        self.emitted = self.emitted.wrapping_sub(1);
        self.stage(key, value);
    }

    #[cold]
    #[inline(never)]
    fn absorb(&mut self) {
        // A panic here is the combiner's (or the key's `Hash`), not the
        // record's: it fails the job, skipping or not.
        self.in_engine = true;
        self.emitted = self.emitted.wrapping_add(self.staged.len() as u64);
        self.worker.absorb(&mut self.staged, self.sink);
        self.in_engine = false;
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
        self.emitted = self.emitted.wrapping_add(1);
        let sink = self.sink;
        let in_engine = &mut self.in_engine;
        let put = self
            .worker
            .buffer
            .put_with(key, to_key, value, sink.route, |acc, value| {
                let outside = std::mem::replace(in_engine, true);
                sink.combine(acc, value);
                *in_engine = outside;
            });
        self.after_put(put);
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

    /// Acts on what the buffer made of a pair: hands the buffer over if it
    /// is full, or the pair to the shuffle if the buffer did not keep it.
    #[inline]
    fn after_put(&mut self, put: Put<K, V>) {
        match put {
            Put::Kept => {}
            Put::Full => self.hand_over(),
            Put::Passed(key, value) => self.direct(key, value),
        }
    }

    fn direct(&mut self, key: K, value: V) {
        self.worker.counters.combine_output += 1;
        let partition = self.sink.route.partition(&key);
        // The strategy may combine into a shared table right here.
        self.in_engine = true;
        self.sink.shuffle.emit(partition, key, value);
        self.in_engine = false;
    }

    #[cold]
    fn hand_over(&mut self) {
        self.in_engine = true;
        self.worker.flush(self.sink);
        self.in_engine = false;
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

    // Always inlined into the record loop: the closure is the loop's body.
    #[inline(always)]
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
