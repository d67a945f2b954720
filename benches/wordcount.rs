//! End-to-end word count: the engine against a sequential HashMap fold, on
//! `../shared/datasets/kjvbible.txt` (where present) and a generated Zipf
//! corpus, at 1 thread and all cores. Throughput is in bytes, so criterion
//! reports MB/s.

use std::collections::HashMap;
use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use mr_local::jobs::wordcount::{count_words, WordCount};
use mr_local::{Inputs, Job};

mod common;
use common::corpora;

/// The baseline: one thread, one std HashMap, the same word definition.
fn sequential(text: &[u8], wc: &WordCount) -> usize {
    let mut counts: HashMap<Vec<u8>, u64> = HashMap::new();
    wc.for_each_word(text, |word| {
        *counts.entry(word.into_owned()).or_default() += 1
    });
    counts.len()
}

fn bench(c: &mut Criterion) {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let wc = WordCount::default();
    let mut group = c.benchmark_group("wordcount");
    group.sample_size(10);
    for (name, bytes) in corpora() {
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_function(BenchmarkId::new("sequential-hashmap", name), |b| {
            b.iter(|| sequential(black_box(&bytes), &wc))
        });
        let mut inputs = Inputs::new();
        inputs.push_bytes(name, bytes);
        let mut threads = vec![1, cores];
        threads.dedup();
        for n in threads {
            let job = Job::builder().threads(n).build().expect("job");
            group.bench_function(BenchmarkId::new(format!("mr-local-{n}t"), name), |b| {
                b.iter(|| {
                    count_words(&job, black_box(&inputs), &wc)
                        .expect("count")
                        .len()
                })
            });
        }
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
