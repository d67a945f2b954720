//! The shuffle strategies against each other and a sequential HashMap, on
//! the same inputs: vocabulary (about 1 thousand vs 1 million distinct
//! keys) × skew (uniform, Zipf s = 1.1, one hot key) × threads (1, 2, all
//! cores). Throughput is in input bytes, so criterion reports MB/s.
//!
//! Before timing, one run per strategy and scenario is made under a counting
//! allocator, and the allocations are written to
//! `target/criterion/shuffle-allocations.tsv` (the pool's saving is in
//! allocations, not only in time). `benches/report.py` turns both into the
//! README's table and chart.

use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::HashMap;
use std::hint::black_box;
use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use mr_local::{Emit, Inputs, Job, ShuffleStrategy};

/// Counts allocations, to measure what each strategy allocates.
struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);
static ALLOCATED_BYTES: AtomicU64 = AtomicU64::new(0);

// SAFETY: every call is passed straight to the system allocator with the
// same arguments; the counters have no effect on the memory handed out.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        ALLOCATED_BYTES.fetch_add(layout.size() as u64, Ordering::Relaxed);
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract, which
        // is the system allocator's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System.alloc` above with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        ALLOCATED_BYTES.fetch_add(new_size as u64, Ordering::Relaxed);
        // SAFETY: `ptr` came from this allocator with `layout`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Bytes of text per scenario.
const INPUT_BYTES: usize = 8 << 20;

#[derive(Clone, Copy)]
enum Skew {
    Uniform,
    Zipf,
    HotKey,
}

/// A small deterministic generator (SplitMix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Lines of space-separated keys `k<rank>` drawn from `vocabulary` ranks.
fn text(vocabulary: usize, skew: Skew) -> Vec<u8> {
    let mut rng = Rng(vocabulary as u64 ^ 0x5eed);
    let cdf: Vec<f64> = match skew {
        Skew::Zipf => {
            let mut total = 0.0;
            let mut cdf: Vec<f64> = (1..=vocabulary)
                .map(|rank| {
                    total += (rank as f64).powf(-1.1);
                    total
                })
                .collect();
            cdf.iter_mut().for_each(|c| *c /= total);
            cdf
        }
        _ => Vec::new(),
    };
    let mut out = Vec::with_capacity(INPUT_BYTES + 64);
    let mut on_line = 0;
    while out.len() < INPUT_BYTES {
        let rank = match skew {
            Skew::Uniform => rng.next() as usize % vocabulary,
            Skew::Zipf => cdf.partition_point(|&c| c < rng.unit()).min(vocabulary - 1),
            Skew::HotKey if rng.next() % 10 != 0 => usize::MAX,
            Skew::HotKey => rng.next() as usize % vocabulary,
        };
        if rank == usize::MAX {
            out.extend_from_slice(b"hot");
        } else {
            write!(out, "k{rank}").expect("write to a Vec");
        }
        on_line += 1;
        out.push(if on_line % 16 == 0 { b'\n' } else { b' ' });
    }
    out
}

fn run(job: &Job, inputs: &Inputs) -> usize {
    let output = job
        .map_reduce(
            inputs,
            |line: &[u8], out: &mut Emit<&[u8], u64>| {
                for key in line.split(|b| *b == b' ').filter(|k| !k.is_empty()) {
                    out.emit(key, 1);
                }
                Ok(())
            },
            |total, n| *total += n,
        )
        .expect("job");
    output.len()
}

fn sequential(text: &[u8]) -> usize {
    let mut counts: HashMap<&[u8], u64> = HashMap::new();
    for key in text
        .split(|b| *b == b' ' || *b == b'\n')
        .filter(|k| !k.is_empty())
    {
        *counts.entry(key).or_default() += 1;
    }
    counts.len()
}

fn strategies() -> Vec<ShuffleStrategy> {
    let mut all = ShuffleStrategy::all();
    all.push(ShuffleStrategy::mutex().batch(1));
    all.push(ShuffleStrategy::per_task_unpooled());
    all
}

fn label(strategy: &ShuffleStrategy, unbatched: bool) -> String {
    match unbatched {
        true => format!("{}-unbatched", strategy.name()),
        false => strategy.name().to_string(),
    }
}

fn bench(c: &mut Criterion) {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut threads = vec![1, 2, cores];
    threads.dedup();
    let scenarios = [
        ("vocab-1k", 1_000, Skew::Uniform, "uniform"),
        ("vocab-1k", 1_000, Skew::Zipf, "zipf"),
        ("vocab-1k", 1_000, Skew::HotKey, "hot-key"),
        ("vocab-1m", 1_000_000, Skew::Uniform, "uniform"),
        ("vocab-1m", 1_000_000, Skew::Zipf, "zipf"),
        ("vocab-1m", 1_000_000, Skew::HotKey, "hot-key"),
    ];
    let mut allocations =
        String::from("scenario\tstrategy\tthreads\tallocations\tallocated_bytes\n");
    for (vocab, size, skew, skew_name) in scenarios {
        let scenario = format!("{vocab}-{skew_name}");
        let text = text(size, skew);
        let bytes = text.len() as u64;
        let mut inputs = Inputs::new();
        inputs.push_bytes(scenario.clone(), text.clone());

        let mut group = c.benchmark_group(format!("shuffle/{scenario}"));
        group.throughput(Throughput::Bytes(bytes));
        group.sample_size(10);
        group.warm_up_time(Duration::from_millis(300));
        group.measurement_time(Duration::from_secs(2));
        group.bench_function(BenchmarkId::new("sequential-hashmap", "1t"), |b| {
            b.iter(|| sequential(black_box(&text)))
        });
        for strategy in strategies() {
            let unbatched = strategy == ShuffleStrategy::mutex().batch(1);
            let name = label(&strategy, unbatched);
            for &n in &threads {
                let job = Job::builder()
                    .threads(n)
                    .shuffle(strategy)
                    .build()
                    .expect("job");
                let before = (
                    ALLOCATIONS.load(Ordering::Relaxed),
                    ALLOCATED_BYTES.load(Ordering::Relaxed),
                );
                run(&job, &inputs);
                allocations.push_str(&format!(
                    "{scenario}\t{name}\t{n}\t{}\t{}\n",
                    ALLOCATIONS.load(Ordering::Relaxed) - before.0,
                    ALLOCATED_BYTES.load(Ordering::Relaxed) - before.1,
                ));
                group.bench_function(BenchmarkId::new(name.clone(), format!("{n}t")), |b| {
                    b.iter(|| run(&job, black_box(&inputs)))
                });
            }
        }
        group.finish();
    }
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target/criterion/shuffle-allocations.tsv");
    if std::fs::create_dir_all(path.parent().expect("has a parent")).is_ok() {
        let _ = std::fs::write(&path, allocations);
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
