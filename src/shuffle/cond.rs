//! `cond`: producer-consumer over a hand-built bounded queue, one owner
//! thread per partition.
//!
//! The same shape as `channel` (map tasks batch pairs by partition and
//! send each full batch to the partition's owner thread, the only thread
//! that touches that partition's table), with the queue built from the
//! seed's last primitive: a `Mutex` and two `Condvar`s, Go's `sync.Cond`,
//! the textbook bounded buffer. `not_full` is where producers wait for
//! room, `not_empty` where the owner waits for a batch.
//!
//! Why no wake-up is lost: the condition a thread waits on (the queue's
//! length, its flags) is only changed, and only checked, under the queue's
//! mutex, and `Condvar::wait` releases that mutex and starts waiting in one
//! step. So a notifier that changes the state either runs before the
//! waiter checks (the waiter sees the change and does not wait) or after
//! the waiter is waiting (and its notify reaches it); there is no moment
//! between the check and the wait for the notify to fall into. Each waiter
//! counts itself in the state before waiting, under the same mutex, so a
//! notifier that sees no one counted can skip the notify (a system call)
//! without losing anything: a waiter not yet counted has not yet checked.
//! Notifies are made just after the guard is dropped, so the woken thread
//! does not wake only to block on the mutex the notifier still holds.
//! Spurious wake-ups are allowed by `Condvar`: every wait is in a `while`
//! loop that checks its condition again.
//!
//! Why it cannot deadlock: as with `channel`, owners are dedicated threads
//! started in a scope around the map phase, never rayon tasks; a sender
//! waits only on its owner and an owner only on its queue. The map phase
//! ends by closing every queue (a flag and a `notify_all`), whereupon each
//! owner drains its queue and returns its table. If an owner panics (a
//! combiner panicked), a drop guard marks its queue as gone and wakes every
//! blocked sender; their send fails, and the owner's panic reaches the
//! caller when it is joined.
//!
//! What it costs against `channel`: crossbeam's bounded channel is a
//! lock-free array queue, where a send or receive is a few atomic
//! operations and a thread that finds it full or empty spins briefly before
//! it parks. Here every send and every receive takes the mutex, so the
//! mappers and the owner contend for one lock per partition, and every wait
//! is a futex sleep and a futex wake-up in the kernel, with no spinning to
//! catch a slot that frees up a moment later.

use std::collections::VecDeque;
use std::hash::Hash;
use std::panic;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::thread;

use super::Shuffle;
use crate::buffer::Buffer;
use crate::pairs::{Chunk, Combiner, Partitions, Table};

/// A bounded FIFO queue with one consumer: a `Mutex` and two `Condvar`s.
struct Queue<T> {
    state: Mutex<State<T>>,
    /// Producers wait here while the queue is full.
    not_full: Condvar,
    /// The consumer waits here while the queue is empty and open.
    not_empty: Condvar,
    /// Items the queue holds before a producer waits; at least 1.
    capacity: usize,
}

struct State<T> {
    items: VecDeque<T>,
    /// No more items will come: the map phase ended.
    closed: bool,
    /// The consumer is gone (it panicked): sends fail.
    gone: bool,
    /// Producers waiting on `not_full`.
    blocked_senders: usize,
    /// Whether the consumer is waiting on `not_empty`.
    receiver_waiting: bool,
}

impl<T> Queue<T> {
    fn new(capacity: usize) -> Self {
        Queue {
            state: Mutex::new(State {
                items: VecDeque::with_capacity(capacity),
                closed: false,
                gone: false,
                blocked_senders: 0,
                receiver_waiting: false,
            }),
            not_full: Condvar::new(),
            not_empty: Condvar::new(),
            capacity: capacity.max(1),
        }
    }

    /// Locks the state, ignoring poison: no code here panics while holding
    /// it, and a panic anywhere else is already on its way to the caller.
    fn lock(&self) -> MutexGuard<'_, State<T>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Appends `item`, waiting while the queue is full. Gives it back if
    /// the consumer is gone.
    fn send(&self, item: T) -> Result<(), T> {
        let mut state = self.lock();
        while state.items.len() >= self.capacity && !state.gone {
            state.blocked_senders += 1;
            state = self
                .not_full
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
            state.blocked_senders -= 1;
        }
        if state.gone {
            return Err(item);
        }
        state.items.push_back(item);
        let wake = state.receiver_waiting;
        drop(state);
        if wake {
            self.not_empty.notify_one();
        }
        Ok(())
    }

    /// Takes the oldest item, waiting while the queue is empty; `None` once
    /// it is empty and closed.
    fn recv(&self) -> Option<T> {
        let mut state = self.lock();
        loop {
            if let Some(item) = state.items.pop_front() {
                // One slot freed: one waiting producer can use it.
                let wake = state.blocked_senders > 0;
                drop(state);
                if wake {
                    self.not_full.notify_one();
                }
                return Some(item);
            }
            if state.closed {
                return None;
            }
            state.receiver_waiting = true;
            state = self
                .not_empty
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
            state.receiver_waiting = false;
        }
    }

    /// No more items will be sent: wakes the consumer to drain and stop.
    fn close(&self) {
        self.lock().closed = true;
        self.not_empty.notify_all();
    }

    /// The consumer is gone: wakes every blocked producer, whose send fails.
    fn abandon(&self) {
        self.lock().gone = true;
        self.not_full.notify_all();
    }
}

/// Abandons its queue when dropped: the owner holds one, so that its
/// queue is marked gone however the owner ends, a combiner's panic
/// included (after a normal end no sender remains, so it changes nothing).
struct Gone<'q, T>(&'q Queue<T>);

impl<T> Drop for Gone<'_, T> {
    fn drop(&mut self) {
        self.0.abandon();
    }
}

struct CondShuffle<'q, K, V> {
    queues: &'q [Queue<Chunk<K, V>>],
    batch: usize,
}

impl<K: Send, V: Send> Shuffle<K, V> for CondShuffle<'_, K, V> {
    /// Batches of pairs, not folded: the owner folds them.
    fn buffer(&self) -> Buffer<K, V> {
        Buffer::appending(self.queues.len(), self.batch)
    }

    fn publish(&self, parts: Vec<Chunk<K, V>>) {
        for (queue, part) in self.queues.iter().zip(parts) {
            if !part.is_empty() && queue.send(part).is_err() {
                // A queue is only abandoned early if its owner panicked.
                panic!("a partition's owner thread stopped: its panic comes first");
            }
        }
    }
}

/// Closing every queue when the map phase ends, normally or by a panic, so
/// the owners always return and the scope's join cannot hang.
impl<K, V> Drop for CondShuffle<'_, K, V> {
    fn drop(&mut self) {
        self.queues.iter().for_each(Queue::close);
    }
}

/// Starts the owners, runs `map_phase`, then closes the queues and
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
    let queues: Vec<Queue<Chunk<K, V>>> = (0..partitions).map(|_| Queue::new(capacity)).collect();
    thread::scope(|scope| {
        let owners: Vec<_> = queues
            .iter()
            .enumerate()
            .map(|(partition, queue)| {
                thread::Builder::new()
                    .name(format!("mr-local-owner-{partition}"))
                    .spawn_scoped(scope, move || {
                        let _gone = Gone(queue);
                        let mut table = Table::new(combiner);
                        while let Some(chunk) = queue.recv() {
                            table.absorb(chunk);
                        }
                        table.into_chunks()
                    })
                    .expect("the operating system refused to start a partition owner thread")
            })
            .collect();
        let shuffle = CondShuffle {
            queues: &queues,
            batch,
        };
        let result = map_phase(&shuffle);
        // Closing every queue lets the owners drain and return.
        drop(shuffle);
        let parts = owners
            .into_iter()
            .map(|owner| owner.join().unwrap_or_else(|p| panic::resume_unwind(p)))
            .collect();
        (result, parts)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    /// Runs `job` on another thread and fails if it has not finished in
    /// ten seconds: a hang shows up as a failure.
    fn within<T: Send + 'static>(job: impl FnOnce() -> T + Send + 'static) -> T {
        let (done, result) = crossbeam_channel::bounded(1);
        thread::spawn(move || {
            let _ = done.send(job());
        });
        result
            .recv_timeout(Duration::from_secs(10))
            .expect("the queue did not finish in time: a lost wake-up or a deadlock")
    }

    #[test]
    fn a_one_slot_queue_delivers_everything_once_in_each_producers_order() {
        const PRODUCERS: usize = 4;
        const EACH: usize = 300;
        let got = within(|| {
            let queue = Queue::new(1);
            thread::scope(|scope| {
                let consumer = scope.spawn(|| {
                    let mut got = Vec::new();
                    while let Some(item) = queue.recv() {
                        got.push(item);
                        // A slow consumer: producers keep finding it full.
                        if got.len() % 8 == 0 {
                            thread::sleep(Duration::from_micros(200));
                        }
                    }
                    got
                });
                let producers: Vec<_> = (0..PRODUCERS)
                    .map(|p| {
                        let queue = &queue;
                        scope.spawn(move || (0..EACH).for_each(|i| queue.send((p, i)).unwrap()))
                    })
                    .collect();
                producers.into_iter().for_each(|p| p.join().unwrap());
                queue.close();
                consumer.join().unwrap()
            })
        });
        assert_eq!(got.len(), PRODUCERS * EACH);
        for p in 0..PRODUCERS {
            let mine: Vec<usize> = got
                .iter()
                .filter(|(q, _)| *q == p)
                .map(|(_, i)| *i)
                .collect();
            assert_eq!(mine, (0..EACH).collect::<Vec<_>>(), "producer {p}");
        }
    }

    #[test]
    fn an_owner_that_panics_wakes_a_blocked_sender() {
        let sent = within(|| {
            let queue = Queue::new(1);
            queue.send(1).unwrap();
            thread::scope(|scope| {
                let sender = scope.spawn(|| queue.send(2));
                // Wait until the sender is really blocked on the full queue.
                let deadline = Instant::now() + Duration::from_secs(5);
                while queue.lock().blocked_senders == 0 {
                    assert!(Instant::now() < deadline, "the sender never blocked");
                    thread::yield_now();
                }
                let owner = scope.spawn(|| {
                    let _gone = Gone(&queue);
                    panic!("the owner failed");
                });
                assert!(owner.join().is_err());
                sender.join().unwrap()
            })
        });
        assert_eq!(sent, Err(2));
    }
}
