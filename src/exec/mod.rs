//! The executor: runs one pass of map, shuffle and reduce on a job's pool.
//!
//! A run goes: map every split on the pool (each worker fills a buffer it
//! alone owns, [`map`](crate::map)) → hand full buffers to the shuffle
//! strategy, or the spilling layer over it → map the open inputs chunk by
//! chunk as a reader thread cuts them (`stream`) → let mappers emit their
//! per-thread state → flush every worker → merge spilled runs → reduce
//! every partition in parallel. [`Engine`] holds what a run needs of the
//! job's settings; [`Pass`] says what one run maps.
//!
//! - `mod.rs`: [`Engine::run`], the phases in order.
//! - `task`: one map task, with bad records failed or skipped.
//! - `stream`: open inputs read and mapped as they come; compressed files
//!   of several members decoded on the pool, a segment per task.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Instant;

use rayon::prelude::*;
use rayon::ThreadPool;

use crate::buffer::Container;
use crate::counters::{take_thread_counters, Counters, Phase, Progress, ProgressFn, SkipLog};
use crate::error::{panicked, Error};
use crate::input::split::Split;
use crate::input::{Inputs, Records};
use crate::map::{Absorb, Emit, Folder, MapChunk, Mapper, RunId, Sink, Slot, Unfolded, Worker};
use crate::pairs::{Chunks, Combiner, Partitions};
use crate::partition::Route;
use crate::reduce::ReduceInput;
use crate::shuffle::{Shuffle, ShuffleStrategy};
use crate::spill::{in_lanes, Codec, SpillSettings, Spilled, Spiller, Spilling};

mod first;
mod members;
mod stream;
mod task;

use first::FirstError;
use stream::Streamed;
use task::Task;

/// Bounds of the automatic split size.
pub(crate) const MIN_AUTO_SPLIT: usize = 64 * 1024;
pub(crate) const MAX_AUTO_SPLIT: usize = 8 * 1024 * 1024;
/// The automatic split size aims at this many splits per thread, so that
/// work stealing can even out uneven splits.
const SPLITS_PER_THREAD: usize = 16;

/// What a run needs of a job: its pool and its settings, checked.
#[derive(Debug)]
pub(crate) struct Engine {
    pub pool: ThreadPool,
    pub threads: usize,
    pub split_size: Option<usize>,
    pub shuffle: ShuffleStrategy,
    pub progress: Option<ProgressFn>,
    pub records: Records,
    pub container: Container,
    pub skip_bad_records: bool,
    pub spill: SpillSettings,
}

/// What one map phase runs: made with [`Pass::new`], refined with the
/// methods after it.
pub(crate) struct Pass<'a, 'd, M: Mapper<'d>> {
    inputs: &'d Inputs,
    splits: &'a [Split],
    mapper: &'a M,
    route: &'a Route<'a, M::Key>,
    combiner: Option<&'a Combiner<'a, M::Value>>,
    /// The combiner as a loop made for its own type, where the run knows
    /// it; else the map side folds through `combiner`.
    absorb: Option<&'a dyn Absorb<M::Key, M::Value>>,
    /// Whether to call the job's progress function: not for a sample.
    report: bool,
    /// How to spill map output past the memory budget, if the run may.
    codec: Option<Codec<M::Key, M::Value>>,
    /// How to map chunks of the open inputs, if the run streams them.
    chunks: Option<MapChunk<M, M::Key, M::Value>>,
}

impl<'a, 'd, M: Mapper<'d>> Pass<'a, 'd, M> {
    /// A pass of `mapper` over `splits` of `inputs`, its keys routed by
    /// `route`: no combiner, progress reported, nothing spilled or
    /// streamed.
    pub fn new(
        inputs: &'d Inputs,
        splits: &'a [Split],
        mapper: &'a M,
        route: &'a Route<'a, M::Key>,
    ) -> Self {
        Pass {
            inputs,
            splits,
            mapper,
            route,
            combiner: None,
            absorb: None,
            report: true,
            codec: None,
            chunks: None,
        }
    }

    /// Folds values in the map workers' buffers with `combiner`.
    pub fn combiner(mut self, combiner: Option<&'a Combiner<'a, M::Value>>) -> Self {
        self.combiner = combiner;
        self
    }

    /// Folds staged pairs with `absorb`, made for the combiner's own type,
    /// rather than through the combiner's pointer.
    pub fn absorb(mut self, absorb: Option<&'a dyn Absorb<M::Key, M::Value>>) -> Self {
        self.absorb = absorb;
        self
    }

    /// Spills map output past the memory budget with `codec`, if given.
    pub fn spill(mut self, codec: Option<Codec<M::Key, M::Value>>) -> Self {
        self.codec = codec;
        self
    }

    /// Maps the open inputs chunk by chunk with `chunks`, if given.
    pub fn stream(mut self, chunks: Option<MapChunk<M, M::Key, M::Value>>) -> Self {
        self.chunks = chunks;
        self
    }

    /// Reports no progress: for a pass that only samples keys.
    pub fn quiet(mut self) -> Self {
        self.report = false;
        self
    }
}

/// What the map phase hands to reduce: each partition's chunks, the counts
/// so far, and what was spilled.
type MapPhase<K, V> = (Partitions<K, V>, Counters, Option<Spilled<K, V>>);

/// How far the map phase is: bytes mapped, and chunks and bytes of open
/// inputs streamed, reported to the job's progress function as they grow.
struct Meter<'e> {
    engine: &'e Engine,
    report: bool,
    /// The bytes expected: open inputs count what they held when opened,
    /// where that is known.
    expected: u64,
    done: AtomicU64,
    streamed_chunks: AtomicU64,
    streamed_bytes: AtomicU64,
}

impl Meter<'_> {
    /// Reports `phase`, with the bytes mapped so far.
    fn phase(&self, phase: Phase) {
        self.report(phase, self.done.load(Ordering::Relaxed));
    }

    fn report(&self, phase: Phase, bytes_done: u64) {
        if self.report {
            self.engine.report(Progress {
                phase,
                bytes_done,
                bytes_total: self.expected.max(bytes_done),
            });
        }
    }

    /// Counts `bytes` more mapped.
    fn mapped(&self, bytes: u64) {
        let done = self.done.fetch_add(bytes, Ordering::Relaxed) + bytes;
        self.report(Phase::Map, done);
    }

    /// Counts a chunk of `bytes` of an open input mapped, which took
    /// `read` bytes of the input (fewer, if it was compressed).
    fn streamed(&self, bytes: u64, read: u64) {
        self.streamed_chunks.fetch_add(1, Ordering::Relaxed);
        self.streamed_bytes.fetch_add(bytes, Ordering::Relaxed);
        self.mapped(read);
    }
}

impl Engine {
    /// Returns the split size for `inputs`: the one set, else about
    /// sixteen splits per thread within the automatic bounds.
    pub fn split_size_for(&self, inputs: &Inputs) -> usize {
        self.split_size.unwrap_or_else(|| {
            let total = usize::try_from(inputs.total_bytes()).unwrap_or(usize::MAX);
            (total / self.threads.saturating_mul(SPLITS_PER_THREAD))
                .clamp(MIN_AUTO_SPLIT, MAX_AUTO_SPLIT)
        })
    }

    /// Runs one map/reduce pass, then `reduce` on every partition, one
    /// task per partition.
    ///
    /// `reduce` returns what it made of its partition and how many pairs
    /// that holds; the run returns the former, partition by partition.
    pub fn run<'d, M, P>(
        &self,
        pass: &Pass<'_, 'd, M>,
        reduce: impl Fn(usize, ReduceInput<'_, M::Key, M::Value>, &SkipLog) -> Result<(P, u64), Error>
            + Sync,
    ) -> Result<(Vec<P>, Counters), Error>
    where
        M: Mapper<'d>,
        P: Send,
    {
        let log = SkipLog::default();
        let (chunks, mut counters, spilled) = self.map_phase(pass, &log)?;
        if let Some(spilled) = &spilled {
            counters.spilled_bytes = spilled.bytes;
            counters.spilled_records = spilled.records;
            counters.spill_runs = spilled.runs;
        }
        let started = Instant::now();
        if pass.report {
            let total = pass.inputs.total_bytes();
            self.report(Progress {
                phase: Phase::Reduce,
                bytes_done: total,
                bytes_total: total,
            });
        }
        let reduce_one = |partition: usize, chunks: Chunks<M::Key, M::Value>| {
            let spilled = spilled
                .as_ref()
                .map(|s| (s.segments[partition].as_slice(), &s.codec))
                .filter(|(segments, _)| !segments.is_empty());
            reduce(partition, ReduceInput { chunks, spilled }, &log)
        };
        let parts = self.pool.install(|| match &spilled {
            // Each task merges its runs: no more at once than the files
            // allow.
            Some(spilled) => spilled.files.run(chunks, reduce_one),
            // In partition order, one per thread at a time, so that a
            // caller writing partitions in order as they finish holds few.
            None => in_lanes(self.pool.current_num_threads(), chunks, reduce_one),
        })?;
        let (parts, sizes): (Vec<P>, Vec<u64>) = parts.into_iter().unzip();
        counters.distinct_keys = sizes.iter().sum();
        counters.reduce_output_records = counters.distinct_keys;
        counters.reduce_time = started.elapsed();
        for counts in self.pool.broadcast(|_| take_thread_counters()) {
            counters.add_user(&counts);
        }
        log.into_counters(&mut counters);
        Ok((parts, counters))
    }

    fn report(&self, progress: Progress) {
        if let Some(ProgressFn(report)) = &self.progress {
            report(progress);
        }
    }

    /// Maps every split and open input through a fresh shuffle, and
    /// returns each partition's chunks and what was spilled.
    fn map_phase<'d, M: Mapper<'d>>(
        &self,
        pass: &Pass<'_, 'd, M>,
        log: &SkipLog,
    ) -> Result<MapPhase<M::Key, M::Value>, Error> {
        let started = Instant::now();
        let inputs = pass.inputs;
        let meter = Meter {
            engine: self,
            report: pass.report,
            expected: inputs.total_bytes() + inputs.open_bytes_expected(),
            done: AtomicU64::new(0),
            streamed_chunks: AtomicU64::new(0),
            streamed_bytes: AtomicU64::new(0),
        };
        let totals = Mutex::new(Counters::default());
        // Counters left by an earlier run that failed belong to no one.
        self.pool.broadcast(|_| take_thread_counters());
        meter.phase(Phase::Map);
        let partitions = pass.route.partitions();
        let spiller = pass
            .codec
            .map(|codec| Spiller::new(codec, &self.spill, partitions));
        // A panic that escapes the shuffle (a combiner on a strategy's own
        // thread) fails the phase; one in a task is caught in the task.
        let shuffled = catch_unwind(AssertUnwindSafe(|| {
            self.shuffle.run(partitions, pass.combiner, |strategy| {
                let spilling = spiller.as_ref().map(|s| Spilling::new(strategy, s));
                let shuffle: &dyn Shuffle<_, _> = match &spilling {
                    Some(spilling) => spilling,
                    None => strategy,
                };
                self.map_all(pass, shuffle, spiller.as_ref(), &meter, &totals, log)
            })
        }));
        let (mapped, chunks) =
            shuffled.map_err(|panic| Error::map("<shuffle>", 0, panicked(panic)))?;
        mapped?;
        // Merging runs in rounds folds with the combiner, which may panic.
        let spilled = catch_unwind(AssertUnwindSafe(|| {
            self.pool
                .install(|| spiller.map(|s| s.finish(pass.combiner)).transpose())
        }))
        .map_err(|panic| Error::map("<spill merge>", 0, panicked(panic)))??;
        let mut counters = totals.into_inner().unwrap_or_else(PoisonError::into_inner);
        counters.input_files = inputs.files().len() as u64;
        counters.input_bytes = inputs.total_bytes() + meter.streamed_bytes.into_inner();
        counters.compressed_bytes = inputs.compressed_bytes();
        counters.splits = pass.splits.len() as u64 + meter.streamed_chunks.into_inner();
        counters.partitions = partitions as u64;
        counters.map_time = started.elapsed();
        Ok((chunks, counters, spilled))
    }

    /// The map phase inside the shuffle: every split, then every open
    /// input, then each thread's finishing, then every worker flushed.
    fn map_all<'d, M: Mapper<'d>>(
        &self,
        pass: &Pass<'_, 'd, M>,
        shuffle: &dyn Shuffle<M::Key, M::Value>,
        spiller: Option<&Spiller<'_, M::Key, M::Value>>,
        meter: &Meter<'_>,
        totals: &Mutex<Counters>,
        log: &SkipLog,
    ) -> Result<(), Error> {
        let folder = pass.combiner.map(Folder);
        let absorb: &dyn Absorb<M::Key, M::Value> = match (pass.absorb, &folder) {
            (Some(absorb), _) => absorb,
            (None, Some(folder)) => folder,
            (None, None) => &Unfolded,
        };
        let sink = Sink {
            combiner: pass.combiner,
            route: pass.route,
            records: &self.records,
            container: self.container,
            shuffle,
            absorb,
            run: RunId::next(),
            memory_share: self.spill.budget / self.threads.max(1),
        };
        let task = Task {
            inputs: pass.inputs,
            mapper: pass.mapper,
            sink: &sink,
            totals,
            skip: self.skip_bad_records.then_some(log),
        };
        // One worker per pool thread, each behind a lock that only its own
        // thread takes (see `Task::run`), so never contended.
        let slots: Vec<Slot<M::Key, M::Value>> =
            (0..self.threads).map(|_| Mutex::new(None)).collect();
        self.pool.install(|| {
            let first = FirstError::default();
            pass.splits.par_iter().with_max_len(1).for_each(|split| {
                let at = split
                    .pieces
                    .first()
                    .map_or((0, 0), |p| (p.file, p.start as u64));
                if first.skips(at) {
                    return;
                }
                let mapped = task.run(split, &slots);
                match mapped.and_then(|()| spiller.map_or(Ok(()), Spiller::check)) {
                    Ok(()) => {
                        meter.mapped(split.pieces.iter().map(|p| (p.end - p.start) as u64).sum())
                    }
                    Err(error) => first.failed(at, error),
                }
            });
            first.into_result()?;
            if let Some(map) = pass.chunks {
                let streamed = Streamed {
                    task: &task,
                    map,
                    slots: &slots,
                    spiller,
                    meter,
                };
                for (file, input) in pass.inputs.files().iter().enumerate() {
                    if input.is_open() {
                        self.stream(file, &streamed)?;
                    }
                }
            }
            meter.phase(Phase::Shuffle);
            self.finish_threads(pass.mapper, &sink, &slots)?;
            slots.into_par_iter().for_each(|slot| {
                if let Some(worker) = slot.into_inner().ok().flatten() {
                    let counters = worker.finish(&sink);
                    lock(totals).add_local(&counters);
                }
            });
            Ok(())
        })
    }

    /// Lets mappers with per-thread state emit it, on the thread that
    /// holds it, into that thread's worker.
    fn finish_threads<'d, M: Mapper<'d>>(
        &self,
        mapper: &M,
        sink: &Sink<'_, M::Key, M::Value>,
        slots: &[Slot<M::Key, M::Value>],
    ) -> Result<(), Error> {
        let finished: Vec<Result<(), Error>> = self.pool.broadcast(|ctx| {
            let mut slot = lock(&slots[ctx.index()]);
            let worker = slot.get_or_insert_with(|| Worker::new(sink.buffer()));
            let mut out = Emit::new(worker, sink, (Path::new(""), 0, 0), true);
            let finished = catch_unwind(AssertUnwindSafe(|| mapper.finish_thread(&mut out)));
            finished
                .unwrap_or_else(|panic| Err(panicked(panic)))
                .map_err(|err| Error::map("<map phase end>", 0, err))
        });
        finished.into_iter().collect()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
