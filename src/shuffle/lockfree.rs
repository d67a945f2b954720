//! `lockfree`: confinement plus a lock-free hand-off.
//!
//! While a map task runs, its output sits in a buffer its thread alone
//! owns, so the hot path touches no shared memory at all. A finished buffer
//! arrives here already cut by partition, and each piece is pushed onto its
//! partition's queue: an unbounded crossbeam channel, whose `send` is a
//! lock-free append to a linked list of blocks. No thread ever waits on
//! another: senders never block, and the queues are drained only after the
//! map phase has joined.

use crossbeam_channel::{unbounded, Receiver, Sender};

use super::{Finish, Shuffle};
use crate::buffer::Buffer;
use crate::pairs::{Chunk, Partitions};

/// A folding buffer is handed over once it holds this many distinct keys,
/// which bounds its memory on huge vocabularies.
const FOLDING_FULL_AT: usize = 1 << 20;
/// An appending buffer (a job without a combiner) is handed over once it
/// holds this many pairs.
const APPENDING_FULL_AT: usize = 1 << 16;

/// One partition's queue: both ends, so it can never disconnect.
type Queue<K, V> = (Sender<Chunk<K, V>>, Receiver<Chunk<K, V>>);

pub(crate) struct LockFree<K, V> {
    queues: Vec<Queue<K, V>>,
    /// Whether the job has a combiner: buffers fold if it has.
    has_combiner: bool,
}

impl<K, V> LockFree<K, V> {
    pub fn new(partitions: usize, has_combiner: bool) -> Self {
        LockFree {
            queues: (0..partitions).map(|_| unbounded()).collect(),
            has_combiner,
        }
    }

    /// A buffer as this strategy wants it: folding with the job's combiner,
    /// else appending, and large either way, so that it is seldom handed
    /// over.
    pub fn new_buffer(&self) -> Buffer<K, V> {
        match self.has_combiner {
            true => Buffer::folding(FOLDING_FULL_AT),
            false => Buffer::appending(self.queues.len(), APPENDING_FULL_AT),
        }
    }
}

impl<K: Send, V: Send> Shuffle<K, V> for LockFree<K, V> {
    fn buffer(&self) -> Buffer<K, V> {
        self.new_buffer()
    }

    fn publish(&self, parts: Vec<Chunk<K, V>>) {
        for (part, (sender, _)) in parts.into_iter().zip(&self.queues) {
            if !part.is_empty() {
                // Cannot fail: the receiver lives in `self` beside the
                // sender, so the channel is never disconnected here.
                sender
                    .send(part)
                    .expect("a partition's queue outlives its senders");
            }
        }
    }
}

impl<K: Send, V: Send> Finish<K, V> for LockFree<K, V> {
    fn finish(self) -> Partitions<K, V> {
        self.queues
            .into_iter()
            .map(|(_, receiver)| receiver.try_iter().collect())
            .collect()
    }
}
