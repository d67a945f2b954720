//! [`run_identity_mapper`] and [`run_identity_reducer`]: Hadoop's
//! `-mapper cat` and `-reducer cat`, lines passed through as they are, for
//! jobs whose work is the cluster's sort or done in one phase.

use std::io::{BufRead, BufReader, BufWriter, Read, Write};

use super::lines::Splitter;
use super::reducer::{report_reduce_counts, ReduceCounts};
use super::{Config, Reporter, Separator, BUFFER_SIZE, COUNTER_GROUP};
use crate::error::Error;

/// Runs a streaming identity mapper, like Hadoop's `-mapper cat`: writes
/// each line of `input` to `output` as it is, so that its key is the line
/// up to its first map output separator, and returns the number of lines.
///
/// Lines are read as [`KeyValueReader`](super::KeyValueReader) reads them,
/// which is how Hadoop's line reader hands them to a task: a line ends at
/// `\n`, a `\r` before the `\n` (or ending the input) is dropped, and the
/// last line needs no newline; each is written followed by `\n`, so that
/// the output reads back as the same lines. A `\r` anywhere else is kept
/// (Hadoop ends a line at a lone `\r` too, so on a cluster none reaches a
/// task). Bytes need not be UTF-8.
///
/// The count goes to `stderr` as the counters `map input records` and
/// `map output records` of the group [`COUNTER_GROUP`], best effort (an
/// error writing them is ignored).
///
/// # Errors
///
/// An error reading `input` or writing `output` (named `<stdin>` and
/// `<stdout>`).
///
/// # Example
///
/// ```
/// use mr_local::streaming;
///
/// let mut out = Vec::new();
/// let lines = streaming::run_identity_mapper(&b"b\tx\r\n\na"[..], &mut out, std::io::sink())?;
/// assert_eq!(out, b"b\tx\n\na\n");
/// assert_eq!(lines, 3);
/// # Ok::<(), mr_local::Error>(())
/// ```
pub fn run_identity_mapper(
    input: impl Read,
    output: impl Write,
    stderr: impl Write,
) -> Result<u64, Error> {
    let (records, _) = copy_lines(input, output, None)?;
    let mut reporter = Reporter::new(stderr);
    for name in ["map input records", "map output records"] {
        // Best effort (see the docs).
        let _ = reporter.counter(COUNTER_GROUP, name, records);
    }
    Ok(records)
}

/// Runs a streaming identity reducer (or combiner), like Hadoop's
/// `-reducer cat`: writes each line of `input` to `output`, in input order.
///
/// Lines are read as for [`run_identity_mapper`] and cut as
/// [`KeyValueReader`](super::KeyValueReader) cuts them
/// ([`Config::reduce_input`]). A line that holds the separator is written
/// as its key, [`Config::reduce_output`] and its value: with the default
/// separators, both tabs, that is the line as read. A line without one is
/// written as it is. No line is a bad record.
///
/// The counts (lines, runs of consecutive equal keys, lines written) go to
/// `stderr` as [`run_reducer`](super::run_reducer)'s counters do, and
/// are returned.
///
/// # Errors
///
/// An error reading `input` or writing `output` (named `<stdin>` and
/// `<stdout>`).
///
/// # Example
///
/// ```
/// use mr_local::streaming::{self, Config, Separator};
///
/// let input = &b"a\t1\na\t2\r\nno separator\n\n"[..];
/// let mut out = Vec::new();
/// let counts = streaming::run_identity_reducer(&Config::default(), input, &mut out, std::io::sink())?;
/// assert_eq!(out, b"a\t1\na\t2\nno separator\n\n");
/// assert_eq!((counts.records, counts.groups, counts.output_records), (4, 3, 4));
///
/// let mut config = Config::default();
/// config.reduce_output = Separator::new(",").unwrap();
/// let mut out = Vec::new();
/// streaming::run_identity_reducer(&config, input, &mut out, std::io::sink())?;
/// assert_eq!(out, b"a,1\na,2\nno separator\n\n");
/// # Ok::<(), mr_local::Error>(())
/// ```
pub fn run_identity_reducer(
    config: &Config,
    input: impl Read,
    output: impl Write,
    stderr: impl Write,
) -> Result<ReduceCounts, Error> {
    let splitter = Splitter::new(&config.reduce_input, config.reduce_input_key_fields);
    let (records, groups) = copy_lines(input, output, Some((&splitter, &config.reduce_output)))?;
    let counts = ReduceCounts {
        records,
        groups,
        bad_records: 0,
        output_records: records,
    };
    report_reduce_counts(stderr, &counts);
    Ok(counts)
}

/// Copies lines for the identity runners, returning the lines and the runs
/// of equal keys. With `cut`, a line's key and value are written with the
/// separator given, and runs are counted; without, lines are written as
/// read, and runs are not counted.
fn copy_lines(
    input: impl Read,
    output: impl Write,
    cut: Option<(&Splitter, &Separator)>,
) -> Result<(u64, u64), Error> {
    let stdin_error = |e| Error::io("<stdin>", e);
    let stdout_error = |e| Error::io("<stdout>", e);
    let mut input = BufReader::with_capacity(BUFFER_SIZE, input);
    let mut output = BufWriter::with_capacity(BUFFER_SIZE, output);
    let (mut line, mut key) = (Vec::new(), Vec::new());
    let (mut records, mut groups) = (0, 0);
    loop {
        line.clear();
        if input.read_until(b'\n', &mut line).map_err(stdin_error)? == 0 {
            break;
        }
        records += 1;
        if line.last() == Some(&b'\n') {
            line.pop();
        }
        // Before a `\n`, or at the end of the input (see the docs).
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        match cut {
            Some((splitter, separator)) => {
                let (key_end, value_start) = splitter.split(&line);
                if groups == 0 || key[..] != line[..key_end] {
                    groups += 1;
                    key.clear();
                    key.extend_from_slice(&line[..key_end]);
                }
                output.write_all(&line[..key_end]).map_err(stdout_error)?;
                if key_end < line.len() {
                    output
                        .write_all(separator.as_bytes())
                        .map_err(stdout_error)?;
                    output
                        .write_all(&line[value_start..])
                        .map_err(stdout_error)?;
                }
            }
            None => output.write_all(&line).map_err(stdout_error)?,
        }
        output.write_all(b"\n").map_err(stdout_error)?;
    }
    output.flush().map_err(stdout_error)?;
    Ok((records, groups))
}
