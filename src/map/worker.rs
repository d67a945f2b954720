//! What a map worker writes into: its [`Worker`] (staged pairs, buffer and
//! counters), and the [`Sink`] every worker of a run hands its full buffer
//! to.
//!
//! `Emit::emit` only stages a pair: it appends it to a short array, which
//! compiles to a few stores inside the map function. A full array is
//! absorbed into the buffer in one call ([`Absorb`]), a loop made for the
//! run's own combiner type, so the combiner is inlined into it rather than
//! called through a pointer once per pair.

use std::hash::Hash;

use crate::buffer::{Buffer, Container, Overflow};
use crate::counters::LocalCounters;
use crate::input::Records;
use crate::pairs::Combiner;
use crate::partition::Route;
use crate::shuffle::Shuffle;

use super::RunId;

/// What a worker's buffer needs to know to hand itself over.
pub(crate) struct Sink<'a, K, V> {
    /// The job's combiner; `None` for jobs whose buffers append.
    pub combiner: Option<&'a Combiner<'a, V>>,
    pub route: &'a Route<'a, K>,
    pub records: &'a Records,
    /// The container folding buffers are made with.
    pub container: Container,
    /// The strategy (or a layer over it) that makes buffers and takes
    /// them when they are full.
    pub shuffle: &'a dyn Shuffle<K, V>,
    /// Folds staged pairs into a buffer: made for the run's combiner.
    pub absorb: &'a dyn Absorb<K, V>,
    /// This map phase.
    pub run: RunId,
    /// Each pool thread's share of the job's memory budget, in bytes.
    pub memory_share: usize,
}

impl<K, V> Sink<'_, K, V> {
    #[inline]
    pub(super) fn combine(&self, acc: &mut V, value: V) {
        // A folding buffer is only made for a job with a combiner.
        debug_assert!(self.combiner.is_some());
        if let Some(combine) = self.combiner {
            combine(acc, value);
        }
    }

    /// Returns an empty buffer of the kind this job and shuffle use.
    pub fn buffer(&self) -> Buffer<K, V> {
        self.shuffle.buffer().with_container(self.container)
    }
}

impl<K: Hash + Eq, V> Sink<'_, K, V> {
    /// Cuts `buffer`'s pairs by partition and hands them to the shuffle,
    /// keeping the buffer's allocation for what comes next. Returns the
    /// number of pairs handed over.
    pub fn hand_over(&self, buffer: &mut Buffer<K, V>) -> usize {
        let len = buffer.len();
        match buffer.drain(self.route) {
            Some(parts) => {
                self.shuffle.publish(parts);
                len
            }
            None => 0,
        }
    }
}

/// A pool thread's worker state; locked only by its own thread.
pub(crate) type Slot<K, V> = std::sync::Mutex<Option<Worker<K, V>>>;

/// Pairs staged before they are absorbed into the buffer in one go.
pub(crate) const STAGED: usize = 128;

/// What one thread (or one task) accumulates while mapping.
pub(crate) struct Worker<K, V> {
    /// Pairs emitted and not yet in the buffer, at most [`STAGED`] (held
    /// by the `Emit` while one is alive).
    pub staged: Vec<(K, V)>,
    pub buffer: Buffer<K, V>,
    pub counters: LocalCounters,
}

impl<K: Hash + Eq, V> Worker<K, V> {
    pub fn new(buffer: Buffer<K, V>) -> Self {
        Worker {
            staged: Vec::with_capacity(STAGED),
            buffer,
            counters: LocalCounters::default(),
        }
    }

    /// Moves `staged` pairs into the buffer, handing the buffer over
    /// whenever it fills, and passing on the pairs a direct buffer does
    /// not keep.
    pub fn absorb(&mut self, staged: &mut Vec<(K, V)>, sink: &Sink<'_, K, V>) {
        let Worker {
            buffer, counters, ..
        } = self;
        sink.absorb
            .absorb(staged, buffer, sink.route, &mut |overflow| match overflow {
                Overflow::Full(parts, pairs) => {
                    counters.combine_output += pairs as u64;
                    sink.shuffle.publish(parts);
                }
                Overflow::Passed(key, value) => {
                    counters.combine_output += 1;
                    let partition = sink.route.partition(&key);
                    // The strategy may combine into a shared table here.
                    sink.shuffle.emit(partition, key, value);
                }
            });
    }

    /// Moves the pairs staged in the worker itself into its buffer.
    fn absorb_staged(&mut self, sink: &Sink<'_, K, V>) {
        let mut staged = std::mem::take(&mut self.staged);
        self.absorb(&mut staged, sink);
        self.staged = staged;
    }

    /// [`Worker::flush`] for a worker whose run is over: its buffer's
    /// memory is given back as the pairs leave it. Returns its counters.
    pub fn finish(mut self, sink: &Sink<'_, K, V>) -> LocalCounters {
        self.absorb_staged(sink);
        let len = self.buffer.len();
        if let Some(parts) = self.buffer.finish(sink.route) {
            self.counters.combine_output += len as u64;
            sink.shuffle.publish(parts);
        }
        self.counters
    }

    /// Hands everything staged and buffered to the shuffle, counting it.
    pub fn flush(&mut self, sink: &Sink<'_, K, V>) {
        self.absorb_staged(sink);
        self.counters.combine_output += sink.hand_over(&mut self.buffer) as u64;
    }
}

/// Moves staged pairs into a buffer: one call per batch, made for the
/// run's combiner type so that the combiner inlines into the loop.
pub(crate) trait Absorb<K, V>: Sync {
    /// Empties `staged` into `buffer`, calling `overflow` for each buffer
    /// that filled and each pair passed back.
    fn absorb(
        &self,
        staged: &mut Vec<(K, V)>,
        buffer: &mut Buffer<K, V>,
        route: &Route<'_, K>,
        overflow: &mut dyn FnMut(Overflow<K, V>),
    );
}

/// The [`Absorb`] of a run that folds values with a combiner of type `C`
/// (a closure's own type where the run knows it, else `dyn Fn`).
pub(crate) struct Folder<'c, C: ?Sized>(pub &'c C);

impl<K, V, C> Absorb<K, V> for Folder<'_, C>
where
    K: Hash + Eq,
    C: Fn(&mut V, V) + Sync + ?Sized,
{
    #[inline]
    fn absorb(
        &self,
        staged: &mut Vec<(K, V)>,
        buffer: &mut Buffer<K, V>,
        route: &Route<'_, K>,
        overflow: &mut dyn FnMut(Overflow<K, V>),
    ) {
        buffer.absorb(staged, route, self.0, overflow);
    }
}

/// The [`Absorb`] of a run without a combiner: its buffers never fold.
pub(crate) struct Unfolded;

impl<K: Hash + Eq, V> Absorb<K, V> for Unfolded {
    fn absorb(
        &self,
        staged: &mut Vec<(K, V)>,
        buffer: &mut Buffer<K, V>,
        route: &Route<'_, K>,
        overflow: &mut dyn FnMut(Overflow<K, V>),
    ) {
        Folder(&|_: &mut V, _: V| unreachable!("a run without a combiner never folds"))
            .absorb(staged, buffer, route, overflow);
    }
}
