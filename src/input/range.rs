//! [`Inputs::push_file_from`]: a file's bytes from an offset, for formats
//! with a header that the records follow (a BMP's pixels, say).

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use super::{open_file_from, InputOptions, Inputs};
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
        let file = open_file_from(path.as_ref(), offset, options)?;
        self.files.push(file);
        Ok(())
    }
}

/// The length of a regular file of `len` bytes from `offset` on.
pub(super) fn len_from(path: &Path, len: u64, offset: u64) -> Result<u64, Error> {
    len.checked_sub(offset).ok_or_else(|| {
        let cause = format!("offset {offset} is past the end of the file ({len} bytes)");
        Error::io(path, std::io::Error::other(cause))
    })
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
        return Err(len_from(path, skipped, offset).unwrap_err());
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
    }
}
