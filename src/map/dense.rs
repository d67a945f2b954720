//! [`Dense`]: Phoenix++'s array container for the engine. A job whose keys
//! are small integers below a bound it names in its handle's type folds
//! every pair into a fixed array where it is emitted, with the combiner
//! inlined, and keeps its record bookkeeping beside that array: what
//! [`Job::map_dense`](crate::Job::map_dense) hands its closure.
//!
//! [`Combining`](super::Combining) finds the same slot by the key's hash,
//! in an array that grows, and checks the key stored there. Here the
//! array's size is a constant and the key's slot is its own
//! ([`DenseKey`]), so an emit is a count and the combiner, and a handful
//! of sums with constant keys can stay in registers for a whole split.

use std::hash::Hash;
use std::marker::PhantomData;
use std::mem::{size_of, MaybeUninit};
use std::ops::Range;
use std::path::Path;

use memchr::memchr_iter;

use super::combining::InEngine;
use super::{Emit, Mapper, STAGED};
use crate::error::BoxError;
use crate::input::records::{next_record, trim_cr, Format};

/// A key that is its own index into an array: a small integer, or a type a
/// job declares dense (an enum of a few variants, say).
///
/// Implemented for the primitive integers, `bool` and `char`, whose slot
/// is their value (a signed integer's is its bits read unsigned, so `-1i8`
/// is slot 255).
///
/// # Contract
///
/// Distinct keys must have distinct slots: [`Dense`] folds pairs by slot
/// and never compares keys, so two keys sharing one would be counted as
/// one. (Debug builds check this.) A slot need not be small: keys whose
/// slot is past the array's end are combined the ordinary way.
///
/// # Example
///
/// ```
/// use mr_local::DenseKey;
///
/// #[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
/// enum Level {
///     Info,
///     Warn,
///     Error,
/// }
///
/// impl DenseKey for Level {
///     fn slot(self) -> usize {
///         self as usize
///     }
/// }
///
/// assert_eq!(Level::Error.slot(), 2);
/// assert_eq!((-1i8).slot(), 255);
/// ```
pub trait DenseKey: Copy + Hash + Eq + Send + Sync {
    /// The key's slot: different for different keys.
    fn slot(self) -> usize;
}

/// `DenseKey` for unsigned integers: the slot is the value, or past any
/// array where it does not fit a `usize`.
macro_rules! dense_unsigned {
    ($($t:ty),*) => {$(
        impl DenseKey for $t {
            #[inline]
            fn slot(self) -> usize {
                usize::try_from(self).unwrap_or(usize::MAX)
            }
        }
    )*};
}

/// `DenseKey` for signed integers: the slot is the bits read unsigned.
macro_rules! dense_signed {
    ($($t:ty => $u:ty),*) => {$(
        impl DenseKey for $t {
            #[inline]
            fn slot(self) -> usize {
                (self as $u).slot()
            }
        }
    )*};
}

dense_unsigned!(u8, u16, u32, u64, u128, usize);
dense_signed!(i8 => u8, i16 => u16, i32 => u32, i64 => u64, i128 => u128, isize => usize);

impl DenseKey for bool {
    #[inline]
    fn slot(self) -> usize {
        usize::from(self)
    }
}

impl DenseKey for char {
    #[inline]
    fn slot(self) -> usize {
        u32::from(self).slot()
    }
}

/// The handle a [`Job::map_dense`](crate::Job::map_dense) closure emits
/// into: an array of `N` slots, one per key below `N`, each folding its
/// key's values with the combiner `C` as they are emitted.
///
/// `N` is part of the closure's signature, as Phoenix++'s
/// `array_container` takes its size: `out: &mut Dense<u8, i64, _, 5>` for
/// five sums, `Dense<u16, u64, _, 768>` for a histogram of 768 bins (the
/// combiner's type is left to the compiler). Pick the smallest bound that
/// holds the keys: the array is made for every split, and a few slots of
/// small values let the compiler keep them all in registers. A key whose
/// [`DenseKey::slot`] is `N` or more is not lost: it goes on to the job's
/// buffers as [`Emit::emit`] sends it.
///
/// The array is on the stack of the thread mapping the split, so it may
/// take at most 256 KiB (13,107 slots of a `u16` key and a `u64` value); a larger
/// one is refused when the job is compiled, as here:
///
/// ```compile_fail
/// use mr_local::{Dense, Inputs, Job};
///
/// let inputs = Inputs::new();
/// let job = Job::builder().build()?;
/// job.map_dense(
///     &inputs,
///     |_: &[u8], out: &mut Dense<u16, u64, _, 65536>| {
///         out.emit(1, 1);
///         Ok(())
///     },
///     |total, n| *total += n,
/// )?;
/// # Ok::<(), mr_local::Error>(())
/// ```
///
/// Keys spread over a wider range belong in
/// [`Job::map_combine`](crate::Job::map_combine)'s growing array.
///
/// # Example
///
/// ```
/// use mr_local::{Dense, Inputs, Job, Records};
///
/// let mut inputs = Inputs::new();
/// inputs.push_bytes("bytes", [1u8, 2, 1, 1, 200]);
/// let job = Job::builder().records(Records::fixed(1)).build()?;
/// let counts = job.map_dense(
///     &inputs,
///     |byte: &[u8], out: &mut Dense<u8, u64, _, 4>| {
///         out.emit(byte[0], 1);
///         Ok(())
///     },
///     |total, n| *total += n,
/// )?;
/// let mut counts = counts.into_vec();
/// counts.sort();
/// assert_eq!(counts, [(1, 3), (2, 1), (200, 1)]);
/// # Ok::<(), mr_local::Error>(())
/// ```
pub struct Dense<'e, 'a, K: DenseKey, V: Send, C, const N: usize> {
    out: &'e mut Emit<'a, K, V>,
    combine: &'e C,
    /// Pairs emitted into the array since the handle was made.
    pairs: u64,
    /// Each slot's key, set when its first pair comes. The invariant the
    /// `unsafe` blocks below rest on: `values[i]` holds a value exactly
    /// when `keys[i]` holds a key.
    keys: [Option<K>; N],
    /// Each slot's value so far: uninitialized until its first pair.
    values: [MaybeUninit<V>; N],
    /// The record being mapped and how many have been, kept here rather
    /// than in the `Emit` so that they need not be stored per record; the
    /// `Emit` gets them when the handle is dropped.
    record: Range<usize>,
    records: u64,
}

/// The most bytes a [`Dense`] array may take: it lives on the stack of a
/// pool thread (2 MiB, less what the map closure needs).
const MAX_ARRAY_BYTES: usize = 256 << 10;

impl<'e, 'a, K: DenseKey, V: Send, C: Fn(&mut V, V), const N: usize> Dense<'e, 'a, K, V, C, N> {
    #[inline]
    fn new(out: &'e mut Emit<'a, K, V>, combine: &'e C) -> Self {
        const {
            assert!(
                N.saturating_mul(size_of::<u64>() + size_of::<Option<K>>() + size_of::<V>())
                    <= MAX_ARRAY_BYTES,
                "a Dense array is held on a pool thread's stack and may take at most \
                 256 KiB: use a smaller N, or Job::map_combine"
            )
        };
        // What the `Emit` holds, left as it is if no record starts.
        let record = out.record.clone();
        Dense {
            out,
            combine,
            pairs: 0,
            keys: [None; N],
            values: [const { MaybeUninit::uninit() }; N],
            record,
            records: 0,
        }
    }

    /// Emits one key/value pair, folding it into its key's slot at once.
    #[inline]
    pub fn emit(&mut self, key: K, value: V) {
        let slot = key.slot();
        let Some(held) = self.keys.get_mut(slot) else {
            return beyond(self.out, key, value);
        };
        self.pairs += 1;
        let Some(held) = held else {
            *held = Some(key);
            self.values[slot].write(value);
            return;
        };
        debug_assert!(*held == key, "two keys share a DenseKey slot");
        // SAFETY: `keys[slot]` held a key before this pair, so an earlier
        // pair wrote `values[slot]` (above), and nothing has taken it: only
        // `drop` does, and it takes the key as it does.
        #[allow(unsafe_code)]
        let held = unsafe { self.values[slot].assume_init_mut() };
        // A panic in the combiner fails the job, skipping or not: it is
        // not the record's. The guard says so as the panic passes, and
        // costs nothing otherwise. The value stays initialized (the
        // combiner has it by `&mut`), so `drop` may still take it.
        let guard = InEngine(&mut self.out.in_engine);
        (self.combine)(held, value);
        std::mem::forget(guard);
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

    /// Notes that the record `start..next` of the split is being mapped.
    #[inline]
    fn start_record(&mut self, start: usize, next: usize) {
        self.record = start..next;
        self.records += 1;
    }
}

/// A pair whose key's slot is past the array: the `Emit` takes it. Out of
/// line, so that the handle's address stays in the record loop.
#[inline(never)]
fn beyond<K: DenseKey, V: Send>(out: &mut Emit<'_, K, V>, key: K, value: V) {
    out.emit(key, value);
}

impl<K: DenseKey, V: Send, C, const N: usize> Drop for Dense<'_, '_, K, V, C, N> {
    /// Hands the record bookkeeping and the folded pairs to the `Emit`
    /// beneath, the pairs staged as if just emitted. This runs when a
    /// record fails or panics too, so that the error names the record and
    /// the records mapped before it keep their pairs when it is skipped.
    #[inline]
    fn drop(&mut self) {
        let out = &mut *self.out;
        out.record = self.record.clone();
        out.records += self.records;
        // A staged pair counts once as it is absorbed: the pairs the
        // staged ones stand for beyond that count here.
        let mut pairs = std::mem::take(&mut self.pairs);
        for slot in 0..N {
            let Some(key) = self.keys[slot].take() else {
                continue;
            };
            // SAFETY: `keys[slot]` held a key, so `values[slot]` holds a
            // value, and it is read once: the key is gone from here on.
            #[allow(unsafe_code)]
            let value = unsafe { self.values[slot].assume_init_read() };
            pairs -= 1;
            out.staged.push((key, value));
        }
        out.emitted = out.emitted.wrapping_add(pairs);
        // Absorbing runs the combiner, which must not run while a panic
        // unwinds; the staged pairs are absorbed later then.
        if out.staged.len() >= STAGED && !std::thread::panicking() {
            out.absorb();
        }
    }
}

/// A closure for a [`Dense`] handle and its combiner, as a [`Mapper`]:
/// what [`Job::map_dense`](crate::Job::map_dense) runs.
pub(crate) struct DenseMapper<'c, F, C, K, V, const N: usize> {
    map: F,
    combine: &'c C,
    types: PhantomData<fn() -> (K, V)>,
}

impl<'c, F, C, K, V, const N: usize> DenseMapper<'c, F, C, K, V, N> {
    pub fn new(map: F, combine: &'c C) -> Self {
        DenseMapper {
            map,
            combine,
            types: PhantomData,
        }
    }
}

impl<'d, F, C, K, V, const N: usize> DenseMapper<'_, F, C, K, V, N>
where
    F: Fn(&'d [u8], &mut Dense<'_, '_, K, V, C, N>) -> Result<(), BoxError> + Sync,
    C: Fn(&mut V, V) + Sync,
    K: DenseKey + 'd,
    V: Send,
{
    /// Maps the whole records of `S` bytes at the start of `split`,
    /// returning where they end.
    #[inline(always)]
    fn fixed<const S: usize>(
        &self,
        split: &'d [u8],
        dense: &mut Dense<'_, '_, K, V, C, N>,
    ) -> Result<usize, BoxError> {
        let mut at = 0;
        for record in split.chunks_exact(S) {
            dense.start_record(at, at + S);
            (self.map)(record, dense)?;
            at += S;
        }
        Ok(at)
    }
}

impl<'d, F, C, K, V, const N: usize> Mapper<'d> for DenseMapper<'_, F, C, K, V, N>
where
    F: Fn(&'d [u8], &mut Dense<'_, '_, K, V, C, N>) -> Result<(), BoxError> + Sync,
    C: Fn(&mut V, V) + Sync,
    K: DenseKey + 'd,
    V: Send,
{
    type Key = K;
    type Value = V;

    fn map(&self, record: &'d [u8], out: &mut Emit<'_, K, V>) -> Result<(), BoxError> {
        // The caller marked the record, as `Mapper::map`'s callers do.
        (self.map)(record, &mut Dense::new(out, self.combine))
    }

    /// Cuts `split` into records and maps each with one handle over `out`,
    /// whose array lives for the whole split: fixed-size records and
    /// lines in loops of their own, other formats by the reader.
    fn map_split(&self, split: &'d [u8], out: &mut Emit<'_, K, V>) -> Result<(), BoxError> {
        let format = &out.sink.records.0;
        let mut dense = Dense::new(out, self.combine);
        let from = match format {
            // The smallest sizes get loops of their own, in which the
            // closure sees a record of constant length: its bounds checks
            // fold away, and a loop of sums may be vectorized.
            Format::Fixed(size) => match size.get() {
                1 => self.fixed::<1>(split, &mut dense)?,
                2 => self.fixed::<2>(split, &mut dense)?,
                3 => self.fixed::<3>(split, &mut dense)?,
                4 => self.fixed::<4>(split, &mut dense)?,
                size => {
                    let whole = split.len() - split.len() % size;
                    let mut at = 0;
                    for record in split[..whole].chunks_exact(size) {
                        dense.start_record(at, at + size);
                        (self.map)(record, &mut dense)?;
                        at += size;
                    }
                    whole
                }
            },
            Format::Lines => {
                let mut start = 0;
                for end in memchr_iter(b'\n', split) {
                    dense.start_record(start, end + 1);
                    (self.map)(trim_cr(&split[start..end]), &mut dense)?;
                    start = end + 1;
                }
                if start < split.len() {
                    dense.start_record(start, split.len());
                    (self.map)(&split[start..], &mut dense)?;
                }
                split.len()
            }
            _ => 0,
        };
        // Records the reader finds one by one; for fixed-size records, only
        // a short last one, which it refuses.
        let mut at = from;
        while at < split.len() {
            // Until the reader has found the record's end, a bad record
            // reaches to the end of the split.
            dense.record = at..split.len();
            let (content, next) = next_record(format, split, at)?;
            dense.start_record(at, next);
            (self.map)(&split[content], &mut dense)?;
            at = next;
        }
        Ok(())
    }
}
