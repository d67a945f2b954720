//! Integer matrix multiplication, Phoenix++'s `matrix_multiply` ported:
//! the same arguments, the same matrix files, the same numbers printed.
//!
//! ```text
//! cargo run --release --example matrix_multiply -- SIDE [ROW_BLOCK [CREATE]]
//! ```
//!
//! Multiplies the `SIDE × SIDE` matrices A and B held in the files
//! `matrix_file_A.txt` and `matrix_file_B.txt` of the current directory:
//! `SIDE²` native `int`s each, row by row, no header (little-endian `i32`s
//! here). Given a third argument (any), it first writes both files, with
//! `rand() % 11` from glibc's generator seeded with the time, A's values
//! then B's, as Phoenix++ does: so either program can write the files the
//! other then reads. `ROW_BLOCK` is printed and otherwise unused, in
//! Phoenix++ too. Output, as Phoenix++ prints it: the side, the row block,
//! and the sum of all the product's elements, in 32-bit `int`s that wrap
//! as C's do in practice (the sum overflows from `SIDE` 300 or so); on
//! stderr, the file size.
//!
//! One job: the records are A's rows (`Records::fixed(4 * SIDE)`); map
//! multiplies row `i` of A by B, which it reads from memory, and emits
//! `(i, row i of the product)`. Each row is emitted once, so the combiner
//! (keep the row) never runs. A file longer than `SIDE²` values is read
//! up to there, as Phoenix++ reads it; a shorter one fails the run.
//!
//! Phoenix++ tests `argv[3]` without looking at `argc`: given the side
//! alone, it reads past the arguments' terminating null into the
//! environment, and so writes new files on every run. Give it
//! `SIDE ROW_BLOCK` to read the files as they are; this port writes them
//! only when given a third argument.
//!
//! Threads: `RAYON_NUM_THREADS` (Phoenix++: `MR_NUMTHREADS`). For a run of
//! a few seconds on 2 cores: write the files once with `1500 1 create` (by
//! either program), then run both with `1500 1`.

#[path = "common/getopt.rs"]
#[allow(dead_code)] // only its `atoi`: the arguments are not options
mod getopt;
#[path = "common/glibc_rand.rs"]
mod glibc_rand;

use std::error::Error;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};

use glibc_rand::GlibcRand;
use mr_local::{Emit, Inputs, Job, Records};

const FILE_A: &str = "matrix_file_A.txt";
const FILE_B: &str = "matrix_file_B.txt";

/// Writes both matrices' files, as Phoenix++ does.
fn create_files(side: usize) -> Result<(), Box<dyn Error>> {
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs() as u32;
    let mut rand = GlibcRand::new(seed);
    for name in [FILE_A, FILE_B] {
        let mut file = BufWriter::new(File::create(name).map_err(|e| format!("{name}: {e}"))?);
        for _ in 0..side * side {
            file.write_all(&(rand.rand() % 11).to_le_bytes())?;
        }
        file.flush().map_err(|e| format!("{name}: {e}"))?;
    }
    Ok(())
}

/// Why file `name` cannot be read as a matrix of `count` values.
fn unreadable(name: &str, count: usize, e: std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::UnexpectedEof => {
            format!(
                "{name}: shorter than a matrix of {count} values ({} bytes)",
                count * 4
            )
        }
        _ => format!("{name}: {e}"),
    }
}

/// The first `count` values of file `name`, as little-endian bytes.
fn read_bytes(name: &str, count: usize) -> Result<Vec<u8>, String> {
    let mut bytes = vec![0; count * 4];
    File::open(name)
        .and_then(|file| BufReader::new(file).read_exact(&mut bytes))
        .map_err(|e| unreadable(name, count, e))?;
    Ok(bytes)
}

/// The first `count` values of file `name`.
fn read_values(name: &str, count: usize) -> Result<Vec<i32>, String> {
    let mut values = Vec::with_capacity(count);
    let mut file = BufReader::new(File::open(name).map_err(|e| unreadable(name, count, e))?);
    let mut word = [0u8; 4];
    for _ in 0..count {
        file.read_exact(&mut word)
            .map_err(|e| unreadable(name, count, e))?;
        values.push(i32::from_le_bytes(word));
    }
    Ok(values)
}

/// Row `a` of A times `b`, in wrapping `int`s as Phoenix++ computes it.
fn times(a: &[u8], b: &[i32], side: usize) -> Vec<i32> {
    let mut row = vec![0i32; side];
    for (a_k, b_k) in a.chunks_exact(4).zip(b.chunks_exact(side)) {
        let a_k = i32::from_le_bytes([a_k[0], a_k[1], a_k[2], a_k[3]]);
        for (out, &b_kj) in row.iter_mut().zip(b_k) {
            *out = out.wrapping_add(a_k.wrapping_mul(b_kj));
        }
    }
    row
}

fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(side) = args.first() else {
        eprintln!("usage: matrix_multiply SIDE [ROW_BLOCK [CREATE]]");
        std::process::exit(1);
    };
    let side = getopt::atoi(side);
    let row_block = args.get(1).map_or(1, |n| getopt::atoi(n));
    if side < 0 || row_block < 0 {
        return Err("the side and the row block must not be negative".into());
    }
    eprintln!(
        "***** file size is {}",
        side.wrapping_mul(side).wrapping_mul(4)
    );
    println!("MatrixMult: Side of the matrix is {side}");
    println!("MatrixMult: Row Block Len is {row_block}");
    println!("MatrixMult: Running...");
    let side = side as usize;
    if args.len() > 2 {
        create_files(side)?;
    }

    let mut inputs = Inputs::new();
    inputs.push_bytes(FILE_A, read_bytes(FILE_A, side * side)?);
    let b = read_values(FILE_B, side * side)?;
    let a = inputs.files()[0].bytes();
    eprintln!("***** data size is {}", side * side * 4);
    println!("MatrixMult: Calling MapReduce Scheduler Matrix Multiplication");

    let row_bytes = (4 * side).max(1);
    let job = Job::builder().records(Records::fixed(row_bytes)).build()?;
    let product = job.map_reduce(
        &inputs,
        |row: &[u8], out: &mut Emit<u32, Vec<i32>>| {
            // The record's place in the input is the row's number.
            let i = (row.as_ptr() as usize).wrapping_sub(a.as_ptr() as usize) / row_bytes;
            if i >= side {
                return Err("a record not in the input".into());
            }
            out.emit(i as u32, times(row, &b, side));
            Ok(())
        },
        |row, other| *row = other,
    )?;

    let sum = product
        .into_vec()
        .iter()
        .flat_map(|(_, row)| row)
        .fold(0i32, |sum, &x| sum.wrapping_add(x));
    println!("MatrixMult: total sum is {sum}");
    println!("MatrixMult: MapReduce Completed");
    Ok(())
}
