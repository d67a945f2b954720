//! [`Inputs::push_file_from`] and [`Inputs::push_file_range`]: a part of a
//! file as an input, for formats with a header that the records follow (a
//! BMP's pixels, say).

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::ops::Range;
use std::path::Path;

use super::{open_file_part, InputOptions, Inputs};
use crate::error::Error;

impl Inputs {
    /// Opens `path` and adds its bytes from `offset` to its end as one
    /// input, mapped, read or left open as [`Inputs::open`] would a whole
    /// file under `options`: nothing before `offset` is copied or mapped.
    ///
    /// Records are aligned from `offset`: with [`Records::fixed`]`(3)`, say,
    /// the first record is the 3 bytes at `offset`. Offsets a job reports
    /// (a bad record's, [`Emit::split_offset`]) count from `offset` too.
    ///
    /// [`Records::fixed`]: crate::Records::fixed
    /// [`Emit::split_offset`]: crate::Emit::split_offset
    ///
    /// # Errors
    ///
    /// A path that cannot be opened or read, that is a directory, or whose
    /// file is shorter than `offset` gives an error naming it.
    ///
    /// # Example
    ///
    /// ```
    /// use mr_local::{InputOptions, Inputs};
    ///
    /// let path = std::env::temp_dir().join(format!("mr-local-doc-from-{}", std::process::id()));
    /// std::fs::write(&path, "HEADERpixels")?;
    /// let mut inputs = Inputs::new();
    /// inputs.push_file_from(&path, 6, &InputOptions::default())?;
    /// assert_eq!(inputs.files()[0].bytes(), b"pixels");
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn push_file_from(
        &mut self,
        path: impl AsRef<Path>,
        offset: u64,
        options: &InputOptions,
    ) -> Result<(), Error> {
        let file = open_file_part(path.as_ref(), offset, None, options)?;
        self.files.push(file);
        Ok(())
    }

    /// Like [`Inputs::push_file_from`], but adds only the bytes of `range`:
    /// for a format whose records are followed by a trailer, or to leave
    /// out a last partial record.
    ///
    /// # Errors
    ///
    /// As for [`Inputs::push_file_from`]; also a range that ends past the
    /// file's end, or before it starts.
    ///
    /// # Example
    ///
    /// ```
    /// use mr_local::{InputOptions, Inputs};
    ///
    /// let path = std::env::temp_dir().join(format!("mr-local-doc-range-{}", std::process::id()));
    /// std::fs::write(&path, "HEADERpixelsTRAILER")?;
    /// let mut inputs = Inputs::new();
    /// inputs.push_file_range(&path, 6..12, &InputOptions::default())?;
    /// assert_eq!(inputs.files()[0].bytes(), b"pixels");
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn push_file_range(
        &mut self,
        path: impl AsRef<Path>,
        range: Range<u64>,
        options: &InputOptions,
    ) -> Result<(), Error> {
        let path = path.as_ref();
        if range.end < range.start {
            let cause = format!("range {}..{} ends before it starts", range.start, range.end);
            return Err(Error::io(path, std::io::Error::other(cause)));
        }
        let file = open_file_part(path, range.start, Some(range.end), options)?;
        self.files.push(file);
        Ok(())
    }
}

/// The length of the part from `offset` to `end` (or the end) of a regular
/// file of `len` bytes.
pub(super) fn len_of(path: &Path, len: u64, offset: u64, end: Option<u64>) -> Result<u64, Error> {
    let past = |what: &str, at: u64| {
        let cause = format!("{what} {at} is past the end of the file ({len} bytes)");
        Error::io(path, std::io::Error::other(cause))
    };
    match end {
        Some(end) if end > len => Err(past("range end", end)),
        Some(end) => Ok(end - offset),
        None => len
            .checked_sub(offset)
            .ok_or_else(|| past("offset", offset)),
    }
}

/// The error of a pipe that ended after `skipped` bytes, before `offset`.
fn ended_before(path: &Path, skipped: u64, offset: u64) -> Error {
    let cause = format!("offset {offset} is past the end of the file ({skipped} bytes)");
    Error::io(path, std::io::Error::other(cause))
}

/// Moves `file` to `offset`: a seek for a regular file, else reading and
/// dropping what comes before it.
pub(super) fn skip(path: &Path, file: &mut File, offset: u64, regular: bool) -> Result<(), Error> {
    if regular {
        file.seek(SeekFrom::Start(offset))
            .map_err(|e| Error::read(path, e))?;
        return Ok(());
    }
    let skipped = std::io::copy(&mut file.take(offset), &mut std::io::sink())
        .map_err(|e| Error::read(path, e))?;
    if skipped < offset {
        return Err(ended_before(path, skipped, offset));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::testutil::TempDir;
    use crate::{Emit, InputOptions, Inputs, Job, MmapChoice, Records};

    /// The header is 5 bytes; 3-byte records follow it.
    fn body() -> Vec<u8> {
        (0..400_002u32).map(|i| (i % 251) as u8).collect()
    }

    #[test]
    #[allow(unsafe_code)]
    fn a_file_from_an_offset_is_mapped_read_or_streamed_and_aligned_there() {
        let dir = TempDir::new("input-from");
        let mut file = b"HDR!!".to_vec();
        file.extend(body());
        let path = dir.write("image.bin", &file);
        let first_bytes = |r: &[u8], out: &mut Emit<u8, u64>| {
            out.emit(r[0], 1);
            Ok(())
        };
        let mut want = [0u64; 256];
        body().chunks(3).for_each(|r| want[r[0] as usize] += 1);
        // SAFETY: the test's files are not modified while it runs.
        let mapped = InputOptions::default().mmap(unsafe { MmapChoice::auto() });
        let streamed = InputOptions::default().stream(true);
        for (options, is_mapped) in [(mapped, true), (InputOptions::default(), false)] {
            let mut inputs = Inputs::new();
            inputs.push_file_from(&path, 5, &options).unwrap();
            assert_eq!(inputs.files()[0].is_mapped(), is_mapped);
            assert_eq!(inputs.files()[0].bytes(), &file[5..]);
        }
        for options in [InputOptions::default(), streamed] {
            let mut inputs = Inputs::new();
            inputs.push_file_from(&path, 5, &options).unwrap();
            let job = Job::builder()
                .records(Records::fixed(3))
                .split_size(4096)
                .build()
                .unwrap();
            let spec = job.map(&inputs, first_bytes).combine(|a, b| *a += b);
            let spec = match options.is_streamed() {
                true => spec.streamed(),
                false => spec,
            };
            let mut got = [0u64; 256];
            for (key, n) in spec.fold(|a, b| *a += b).unwrap().into_vec() {
                got[key as usize] = n;
            }
            assert_eq!(got, want);
        }
    }

    #[test]
    fn an_offset_past_the_end_names_the_file() {
        let dir = TempDir::new("input-from-past");
        let path = dir.write("short.bin", "abc");
        let mut inputs = Inputs::new();
        inputs
            .push_file_from(&path, 3, &InputOptions::default())
            .unwrap();
        assert_eq!(inputs.files()[0].bytes(), b"");
        let err = inputs
            .push_file_from(&path, 4, &InputOptions::default())
            .unwrap_err();
        assert_eq!(err.path(), Some(path.as_path()));
        assert!(
            err.to_string()
                .ends_with("offset 4 is past the end of the file (3 bytes)"),
            "{err}"
        );
        let err = inputs
            .push_file_range(&path, 1..4, &InputOptions::default())
            .unwrap_err();
        let want = "range end 4 is past the end of the file (3 bytes)";
        assert!(err.to_string().ends_with(want), "{err}");
    }

    #[test]
    #[allow(unsafe_code)]
    fn a_range_stops_at_its_end_mapped_read_or_streamed() {
        let dir = TempDir::new("input-range");
        let file: Vec<u8> = (0..300_000u32).map(|i| (i % 253) as u8).collect();
        let path = dir.write("data.bin", &file);
        let range = 7..290_001u64;
        let want = &file[7..290_001];
        // SAFETY: the test's files are not modified while it runs.
        let mapped = InputOptions::default().mmap(unsafe { MmapChoice::auto() });
        for (options, is_mapped) in [(mapped, true), (InputOptions::default(), false)] {
            let mut inputs = Inputs::new();
            inputs
                .push_file_range(&path, range.clone(), &options)
                .unwrap();
            assert_eq!(inputs.files()[0].is_mapped(), is_mapped);
            assert_eq!(inputs.files()[0].bytes(), want);
        }
        let mut inputs = Inputs::new();
        let streamed = InputOptions::default().stream(true);
        inputs.push_file_range(&path, range, &streamed).unwrap();
        inputs.read_open_inputs(false).unwrap();
        assert_eq!(inputs.files()[0].bytes(), want);
    }
}
