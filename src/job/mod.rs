//! The public façade: [`JobBuilder`] checks the settings, [`Job`] holds
//! them with its pool and starts runs, and [`MapReduce`] specifies one run
//! before the executor ([`exec`](crate::exec)) carries it out.
//!
//! - `mod.rs`: [`Job`], and its short forms of common runs.
//! - `builder`: [`JobBuilder`].
//! - `spec`: [`MapReduce`], one run's specification.

use std::hash::Hash;
use std::path::Path;

use rayon::prelude::*;

use crate::buffer::Container;
use crate::error::{BoxError, Error};
use crate::exec::Engine;
use crate::input::{Inputs, Records};
use crate::map::{
    Combining, CombiningMapper, Dense, DenseKey, DenseMapper, Emit, FnMapper, Mapper,
};
use crate::reduce::Output;
use crate::shuffle::ShuffleStrategy;

mod builder;
mod spec;

pub use builder::JobBuilder;
pub use spec::MapReduce;

/// The most threads a [`Job`] runs: [`JobBuilder::build`] refuses more.
///
/// The limit comes from the cost of waking a rayon pool, not from the
/// engine's buffers. Each time work arrives, every idle pool thread scans
/// every other thread's queue, a few dozen times, before it sleeps again,
/// and each look pins crossbeam's epoch, whose collector walks a list of
/// all the threads: waking `n` threads costs about `n³` steps. With more
/// threads than cores that is what a run spends its time on: on 2 cores, a
/// tiny input takes 0.35 s at 512 threads, 1.6 to 2.9 s at 1024 and 25 s at
/// 2000. 512 is more than most machines have cores; more threads than
/// cores gain nothing for the CPU-bound work of a job.
///
/// ```
/// use mr_local::{ConfigError, ErrorKind, Job, MAX_THREADS};
///
/// let err = Job::builder().threads(MAX_THREADS + 1).build().unwrap_err();
/// assert!(matches!(err.kind(), ErrorKind::Config(ConfigError::TooManyThreads(_))));
/// ```
pub const MAX_THREADS: usize = 512;

/// The most partitions a [`Job`] has: [`JobBuilder::build`] refuses more.
///
/// Every partition costs each map thread a buffer and, with part files, a
/// file: a tiny input on 2 threads took 0.78 s and 790 MB at a million
/// partitions, 20 s and 7.9 GB at ten million. 65,536 reduce tasks are far
/// more than a single machine can use, and start in a few hundredths of a
/// second.
///
/// ```
/// use mr_local::{ConfigError, ErrorKind, Job, MAX_PARTITIONS};
///
/// let err = Job::builder().partitions(MAX_PARTITIONS + 1).build().unwrap_err();
/// assert!(matches!(err.kind(), ErrorKind::Config(ConfigError::TooManyPartitions(_))));
/// ```
pub const MAX_PARTITIONS: usize = 1 << 16;

/// A configured MapReduce engine with its own thread pool.
///
/// A `Job` can run any number of map/reduce passes; each runs entirely on
/// the job's pool, never on rayon's global one.
///
/// # Example
///
/// Count words, the classic first job:
///
/// ```
/// use mr_local::{Emit, Inputs, Job};
///
/// let mut inputs = Inputs::new();
/// inputs.push_bytes("poem", "the cat\nthe hat\n");
///
/// let job = Job::builder().threads(2).build()?;
/// let output = job.map_reduce(
///     &inputs,
///     // Keys borrow from the input: no allocation per word.
///     |line: &[u8], out: &mut Emit<&[u8], u64>| {
///         for word in line.split(|b| *b == b' ').filter(|w| !w.is_empty()) {
///             out.emit(word, 1);
///         }
///         Ok(())
///     },
///     |total, n| *total += n,
/// )?;
/// let mut counts = output.into_vec();
/// counts.sort();
/// assert_eq!(counts, [(&b"cat"[..], 1), (b"hat", 1), (b"the", 2)]);
/// # Ok::<(), mr_local::Error>(())
/// ```
#[derive(Debug)]
pub struct Job {
    engine: Engine,
    partitions: usize,
}

impl Job {
    /// Returns a builder with the default settings.
    pub fn builder() -> JobBuilder {
        JobBuilder::default()
    }

    /// Returns the number of threads in the job's pool.
    pub fn threads(&self) -> usize {
        self.engine.threads
    }

    /// Returns the number of partitions (reduce tasks).
    pub fn partitions(&self) -> usize {
        self.partitions
    }

    /// Returns the shuffle strategy.
    pub fn shuffle_strategy(&self) -> ShuffleStrategy {
        self.engine.shuffle
    }

    /// Returns how inputs divide into records.
    pub fn records(&self) -> &Records {
        &self.engine.records
    }

    /// Returns the memory budget for map output, in bytes.
    pub fn memory(&self) -> usize {
        self.engine.spill.budget
    }

    /// Returns the directory spill runs go to.
    pub fn tmp_dir(&self) -> &Path {
        &self.engine.spill.dir
    }

    /// Returns how many files spill merges may hold open at once, if set
    /// ([`JobBuilder::open_files`]); `None` for the descriptor limit's.
    pub fn open_files(&self) -> Option<usize> {
        self.engine.spill.open_files
    }

    /// Returns the container map-side buffers fold pairs in.
    pub fn container(&self) -> Container {
        self.engine.container
    }

    /// Returns whether bad records are skipped.
    pub fn skips_bad_records(&self) -> bool {
        self.engine.skip_bad_records
    }

    /// Returns the split size this job uses for `inputs`.
    pub fn split_size_for(&self, inputs: &Inputs) -> usize {
        self.engine.split_size_for(inputs)
    }

    /// Starts specifying a run of `map` over `inputs`: add a combiner, a
    /// partitioning function or sorted order to the [`MapReduce`], then run
    /// it with [`MapReduce::fold`] or [`MapReduce::reduce`].
    ///
    /// # Example
    ///
    /// ```
    /// use mr_local::{Emit, Inputs, Job};
    ///
    /// let mut inputs = Inputs::new();
    /// inputs.push_bytes("text", "b a\nc b\n");
    /// let job = Job::builder().partitions(1).build()?;
    /// let output = job
    ///     .map(&inputs, |line: &[u8], out: &mut Emit<&[u8], u32>| {
    ///         for word in line.split(|b| *b == b' ') {
    ///             out.emit(word, 1);
    ///         }
    ///         Ok(())
    ///     })
    ///     .sorted()
    ///     .fold(|a, b| *a += b)?;
    /// assert_eq!(output.into_vec(), [(&b"a"[..], 1), (b"b", 2), (b"c", 1)]);
    /// # Ok::<(), mr_local::Error>(())
    /// ```
    pub fn map<'d, K, V, M>(
        &self,
        inputs: &'d Inputs,
        map: M,
    ) -> MapReduce<'_, 'd, FnMapper<M, K, V>>
    where
        K: Hash + Eq + Send + Sync + 'd,
        V: Send,
        M: Fn(&'d [u8], &mut Emit<'_, K, V>) -> Result<(), BoxError> + Sync,
    {
        MapReduce::new(self, inputs, FnMapper::new(map))
    }

    /// Like [`Job::map`], with a [`Mapper`] implementation.
    pub fn map_with<'j, 'd, M: Mapper<'d>>(
        &'j self,
        inputs: &'d Inputs,
        mapper: &'j M,
    ) -> MapReduce<'j, 'd, &'j M> {
        MapReduce::new(self, inputs, mapper)
    }

    /// Runs `map` over every record of `inputs` and folds the values of
    /// each key with `combine`: short for
    /// `job.map(inputs, map).fold(combine)`.
    ///
    /// `combine` is the combiner and the reducer at once: it runs on each
    /// worker as pairs are emitted, and again when partitions are merged.
    /// It may run any number of times per key, in any order, so it must be
    /// associative and commutative (a sum, a max, a set union).
    ///
    /// # Errors
    ///
    /// The first bad record: an error or a panic in `map`, naming its input
    /// and the byte offset of the record (unless the job skips bad
    /// records); or a panic in `combine`.
    pub fn map_reduce<'d, K, V, M, C>(
        &self,
        inputs: &'d Inputs,
        map: M,
        combine: C,
    ) -> Result<Output<K, V>, Error>
    where
        K: Hash + Eq + Send + Sync + 'd,
        V: Send,
        M: Fn(&'d [u8], &mut Emit<'_, K, V>) -> Result<(), BoxError> + Sync,
        C: Fn(&mut V, V) + Sync,
    {
        self.map_reduce_with(inputs, &FnMapper::new(map), combine)
    }

    /// Like [`Job::map_reduce`], with the combiner's type known to the map
    /// function: `map` emits into a [`Combining`] handle, which folds a
    /// pair whose key is a small integer (a histogram's bin, a
    /// regression's sum) into that key's value where it is emitted, with
    /// `combine` inlined, instead of staging it for the thread's buffer.
    /// Other keys are combined as [`Job::map_reduce`] combines them. The
    /// result is the same; for small-integer keys it comes several times
    /// sooner.
    ///
    /// # Errors
    ///
    /// As for [`Job::map_reduce`].
    ///
    /// # Example
    ///
    /// The sum and the sum of squares of some numbers:
    ///
    /// ```
    /// use mr_local::{Combining, Inputs, Job};
    ///
    /// let mut inputs = Inputs::new();
    /// inputs.push_bytes("numbers", "3\n4\n");
    /// let job = Job::builder().build()?;
    /// let sums = job.map_combine(
    ///     &inputs,
    ///     |line: &[u8], out: &mut Combining<u8, u64, _>| {
    ///         let n: u64 = std::str::from_utf8(line)?.parse()?;
    ///         out.emit(0, n);
    ///         out.emit(1, n * n);
    ///         Ok(())
    ///     },
    ///     |total, n| *total += n,
    /// )?;
    /// let mut sums = sums.into_vec();
    /// sums.sort();
    /// assert_eq!(sums, [(0, 7), (1, 25)]);
    /// # Ok::<(), mr_local::Error>(())
    /// ```
    pub fn map_combine<'d, K, V, M, C>(
        &self,
        inputs: &'d Inputs,
        map: M,
        combine: C,
    ) -> Result<Output<K, V>, Error>
    where
        K: Hash + Eq + Send + Sync + 'd,
        V: Send,
        M: Fn(&'d [u8], &mut Combining<'_, '_, K, V, C>) -> Result<(), BoxError> + Sync,
        C: Fn(&mut V, V) + Sync,
    {
        let mapper = CombiningMapper::new(map, &combine);
        self.map_with(inputs, &mapper).fold(&combine)
    }

    /// Like [`Job::map_combine`], for keys that index an array: `map`
    /// emits into a [`Dense`] handle of `N` slots, named in its type
    /// (`&mut Dense<u8, i64, _, 5>`), and each pair whose key's
    /// [`DenseKey::slot`] is below `N` is folded into that slot where it is
    /// emitted. This is Phoenix++'s array container: no hashing, no key
    /// comparison and no growing, and for a few sums with constant keys
    /// (a regression's) the compiler keeps them in registers for a whole
    /// split. Keys at or past `N` are combined as [`Job::map_reduce`]
    /// combines them, so the result is the same whatever `N` is.
    ///
    /// # Errors
    ///
    /// As for [`Job::map_reduce`].
    ///
    /// # Example
    ///
    /// The sum and the sum of squares of some numbers:
    ///
    /// ```
    /// use mr_local::{Dense, Inputs, Job};
    ///
    /// let mut inputs = Inputs::new();
    /// inputs.push_bytes("numbers", "3\n4\n");
    /// let job = Job::builder().build()?;
    /// let sums = job.map_dense(
    ///     &inputs,
    ///     |line: &[u8], out: &mut Dense<u8, u64, _, 2>| {
    ///         let n: u64 = std::str::from_utf8(line)?.parse()?;
    ///         out.emit(0, n);
    ///         out.emit(1, n * n);
    ///         Ok(())
    ///     },
    ///     |total, n| *total += n,
    /// )?;
    /// let mut sums = sums.into_vec();
    /// sums.sort();
    /// assert_eq!(sums, [(0, 7), (1, 25)]);
    /// # Ok::<(), mr_local::Error>(())
    /// ```
    pub fn map_dense<'d, K, V, M, C, const N: usize>(
        &self,
        inputs: &'d Inputs,
        map: M,
        combine: C,
    ) -> Result<Output<K, V>, Error>
    where
        K: DenseKey + 'd,
        V: Send,
        M: Fn(&'d [u8], &mut Dense<'_, '_, K, V, C, N>) -> Result<(), BoxError> + Sync,
        C: Fn(&mut V, V) + Sync,
    {
        let mapper = DenseMapper::new(map, &combine);
        self.map_with(inputs, &mapper).fold(&combine)
    }

    /// Like [`Job::map_reduce`], with a [`Mapper`] implementation.
    ///
    /// # Errors
    ///
    /// As for [`Job::map_reduce`].
    pub fn map_reduce_with<'d, M, C>(
        &self,
        inputs: &'d Inputs,
        mapper: &M,
        combine: C,
    ) -> Result<Output<M::Key, M::Value>, Error>
    where
        M: Mapper<'d>,
        C: Fn(&mut M::Value, M::Value) + Sync,
    {
        self.map_with(inputs, mapper).fold(combine)
    }

    /// Runs `map` over every record of `inputs`, then hands each key with
    /// all its values to `reduce`: short for
    /// `job.map(inputs, map).sorted().reduce(reduce)`.
    ///
    /// Within a partition, `reduce` sees keys in increasing order; the
    /// values of a key come in no particular order. No combiner runs, so
    /// every emitted pair is held until reduce: prefer
    /// [`Job::map_reduce`] where values can be folded.
    ///
    /// # Errors
    ///
    /// As for [`MapReduce::reduce`].
    ///
    /// # Example
    ///
    /// Which lines does each word appear on?
    ///
    /// ```
    /// use mr_local::{Emit, Inputs, Job};
    ///
    /// let mut inputs = Inputs::new();
    /// inputs.push_bytes("text", "a b\nb c\n");
    /// let job = Job::builder().partitions(1).build()?;
    /// let index = job.map_group(
    ///     &inputs,
    ///     |line: &[u8], out: &mut Emit<u8, String>| {
    ///         let text = String::from_utf8_lossy(line);
    ///         for word in line.split(|b| *b == b' ') {
    ///             out.emit(word[0], text.to_string());
    ///         }
    ///         Ok(())
    ///     },
    ///     |_word, mut lines| {
    ///         lines.sort();
    ///         lines
    ///     },
    /// )?;
    /// assert_eq!(index.into_vec()[1], (b'b', vec!["a b".to_string(), "b c".to_string()]));
    /// # Ok::<(), mr_local::Error>(())
    /// ```
    pub fn map_group<'d, K, V, R, M, G>(
        &self,
        inputs: &'d Inputs,
        map: M,
        reduce: G,
    ) -> Result<Output<K, R>, Error>
    where
        K: Hash + Ord + Send + Sync + 'd,
        V: Send,
        R: Send,
        M: Fn(&'d [u8], &mut Emit<'_, K, V>) -> Result<(), BoxError> + Sync,
        G: Fn(&K, Vec<V>) -> R + Sync,
    {
        self.map_group_with(inputs, &FnMapper::new(map), reduce)
    }

    /// Like [`Job::map_group`], with a [`Mapper`] implementation.
    ///
    /// # Errors
    ///
    /// As for [`Job::map_reduce`].
    pub fn map_group_with<'d, M, R, G>(
        &self,
        inputs: &'d Inputs,
        mapper: &M,
        reduce: G,
    ) -> Result<Output<M::Key, R>, Error>
    where
        M: Mapper<'d>,
        M::Key: Ord,
        R: Send,
        G: Fn(&M::Key, Vec<M::Value>) -> R + Sync,
    {
        self.map_with(inputs, mapper).sorted().reduce(reduce)
    }

    /// Runs `work` on the job's pool, so that rayon's parallel iterators
    /// inside it use the job's threads (and no more of them).
    ///
    /// # Example
    ///
    /// ```
    /// use rayon::prelude::*;
    ///
    /// let job = mr_local::Job::builder().threads(2).build()?;
    /// let sum: u64 = job.install(|| (1..=100u64).into_par_iter().sum());
    /// assert_eq!(sum, 5050);
    /// # Ok::<(), mr_local::Error>(())
    /// ```
    pub fn install<R: Send>(&self, work: impl FnOnce() -> R + Send) -> R {
        self.engine.pool.install(work)
    }

    /// Sorts `items` with `compare` on the job's pool.
    ///
    /// # Example
    ///
    /// ```
    /// let job = mr_local::Job::builder().build()?;
    /// let mut v = vec![3, 1, 2];
    /// job.par_sort_by(&mut v, |a, b| b.cmp(a));
    /// assert_eq!(v, [3, 2, 1]);
    /// # Ok::<(), mr_local::Error>(())
    /// ```
    pub fn par_sort_by<T, F>(&self, items: &mut [T], compare: F)
    where
        T: Send,
        F: Fn(&T, &T) -> std::cmp::Ordering + Send + Sync,
    {
        self.engine
            .pool
            .install(|| items.par_sort_unstable_by(compare));
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::error::ConfigError;
    use crate::jobs::wordcount::{WordCount, WordSplit};
    use crate::testutil::JobTester;
    use crate::ErrorKind;

    const MODES: [WordCount; 4] = [
        WordCount {
            split: WordSplit::Alphanumeric,
            case_sensitive: false,
        },
        WordCount {
            split: WordSplit::Alphanumeric,
            case_sensitive: true,
        },
        WordCount {
            split: WordSplit::Whitespace,
            case_sensitive: false,
        },
        WordCount {
            split: WordSplit::Whitespace,
            case_sensitive: true,
        },
    ];

    fn check_all_modes(texts: &[&[u8]]) {
        for wc in &MODES {
            JobTester::default().test(wc, texts);
        }
    }

    #[test]
    fn a_word_straddling_every_possible_split_point() {
        check_all_modes(&[b"alpha beta\ngamma delta\nepsilon\n"]);
    }

    #[test]
    fn crlf_and_a_final_line_without_newline() {
        check_all_modes(&[b"One two\r\nthree One\r\nlast line, no newline"]);
    }

    #[test]
    fn a_line_longer_than_the_split() {
        let long = "word ".repeat(5000) + "\nshort\n";
        check_all_modes(&[long.as_bytes()]);
    }

    #[test]
    fn a_multibyte_character_at_every_split_point() {
        check_all_modes(&["Ünïcödé straße\nΟΔΟΣ 東京タワー\nçà et là\n".as_bytes()]);
    }

    #[test]
    fn empty_files_and_files_of_separators_only() {
        check_all_modes(&[b"", b"  ,,; \n\n\t", b"", b"x"]);
        check_all_modes(&[]);
    }

    #[test]
    fn many_small_files_are_grouped() {
        let texts: Vec<Vec<u8>> = (0..40)
            .map(|i| format!("file {i} word{}\n", i % 3).into_bytes())
            .collect();
        let texts: Vec<&[u8]> = texts.iter().map(Vec::as_slice).collect();
        JobTester::default().test(&WordCount::default(), &texts);
    }

    #[test]
    fn a_map_error_names_the_file_and_the_offset() {
        let mut inputs = Inputs::new();
        inputs.push_bytes("first", "ok\nok\n");
        inputs.push_bytes("second", "ok\nbad\nok\n");
        let job = Job::builder().threads(2).split_size(1).build().unwrap();
        let err = job
            .map_reduce(
                &inputs,
                |line: &[u8], out: &mut Emit<&[u8], u64>| {
                    if line == b"bad" {
                        return Err("no bad lines".into());
                    }
                    out.emit(line, 1);
                    Ok(())
                },
                |a, b| *a += b,
            )
            .unwrap_err();
        assert_eq!(err.to_string(), "second: byte 3: map failed: no bad lines");
    }

    #[test]
    fn a_panic_in_map_is_an_error_naming_the_record_and_the_job_stays_usable() {
        let mut inputs = Inputs::new();
        inputs.push_bytes("text", "a\nb\nboom\nc\n".repeat(100));
        let job = Job::builder().threads(2).split_size(8).build().unwrap();
        let err = job
            .map_reduce(
                &inputs,
                |line: &[u8], out: &mut Emit<Vec<u8>, u64>| {
                    assert!(line != b"boom", "boom");
                    out.emit(line.to_vec(), 1);
                    Ok(())
                },
                |a, b| *a += b,
            )
            .unwrap_err();
        // Some "boom" line fails first: its offset is 4 past a multiple of 11.
        let ErrorKind::Map { path, offset, err } = err.kind() else {
            panic!("{err}");
        };
        assert_eq!((path.to_str(), offset % 11), (Some("text"), 4));
        assert_eq!(err.to_string(), "panicked: boom");
        let counts = job
            .map_reduce(
                &inputs,
                |l: &[u8], out: &mut Emit<&[u8], u64>| {
                    out.emit(l, 1);
                    Ok(())
                },
                |a, b| *a += b,
            )
            .unwrap();
        assert_eq!(counts.len(), 4);
    }

    #[test]
    fn map_group_sees_every_value_with_keys_in_order() {
        let mut inputs = Inputs::new();
        inputs.push_bytes("a", "x 1\ny 2\nx 3\n".repeat(50));
        for threads in [1, 3] {
            let job = Job::builder()
                .threads(threads)
                .partitions(2)
                .split_size(5)
                .build()
                .unwrap();
            let output = job
                .map_group(
                    &inputs,
                    |line: &[u8], out: &mut Emit<u8, u32>| {
                        out.emit(line[0], u32::from(line[2] - b'0'));
                        Ok(())
                    },
                    |_, values| values.iter().sum::<u32>(),
                )
                .unwrap();
            for part in output.partitions() {
                assert!(part.windows(2).all(|w| w[0].0 < w[1].0));
            }
            let mut all = output.into_vec();
            all.sort();
            assert_eq!(all, [(b'x', 200), (b'y', 100)]);
        }
    }

    #[test]
    fn bad_settings_are_refused() {
        assert!(matches!(
            Job::builder().threads(0).build().unwrap_err().kind(),
            crate::ErrorKind::Config(ConfigError::ZeroThreads)
        ));
        assert!(Job::builder().partitions(0).build().is_err());
        let err = Job::builder().threads(MAX_THREADS + 1).build().unwrap_err();
        assert!(matches!(
            err.kind(),
            crate::ErrorKind::Config(ConfigError::TooManyThreads(n)) if *n == MAX_THREADS + 1
        ));
        assert_eq!(err.to_string(), "513 threads: the most a job runs is 512");
        let err = Job::builder()
            .partitions(MAX_PARTITIONS + 1)
            .build()
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "65537 partitions: the most a job has is 65536"
        );
        assert!(Job::builder().split_size(0).build().is_err());
    }

    /// Bytes drawn to hit the scanner's interesting cases: ASCII words and
    /// separators, multi-byte characters, and invalid UTF-8.
    fn text() -> impl Strategy<Value = Vec<u8>> {
        let piece = prop_oneof![
            4 => "[a-zA-Z0-9]{1,6}".prop_map(String::into_bytes),
            3 => prop::sample::select(vec![" ", "\n", "\r\n", ",", "\t", "\x0b", "-"]).prop_map(|s| s.as_bytes().to_vec()),
            2 => prop::sample::select(vec!["é", "Ü", "ß", "Σ", "ς", "東", "İ", "ǅ", "\u{a0}", "\u{3000}", "١"]).prop_map(|s| s.as_bytes().to_vec()),
            1 => prop::collection::vec(any::<u8>(), 1..4),
        ];
        prop::collection::vec(piece, 0..40).prop_map(|pieces| pieces.concat())
    }

    /// Mostly ASCII text, long enough for the scanner's 64-byte blocks,
    /// with a character outside ASCII, or bytes that are not UTF-8 (inside
    /// words, with `--split whitespace`), now and then.
    fn ascii_text() -> impl Strategy<Value = Vec<u8>> {
        let piece = prop_oneof![
            20 => "[a-zA-Z0-9]{1,20}".prop_map(String::into_bytes),
            15 => prop::sample::select(vec![" ", "\n", "\r\n", ", ", "\t", "  ", "."]).prop_map(|s| s.as_bytes().to_vec()),
            1 => prop::sample::select(vec!["é", "Σ", "\u{3000}"]).prop_map(|s| s.as_bytes().to_vec()),
            1 => prop::sample::select(vec![&b"\xff"[..], b"\xe3\x80", b"\xc3", b"\xce\xa3\xff"]).prop_map(<[u8]>::to_vec),
        ];
        prop::collection::vec(piece, 0..300).prop_map(|pieces| pieces.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn the_engine_agrees_with_a_sequential_reference(
            texts in prop::collection::vec(prop_oneof![text(), ascii_text()], 0..4),
            threads in 1usize..5,
            partitions in 1usize..9,
            split_size in prop_oneof![1usize..48, 48usize..1024],
            mode in 0usize..MODES.len(),
        ) {
            let texts: Vec<&[u8]> = texts.iter().map(Vec::as_slice).collect();
            JobTester::with(threads, partitions, split_size).test(&MODES[mode], &texts);
        }

        #[test]
        fn arbitrary_bytes_never_panic_and_agree(
            bytes in prop::collection::vec(any::<u8>(), 0..200),
            split_size in 1usize..32,
        ) {
            JobTester::with(2, 3, split_size).test(&WordCount::default(), &[&bytes]);
        }
    }
}
