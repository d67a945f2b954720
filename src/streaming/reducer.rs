//! [`run_reducer`] and [`try_run_reducer`]: a whole streaming reducer (or
//! combiner) from a job's combiner, folding each run of equal keys that
//! the cluster's sort hands it; and [`ReduceCounts`], what it read and
//! wrote.

use std::io::{self, BufReader, Read, Write};

use super::{
    Config, FromField, KeyValueReader, KeyValueWriter, Reporter, BUFFER_SIZE, COUNTER_GROUP,
};
use crate::error::{BoxError, Error};

/// What [`run_reducer`] read and wrote.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReduceCounts {
    /// Lines read.
    pub records: u64,
    /// Groups of consecutive equal keys.
    pub groups: u64,
    /// Lines whose value did not parse, skipped.
    pub bad_records: u64,
    /// Lines written.
    pub output_records: u64,
}

/// Runs a streaming reducer (or combiner) made of a fold: reads
/// `key<SEP>value` lines from `input` ([`Config::reduce_input`]), folds the
/// values of each run of equal keys with `combine`, and writes one
/// `key<SEP>value` line per run ([`Config::reduce_output`]), in the order
/// of the input.
///
/// A value that does not parse as a `V` ([`FromField::from_field`]) is a bad
/// record: skipped, and counted. So is a line without a separator, which
/// Hadoop reads as all key and an empty value; a key whose values are all
/// bad writes no line. The counts go to `stderr` at the end, as counters of
/// the group [`COUNTER_GROUP`] (`reduce input records`, `reduce input
/// groups`, `bad records`, `reduce output records`), best effort (an error
/// writing them is ignored), and are returned.
///
/// # Errors
///
/// An error reading `input` or writing `output` (named `<stdin>` and
/// `<stdout>`), or a pair that would not read back
/// ([`KeyValueWriter::write`]); a bad record is not an error.
///
/// # Example
///
/// ```
/// use mr_local::streaming::{self, Config};
///
/// let input = &b"a\t1\na\t2\na\tx\nb\t5\nnothing\n"[..];
/// let mut out = Vec::new();
/// let mut err = Vec::new();
/// let counts = streaming::run_reducer(&Config::default(), |a: &mut u64, b| *a += b, input, &mut out, &mut err)?;
/// assert_eq!(out, b"a\t3\nb\t5\n");
/// assert_eq!(counts.bad_records, 2);
/// assert!(String::from_utf8(err).unwrap().contains("reporter:counter:mr-local,bad records,2\n"));
/// # Ok::<(), mr_local::Error>(())
/// ```
pub fn run_reducer<V, C>(
    config: &Config,
    mut combine: C,
    input: impl Read,
    output: impl Write,
    stderr: impl Write,
) -> Result<ReduceCounts, Error>
where
    V: FromField,
    C: FnMut(&mut V, V),
{
    let combine = |total: &mut V, value| {
        combine(total, value);
        Ok(())
    };
    try_run_reducer(config, combine, input, output, stderr)
}

/// [`run_reducer`] with a fold that may fail, as a sum that would pass
/// the largest count does: the error stops the reducer, naming the line
/// and its key.
///
/// # Errors
///
/// As for [`run_reducer`], and `<stdin>: line N: key "K": ERROR` (an
/// [`io::ErrorKind::InvalidData`] error) where `combine` fails. The lines
/// of the groups before it may have been written to `output` (a failed
/// task's output is discarded on a cluster); the counters are not
/// reported.
///
/// # Example
///
/// ```
/// use mr_local::streaming::{self, Config};
///
/// let sum = |a: &mut u64, b: u64| -> Result<(), mr_local::BoxError> {
///     *a = a.checked_add(b).ok_or("the sum is too large")?;
///     Ok(())
/// };
/// let input = &b"a\t18446744073709551615\na\t1\n"[..];
/// let err = streaming::try_run_reducer(&Config::default(), sum, input, Vec::new(), Vec::new())
///     .unwrap_err();
/// assert_eq!(err.to_string(), "<stdin>: line 2: key \"a\": the sum is too large");
/// # Ok::<(), mr_local::Error>(())
/// ```
pub fn try_run_reducer<V, C>(
    config: &Config,
    mut combine: C,
    input: impl Read,
    output: impl Write,
    stderr: impl Write,
) -> Result<ReduceCounts, Error>
where
    V: FromField,
    C: FnMut(&mut V, V) -> Result<(), BoxError>,
{
    let stdin_error = |e| Error::io("<stdin>", e);
    let mut reader = KeyValueReader::new(
        BufReader::with_capacity(BUFFER_SIZE, input),
        config.reduce_input.clone(),
        config.reduce_input_key_fields,
    );
    let mut writer = KeyValueWriter::new(
        output,
        config.reduce_output.clone(),
        config.reduce_output_key_fields,
    );
    let mut counts = ReduceCounts::default();
    while let Some(mut group) = reader.next_group().map_err(stdin_error)? {
        counts.groups += 1;
        let mut total: Option<V> = None;
        while let Some(value) = group.next_value().map_err(stdin_error)? {
            match (V::from_field(value), &mut total) {
                (None, _) => counts.bad_records += 1,
                (Some(v), Some(total)) => {
                    if let Err(err) = combine(total, v) {
                        let message = format!(
                            "line {}: key {:?}: {err}",
                            group.records(),
                            String::from_utf8_lossy(group.key())
                        );
                        return Err(stdin_error(io::Error::new(
                            io::ErrorKind::InvalidData,
                            message,
                        )));
                    }
                }
                (Some(v), None) => total = Some(v),
            }
        }
        if let Some(total) = total {
            writer
                .write(group.key(), &total)
                .map_err(|e| Error::io("<stdout>", e))?;
            counts.output_records += 1;
        }
    }
    counts.records = reader.records();
    writer.flush().map_err(|e| Error::io("<stdout>", e))?;
    report_reduce_counts(stderr, &counts);
    Ok(counts)
}

/// Reports a reducer's counts as counters, best effort (see
/// [`run_reducer`]'s docs).
pub(super) fn report_reduce_counts(stderr: impl Write, counts: &ReduceCounts) {
    let mut reporter = Reporter::new(stderr);
    for (name, n) in [
        ("reduce input records", counts.records),
        ("reduce input groups", counts.groups),
        ("bad records", counts.bad_records),
        ("reduce output records", counts.output_records),
    ] {
        let _ = reporter.counter(COUNTER_GROUP, name, n);
    }
}
