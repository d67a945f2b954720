//! [`InputOptions`]: how inputs are opened.

use super::MmapChoice;

/// How to open inputs.
///
/// # Example
///
/// ```
/// use mr_local::{InputOptions, MmapChoice};
///
/// let options = InputOptions::default().recursive(true);
/// assert!(options.is_recursive());
/// assert_eq!(options.mmap_choice(), MmapChoice::never());
/// ```
#[derive(Clone, Debug, Default)]
pub struct InputOptions {
    pub(super) mmap: MmapChoice,
    pub(super) recursive: bool,
    pub(super) stream: bool,
    pub(super) decompress: bool,
}

impl InputOptions {
    /// Sets whether files may be memory-mapped. By default they are read
    /// ([`MmapChoice::never`]).
    pub fn mmap(mut self, choice: MmapChoice) -> Self {
        self.mmap = choice;
        self
    }

    /// Sets whether a directory stands for the files below it. By default
    /// a directory is an error.
    pub fn recursive(mut self, yes: bool) -> Self {
        self.recursive = yes;
        self
    }

    /// Sets whether inputs that are not mapped (stdin, pipes, and regular
    /// files of 256 KiB or more that are not mapped) are left open, to be
    /// read as a job maps them rather than read whole now. By default they
    /// are read whole.
    ///
    /// A run made [`streamed`](crate::MapReduce::streamed) reads such an
    /// input in chunks of whole records as it maps them, so that memory
    /// does not grow with the input; any other run reads it whole first.
    /// Either way an open input can be read by one run only, and until then
    /// its [`InputFile::bytes`](crate::InputFile::bytes) are empty.
    pub fn stream(mut self, yes: bool) -> Self {
        self.stream = yes;
        self
    }

    /// Sets whether inputs compressed with gzip, zstd, bzip2 or xz are
    /// decoded, told by their first bytes (never by their names): files
    /// whole, stdin and pipes. By default they are read as they are.
    ///
    /// A compressed input is never mapped; left open to
    /// [`stream`](InputOptions::stream), it is decoded as it is mapped,
    /// else decoded whole when opened. Left open, a file of several
    /// members (gzip), frames (zstd) or streams (bzip2, xz) is decoded on
    /// the job's threads, a part per task, when it runs on 3 or more (2
    /// for a run that reads its inputs whole). A stream cut short, corrupt, or
    /// followed by bytes that start no other member is an error naming the
    /// compressed byte offset. Without the `decompress` feature, a
    /// compressed input is an error.
    ///
    /// # Example
    ///
    /// ```
    /// use mr_local::InputOptions;
    ///
    /// assert!(InputOptions::default().decompress(true).is_decompressed());
    /// ```
    pub fn decompress(mut self, yes: bool) -> Self {
        self.decompress = yes;
        self
    }

    /// Returns true if compressed inputs are decoded.
    pub fn is_decompressed(&self) -> bool {
        self.decompress
    }

    /// Returns true if inputs that are not mapped are left open to be
    /// streamed.
    pub fn is_streamed(&self) -> bool {
        self.stream
    }

    /// Returns the mapping choice.
    pub fn mmap_choice(&self) -> MmapChoice {
        self.mmap
    }

    /// Returns true if directories are walked.
    pub fn is_recursive(&self) -> bool {
        self.recursive
    }
}
