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
///
/// Reads into a buffer of `len + 1` bytes, so a file of the size its
/// metadata gave takes two `read` calls (the second finds the end), and the
/// standard library's own sizing (another `fstat` and an `lseek` per file)
/// is skipped: it shows when inputs are thousands of small files. A file
/// that has grown meanwhile is read to its real end all the same.
pub(crate) fn read_file(mut file: &File, len: u64) -> io::Result<Vec<u8>> {
    let mut bytes = vec![0; usize::try_from(len).unwrap_or(0).saturating_add(1)];
    let mut filled = 0;
    loop {
        if filled == bytes.len() {
            bytes.resize(bytes.len() * 2, 0);
        }
        match file.read(&mut bytes[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    bytes.truncate(filled);
    Ok(bytes)
}
