//! `mutex`: one shared table per partition behind a `Mutex`.
//!
//! The classic shared-state design: map tasks batch pairs by partition
//! (without combining them) and, when a batch is full, take the partition's
//! lock and fold the batch into its table. Batching makes one lock
//! acquisition pay for many pairs; with `batch(1)` every pair takes the lock,
//! which is the unbatched variant the benchmarks compare against.
//!
//! Deadlock cannot happen: a task holds at most one lock at a time and
//! never waits for anything while holding it. Starvation is bounded by the
//! fairness of `std::sync::Mutex` (a futex: waiters are woken in turn, but
//! without strict FIFO order).

use std::hash::Hash;
use std::sync::{Mutex, MutexGuard, PoisonError};

use super::{Finish, Shuffle};
use crate::buffer::Buffer;
use crate::pairs::{Chunk, Combiner, Partitions, Table};

pub(crate) struct MutexShuffle<'a, K, V> {
    tables: Vec<Mutex<Table<'a, K, V>>>,
    batch: usize,
}

impl<'a, K: Hash + Eq, V> MutexShuffle<'a, K, V> {
    pub fn new(partitions: usize, combiner: Option<&'a Combiner<'a, V>>, batch: usize) -> Self {
        MutexShuffle {
            tables: (0..partitions)
                .map(|_| Mutex::new(Table::new(combiner)))
                .collect(),
            batch,
        }
    }
}

/// Locks `mutex`, ignoring poison: a poisoned table means a combiner
/// panicked, and that panic is already on its way to the caller.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl<K: Hash + Eq + Send, V: Send> Shuffle<K, V> for MutexShuffle<'_, K, V> {
    /// Batches of pairs, not folded: the table folds them under its lock.
    fn buffer(&self) -> Buffer<K, V> {
        Buffer::appending(self.tables.len(), self.batch)
    }

    fn publish(&self, parts: Vec<Chunk<K, V>>) {
        for (table, part) in self.tables.iter().zip(parts) {
            if !part.is_empty() {
                lock(table).absorb(part);
            }
        }
    }
}

impl<K: Hash + Eq + Send, V: Send> Finish<K, V> for MutexShuffle<'_, K, V> {
    fn finish(self) -> Partitions<K, V> {
        self.tables
            .into_iter()
            .map(|t| {
                t.into_inner()
                    .unwrap_or_else(PoisonError::into_inner)
                    .into_chunks()
            })
            .collect()
    }
}
