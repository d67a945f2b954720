//! Hashers compared on word-count keys, for the engine's generic combining
//! tables (`HashMap<K, V, S>` in `Emit`): hashing every word of a corpus,
//! and counting them in a `HashMap<&[u8], u64>`. The keys are the words as
//! `mr-local wordcount` counts them (lowercased), on kjvbible (where
//! present) and the generated Zipf corpus. Throughput is in words.
//!
//! The engine's tables need a hasher seeded at random per process, since
//! their keys come from files the user did not write: std's SipHash, ahash
//! and foldhash are. FxHash (rustc-hash) is a fixed function, shown only
//! for what that resistance costs. (Word count's own counting table packs
//! short words into integers and hashes them with one multiplication; see
//! `src/jobs/count_table.rs`.)

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use mr_local::jobs::wordcount::WordCount;

mod common;
use common::corpora;

fn words(text: &[u8]) -> Vec<Vec<u8>> {
    let mut words = Vec::new();
    WordCount::default().for_each_word(text, |w| words.push(w.into_owned()));
    words
}

fn count<S: BuildHasher + Clone>(words: &[&[u8]], hasher: &S) -> usize {
    let mut counts: HashMap<&[u8], u64, S> = HashMap::with_hasher(hasher.clone());
    for &word in words {
        *counts.entry(word).or_default() += 1;
    }
    counts.len()
}

fn hash_all<S: BuildHasher>(words: &[&[u8]], hasher: &S) -> u64 {
    words.iter().fold(0, |x, w| x ^ hasher.hash_one(w))
}

/// Runs `$body` with `$hasher` bound to each hasher in turn, under its name.
macro_rules! each_hasher {
    ($name:ident, $hasher:ident, $body:expr) => {{
        {
            let ($name, $hasher) = ("siphash-std", RandomState::new());
            $body
        }
        {
            let ($name, $hasher) = ("ahash", ahash::RandomState::new());
            $body
        }
        {
            let ($name, $hasher) = ("foldhash-fast", foldhash::fast::RandomState::default());
            $body
        }
        {
            let ($name, $hasher) = (
                "foldhash-quality",
                foldhash::quality::RandomState::default(),
            );
            $body
        }
        {
            let ($name, $hasher) = ("fxhash-unseeded", rustc_hash::FxBuildHasher);
            $body
        }
    }};
}

fn bench(c: &mut Criterion) {
    for (corpus, text) in corpora() {
        let owned = words(&text);
        let words: Vec<&[u8]> = owned.iter().map(Vec::as_slice).collect();
        let mut group = c.benchmark_group(format!("hashers/{corpus}"));
        group.sample_size(10);
        group.throughput(Throughput::Elements(words.len() as u64));
        each_hasher!(name, hasher, {
            group.bench_function(BenchmarkId::new("hash", name), |b| {
                b.iter(|| hash_all(black_box(&words), &hasher))
            });
            group.bench_function(BenchmarkId::new("count", name), |b| {
                b.iter(|| count(black_box(&words), &hasher))
            });
        });
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
