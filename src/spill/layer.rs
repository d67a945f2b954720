//! Spilling as a layer over any shuffle strategy.
//!
//! [`Spilling`] is itself a [`Shuffle`]: it hands the strategy's work on,
//! changing two things. The buffers it makes always keep their pairs
//! (full ones are what gets spilled) and stay small enough for the memory
//! budget; and a full buffer is offered to the [`Spiller`] first, reaching
//! the strategy only if it fits in memory.

use super::Spiller;
use crate::buffer::Buffer;
use crate::pairs::Chunk;
use crate::shuffle::Shuffle;

/// The fewest pairs a buffer holds when the run may spill: a spilled
/// buffer is a run, and tiny runs would make thousands.
const MIN_RUN_PAIRS: usize = 4096;

/// A shuffle strategy under a memory budget.
pub(crate) struct Spilling<'a, K, V> {
    inner: &'a dyn Shuffle<K, V>,
    spiller: &'a Spiller<'a, K, V>,
    /// The most pairs one buffer holds.
    most: usize,
}

impl<'a, K, V> Spilling<'a, K, V> {
    /// `inner`'s work, with full buffers offered to `spiller` first. A
    /// buffer holds at most a quarter of its thread's share of the budget
    /// (at about 64 bytes a pair), and at least `MIN_RUN_PAIRS`, whatever
    /// the strategy's batch size.
    pub fn new(inner: &'a dyn Shuffle<K, V>, spiller: &'a Spiller<'a, K, V>) -> Self {
        let settings = spiller.settings;
        let most = settings.budget / settings.tasks.max(1) / 4 / 64;
        Spilling {
            inner,
            spiller,
            most,
        }
    }
}

impl<K, V> Shuffle<K, V> for Spilling<'_, K, V> {
    fn buffer(&self) -> Buffer<K, V> {
        self.inner
            .buffer()
            .bounded(self.spiller.partitions, MIN_RUN_PAIRS, self.most)
    }

    fn per_task(&self) -> bool {
        self.inner.per_task()
    }

    fn publish(&self, mut parts: Vec<Chunk<K, V>>) {
        if !self.spiller.offer(&mut parts) {
            self.inner.publish(parts);
        }
    }

    fn emit(&self, partition: usize, key: K, value: V) {
        // Not reached: bounded buffers keep every pair.
        self.inner.emit(partition, key, value);
    }

    fn recycle(&self, buffer: Buffer<K, V>) {
        self.inner.recycle(buffer);
    }
}
