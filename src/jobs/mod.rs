//! Ready-made jobs, each a [`Mapper`](crate::Mapper) plus a function that
//! runs it.
//!
//! - [`wordcount`]: count words (the CLI's `wordcount`).

mod count_table;
mod word;
pub mod wordcount;
