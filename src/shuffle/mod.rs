//! The shuffle: how map output reaches the reduce tasks.
//!
//! Every strategy implements the internal [`Shuffle`] trait, one file each,
//! and is chosen through the public [`ShuffleStrategy`]:
//!
//! - `lockfree` (the default): confinement while mapping (each thread's
//!   buffer is its own); finished buffers are cut by partition and pushed
//!   onto one lock-free queue per partition.
//! - `mutex`: one shared table per partition behind a `Mutex`; map tasks
//!   append batches of pairs to it.
//! - `rwlock`: one shared table per partition behind an `RwLock`; an
//!   existing key is updated under the read lock, a new key takes the write
//!   lock.
//! - `channel`: producer-consumer; batches go over bounded channels to one
//!   owner thread per partition, the only one that touches its table.
//! - `cond`: the same producer-consumer shape over a bounded queue built
//!   from a `Mutex` and two `Condvar`s (Go's `sync.Cond`).
//! - `pooled`: one buffer per map task, taken from and returned to a pool.
//!
//! A strategy says how map workers buffer before handing over, and what
//! becomes of a full buffer: all of it lives in the strategy's file. See
//! `README.md` beside this file for the design notes and measurements.

use std::hash::Hash;

use crate::buffer::Buffer;
use crate::pairs::{Chunk, Combiner, Partitions};

mod channel;
mod cond;
mod lockfree;
mod mutex;
mod pooled;
mod rwlock;

/// Pairs per batch for the strategies that hand over batches.
const DEFAULT_BATCH: usize = 1024;
/// Batches a `channel` or `cond` queue holds before senders wait.
const DEFAULT_CAPACITY: usize = 64;

/// The seam between map and reduce.
///
/// A strategy decides how map workers buffer ([`Shuffle::buffer`],
/// [`Shuffle::per_task`]) and what becomes of a full buffer
/// ([`Shuffle::publish`]). `publish` and `emit` are called concurrently
/// from the pool's threads; the map phase ends with a join, after which
/// the strategy gives back every partition's chunks ([`Finish`], or the
/// strategy's own `run`). A layer over any strategy implements it too:
/// spilling ([`Spilling`](crate::spill::Spilling)).
pub(crate) trait Shuffle<K, V>: Sync {
    /// An empty buffer for one map worker, of the kind this strategy
    /// wants: folding, appending in batches, or direct.
    fn buffer(&self) -> Buffer<K, V>;

    /// Whether each map task gets a buffer of its own, from
    /// [`Shuffle::buffer`] and handed back through [`Shuffle::recycle`],
    /// rather than sharing its pool thread's. By default, false.
    fn per_task(&self) -> bool {
        false
    }

    /// Hands over one buffer, already cut by partition: `parts[p]` belongs
    /// to partition `p`.
    fn publish(&self, parts: Vec<Chunk<K, V>>);

    /// Hands over one pair, for the strategies whose buffers are direct.
    fn emit(&self, partition: usize, key: K, value: V) {
        let mut parts: Vec<Chunk<K, V>> = Vec::new();
        parts.resize_with(partition + 1, Vec::new);
        parts[partition].push((key, value));
        self.publish(parts);
    }

    /// Takes back a per-task buffer, emptied, for reuse.
    fn recycle(&self, _buffer: Buffer<K, V>) {}
}

/// Ending the map phase, for strategies that need no threads of their own.
pub(crate) trait Finish<K, V>: Shuffle<K, V> + Sized {
    /// Returns every partition's chunks; called after the map phase joined.
    fn finish(self) -> Partitions<K, V>;
}

/// How map output is handed to the reduce tasks.
///
/// Every strategy gives exactly the same result; they differ in speed,
/// memory and in the concurrency idea they embody. By default,
/// [`ShuffleStrategy::lockfree`], the fastest on every workload we
/// measured.
///
/// # Example
///
/// ```
/// use mr_local::{Job, ShuffleStrategy};
///
/// let strategy = ShuffleStrategy::from_name("channel").unwrap().batch(256).capacity(4);
/// let job = Job::builder().shuffle(strategy).build()?;
/// assert_eq!(job.shuffle_strategy().name(), "channel");
/// # Ok::<(), mr_local::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ShuffleStrategy {
    kind: Kind,
    batch: usize,
    capacity: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    LockFree,
    Mutex,
    RwLock,
    Channel,
    Cond,
    Pooled,
    /// `pooled` without its pool: a fresh buffer per task. Only there to
    /// measure what the pool saves.
    PerTask,
}

impl Default for ShuffleStrategy {
    fn default() -> Self {
        ShuffleStrategy::lockfree()
    }
}

impl ShuffleStrategy {
    const fn of(kind: Kind) -> ShuffleStrategy {
        ShuffleStrategy {
            kind,
            batch: DEFAULT_BATCH,
            capacity: DEFAULT_CAPACITY,
        }
    }

    /// Confinement plus a lock-free hand-off: no thread shares a buffer
    /// while mapping; finished buffers go onto per-partition lock-free
    /// queues. The default.
    pub fn lockfree() -> ShuffleStrategy {
        ShuffleStrategy::of(Kind::LockFree)
    }

    /// One shared table per partition behind a `Mutex`; map tasks append
    /// batches of [`batch`](ShuffleStrategy::batch) pairs under the lock.
    pub fn mutex() -> ShuffleStrategy {
        ShuffleStrategy::of(Kind::Mutex)
    }

    /// One shared table per partition behind an `RwLock`: an existing key's
    /// value is updated under the read lock (and the value's own small
    /// lock); a new key takes the write lock. Every pair goes straight to
    /// the shared table.
    pub fn rwlock() -> ShuffleStrategy {
        ShuffleStrategy::of(Kind::RwLock)
    }

    /// Producer-consumer: map tasks send batches over bounded channels
    /// ([`capacity`](ShuffleStrategy::capacity) batches each) to one owner
    /// thread per partition, the only thread that touches that partition's
    /// table. Owner threads are dedicated threads outside the pool, so a
    /// blocked sender can never starve them.
    pub fn channel() -> ShuffleStrategy {
        ShuffleStrategy::of(Kind::Channel)
    }

    /// Producer-consumer like [`channel`](ShuffleStrategy::channel), over a
    /// bounded queue built from a `Mutex` and two `Condvar`s (Go's
    /// `sync.Cond`) instead of crossbeam's lock-free channel: each queue
    /// holds [`capacity`](ShuffleStrategy::capacity) batches, and one
    /// owner thread per partition, outside the pool, folds them.
    pub fn cond() -> ShuffleStrategy {
        ShuffleStrategy::of(Kind::Cond)
    }

    /// One buffer per map task, taken from a pool and returned to it after
    /// the task, so the steady state allocates no tables.
    pub fn pooled() -> ShuffleStrategy {
        ShuffleStrategy::of(Kind::Pooled)
    }

    #[doc(hidden)]
    /// `pooled` without the pool, for benchmarks that measure the pool.
    pub fn per_task_unpooled() -> ShuffleStrategy {
        ShuffleStrategy::of(Kind::PerTask)
    }

    /// Sets the number of pairs a map task hands over at once, for the
    /// strategies that hand over batches (`mutex`, `channel`, `cond`). By
    /// default 1024; 1 hands over every pair on its own. Values below 1
    /// count as 1.
    pub fn batch(mut self, pairs: usize) -> ShuffleStrategy {
        self.batch = pairs.max(1);
        self
    }

    /// Sets how many batches a `channel` or `cond` queue holds before a
    /// sender waits. By default 64. Values below 1 count as 1.
    pub fn capacity(mut self, batches: usize) -> ShuffleStrategy {
        self.capacity = batches.max(1);
        self
    }

    /// Every strategy, for tests and benchmarks that compare them.
    pub fn all() -> Vec<ShuffleStrategy> {
        [
            Kind::LockFree,
            Kind::Mutex,
            Kind::RwLock,
            Kind::Channel,
            Kind::Cond,
            Kind::Pooled,
        ]
        .into_iter()
        .map(ShuffleStrategy::of)
        .collect()
    }

    /// Looks a strategy up by its [`name`](ShuffleStrategy::name).
    pub fn from_name(name: &str) -> Option<ShuffleStrategy> {
        ShuffleStrategy::all()
            .into_iter()
            .find(|s| s.name() == name)
    }

    /// Returns the strategy's name, as the CLI spells it.
    pub fn name(&self) -> &'static str {
        match self.kind {
            Kind::LockFree => "lockfree",
            Kind::Mutex => "mutex",
            Kind::RwLock => "rwlock",
            Kind::Channel => "channel",
            Kind::Cond => "cond",
            Kind::Pooled => "pooled",
            Kind::PerTask => "per-task",
        }
    }

    /// Runs `map_phase` with a fresh shuffle of this strategy, then ends the
    /// phase and returns what `map_phase` returned with every partition's
    /// chunks.
    pub(crate) fn run<'a, K, V, T>(
        &self,
        partitions: usize,
        combiner: Option<&'a Combiner<'a, V>>,
        map_phase: impl FnOnce(&dyn Shuffle<K, V>) -> T,
    ) -> (T, Partitions<K, V>)
    where
        K: Hash + Eq + Send + Sync + 'a,
        V: Send + 'a,
    {
        fn finish<K, V, T, S: Finish<K, V>>(
            shuffle: S,
            map_phase: impl FnOnce(&dyn Shuffle<K, V>) -> T,
        ) -> (T, Partitions<K, V>) {
            let result = map_phase(&shuffle);
            (result, shuffle.finish())
        }
        let has_combiner = combiner.is_some();
        match self.kind {
            Kind::LockFree => finish(lockfree::LockFree::new(partitions, has_combiner), map_phase),
            Kind::Mutex => finish(
                mutex::MutexShuffle::new(partitions, combiner, self.batch),
                map_phase,
            ),
            Kind::RwLock => finish(rwlock::RwLockShuffle::new(partitions, combiner), map_phase),
            Kind::Pooled => finish(
                pooled::Pooled::new(partitions, has_combiner, true),
                map_phase,
            ),
            Kind::PerTask => finish(
                pooled::Pooled::new(partitions, has_combiner, false),
                map_phase,
            ),
            Kind::Channel => {
                channel::run(partitions, combiner, self.batch, self.capacity, map_phase)
            }
            Kind::Cond => cond::run(partitions, combiner, self.batch, self.capacity, map_phase),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs `job` on another thread and fails if it has not finished in
    /// `limit`: a deadlock shows up as a failure, not as a hung test run.
    fn within<T: Send + 'static>(
        limit: std::time::Duration,
        job: impl FnOnce() -> T + Send + 'static,
    ) -> T {
        let (done, result) = crossbeam_channel::bounded(1);
        std::thread::spawn(move || {
            let _ = done.send(job());
        });
        result
            .recv_timeout(limit)
            .expect("the job did not finish in time: deadlock or livelock")
    }

    /// Many threads, many partitions, one pair per hand-off and channel
    /// queues of one batch: whatever can race or block, does.
    #[test]
    fn every_strategy_survives_stress_without_losing_updates() {
        use crate::{Emit, Inputs, Job};

        let text: String = (0..20_000)
            .map(|i| format!("k{} k{} hot\n", i % 997, i % 13))
            .collect();
        for strategy in ShuffleStrategy::all()
            .into_iter()
            .chain([ShuffleStrategy::per_task_unpooled()])
        {
            for (threads, partitions) in [(1, 64), (8, 64), (8, 1), (3, 200)] {
                let strategy = strategy.batch(1).capacity(1);
                let text = text.clone();
                let (distinct, total, hot) =
                    within(std::time::Duration::from_secs(60), move || {
                        let mut inputs = Inputs::new();
                        inputs.push_bytes("stress", text);
                        let job = Job::builder()
                            .threads(threads)
                            .partitions(partitions)
                            .split_size(4096)
                            .shuffle(strategy)
                            .build()
                            .unwrap();
                        let counts = job
                            .map_reduce(
                                &inputs,
                                |line: &[u8], out: &mut Emit<&[u8], u64>| {
                                    for word in line.split(|b| *b == b' ') {
                                        out.emit(word, 1);
                                    }
                                    Ok(())
                                },
                                |a, b| *a += b,
                            )
                            .unwrap()
                            .into_vec();
                        let hot = counts.iter().find(|(w, _)| *w == b"hot").map(|(_, n)| *n);
                        (
                            counts.len(),
                            counts.iter().map(|(_, n)| n).sum::<u64>(),
                            hot,
                        )
                    });
                let name = strategy.name();
                assert_eq!(
                    distinct,
                    997 + 1,
                    "{name}, {threads} threads, {partitions} partitions"
                );
                assert_eq!(
                    total, 60_000,
                    "{name}, {threads} threads, {partitions} partitions"
                );
                assert_eq!(
                    hot,
                    Some(20_000),
                    "{name}, {threads} threads, {partitions} partitions"
                );
            }
        }
    }

    #[test]
    fn a_panicking_combiner_fails_the_job_under_every_strategy() {
        use crate::{Emit, Inputs, Job};

        for strategy in ShuffleStrategy::all() {
            for skip in [false, true] {
                let outcome = within(std::time::Duration::from_secs(60), move || {
                    let mut inputs = Inputs::new();
                    inputs.push_bytes("text", "a\nb\na\n".repeat(2000));
                    let job = Job::builder()
                        .threads(2)
                        .partitions(4)
                        .split_size(64)
                        .shuffle(strategy.batch(1).capacity(1))
                        .skip_bad_records(skip)
                        .build()
                        .unwrap();
                    job.map_reduce(
                        &inputs,
                        |line: &[u8], out: &mut Emit<&[u8], u64>| {
                            out.emit(line, 1);
                            Ok(())
                        },
                        |_, _| panic!("combiner failed"),
                    )
                    .map(|_| ())
                    .map_err(|err| err.to_string())
                });
                let err = outcome.expect_err(strategy.name());
                assert!(err.ends_with("panicked: combiner failed"), "{err}");
            }
        }
    }

    #[test]
    fn names_round_trip() {
        for s in ShuffleStrategy::all() {
            assert_eq!(ShuffleStrategy::from_name(s.name()), Some(s));
        }
        assert_eq!(ShuffleStrategy::from_name("nope"), None);
        assert_eq!(ShuffleStrategy::from_name("per-task"), None);
        assert_eq!(ShuffleStrategy::default(), ShuffleStrategy::lockfree());
    }
}
