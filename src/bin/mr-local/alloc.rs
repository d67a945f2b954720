//! The command's allocator: the system's, except that running out of
//! memory ends the run with one line and exit status 1, where the standard
//! library would print a backtrace and abort (exit 134).
//!
//! The library reserves the buffers that grow with an input with
//! `try_reserve` and reports a failure as an error, but any allocation can
//! fail when the address space or the memory limit is exhausted: a
//! partition's pairs, a sort's scratch space, a thread's stack. Those
//! failures come here: temporary output files and spill runs are removed,
//! as on a signal, and the process exits. Inside the library's own
//! fallible reservations ([`mr_local::allocation_is_fallible`]) a failure
//! returns null as usual, so that the library's error can name the file.

#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

/// The system allocator, with [`out_of_memory`] on a failure that is not
/// the library's to report.
pub(crate) struct ExitOnOom;

/// Set by the first failure: a failure while cleaning up exits at once.
static FAILED: AtomicBool = AtomicBool::new(false);

// SAFETY: every method forwards to `System` with the caller's arguments,
// so `System`'s guarantees hold; a failure returns null, as `System`
// does, or never returns at all (`out_of_memory` exits).
unsafe impl GlobalAlloc for ExitOnOom {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's promises about `layout` are passed on.
        let ptr = unsafe { System.alloc(layout) };
        if ptr.is_null() && !mr_local::allocation_is_fallible() {
            out_of_memory(layout.size());
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as in `alloc`.
        let ptr = unsafe { System.alloc_zeroed(layout) };
        if ptr.is_null() && !mr_local::allocation_is_fallible() {
            out_of_memory(layout.size());
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from this allocator, hence from `System`,
        // with this `layout`, as the caller promises.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as in `dealloc`, and the caller promises `new_size`.
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if new.is_null() && !mr_local::allocation_is_fallible() {
            out_of_memory(new_size);
        }
        new
    }
}

/// Removes the run's temporary files and exits with status 1, after one
/// line on stderr.
fn out_of_memory(size: usize) -> ! {
    if !FAILED.swap(true, Ordering::SeqCst) {
        // Written without formatting machinery that could allocate: the
        // number goes through a stack buffer.
        let mut line = [0u8; 128];
        let mut cursor = std::io::Cursor::new(&mut line[..]);
        let _ = writeln!(
            cursor,
            "mr-local: out of memory: {size} bytes could not be allocated \
             (try a smaller --memory or fewer --threads)"
        );
        let len = cursor.position() as usize;
        let _ = std::io::stderr().write_all(&line[..len]);
        // Cleaning up needs little memory; a failure inside it comes back
        // here and exits at once.
        mr_local::output::remove_temporary_files();
        std::process::exit(1)
    }
    // SAFETY: `_exit` ends the process without running exit handlers,
    // which the first failing thread is running; it takes no pointers.
    unsafe { libc::_exit(1) }
}
