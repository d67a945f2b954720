//! An inverted index (the MapReduce paper's §2.3): for every word, the
//! documents that contain it.
//!
//! ```text
//! cargo run --release --example inverted_index -- ../shared/datasets/udhr/*.txt
//! ```
//!
//! Output: one line per word, in bytewise order of the words:
//! `word<TAB>document<TAB>document...`, the documents (input paths) in the
//! order they were given, each once.
//!
//! A word is a maximal run of alphanumeric characters (`char::is_alphanumeric`),
//! lowercased (`str::to_lowercase`); bytes that are not valid UTF-8 separate
//! words. Scripts written without spaces (Chinese, Japanese, Thai) therefore
//! give whole phrases as "words": a real index would segment them first.
//!
//! The flow:
//!
//! ```text
//! map     each line of document d ─▶ (word, d) for every word in it
//! shuffle partition = hash(word) mod R: all the pairs of a word meet
//! reduce  word, [d, d, d', ...] ─▶ the sorted, de-duplicated ids [d, d']
//! ```
//!
//! Documents travel as small ids (`Emit::file`, the input's position), not
//! as paths; the paths are looked up only when printing.

use std::error::Error;
use std::io::Write;

use mr_local::{Emit, InputOptions, Inputs, Job};

fn main() -> Result<(), Box<dyn Error>> {
    let paths: Vec<String> = std::env::args().skip(1).collect();
    if paths.is_empty() {
        return Err("usage: inverted_index FILE...".into());
    }
    let inputs = Inputs::open(&paths, &InputOptions::default())?;
    let job = Job::builder().build()?;

    let index = job.map_group(
        &inputs,
        // Map: (word, document id) for every word of the line.
        |line: &[u8], out: &mut Emit<String, usize>| {
            let document = out.file();
            let text = String::from_utf8_lossy(line);
            for word in text.split(|c: char| !c.is_alphanumeric()) {
                if !word.is_empty() {
                    out.emit(word.to_lowercase(), document);
                }
            }
            Ok(())
        },
        // Reduce: all the ids a word was emitted with, once each, in order.
        |_word, mut documents| {
            documents.sort_unstable();
            documents.dedup();
            documents
        },
    )?;

    // Each partition comes out sorted by word; put the partitions together.
    let mut index = index.into_vec();
    job.par_sort_by(&mut index, |(a, _), (b, _)| a.cmp(b));

    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for (word, documents) in &index {
        out.write_all(word.as_bytes())?;
        for &document in documents {
            write!(out, "\t{}", inputs.files()[document].path().display())?;
        }
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(())
}
