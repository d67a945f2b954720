//! mr-local: a high-throughput, single-machine, data-parallel MapReduce
//! engine.
//!
//! A job reads [`Inputs`] (memory-mapped where that is safe and asked for),
//! cuts them into record-aligned splits, and maps the splits on a
//! work-stealing pool of its own. Each pool thread emits into a buffer it
//! alone owns ([`Emit`]), folded with the job's combiner as it goes; full
//! buffers are cut by partition (`hash(key) mod R`) and handed to the
//! shuffle without a lock on the hot path ([`ShuffleStrategy`]). Then one
//! reduce task per partition runs, in parallel, and the result comes back as
//! an [`Output`].
//!
//! ```text
//! Inputs ─▶ splits ─▶ map tasks (per-thread buffers) ─▶ shuffle ─▶ reduce × R ─▶ Output
//! ```
//!
//! Inside, the modules are layered; each imports only from those below it:
//!
//! ```text
//! clients    jobs · streaming · generate (and the CLI binary)
//! façade     job: Job, JobBuilder, MapReduce
//! executor   exec: the phases of a run, map tasks, streamed inputs
//! stages     input · map · shuffle · spill · reduce · output
//! core       pairs · buffer · partition · counters · error · temporary · stale
//! ```
//!
//! The main types:
//!
//! - [`Job`] / [`JobBuilder`]: settings and the entry points
//!   ([`Job::map_reduce`], [`Job::map_group`], and [`Job::map`] for the
//!   rest).
//! - [`MapReduce`]: one run's specification, after the paper's §4: an
//!   optional combiner, the partitioning function (hash, a user's, or
//!   [`KeyRanges`], sampled for total order), sorted reduce input.
//! - [`Inputs`], [`InputOptions`], [`MmapChoice`]: what the job reads
//!   (gzip, zstd, bzip2 and xz decoded with
//!   [`InputOptions::decompress`], told apart by [`Compression`]);
//!   [`Records`] and [`RecordReader`]: how it divides into records (lines,
//!   a delimiter, fixed-size, whole files, or a reader of your own).
//! - Bad records (§4.6): an error or panic in map fails the job naming the
//!   file and byte offset, or with [`JobBuilder::skip_bad_records`] is
//!   skipped, counted and listed ([`Skipped`]).
//! - [`Mapper`] and [`Emit`]: the map side, as closures or as a trait
//!   (with [`Mapper::finish_thread`] and [`RunId`] for per-thread state).
//! - [`ShuffleStrategy`]: how map output reaches reduce (six strategies).
//! - [`Output`] and [`Counters`]: the result, and what the job counted;
//!   [`add_to_counter`] and [`Emit::counter`] for counters of your own;
//!   [`Progress`] reports through [`JobBuilder::progress`].
//! - [`jobs`]: ready-made jobs: [`jobs::wordcount`], [`jobs::grep`],
//!   [`jobs::invert`], [`jobs::sort`].
//! - [`output`]: result writers (TSV, CSV, JSON Lines) and atomic files.
//! - [`generate`]: deterministic inputs: a Zipf text corpus and web-server
//!   access logs.
//! - [`streaming`]: Hadoop Streaming mappers and reducers over stdin and
//!   stdout, to run a job on a cluster (Hadoop, EMR, Dataproc, Spark).
//! - [`Error`]: every failure, with the file and offset it concerns.
//!
//! # Example
//!
//! Count words by their length:
//!
//! ```
//! use mr_local::{Emit, Inputs, Job};
//!
//! let mut inputs = Inputs::new();
//! inputs.push_bytes("text", "a bb cc\nddd a\n");
//!
//! let job = Job::builder().threads(2).build()?;
//! let output = job.map_reduce(
//!     &inputs,
//!     |line: &[u8], out: &mut Emit<usize, u64>| {
//!         for word in line.split(|b| *b == b' ').filter(|w| !w.is_empty()) {
//!             out.emit(word.len(), 1);
//!         }
//!         Ok(())
//!     },
//!     |total, n| *total += n,
//! )?;
//! let mut by_length = output.into_vec();
//! by_length.sort();
//! assert_eq!(by_length, [(1, 2), (2, 2), (3, 1)]);
//! # Ok::<(), mr_local::Error>(())
//! ```

#![deny(missing_docs)]
#![deny(unsafe_code)]

mod buffer;
mod counters;
mod error;
mod exec;
pub mod generate;
mod hint;
mod input;
mod job;
pub mod jobs;
mod map;
pub mod output;
mod pairs;
mod partition;
mod reduce;
mod shuffle;

mod spill;
mod stale;
pub mod streaming;
mod temporary;
#[cfg(test)]
mod testutil;

pub use buffer::Container;
pub use counters::{add_to_counter, Counters, Phase, Progress, Skipped, SKIPPED_LISTED};
pub use error::{allocation_is_fallible, BoxError, ConfigError, Error, ErrorKind};
pub use input::{
    BadRecord, Compression, InputFile, InputOptions, Inputs, MmapChoice, RecordReader, Records,
};
pub use job::MapReduce;
pub use job::{Job, JobBuilder, MAX_PARTITIONS, MAX_THREADS};
pub use map::{Combining, Dense, DenseKey, Emit, FnMapper, Mapper, RunId};
pub use partition::KeyRanges;
pub use reduce::Output;
pub use shuffle::ShuffleStrategy;
pub use spill::Spill;
