//! Opening compressed inputs (see
//! [`InputOptions::decompress`](super::InputOptions::decompress)): files
//! that start with a format's magic bytes, and stdin and pipes, told
//! apart on their first read.

use std::fs::{File, Metadata};
use std::io::{Seek, SeekFrom};
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::{Arc, OnceLock};

use super::compress::{read_magic, Compression, Consumed, Sniffing};
use super::open::{BoxedReader, Feed, Reopen, Stream};
use super::{read, Data, FileId, InputOptions};
use crate::error::Error;

/// What is known of an input that may be compressed: its format, once
/// told, and how many compressed bytes have been decoded.
#[derive(Clone, Debug, Default)]
pub(crate) struct Compressed {
    format: Arc<OnceLock<Compression>>,
    consumed: Consumed,
    /// The compressed length, for a regular file.
    len: Option<u64>,
}

impl Compressed {
    /// The format, if the input was found to be compressed.
    pub(crate) fn format(&self) -> Option<Compression> {
        self.format.get().copied()
    }

    /// The compressed bytes decoded so far, if the input was found to be
    /// compressed.
    pub(crate) fn consumed(&self) -> Option<u64> {
        self.format().map(|_| self.consumed.load(Ordering::Relaxed))
    }

    /// The count of compressed bytes decoded, to add to.
    pub(crate) fn consumed_counter(&self) -> Consumed {
        Arc::clone(&self.consumed)
    }

    /// The compressed length of a regular file.
    pub(crate) fn len(&self) -> Option<u64> {
        self.len
    }

    /// `reader`, decoded if it turns out to be compressed.
    fn sniffing(&self, reader: BoxedReader) -> Sniffing {
        Sniffing::new(reader, Arc::clone(&self.consumed), Arc::clone(&self.format))
    }
}

/// Stdin, decoded if it is compressed: streamed, or read whole now.
pub(super) fn open_stdin(path: &Path, options: &InputOptions) -> Result<(Data, Compressed), Error> {
    let compressed = Compressed::default();
    let reader = compressed.sniffing(Box::new(std::io::stdin()));
    Ok((data(path, reader, options)?, compressed))
}

/// Opens `file`, the whole of the input at `path`, for decoding: a regular
/// file if it starts with a format's magic bytes, anything else (a pipe, a
/// device) to be told apart on its first read. A regular file that is not
/// compressed is handed back, to be read as it is.
pub(super) fn open_file(
    path: &Path,
    mut file: File,
    meta: &Metadata,
    options: &InputOptions,
) -> Result<Result<(Data, Compressed), File>, Error> {
    if !meta.is_file() {
        let compressed = Compressed::default();
        let reader = compressed.sniffing(Box::new(file));
        return Ok(Ok((data(path, reader, options)?, compressed)));
    }
    let head = read_magic(&mut file)
        .and_then(|head| file.seek(SeekFrom::Start(0)).map(|_| head))
        .map_err(|e| Error::read(path, e))?;
    let Some(format) = Compression::detect(&head) else {
        return Ok(Err(file));
    };
    let compressed = Compressed {
        len: Some(meta.len()),
        ..Compressed::default()
    };
    let _ = compressed.format.set(format);
    // Streamed, the file is opened again when first read (as a plain one
    // is), so that thousands of inputs do not hold thousands of
    // descriptors, nor decoders, until then.
    let reader: BoxedReader = match options.stream {
        true => Box::new(Reopen::new(path, FileId::of(path, meta)).part(0, meta.len())),
        false => Box::new(file),
    };
    let reader = compressed.sniffing(reader);
    Ok(Ok((data(path, reader, options)?, compressed)))
}

/// The input `reader` gives, left open to stream or read whole now.
fn data(path: &Path, reader: Sniffing, options: &InputOptions) -> Result<Data, Error> {
    if options.stream {
        return Ok(Data::Open(Stream::new(
            Feed::Reader(Box::new(reader)),
            None,
        )));
    }
    let bytes = read::read_all(reader, None).map_err(|e| Error::read(path, e))?;
    Ok(Data::Owned(bytes))
}
