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

mod blocks;
mod count_table;
pub mod grep;
pub mod invert;
pub mod sort;
mod word;
pub mod wordcount;
