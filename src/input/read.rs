//! Reading inputs that are not mapped: stdin, pipes, small files, and any
//! file whose mapping failed.

use std::fs::File;
use std::io::{self, Read};

/// Reads all of `reader`, sized by `hint` where the length is known.
pub(crate) fn read_all(mut reader: impl Read, hint: u64) -> io::Result<Vec<u8>> {
    // The hint is only a capacity: a file that grows or shrinks while we
    // read it is read to its real end all the same.
    let mut bytes = Vec::with_capacity(usize::try_from(hint).unwrap_or(0).saturating_add(1));
    reader.read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// Reads all of standard input.
pub(crate) fn read_stdin() -> io::Result<Vec<u8>> {
    read_all(io::stdin().lock(), 0)
}

/// Reads all of an open file whose metadata says `len` bytes.
pub(crate) fn read_file(file: &File, len: u64) -> io::Result<Vec<u8>> {
    read_all(file, len)
}
