//! Output: formatting results and committing output files atomically.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::error::Error;

/// Writes `key<TAB>count` lines.
///
/// # Errors
///
/// Whatever `out` returns.
///
/// # Example
///
/// ```
/// let mut out = Vec::new();
/// mr_local::output::write_tsv(&mut out, [(&b"the"[..], 2u64), (b"cat", 1)])?;
/// assert_eq!(out, b"the\t2\ncat\t1\n");
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn write_tsv<K: AsRef<[u8]>>(
    mut out: impl Write,
    pairs: impl IntoIterator<Item = (K, u64)>,
) -> io::Result<()> {
    let mut digits = [0u8; 20];
    for (key, count) in pairs {
        out.write_all(key.as_ref())?;
        out.write_all(b"\t")?;
        out.write_all(format_u64(count, &mut digits))?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

/// Formats `n` in decimal into `buf`, returning the digits.
fn format_u64(mut n: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut at = buf.len();
    loop {
        at -= 1;
        buf[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            return &buf[at..];
        }
    }
}

/// A file that appears at its path only when [`commit`](AtomicFile::commit)
/// succeeds.
///
/// It is written under a temporary name in the same directory (so the final
/// rename cannot cross file systems) and renamed into place at the end; if
/// it is dropped uncommitted, the temporary file is removed, so a failed run
/// never leaves a partial file behind.
///
/// A symbolic link is followed, so the link stays and its target is
/// replaced. A path that exists but is not a regular file (a FIFO,
/// `/dev/null`, a terminal) cannot be replaced by a rename: it is opened and
/// written directly, as a shell's `>` would.
///
/// # Example
///
/// ```
/// use std::io::Write;
/// use mr_local::output::AtomicFile;
///
/// let path = std::env::temp_dir().join(format!("mr-local-doc-atomic-{}", std::process::id()));
/// let mut file = AtomicFile::create(&path)?;
/// file.write_all(b"done\n")?;
/// assert!(!path.exists());
/// file.commit()?;
/// assert_eq!(std::fs::read(&path)?, b"done\n");
/// # std::fs::remove_file(&path)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct AtomicFile {
    path: PathBuf,
    /// The temporary file to rename into place; `None` when writing
    /// directly into a special file.
    temp: Option<PathBuf>,
    file: Option<io::BufWriter<File>>,
}

impl AtomicFile {
    /// Creates the temporary file beside `path` (or opens `path` itself if
    /// it is a special file).
    ///
    /// # Errors
    ///
    /// An error naming `path` if its directory is missing or not writable.
    pub fn create(path: impl AsRef<Path>) -> Result<AtomicFile, Error> {
        let path = path.as_ref().to_path_buf();
        let open = |path: &Path, options: &mut fs::OpenOptions| {
            options
                .open(path)
                .map(|f| Some(io::BufWriter::with_capacity(1 << 16, f)))
        };
        let target = match fs::metadata(&path) {
            Ok(meta) if !meta.is_file() && !meta.is_dir() => {
                let file = open(&path, fs::OpenOptions::new().write(true))
                    .map_err(|e| Error::io(&path, e))?;
                return Ok(AtomicFile {
                    path,
                    temp: None,
                    file,
                });
            }
            // Replace what a link points to, not the link.
            Ok(_) => fs::canonicalize(&path).unwrap_or_else(|_| path.clone()),
            Err(_) => path.clone(),
        };
        let temp = temp_path(&target).map_err(|e| Error::io(&path, e))?;
        let file = open(&temp, fs::OpenOptions::new().write(true).create_new(true))
            .map_err(|e| Error::io(&path, e))?;
        Ok(AtomicFile {
            path: target,
            temp: Some(temp),
            file,
        })
    }

    /// Returns the final path (a link's target, where `path` was a link).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Flushes, syncs and renames the file into place.
    ///
    /// # Errors
    ///
    /// An error naming the final path if any step fails; the temporary file
    /// is then removed.
    pub fn commit(mut self) -> Result<(), Error> {
        let result = self.finish();
        if result.is_err() {
            self.remove_temp();
        }
        result.map_err(|e| Error::io(&self.path, e))
    }

    fn finish(&mut self) -> io::Result<()> {
        let Some(writer) = self.file.take() else {
            return Ok(());
        };
        let file = writer
            .into_inner()
            .map_err(io::IntoInnerError::into_error)?;
        match &self.temp {
            Some(temp) => {
                file.sync_all()?;
                fs::rename(temp, &self.path)
            }
            None => Ok(()),
        }
    }

    fn remove_temp(&self) {
        if let Some(temp) = &self.temp {
            let _ = fs::remove_file(temp);
        }
    }

    fn writer(&mut self) -> io::Result<&mut io::BufWriter<File>> {
        self.file
            .as_mut()
            .ok_or_else(|| io::Error::other("the file was already committed"))
    }
}

/// Returns a fresh name beside `path`: `.NAME.mr-local-PID-N.tmp`.
fn temp_path(path: &Path) -> io::Result<PathBuf> {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "not a file name"))?;
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let mut temp = std::ffi::OsString::from(".");
    temp.push(name);
    temp.push(format!(".mr-local-{}-{n}.tmp", std::process::id()));
    Ok(path.with_file_name(temp))
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.writer()?.write(buf)
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.writer()?.write_all(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.writer()?.flush()
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if self.file.is_some() {
            self.remove_temp();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::TempDir;

    #[test]
    fn formats_numbers() {
        let mut buf = [0; 20];
        for n in [0, 7, 10, 1234567890, u64::MAX] {
            assert_eq!(format_u64(n, &mut buf), n.to_string().as_bytes());
        }
    }

    #[test]
    fn an_uncommitted_file_leaves_nothing_behind() {
        let dir = TempDir::new("atomic");
        let path = dir.path().join("out.tsv");
        {
            let mut file = AtomicFile::create(&path).unwrap();
            file.write_all(b"partial").unwrap();
        }
        assert!(!path.exists());
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn a_symlink_stays_and_its_target_is_replaced() {
        let dir = TempDir::new("atomic-link");
        let target = dir.write("real.tsv", "old\n");
        let link = dir.path().join("link.tsv");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let mut file = AtomicFile::create(&link).unwrap();
        file.write_all(b"new\n").unwrap();
        file.commit().unwrap();
        assert!(fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(fs::read(&target).unwrap(), b"new\n");
    }

    #[test]
    fn a_special_file_is_written_not_replaced() {
        let mut file = AtomicFile::create("/dev/null").unwrap();
        file.write_all(b"discarded\n").unwrap();
        file.commit().unwrap();
        assert!(!fs::metadata("/dev/null").unwrap().is_file());
    }

    #[test]
    fn a_missing_directory_names_the_output() {
        let dir = TempDir::new("atomic-missing");
        let path = dir.path().join("no/such/dir/out.tsv");
        let err = AtomicFile::create(&path).unwrap_err();
        assert_eq!(err.path(), Some(path.as_path()));
    }
}
