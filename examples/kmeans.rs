//! k-means clustering, Phoenix++'s `kmeans` ported: the same arguments,
//! the same generated points, the same numbers printed.
//!
//! ```text
//! cargo run --release --example kmeans -- [-d DIM] [-c CLUSTERS] [-p POINTS] [-s GRID]
//! ```
//!
//! `POINTS` points (100000) and `CLUSTERS` first means (100), each of `DIM`
//! (3) integer coordinates in `0..GRID` (1000), come from glibc's `rand()`
//! never seeded, as Phoenix++ makes them (`rand() % GRID`, the points
//! first). Each iteration is one job: map finds a point's nearest mean
//! (squared distance; the first on ties) and emits `(cluster, point)`; the
//! combiner adds up the points of a cluster and counts them; each cluster
//! that got points moves to their mean, in integers (a sum divided by a
//! count, rounded down), and one with none stays where it was. The jobs
//! run until no point changes cluster. Output, as Phoenix++ prints it: the
//! settings, then the final means, one line each, every coordinate as
//! `%5d ` (C's `printf`).
//!
//! Records are points: `Records::fixed(4 * DIM)` over the points held in
//! memory as little-endian `i32`s. The value a map call emits is the
//! point's record itself, borrowed from the input (no allocation per
//! point); the combiner turns the first two of a cluster into a sum it then
//! adds to. Whether a point changed cluster is kept per point, in an array
//! of atomics indexed by the record's place in the input, and counted with
//! a user counter. Sums are `i64`, so they do not overflow where
//! Phoenix++'s `int`s would.
//!
//! Threads: `RAYON_NUM_THREADS` (Phoenix++: `MR_NUMTHREADS`). Benchmark
//! with the defaults, `-d 3 -c 100 -p 100000 -s 1000`: a few seconds on 2
//! cores. The time grows faster than the points, since more points take
//! more iterations (`-p 1000000`: about 40 s). Phoenix++ supports at most
//! 100 clusters, the size of its array container.

#[path = "common/getopt.rs"]
mod getopt;
#[path = "common/glibc_rand.rs"]
mod glibc_rand;

use std::error::Error;
use std::io::Write;
use std::sync::atomic::{AtomicU32, Ordering};

use glibc_rand::GlibcRand;
use mr_local::{Emit, Inputs, Job, Records};

/// What a cluster collects: one point, as its record in the input, or the
/// sum of several and how many.
enum Points<'d> {
    One(&'d [u8]),
    Sum { coords: Vec<i64>, count: u64 },
}

impl Points<'_> {
    /// The combiner: adds `other`'s points to these.
    fn add(&mut self, other: Self) {
        if let Points::One(point) = *self {
            let coords = coords(point).map(i64::from).collect();
            *self = Points::Sum { coords, count: 1 };
        }
        let Points::Sum { coords: sum, count } = self else {
            unreachable!("made a sum above")
        };
        match other {
            Points::One(point) => {
                sum.iter_mut()
                    .zip(coords(point))
                    .for_each(|(s, x)| *s += i64::from(x));
                *count += 1;
            }
            Points::Sum { coords, count: n } => {
                sum.iter_mut().zip(coords).for_each(|(s, x)| *s += x);
                *count += n;
            }
        }
    }

    /// Their mean, rounded down (as C's integer division, on sums that are
    /// never negative).
    fn mean(&self) -> Vec<i32> {
        match self {
            Points::One(point) => coords(point).collect(),
            Points::Sum { coords, count } => {
                coords.iter().map(|&s| (s / *count as i64) as i32).collect()
            }
        }
    }
}

/// The coordinates of a point's record.
fn coords(record: &[u8]) -> impl Iterator<Item = i32> + '_ {
    record
        .chunks_exact(4)
        .map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]]))
}

/// Squared distance, computed as Phoenix++ does: `int` differences added
/// up in an `unsigned int`, wrapping.
fn sq_dist(point: &[u8], mean: &[i32]) -> u32 {
    coords(point).zip(mean).fold(0u32, |sum, (x, &m)| {
        let diff = x.wrapping_sub(m);
        sum.wrapping_add(diff.wrapping_mul(diff) as u32)
    })
}

fn main() -> Result<(), Box<dyn Error>> {
    let usage =
        "Usage: kmeans -d <vector dimension> -c <num clusters> -p <num points> -s <max value>";
    let options = getopt::parse("dcps", usage);
    let [dim, clusters, points, grid] =
        [('d', 3), ('c', 100), ('p', 100_000), ('s', 1000)].map(|(c, n)| options.get(c, n));
    if dim <= 0 || clusters <= 0 || points <= 0 || grid <= 0 {
        println!("Illegal argument value. All values must be numeric and greater than 0");
        std::process::exit(1);
    }
    println!("Dimension = {dim}");
    println!("Number of clusters = {clusters}");
    println!("Number of points = {points}");
    println!("Size of each dimension = {grid}");
    let (dim, clusters, points) = (dim as usize, clusters as usize, points as usize);

    // The points, then the first means, as Phoenix++ draws them.
    let mut rand = GlibcRand::new(1);
    let mut data = Vec::with_capacity(points * dim * 4);
    for _ in 0..points * dim {
        data.extend_from_slice(&(rand.rand() % grid).to_le_bytes());
    }
    let mut means: Vec<i32> = (0..clusters * dim).map(|_| rand.rand() % grid).collect();

    let mut inputs = Inputs::new();
    inputs.push_bytes("points", data);
    let base = inputs.files()[0].bytes().as_ptr() as usize;
    let record = 4 * dim;
    let job = Job::builder().records(Records::fixed(record)).build()?;
    // Each point's cluster, none (u32::MAX) at first.
    let cluster_of: Vec<AtomicU32> = (0..points).map(|_| AtomicU32::new(u32::MAX)).collect();

    println!("KMeans: Calling MapReduce Scheduler");
    loop {
        let means_now = &means;
        let sums = job.map_reduce(
            &inputs,
            |point: &[u8], out: &mut Emit<u32, Points>| {
                let (mut nearest, mut min_dist) = (0, u32::MAX);
                for (j, mean) in means_now.chunks_exact(dim).enumerate() {
                    let dist = sq_dist(point, mean);
                    if dist < min_dist {
                        (nearest, min_dist) = (j as u32, dist);
                    }
                }
                // The record's place in the input is the point's number.
                let index = (point.as_ptr() as usize).wrapping_sub(base) / record;
                let cluster = cluster_of.get(index).ok_or("a record not in the input")?;
                if cluster.swap(nearest, Ordering::Relaxed) != nearest {
                    out.counter("changed", 1);
                }
                out.emit(nearest, Points::One(point));
                Ok(())
            },
            Points::add,
        )?;
        let changed = sums.counters().user("changed");
        for (cluster, points) in sums.into_vec() {
            let at = cluster as usize * dim;
            means[at..at + dim].copy_from_slice(&points.mean());
        }
        if changed == 0 {
            break;
        }
    }
    println!("KMeans: MapReduce Completed");

    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    write!(out, "\n\nFinal means:\n")?;
    for mean in means.chunks_exact(dim) {
        for x in mean {
            write!(out, "{x:5} ")?;
        }
        writeln!(out)?;
    }
    out.flush()?;
    Ok(())
}
