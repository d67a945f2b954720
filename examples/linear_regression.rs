//! Phoenix++'s linear regression: the least-squares line through points
//! stored as pairs of signed bytes `(x, y)`, written the plain way (one
//! closure call per point, five emits into five keys, a summing combiner).
//! It runs with [`Job::map_dense`], whose handle is an array of five sums
//! named in its type: with the keys constant and the combiner inlined, the
//! compiler keeps the sums in registers for a whole split.
//!
//! [`Job::map_dense`]: mr_local::Job::map_dense
//!
//! ```text
//! cargo run --release --example linear_regression -- POINTS
//! ```
//!
//! It takes Phoenix++ 1.0's argument (`tests/linear_regression`) and prints
//! what that prints, in the same order and format: the number of points,
//! the fit (`a`, `b`, the means and `r2`, to six decimals, as C's `%lf`
//! writes them, `nan` and `inf` included) and the sums SX, SY, SXX, SYY
//! and SXY. A last odd byte is left out, as Phoenix++ leaves it.
//!
//! Phoenix++ reads the bytes as C `char`, signed on x86, and sums in 64-bit
//! unsigned arithmetic that it prints as signed: that is a signed sum, so
//! the values here are `i64`.

use std::error::Error;
use std::io::Write;

use mr_local::{Dense, InputOptions, Inputs, Job, MmapChoice, Records};

/// The sums, as keys, in Phoenix++'s order.
const SX: u8 = 0;
const SY: u8 = 1;
const SXX: u8 = 2;
const SYY: u8 = 3;
const SXY: u8 = 4;

fn main() -> Result<(), Box<dyn Error>> {
    let Some(path) = std::env::args().nth(1) else {
        println!("USAGE: linear_regression <filename>");
        std::process::exit(1);
    };
    println!("Linear Regression: Running...");
    let len = std::fs::metadata(&path)
        .map_err(|e| format!("{path}: {e}"))?
        .len();
    let points = len / 2;
    println!("data size: {points}");
    println!("Linear Regression: Calling MapReduce Scheduler");

    // SAFETY: the points file is not modified while the job runs.
    let options = InputOptions::default().mmap(unsafe { MmapChoice::auto() });
    let mut inputs = Inputs::new();
    inputs.push_file_range(&path, 0..points * 2, &options)?;
    let job = Job::builder().records(Records::fixed(2)).build()?;
    let sums = job.map_dense(
        &inputs,
        // One record: one point.
        |point: &[u8], out: &mut Dense<u8, i64, _, 5>| {
            let (x, y) = (i64::from(point[0] as i8), i64::from(point[1] as i8));
            out.emit(SXX, x * x);
            out.emit(SYY, y * y);
            out.emit(SXY, x * y);
            out.emit(SX, x);
            out.emit(SY, y);
            Ok(())
        },
        |total, v| *total += v,
    )?;
    let mut s = [0i64; 5];
    for (key, sum) in sums.into_vec() {
        s[usize::from(key)] = sum;
    }
    print_fit(points as i64, s)?;
    Ok(())
}

/// Prints the fit and the sums as Phoenix++ does, computed in the same
/// order of floating-point operations, so that the digits agree.
fn print_fit(n: i64, s: [i64; 5]) -> std::io::Result<()> {
    let [sx_ll, sy_ll, sxx_ll, syy_ll, sxy_ll] = s;
    let [sx, sy, sxx, syy, sxy] = s.map(|v| v as f64);
    let nf = n as f64;
    let b = (nf * sxy - sx * sy) / (nf * sxx - sx * sx);
    let a = (sy_ll as f64 - b * sx_ll as f64) / nf;
    let xbar = sx_ll as f64 / nf;
    let ybar = sy_ll as f64 / nf;
    let r2 =
        (nf * sxy - sx * sy) * (nf * sxy - sx * sy) / ((nf * sxx - sx * sx) * (nf * syy - sy * sy));

    let mut out = std::io::stdout().lock();
    writeln!(out, "Linear Regression Results:")?;
    writeln!(out, "\ta     = {}", lf(a))?;
    writeln!(out, "\tb     = {}", lf(b))?;
    writeln!(out, "\txbar = {}", lf(xbar))?;
    writeln!(out, "\tybar = {}", lf(ybar))?;
    writeln!(out, "\tr2    = {}", lf(r2))?;
    writeln!(out, "\tSX    = {sx_ll}")?;
    writeln!(out, "\tSY    = {sy_ll}")?;
    writeln!(out, "\tSXX  = {sxx_ll}")?;
    writeln!(out, "\tSYY  = {syy_ll}")?;
    writeln!(out, "\tSXY  = {sxy_ll}")?;
    Ok(())
}

/// `x` as C's `printf("%lf")` writes it: six decimals, and `inf`, `-inf`,
/// `nan` or `-nan` (the sign of a NaN is printed, as glibc does).
fn lf(x: f64) -> String {
    match x {
        x if x.is_nan() && x.is_sign_negative() => "-nan".into(),
        x if x.is_nan() => "nan".into(),
        x if x.is_infinite() && x < 0.0 => "-inf".into(),
        x if x.is_infinite() => "inf".into(),
        x => format!("{x:.6}"),
    }
}
