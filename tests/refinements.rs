//! The paper's refinements through the library's public API: input formats,
//! partitioning functions, sorted reduce input, combiners and skipping bad
//! records, each checked against a plain sequential computation under every
//! shuffle strategy, thread count, partition count and split size.

use std::collections::BTreeMap;
use std::ops::Range;

use mr_local::{
    BadRecord, BoxError, Emit, ErrorKind, Inputs, Job, KeyRanges, RecordReader, Records,
    ShuffleStrategy, Skipped, SKIPPED_LISTED,
};
use proptest::prelude::*;

/// Records of one byte of length, then that many bytes.
struct LengthPrefixed;

impl RecordReader for LengthPrefixed {
    fn read(&self, split: &[u8], at: usize) -> Result<(Range<usize>, usize), BoxError> {
        let end = at + 1 + usize::from(split[at]);
        if end > split.len() {
            // Nothing after a broken length can be trusted: skip to the end.
            return Err(Box::new(BadRecord::new(
                "record runs past the end",
                split.len(),
            )));
        }
        Ok((at + 1..end, end))
    }
}

#[derive(Clone, Copy, Debug)]
enum Format {
    Lines,
    Delimited,
    Fixed,
    WholeFile,
    Custom,
}

const FIXED: usize = 3;

impl Format {
    fn records(self) -> Records {
        match self {
            Format::Lines => Records::lines(),
            Format::Delimited => Records::delimited(b';'),
            Format::Fixed => Records::fixed(FIXED),
            Format::WholeFile => Records::whole_file(),
            Format::Custom => Records::custom(LengthPrefixed),
        }
    }

    /// The records of one file, found the simplest way there is, with the
    /// offsets of malformed ones.
    fn reference(self, file: &[u8]) -> (Vec<Vec<u8>>, Vec<usize>) {
        let mut records = Vec::new();
        let mut bad = Vec::new();
        match self {
            Format::Lines | Format::Delimited => {
                let delimiter = if let Format::Lines = self {
                    b'\n'
                } else {
                    b';'
                };
                let mut fields: Vec<&[u8]> = file.split(|b| *b == delimiter).collect();
                if file.is_empty() || file.ends_with(&[delimiter]) {
                    fields.pop();
                }
                let last = fields.len().saturating_sub(1);
                for (i, field) in fields.into_iter().enumerate() {
                    let terminated = i < last || file.ends_with(&[delimiter]);
                    let field = match self {
                        Format::Lines if terminated => field.strip_suffix(b"\r").unwrap_or(field),
                        _ => field,
                    };
                    records.push(field.to_vec());
                }
            }
            Format::Fixed => {
                let whole = file.len() / FIXED * FIXED;
                records.extend(file[..whole].chunks(FIXED).map(<[u8]>::to_vec));
                if whole < file.len() {
                    bad.push(whole);
                }
            }
            Format::WholeFile => {
                if !file.is_empty() {
                    records.push(file.to_vec());
                }
            }
            Format::Custom => {
                let mut at = 0;
                while at < file.len() {
                    let end = at + 1 + usize::from(file[at]);
                    if end > file.len() {
                        bad.push(at);
                        break;
                    }
                    records.push(file[at + 1..end].to_vec());
                    at = end;
                }
            }
        }
        (records, bad)
    }
}

fn inputs(files: &[Vec<u8>]) -> Inputs {
    let mut inputs = Inputs::new();
    for (i, file) in files.iter().enumerate() {
        inputs.push_bytes(format!("f{i}"), file.clone());
    }
    inputs
}

fn counts(records: impl IntoIterator<Item = Vec<u8>>) -> BTreeMap<Vec<u8>, u64> {
    let mut counts = BTreeMap::new();
    for record in records {
        *counts.entry(record).or_insert(0) += 1;
    }
    counts
}

fn job(threads: usize, partitions: usize, split: usize, strategy: ShuffleStrategy) -> Job {
    Job::builder()
        .threads(threads)
        .partitions(partitions)
        .split_size(split)
        .shuffle(strategy.batch(2).capacity(1))
        .build()
        .unwrap()
}

fn count_records(
    job: &Job,
    inputs: &Inputs,
) -> Result<mr_local::Output<Vec<u8>, u64>, mr_local::Error> {
    job.map_reduce(
        inputs,
        |record: &[u8], out: &mut Emit<Vec<u8>, u64>| {
            out.emit(record.to_vec(), 1);
            Ok(())
        },
        |a, b| *a += b,
    )
}

fn format() -> impl Strategy<Value = Format> {
    prop::sample::select(vec![
        Format::Lines,
        Format::Delimited,
        Format::Fixed,
        Format::WholeFile,
        Format::Custom,
    ])
}

fn file() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        3 => "[a-c]{0,4}".prop_map(String::into_bytes),
        2 => prop::sample::select(vec!["\n", "\r\n", ";", "\r", "\x02"]).prop_map(|s| s.as_bytes().to_vec()),
        1 => prop::collection::vec(any::<u8>(), 1..3),
    ];
    prop::collection::vec(piece, 0..24).prop_map(|pieces| pieces.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Every format, strategy, thread count, partition count and split
    /// size finds the same records as the reference, and fails (or skips)
    /// at the same malformed record.
    #[test]
    fn every_format_agrees_with_a_sequential_reference(
        files in prop::collection::vec(file(), 0..4),
        format in format(),
        threads in 1usize..4,
        partitions in 1usize..6,
        split in 1usize..40,
        skip in any::<bool>(),
    ) {
        let mut expected = Vec::new();
        let mut bad = Vec::new();
        for (i, file) in files.iter().enumerate() {
            let (records, offsets) = format.reference(file);
            expected.extend(records);
            bad.extend(offsets.into_iter().map(|at| (format!("f{i}"), at as u64)));
        }
        let inputs = inputs(&files);
        for strategy in ShuffleStrategy::all() {
            let job = Job::builder()
                .threads(threads)
                .partitions(partitions)
                .split_size(split)
                .shuffle(strategy.batch(2).capacity(1))
                .records(format.records())
                .skip_bad_records(skip)
                .build()
                .unwrap();
            let result = count_records(&job, &inputs);
            if bad.is_empty() || skip {
                let output = result.map_err(|e| e.to_string()).unwrap();
                let got: BTreeMap<Vec<u8>, u64> = output.partitions().concat().into_iter().collect();
                prop_assert_eq!(&got, &counts(expected.clone()), "{} {:?}", strategy.name(), format);
                let counters = output.counters();
                prop_assert_eq!(counters.skipped_records, bad.len() as u64);
                let mut listed: Vec<(String, u64)> = counters.skipped.iter().map(|s| match s {
                    Skipped::Record { path, offset, .. } => (path.display().to_string(), *offset),
                    other => panic!("{other}"),
                }).collect();
                listed.sort();
                prop_assert_eq!(&listed, &bad);
            } else {
                let err = result.unwrap_err();
                let ErrorKind::Map { path, offset, .. } = err.kind() else { panic!("{err}") };
                let named = (path.display().to_string(), *offset);
                prop_assert!(bad.contains(&named), "{} not among {:?}", err, bad);
            }
        }
    }

    /// Sampled key ranges with sorted reduce input: the partitions,
    /// concatenated, are the sorted reference.
    #[test]
    fn sampled_ranges_give_total_order(
        keys in prop::collection::vec(any::<u16>(), 0..300),
        threads in 1usize..4,
        partitions in 1usize..9,
        split in 1usize..64,
    ) {
        let text: String = keys.iter().map(|k| format!("{k}\n")).collect();
        let mut inputs = Inputs::new();
        inputs.push_bytes("keys", text);
        let mut expected: Vec<(u16, u32)> = counts(keys.iter().map(|k| k.to_be_bytes().to_vec()))
            .into_iter()
            .map(|(k, n)| (u16::from_be_bytes([k[0], k[1]]), n as u32))
            .collect();
        expected.sort();
        for strategy in ShuffleStrategy::all() {
            let job = job(threads, partitions, split, strategy);
            let output = job
                .map(&inputs, |line: &[u8], out: &mut Emit<u16, u32>| {
                    out.emit(std::str::from_utf8(line)?.parse()?, 1);
                    Ok(())
                })
                .partition_by_sampled_ranges()
                .sorted()
                .fold(|a, b| *a += b)
                .unwrap();
            prop_assert_eq!(output.partitions().len(), partitions);
            prop_assert_eq!(output.into_vec(), expected.clone(), "{}", strategy.name());
        }
    }
}

#[test]
fn a_user_partitioner_decides_where_keys_go() {
    let mut inputs = Inputs::new();
    inputs.push_bytes("n", (0..500).map(|i| format!("{i}\n")).collect::<String>());
    for strategy in ShuffleStrategy::all() {
        let job = job(2, 5, 64, strategy);
        let output = job
            .map(&inputs, |line: &[u8], out: &mut Emit<u32, u32>| {
                out.emit(std::str::from_utf8(line)?.parse()?, 1);
                Ok(())
            })
            // Out of range on purpose: the engine takes it modulo R.
            .partition_by(|key, _| *key as usize + 5)
            .fold(|a, b| *a += b)
            .unwrap();
        for (i, part) in output.partitions().iter().enumerate() {
            assert_eq!(part.len(), 100, "{}", strategy.name());
            assert!(part.iter().all(|(k, _)| *k as usize % 5 == i));
        }
    }
}

#[test]
fn given_key_ranges_set_the_partition_count() {
    let mut inputs = Inputs::new();
    inputs.push_bytes("n", "b\na\nz\nm\n");
    let job = job(2, 7, 4, ShuffleStrategy::default());
    let output = job
        .map(&inputs, |line: &[u8], out: &mut Emit<&[u8], u32>| {
            out.emit(line, 1);
            Ok(())
        })
        .partition_by_ranges(KeyRanges::new(vec![&b"c"[..], b"n"]))
        .sorted()
        .fold(|a, b| *a += b)
        .unwrap();
    let parts: Vec<Vec<&[u8]>> = output
        .partitions()
        .iter()
        .map(|p| p.iter().map(|(k, _)| *k).collect())
        .collect();
    assert_eq!(parts, [vec![&b"a"[..], b"b"], vec![b"m"], vec![b"z"]]);
}

#[test]
fn reduce_sees_combined_partial_values_that_add_up() {
    let text = "x\ny\nx\n".repeat(3000);
    let mut inputs = Inputs::new();
    inputs.push_bytes("t", text);
    for strategy in ShuffleStrategy::all() {
        let job = job(2, 3, 256, strategy);
        let output = job
            .map(&inputs, |line: &[u8], out: &mut Emit<Vec<u8>, u64>| {
                out.emit(line.to_vec(), 1);
                Ok(())
            })
            .combine(|a, b| *a += b)
            .sorted()
            .reduce(|_, partials| (partials.len(), partials.iter().sum::<u64>()))
            .unwrap();
        let mut got = output.into_vec();
        got.sort();
        assert_eq!(got.len(), 2);
        assert_eq!(
            (got[0].1 .1, got[1].1 .1),
            (6000, 3000),
            "{}",
            strategy.name()
        );
        // 9000 records in splits of 256 bytes: the combiner folded them
        // into far fewer values than records.
        assert!(got[0].1 .0 < 6000 / 10, "{} {:?}", strategy.name(), got);
    }
}

#[test]
fn sorted_output_is_in_order_within_each_partition_unsorted_is_complete() {
    let mut inputs = Inputs::new();
    inputs.push_bytes(
        "t",
        (0..2000)
            .map(|i| format!("{}\n", i * 7919 % 2003))
            .collect::<String>(),
    );
    let job = job(2, 4, 100, ShuffleStrategy::default());
    let run = |sorted: bool| {
        let spec = job.map(&inputs, |line: &[u8], out: &mut Emit<u32, ()>| {
            out.emit(std::str::from_utf8(line)?.parse()?, ());
            Ok(())
        });
        let spec = if sorted { spec.sorted() } else { spec };
        spec.reduce(|_, values| values.len()).unwrap()
    };
    let sorted = run(true);
    for part in sorted.partitions() {
        assert!(part.windows(2).all(|w| w[0].0 < w[1].0));
    }
    let mut unsorted = run(false).into_vec();
    unsorted.sort();
    let mut all = sorted.into_vec();
    all.sort();
    assert_eq!(all, unsorted);
    assert_eq!(all.len(), 2000);
}

#[test]
fn skipping_counts_and_lists_panics_and_errors_in_map() {
    let text: String = (0..1000)
        .map(|i| match i % 100 {
            7 => "panic\n".to_string(),
            8 => "error\n".to_string(),
            _ => format!("{i}\n"),
        })
        .collect();
    let mut inputs = Inputs::new();
    inputs.push_bytes("numbers", text.clone());
    for strategy in ShuffleStrategy::all() {
        let job = Job::builder()
            .threads(2)
            .split_size(200)
            .shuffle(strategy)
            .skip_bad_records(true)
            .build()
            .unwrap();
        let output = job
            .map_reduce(
                &inputs,
                |line: &[u8], out: &mut Emit<(), u64>| {
                    assert!(line != b"panic", "a poisonous record");
                    let n: u64 = std::str::from_utf8(line)?.parse()?;
                    out.emit((), n);
                    Ok(())
                },
                |a, b| *a += b,
            )
            .unwrap();
        let good: u64 = (0..1000).filter(|i| !matches!(i % 100, 7 | 8)).sum();
        assert_eq!(output.partitions().concat(), [((), good)]);
        let counters = output.counters();
        assert_eq!(counters.skipped_records, 20, "{}", strategy.name());
        assert_eq!(counters.skipped.len(), SKIPPED_LISTED.min(20));
        for skipped in &counters.skipped {
            let Skipped::Record { offset, reason, .. } = skipped else {
                panic!("{skipped}")
            };
            let line = text[*offset as usize..].lines().next().unwrap();
            match line {
                "panic" => assert_eq!(reason, "panicked: a poisonous record"),
                "error" => assert_eq!(reason, "invalid digit found in string"),
                other => panic!("skipped a good record {other:?} at {offset}"),
            }
        }
    }
}

#[test]
fn without_skipping_a_panic_in_reduce_fails_the_job_and_with_it_the_key_is_dropped() {
    let mut inputs = Inputs::new();
    inputs.push_bytes("t", "a\nb\nc\nb\n");
    for skip in [false, true] {
        let job = Job::builder()
            .threads(2)
            .partitions(3)
            .skip_bad_records(skip)
            .build()
            .unwrap();
        let result = job.map_group(
            &inputs,
            |line: &[u8], out: &mut Emit<Vec<u8>, u8>| {
                out.emit(line.to_vec(), 1);
                Ok(())
            },
            |key, values| {
                assert!(key != b"b", "cannot reduce b");
                values.len()
            },
        );
        if skip {
            let output = result.unwrap();
            assert_eq!(output.counters().skipped_keys, 1);
            let mut got = output.into_vec();
            got.sort();
            assert_eq!(got, [(b"a".to_vec(), 1), (b"c".to_vec(), 1)]);
        } else {
            let err = result.unwrap_err().to_string();
            assert!(err.starts_with("reduce failed in partition "), "{err}");
            assert!(err.ends_with(": panicked: cannot reduce b"), "{err}");
        }
    }
}

#[test]
fn a_fixed_size_file_with_a_short_tail_names_the_file_and_offset() {
    let mut inputs = Inputs::new();
    inputs.push_bytes("good.bin", [1u8; 6]);
    inputs.push_bytes("short.bin", [2u8; 7]);
    let job = Job::builder().records(Records::fixed(3)).build().unwrap();
    let err = count_records(&job, &inputs).unwrap_err();
    assert_eq!(
        err.to_string(),
        "short.bin: byte 6: map failed: the last 1 bytes are not a whole 3-byte record"
    );
}

#[test]
fn whole_file_records_come_with_their_path() {
    let mut inputs = Inputs::new();
    inputs.push_bytes("one.txt", "first\nfile\n".repeat(100));
    inputs.push_bytes("empty.txt", "");
    inputs.push_bytes("two.txt", "second");
    let job = Job::builder()
        .split_size(8)
        .records(Records::whole_file())
        .build()
        .unwrap();
    let output = job
        .map_reduce(
            &inputs,
            |file: &[u8], out: &mut Emit<String, usize>| {
                out.emit(out.path().display().to_string(), file.len());
                Ok(())
            },
            |a, b| *a += b,
        )
        .unwrap();
    let mut sizes = output.into_vec();
    sizes.sort();
    assert_eq!(
        sizes,
        [("one.txt".to_string(), 1100), ("two.txt".to_string(), 6)]
    );
}
