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
//! map      each line of document d ─▶ (word, [d]) for every word in it
//! combine  on each thread, per word: merge the id lists, each id once
//! shuffle  partition = hash(word) mod R: all the lists of a word meet
//! reduce   merge them the same way ─▶ the sorted, de-duplicated ids
//! ```
//!
//! The combiner matters: a word appears many times in a document, and
//! without it every occurrence would reach reduce. Documents travel as
//! small ids (`Emit::file`, the input's position), not as paths; the paths
//! are looked up only when printing.

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

    let index = job.map_reduce(
        &inputs,
        // Map: (word, [document id]) for every word of the line.
        |line: &[u8], out: &mut Emit<String, Vec<usize>>| {
            let document = out.file();
            let text = String::from_utf8_lossy(line);
            let mut lower = String::new();
            for word in text.split(|c: char| !c.is_alphanumeric()) {
                if word.is_empty() {
                    continue;
                }
                // Lowercase into a reused buffer; `emit_with` makes the
                // owned key only if this thread has not seen the word yet.
                lower.clear();
                if word.is_ascii() {
                    lower.push_str(word);
                    lower.make_ascii_lowercase();
                } else {
                    lower.push_str(&word.to_lowercase());
                }
                out.emit_with(lower.as_str(), str::to_string, vec![document]);
            }
            Ok(())
        },
        // Combine and reduce: merge two sorted id lists, each id once.
        |documents, more| {
            for document in more {
                if let Err(at) = documents.binary_search(&document) {
                    documents.insert(at, document);
                }
            }
        },
    )?;

    // Partitions come out in no particular order: sort by word.
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
