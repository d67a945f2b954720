//! CLI tests of `mr-local`, as one integration test binary (see
//! `autotests = false` in Cargo.toml), in the style of ripgrep's `tests/`.
//!
//! Tests that need `../shared/datasets` skip with a message where it is
//! absent, unless the `CI` environment variable is set, in which case they
//! fail.

// Must come first: the macros are visible to the modules declared after.
#[macro_use]
mod macros;

mod reference;
mod util;

mod combining;
mod completions;
mod compressed;
mod datasets;
mod errors;
mod examples;
mod examples_bigrams;
mod formats;
mod generate;
mod hardening_cli;
mod hardening_dest;
mod hardening_inputs;
mod hardening_output;
mod hardening_signals;
mod help;
mod inputs;
mod interrupt;
mod odd_inputs;
mod output;
mod output_dir;
mod paper_commands;
mod progress;
mod refinements;
mod spark_cluster;
mod spill;
mod streaming;
