//! How many files the merges of spill runs may hold open at once, and how
//! the merges that run at once share them.
//!
//! Every merge reads from a file per run it merges and writes to one file
//! (a new run, or the reduce task's output), and several merges run at
//! once: without a bound, open files grow with the thread count (64 runs
//! merged on each of 32 threads wanted 1600 and more) and the job fails
//! with "too many open files" under a common limit of 1024. So a job's
//! merges share a [`FileBudget`]: at most `lanes` of them run at once,
//! each merging at most `fan_in` runs into one file, and
//! `lanes * (fan_in + 1)` stays within the budget. More runs than
//! `fan_in` are merged in rounds first ([`Spiller::finish`]).
//!
//! Map tasks writing runs take a file each from [`Permits`] of the same
//! count, waiting when none is left.
//!
//! By default the budget is what the descriptor limit (`RLIMIT_NOFILE`'s
//! soft limit) leaves free when the map phase starts, less a reserve for
//! the files the caller opens meanwhile (outputs, reports).
//!
//! [`Spiller::finish`]: super::Spiller::finish

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, PoisonError};

use rayon::prelude::*;

use super::os;
use crate::error::Error;

/// The most runs one merge reads from: beyond, a heap of that many
/// sources costs more than another round.
pub(crate) const MAX_FAN_IN: usize = 64;
/// The fewest runs a merge reads from (merging one would copy it).
const MIN_FAN_IN: usize = 2;
/// Descriptors left alone for what the caller opens while the merges run:
/// output and report files, a progress bar's terminal.
const RESERVE: u64 = 16;

/// How a job's merges share the files they may hold open at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct FileBudget {
    /// Merges that run at once, at most.
    pub lanes: usize,
    /// Runs each reads from, at most (each also writes one file).
    pub fan_in: usize,
}

impl FileBudget {
    /// Shares `files` between at most `tasks` merges running at once.
    /// Below three files a merge (two runs and an output) it gives one
    /// lane of the smallest fan-in, which may then exceed `files`.
    pub fn new(files: usize, tasks: usize) -> FileBudget {
        let lanes = tasks.min(files / (MIN_FAN_IN + 1)).max(1);
        let fan_in = (files / lanes)
            .saturating_sub(1)
            .clamp(MIN_FAN_IN, MAX_FAN_IN);
        FileBudget { lanes, fan_in }
    }

    /// Runs `task` on every item, at most `lanes` at once, as
    /// [`in_lanes`] does.
    pub fn run<T, R, F>(&self, items: Vec<T>, task: F) -> Result<Vec<R>, Error>
    where
        T: Send,
        R: Send,
        F: Fn(usize, T) -> Result<R, Error> + Sync,
    {
        in_lanes(self.lanes, items, task)
    }
}

/// Runs `task` on every item, on the current rayon pool, never more than
/// `lanes` at once, starting items in their order: each lane takes the
/// next item when it is done with one, so that nested parallelism in
/// `task` cannot start more, and items finish about in order (a caller
/// writing results in order holds few). Returns the results in the items'
/// order, or the first error, after which no new item is started.
pub(crate) fn in_lanes<T, R, F>(lanes: usize, items: Vec<T>, task: F) -> Result<Vec<R>, Error>
where
    T: Send,
    R: Send,
    F: Fn(usize, T) -> Result<R, Error> + Sync,
{
    let n = items.len();
    let items: Vec<Mutex<Option<T>>> = items.into_iter().map(|i| Mutex::new(Some(i))).collect();
    let results: Vec<Mutex<Option<R>>> = (0..n).map(|_| Mutex::new(None)).collect();
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let failed: Mutex<Option<Error>> = Mutex::new(None);
    (0..lanes.min(n)).into_par_iter().for_each(|_| {
        while !stop.load(Ordering::Relaxed) {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(item) = items.get(i).and_then(|m| take(m)) else {
                return;
            };
            match task(i, item) {
                Ok(result) => *put(&results[i]) = Some(result),
                Err(err) => {
                    stop.store(true, Ordering::Relaxed);
                    put(&failed).get_or_insert(err);
                }
            }
        }
    });
    if let Some(err) = failed.into_inner().unwrap_or_else(PoisonError::into_inner) {
        return Err(err);
    }
    Ok(results
        .into_iter()
        .filter_map(|m| m.into_inner().unwrap_or_else(PoisonError::into_inner))
        .collect())
}

/// The files a job's spilling may hold open at once: `files` if given,
/// else what the descriptor limit leaves free now, less a reserve, and no
/// more than `tasks` merges at once would want.
pub(crate) fn free_files(files: Option<usize>, tasks: usize) -> usize {
    files.unwrap_or_else(|| {
        let unbounded = tasks.saturating_mul(MAX_FAN_IN + 1);
        let Some(limit) = os::open_files_limit() else {
            return unbounded;
        };
        // Where the open files cannot be counted, a process has the
        // three standard streams and a few of its own.
        let open = os::open_files().unwrap_or(8);
        let free = limit.saturating_sub(open).saturating_sub(RESERVE);
        usize::try_from(free).map_or(unbounded, |free| free.min(unbounded))
    })
}

/// A count of files that may be opened, for writers that each open one
/// (map tasks writing runs) and wait their turn when none is left. A
/// holder only writes its file, never waits on the pool: so waiting
/// cannot deadlock it.
pub(crate) struct Permits {
    free: Mutex<usize>,
    freed: Condvar,
}

impl Permits {
    pub fn new(n: usize) -> Permits {
        Permits {
            free: Mutex::new(n.max(1)),
            freed: Condvar::new(),
        }
    }

    /// Waits for a file to be free, and takes it until the permit drops.
    pub fn acquire(&self) -> Permit<'_> {
        let mut free = put(&self.free);
        while *free == 0 {
            free = self
                .freed
                .wait(free)
                .unwrap_or_else(PoisonError::into_inner);
        }
        *free -= 1;
        Permit(self)
    }
}

/// One file of [`Permits`], given back when dropped.
pub(crate) struct Permit<'p>(&'p Permits);

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        *put(&self.0.free) += 1;
        self.0.freed.notify_one();
    }
}

fn take<T>(slot: &Mutex<Option<T>>) -> Option<T> {
    put(slot).take()
}

fn put<T>(slot: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    slot.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lanes_and_fan_in_stay_within_the_files() {
        assert_eq!(
            FileBudget::new(10_000, 4),
            FileBudget {
                lanes: 4,
                fan_in: 64
            }
        );
        assert_eq!(
            FileBudget::new(40, 8),
            FileBudget {
                lanes: 8,
                fan_in: 4
            }
        );
        assert_eq!(
            FileBudget::new(20, 8),
            FileBudget {
                lanes: 6,
                fan_in: 2
            }
        );
        assert_eq!(
            FileBudget::new(7, 1),
            FileBudget {
                lanes: 1,
                fan_in: 6
            }
        );
        // Too few for one merge: one, at the smallest fan-in.
        assert_eq!(
            FileBudget::new(0, 8),
            FileBudget {
                lanes: 1,
                fan_in: 2
            }
        );
        for files in 3..200 {
            for tasks in 1..40 {
                let b = FileBudget::new(files, tasks);
                assert!(b.lanes * (b.fan_in + 1) <= files, "{files} {tasks}: {b:?}");
                assert!(b.lanes <= tasks);
            }
        }
    }

    #[test]
    fn run_keeps_order_and_never_runs_more_than_its_lanes() {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(8)
            .build()
            .unwrap();
        let budget = FileBudget {
            lanes: 3,
            fan_in: 2,
        };
        let (now, most) = (AtomicUsize::new(0), AtomicUsize::new(0));
        let out = pool
            .install(|| {
                budget.run((0..100).collect(), |i, item: usize| {
                    let running = now.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(running, Ordering::SeqCst);
                    // Nested parallelism may steal work, never a new item.
                    let sum: usize = (0..1000).into_par_iter().sum();
                    now.fetch_sub(1, Ordering::SeqCst);
                    assert_eq!(i, item);
                    assert_eq!(sum, 499_500);
                    Ok(item * 2)
                })
            })
            .unwrap();
        assert_eq!(out, (0..100).map(|i| i * 2).collect::<Vec<_>>());
        assert!(most.load(Ordering::SeqCst) <= 3);
    }

    #[test]
    fn permits_never_let_more_writers_in() {
        let permits = Permits::new(2);
        let (now, most) = (AtomicUsize::new(0), AtomicUsize::new(0));
        std::thread::scope(|scope| {
            for _ in 0..8 {
                scope.spawn(|| {
                    for _ in 0..50 {
                        let _permit = permits.acquire();
                        let running = now.fetch_add(1, Ordering::SeqCst) + 1;
                        most.fetch_max(running, Ordering::SeqCst);
                        std::thread::yield_now();
                        now.fetch_sub(1, Ordering::SeqCst);
                    }
                });
            }
        });
        assert_eq!(most.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn run_stops_at_an_error() {
        let budget = FileBudget {
            lanes: 1,
            fan_in: 2,
        };
        let started = AtomicUsize::new(0);
        let out = budget.run((0..10).collect(), |_, item: usize| {
            started.fetch_add(1, Ordering::SeqCst);
            match item {
                3 => Err(Error::io("x", std::io::Error::other("broken"))),
                _ => Ok(item),
            }
        });
        assert!(out.is_err());
        assert_eq!(started.load(Ordering::SeqCst), 4);
    }
}
