//! One map task: a split, or a chunk of an open input, mapped into the
//! current thread's worker (or one of its own), with bad records failed or
//! skipped.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::sync::Mutex;

use super::lock;
use crate::counters::{Counters, SkipLog, Skipped};
use crate::error::{panicked, BoxError, Error};
use crate::input::split::Split;
use crate::input::{BadRecord, Inputs};
use crate::map::{Emit, MapChunk, Mapper, Sink, Slot, Worker};

/// What every map task needs.
pub(super) struct Task<'t, 'd, M: Mapper<'d>> {
    pub inputs: &'d Inputs,
    pub mapper: &'t M,
    pub sink: &'t Sink<'t, M::Key, M::Value>,
    pub totals: &'t Mutex<Counters>,
    /// Where skipped records go, when the job skips them.
    pub skip: Option<&'t SkipLog>,
}

impl<'d, M: Mapper<'d>> Task<'_, 'd, M> {
    /// Maps one split into the current thread's worker, or into a worker
    /// of its own if the strategy wants one per task or the thread's worker
    /// is busy (a map function that re-entered the pool).
    pub fn run(&self, split: &Split, slots: &[Slot<M::Key, M::Value>]) -> Result<(), Error> {
        self.with_worker(slots, |worker, finishes_thread| {
            for piece in &split.pieces {
                let input = &self.inputs.files()[piece.file];
                input.prefault(piece.start..piece.end);
                let bytes = &input.bytes()[piece.start..piece.end];
                let place = (input.path(), piece.file, piece.start);
                self.map_bytes(worker, finishes_thread, place, bytes.len(), |at, out| {
                    self.mapper.map_split(&bytes[at..], out)
                })?;
            }
            Ok(())
        })
    }

    /// Maps one chunk of open input `file`, which starts at `offset` in
    /// it, as [`Task::run`] maps a split.
    pub fn run_chunk(
        &self,
        file: usize,
        offset: usize,
        chunk: &[u8],
        map: MapChunk<M, M::Key, M::Value>,
        slots: &[Slot<M::Key, M::Value>],
    ) -> Result<(), Error> {
        self.with_worker(slots, |worker, finishes_thread| {
            let place = (self.inputs.files()[file].path(), file, offset);
            self.map_bytes(worker, finishes_thread, place, chunk.len(), |at, out| {
                map(self.mapper, &chunk[at..], out)
            })
        })
    }

    /// Runs `work` with the current thread's worker, or a worker of its
    /// own (see [`Task::run`]), and whether that worker's thread will be
    /// finished.
    fn with_worker(
        &self,
        slots: &[Slot<M::Key, M::Value>],
        work: impl FnOnce(&mut Worker<M::Key, M::Value>, bool) -> Result<(), Error>,
    ) -> Result<(), Error> {
        let sink = self.sink;
        let mut guard = match sink.shuffle.per_task() {
            true => None,
            false => slots[rayon::current_thread_index().unwrap_or(0) % slots.len()]
                .try_lock()
                .ok(),
        };
        let finishes_thread = guard.is_some();
        let mut own = None;
        let worker = match guard.as_deref_mut() {
            Some(held) => held.get_or_insert_with(|| Worker::new(sink.buffer())),
            None => own.insert(Worker::new(sink.buffer())),
        };
        work(worker, finishes_thread)?;
        if let Some(mut own) = own {
            own.flush(sink);
            lock(self.totals).add_local(&own.counters);
            sink.shuffle.recycle(own.buffer);
        }
        Ok(())
    }

    /// Maps `len` bytes of an input that start at `start` in it, calling
    /// `map` with the offset to map from: once, unless a bad record is
    /// skipped, then again from the record after it.
    fn map_bytes(
        &self,
        worker: &mut Worker<M::Key, M::Value>,
        finishes_thread: bool,
        (path, file, start): (&Path, usize, usize),
        len: usize,
        map: impl Fn(usize, &mut Emit<'_, M::Key, M::Value>) -> Result<(), BoxError>,
    ) -> Result<(), Error> {
        let sink = self.sink;
        let mut at = 0;
        while at < len {
            let mut out = Emit::new(worker, sink, (path, file, start + at), finishes_thread);
            let mapped = catch_unwind(AssertUnwindSafe(|| map(at, &mut out)));
            let err = match mapped {
                Ok(Ok(())) => break,
                Ok(Err(err)) => err,
                Err(panic) => panicked(panic),
            };
            let record = out.record.clone();
            let skip = self.skip.filter(|_| !out.in_engine);
            drop(out);
            let offset = (start + at + record.start) as u64;
            let Some(log) = skip else {
                return Err(Error::map(path, offset, err));
            };
            // Go on after the bad record: from where the reader says the
            // next one starts, or the record's end, or (if the mapper marks
            // no records) the end of the piece.
            let next = match err.downcast_ref::<BadRecord>() {
                Some(bad) => bad.next(),
                None => record.end,
            };
            at = match next > record.start {
                true => at + next,
                false => len,
            };
            log.add(Skipped::Record {
                path: path.to_path_buf(),
                offset,
                reason: err.to_string(),
            });
        }
        Ok(())
    }
}
