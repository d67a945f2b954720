//! `Job::map_combine` and its `Combining` handle, and `Job::map_dense` and
//! its `Dense` array: the same answer and the same counters as a sequential
//! reference, whatever the keys (small integers, large ones, a `Hash` that
//! sends many keys to one integer, keys past the array), record formats,
//! threads, partitions, split sizes and bad records.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};

use mr_local::{BoxError, Combining, Container, Dense, ErrorKind, Inputs, Job, Records};
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

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Keys below the array, past it and far past it, in fixed-size
    /// records: what `map_combine` gives, with the same counters.
    #[test]
    fn map_dense_agrees_with_a_sequential_reference(
        records in prop::collection::vec(any::<[u8; 3]>(), 0..400),
        threads in 1usize..5,
        partitions in 1usize..9,
        split_size in prop_oneof![1usize..16, 16usize..2048],
    ) {
        let bytes = records.concat();
        let mut inputs = Inputs::new();
        inputs.push_bytes("records", bytes.clone());
        let out = job(threads, partitions, split_size, Container::Auto).map_dense(
            &inputs,
            |record: &[u8], out: &mut Dense<u32, u64, _, 200>| {
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

    /// Lines (with and without `\r\n` and a last newline) and delimited
    /// records: each record's bytes reach the closure whole, once.
    #[test]
    fn map_dense_cuts_every_format_as_the_reader_does(
        text in "[ab\r\n,]{0,300}",
        delimited in any::<bool>(),
        threads in 1usize..4,
        split_size in prop_oneof![1usize..16, 16usize..512],
    ) {
        let (records, expected) = match delimited {
            true => (Records::delimited(b','), text.split(',').collect::<Vec<_>>()),
            false => (Records::lines(), text.lines().collect()),
        };
        let mut inputs = Inputs::new();
        inputs.push_bytes("text", text.clone());
        let job = Job::builder()
            .threads(threads)
            .split_size(split_size)
            .records(records)
            .build()
            .unwrap();
        let out = job.map_dense(
            &inputs,
            |record: &[u8], out: &mut Dense<u8, u64, _, 3>| {
                out.emit(0, 1);
                out.emit(1, record.iter().filter(|&&b| b == b'a').count() as u64);
                out.emit(2, record.len() as u64);
                Ok(())
            },
            |total, n| *total += n,
        ).unwrap();
        // A trailing delimiter or newline ends a record; it does not start one.
        let expected: Vec<&str> = match delimited {
            true if text.ends_with(',') => expected[..expected.len() - 1].to_vec(),
            true if text.is_empty() => Vec::new(),
            _ => expected,
        };
        prop_assert_eq!(out.counters().records, expected.len() as u64);
        let a = expected.iter().map(|r| r.matches('a').count() as u64).sum::<u64>();
        let len = expected.iter().map(|r| r.len() as u64).sum::<u64>();
        let want: Vec<(u8, u64)> = match expected.len() {
            0 => Vec::new(),
            n => vec![(0, n as u64), (1, a), (2, len)],
        };
        prop_assert_eq!(sorted(out.into_vec()), want);
    }
}

/// [`numbers`] for a `Dense` handle.
fn dense_numbers(
    line: &[u8],
    out: &mut Dense<u8, u64, impl Fn(&mut u64, u64), 2>,
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
fn dense_skipped_records_keep_the_pairs_of_the_records_before_them() {
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
            .map_dense(&inputs, dense_numbers, |total, n| *total += n)
            .unwrap();
        assert_eq!(out.counters().skipped_records, 2, "split size {split_size}");
        assert_eq!(out.counters().records, 6, "split size {split_size}");
        assert_eq!(
            out.counters().map_output_records,
            10,
            "split size {split_size}"
        );
        assert_eq!(
            sorted(out.into_vec()),
            [(0, 6), (1, 10)],
            "split size {split_size}"
        );
    }
}

#[test]
fn dense_bad_records_fail_the_job_with_their_offset() {
    let mut inputs = Inputs::new();
    inputs.push_bytes("numbers", "1\n2\nbad\n3\n");
    let job = Job::builder().build().unwrap();
    let err = job
        .map_dense(&inputs, dense_numbers, |total, n| *total += n)
        .unwrap_err();
    assert!(err.to_string().starts_with("numbers: byte 4: "), "{err}");
    let mut inputs = Inputs::new();
    inputs.push_bytes("numbers", "1\n22\nboom\n");
    let err = job
        .map_dense(&inputs, dense_numbers, |total, n| *total += n)
        .unwrap_err();
    assert!(err.to_string().starts_with("numbers: byte 5: "), "{err}");
    // A short last fixed-size record is refused, by offset, as the reader
    // refuses it.
    let mut inputs = Inputs::new();
    inputs.push_bytes("pairs", [1u8, 2, 3, 4, 5]);
    let job = Job::builder().records(Records::fixed(2)).build().unwrap();
    let err = job
        .map_dense(
            &inputs,
            |_: &[u8], out: &mut Dense<u8, u64, _, 1>| {
                out.emit(0, 1);
                Ok(())
            },
            |total, n| *total += n,
        )
        .unwrap_err();
    assert!(err.to_string().starts_with("pairs: byte 4: "), "{err}");
}

#[test]
fn a_panicking_combiner_fails_a_dense_job_even_when_records_are_skipped() {
    let mut inputs = Inputs::new();
    inputs.push_bytes("numbers", "1\n1\n1\n");
    let job = Job::builder().skip_bad_records(true).build().unwrap();
    let err = job
        .map_dense(
            &inputs,
            |_: &[u8], out: &mut Dense<u8, u64, _, 8>| {
                out.emit(7, 1);
                Ok(())
            },
            |_: &mut u64, _| panic!("the combiner gives up"),
        )
        .unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Map { .. }), "{err:?}");
    assert!(err.to_string().contains("the combiner gives up"), "{err}");
}

/// Signed keys, `bool`, `char` and a declared enum land in their own
/// slots, and a combiner that is not a sum (a minimum) sees each value.
#[test]
fn dense_keys_of_every_kind_keep_their_own_slots() {
    let mut inputs = Inputs::new();
    inputs.push_bytes("bytes", (0..=255u8).collect::<Vec<u8>>());
    let job = Job::builder()
        .records(Records::fixed(1))
        .split_size(16)
        .threads(2)
        .build()
        .unwrap();
    let signed = job
        .map_dense(
            &inputs,
            |b: &[u8], out: &mut Dense<i8, i64, _, 256>| {
                out.emit(b[0] as i8 % 3, -i64::from(b[0]));
                Ok(())
            },
            |min: &mut i64, v| *min = (*min).min(v),
        )
        .unwrap();
    let mut want: HashMap<i8, i64> = HashMap::new();
    for b in 0..=255u8 {
        let held = want.entry(b as i8 % 3).or_insert(0);
        *held = (*held).min(-i64::from(b));
    }
    assert_eq!(
        sorted(signed.into_vec()),
        sorted(want.into_iter().collect())
    );
    let odd = job
        .map_dense(
            &inputs,
            |b: &[u8], out: &mut Dense<bool, u64, _, 2>| {
                out.emit(b[0] % 2 == 1, 1);
                Ok(())
            },
            |total, n| *total += n,
        )
        .unwrap();
    assert_eq!(sorted(odd.into_vec()), [(false, 128), (true, 128)]);
    // Letters fit the array, other characters go past it.
    let chars = job
        .map_dense(
            &inputs,
            |b: &[u8], out: &mut Dense<char, u64, _, 128>| {
                out.emit(char::from(b[0]).to_ascii_lowercase(), 1);
                Ok(())
            },
            |total, n| *total += n,
        )
        .unwrap();
    let chars: HashMap<char, u64> = chars.into_vec().into_iter().collect();
    assert_eq!(chars.len(), 256 - 26);
    assert_eq!((chars[&'q'], chars[&'\u{ff}'], chars[&'7']), (2, 1, 1));
}
