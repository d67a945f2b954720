//! `Job::map_combine` and its `Combining` handle: the same answer and the
//! same counters as a sequential reference, whatever the keys (small
//! integers, large ones, a `Hash` that sends many keys to one integer),
//! threads, partitions, split sizes and bad records.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};

use mr_local::{BoxError, Combining, Container, ErrorKind, Inputs, Job, Records};
use proptest::prelude::*;

/// The pairs one 3-byte record emits: a small key (below 256), a key that
/// is small or not as the record says, and one far past the array.
fn pairs_of(record: &[u8]) -> [(u32, u64); 3] {
    let wide = u32::from(record[1]) << (record[2] % 24);
    [
        (u32::from(record[0]), 1),
        (wide, u64::from(record[2])),
        (70_000 + u32::from(record[2] % 5), 2),
    ]
}

fn reference(bytes: &[u8]) -> Vec<(u32, u64)> {
    let mut sums = HashMap::new();
    for record in bytes.chunks_exact(3) {
        for (key, value) in pairs_of(record) {
            *sums.entry(key).or_insert(0) += value;
        }
    }
    sorted(sums.into_iter().collect())
}

fn sorted<T: Ord>(mut pairs: Vec<T>) -> Vec<T> {
    pairs.sort();
    pairs
}

fn job(threads: usize, partitions: usize, split_size: usize, container: Container) -> Job {
    Job::builder()
        .container(container)
        .threads(threads)
        .partitions(partitions)
        .split_size(split_size)
        .records(Records::fixed(3))
        .build()
        .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn map_combine_agrees_with_a_sequential_reference(
        records in prop::collection::vec(any::<[u8; 3]>(), 0..400),
        threads in 1usize..5,
        partitions in 1usize..9,
        split_size in prop_oneof![1usize..16, 16usize..2048],
        container in prop_oneof![Just(Container::Auto), Just(Container::Hash)],
    ) {
        let bytes = records.concat();
        let mut inputs = Inputs::new();
        inputs.push_bytes("records", bytes.clone());
        let out = job(threads, partitions, split_size, container).map_combine(
            &inputs,
            |record: &[u8], out: &mut Combining<u32, u64, _>| {
                for (key, value) in pairs_of(record) {
                    out.emit(key, value);
                }
                Ok(())
            },
            |total, n| *total += n,
        ).unwrap();
        let counters = out.counters().clone();
        prop_assert_eq!(counters.records, records.len() as u64);
        prop_assert_eq!(counters.map_output_records, 3 * records.len() as u64);
        prop_assert_eq!(sorted(out.into_vec()), reference(&bytes));
    }
}

/// A key whose `Hash` writes only its last two bits: every key lands on
/// one of four array slots, which must not merge them.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
struct Lossy(u32);

impl Hash for Lossy {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u8((self.0 % 4) as u8);
    }
}

#[test]
fn keys_that_share_an_integer_are_still_told_apart() {
    let mut inputs = Inputs::new();
    inputs.push_bytes(
        "numbers",
        (0..1000)
            .map(|n| format!("{}\n", n % 37))
            .collect::<String>(),
    );
    let job = Job::builder().threads(2).split_size(64).build().unwrap();
    let counts = job
        .map_combine(
            &inputs,
            |line: &[u8], out: &mut Combining<Lossy, u64, _>| {
                out.emit(Lossy(std::str::from_utf8(line)?.parse()?), 1);
                Ok(())
            },
            |total, n| *total += n,
        )
        .unwrap();
    let want: Vec<(Lossy, u64)> = (0..37)
        .map(|n| (Lossy(n), if n < 1000 % 37 { 28 } else { 27 }))
        .collect();
    assert_eq!(sorted(counts.into_vec()), want);
}

/// Maps lines of numbers, failing on `bad` and panicking on `boom`.
fn numbers(
    line: &[u8],
    out: &mut Combining<u8, u64, impl Fn(&mut u64, u64)>,
) -> Result<(), BoxError> {
    out.emit(0, 1);
    match line {
        b"bad" => Err("not a number".into()),
        b"boom" => panic!("a bad record"),
        _ => {
            out.emit(1, std::str::from_utf8(line)?.parse()?);
            Ok(())
        }
    }
}

#[test]
fn skipped_records_keep_the_pairs_of_the_records_before_them() {
    let mut inputs = Inputs::new();
    inputs.push_bytes("numbers", "1\n2\nbad\n3\nboom\n4\n");
    for split_size in [1, 5, 1 << 20] {
        let job = Job::builder()
            .threads(2)
            .split_size(split_size)
            .skip_bad_records(true)
            .build()
            .unwrap();
        let out = job
            .map_combine(&inputs, numbers, |total, n| *total += n)
            .unwrap();
        assert_eq!(out.counters().skipped_records, 2, "split size {split_size}");
        assert_eq!(out.counters().records, 6, "split size {split_size}");
        // Every line emitted its (0, 1), the bad ones before they failed.
        assert_eq!(
            sorted(out.into_vec()),
            [(0, 6), (1, 10)],
            "split size {split_size}"
        );
    }
}

#[test]
fn a_bad_record_fails_the_job_with_its_offset() {
    let mut inputs = Inputs::new();
    inputs.push_bytes("numbers", "1\n2\nbad\n3\n");
    let job = Job::builder().build().unwrap();
    let err = job
        .map_combine(&inputs, numbers, |total, n| *total += n)
        .unwrap_err();
    assert!(err.to_string().starts_with("numbers: byte 4: "), "{err}");
}

#[test]
fn a_panicking_combiner_fails_the_job_even_when_records_are_skipped() {
    let mut inputs = Inputs::new();
    inputs.push_bytes("numbers", "1\n1\n1\n");
    let job = Job::builder().skip_bad_records(true).build().unwrap();
    let err = job
        .map_combine(
            &inputs,
            |_: &[u8], out: &mut Combining<u8, u64, _>| {
                out.emit(7, 1);
                Ok(())
            },
            |_: &mut u64, _| panic!("the combiner gives up"),
        )
        .unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Map { .. }), "{err:?}");
    assert!(err.to_string().contains("the combiner gives up"), "{err}");
}

/// Every container folds byte-string keys, short and long, and small
/// integers to the same counts as a direct count.
#[test]
fn every_container_gives_the_same_counts() {
    let text: String = (0..3000)
        .map(|n| format!("w{} {}\n", n % 61, "long-word-".repeat(n % 3)))
        .collect();
    let mut inputs = Inputs::new();
    inputs.push_bytes("text", text.clone());
    let mut expected: HashMap<&[u8], u64> = HashMap::new();
    for word in text
        .as_bytes()
        .split(|&b| b == b' ' || b == b'\n')
        .filter(|w| !w.is_empty())
    {
        *expected.entry(word).or_default() += 1;
    }
    let expected = sorted(expected.into_iter().collect());
    for container in [Container::Auto, Container::Hash] {
        let job = Job::builder()
            .container(container)
            .threads(2)
            .split_size(256)
            .build()
            .unwrap();
        let words = job
            .map_reduce(
                &inputs,
                |line: &[u8], out: &mut mr_local::Emit<&[u8], u64>| {
                    for word in line.split(|&b| b == b' ').filter(|w| !w.is_empty()) {
                        out.emit(word, 1);
                    }
                    Ok(())
                },
                |total, n| *total += n,
            )
            .unwrap();
        assert_eq!(sorted(words.into_vec()), expected, "{container:?}");
        let lengths = job
            .map_reduce(
                &inputs,
                |line: &[u8], out: &mut mr_local::Emit<u8, u64>| {
                    for word in line.split(|&b| b == b' ').filter(|w| !w.is_empty()) {
                        out.emit(word.len() as u8, 1);
                    }
                    Ok(())
                },
                |total, n| *total += n,
            )
            .unwrap();
        let mut by_length: HashMap<u8, u64> = HashMap::new();
        for (word, n) in &expected {
            *by_length.entry(word.len() as u8).or_default() += n;
        }
        let by_length = sorted(by_length.into_iter().collect());
        assert_eq!(sorted(lengths.into_vec()), by_length, "{container:?}");
    }
}
