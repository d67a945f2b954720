//! Memory mapping, one of the two modules allowed `unsafe` (the other is the
//! word scanner's SSE2 block classifier, for its loads).
//!
//! A mapped file is read without a copy, and keys may borrow from it for as
//! long as the job holds the [`Inputs`](crate::Inputs). The price is that the
//! process trusts the file not to change underneath it: if another process
//! truncates a mapped file, touching the lost pages raises `SIGBUS` and kills
//! the process. That is why mapping is opt-in through the `unsafe`
//! [`MmapChoice::auto`], and why pipes, stdin, character devices and empty
//! files are never mapped.

#![allow(unsafe_code)]

use std::fs::File;

use memmap2::{Advice, Mmap, MmapOptions};

/// Whether inputs may be memory-mapped.
///
/// By default ([`MmapChoice::never`]) every input is read into memory. With
/// [`MmapChoice::auto`], large regular files are mapped and everything else
/// is read; a file whose mapping fails is read instead.
///
/// # Example
///
/// ```
/// use mr_local::{InputOptions, MmapChoice};
///
/// // SAFETY: this example's inputs are not modified while it runs.
/// let options = InputOptions::default().mmap(unsafe { MmapChoice::auto() });
/// assert!(options.mmap_choice().is_enabled());
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MmapChoice(MmapChoiceImpl);

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum MmapChoiceImpl {
    Auto,
    #[default]
    Never,
}

impl MmapChoice {
    /// Maps regular files when that is likely to be faster than reading
    /// them.
    ///
    /// # Safety
    ///
    /// The caller promises that no file given to the job is truncated or
    /// modified while the job (and anything borrowed from its inputs) is
    /// alive. If a mapped file shrinks, reading the lost pages raises
    /// `SIGBUS`; if it changes, the job may see any mix of old and new bytes.
    pub unsafe fn auto() -> MmapChoice {
        MmapChoice(MmapChoiceImpl::Auto)
    }

    /// Never maps: every input is read into memory.
    pub fn never() -> MmapChoice {
        MmapChoice(MmapChoiceImpl::Never)
    }

    /// Returns true if this choice may map files.
    pub fn is_enabled(&self) -> bool {
        self.0 == MmapChoiceImpl::Auto
    }

    /// Maps `len` bytes of `file` from `offset` (which need not be a
    /// multiple of the page size), or returns `None` where mapping is off
    /// or fails (the caller then reads the file).
    pub(crate) fn open_part(&self, file: &File, offset: u64, len: u64) -> Option<Mmap> {
        if !self.is_enabled() {
            return None;
        }
        // SAFETY: `MmapChoiceImpl::Auto` can only be built through the
        // `unsafe fn auto`, whose caller promised that the inputs are not
        // modified while the job runs; the map is read-only and private to
        // this process, so no write of ours can alias it either.
        let len = usize::try_from(len).ok()?;
        let map = unsafe { MmapOptions::new().offset(offset).len(len).map(file) }.ok()?;
        // Advice is only a hint: a kernel that refuses it reads the file
        // just as well, so its error is of no interest.
        let _ = map.advise(Advice::Sequential);
        Some(map)
    }
}
