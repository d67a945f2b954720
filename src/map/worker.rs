//! What a map worker writes into: its [`Worker`] (buffer and counters),
//! and the [`Sink`] every worker of a run hands its full buffer to.

use crate::buffer::Buffer;
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
    /// The strategy (or a layer over it) that makes buffers and takes
    /// them when they are full.
    pub shuffle: &'a dyn Shuffle<K, V>,
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
        self.shuffle.buffer()
    }
}

impl<K: std::hash::Hash + Eq, V> Sink<'_, K, V> {
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

/// What one thread (or one task) accumulates while mapping.
pub(crate) struct Worker<K, V> {
    pub buffer: Buffer<K, V>,
    pub counters: LocalCounters,
}

impl<K: std::hash::Hash + Eq, V> Worker<K, V> {
    pub fn new(buffer: Buffer<K, V>) -> Self {
        Worker {
            buffer,
            counters: LocalCounters::default(),
        }
    }

    /// Hands the buffer's contents to the shuffle, counting them.
    pub fn flush(&mut self, sink: &Sink<'_, K, V>) {
        self.counters.combine_output += sink.hand_over(&mut self.buffer) as u64;
    }
}
