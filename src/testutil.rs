//! Test helpers: temporary directories and plain sequential references that
//! the engine's answers are checked against.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::jobs::wordcount::{WordCount, WordSplit};

/// A directory under the system's temp dir, removed when dropped.
pub(crate) struct TempDir(PathBuf);

impl TempDir {
    pub fn new(label: &str) -> TempDir {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path =
            std::env::temp_dir().join(format!("mr-local-unit-{}-{n}-{label}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("create temp dir");
        TempDir(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    pub fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.0.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create parent dir");
        }
        std::fs::write(&path, contents).expect("write temp file");
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The words of `text` by the plainest route: the standard library's UTF-8
/// chunking, `str::split`, `str::to_lowercase`. Invalid bytes separate
/// words, except with [`WordSplit::Whitespace`], where they belong to the
/// word around them and each valid piece is lowercased on its own.
pub(crate) fn reference_words(wc: &WordCount, text: &[u8]) -> Vec<Vec<u8>> {
    let fold = |piece: &str| {
        if wc.case_sensitive {
            piece.to_string()
        } else {
            piece.to_lowercase()
        }
    };
    let mut words = Vec::new();
    if wc.split == WordSplit::Whitespace {
        let mut word = Vec::new();
        for chunk in text.utf8_chunks() {
            // The first piece continues the word the chunk before left
            // open; each whitespace character ends a word.
            for (i, piece) in chunk.valid().split(char::is_whitespace).enumerate() {
                if i > 0 && !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
                word.extend_from_slice(fold(piece).as_bytes());
            }
            word.extend_from_slice(chunk.invalid());
        }
        if !word.is_empty() {
            words.push(word);
        }
        return words;
    }
    for chunk in text.utf8_chunks() {
        let pieces = chunk.valid().split(|c: char| !c.is_alphanumeric());
        for word in pieces.filter(|w| !w.is_empty()) {
            words.push(fold(word).into_bytes());
        }
    }
    words
}

/// Word counts of `texts`, by count descending then word ascending.
pub(crate) fn reference_counts(wc: &WordCount, texts: &[&[u8]]) -> Vec<(Vec<u8>, u64)> {
    let mut counts: HashMap<Vec<u8>, u64> = HashMap::new();
    for text in texts {
        for word in reference_words(wc, text) {
            *counts.entry(word).or_default() += 1;
        }
    }
    let mut counts: Vec<_> = counts.into_iter().collect();
    counts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    counts
}

/// Runs one word-count case through every way of reading the input, every
/// shuffle strategy, several thread and partition counts and split sizes,
/// and checks each answer against [`reference_counts`].
pub(crate) struct JobTester {
    threads: Vec<usize>,
    partitions: Vec<usize>,
    split_sizes: Vec<usize>,
}

impl Default for JobTester {
    fn default() -> Self {
        JobTester {
            threads: vec![1, 2, 4],
            partitions: vec![1, 3, 16],
            split_sizes: vec![1, 7, 64, 1 << 20],
        }
    }
}

/// How the tester hands a case's texts to the engine.
#[derive(Clone, Copy, Debug)]
enum InputPath {
    Memory,
    ReadFiles,
    MappedFiles,
}

impl JobTester {
    /// Uses exactly these settings instead of the default grid.
    pub fn with(threads: usize, partitions: usize, split_size: usize) -> JobTester {
        JobTester {
            threads: vec![threads],
            partitions: vec![partitions],
            split_sizes: vec![split_size],
        }
    }

    pub fn test(&self, wc: &WordCount, texts: &[&[u8]]) {
        use crate::jobs::wordcount::count_words;
        use crate::{InputOptions, Inputs, Job, MmapChoice, ShuffleStrategy};

        let expected = reference_counts(wc, texts);
        let dir = TempDir::new("tester");
        let paths: Vec<PathBuf> = texts
            .iter()
            .enumerate()
            .map(|(i, text)| dir.write(&format!("in{i}.txt"), text))
            .collect();
        for path in [
            InputPath::Memory,
            InputPath::ReadFiles,
            InputPath::MappedFiles,
        ] {
            let inputs = match path {
                InputPath::Memory => {
                    let mut inputs = Inputs::new();
                    for (i, text) in texts.iter().enumerate() {
                        inputs.push_bytes(format!("text{i}"), *text);
                    }
                    inputs
                }
                InputPath::ReadFiles => Inputs::open(&paths, &InputOptions::default()).unwrap(),
                InputPath::MappedFiles => {
                    #[allow(unsafe_code)]
                    // SAFETY: the tester's files live in its own temp dir
                    // and nothing modifies them while the job runs.
                    let mmap = unsafe { MmapChoice::auto() };
                    Inputs::open(&paths, &InputOptions::default().mmap(mmap)).unwrap()
                }
            };
            // Tiny batches and queues, so that hand-offs happen even on
            // the small texts of unit tests.
            for strategy in ShuffleStrategy::all()
                .into_iter()
                .map(|s| s.batch(2).capacity(1))
            {
                for &threads in &self.threads {
                    for &partitions in &self.partitions {
                        for &split_size in &self.split_sizes {
                            let job = Job::builder()
                                .threads(threads)
                                .partitions(partitions)
                                .split_size(split_size)
                                .shuffle(strategy)
                                .build()
                                .unwrap();
                            let got: Vec<(Vec<u8>, u64)> = count_words(&job, &inputs, wc)
                                .unwrap()
                                .into_iter()
                                .map(|(w, n)| (w.to_vec(), n))
                                .collect();
                            assert!(
                                got == expected,
                                "{wc:?} via {path:?}, {} strategy, {threads} threads, {partitions} \
                                 partitions, split size {split_size}:\n got {:?}\nwant {:?}",
                                strategy.name(),
                                lossy(&got),
                                lossy(&expected),
                            );
                        }
                    }
                }
            }
        }
    }
}

fn lossy(counts: &[(Vec<u8>, u64)]) -> Vec<(String, u64)> {
    counts
        .iter()
        .map(|(w, n)| (String::from_utf8_lossy(w).into_owned(), *n))
        .collect()
}
