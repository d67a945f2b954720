//! The paper's jobs as commands: `grep`, `invert` and `sort`. Each runs a
//! library job (`mr_local::jobs`) and writes what it returns.

use std::io::{self, Write};

use mr_local::jobs::grep::{grep as run_grep, Grep};
use mr_local::jobs::invert::{invert as run_invert, Invert};
use mr_local::jobs::sort::sort_lines;
use mr_local::output::write_json_string;

use crate::args::{GrepArgs, IndexFormatArg, InvertArgs, SortArgs};
use crate::{write_output, Failure, JobCommand};

/// Output buffers this large keep writes few.
const WRITE_BUFFER: usize = 1 << 20;

pub(crate) fn grep(args: &GrepArgs) -> Result<(), Failure> {
    let pattern = Grep::new(&args.pattern, args.ignore_case, args.invert_match).map_err(|err| {
        Failure::Usage(format!("invalid pattern: {}", one_line(&err.to_string())))
    })?;
    let command = JobCommand {
        files: &args.files,
        engine: &args.engine,
        report: &args.report,
        output: args.output.as_deref(),
    };
    command.run(|job, inputs, bar| {
        let (matches, counters) = run_grep(job, inputs, &pattern)?;
        bar.writing();
        let paths: Vec<&[u8]> = inputs
            .files()
            .iter()
            .map(|f| f.path().as_os_str().as_encoded_bytes())
            .collect();
        write_output(args.output.as_deref(), |out| {
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
    let command = JobCommand {
        files: &args.files,
        engine: &args.engine,
        report: &args.report,
        output: args.output.as_deref(),
    };
    let job = Invert {
        words: args.split.word_count(args.case_sensitive),
    };
    command.run(|engine, inputs, bar| {
        let (index, counters) = run_invert(engine, inputs, &job)?;
        bar.writing();
        let paths: Vec<&[u8]> = inputs
            .files()
            .iter()
            .map(|f| f.path().as_os_str().as_encoded_bytes())
            .collect();
        write_output(args.output.as_deref(), |out| {
            let mut out = io::BufWriter::with_capacity(WRITE_BUFFER, out);
            for (word, ids) in &index {
                match args.format {
                    IndexFormatArg::Tsv => {
                        out.write_all(word)?;
                        for &id in ids {
                            out.write_all(b"\t")?;
                            out.write_all(paths[id as usize])?;
                        }
                    }
                    IndexFormatArg::Json => {
                        out.write_all(b"{\"word\": ")?;
                        write_json_string(&mut out, word)?;
                        out.write_all(b", \"files\": [")?;
                        for (i, &id) in ids.iter().enumerate() {
                            if i > 0 {
                                out.write_all(b", ")?;
                            }
                            write_json_string(&mut out, paths[id as usize])?;
                        }
                        out.write_all(b"]}")?;
                    }
                }
                out.write_all(b"\n")?;
            }
            out.flush()
        })?;
        Ok(counters)
    })
}

pub(crate) fn sort(args: &SortArgs) -> Result<(), Failure> {
    let command = JobCommand {
        files: &args.files,
        engine: &args.engine,
        report: &args.report,
        output: args.output.as_deref(),
    };
    command.run(|job, inputs, bar| {
        let (lines, counters) = sort_lines(job, inputs)?;
        bar.writing();
        write_output(args.output.as_deref(), |out| {
            let mut out = io::BufWriter::with_capacity(WRITE_BUFFER, out);
            let mut write = |line: &[u8], count: u64| -> io::Result<()> {
                let times = if args.unique { 1 } else { count };
                for _ in 0..times {
                    out.write_all(line)?;
                    out.write_all(b"\n")?;
                }
                Ok(())
            };
            if args.reverse {
                lines
                    .iter()
                    .rev()
                    .try_for_each(|(line, n)| write(line, *n))?;
            } else {
                lines.iter().try_for_each(|(line, n)| write(line, *n))?;
            }
            out.flush()
        })?;
        Ok(counters)
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
