//! `rwlock`: one shared table per partition behind an `RwLock`.
//!
//! The RWMutex trade-off: every emitted pair goes straight to its
//! partition's shared table. If the key is already there, its value is
//! updated under the *read* lock, so any number of threads can update
//! different (or the same) existing keys at once; each value sits in its
//! own small `Mutex`, which makes the update atomic. A key not yet there
//! needs the *write* lock, which waits for every reader to leave and keeps
//! new readers out while it waits. Jobs without a combiner append every pair
//! under the write lock, since a list cannot grow under a read lock.
//!
//! So it shines when the vocabulary is small and reused (nearly all reads)
//! and suffers when new keys keep arriving (a writer per new key, each
//! draining all readers). `std::sync::RwLock` on Linux prefers writers once
//! one is waiting, so writers do not starve; readers pay for it instead.
//! Deadlock cannot happen: a thread holds one table lock, and at most one
//! value lock inside it, always in that order.

use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Mutex, PoisonError, RwLock};

use super::{Finish, Shuffle};
use crate::buffer::Buffer;
use crate::pairs::{Chunk, Combiner, Partitions};

struct Shared<K, V> {
    values: HashMap<K, Mutex<V>, ahash::RandomState>,
    /// Only touched under the write lock (through `get_mut`); the `Mutex`
    /// is there so that sharing the table does not require `V: Sync`.
    pairs: Mutex<Vec<(K, V)>>,
}

pub(crate) struct RwLockShuffle<'a, K, V> {
    tables: Vec<RwLock<Shared<K, V>>>,
    combiner: Option<&'a Combiner<'a, V>>,
}

impl<'a, K: Hash + Eq, V> RwLockShuffle<'a, K, V> {
    pub fn new(partitions: usize, combiner: Option<&'a Combiner<'a, V>>) -> Self {
        let shared = || {
            RwLock::new(Shared {
                values: HashMap::with_hasher(ahash::RandomState::new()),
                pairs: Mutex::default(),
            })
        };
        RwLockShuffle {
            tables: (0..partitions).map(|_| shared()).collect(),
            combiner,
        }
    }
}

impl<K: Hash + Eq + Send + Sync, V: Send> Shuffle<K, V> for RwLockShuffle<'_, K, V> {
    /// No buffer: every pair goes straight to the shared table.
    fn buffer(&self) -> Buffer<K, V> {
        Buffer::direct()
    }

    fn publish(&self, parts: Vec<Chunk<K, V>>) {
        for (partition, part) in parts.into_iter().enumerate() {
            for (key, value) in part {
                self.emit(partition, key, value);
            }
        }
    }

    fn emit(&self, partition: usize, key: K, value: V) {
        // Poison is ignored throughout: it means a combiner panicked, and
        // that panic is already on its way to the caller.
        let table = &self.tables[partition];
        let Some(combine) = self.combiner else {
            let mut shared = table.write().unwrap_or_else(PoisonError::into_inner);
            shared
                .pairs
                .get_mut()
                .unwrap_or_else(PoisonError::into_inner)
                .push((key, value));
            return;
        };
        {
            let shared = table.read().unwrap_or_else(PoisonError::into_inner);
            if let Some(slot) = shared.values.get(&key) {
                combine(
                    &mut slot.lock().unwrap_or_else(PoisonError::into_inner),
                    value,
                );
                return;
            }
        }
        // Another thread may have inserted the key between the two locks.
        let mut shared = table.write().unwrap_or_else(PoisonError::into_inner);
        match shared.values.entry(key) {
            Entry::Occupied(mut slot) => combine(
                slot.get_mut()
                    .get_mut()
                    .unwrap_or_else(PoisonError::into_inner),
                value,
            ),
            Entry::Vacant(slot) => {
                slot.insert(Mutex::new(value));
            }
        }
    }
}

impl<K: Hash + Eq + Send + Sync, V: Send> Finish<K, V> for RwLockShuffle<'_, K, V> {
    fn finish(self) -> Partitions<K, V> {
        self.tables
            .into_iter()
            .map(|table| {
                let shared = table.into_inner().unwrap_or_else(PoisonError::into_inner);
                let mut chunk = shared
                    .pairs
                    .into_inner()
                    .unwrap_or_else(PoisonError::into_inner);
                chunk.extend(
                    shared
                        .values
                        .into_iter()
                        .map(|(k, v)| (k, v.into_inner().unwrap_or_else(PoisonError::into_inner))),
                );
                if chunk.is_empty() {
                    Vec::new()
                } else {
                    vec![chunk]
                }
            })
            .collect()
    }
}
