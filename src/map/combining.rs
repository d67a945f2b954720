//! [`Combining`]: an [`Emit`] that knows the job's combiner by its type, so
//! that a pair whose key is a small integer is folded where it is emitted,
//! with the combiner inlined into the map function: what
//! [`Job::map_combine`](crate::Job::map_combine) hands its closure.
//!
//! [`Emit`] cannot do this: its type does not name the combiner, so it
//! stages pairs and folds them a batch at a time. Here the fold is one
//! array slot, found by the key's integer and checked with `==`, updated in
//! place. The array lives for one split and is handed to the `Emit` under
//! it when the split is done (or fails); keys that are not small integers
//! go to that `Emit` as they come.

use std::hash::Hash;
use std::marker::PhantomData;
use std::path::Path;

use super::{Emit, Mapper, STAGED};
use crate::buffer::{small_integer, Container};
use crate::error::BoxError;
use crate::input::records::Cut;

/// The handle a [`Job::map_combine`](crate::Job::map_combine) closure
/// emits into: [`Emit`] with the combiner `C` in its type.
///
/// A pair whose key hashes as one small integer (`u8`, `u16`, `bool`,
/// small `u32`/`u64`/`usize` values, as in [`Emit`]'s array) is folded
/// into its key's slot at once, with `combine` inlined: a histogram's or a
/// regression's sums cost a comparison and an add per pair. Every other
/// pair goes on to the job's buffers as [`Emit::emit`] sends it, and so
/// does every pair of a job built with [`Container::Hash`].
///
/// In a closure's signature the combiner's type is left to the compiler:
/// `out: &mut Combining<u16, u64, _>`.
///
/// # Example
///
/// ```
/// use mr_local::{Combining, Inputs, Job, Records};
///
/// let mut inputs = Inputs::new();
/// inputs.push_bytes("bytes", [1u8, 2, 1, 1]);
/// let job = Job::builder().records(Records::fixed(1)).build()?;
/// let counts = job.map_combine(
///     &inputs,
///     |byte: &[u8], out: &mut Combining<u8, u64, _>| {
///         out.emit(byte[0], 1);
///         Ok(())
///     },
///     |total, n| *total += n,
/// )?;
/// let mut counts = counts.into_vec();
/// counts.sort();
/// assert_eq!(counts, [(1, 3), (2, 1)]);
/// # Ok::<(), mr_local::Error>(())
/// ```
pub struct Combining<'e, 'a, K: Hash + Eq + Send + Sync, V: Send, C> {
    out: &'e mut Emit<'a, K, V>,
    combine: &'e C,
    /// Small-integer keys with their folded values, at their integer.
    small: Vec<Option<Slot<K, V>>>,
    /// Whether a key that is not a small integer has come: from then on
    /// the array takes no new keys, so that a few small values among wide
    /// keys (ids, say) do not grow it to 65,536 slots for each split.
    wide_keys: bool,
}

/// A small-integer key, its value so far, and how many pairs that folds.
struct Slot<K, V> {
    key: K,
    value: V,
    pairs: u64,
}

/// Marks the `Emit`'s `in_engine` when dropped: forgotten after the
/// combiner returns, so it is dropped only as a panic in the combiner
/// unwinds. [`Dense`](super::Dense) uses it too.
pub(super) struct InEngine<'x>(pub(super) &'x mut bool);

impl Drop for InEngine<'_> {
    fn drop(&mut self) {
        *self.0 = true;
    }
}

impl<'e, 'a, K: Hash + Eq + Send + Sync, V: Send, C: Fn(&mut V, V)> Combining<'e, 'a, K, V, C> {
    fn new(out: &'e mut Emit<'a, K, V>, combine: &'e C) -> Self {
        Combining {
            out,
            combine,
            small: Vec::new(),
            wide_keys: false,
        }
    }

    /// Emits one key/value pair, folding it into its key's value at once
    /// if the key is a small integer held already.
    #[inline]
    pub fn emit(&mut self, key: K, value: V) {
        let Some(index) = small_integer(&key) else {
            self.wide_keys = true;
            return self.out.emit(key, value);
        };
        if let Some(Some(slot)) = self.small.get_mut(index) {
            if slot.key == key {
                slot.pairs += 1;
                // A panic in the combiner fails the job, skipping or not:
                // it is not the record's. The guard says so as the panic
                // passes, and costs nothing otherwise.
                let guard = InEngine(&mut self.out.in_engine);
                (self.combine)(&mut slot.value, value);
                std::mem::forget(guard);
                return;
            }
        }
        self.emit_small(index, key, value);
    }

    /// [`Combining::emit`] for a small-integer key not in its slot: new to
    /// the array, or sharing its integer with another key.
    #[inline(never)]
    fn emit_small(&mut self, index: usize, key: K, value: V) {
        if self.wide_keys || self.out.sink.container != Container::Auto {
            return self.out.emit(key, value);
        }
        if index >= self.small.len() {
            self.small
                .resize_with((index + 1).next_power_of_two(), || None);
        }
        match &mut self.small[index] {
            slot @ None => {
                *slot = Some(Slot {
                    key,
                    value,
                    pairs: 1,
                })
            }
            // Another key with the same integer (a `Hash` that is not
            // one-to-one): the buffers take it.
            Some(_) => self.out.emit(key, value),
        }
    }

    /// Adds `n` to the user counter `name`, as [`Emit::counter`] does.
    pub fn counter(&mut self, name: &'static str, n: u64) {
        self.out.counter(name, n);
    }

    /// Returns the name of the input the current record comes from, as
    /// [`Emit::path`] does.
    pub fn path(&self) -> &Path {
        self.out.path()
    }

    /// Returns the position of the current record's input in
    /// [`Inputs::files`](crate::Inputs::files), as [`Emit::file`] does.
    pub fn file(&self) -> usize {
        self.out.file()
    }

    /// The `Emit` beneath, for what only it offers (such as
    /// [`Emit::emit_with`]). Pairs emitted there are combined as
    /// [`Emit`]'s are.
    pub fn emitter(&mut self) -> &mut Emit<'a, K, V> {
        self.out
    }
}

impl<K: Hash + Eq + Send + Sync, V: Send, C> Drop for Combining<'_, '_, K, V, C> {
    /// Hands the folded pairs to the `Emit` beneath: staged, as if just
    /// emitted, so that they are folded into the thread's buffer with the
    /// rest. This runs when a record fails or panics too, so that the
    /// records mapped before it keep their pairs when it is skipped.
    fn drop(&mut self) {
        let out = &mut *self.out;
        for slot in self.small.drain(..).flatten() {
            // A staged pair counts once as it is absorbed: the pairs it
            // stands for beyond that count here.
            out.emitted = out.emitted.wrapping_add(slot.pairs - 1);
            out.staged.push((slot.key, slot.value));
        }
        // Absorbing runs the combiner, which must not run while a panic
        // unwinds; the staged pairs are absorbed later then.
        if out.staged.len() >= STAGED && !std::thread::panicking() {
            out.absorb();
        }
    }
}

/// A closure for a [`Combining`] handle and its combiner, as a [`Mapper`]:
/// what [`Job::map_combine`](crate::Job::map_combine) runs.
pub(crate) struct CombiningMapper<'c, F, C, K, V> {
    map: F,
    combine: &'c C,
    types: PhantomData<fn() -> (K, V)>,
}

impl<'c, F, C, K, V> CombiningMapper<'c, F, C, K, V> {
    pub fn new(map: F, combine: &'c C) -> Self {
        CombiningMapper {
            map,
            combine,
            types: PhantomData,
        }
    }
}

impl<'d, F, C, K, V> Mapper<'d> for CombiningMapper<'_, F, C, K, V>
where
    F: Fn(&'d [u8], &mut Combining<'_, '_, K, V, C>) -> Result<(), BoxError> + Sync,
    C: Fn(&mut V, V) + Sync,
    K: Hash + Eq + Send + Sync + 'd,
    V: Send,
{
    type Key = K;
    type Value = V;

    fn map(&self, record: &'d [u8], out: &mut Emit<'_, K, V>) -> Result<(), BoxError> {
        (self.map)(record, &mut Combining::new(out, self.combine))
    }

    /// Cuts `split` into records and maps each with a handle over `out`:
    /// `map` is called from one place, so that the closure and the
    /// handle's fast path inline into the loop. (The default
    /// [`Mapper::map_split`] calls `map` from more places: inlining there a
    /// closure that does much more per record than emit, such as kmeans's
    /// distances, made it a fifth slower.)
    fn map_split(&self, split: &'d [u8], out: &mut Emit<'_, K, V>) -> Result<(), BoxError> {
        let format = &out.sink.records.0;
        let mut combining = Combining::new(out, self.combine);
        let mut cut = Cut::new(format, split);
        loop {
            let at = cut.at();
            match cut.next_record() {
                Ok(Some((content, next))) => {
                    combining.out.start_record(at, next);
                    (self.map)(&split[content], &mut combining)?;
                }
                Ok(None) => return Ok(()),
                Err(err) => {
                    // The reader found no end: the bad record reaches to
                    // the end of the split.
                    combining.out.record = at..split.len();
                    return Err(err);
                }
            }
        }
    }
}
