//! The first step of a principal component analysis, Phoenix++'s `pca`
//! ported: the mean vector and the covariance matrix, as two jobs; the same
//! arguments, the same generated matrix, the same numbers printed.
//!
//! ```text
//! cargo run --release --example pca -- [-r ROWS] [-c COLS] [-s MAX]
//! ```
//!
//! The matrix has `ROWS` rows (10), one per variable, of `COLS` (10)
//! observations each, in `0..MAX` (100), from glibc's `rand()` never
//! seeded, row by row, as Phoenix++ makes it. Then, in integers, as
//! Phoenix++ computes them:
//!
//! - job 1, the means: map a row `i` to `(i, sum / COLS)`;
//! - job 2, the covariances: map a row `i` to `((i, j), cov)` for every row
//!   `j >= i` (the upper triangle: the matrix is symmetric), where `cov` is
//!   the sum of `(row_i[k] - mean_i) * (row_j[k] - mean_j)` over `k`,
//!   divided by `COLS - 1` (C's `/`, rounding towards zero).
//!
//! Each key is emitted once, so the combiner (keep the value) never runs.
//! Output, as Phoenix++ prints it: the settings, the jobs' start and end,
//! then the sum of the upper triangle's covariances (`Covariance sum: N`).
//!
//! Records are rows: `Records::fixed(4 * COLS)` over the matrix held in
//! memory as little-endian `i32`s; a row's number is its record's place in
//! the input, and job 2 reads row `j` from the input too.
//!
//! Phoenix++ keys covariance `(i, j)` as `i * COLS + j`, in an array of
//! 10^6, and its means in an array of 1000: it fails (an assertion, or a
//! crash) unless `ROWS <= COLS`, `ROWS <= 1000` and `ROWS * COLS <= 10^6`;
//! this port has none of these limits. `COLS` must be at least 2 (Phoenix++
//! divides by zero).
//!
//! Threads: `RAYON_NUM_THREADS` (Phoenix++: `MR_NUMTHREADS`). Benchmark
//! with `-r 1000 -c 1000 -s 100`: the most work Phoenix++'s limits allow
//! (rows² × cols / 2 multiplications), about a second on 2 cores.

#[path = "common/getopt.rs"]
mod getopt;
#[path = "common/glibc_rand.rs"]
mod glibc_rand;

use std::error::Error;

use glibc_rand::GlibcRand;
use mr_local::{Emit, Inputs, Job, Records};

/// A row's values, from its record.
fn values(row: &[u8]) -> impl Iterator<Item = i32> + '_ {
    row.chunks_exact(4)
        .map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]]))
}

/// The covariance of two rows, given their means, as Phoenix++ computes it.
fn covariance(row_i: &[u8], mean_i: i64, row_j: &[u8], mean_j: i64, cols: i64) -> i64 {
    let sum = values(row_i).zip(values(row_j)).fold(0i64, |sum, (a, b)| {
        sum.wrapping_add((i64::from(a) - mean_i).wrapping_mul(i64::from(b) - mean_j))
    });
    sum / (cols - 1)
}

fn main() -> Result<(), Box<dyn Error>> {
    let usage = "Usage: pca -r <num_rows> -c <num_cols> -s <max value>";
    let options = getopt::parse("rcs", usage);
    let [rows, cols, max] = [('r', 10), ('c', 10), ('s', 100)].map(|(c, n)| options.get(c, n));
    if rows <= 0 || cols <= 0 || max <= 0 {
        println!("Illegal argument value. All values must be numeric and greater than 0");
        std::process::exit(1);
    }
    println!("Number of rows = {rows}");
    println!("Number of cols = {cols}");
    println!("Max value for each element = {max}");
    if cols < 2 {
        return Err("the covariance of one observation divides by zero: give -c 2 or more".into());
    }
    let (rows, cols) = (rows as usize, cols as usize);

    let mut rand = GlibcRand::new(1);
    let mut matrix = Vec::with_capacity(rows * cols * 4);
    for _ in 0..rows * cols {
        matrix.extend_from_slice(&(rand.rand() % max).to_le_bytes());
    }
    let mut inputs = Inputs::new();
    inputs.push_bytes("matrix", matrix);
    let matrix = inputs.files()[0].bytes();
    let row_bytes = 4 * cols;
    // The number of a row, from its record's place in the input.
    let row_of = |row: &[u8]| -> Result<usize, &str> {
        let at = (row.as_ptr() as usize).wrapping_sub(matrix.as_ptr() as usize) / row_bytes;
        (at < rows).then_some(at).ok_or("a record not in the input")
    };
    let job = Job::builder().records(Records::fixed(row_bytes)).build()?;

    println!("PCA Mean: Calling MapReduce Scheduler");
    let by_row = job.map_reduce(
        &inputs,
        |row: &[u8], out: &mut Emit<usize, i64>| {
            let sum: i64 = values(row).map(i64::from).sum();
            out.emit(row_of(row)?, sum / cols as i64);
            Ok(())
        },
        |mean, other| *mean = other,
    )?;
    println!("PCA Mean: MapReduce Completed");
    let mut means = vec![0i64; rows];
    for (row, mean) in by_row.into_vec() {
        means[row] = mean;
    }

    println!("PCA Cov: Calling MapReduce Scheduler");
    let covariances = job.map_reduce(
        &inputs,
        |row_i: &[u8], out: &mut Emit<(u32, u32), i64>| {
            let i = row_of(row_i)?;
            for (j, row_j) in matrix.chunks_exact(row_bytes).enumerate().skip(i) {
                let cov = covariance(row_i, means[i], row_j, means[j], cols as i64);
                out.emit((i as u32, j as u32), cov);
            }
            Ok(())
        },
        |cov, other| *cov = other,
    )?;
    println!("PCA Cov: MapReduce Completed");
    assert_eq!(covariances.len(), rows * (rows + 1) / 2);
    let sum = covariances
        .into_vec()
        .into_iter()
        .fold(0i64, |sum, (_, cov)| sum.wrapping_add(cov));
    print!("\n\nCovariance sum: {sum}\n");
    Ok(())
}
