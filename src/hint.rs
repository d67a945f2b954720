//! Hints to the processor, below every other module: [`prefetch`].

#![allow(unsafe_code)]

/// Asks the processor to bring `item` into the caches, without waiting
/// for it (nothing, where there is no such instruction).
#[inline(always)]
pub(crate) fn prefetch<T>(item: &T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: `item` is a valid reference, and a prefetch reads nothing
    // the program can observe: it is a hint that never faults.
    unsafe {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        _mm_prefetch::<_MM_HINT_T0>(std::ptr::from_ref(item).cast());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = item;
}
