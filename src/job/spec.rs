//! [`MapReduce`]: one run's specification, the paper's
//! `MapReduceSpecification`: the mapper, an optional combiner, the
//! partitioning function, whether reduce sees keys in order, and the reduce
//! function that starts the run.

use super::Job;
use crate::counters::Counters;
use crate::error::Error;
use crate::input::Inputs;
use crate::map::{map_chunk, Folder, MapChunk, Mapper};
use crate::pairs::Combiner;
use crate::partition::{sort_pairs, KeyRanges, Order, PartitionFn, SortPairs};
use crate::reduce::{self, Output};
use crate::spill::{Codec, Spill};

mod run;

use run::folds_with;

/// A map-reduce run being specified: made by [`Job::map`] or
/// [`Job::map_with`], refined with the methods below, and started by
/// [`MapReduce::fold`] or [`MapReduce::reduce`].
///
/// By default there is no combiner, keys go to partitions by
/// `hash(key) mod R`, and reduce sees them in no particular order.
///
/// # Example
///
/// Sum values per key, with a combiner, key-range partitions chosen by
/// sampling, and keys handed to reduce in order, so that the partitions
/// together are totally ordered:
///
/// ```
/// use mr_local::{Emit, Inputs, Job};
///
/// let mut inputs = Inputs::new();
/// inputs.push_bytes("sales", "pear 3\napple 1\nfig 2\napple 4\nkiwi 5\n");
/// let job = Job::builder().partitions(2).build()?;
/// let output = job
///     .map(&inputs, |line: &[u8], out: &mut Emit<String, u64>| {
///         let line = std::str::from_utf8(line)?;
///         let (fruit, n) = line.split_once(' ').ok_or("no count")?;
///         out.emit(fruit.to_string(), n.parse()?);
///         Ok(())
///     })
///     .combine(|total, n| *total += n)
///     .partition_by_sampled_ranges()
///     .sorted()
///     .reduce(|_fruit, partial_sums| partial_sums.iter().sum::<u64>())?;
/// let totals: Vec<(String, u64)> = output.into_vec();
/// let names: Vec<&str> = totals.iter().map(|(k, _)| k.as_str()).collect();
/// assert_eq!(names, ["apple", "fig", "kiwi", "pear"]);
/// assert_eq!(totals[0].1, 5);
/// # Ok::<(), mr_local::Error>(())
/// ```
#[must_use = "a MapReduce does nothing until `fold` or `reduce` runs it"]
pub struct MapReduce<'j, 'd, M: Mapper<'d>> {
    job: &'j Job,
    inputs: &'d Inputs,
    mapper: M,
    combiner: Option<Box<Combiner<'j, M::Value>>>,
    partition: Partition<'j, M::Key>,
    /// The keys' order, where the run needs one: for sorted reduce input
    /// or for sampling key ranges.
    order: Option<Order<M::Key>>,
    /// Set, with the order, where reduce must hand keys over sorted.
    sorted: Option<SortPairs<M::Key, M::Value>>,
    codec: Option<Codec<M::Key, M::Value>>,
    /// How to map chunks of open inputs, if the run may stream them.
    chunks: Option<MapChunk<M, M::Key, M::Value>>,
}

impl<'j, 'd, M> MapReduce<'j, 'd, M>
where
    M: for<'c> Mapper<'c>,
    for<'c> <M as Mapper<'c>>::Key: Spill,
    for<'c> <M as Mapper<'c>>::Value: Spill,
{
    /// Lets the run read open inputs (stdin, pipes, files not mapped: see
    /// [`InputOptions::stream`](crate::InputOptions::stream)) in chunks of
    /// whole records as it maps them, so that memory does not grow with
    /// their size and reading overlaps mapping. Each chunk's pairs are
    /// copied, through their [`Spill`] encoding, into keys and values
    /// that own their bytes, and the chunk is freed.
    ///
    /// It needs a mapper that maps input of any lifetime (as the built-in
    /// jobs' mappers and closures emitting owned keys do), and records that
    /// can be cut as they come (lines, a delimiter, fixed size). A run
    /// without it, or with other records, reads open inputs whole before it
    /// maps them. A run with sampled key ranges reads ahead and holds for
    /// the run the first records of each open input, up to a quarter of
    /// the memory budget for all of them together (an equal share each,
    /// but at least one chunk each), and samples keys from those only: an
    /// input larger than its share and sorted already makes uneven
    /// partitions (a slower reduce), but the same output.
    ///
    /// # Example
    ///
    /// A closure maps input of any lifetime when it is made a [`Mapper`]
    /// with [`FnMapper::new`](crate::FnMapper::new), its argument's type
    /// written out (given straight to [`Job::map`](crate::Job::map), it is
    /// tied to the inputs' lifetime):
    ///
    /// ```
    /// use mr_local::{Emit, FnMapper, Inputs, Job};
    ///
    /// let mut inputs = Inputs::new();
    /// inputs.push_reader("stdin", std::io::Cursor::new("b\na\nb\n"));
    /// let job = Job::builder().split_size(2).build()?;
    /// let lines = FnMapper::new(|line: &[u8], out: &mut Emit<Vec<u8>, u64>| {
    ///     out.emit(line.to_vec(), 1);
    ///     Ok(())
    /// });
    /// let counts = job
    ///     .map_with(&inputs, &lines)
    ///     .streamed()
    ///     .fold(|a, b| *a += b)?;
    /// let mut counts = counts.into_vec();
    /// counts.sort();
    /// assert_eq!(counts, [(b"a".to_vec(), 1), (b"b".to_vec(), 2)]);
    /// # Ok::<(), mr_local::Error>(())
    /// ```
    pub fn streamed(mut self) -> Self {
        self.chunks = Some(map_chunk::<M>);
        self
    }
}

enum Partition<'j, K> {
    Hash,
    Custom(Box<PartitionFn<'j, K>>),
    Ranges(KeyRanges<K>),
    Sampled,
}

impl<'j, 'd, M: Mapper<'d>> MapReduce<'j, 'd, M> {
    pub(crate) fn new(job: &'j Job, inputs: &'d Inputs, mapper: M) -> Self {
        MapReduce {
            job,
            inputs,
            mapper,
            combiner: None,
            partition: Partition::Hash,
            order: None,
            sorted: None,
            codec: None,
            chunks: None,
        }
    }

    /// Sets the combiner (the paper's §4.3): folds a value into the value
    /// already held for its key, on the map side, before the shuffle.
    ///
    /// The engine may run the combiner any number of times per key, zero
    /// included, on any grouping of values, in any order; so it must be
    /// associative and commutative, and reduce must accept values that
    /// were combined or not. With [`MapReduce::reduce`] the values a key
    /// reaches reduce with are partial results of the combiner. By default
    /// there is no combiner and every emitted pair reaches reduce.
    pub fn combine(mut self, combine: impl Fn(&mut M::Value, M::Value) + Sync + 'j) -> Self {
        self.combiner = Some(Box::new(combine));
        self
    }

    /// Sends each key to partition `partition(key, R) % R` (the paper's
    /// §4.1), where `R` is the job's partition count. A key must always go
    /// to the same partition.
    ///
    /// # Example
    ///
    /// Keep the keys of one host together, as the paper's
    /// `hash(Hostname(urlkey)) mod R` does:
    ///
    /// ```
    /// use mr_local::{Emit, Inputs, Job};
    ///
    /// let mut inputs = Inputs::new();
    /// inputs.push_bytes("urls", "a.org/x\nb.org/y\na.org/z\n");
    /// let job = Job::builder().partitions(4).build()?;
    /// let output = job
    ///     .map(&inputs, |url: &[u8], out: &mut Emit<&[u8], u64>| {
    ///         out.emit(url, 1);
    ///         Ok(())
    ///     })
    ///     .partition_by(|url: &&[u8], r| {
    ///         let host = url.split(|b| *b == b'/').next().unwrap_or_default();
    ///         host.iter().map(|b| usize::from(*b)).sum::<usize>() % r
    ///     })
    ///     .fold(|a, b| *a += b)?;
    /// let a_org: Vec<usize> = output
    ///     .partitions()
    ///     .iter()
    ///     .enumerate()
    ///     .filter(|(_, part)| part.iter().any(|(url, _)| url.starts_with(b"a.org")))
    ///     .map(|(i, _)| i)
    ///     .collect();
    /// assert_eq!(a_org.len(), 1);
    /// # Ok::<(), mr_local::Error>(())
    /// ```
    pub fn partition_by(mut self, partition: impl Fn(&M::Key, usize) -> usize + Sync + 'j) -> Self {
        self.partition = Partition::Custom(Box::new(partition));
        self
    }

    /// Partitions by the given key ranges; the run has
    /// [`KeyRanges::partitions`] partitions, whatever the job's setting.
    pub fn partition_by_ranges(mut self, ranges: KeyRanges<M::Key>) -> Self {
        self.partition = Partition::Ranges(ranges);
        self
    }

    /// Partitions by key ranges whose split points are quantiles of a
    /// sample of the map output: before the run, the mapper runs over one
    /// split in sixteen, evenly spaced (at least one split, at most
    /// sixteen), and up to 100,000 of the keys they emit are kept. Partition `i` then holds only keys below those of
    /// partition `i + 1`, so with [`MapReduce::sorted`] the partitions
    /// concatenated are in order (the TeraSort idea).
    ///
    /// The run has the job's partition count; when the sample holds fewer
    /// distinct keys than partitions, the last partitions stay empty. The
    /// sample costs an extra map of those splits: about 6% more map work
    /// on a large input. Skewed keys give
    /// uneven partitions: a key cannot be split across two.
    pub fn partition_by_sampled_ranges(mut self) -> Self
    where
        M::Key: Ord,
    {
        self.partition = Partition::Sampled;
        self.order = Some(M::Key::cmp);
        self
    }

    /// Hands keys to reduce in increasing order within each partition (the
    /// paper's §4.2), and returns each partition's output in that order.
    ///
    /// It costs a sort of each partition's keys, `O(n log n)` in the keys
    /// of the partition, done in parallel across partitions; without it a
    /// partition comes out in hash-table order.
    pub fn sorted(mut self) -> Self
    where
        M::Key: Ord,
    {
        self.order = Some(M::Key::cmp);
        self.sorted = Some(sort_pairs::<M::Key, M::Value>);
        self
    }

    /// Like [`MapReduce::sorted`], with `sort` to put a partition's pairs
    /// in key order instead of a comparison sort: for keys with a faster
    /// way, such as [`Word::sort_pairs`](crate::jobs::wordcount::Word::sort_pairs)
    /// for long byte strings. `sort` must order the keys as `Ord` does (a
    /// spilled partition is merged in that order), in any order of pairs
    /// with equal keys.
    ///
    /// # Example
    ///
    /// ```
    /// use mr_local::{Emit, Inputs, Job};
    ///
    /// let mut inputs = Inputs::new();
    /// inputs.push_bytes("numbers", "3\n1\n2\n1\n");
    /// let job = Job::builder().partitions(1).build()?;
    /// let output = job
    ///     .map(&inputs, |line: &[u8], out: &mut Emit<u32, u64>| {
    ///         out.emit(std::str::from_utf8(line)?.parse()?, 1);
    ///         Ok(())
    ///     })
    ///     .sorted_with(|pairs| pairs.sort_unstable_by_key(|pair| pair.0))
    ///     .fold(|a, b| *a += b)?;
    /// assert_eq!(output.into_vec(), [(1, 2), (2, 1), (3, 1)]);
    /// # Ok::<(), mr_local::Error>(())
    /// ```
    pub fn sorted_with(mut self, sort: SortPairs<M::Key, M::Value>) -> Self
    where
        M::Key: Ord,
    {
        self.order = Some(M::Key::cmp);
        self.sorted = Some(sort);
        self
    }

    /// Lets the run spill map output to disk when it outgrows the job's
    /// memory budget ([`JobBuilder::memory`](crate::JobBuilder::memory)):
    /// buffers past the budget are sorted by key and written as runs in
    /// the job's temporary directory, and reduce merges each partition's
    /// memory and runs k ways, folding or grouping equal keys as they come.
    /// The runs are removed when the run ends or fails.
    ///
    /// Spilling needs keys and values that can be written and read back
    /// ([`Spill`]) and keys in an order for the merge. A partition that was
    /// spilled comes out sorted by key. By default a run never spills.
    ///
    /// # Example
    ///
    /// A budget of 1 KiB spills nearly everything; the answer is the same:
    ///
    /// ```
    /// use mr_local::{Emit, Inputs, Job};
    ///
    /// let mut inputs = Inputs::new();
    /// inputs.push_bytes("n", (0..5000).map(|i| format!("{}\n", i % 700)).collect::<String>());
    /// let job = Job::builder().memory(1024).split_size(512).build()?;
    /// let counts = job
    ///     .map(&inputs, |line: &[u8], out: &mut Emit<String, u64>| {
    ///         out.emit(String::from_utf8(line.to_vec())?, 1);
    ///         Ok(())
    ///     })
    ///     .spill()
    ///     .fold(|a, b| *a += b)?;
    /// assert!(counts.counters().spilled_records > 0);
    /// assert_eq!(counts.len(), 700);
    /// assert!(counts.partitions().concat().iter().all(|(_, n)| *n >= 7));
    /// # Ok::<(), mr_local::Error>(())
    /// ```
    pub fn spill(mut self) -> Self
    where
        M::Key: Spill + Ord,
        M::Value: Spill,
    {
        self.codec = Some(Codec::new());
        self
    }

    /// Runs the job, folding the values of each key with `fold`, which is
    /// also the combiner unless [`MapReduce::combine`] set one. The output
    /// has one pair per key.
    ///
    /// `fold` must be associative and commutative: values arrive in no
    /// particular order.
    ///
    /// # Errors
    ///
    /// A failing record (an error or a panic in map) fails the run with an
    /// error naming its input and byte offset, unless the job skips bad
    /// records. A panic in `fold` fails the run naming the partition.
    pub fn fold(
        mut self,
        fold: impl Fn(&mut M::Value, M::Value) + Sync + 'j,
    ) -> Result<Output<M::Key, M::Value>, Error> {
        let combiner = self.combiner.take();
        let folder = Folder(&fold);
        let (combiner, absorb) = folds_with(combiner.as_deref(), &fold, &folder);
        let order = self.order.zip(self.sorted);
        self.run(Some(combiner), absorb, |partition, input, _| {
            reduce::fold(partition, input, &fold, order)
        })
    }

    /// Runs the job like [`MapReduce::fold`], but hands each partition's
    /// pairs to `each` as they come out of reduce instead of collecting
    /// them: for outputs too large to hold in memory, such as a sort's.
    /// `each` runs once per partition, partitions in parallel, and what it
    /// returns comes back in partition order, with the counters.
    ///
    /// A partition that was spilled is merged from disk as `each` reads
    /// it, so memory stays within the budget however large the output.
    ///
    /// # Errors
    ///
    /// As for [`MapReduce::fold`], and the first error `each` returns.
    ///
    /// # Example
    ///
    /// Write each partition's pairs as text, and count them:
    ///
    /// ```
    /// use mr_local::{Emit, Inputs, Job};
    ///
    /// let mut inputs = Inputs::new();
    /// inputs.push_bytes("text", "b\na\nb\n");
    /// let job = Job::builder().partitions(2).build()?;
    /// let (parts, counters) = job
    ///     .map(&inputs, |line: &[u8], out: &mut Emit<Vec<u8>, u64>| {
    ///         out.emit(line.to_vec(), 1);
    ///         Ok(())
    ///     })
    ///     .spill()
    ///     .partition_by_sampled_ranges()
    ///     .sorted()
    ///     .fold_into(|a, b| *a += b, |_partition, pairs| {
    ///         let mut text = String::new();
    ///         for (line, n) in pairs {
    ///             text += &format!("{} {n}\n", String::from_utf8_lossy(&line));
    ///         }
    ///         Ok(text)
    ///     })?;
    /// assert_eq!(parts.concat(), "a 1\nb 2\n");
    /// assert_eq!(counters.distinct_keys, 2);
    /// # Ok::<(), mr_local::Error>(())
    /// ```
    pub fn fold_into<T: Send>(
        mut self,
        fold: impl Fn(&mut M::Value, M::Value) + Sync + 'j,
        each: impl Fn(usize, &mut dyn Iterator<Item = (M::Key, M::Value)>) -> Result<T, Error> + Sync,
    ) -> Result<(Vec<T>, Counters), Error> {
        let combiner = self.combiner.take();
        let folder = Folder(&fold);
        let (combiner, absorb) = folds_with(combiner.as_deref(), &fold, &folder);
        let order = self.order.zip(self.sorted);
        self.run_with(Some(combiner), absorb, |partition, input, _| {
            reduce::fold_into(partition, input, &fold, order, &each)
        })
    }

    /// Runs the job, handing each key with all its values to `reduce`, in
    /// no particular order of values. The output has one pair per key:
    /// the key and what `reduce` made of it.
    ///
    /// # Errors
    ///
    /// As for [`MapReduce::fold`]; a panic in `reduce` fails the run naming
    /// the partition, or, when the job skips bad records, drops the key and
    /// counts it in [`Counters::skipped_keys`](crate::Counters::skipped_keys).
    pub fn reduce<R: Send>(
        mut self,
        reduce: impl Fn(&M::Key, Vec<M::Value>) -> R + Sync,
    ) -> Result<Output<M::Key, R>, Error> {
        let combiner = self.combiner.take();
        let order = self.sorted.and(self.order);
        let skip = self.job.skips_bad_records();
        self.run(combiner.as_deref(), None, |partition, input, log| {
            reduce::group(partition, input, &reduce, order, skip.then_some(log))
        })
    }
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use crate::jobs::wordcount::WordCount;
    use crate::testutil::reference_counts;
    use crate::{BoxError, Emit, FnMapper, Inputs, Job, Records};

    /// A reader that hands out at most `n` bytes a call, as a pipe does.
    struct Trickle(Cursor<Vec<u8>>, usize);

    impl std::io::Read for Trickle {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = buf.len().min(self.1);
            self.0.read(&mut buf[..n])
        }
    }

    fn streamed(texts: &[&[u8]], trickle: usize) -> Inputs {
        let mut inputs = Inputs::new();
        for (i, text) in texts.iter().enumerate() {
            inputs.push_reader(
                format!("s{i}"),
                Trickle(Cursor::new(text.to_vec()), trickle),
            );
        }
        inputs
    }

    #[test]
    fn streamed_inputs_count_as_the_reference_whatever_the_chunk_size() {
        let text = "One two\r\nthree ÜBER über\n\nfour five six\nseven ".repeat(40);
        let long = "word ".repeat(3000) + "\nend";
        let texts: [&[u8]; 3] = [text.as_bytes(), b"", long.as_bytes()];
        let mut want = reference_counts(&WordCount::default(), &texts);
        want.sort();
        for (threads, split, trickle) in [(1, 1, 7), (2, 13, 100), (3, 1000, 1 << 20)] {
            let inputs = streamed(&texts, trickle);
            let job = Job::builder()
                .threads(threads)
                .split_size(split)
                .build()
                .unwrap();
            let output = job
                .map_with(&inputs, &WordCount::default())
                .spill()
                .streamed()
                .fold(|a, b| *a += b)
                .unwrap();
            assert_eq!(
                output.counters().input_bytes,
                (text.len() + long.len()) as u64
            );
            let mut got: Vec<(Vec<u8>, u64)> = output
                .into_vec()
                .into_iter()
                .map(|(w, n)| (w.as_bytes().to_vec(), n))
                .collect();
            got.sort();
            assert_eq!(got, want, "threads {threads}, split {split}");
            // Read once: a second run is an error, not an empty result.
            let again = job
                .map_with(&inputs, &WordCount::default())
                .fold(|a, b| *a += b);
            assert!(again.unwrap_err().to_string().contains("already read"));
        }
    }

    #[test]
    fn a_streamed_run_counts_each_emitted_pair_once() {
        let lines = FnMapper::new(|line: &[u8], out: &mut Emit<Vec<u8>, u64>| {
            out.emit(line.to_vec(), 1);
            out.emit(b"all".to_vec(), 1);
            Ok(())
        });
        let text = "a\nb\na\n".repeat(500);
        for split in [4, 1 << 20] {
            let inputs = streamed(&[text.as_bytes()], 64);
            let job = Job::builder().threads(2).split_size(split).build().unwrap();
            let output = job
                .map_with(&inputs, &lines)
                .streamed()
                .fold(|a, b| *a += b)
                .unwrap();
            assert_eq!(output.counters().records, 1500);
            assert_eq!(output.counters().map_output_records, 3000, "split {split}");
        }
    }

    fn lengths(line: &[u8], out: &mut Emit<usize, u64>) -> Result<(), BoxError> {
        if line == b"bad" {
            return Err("bad line".into());
        }
        out.emit(line.len(), 1);
        Ok(())
    }

    #[test]
    fn the_first_bad_record_is_named_whatever_thread_reaches_one_first() {
        // Every split holds a bad record: the error is the first's,
        // whichever thread fails first, mapped or streamed.
        let text = "a\nbb\nbad\nccc\n".repeat(200);
        let mut mapped = Inputs::new();
        mapped.push_bytes("m0", text.as_bytes().to_vec());
        for _ in 0..10 {
            let job = Job::builder().threads(3).split_size(13).build().unwrap();
            let err = job
                .map_reduce(&mapped, lengths, |a, b| *a += b)
                .unwrap_err();
            assert_eq!(err.to_string(), "m0: byte 5: map failed: bad line");
            let inputs = streamed(&[text.as_bytes()], 1 << 20);
            let err = job
                .map(&inputs, lengths)
                .streamed()
                .fold(|a, b| *a += b)
                .unwrap_err();
            assert_eq!(err.to_string(), "s0: byte 5: map failed: bad line");
        }
    }

    #[test]
    fn a_bad_record_in_a_chunk_is_named_by_its_offset_or_skipped() {
        let text = "a\nbb\nbad\nccc\n".repeat(50);
        let job = Job::builder().threads(2).split_size(5).build().unwrap();
        let inputs = streamed(&[text.as_bytes()], 3);
        let err = job
            .map(&inputs, lengths)
            .streamed()
            .fold(|a, b| *a += b)
            .unwrap_err();
        assert_eq!(err.to_string(), "s0: byte 5: map failed: bad line");

        let job = Job::builder()
            .threads(2)
            .split_size(5)
            .skip_bad_records(true)
            .build()
            .unwrap();
        let inputs = streamed(&[text.as_bytes()], 3);
        let output = job
            .map(&inputs, lengths)
            .streamed()
            .fold(|a, b| *a += b)
            .unwrap();
        assert_eq!(output.counters().skipped_records, 50);
        let mut got = output.into_vec();
        got.sort();
        assert_eq!(got, [(1, 50), (2, 50), (3, 50)]);
    }

    #[test]
    fn runs_that_cannot_stream_read_open_inputs_whole() {
        let text = b"a b\nc\n";
        for streamed_run in [false, true] {
            let job = Job::builder()
                .records(Records::whole_file())
                .build()
                .unwrap();
            let inputs = streamed(&[text], 2);
            let whole = |file: &[u8], out: &mut Emit<Vec<u8>, u64>| -> Result<(), BoxError> {
                out.emit(file.to_vec(), 1);
                Ok(())
            };
            let whole = FnMapper::new(whole);
            let run = job.map_with(&inputs, &whole);
            let run = if streamed_run { run.streamed() } else { run };
            let output = run.fold(|a, b| *a += b).unwrap();
            assert_eq!(output.into_vec(), [(text.to_vec(), 1)]);
            assert_eq!(inputs.files()[0].bytes(), text);
        }
    }

    #[test]
    fn a_sampled_run_samples_the_head_of_an_open_input_and_streams_the_rest() {
        // 150 KB: more than the smaller head.
        let text: String = (0..40_000)
            .map(|i| format!("{}\n", (i * 7919) % 1000))
            .collect();
        let mut want: Vec<&str> = text.lines().collect();
        want.sort_unstable();
        want.dedup();
        // A budget whose heads are a chunk each (4 KiB), and one whose
        // heads hold the inputs whole.
        for memory in [1 << 10, 1 << 30] {
            let job = Job::builder()
                .threads(2)
                .partitions(5)
                .split_size(4096)
                .memory(memory)
                .build()
                .unwrap();
            let inputs = streamed(&[text.as_bytes(), b"0\n999"], 100);
            let (lines, counters) = crate::jobs::sort::sort_lines(&job, &inputs).unwrap();
            let got: Vec<&[u8]> = lines.iter().map(|(w, _)| w.as_bytes()).collect();
            let want: Vec<&[u8]> = want.iter().map(|l| l.as_bytes()).collect();
            assert_eq!(got, want);
            assert_eq!((lines[0].1, lines[999].1), (41, 41));
            assert_eq!(counters.input_bytes, text.len() as u64 + 5);
        }
    }

    /// Lines "bad" and then 0 to 99,999: a sampling run of `failing` fails
    /// at the first line, before any streaming.
    fn failing_text() -> String {
        let mut text = String::from("bad\n");
        for i in 0..100_000 {
            text += &format!("{i}\n");
        }
        text
    }

    fn fail_on_bad(line: &[u8], out: &mut Emit<Vec<u8>, u64>) -> Result<(), BoxError> {
        if line == b"bad" {
            return Err("bad".into());
        }
        out.emit(line.to_vec(), 1);
        Ok(())
    }

    #[test]
    fn a_run_after_a_failed_sampled_run_reads_the_held_head_and_the_rest() {
        let text = failing_text();
        let dir = crate::testutil::TempDir::new("spec-head-then-whole");
        let path = dir.write("big.txt", &text);
        let options = crate::InputOptions::default().stream(true);
        let mut piped = Inputs::new();
        piped.push_reader("pipe", Cursor::new(text.clone().into_bytes()));
        let file = Inputs::open([&path], &options).unwrap();
        assert!(file.files()[0].is_open());
        for inputs in [piped, file] {
            let job = Job::builder().threads(2).memory(256 << 10).build().unwrap();
            let failing = FnMapper::new(fail_on_bad);
            let first = job
                .map_with(&inputs, &failing)
                .spill()
                .streamed()
                .partition_by_sampled_ranges()
                .sorted()
                .fold(|a, b| *a += b);
            assert!(first.unwrap_err().to_string().contains("map failed: bad"));
            // Only the head was read: the next run, not streamed, maps it
            // and the rest after it.
            let count = FnMapper::new(|_: &[u8], out: &mut Emit<u8, u64>| {
                out.emit(0, 1);
                Ok(())
            });
            let second = job.map_with(&inputs, &count).fold(|a, b| *a += b);
            let second = second.unwrap_or_else(|e| panic!("second run: {e}"));
            assert_eq!(second.into_vec(), [(0, 100_001)]);
            assert_eq!(inputs.files()[0].bytes(), text.as_bytes());
        }
    }

    /// A reader that gives its bytes, then panics instead of ending.
    struct PanicsAtEnd(Cursor<Vec<u8>>);

    impl std::io::Read for PanicsAtEnd {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            match self.0.read(buf)? {
                0 => panic!("reader broke"),
                n => Ok(n),
            }
        }
    }

    #[test]
    fn a_panic_in_a_streamed_reader_fails_the_run() {
        let text = "a b\nc\n".repeat(10_000);
        let job = Job::builder().threads(2).split_size(1000).build().unwrap();
        let mut inputs = Inputs::new();
        inputs.push_reader("broken", PanicsAtEnd(Cursor::new(text.into_bytes())));
        let run = job
            .map_with(&inputs, &WordCount::default())
            .streamed()
            .fold(|a, b| *a += b);
        let Err(err) = run else {
            panic!("a run whose reader panicked succeeded");
        };
        assert_eq!(err.to_string(), "broken: reader panicked: reader broke");
    }

    #[test]
    fn the_heads_of_open_inputs_share_a_quarter_of_the_budget() {
        let text: String = (0..30_000).map(|i| format!("{i}\n")).collect();
        assert!(text.len() > 150_000);
        let job = Job::builder()
            .threads(2)
            .partitions(3)
            .split_size(4096)
            .memory(1 << 20)
            .build()
            .unwrap();
        let texts = [text.as_bytes(); 4];
        let inputs = streamed(&texts, 1 << 20);
        let (lines, counters) = crate::jobs::sort::sort_lines(&job, &inputs).unwrap();
        assert_eq!(
            (lines.len(), counters.input_bytes),
            (30_000, 4 * text.len() as u64)
        );
        // 64 KiB each, not a quarter of the budget each (the inputs whole).
        let heads: Vec<usize> = inputs.files().iter().map(|f| f.bytes().len()).collect();
        assert!(
            heads.iter().all(|&h| h > 60_000 && h <= 64 << 10),
            "{heads:?}"
        );
    }
}
