//! The reverse web-link graph (the MapReduce paper's §2.3): for every page,
//! the pages that link to it.
//!
//! ```text
//! cargo run --release --example reverse_links -- links.txt...
//! ```
//!
//! Input: one link per line, `source target` (two fields separated by
//! spaces or tabs). Blank lines are skipped; lines with another number of
//! fields are counted as malformed, reported on stderr and skipped.
//!
//! Output: `target<TAB>source,source,...`, targets in bytewise order, the
//! sources of each in bytewise order, each once.
//!
//! The flow:
//!
//! ```text
//! map     "a.html b.html" ─▶ (b.html, a.html): the link, turned around
//! shuffle partition = hash(target) mod R: all links to a page meet
//! reduce  b.html, [a.html, c.html, a.html] ─▶ a.html,c.html
//! ```

use std::error::Error;
use std::io::Write;

use mr_local::{Emit, InputOptions, Inputs, Job};

fn main() -> Result<(), Box<dyn Error>> {
    let paths: Vec<String> = std::env::args().skip(1).collect();
    if paths.is_empty() {
        return Err("usage: reverse_links LINKS_FILE...".into());
    }
    let inputs = Inputs::open(&paths, &InputOptions::default())?;
    let job = Job::builder().build()?;

    let linked_from = job.map_group(
        &inputs,
        // Map: emit (target, source). Both borrow from the input.
        |line: &[u8], out: &mut Emit<&[u8], &[u8]>| {
            let mut fields = line
                .split(|&b| b == b' ' || b == b'\t')
                .filter(|f| !f.is_empty());
            match (fields.next(), fields.next(), fields.next()) {
                (Some(source), Some(target), None) => out.emit(target, source),
                (None, _, _) => {}
                _ => out.counter("malformed", 1),
            }
            Ok(())
        },
        // Reduce: the sources of one target, sorted, each once.
        |_target, mut sources| {
            sources.sort_unstable();
            sources.dedup();
            sources
        },
    )?;

    let malformed = linked_from.counters().user("malformed");
    let mut linked_from = linked_from.into_vec();
    job.par_sort_by(&mut linked_from, |(a, _), (b, _)| a.cmp(b));
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for (target, sources) in &linked_from {
        out.write_all(target)?;
        out.write_all(b"\t")?;
        out.write_all(&sources.join(&b","[..]))?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    if malformed > 0 {
        eprintln!("reverse_links: {malformed} malformed lines skipped");
    }
    Ok(())
}
