//! `channel`: producer-consumer, with one owner thread per partition.
//!
//! Map tasks batch pairs by partition and send each full batch over a
//! bounded crossbeam channel to the partition's owner thread, the only
//! thread that ever touches that partition's table (a singular update
//! queue). The bound applies back-pressure: a map task that outruns its
//! owner waits in `send`.
//!
//! Why this cannot deadlock, with any number of pool threads (1 included)
//! and any number of partitions: owners are dedicated threads, started in a
//! scope around the map phase, never rayon tasks. An owner waits only on
//! its own channel, and a sender waits only on an owner, which always makes
//! progress; so there is no cycle of waits. The map phase ends by dropping
//! every sender; each owner then drains its channel and returns its table,
//! and joining them is the phase's barrier. If an owner panics (a combiner
//! panicked), its channel disconnects, senders stop waiting, and the panic
//! reaches the caller.

use std::hash::Hash;
use std::panic;
use std::thread;

use crossbeam_channel::{bounded, Sender};

use super::Shuffle;
use crate::buffer::Buffer;
use crate::pairs::{Chunk, Combiner, Partitions, Table};

struct ChannelShuffle<K, V> {
    senders: Vec<Sender<Chunk<K, V>>>,
    batch: usize,
}

impl<K: Send, V: Send> Shuffle<K, V> for ChannelShuffle<K, V> {
    /// Batches of pairs, not folded: the owner folds them.
    fn buffer(&self) -> Buffer<K, V> {
        Buffer::appending(self.senders.len(), self.batch)
    }

    fn publish(&self, parts: Vec<Chunk<K, V>>) {
        for (sender, part) in self.senders.iter().zip(parts) {
            if !part.is_empty() && sender.send(part).is_err() {
                // The receiver only goes away early if its owner panicked.
                panic!("a partition's owner thread stopped: its panic comes first");
            }
        }
    }
}

/// Starts the owners, runs `map_phase`, then closes the channels and
/// collects every owner's table.
pub(crate) fn run<'a, K, V, T>(
    partitions: usize,
    combiner: Option<&'a Combiner<'a, V>>,
    batch: usize,
    capacity: usize,
    map_phase: impl FnOnce(&dyn Shuffle<K, V>) -> T,
) -> (T, Partitions<K, V>)
where
    K: Hash + Eq + Send + 'a,
    V: Send + 'a,
{
    thread::scope(|scope| {
        let mut senders = Vec::with_capacity(partitions);
        let mut owners = Vec::with_capacity(partitions);
        for partition in 0..partitions {
            let (sender, receiver) = bounded::<Chunk<K, V>>(capacity);
            senders.push(sender);
            let owner = thread::Builder::new()
                .name(format!("mr-local-owner-{partition}"))
                .spawn_scoped(scope, move || {
                    let mut table = Table::new(combiner);
                    for chunk in receiver {
                        table.absorb(chunk);
                    }
                    table.into_chunks()
                })
                .expect("the operating system refused to start a partition owner thread");
            owners.push(owner);
        }
        let shuffle = ChannelShuffle { senders, batch };
        let result = map_phase(&shuffle);
        // Closing every channel lets the owners drain and return.
        drop(shuffle);
        let parts = owners
            .into_iter()
            .map(|owner| owner.join().unwrap_or_else(|p| panic::resume_unwind(p)))
            .collect();
        (result, parts)
    })
}
