//! `lockfree`: confinement plus a lock-free hand-off.
//!
//! While a map task runs, its output sits in a buffer its worker alone
//! owns, so the hot path touches no shared memory at all. A finished buffer
//! arrives here already cut by partition, and each piece is pushed onto its
//! partition's queue: an unbounded crossbeam channel, whose `send` is a
//! lock-free append to a linked list of blocks. No thread ever waits on
//! another: senders never block, and the receivers are drained only after
//! the map phase has joined.

use crossbeam_channel::{unbounded, Receiver, Sender};

use super::{Chunk, Chunks, Shuffle};

/// One partition's queue: both ends, so it can never disconnect.
type Queue<K, V> = (Sender<Chunk<K, V>>, Receiver<Chunk<K, V>>);

pub(crate) struct LockFree<K, V> {
    queues: Vec<Queue<K, V>>,
}

impl<K, V> LockFree<K, V> {
    pub fn new(partitions: usize) -> Self {
        LockFree {
            queues: (0..partitions).map(|_| unbounded()).collect(),
        }
    }
}

impl<K: Send, V: Send> Shuffle<K, V> for LockFree<K, V> {
    fn publish(&self, parts: Vec<Vec<(K, V)>>) {
        debug_assert_eq!(parts.len(), self.queues.len());
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

    fn into_partitions(self: Box<Self>) -> Vec<Chunks<K, V>> {
        self.queues
            .into_iter()
            .map(|(_, receiver)| receiver.try_iter().collect())
            .collect()
    }
}
