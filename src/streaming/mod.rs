//! Hadoop Streaming: a job's map and reduce sides as executables that talk
//! over stdin and stdout, so the same job runs on Hadoop, Amazon EMR,
//! Dataproc or Spark (`rdd.pipe`) when its data outgrows one machine.
//!
//! The contract, as Hadoop Streaming defines it:
//!
//! - A **mapper** reads raw input lines on stdin and writes
//!   `key<SEP>value` lines on stdout.
//! - The cluster sorts map output by key (bytewise) and hands each reducer
//!   `key<SEP>value` lines in which equal keys are consecutive.
//! - A **reducer** (or a combiner, which has the same shape) folds each run
//!   of equal keys and writes `key<SEP>value` lines.
//! - Counters and status go to stderr as `reporter:counter:GROUP,NAME,N`
//!   and `reporter:status:MESSAGE` lines ([`Reporter`]).
//!
//! What lives here:
//!
//! - `mod.rs`: [`Config`] and [`Separator`] (the separators and key-field
//!   counts, named after Hadoop's `stream.*` properties), [`Reporter`], and
//!   the mappers, [`run_mapper`] and [`run_mapper_with`].
//! - `lines.rs`: [`split_key_value`], [`KeyValueReader`] (lines, and groups
//!   of consecutive equal keys), [`KeyValueWriter`]: the line format; and
//!   [`ChunkReader`]: stdin cut into large chunks of whole lines.
//! - `field.rs`: [`Field`] and [`FromField`], how keys and values are
//!   written as text and parsed back.
//! - `reducer.rs`: [`run_reducer`], [`try_run_reducer`], [`ReduceCounts`].
//! - `identity.rs`: [`run_identity_mapper`], [`run_identity_reducer`].
//! - [`run_mapper`], [`run_mapper_with`] and [`run_reducer`]: a whole
//!   streaming mapper or reducer from a job's closures, in a few lines. The
//!   mapper runs the parallel engine on each chunk of its input, combining
//!   within the chunk before it writes, so a cluster's map task is as fast
//!   per core as a local run.
//! - [`run_identity_mapper`] and [`run_identity_reducer`]: Hadoop's
//!   `-mapper cat` and `-reducer cat`, lines passed through as they are
//!   (for jobs whose work is the cluster's sort, or done in one phase).
//!
//! # Example
//!
//! A word-count mapper and reducer, run the way a cluster runs them
//! (`map | sort | reduce`), here on byte buffers instead of pipes:
//!
//! ```
//! use mr_local::streaming::{self, Config};
//! use mr_local::{Emit, Job};
//!
//! let config = Config::default();
//! let job = Job::builder().threads(2).build()?;
//! let mut mapped = Vec::new();
//! streaming::run_mapper(
//!     &job,
//!     &config,
//!     |line: &[u8], out: &mut Emit<Vec<u8>, u64>| {
//!         for word in line.split(|b| *b == b' ').filter(|w| !w.is_empty()) {
//!             out.emit(word.to_vec(), 1);
//!         }
//!         Ok(())
//!     },
//!     |total, n| *total += n,
//!     &b"b a\na a\n"[..],
//!     &mut mapped,
//!     std::io::sink(),
//! )?;
//!
//! // The cluster's sort.
//! let mut lines: Vec<&[u8]> = mapped.split_inclusive(|b| *b == b'\n').collect();
//! lines.sort();
//!
//! let mut reduced = Vec::new();
//! streaming::run_reducer(
//!     &config,
//!     |total: &mut u64, n| *total += n,
//!     &lines.concat()[..],
//!     &mut reduced,
//!     std::io::sink(),
//! )?;
//! assert_eq!(reduced, b"a\t3\nb\t1\n");
//! # Ok::<(), mr_local::Error>(())
//! ```

use std::fmt;
use std::hash::Hash;
use std::io::{self, Read, Write};

use crate::error::{BoxError, Error};
use crate::input::Inputs;
use crate::job::Job;
use crate::map::{Emit, FnMapper, Mapper};

mod field;
mod identity;
mod lines;
mod reducer;

pub use field::{Field, FromField};
pub use identity::{run_identity_mapper, run_identity_reducer};
pub use lines::{split_key_value, ChunkReader, Group, KeyValueReader, KeyValueWriter};
pub use reducer::{run_reducer, try_run_reducer, ReduceCounts};

/// The size of the chunks a streaming mapper cuts its input into, by
/// default: large enough that the engine's threads have work to share, small
/// enough to hold in memory twice over.
pub const DEFAULT_CHUNK_SIZE: usize = 64 * 1024 * 1024;

/// Capacity of the readers' and writers' buffers: a reducer's input and
/// output are many short lines.
pub(crate) const BUFFER_SIZE: usize = 1 << 20;

/// The counter group of the counters this module reports.
pub const COUNTER_GROUP: &str = "mr-local";

/// A field separator: non-empty, without `\n` or `\r`.
///
/// By default, a tab, as in Hadoop.
///
/// # Example
///
/// ```
/// use mr_local::streaming::Separator;
///
/// assert_eq!(Separator::default().as_bytes(), b"\t");
/// assert_eq!(Separator::new("::").unwrap().as_bytes(), b"::");
/// assert!(Separator::new("").is_none());
/// assert!(Separator::new("a\nb").is_none());
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Separator(Box<[u8]>);

impl Separator {
    /// A separator of `bytes`, or `None` if they are empty or hold a line
    /// break (a separator cannot cross lines).
    pub fn new(bytes: impl Into<Vec<u8>>) -> Option<Separator> {
        let bytes = bytes.into();
        let valid = !bytes.is_empty() && !bytes.iter().any(|&b| b == b'\n' || b == b'\r');
        valid.then(|| Separator(bytes.into_boxed_slice()))
    }

    /// A tab, Hadoop's default.
    pub fn tab() -> Separator {
        Separator(Box::new(*b"\t"))
    }

    /// Returns the separator's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl Default for Separator {
    fn default() -> Separator {
        Separator::tab()
    }
}

impl fmt::Debug for Separator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Separator({:?})", String::from_utf8_lossy(&self.0))
    }
}

/// Separators and key-field counts of a streaming job, named after
/// Hadoop's `stream.*` properties, and the mapper's chunk size.
///
/// A line is cut into key and value at the `N`th occurrence of its
/// separator (`N` = the key fields, 1 unless told otherwise); a line with
/// fewer occurrences is all key, with an empty value ([`split_key_value`]).
/// A key-field count of 0 is taken as 1.
///
/// By default every separator is a tab and every key is one field.
///
/// # Example
///
/// Hadoop's `-D stream.map.output.field.separator=. -D
/// stream.num.map.output.key.fields=2`:
///
/// ```
/// use mr_local::streaming::{Config, Separator};
///
/// let mut config = Config::default();
/// config.map_output = Separator::new(".").unwrap();
/// config.map_output_key_fields = 2;
/// assert_eq!(config.reduce_input, Separator::tab());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Config {
    /// Between key and value in the mapper's output:
    /// `stream.map.output.field.separator`.
    pub map_output: Separator,
    /// Fields in a map output key: `stream.num.map.output.key.fields`.
    pub map_output_key_fields: usize,
    /// Between key and value in the reducer's (and the combiner's) input:
    /// `stream.reduce.input.field.separator`.
    pub reduce_input: Separator,
    /// Fields in a reduce input key. Hadoop has no property for it: it
    /// matters only when the reduce input separator also occurs inside
    /// keys, as when it equals a map output separator used with several
    /// key fields.
    pub reduce_input_key_fields: usize,
    /// Between key and value in the reducer's output:
    /// `stream.reduce.output.field.separator`.
    pub reduce_output: Separator,
    /// Fields in a reduce output key: `stream.num.reduce.output.key.fields`.
    pub reduce_output_key_fields: usize,
    /// Bytes of input the mapper runs the engine on at a time (cut at a
    /// newline; a longer line makes a longer chunk). By default
    /// [`DEFAULT_CHUNK_SIZE`].
    pub chunk_size: usize,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            map_output: Separator::tab(),
            map_output_key_fields: 1,
            reduce_input: Separator::tab(),
            reduce_input_key_fields: 1,
            reduce_output: Separator::tab(),
            reduce_output_key_fields: 1,
            chunk_size: DEFAULT_CHUNK_SIZE,
        }
    }
}

/// Reports counters and status to a streaming cluster, in the lines
/// Hadoop reads on a task's stderr.
///
/// A counter line adds its amount to the cluster's counter, so report
/// increments, not totals. Commas and line breaks in names, which the line
/// format cannot carry, become spaces.
///
/// # Example
///
/// ```
/// use mr_local::streaming::Reporter;
///
/// let mut reporter = Reporter::new(Vec::new());
/// reporter.counter("wordcount", "bad records", 2)?;
/// reporter.status("read 64 MiB\nof input")?;
/// assert_eq!(
///     String::from_utf8(reporter.into_inner()).unwrap(),
///     "reporter:counter:wordcount,bad records,2\nreporter:status:read 64 MiB of input\n",
/// );
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct Reporter<W> {
    out: W,
}

impl<W: Write> Reporter<W> {
    /// A reporter writing to `out`, usually `std::io::stderr()`.
    pub fn new(out: W) -> Reporter<W> {
        Reporter { out }
    }

    /// Adds `amount` to the counter `name` of `group`.
    ///
    /// # Errors
    ///
    /// Whatever writing returns.
    pub fn counter(&mut self, group: &str, name: &str, amount: u64) -> io::Result<()> {
        let clean = |s: &str| s.replace([',', '\n', '\r'], " ");
        let line = format!(
            "reporter:counter:{},{},{amount}\n",
            clean(group),
            clean(name)
        );
        self.out.write_all(line.as_bytes())?;
        self.out.flush()
    }

    /// Sets the task's status message.
    ///
    /// # Errors
    ///
    /// Whatever writing returns.
    pub fn status(&mut self, message: &str) -> io::Result<()> {
        let line = format!("reporter:status:{}\n", message.replace(['\n', '\r'], " "));
        self.out.write_all(line.as_bytes())?;
        self.out.flush()
    }

    /// Returns the underlying writer.
    pub fn into_inner(self) -> W {
        self.out
    }
}

/// Runs a streaming mapper made of closures: reads `input` in chunks
/// ([`Config::chunk_size`]), maps and combines each chunk on `job`'s pool
/// ([`Job::map_reduce`]), and writes the combined pairs as
/// `key<SEP>value` lines ([`Config::map_output`]) to `output`, in no
/// particular order.
///
/// Each chunk's counts go to `stderr` as counters of the group
/// [`COUNTER_GROUP`] (`map input records`, `map output records`,
/// `combine output records`, and the map closures' own, from
/// [`Emit::counter`]), with a status line. They are best effort: an error
/// writing them is ignored, so that a lost stderr never cuts the output
/// short.
///
/// See [`run_mapper_with`] for a [`Mapper`] implementation instead of a
/// closure; the module's docs have an example.
///
/// # Errors
///
/// An error reading `input` or writing `output` (named `<stdin>` and
/// `<stdout>`), a pair that would not read back
/// ([`KeyValueWriter::write`]), or the first error of `map`. Lines written
/// before the error stay written, as with any streaming task: a cluster
/// discards the output of a task that fails. A panic in `map` or
/// `combine` does not reach the caller: the engine catches it and fails
/// the run with an error, naming the chunk as for an error of `map`.
pub fn run_mapper<K, V, M, C>(
    job: &Job,
    config: &Config,
    map: M,
    combine: C,
    input: impl Read,
    output: impl Write,
    stderr: impl Write,
) -> Result<(), Error>
where
    K: Field + Hash + Eq + Send + Sync + 'static,
    V: Field + Send,
    M: for<'d> Fn(&'d [u8], &mut Emit<'_, K, V>) -> Result<(), BoxError> + Sync,
    C: Fn(&mut V, V) + Sync,
{
    run_mapper_with(
        job,
        config,
        &FnMapper::new(map),
        combine,
        input,
        output,
        stderr,
    )
}

/// Like [`run_mapper`], with a [`Mapper`] implementation, whose keys may
/// borrow from the input (each chunk's keys are written before the next
/// chunk is read).
///
/// # Errors
///
/// As for [`run_mapper`].
///
/// # Example
///
/// The built-in word count as a streaming mapper:
///
/// ```
/// use mr_local::jobs::wordcount::WordCount;
/// use mr_local::streaming::{self, Config};
/// use mr_local::Job;
///
/// let job = Job::builder().threads(2).build()?;
/// let mut out = Vec::new();
/// let input = &b"The cat; the CAT!\n"[..];
/// streaming::run_mapper_with(
///     &job,
///     &Config::default(),
///     &WordCount::default(),
///     |total, n| *total += n,
///     input,
///     &mut out,
///     std::io::sink(),
/// )?;
/// let mut lines: Vec<&[u8]> = out.split(|b| *b == b'\n').collect();
/// lines.sort();
/// assert_eq!(lines, [&b""[..], b"cat\t2", b"the\t2"]);
/// # Ok::<(), mr_local::Error>(())
/// ```
pub fn run_mapper_with<M, V, C>(
    job: &Job,
    config: &Config,
    mapper: &M,
    combine: C,
    input: impl Read,
    output: impl Write,
    stderr: impl Write,
) -> Result<(), Error>
where
    M: for<'d> Mapper<'d, Value = V>,
    for<'d> <M as Mapper<'d>>::Key: Field,
    V: Field,
    C: Fn(&mut V, V) + Sync,
{
    let mut chunks = ChunkReader::new(input, config.chunk_size);
    let mut writer = KeyValueWriter::new(
        output,
        config.map_output.clone(),
        config.map_output_key_fields,
    );
    let mut reporter = Reporter::new(stderr);
    let stdout_error = |e| Error::io("<stdout>", e);
    while let Some((offset, bytes)) = chunks.next_chunk().map_err(|e| Error::io("<stdin>", e))? {
        let mut inputs = Inputs::new();
        let len = bytes.len();
        inputs.push_bytes(format!("<stdin> from byte {offset}"), bytes);
        let result = job.map_reduce_with(&inputs, mapper, &combine)?;
        for (key, value) in result.partitions().iter().flatten() {
            writer.write(key, value).map_err(stdout_error)?;
        }
        let counters = result.counters();
        let counts = [
            ("map input records", counters.records),
            ("map output records", counters.map_output_records),
            ("combine output records", result.len() as u64),
        ];
        let user = counters.user_counters.iter().map(|(k, v)| (*k, *v));
        // Best effort (see the docs).
        for (name, n) in counts.into_iter().chain(user) {
            let _ = reporter.counter(COUNTER_GROUP, name, n);
        }
        let _ = reporter.status(&format!("mapped {} bytes", offset + len as u64));
    }
    writer.flush().map_err(stdout_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stderr whose reader has gone away.
    struct ClosedPipe;

    impl Write for ClosedPipe {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::ErrorKind::BrokenPipe.into())
        }

        fn flush(&mut self) -> io::Result<()> {
            Err(io::ErrorKind::BrokenPipe.into())
        }
    }

    #[test]
    fn a_lost_stderr_does_not_cut_the_output_short() {
        let job = Job::builder().threads(1).build().unwrap();
        let config = Config {
            chunk_size: 2,
            ..Config::default()
        };
        let mut mapped = Vec::new();
        run_mapper(
            &job,
            &config,
            |line: &[u8], out: &mut Emit<Vec<u8>, u64>| {
                out.emit(line.to_vec(), 1);
                Ok(())
            },
            |a, b| *a += b,
            &b"a\nb\nc\n"[..],
            &mut mapped,
            ClosedPipe,
        )
        .unwrap();
        assert_eq!(mapped, b"a\t1\nb\t1\nc\t1\n");
        let mut reduced = Vec::new();
        let counts = run_reducer(
            &config,
            |a: &mut u64, b| *a += b,
            &mapped[..],
            &mut reduced,
            ClosedPipe,
        )
        .unwrap();
        assert_eq!(reduced, mapped);
        assert_eq!(counts.output_records, 3);
    }

    #[test]
    fn identity_keeps_lone_crs_and_recuts_with_the_output_separator() {
        let config = Config {
            reduce_input: Separator::new("::").unwrap(),
            reduce_input_key_fields: 2,
            reduce_output: Separator::new("|").unwrap(),
            ..Config::default()
        };
        let input = &b"a::b::1\r\na::b::2::3\na::c\nx\ry\nlast\r"[..];
        let mut out = Vec::new();
        let counts = run_identity_reducer(&config, input, &mut out, io::sink()).unwrap();
        assert_eq!(out, b"a::b|1\na::b|2::3\na::c\nx\ry\nlast\n");
        assert_eq!(
            (counts.records, counts.groups, counts.bad_records),
            (5, 4, 0)
        );
        let mut out = Vec::new();
        assert_eq!(run_identity_mapper(input, &mut out, io::sink()).unwrap(), 5);
        assert_eq!(out, b"a::b::1\na::b::2::3\na::c\nx\ry\nlast\n");
        let mut out = Vec::new();
        assert_eq!(
            run_identity_mapper(&b""[..], &mut out, io::sink()).unwrap(),
            0
        );
        assert!(out.is_empty());
    }

    #[test]
    fn invalid_utf8_keys_are_bytes() {
        let mut out = Vec::new();
        let counts = run_reducer(
            &Config::default(),
            |a: &mut u64, b| *a += b,
            &b"\xff\xfe\t1\n\xff\xfe\t2\n\xff\t\xff\n"[..],
            &mut out,
            io::sink(),
        )
        .unwrap();
        assert_eq!(out, b"\xff\xfe\t3\n");
        assert_eq!(counts.bad_records, 1);
        assert_eq!(counts.groups, 2);
    }

    #[test]
    fn mapper_combines_within_and_across_chunks() {
        let job = Job::builder().threads(2).build().unwrap();
        let config = Config {
            chunk_size: 8,
            map_output: Separator::new(" = ").unwrap(),
            ..Config::default()
        };
        let mut out = Vec::new();
        let mut err = Vec::new();
        run_mapper(
            &job,
            &config,
            |line: &[u8], out: &mut Emit<String, u64>| {
                for w in line.split(|b| *b == b' ').filter(|w| !w.is_empty()) {
                    out.emit(String::from_utf8_lossy(w).into_owned(), 1);
                }
                Ok(())
            },
            |a, b| *a += b,
            &b"x y x\nx\ny y y y y y y\n"[..],
            &mut out,
            &mut err,
        )
        .unwrap();
        let mut lines: Vec<&[u8]> = out.split(|b| *b == b'\n').collect();
        lines.sort();
        // Two chunks: "x y x\nx\n" (cut at its last newline) and the long
        // line, longer than a chunk but never cut.
        assert_eq!(lines, [&b""[..], b"x = 3", b"y = 1", b"y = 7"]);
        let err = String::from_utf8(err).unwrap();
        for line in [
            "reporter:counter:mr-local,map input records,2\n",
            "reporter:counter:mr-local,map output records,4\n",
            "reporter:counter:mr-local,combine output records,2\n",
            "reporter:status:mapped 8 bytes\n",
            "reporter:counter:mr-local,map input records,1\n",
            "reporter:counter:mr-local,map output records,7\n",
        ] {
            assert!(err.contains(line), "{line:?} not in {err}");
        }
        assert!(err.ends_with("reporter:status:mapped 22 bytes\n"), "{err}");
    }

    #[test]
    fn mapper_refuses_keys_holding_the_separator() {
        let job = Job::builder().threads(1).build().unwrap();
        let config = Config {
            map_output: Separator::new(",").unwrap(),
            ..Config::default()
        };
        let err = run_mapper(
            &job,
            &config,
            |line: &[u8], out: &mut Emit<Vec<u8>, u64>| {
                out.emit(line.to_vec(), 1);
                Ok(())
            },
            |a, b| *a += b,
            &b"a,b\n"[..],
            io::sink(),
            io::sink(),
        )
        .unwrap_err();
        assert!(
            err.to_string().starts_with("<stdout>: key \"a,b\""),
            "{err}"
        );
    }

    #[test]
    fn map_errors_name_the_chunk() {
        let job = Job::builder().threads(1).build().unwrap();
        let config = Config {
            chunk_size: 4,
            ..Config::default()
        };
        let err = run_mapper(
            &job,
            &config,
            |line: &[u8], _: &mut Emit<Vec<u8>, u64>| {
                if line == b"bad" {
                    return Err("bad line".into());
                }
                Ok(())
            },
            |a, b| *a += b,
            &b"ok\nbad\n"[..],
            io::sink(),
            io::sink(),
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "<stdin> from byte 3: byte 0: map failed: bad line"
        );
    }

    #[test]
    fn panics_in_map_or_combine_are_errors_not_unwinding() {
        let job = Job::builder().threads(1).build().unwrap();
        let run = |panic_in_map: bool| {
            run_mapper(
                &job,
                &Config::default(),
                move |line: &[u8], out: &mut Emit<Vec<u8>, u64>| {
                    assert!(!(panic_in_map && line == b"b"), "map gave up");
                    out.emit(b"k".to_vec(), 1);
                    Ok(())
                },
                |_, _| panic!("combine gave up"),
                &b"a
b
"[..],
                io::sink(),
                io::sink(),
            )
        };
        let map = run(true).unwrap_err();
        assert!(map.to_string().contains("map gave up"), "{map}");
        let combine = run(false).unwrap_err();
        assert!(combine.to_string().contains("combine gave up"), "{combine}");
    }
}
