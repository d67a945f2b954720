//! The paper's jobs as commands: `grep`, `invert` and `sort`. Each runs a
//! library job (`mr_local::jobs`) and writes what it returns.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;

use mr_local::jobs::grep::{grep as run_grep, Grep};
use mr_local::jobs::invert::{invert_into, Invert};
use mr_local::jobs::sort::{sort_lines, sort_lines_into};
use mr_local::output::write_json_string;

use crate::args::{GrepArgs, IndexFormatArg, InvertArgs, SortArgs};
use crate::parts::Part;
use crate::{write_output, Failure};

/// Output buffers this large keep writes few.
const WRITE_BUFFER: usize = 1 << 20;

pub(crate) fn grep(args: &GrepArgs) -> Result<(), Failure> {
    let pattern = Grep::new(&args.pattern, args.ignore_case, args.invert_match).map_err(|err| {
        Failure::Usage(format!("invalid pattern: {}", one_line(&err.to_string())))
    })?;
    let command = args.job.command();
    command.run(|job, inputs, bar| {
        let (matches, counters) = run_grep(job, inputs, &pattern)?;
        bar.writing();
        let paths = paths(inputs);
        write_output(args.job.output.as_deref(), |out| {
            let mut out = io::BufWriter::with_capacity(WRITE_BUFFER, out);
            for found in &matches {
                out.write_all(paths[found.file])?;
                write!(out, ":{}:", found.line_number)?;
                out.write_all(found.line)?;
                out.write_all(b"\n")?;
            }
            out.flush()
        })?;
        Ok(counters)
    })
}

pub(crate) fn invert(args: &InvertArgs) -> Result<(), Failure> {
    let command = args.job.command();
    let job = Invert {
        words: args.split.word_count(args.case_sensitive),
    };
    command.run(|engine, inputs, bar| {
        let paths = paths(inputs);
        if args.format == IndexFormatArg::Tsv {
            paths.iter().try_for_each(|path| tsv_file_name(path))?;
        }
        let (parts, counters) = invert_into(engine, inputs, &job, |partition, words| {
            let mut part = new_part(engine, partition);
            let mut line = Vec::new();
            for (word, ids) in words {
                line.clear();
                index_line(&mut line, &word, &ids, &paths, args.format);
                part.write(&line)?;
            }
            part.finish()
        })?;
        bar.writing();
        write_parts(args.job.output.as_deref(), &parts)?;
        Ok(counters)
    })
}

/// Refuses a file name that a TSV index line cannot hold as one field: a
/// TAB would split it, a line break would end the line (a carriage return
/// too, read back as CRLF). As `streaming map invert --file` does, this is
/// a usage error, raised before the job runs; JSON quotes such names.
fn tsv_file_name(path: &[u8]) -> Result<(), Failure> {
    let fault = if memchr::memchr(b'\t', path).is_some() {
        "a tab"
    } else if memchr::memchr2(b'\n', b'\r', path).is_some() {
        "a line break"
    } else {
        return Ok(());
    };
    // Escaped, so that the message stays one line.
    Err(Failure::Usage(format!(
        "{:?}: file name holds {fault}: a TSV index would not read back as one \
         file (use --format json)",
        String::from_utf8_lossy(path)
    )))
}

/// One line of the index: `word<TAB>path...`, or a JSON object.
fn index_line(
    out: &mut Vec<u8>,
    word: &[u8],
    ids: &[u32],
    paths: &[&[u8]],
    format: IndexFormatArg,
) {
    match format {
        IndexFormatArg::Tsv => {
            out.extend_from_slice(word);
            for &id in ids {
                out.push(b'\t');
                out.extend_from_slice(paths[id as usize]);
            }
        }
        IndexFormatArg::Json => {
            out.extend_from_slice(b"{\"word\": ");
            // Writing to a Vec cannot fail.
            let _ = write_json_string(&mut *out, word);
            out.extend_from_slice(b", \"files\": [");
            for (i, &id) in ids.iter().enumerate() {
                if i > 0 {
                    out.extend_from_slice(b", ");
                }
                let _ = write_json_string(&mut *out, paths[id as usize]);
            }
            out.extend_from_slice(b"]}");
        }
    }
    out.push(b'\n');
}

pub(crate) fn sort(args: &SortArgs) -> Result<(), Failure> {
    let command = args.job.command();
    command.run(|job, inputs, bar| {
        if args.reverse {
            // Reversed, the last partition comes first and each runs
            // backwards: the output is held in memory.
            let (lines, counters) = sort_lines(job, inputs)?;
            bar.writing();
            write_output(args.job.output.as_deref(), |out| {
                let mut out = io::BufWriter::with_capacity(WRITE_BUFFER, out);
                for (line, count) in lines.iter().rev() {
                    for _ in 0..if args.unique { 1 } else { *count } {
                        out.write_all(line)?;
                        out.write_all(b"\n")?;
                    }
                }
                out.flush()
            })?;
            return Ok(counters);
        }
        // Each partition's part goes to this thread as reduce finishes it,
        // and is written as soon as every part before it has been, while
        // the job runs on: partitions reduce about in order, so that few
        // parts wait in memory.
        let (send, parts) = mpsc::channel::<(usize, Part)>();
        let writer_stopped = AtomicBool::new(false);
        let run_job = &|send: mpsc::Sender<(usize, Part)>| {
            sort_lines_into(job, inputs, |partition, lines| {
                let mut part = new_part(job, partition);
                for (line, count) in lines {
                    for _ in 0..if args.unique { 1 } else { count } {
                        part.write(&line)?;
                        part.write(b"\n")?;
                    }
                }
                send.send((partition, part.finish()?)).map_err(|_| {
                    // The writer failed: its error is the one reported.
                    writer_stopped.store(true, Ordering::Relaxed);
                    mr_local::Error::io("<output>", io::ErrorKind::BrokenPipe.into())
                })
            })
        };
        let write = |parts: &mpsc::Receiver<(usize, Part)>| {
            write_output(args.job.output.as_deref(), |out| {
                write_in_order(out, parts, job.partitions(), bar)
            })
        };
        let (ran, written) = std::thread::scope(|scope| {
            let spare = send.clone();
            let thread = std::thread::Builder::new().spawn_scoped(scope, move || run_job(send));
            let Ok(thread) = thread else {
                // No thread to be had (under a tight memory limit, say):
                // the job runs here, and its parts wait for its end.
                let ran = run_job(spare);
                let written = if ran.is_ok() { write(&parts) } else { Ok(()) };
                return (ran, written);
            };
            drop(spare);
            let written = write(&parts);
            // Stops a job whose output failed at its next part.
            drop(parts);
            let ran = thread
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            (ran, written)
        });
        match ran {
            Err(err) if !writer_stopped.load(Ordering::Relaxed) => Err(err.into()),
            ran => {
                written?;
                Ok(ran?.1)
            }
        }
    })
}

/// Writes `count` parts, which come from `parts` in any order, to `out` in
/// partition order; an error if fewer come (the job failed), so that no
/// output file is left with part of the output. `bar` shows the writing
/// from the first part written.
fn write_in_order(
    out: &mut dyn Write,
    parts: &mpsc::Receiver<(usize, Part)>,
    count: usize,
    bar: &crate::progress::Bar,
) -> io::Result<()> {
    let mut waiting = BTreeMap::new();
    let mut next = 0;
    for (partition, part) in parts {
        waiting.insert(partition, part);
        while let Some(part) = waiting.remove(&next) {
            if next == 0 {
                bar.writing();
            }
            part.copy_to(out)?;
            next += 1;
        }
        if next == count {
            return Ok(());
        }
    }
    Err(io::Error::other(
        "the job stopped before its last partition",
    ))
}

/// Every input's path, as bytes to write, by position.
fn paths(inputs: &mr_local::Inputs) -> Vec<&[u8]> {
    inputs
        .files()
        .iter()
        .map(|f| f.path().as_os_str().as_encoded_bytes())
        .collect()
}

/// A partition's output, kept in memory up to its share of half the job's
/// memory budget.
pub(crate) fn new_part(job: &mr_local::Job, partition: usize) -> Part {
    let limit = job.memory() / 2 / job.partitions().max(1);
    Part::new(job.tmp_dir(), partition, limit)
}

/// Writes the parts, in order, to `path` or stdout.
fn write_parts(path: Option<&std::path::Path>, parts: &[Part]) -> Result<(), Failure> {
    write_output(path, |out| {
        for part in parts {
            part.copy_to(out)?;
        }
        Ok(())
    })
}

/// The regex crate's errors span several lines, with a caret under the
/// fault; a CLI error is one line.
pub(crate) fn one_line(message: &str) -> String {
    message
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.chars().all(|c| c == '^' || c == ' '))
        .collect::<Vec<_>>()
        .join(" ")
}
