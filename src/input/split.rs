//! Planning splits: the units of work of the map phase.
//!
//! A large file is cut into pieces of about the split size, each ending just
//! after a record delimiter, so that no record straddles two splits. Files
//! smaller than the split size are grouped, several to a split, so that a
//! task is never tiny. A record longer than the split size stays whole: its
//! split grows to hold it.

use crate::input::{Inputs, Records};

/// A contiguous byte range of one input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Piece {
    /// Index of the input in [`Inputs::files`].
    pub file: usize,
    /// First byte of the piece.
    pub start: usize,
    /// One past the last byte of the piece.
    pub end: usize,
}

/// The work of one map task: one piece of a large file, or a group of
/// whole small files.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Split {
    pub pieces: Vec<Piece>,
}

impl Split {
    fn len(&self) -> usize {
        self.pieces.iter().map(|p| p.end - p.start).sum()
    }
}

/// Cuts `inputs` into splits of about `split_size` bytes whose pieces end on
/// a record boundary of `records` (or at the end of their file). Empty
/// inputs get no piece.
pub(crate) fn plan(inputs: &Inputs, split_size: usize, records: &Records) -> Vec<Split> {
    debug_assert!(split_size > 0);
    let mut splits = Vec::new();
    let mut group = Split::default();
    for (file, input) in inputs.files().iter().enumerate() {
        let bytes = input.bytes();
        let mut start = 0;
        while start < bytes.len() {
            let end = records.split_end(bytes, start, split_size);
            let piece = Piece { file, start, end };
            if start == 0 && end == bytes.len() {
                // A whole file: group it with its neighbours.
                group.pieces.push(piece);
                if group.len() >= split_size {
                    splits.push(std::mem::take(&mut group));
                }
            } else {
                splits.push(Split {
                    pieces: vec![piece],
                });
            }
            start = end;
        }
    }
    if !group.pieces.is_empty() {
        splits.push(group);
    }
    splits
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs(files: &[&str]) -> Inputs {
        let mut inputs = Inputs::new();
        for (i, text) in files.iter().enumerate() {
            inputs.push_bytes(format!("f{i}"), text.as_bytes());
        }
        inputs
    }

    /// Every byte of every input lands in exactly one piece, in order.
    fn assert_covers(inputs: &Inputs, splits: &[Split]) {
        let mut next = vec![0; inputs.files().len()];
        for piece in splits.iter().flat_map(|s| &s.pieces) {
            assert_eq!(piece.start, next[piece.file], "gap or overlap at {piece:?}");
            assert!(piece.end > piece.start, "empty piece {piece:?}");
            next[piece.file] = piece.end;
        }
        for (file, input) in inputs.files().iter().enumerate() {
            assert_eq!(next[file], input.bytes().len());
        }
    }

    #[test]
    fn large_files_are_cut_after_delimiters() {
        let inputs = inputs(&["aaa\nbbb\nccc\nddd"]);
        let splits = plan(&inputs, 5, &Records::lines());
        assert_covers(&inputs, &splits);
        let texts: Vec<&[u8]> = splits
            .iter()
            .map(|s| &inputs.files()[0].bytes()[s.pieces[0].start..s.pieces[0].end])
            .collect();
        assert_eq!(texts, [&b"aaa\nbbb\n"[..], b"ccc\nddd"]);
    }

    #[test]
    fn a_record_longer_than_the_split_stays_whole() {
        let inputs = inputs(&["short\na-very-long-record-indeed\nx\n"]);
        let splits = plan(&inputs, 3, &Records::lines());
        assert_covers(&inputs, &splits);
        let bytes = inputs.files()[0].bytes();
        for s in &splits {
            let p = s.pieces[0];
            assert!(p.end == bytes.len() || bytes[p.end - 1] == b'\n');
        }
        assert_eq!(splits.len(), 3);
    }

    #[test]
    fn small_files_are_grouped_and_empty_ones_skipped() {
        let inputs = inputs(&["a\n", "", "b\n", "c\n", "d\n", "e"]);
        let splits = plan(&inputs, 4, &Records::lines());
        assert_covers(&inputs, &splits);
        let files: Vec<Vec<usize>> = splits
            .iter()
            .map(|s| s.pieces.iter().map(|p| p.file).collect())
            .collect();
        assert_eq!(files, [vec![0, 2], vec![3, 4], vec![5]]);
    }

    #[test]
    fn every_split_size_covers_the_input() {
        let text = "one two\r\nthree\n\nfour five six\nseven";
        let inputs = inputs(&[text, "x", text]);
        for size in 1..=text.len() + 2 {
            assert_covers(&inputs, &plan(&inputs, size, &Records::lines()));
        }
    }
}
