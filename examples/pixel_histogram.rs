//! Phoenix++'s histogram: the 768 bins of a 24-bit BMP's blue, green and
//! red bytes, written the plain way (one closure call per pixel, three
//! emits, a summing combiner). It runs with [`Job::map_dense`], whose
//! handle folds each bin's count where it is emitted, the combiner
//! inlined.
//!
//! [`Job::map_dense`]: mr_local::Job::map_dense
//!
//! ```text
//! cargo run --release --example pixel_histogram -- IMAGE.bmp [--all]
//! ```
//!
//! It takes Phoenix++ 1.0's arguments (`tests/histogram`) and prints what
//! that prints, line for line: the image data's size, then the first ten
//! non-empty bins in key order (blue 0–255 are keys 0–255, green 256–511,
//! red 512–767) as `value - count` under a colour heading, with Phoenix++'s
//! quirks kept (a green heading comes before the first key of 256 or more,
//! even when that key is red; Phoenix++'s "Calling MapReduce Scheduler"
//! goes to stderr, as there). `--all`, which Phoenix++ does not have, adds
//! all 768 bins after that, one `key<TAB>count` line each.
//!
//! As in Phoenix++, the pixels are the bytes from the offset in the header's
//! bytes 10–11 to the end of the file, three at a time (row padding counts
//! as pixels; a last partial pixel is left out). The header is skipped with
//! [`Inputs::push_file_range`]: the pixels are mapped from there, never
//! copied, and `Records::fixed(3)` aligns records at that offset.

use std::error::Error;
use std::fs::File;
use std::io::{Read, Write};

use mr_local::{Dense, InputOptions, Inputs, Job, MmapChoice, Records};

/// Where Phoenix++ finds the pixels' offset and the bits per pixel.
const DATA_OFFSET_AT: usize = 10;
const BITS_PER_PIXEL_AT: usize = 28;

fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(path) = args.iter().find(|a| *a != "--all") else {
        println!("USAGE: pixel_histogram <bitmap filename> [--all]");
        std::process::exit(1);
    };
    let all = args.iter().any(|a| a == "--all");
    println!("Histogram: Running...");

    let mut header = [0u8; 30];
    let mut file = File::open(path).map_err(|e| format!("{path}: {e}"))?;
    file.read_exact(&mut header)
        .map_err(|e| format!("{path}: header: {e}"))?;
    let len = file.metadata()?.len();
    let u16_at = |at: usize| u16::from_le_bytes([header[at], header[at + 1]]);
    if &header[..2] != b"BM" {
        println!("File is not a valid bitmap file. Exiting");
        std::process::exit(1);
    }
    if u16_at(BITS_PER_PIXEL_AT) != 24 {
        print!("Error: Invalid bitmap format - ");
        println!("This application only accepts 24-bit pictures. Exiting");
        std::process::exit(1);
    }
    let start = u64::from(u16_at(DATA_OFFSET_AT));
    let image_bytes = len
        .checked_sub(start)
        .ok_or("pixel data starts past the end")?;
    let pixels = image_bytes / 3;
    println!("This file has {image_bytes} bytes of image data, {pixels} pixels");
    eprintln!("Histogram: Calling MapReduce Scheduler");

    // SAFETY: the image is not modified while the job runs.
    let options = InputOptions::default().mmap(unsafe { MmapChoice::auto() });
    let mut inputs = Inputs::new();
    inputs.push_file_range(path, start..start + pixels * 3, &options)?;
    let job = Job::builder().records(Records::fixed(3)).build()?;
    let bins = job.map_dense(
        &inputs,
        // One record: one pixel, stored blue, green, red.
        |pixel: &[u8], out: &mut Dense<u16, u64, _, 768>| {
            out.emit(u16::from(pixel[0]), 1);
            out.emit(256 + u16::from(pixel[1]), 1);
            out.emit(512 + u16::from(pixel[2]), 1);
            Ok(())
        },
        |total, n| *total += n,
    )?;
    let mut bins = bins.into_vec();
    bins.sort_unstable();

    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    print_like_phoenix(&mut out, &bins)?;
    if all {
        let mut counts = [0u64; 768];
        for &(key, count) in &bins {
            counts[usize::from(key)] = count;
        }
        for (key, count) in counts.iter().enumerate() {
            writeln!(out, "{key}\t{count}")?;
        }
    }
    out.flush()?;
    Ok(())
}

/// The first ten bins found, in key order, as Phoenix++ prints them.
fn print_like_phoenix(out: &mut impl Write, bins: &[(u16, u64)]) -> std::io::Result<()> {
    write!(out, "\n\nBlue\n----------\n\n")?;
    let (mut green, mut red) = (false, false);
    for &(key, count) in bins.iter().take(10) {
        if count == 0 {
            continue;
        }
        if key >= 256 && !green {
            write!(out, "\n\nGreen\n----------\n\n")?;
            green = true;
        } else if key >= 512 && !red {
            write!(out, "\n\nRed\n----------\n\n")?;
            red = true;
        }
        writeln!(out, "{} - {count}", key % 256)?;
    }
    Ok(())
}
