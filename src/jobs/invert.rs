//! An inverted index (the MapReduce paper's §2.3): every word, with the
//! sorted list of the inputs that contain it.
//!
//! Map emits each distinct word of a split once, with the split's document
//! id (its input's position); the combiner merges the sorted id lists of a
//! word; key ranges chosen by sampling, with sorted reduce input, make the
//! partitions come out in word order, so no final sort is needed.

use std::collections::HashSet;

use crate::error::{BoxError, Error};
use crate::input::Inputs;
use crate::job::Job;
use crate::jobs::wordcount::{Word, WordCount};
use crate::map::{Emit, Mapper};
use crate::Counters;

/// The inverted-index job: words as [`WordCount`] finds and folds them.
///
/// # Example
///
/// ```
/// use mr_local::jobs::invert::{invert, Invert};
/// use mr_local::{Inputs, Job};
///
/// let mut inputs = Inputs::new();
/// inputs.push_bytes("a.txt", "Red green");
/// inputs.push_bytes("b.txt", "green blue");
/// let job = Job::builder().build()?;
/// let (index, _) = invert(&job, &inputs, &Invert::default())?;
/// let index: Vec<(&[u8], Vec<u32>)> = index.iter().map(|(w, ids)| (w.as_bytes(), ids.clone())).collect();
/// assert_eq!(index, [(&b"blue"[..], vec![1]), (b"green", vec![0, 1]), (b"red", vec![0])]);
/// # Ok::<(), mr_local::Error>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Invert {
    /// How words are found and folded.
    pub words: WordCount,
}

impl<'d> Mapper<'d> for Invert {
    type Key = Word<'d>;
    /// Document ids, sorted, without duplicates.
    type Value = Vec<u32>;

    fn map(
        &self,
        record: &'d [u8],
        out: &mut Emit<'_, Word<'d>, Vec<u32>>,
    ) -> Result<(), BoxError> {
        self.map_split(record, out)
    }

    /// Words do not straddle lines, so a split is scanned in one pass.
    fn map_split(
        &self,
        split: &'d [u8],
        out: &mut Emit<'_, Word<'d>, Vec<u32>>,
    ) -> Result<(), BoxError> {
        let id = u32::try_from(out.file()).map_err(|_| "more than 2^32 inputs")?;
        let mut seen: HashSet<Word<'d>, ahash::RandomState> = HashSet::default();
        self.words.for_each_word(split, |word| {
            seen.insert(match word {
                std::borrow::Cow::Borrowed(word) => Word::borrowed(word),
                std::borrow::Cow::Owned(word) => Word::copied(&word),
            });
        });
        out.count_records(memchr::memchr_iter(b'\n', split).count() as u64);
        for word in seen {
            out.emit(word, vec![id]);
        }
        Ok(())
    }
}

/// Merges the sorted id list `more` into `ids`, keeping it sorted and free
/// of duplicates.
pub fn merge_ids(ids: &mut Vec<u32>, more: Vec<u32>) {
    match (ids.last(), more.first()) {
        // Splits of one thread come mostly in input order: append.
        (Some(last), Some(first)) if last < first => ids.extend(more),
        (None, _) => *ids = more,
        (_, None) => {}
        _ => {
            let mut merged = Vec::with_capacity(ids.len() + more.len());
            let (mut a, mut b) = (ids.iter().peekable(), more.iter().peekable());
            while let (Some(&&x), Some(&&y)) = (a.peek(), b.peek()) {
                merged.push(x.min(y));
                if x <= y {
                    a.next();
                }
                if y <= x {
                    b.next();
                }
            }
            merged.extend(a);
            merged.extend(b);
            *ids = merged;
        }
    }
}

/// An inverted index: words in order, each with the sorted ids of the
/// inputs that hold it.
pub type Index<'d> = Vec<(Word<'d>, Vec<u32>)>;

/// Builds the inverted index of `inputs`: each word with the ids (positions
/// in [`Inputs::files`]) of the inputs that contain it, in word order
/// (bytewise), and the job's counters.
///
/// # Errors
///
/// As for [`Job::map_reduce`]; the mapper itself never fails.
pub fn invert<'d>(
    job: &Job,
    inputs: &'d Inputs,
    invert: &Invert,
) -> Result<(Index<'d>, Counters), Error> {
    let output = job
        .map_with(inputs, invert)
        .spill()
        .streamed()
        .partition_by_sampled_ranges()
        .sorted()
        .fold(merge_ids)?;
    let counters = output.counters().clone();
    Ok((output.into_vec(), counters))
}

/// Builds the inverted index of `inputs` like [`invert`], handing each
/// partition's words, in order, to `each` as they come out of reduce
/// instead of collecting them; memory stays within the job's budget.
///
/// # Errors
///
/// As for [`Job::map_reduce`], and the first error `each` returns.
pub fn invert_into<'d, T: Send>(
    job: &Job,
    inputs: &'d Inputs,
    invert: &Invert,
    each: impl Fn(usize, &mut dyn Iterator<Item = (Word<'d>, Vec<u32>)>) -> Result<T, Error> + Sync,
) -> Result<(Vec<T>, Counters), Error> {
    job.map_with(inputs, invert)
        .spill()
        .streamed()
        .partition_by_sampled_ranges()
        .sorted()
        .fold_into(merge_ids, each)
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use super::*;

    #[test]
    fn merging_keeps_ids_sorted_and_unique() {
        let mut ids = vec![1, 4, 6];
        merge_ids(&mut ids, vec![0, 4, 5, 9]);
        assert_eq!(ids, [0, 1, 4, 5, 6, 9]);
        merge_ids(&mut ids, vec![10]);
        merge_ids(&mut ids, Vec::new());
        assert_eq!(ids, [0, 1, 4, 5, 6, 9, 10]);
        let mut empty = Vec::new();
        merge_ids(&mut empty, vec![3]);
        assert_eq!(empty, [3]);
    }

    #[test]
    fn the_index_agrees_with_a_sequential_one_at_every_split_size() {
        let texts = [
            "The cat sat.\nOn the mat",
            "a CAT, a dog\n",
            "",
            "Straße STRASSE\nmat",
        ];
        let words = WordCount::default();
        let mut expected: BTreeMap<Vec<u8>, BTreeSet<u32>> = BTreeMap::new();
        for (id, text) in texts.iter().enumerate() {
            words.for_each_word(text.as_bytes(), |w| {
                expected
                    .entry(w.into_owned())
                    .or_default()
                    .insert(id as u32);
            });
        }
        let expected: Vec<(Vec<u8>, Vec<u32>)> = expected
            .into_iter()
            .map(|(w, ids)| (w, ids.into_iter().collect()))
            .collect();
        let mut inputs = Inputs::new();
        for (i, text) in texts.iter().enumerate() {
            inputs.push_bytes(format!("f{i}"), *text);
        }
        for split in 1..12 {
            for partitions in [1, 3, 7] {
                let job = Job::builder()
                    .threads(2)
                    .partitions(partitions)
                    .split_size(split)
                    .build()
                    .unwrap();
                let (index, _) = invert(&job, &inputs, &Invert::default()).unwrap();
                let got: Vec<(Vec<u8>, Vec<u32>)> = index
                    .into_iter()
                    .map(|(w, ids)| (w.to_vec(), ids))
                    .collect();
                assert_eq!(got, expected, "split {split}, {partitions} partitions");
            }
        }
    }
}
