//! Output written partition by partition: each partition's text stays in
//! memory while it is small and goes to a temporary file past a limit, so
//! that a job whose output outgrows memory (a sort's) still writes it, in
//! partition order, once every partition is done.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use mr_local::output::{forget_temporary, register_temporary};
use mr_local::Error;

/// Buffer of a part file being written.
const FILE_BUFFER: usize = 1 << 20;

/// One partition's output.
pub(crate) struct Part {
    memory: Vec<u8>,
    /// The file the part moved to, if it did; open until the part is
    /// finished, so that finished parts, which wait for the others, hold
    /// no descriptor (the job's merges may need them).
    path: Option<PathBuf>,
    file: Option<BufWriter<File>>,
    limit: usize,
    dir: PathBuf,
    partition: usize,
}

impl Part {
    /// A part that keeps up to `limit` bytes in memory, then moves to a file
    /// in `dir`.
    pub fn new(dir: &Path, partition: usize, limit: usize) -> Part {
        Part {
            memory: Vec::new(),
            path: None,
            file: None,
            limit,
            dir: dir.to_path_buf(),
            partition,
        }
    }

    /// Appends `bytes`.
    pub fn write(&mut self, bytes: &[u8]) -> Result<(), Error> {
        if let (Some(path), Some(file)) = (&self.path, &mut self.file) {
            return file.write_all(bytes).map_err(|e| Error::io(path, e));
        }
        self.memory.extend_from_slice(bytes);
        if self.memory.len() > self.limit {
            let path = self.dir.join(format!(
                "mr-local-part-{}-{:05}.tmp",
                std::process::id(),
                self.partition
            ));
            let file = File::create_new(&path).map_err(|e| Error::io(&path, e))?;
            register_temporary(&path);
            let mut file = BufWriter::with_capacity(FILE_BUFFER, file);
            file.write_all(&self.memory)
                .map_err(|e| Error::io(&path, e))?;
            self.memory = Vec::new();
            self.path = Some(path);
            self.file = Some(file);
        }
        Ok(())
    }

    /// Flushes and closes a part that went to a file, so that it can be
    /// copied.
    pub fn finish(mut self) -> Result<Part, Error> {
        if let (Some(path), Some(mut file)) = (&self.path, self.file.take()) {
            file.flush().map_err(|e| Error::io(path, e))?;
        }
        Ok(self)
    }

    /// Copies the part to `out`.
    pub fn copy_to(&self, out: &mut dyn Write) -> io::Result<()> {
        match &self.path {
            None => out.write_all(&self.memory),
            Some(path) => io::copy(&mut File::open(path)?, out).map(|_| ()),
        }
    }
}

impl Drop for Part {
    fn drop(&mut self) {
        if let Some(path) = &self.path {
            self.file = None;
            let _ = std::fs::remove_file(path);
            forget_temporary(path);
        }
    }
}
