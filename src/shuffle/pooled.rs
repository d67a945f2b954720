//! `pooled`: a buffer per map task, recycled through a pool.
//!
//! Go's `sync.Pool` idea. Each map task (one split) takes a combining
//! buffer from the pool, or makes one if the pool is empty, maps its split
//! into it, hands the contents over through the same lock-free queues as
//! `lockfree`, and puts the emptied buffer back with its allocation intact.
//! In the steady state no task allocates a table; without the pool
//! (`per_task_unpooled`, for measurements) each task builds and grows a
//! fresh one. The pool itself is an unbounded crossbeam channel: taking is
//! a non-blocking `try_recv`, returning a non-blocking `send`, so nothing
//! ever waits on it.
//!
//! Compared with `lockfree`, whose buffers live per thread for the whole
//! phase, a buffer per task combines only within one split, so more pairs
//! reach reduce: the price of task-local state.

use crossbeam_channel::{unbounded, Receiver, Sender};

use super::lockfree::LockFree;
use super::{Finish, Shuffle};
use crate::buffer::Buffer;
use crate::pairs::{Chunk, Partitions};

type Pool<K, V> = (Sender<Buffer<K, V>>, Receiver<Buffer<K, V>>);

pub(crate) struct Pooled<K, V> {
    queues: LockFree<K, V>,
    pool: Option<Pool<K, V>>,
}

impl<K, V> Pooled<K, V> {
    pub fn new(partitions: usize, has_combiner: bool, pooled: bool) -> Self {
        Pooled {
            queues: LockFree::new(partitions, has_combiner),
            pool: pooled.then(unbounded),
        }
    }
}

impl<K: Send, V: Send> Shuffle<K, V> for Pooled<K, V> {
    /// A buffer from the pool if one is free, else a new one as `lockfree`
    /// makes them.
    fn buffer(&self) -> Buffer<K, V> {
        self.pool
            .as_ref()
            .and_then(|(_, free)| free.try_recv().ok())
            .unwrap_or_else(|| self.queues.new_buffer())
    }

    fn per_task(&self) -> bool {
        true
    }

    fn publish(&self, parts: Vec<Chunk<K, V>>) {
        self.queues.publish(parts);
    }

    fn recycle(&self, buffer: Buffer<K, V>) {
        if let Some((free, _)) = &self.pool {
            // Cannot fail: the receiver lives beside the sender in `self`.
            let _ = free.send(buffer);
        }
    }
}

impl<K: Send, V: Send> Finish<K, V> for Pooled<K, V> {
    fn finish(self) -> Partitions<K, V> {
        self.queues.finish()
    }
}
