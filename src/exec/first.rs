//! The error a parallel map reports: that of the earliest place in the
//! inputs that failed, whatever the order the threads got to them.

use std::sync::{Mutex, PoisonError};

use crate::error::Error;

/// A place in the inputs: the input's index, and a byte offset in it.
pub(super) type Place = (usize, u64);

/// The error of the earliest place that failed so far. Work at places
/// after it is skipped; work before it still runs, as its error (if any)
/// is the one to report. So two runs of the same input name the same bad
/// record, the first, however their threads were scheduled.
#[derive(Default)]
pub(super) struct FirstError(Mutex<Option<(Place, Error)>>);

impl FirstError {
    /// True if a place before `at` failed: the work at `at` can be skipped.
    pub(super) fn skips(&self, at: Place) -> bool {
        self.lock().as_ref().is_some_and(|(first, _)| *first < at)
    }

    /// Keeps `error`, of the work at `at`, if it is the earliest.
    pub(super) fn failed(&self, at: Place, error: Error) {
        let mut first = self.lock();
        if first.as_ref().is_none_or(|(place, _)| at < *place) {
            *first = Some((at, error));
        }
    }

    /// The earliest error, if any work failed.
    pub(super) fn into_result(self) -> Result<(), Error> {
        let first = self.0.into_inner().unwrap_or_else(PoisonError::into_inner);
        first.map_or(Ok(()), |(_, error)| Err(error))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<(Place, Error)>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_earliest_place_wins_and_skips_only_what_is_after_it() {
        let first = FirstError::default();
        assert!(!first.skips((0, 5)));
        first.failed((0, 18), Error::io("a", std::io::Error::other("late")));
        first.failed((0, 5), Error::io("a", std::io::Error::other("early")));
        first.failed((0, 9), Error::io("a", std::io::Error::other("between")));
        assert!(first.skips((0, 6)) && first.skips((1, 0)) && !first.skips((0, 4)));
        assert_eq!(first.into_result().unwrap_err().to_string(), "a: early");
    }
}
