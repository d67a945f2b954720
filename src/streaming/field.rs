//! [`Field`] and [`FromField`]: keys and values as the text of a line.

use std::io::Write;

use crate::jobs::wordcount::Word;

/// A key or value as it appears in a streaming line: how it is written as
/// text.
///
/// Implemented for the integer and float types (decimal, as `Display` has
/// them), `String` and `str`, `Vec<u8>` and `[u8]` (any bytes) and word
/// count's [`Word`]. A reducer parses values back with [`FromField`].
///
/// # Example
///
/// ```
/// use mr_local::streaming::Field;
///
/// let mut line = Vec::new();
/// 42u64.write_field(&mut line);
/// "cat".write_field(&mut line);
/// assert_eq!(line, b"42cat");
/// ```
pub trait Field {
    /// Appends the field's text to `out`.
    fn write_field(&self, out: &mut Vec<u8>);
}

/// A value a reducer can parse back from a streaming line.
///
/// Implemented for the integer and float types (as `FromStr` parses them:
/// no spaces), `String` (valid UTF-8 only), `Vec<u8>` and [`Word`] (any
/// bytes).
///
/// # Example
///
/// ```
/// use mr_local::streaming::FromField;
///
/// assert_eq!(u64::from_field(b"42"), Some(42));
/// assert_eq!(u64::from_field(b"4x2"), None);
/// assert_eq!(u64::from_field(b""), None);
/// assert_eq!(String::from_field(b"\xff"), None);
/// ```
pub trait FromField: Field + Sized {
    /// Parses a field, or returns `None` if `bytes` are not one.
    fn from_field(bytes: &[u8]) -> Option<Self>;
}

macro_rules! display_fields {
    ($($t:ty),*) => {$(
        impl Field for $t {
            fn write_field(&self, out: &mut Vec<u8>) {
                // Writing to a Vec cannot fail.
                let _ = write!(out, "{self}");
            }
        }

        impl FromField for $t {
            fn from_field(bytes: &[u8]) -> Option<$t> {
                std::str::from_utf8(bytes).ok()?.parse().ok()
            }
        }
    )*};
}

display_fields!(u8, u16, u32, u64, u128, usize, i8, i16, i32, i64, i128, isize, f32, f64);

impl Field for str {
    fn write_field(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.as_bytes());
    }
}

impl Field for String {
    fn write_field(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.as_bytes());
    }
}

impl FromField for String {
    fn from_field(bytes: &[u8]) -> Option<String> {
        String::from_utf8(bytes.to_vec()).ok()
    }
}

impl Field for [u8] {
    fn write_field(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self);
    }
}

impl Field for Vec<u8> {
    fn write_field(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self);
    }
}

impl FromField for Vec<u8> {
    fn from_field(bytes: &[u8]) -> Option<Vec<u8>> {
        Some(bytes.to_vec())
    }
}

impl Field for Word<'_> {
    fn write_field(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.as_bytes());
    }
}

impl FromField for Word<'_> {
    fn from_field(bytes: &[u8]) -> Option<Self> {
        Some(Word::copied(bytes))
    }
}
