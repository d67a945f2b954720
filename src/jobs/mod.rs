//! Ready-made jobs, each a [`Mapper`](crate::Mapper) plus a function that
//! runs it.
//!
//! - [`wordcount`]: count words (the CLI's `wordcount`).
//! - [`grep`]: lines matching a regular expression, numbered, in input
//!   order (the CLI's `grep`).
//! - [`invert`]: an inverted index, word to the files that hold it (the
//!   CLI's `invert`).
//! - [`sort`]: a total-order sort of lines by key-range partitioning (the
//!   CLI's `sort`).
//!
//! Counts are `u64`s, summed with [`add_count`]: a sum past `u64::MAX`
//! fails the job rather than wrap.

mod blocks;
mod count_table;
pub mod grep;
pub mod invert;
pub mod sort;
mod word;
pub mod wordcount;

/// Adds `n` to the count `total`: the fold (and combiner) of the jobs that
/// count, [`wordcount`] and [`sort`], and of the CLI's.
///
/// # Panics
///
/// If the sum passes `u64::MAX`, where `+=` would wrap in a release build.
/// Counts the engine makes never get there: each counts words or lines of
/// the input, at most one per byte, and a job's inputs hold fewer than
/// 2<sup>64</sup> bytes. A panic in a fold fails the run with an error
/// ([`MapReduce::fold`](crate::MapReduce::fold)). Sums of counts read from
/// elsewhere, as a streaming reducer's input, are checked with
/// `checked_add` and fail naming the key.
///
/// ```
/// let mut total = 1;
/// mr_local::jobs::add_count(&mut total, 2);
/// assert_eq!(total, 3);
/// ```
#[inline]
pub fn add_count(total: &mut u64, n: u64) {
    *total = match total.checked_add(n) {
        Some(sum) => sum,
        None => overflow(*total, n),
    };
}

#[cold]
#[inline(never)]
fn overflow(total: u64, n: u64) -> ! {
    panic!("a count past u64::MAX: {total} + {n}")
}

#[cfg(test)]
mod tests {
    #[test]
    #[should_panic(expected = "a count past u64::MAX: 18446744073709551615 + 1")]
    fn a_count_never_wraps() {
        let mut total = u64::MAX;
        super::add_count(&mut total, 1);
    }
}
