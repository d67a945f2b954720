//! [`Spill`]: how keys and values are written to spill runs and read back.

use std::borrow::Cow;

use crate::error::BoxError;

/// A type the engine can write to disk and read back, so that a job whose
/// intermediate data outgrows its memory budget can spill it
/// ([`MapReduce::spill`](crate::MapReduce::spill)).
///
/// Encodings are self-delimiting: `decode` reads exactly what `encode`
/// wrote from the front of `input` and advances it. A decoded value may own
/// what the original borrowed (a [`Word`](crate::jobs::wordcount::Word) or a `Cow` comes back owned).
///
/// # Example
///
/// ```
/// use mr_local::Spill;
///
/// let mut bytes = Vec::new();
/// (String::from("key"), 42u64).encode(&mut bytes);
/// let mut input = &bytes[..];
/// let back = <(String, u64)>::decode(&mut input)?;
/// assert_eq!(back, ("key".to_string(), 42));
/// assert!(input.is_empty());
/// # Ok::<(), mr_local::BoxError>(())
/// ```
pub trait Spill: Sized {
    /// Appends the encoding of `self` to `out`.
    fn encode(&self, out: &mut Vec<u8>);

    /// Reads one value from the front of `input`, advancing it.
    ///
    /// # Errors
    ///
    /// Bytes that `encode` cannot have written: the run is corrupt.
    fn decode(input: &mut &[u8]) -> Result<Self, BoxError>;

    /// Bytes this value holds on the heap, for the memory budget. By
    /// default none.
    fn heap_size(&self) -> usize {
        0
    }
}

/// Appends `n` as a LEB128 varint.
pub(crate) fn put_varint(out: &mut Vec<u8>, mut n: u64) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

/// Reads a LEB128 varint from the front of `input`.
pub(crate) fn get_varint(input: &mut &[u8]) -> Result<u64, BoxError> {
    let mut n = 0u64;
    for shift in (0..64).step_by(7) {
        let (&byte, rest) = input.split_first().ok_or("a number runs past the end")?;
        *input = rest;
        n |= u64::from(byte & 0x7f) << shift;
        if byte < 0x80 {
            return Ok(n);
        }
    }
    Err("a number longer than 64 bits".into())
}

pub(crate) fn take<'a>(input: &mut &'a [u8], len: usize) -> Result<&'a [u8], BoxError> {
    if input.len() < len {
        return Err("a field runs past the end".into());
    }
    let (head, rest) = input.split_at(len);
    *input = rest;
    Ok(head)
}

pub(crate) fn get_len(input: &mut &[u8]) -> Result<usize, BoxError> {
    let len = usize::try_from(get_varint(input)?)?;
    if len > input.len() {
        return Err("a length runs past the end".into());
    }
    Ok(len)
}

macro_rules! spill_unsigned {
    ($($t:ty),*) => {$(
        impl Spill for $t {
            fn encode(&self, out: &mut Vec<u8>) {
                put_varint(out, *self as u64);
            }

            fn decode(input: &mut &[u8]) -> Result<Self, BoxError> {
                Ok(<$t>::try_from(get_varint(input)?)?)
            }
        }
    )*};
}

spill_unsigned!(u8, u16, u32, u64, usize);

macro_rules! spill_signed {
    ($($t:ty),*) => {$(
        impl Spill for $t {
            fn encode(&self, out: &mut Vec<u8>) {
                // Zigzag, so that small negative numbers stay short.
                let n = *self as i64;
                put_varint(out, ((n << 1) ^ (n >> 63)) as u64);
            }

            fn decode(input: &mut &[u8]) -> Result<Self, BoxError> {
                let z = get_varint(input)?;
                let n = ((z >> 1) as i64) ^ -((z & 1) as i64);
                Ok(<$t>::try_from(n)?)
            }
        }
    )*};
}

spill_signed!(i8, i16, i32, i64, isize);

impl Spill for () {
    fn encode(&self, _: &mut Vec<u8>) {}

    fn decode(_: &mut &[u8]) -> Result<Self, BoxError> {
        Ok(())
    }
}

impl Spill for bool {
    fn encode(&self, out: &mut Vec<u8>) {
        out.push(u8::from(*self));
    }

    fn decode(input: &mut &[u8]) -> Result<Self, BoxError> {
        match take(input, 1)? {
            [0] => Ok(false),
            [1] => Ok(true),
            _ => Err("not a boolean".into()),
        }
    }
}

impl Spill for f64 {
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_le_bytes());
    }

    fn decode(input: &mut &[u8]) -> Result<Self, BoxError> {
        let bytes: [u8; 8] = take(input, 8)?.try_into()?;
        Ok(f64::from_le_bytes(bytes))
    }
}

impl Spill for String {
    fn encode(&self, out: &mut Vec<u8>) {
        put_varint(out, self.len() as u64);
        out.extend_from_slice(self.as_bytes());
    }

    fn decode(input: &mut &[u8]) -> Result<Self, BoxError> {
        let len = get_len(input)?;
        Ok(std::str::from_utf8(take(input, len)?)?.to_string())
    }

    fn heap_size(&self) -> usize {
        self.capacity()
    }
}

impl Spill for Cow<'_, [u8]> {
    fn encode(&self, out: &mut Vec<u8>) {
        put_varint(out, self.len() as u64);
        out.extend_from_slice(self);
    }

    fn decode(input: &mut &[u8]) -> Result<Self, BoxError> {
        let len = get_len(input)?;
        Ok(Cow::Owned(take(input, len)?.to_vec()))
    }

    fn heap_size(&self) -> usize {
        match self {
            Cow::Borrowed(_) => 0,
            Cow::Owned(bytes) => bytes.capacity(),
        }
    }
}

impl<T: Spill> Spill for Vec<T> {
    fn encode(&self, out: &mut Vec<u8>) {
        put_varint(out, self.len() as u64);
        for item in self {
            item.encode(out);
        }
    }

    fn decode(input: &mut &[u8]) -> Result<Self, BoxError> {
        // A corrupt count must not allocate or loop without end: every
        // item is taken to use at least one byte (true of every encoding
        // here but `()`'s, and a `Vec<()>` of more items than bytes left is
        // refused).
        let len = get_len(input)?;
        let mut items = Vec::with_capacity(len);
        for _ in 0..len {
            items.push(T::decode(input)?);
        }
        Ok(items)
    }

    fn heap_size(&self) -> usize {
        self.capacity() * std::mem::size_of::<T>() + self.iter().map(T::heap_size).sum::<usize>()
    }
}

impl<A: Spill, B: Spill> Spill for (A, B) {
    fn encode(&self, out: &mut Vec<u8>) {
        self.0.encode(out);
        self.1.encode(out);
    }

    fn decode(input: &mut &[u8]) -> Result<Self, BoxError> {
        Ok((A::decode(input)?, B::decode(input)?))
    }

    fn heap_size(&self) -> usize {
        self.0.heap_size() + self.1.heap_size()
    }
}

impl<A: Spill, B: Spill, C: Spill> Spill for (A, B, C) {
    fn encode(&self, out: &mut Vec<u8>) {
        self.0.encode(out);
        self.1.encode(out);
        self.2.encode(out);
    }

    fn decode(input: &mut &[u8]) -> Result<Self, BoxError> {
        Ok((A::decode(input)?, B::decode(input)?, C::decode(input)?))
    }

    fn heap_size(&self) -> usize {
        self.0.heap_size() + self.1.heap_size() + self.2.heap_size()
    }
}

#[cfg(test)]
mod tests {
    use crate::jobs::wordcount::Word;
    use proptest::prelude::*;

    use super::*;

    fn round_trip<T: Spill + PartialEq + std::fmt::Debug>(value: T) {
        let mut bytes = Vec::new();
        value.encode(&mut bytes);
        value.encode(&mut bytes);
        let mut input = &bytes[..];
        assert_eq!(T::decode(&mut input).unwrap(), value);
        assert_eq!(T::decode(&mut input).unwrap(), value);
        assert!(input.is_empty());
        // Every strict prefix of one encoding is an error, never a panic.
        let one = &bytes[..bytes.len() / 2];
        for cut in 0..one.len() {
            let _ = T::decode(&mut &one[..cut]);
        }
    }

    proptest! {
        #[test]
        fn values_come_back_as_they_went(
            n in any::<u64>(),
            i in any::<i64>(),
            s in ".*",
            bytes in prop::collection::vec(any::<u8>(), 0..40),
            ids in prop::collection::vec(any::<u32>(), 0..10),
        ) {
            round_trip(n);
            round_trip(i);
            round_trip(i as i32 as i64);
            round_trip(s.clone());
            round_trip(Cow::<[u8]>::Owned(bytes.clone()));
            round_trip(Word::copied(&bytes));
            round_trip(ids.clone());
            round_trip((s, (n, ids)));
        }

        #[test]
        fn garbage_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..40)) {
            let _ = <(String, Vec<u64>)>::decode(&mut &bytes[..]);
            let _ = <Word<'static>>::decode(&mut &bytes[..]);
            let _ = <Vec<()>>::decode(&mut &bytes[..]);
        }
    }

    #[test]
    fn a_small_number_is_one_byte() {
        let mut out = Vec::new();
        5u64.encode(&mut out);
        (-3i32).encode(&mut out);
        assert_eq!(out, [5, 5]);
    }
}
