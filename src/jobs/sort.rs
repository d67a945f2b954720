//! A total-order sort of lines: the TeraSort idea on one machine.
//!
//! Map emits every line as a key, with a count of one; the combiner adds up
//! the counts of equal lines. Key ranges, chosen from a sample of the map
//! output, send every line below a split point to an earlier partition than
//! every line above it, and each reduce task sorts its own partition, in
//! parallel. The partitions, one after the other, are then the sorted
//! input: no merge at the end.

use memchr::memchr_iter;

use crate::error::{BoxError, Error};
use crate::input::Inputs;
use crate::job::Job;
use crate::jobs::wordcount::Word;
use crate::map::{Emit, Mapper};
use crate::Counters;

/// The sort job's mapper: lines are the bytes between two `\n`, a `\r`
/// before the `\n` included, as `sort` sees them; the order is bytewise,
/// that of `LC_ALL=C sort`.
///
/// # Example
///
/// ```
/// use mr_local::jobs::sort::{sort_lines, SortLines};
/// use mr_local::{Inputs, Job};
///
/// let mut inputs = Inputs::new();
/// inputs.push_bytes("in", "pear\napple\nfig\napple\n");
/// let job = Job::builder().partitions(2).build()?;
/// let (lines, _) = sort_lines(&job, &inputs)?;
/// let lines: Vec<(&[u8], u64)> = lines.iter().map(|(line, n)| (line.as_bytes(), *n)).collect();
/// assert_eq!(lines, [(&b"apple"[..], 2), (b"fig", 1), (b"pear", 1)]);
/// # Ok::<(), mr_local::Error>(())
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct SortLines;

impl<'d> Mapper<'d> for SortLines {
    type Key = Word<'d>;
    type Value = u64;

    fn map(&self, line: &'d [u8], out: &mut Emit<'_, Word<'d>, u64>) -> Result<(), BoxError> {
        out.emit(Word::borrowed(line), 1);
        Ok(())
    }

    /// Cuts lines at `\n` only, whatever the job's input format, so that a
    /// `\r` stays in its line.
    fn map_split(
        &self,
        split: &'d [u8],
        out: &mut Emit<'_, Word<'d>, u64>,
    ) -> Result<(), BoxError> {
        let mut start = 0;
        for end in memchr_iter(b'\n', split) {
            out.start_record(start, end + 1);
            out.emit(Word::borrowed(&split[start..end]), 1);
            start = end + 1;
        }
        if start < split.len() {
            out.start_record(start, split.len());
            out.emit(Word::borrowed(&split[start..]), 1);
        }
        Ok(())
    }
}

/// Distinct lines in increasing order, each with how often it occurs.
pub type SortedLines<'d> = Vec<(Word<'d>, u64)>;

/// Sorts the lines of `inputs` bytewise: each distinct line with how many
/// times it occurs, in increasing order, and the job's counters.
///
/// # Errors
///
/// As for [`Job::map_reduce`]; the mapper itself never fails.
pub fn sort_lines<'d>(job: &Job, inputs: &'d Inputs) -> Result<(SortedLines<'d>, Counters), Error> {
    let output = job
        .map_with(inputs, &SortLines)
        .spill()
        .streamed()
        .partition_by_sampled_ranges()
        .sorted_with(Word::sort_pairs)
        .fold(crate::jobs::add_count)?;
    let counters = output.counters().clone();
    Ok((output.into_vec(), counters))
}

/// Sorts the lines of `inputs` like [`sort_lines`], handing each
/// partition's lines, in order, to `each` as they come out of reduce
/// instead of collecting them: partitions follow one another in key order,
/// so writing them one after the other gives the sorted output. Memory
/// stays within the job's budget however large the input.
///
/// # Errors
///
/// As for [`Job::map_reduce`], and the first error `each` returns.
pub fn sort_lines_into<'d, T: Send>(
    job: &Job,
    inputs: &'d Inputs,
    each: impl Fn(usize, &mut dyn Iterator<Item = (Word<'d>, u64)>) -> Result<T, Error> + Sync,
) -> Result<(Vec<T>, Counters), Error> {
    job.map_with(inputs, &SortLines)
        .spill()
        .streamed()
        .partition_by_sampled_ranges()
        .sorted_with(Word::sort_pairs)
        .fold_into(crate::jobs::add_count, each)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_come_out_in_bytewise_order_at_every_split_size() {
        let text = b"b\r\nb\na\n\n\xff\nB\nab\na\nzz";
        let mut expected: Vec<&[u8]> = text.split(|b| *b == b'\n').collect();
        expected.sort();
        for split in 1..text.len() + 1 {
            for partitions in [1, 2, 5] {
                let mut inputs = Inputs::new();
                inputs.push_bytes("in", &text[..]);
                let job = Job::builder()
                    .threads(2)
                    .partitions(partitions)
                    .split_size(split)
                    .build()
                    .unwrap();
                let (lines, counters) = sort_lines(&job, &inputs).unwrap();
                let got: Vec<&[u8]> = lines
                    .iter()
                    .flat_map(|(line, n)| std::iter::repeat_n(line.as_bytes(), *n as usize))
                    .collect();
                assert_eq!(got, expected, "split {split}");
                assert_eq!(counters.records, expected.len() as u64);
            }
        }
    }
}
