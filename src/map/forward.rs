//! Mapping chunks of a streamed input: pairs that borrow from a chunk are
//! re-homed, through their spill encoding, into pairs that own their bytes.

use std::hash::Hash;
use std::marker::PhantomData;

use super::{Emit, Mapper, Sink, Unfolded, Worker};
use crate::buffer::Buffer;
use crate::error::{panicked, BoxError};
use crate::partition::{Partitioner, Route};
use crate::shuffle::Shuffle;
use crate::spill::Spill;

/// Maps a chunk of a streamed input: see [`map_chunk`].
pub(crate) type MapChunk<M, K, V> =
    for<'c, 'e> fn(&M, &'c [u8], &mut Emit<'e, K, V>) -> Result<(), BoxError>;

/// Maps `chunk`, whose bytes live shorter than the job's inputs, and hands
/// its pairs to `out` as keys and values that own their bytes, so that the
/// chunk can be freed as soon as this returns.
///
/// This is sound without `unsafe` because `M` maps input of any lifetime:
/// it cannot keep a borrow of the chunk anywhere but in the pairs it
/// emits, and those are copied through their spill encoding, whose
/// decoding cannot borrow from the bytes it reads.
pub(crate) fn map_chunk<'d, M>(
    mapper: &M,
    chunk: &[u8],
    out: &mut Emit<'_, <M as Mapper<'d>>::Key, <M as Mapper<'d>>::Value>,
) -> Result<(), BoxError>
where
    M: for<'c> Mapper<'c>,
    for<'c> <M as Mapper<'c>>::Key: Spill,
    for<'c> <M as Mapper<'c>>::Value: Spill,
{
    let route = Route::Hash(Partitioner::new(1));
    let (records, container) = (out.sink.records, out.sink.container);
    let (run, memory_share) = (out.sink.run, out.sink.memory_share);
    let place = (out.path, out.file, out.offset);
    let finishes_thread = out.finishes_thread;
    let forward = Forward {
        out: std::sync::Mutex::new((&mut *out, Vec::new())),
        failed: std::sync::Mutex::new(None),
        types: PhantomData,
    };
    let sink = Sink {
        combiner: None,
        route: &route,
        records,
        container,
        shuffle: &forward,
        absorb: &Unfolded,
        run,
        memory_share,
    };
    let mut worker = Worker::new(sink.buffer());
    let (mapped, record) = {
        let mut inner = Emit::new(&mut worker, &sink, place, finishes_thread);
        let mapped = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            mapper.map_split(chunk, &mut inner)
        }));
        let record = inner.record.clone();
        (mapped.unwrap_or_else(|panic| Err(panicked(panic))), record)
    };
    // What was mapped before a failing record stays mapped, as it does
    // when a split of a file fails.
    worker.flush(&sink);
    let failed = forward
        .failed
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    drop(forward.out);
    if let Some(err) = failed {
        return Err(err);
    }
    out.record = record;
    out.emitted = out.emitted.wrapping_add(worker.counters.map_output);
    out.records += worker.counters.records;
    for &(name, n) in &worker.counters.user {
        out.worker.counters.add_user(name, n);
    }
    mapped
}

/// Pairs [`map_chunk`]'s buffer holds before they go on to the thread's
/// own: a chunk's output is never held whole (a word count's table,
/// emptied in one go, can be millions of pairs).
const FORWARD_AT: usize = 4096;

/// The shuffle of [`map_chunk`]'s buffer: hands each batch on to the
/// outer [`Emit`] as keys and values that own their bytes, copied through
/// their spill encoding, and keeps the first error that decoding gives.
struct Forward<'o, 'e, K, V, KI, VI> {
    out: std::sync::Mutex<(&'o mut Emit<'e, K, V>, Vec<u8>)>,
    failed: std::sync::Mutex<Option<BoxError>>,
    types: PhantomData<fn(KI, VI)>,
}

impl<K, V, KI, VI> Shuffle<KI, VI> for Forward<'_, '_, K, V, KI, VI>
where
    K: Spill + Hash + Eq + Send + Sync,
    V: Spill + Send,
    KI: Spill,
    VI: Spill,
{
    /// Small batches, passed on as they fill.
    fn buffer(&self) -> Buffer<KI, VI> {
        Buffer::appending(1, FORWARD_AT)
    }

    fn publish(&self, parts: Vec<Vec<(KI, VI)>>) {
        let mut out = self
            .out
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let (out, bytes) = &mut *out;
        let mut failed = self
            .failed
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if failed.is_some() {
            return;
        }
        for (key, value) in parts.into_iter().flatten() {
            bytes.clear();
            key.encode(bytes);
            value.encode(bytes);
            let mut input = &bytes[..];
            match K::decode(&mut input).and_then(|k| Ok((k, V::decode(&mut input)?))) {
                Ok((key, value)) => out.restage(key, value),
                Err(err) => {
                    *failed = Some(err);
                    return;
                }
            }
        }
    }
}
