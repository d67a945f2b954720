//! `mr-local streaming map|combine|reduce JOB`: the built-in jobs as Hadoop
//! Streaming mappers, combiners and reducers, over stdin and stdout.
//!
//! Adding a job is one variant of [`JobArg`] and one arm in each of
//! [`map`] and [`reduce`]; the plumbing is the library's
//! `mr_local::streaming`.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::io::{self, BufReader, BufWriter, Read, Write};

use clap::{Subcommand, ValueEnum};
use memchr::memmem;

use mr_local::jobs::grep::{grep as run_grep, Grep};
use mr_local::jobs::wordcount::WordCount;
use mr_local::streaming::{
    self, ChunkReader, Config, KeyValueReader, KeyValueWriter, Reporter, Separator, COUNTER_GROUP,
};
use mr_local::{Inputs, Job};

use crate::args::SplitArg;
use crate::commands::one_line;
use crate::{io_failure, Failure};

const STREAMING_HELP: &str = concat!(
    "\
Hadoop Streaming's contract: the mapper reads raw input lines on stdin and
writes key<TAB>value lines; the cluster sorts them by key (bytewise) and
hands each reducer key<TAB>value lines with equal keys consecutive; the
reducer (or combiner) writes key<TAB>value lines. Counters go to stderr as
reporter:counter:mr-local,NAME,N lines, status as reporter:status:MESSAGE.

The jobs (details in `mr-local streaming map --help`):
  wordcount  map: word<TAB>count for each word of the input;
             reduce, combine: the sum of each word's counts.
  grep       map grep PATTERN [-i] [-v]: each selected line as it is, with
             no line number (a map task cannot know it);
             reduce, combine: the identity.
  invert     map: word<TAB>file for each word, the file from Hadoop's
             $mapreduce_map_input_file; reduce, combine:
             word<TAB>file1<TAB>file2..., files sorted bytewise, unique.
  sort       map, reduce, combine: the identity; the cluster's shuffle
             sorts (by key: a line up to its first TAB).

Every job reads lines as Hadoop's line reader cuts them: at \\n, with a \\r
before it dropped (a CRLF line comes out without its \\r).

Locally, a cluster is a pipe:
  cat input | mr-local streaming map wordcount | LC_ALL=C sort \\
    | mr-local streaming reduce wordcount
prints what `mr-local wordcount --sort key input` prints, byte for byte.

Exit status: 0 success (also when the reader of stdout goes away),
1 reading or writing failed, 2 usage error;
",
    signal_statuses!()
);

const MAP_HELP: &str = concat!(
    "\
wordcount [--split ...] [--case-sensitive]: reads stdin in chunks of whole
lines (--chunk-size) and runs the parallel engine on each, as
`mr-local wordcount` would, with the same options: counts are combined
within each chunk before they are written, in no particular order.

grep PATTERN [-i] [-v]: runs the engine on each chunk as `mr-local grep`
does and writes each selected line as it is, in input order. There is no
`path:line:` prefix: a map task sees one split, not where it starts, so
line numbers cannot be known. A line holding a TAB has the text before it
as its key, a line without one is all key (Hadoop's rule); either way the
reducer, the identity, writes it back as it was. A \\r before the \\n is
dropped before matching, as Hadoop would have dropped it (so `a$` matches
the CRLF line `a`, which `mr-local grep` does not).
  cat a.txt | mr-local streaming map grep needle | LC_ALL=C sort \\
    | mr-local streaming reduce grep
prints the lines of `mr-local grep needle a.txt`, prefixes stripped, sorted.

invert [--file NAME] [--split ...] [--case-sensitive]: writes word<SEP>file
once for each distinct word of each chunk, words found and folded as
`mr-local invert` does. The file is --file NAME if given, else
$mapreduce_map_input_file (Hadoop 2 and later: Streaming exports job
settings with dots as underscores; its value is the split's file as a URI,
hdfs://...), else $map_input_file (older Hadoop), else `-`. A file name
holding the separator or a line break fails the mapper.
  for f in a.txt b.txt; do mr-local streaming map invert --file \"$f\" < \"$f\"; done \\
    | LC_ALL=C sort | mr-local streaming reduce invert
prints what `mr-local invert a.txt b.txt` prints (which lists files in the
order given; the reducer sorts them bytewise).

sort: the identity: writes each line as it is, so that its key is the line
up to its first separator; the cluster's shuffle does the sorting.
  cat a.txt | mr-local streaming map sort | LC_ALL=C sort \\
    | mr-local streaming reduce sort
prints what `mr-local sort a.txt` prints, CRLF lines without their \\r.
On a cluster with one reducer the output is `LC_ALL=C sort`'s except for
lines holding the separator: Hadoop sorts by key only, so equal keys'
values come in no set order. With several reducers each part file is
sorted on its own; a total order needs Hadoop's TotalOrderPartitioner (see
README: untested). --threads and --chunk-size do not apply.

Separators, after Hadoop's properties (-D NAME=VALUE):
  --map-output-field-separator SEP   stream.map.output.field.separator
A separator is any non-empty text without a line break; `\\t` stands for a
tab. A word holding the separator (a comma, with --split whitespace and
--map-output-field-separator ,) would be cut short on the cluster, so it
fails the mapper instead. Keys are one field: leave
stream.num.map.output.key.fields at 1.

Examples:
  mr-local streaming map wordcount < book.txt
  hadoop jar hadoop-streaming.jar -mapper 'mr-local streaming map wordcount' ...

Exit status: 0 success, 1 reading or writing failed (or a word or file name
holds the separator), 2 usage error;
",
    signal_statuses!()
);

const REDUCE_HELP: &str = concat!(
    "\
Reads key<SEP>value lines grouped by key (the input must be sorted or
grouped by key, as the cluster's shuffle leaves it) and writes, in input
order:
  wordcount  one key<SEP>count line per run of equal keys, the counts
             summed. A value that is not a count (an empty value included)
             is a bad record: skipped and counted
             (reporter:counter:mr-local,bad records,N), never an error.
             A sum past 18446744073709551615 fails (exit 1), naming the
             line and the key.
  grep, sort every line as it is (the identity): a line holding the input
             separator is written as key, output separator, value.
  invert     one key<SEP>file1<SEP>file2... line per run of equal keys: the
             files of all its values (each a SEP-separated list), sorted
             bytewise, without duplicates. A key with no file is a bad
             record; a file name holding the output separator fails.
`combine` does the same, for use as a combiner: its output is valid input
for `reduce`.

Lines follow Hadoop's rules: a line ends at \\n (a \\r before it is dropped);
it is cut at the first separator; a line without one is all key with an
empty value; the empty line is an empty key; keys are bytes, UTF-8 or not.

Separators, after Hadoop's properties (-D NAME=VALUE):
  --reduce-input-field-separator SEP    stream.reduce.input.field.separator
  --reduce-output-field-separator SEP   stream.reduce.output.field.separator
A separator is any non-empty text without a line break; `\\t` stands for a
tab. In a local pipe the reducer reads the mapper's output, so give it the
mapper's --map-output-field-separator as its input separator.

Examples:
  LC_ALL=C sort mapped.tsv | mr-local streaming reduce wordcount
  hadoop jar hadoop-streaming.jar -reducer 'mr-local streaming reduce wordcount' ...

Exit status: 0 success, 1 reading or writing failed (or a sum
overflowed), 2 usage error;
",
    signal_statuses!()
);

/// Output buffers this large keep writes few.
const WRITE_BUFFER: usize = 1 << 20;

/// `mr-local streaming ...`.
#[derive(Debug, Subcommand)]
#[command(after_help = STREAMING_HELP)]
pub enum StreamingCommand {
    /// Mapper: raw lines on stdin, key<TAB>value lines on stdout.
    #[command(after_help = MAP_HELP)]
    Map(MapArgs),
    /// Reducer: key<TAB>value lines sorted by key on stdin, key<TAB>value
    /// lines on stdout.
    #[command(after_help = REDUCE_HELP)]
    Reduce(ReduceArgs),
    /// Combiner: the reducer's work, on one map task's output.
    #[command(after_help = REDUCE_HELP)]
    Combine(ReduceArgs),
}

/// The built-in jobs that speak Hadoop Streaming.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum JobArg {
    /// Count words (`mr-local wordcount`).
    Wordcount,
    /// Select lines, without line numbers (`mr-local grep`).
    Grep,
    /// Index words by file (`mr-local invert`).
    Invert,
    /// Sort lines: the identity, sorted by the cluster (`mr-local sort`).
    Sort,
}

/// Options of `mr-local streaming map`.
#[derive(Debug, clap::Args)]
pub struct MapArgs {
    /// The job.
    #[arg(value_enum)]
    pub job: JobArg,

    /// grep: the regular expression (`mr-local grep`'s syntax).
    #[arg(value_name = "PATTERN")]
    pub pattern: Option<String>,

    /// grep: match without regard to case.
    #[arg(short, long)]
    pub ignore_case: bool,

    /// grep: select the lines that do not match.
    #[arg(short = 'v', long)]
    pub invert_match: bool,

    /// invert: the file the words are indexed under [default:
    /// $mapreduce_map_input_file, else $map_input_file, else `-`].
    #[arg(long, value_name = "NAME")]
    pub file: Option<OsString>,

    /// wordcount, invert: what separates words [default: alphanumeric].
    #[arg(long, value_enum)]
    pub split: Option<SplitArg>,

    /// wordcount, invert: keep case instead of lowercasing words.
    #[arg(long)]
    pub case_sensitive: bool,

    /// Worker threads, at most 512 [default: RAYON_NUM_THREADS, else all
    /// cores, at most 512].
    #[arg(long, value_name = "N", value_parser = crate::args::threads_parser())]
    pub threads: Option<u32>,

    /// Bytes of input mapped at a time, e.g. 64M; cut at a newline.
    #[arg(long, value_name = "BYTES", default_value = "64M", value_parser = parse_chunk_size)]
    pub chunk_size: usize,

    /// Between key and value in the output (stream.map.output.field.separator).
    #[arg(long, value_name = "SEP", default_value = "\\t", value_parser = parse_separator)]
    pub map_output_field_separator: Separator,
}

/// Options of `mr-local streaming reduce` and `combine`.
#[derive(Debug, clap::Args)]
pub struct ReduceArgs {
    /// The job.
    #[arg(value_enum)]
    pub job: JobArg,

    /// Between key and value in the input (stream.reduce.input.field.separator).
    #[arg(long, value_name = "SEP", default_value = "\\t", value_parser = parse_separator)]
    pub reduce_input_field_separator: Separator,

    /// Between key and value in the output (stream.reduce.output.field.separator).
    #[arg(long, value_name = "SEP", default_value = "\\t", value_parser = parse_separator)]
    pub reduce_output_field_separator: Separator,
}

fn parse_separator(s: &str) -> Result<Separator, String> {
    let bytes = if s == "\\t" { "\t" } else { s };
    Separator::new(bytes)
        .ok_or_else(|| "a separator must be non-empty, without a line break".into())
}

fn parse_chunk_size(s: &str) -> Result<usize, String> {
    match mr_local::generate::parse_size(s)? {
        0 => Err("the chunk size must be at least 1 byte".to_string()),
        n => usize::try_from(n).map_err(|_| "too large for this machine".to_string()),
    }
}

/// Runs `mr-local streaming ...`.
pub(crate) fn run(command: &StreamingCommand) -> Result<(), Failure> {
    crate::destinations::refuse_stdout_into_stdin()?;
    match command {
        StreamingCommand::Map(args) => map(args),
        StreamingCommand::Reduce(args) | StreamingCommand::Combine(args) => reduce(args),
    }
}

/// Refuses options given to a job they do not apply to, rather than
/// ignore them.
fn check_map_options(args: &MapArgs) -> Result<(), Failure> {
    let job = args.job;
    let misplaced = [
        (args.pattern.is_some(), "PATTERN", job == JobArg::Grep),
        (args.ignore_case, "--ignore-case", job == JobArg::Grep),
        (args.invert_match, "--invert-match", job == JobArg::Grep),
        (args.file.is_some(), "--file", job == JobArg::Invert),
        (
            args.split.is_some(),
            "--split",
            matches!(job, JobArg::Wordcount | JobArg::Invert),
        ),
        (
            args.case_sensitive,
            "--case-sensitive",
            matches!(job, JobArg::Wordcount | JobArg::Invert),
        ),
    ];
    for (given, name, applies) in misplaced {
        if given && !applies {
            let job = job.to_possible_value().expect("no skipped variants");
            return Err(Failure::Usage(format!(
                "{name} does not apply to `streaming map {}`",
                job.get_name()
            )));
        }
    }
    if job == JobArg::Grep && args.pattern.is_none() {
        return Err(Failure::Usage(
            "`streaming map grep` needs a PATTERN".to_string(),
        ));
    }
    Ok(())
}

fn map(args: &MapArgs) -> Result<(), Failure> {
    check_map_options(args)?;
    let mut builder = Job::builder();
    if let Some(n) = args.threads {
        builder.threads(n as usize);
    }
    let job = builder.build()?;
    let mut config = Config::default();
    config.map_output = args.map_output_field_separator.clone();
    config.chunk_size = args.chunk_size;
    let (stdin, stdout, stderr) = (io::stdin().lock(), crate::stdout()?, io::stderr());
    let words = args
        .split
        .unwrap_or(SplitArg::Alphanumeric)
        .word_count(args.case_sensitive);
    match args.job {
        JobArg::Wordcount => {
            let sum = mr_local::jobs::add_count;
            streaming::run_mapper_with(&job, &config, &words, sum, stdin, stdout, stderr)?;
        }
        JobArg::Grep => {
            let pattern = args.pattern.as_deref().unwrap_or_default();
            let pattern =
                Grep::new(pattern, args.ignore_case, args.invert_match).map_err(|err| {
                    Failure::Usage(format!("invalid pattern: {}", one_line(&err.to_string())))
                })?;
            map_grep(&job, &config, &pattern, stdin, stdout, stderr)?;
        }
        JobArg::Invert => {
            let file = input_file_name(args.file.as_ref(), &config.map_output)?;
            map_invert(&job, &config, &words, &file, stdin, stdout, stderr)?;
        }
        JobArg::Sort => {
            streaming::run_identity_mapper(stdin, stdout, stderr)?;
        }
    }
    Ok(())
}

/// Runs `map` on each chunk of `input` (see `Config::chunk_size`), with its
/// offset, then reports the counters it returns and a status line, as the
/// library's `run_mapper` does: best effort.
fn for_each_chunk(
    config: &Config,
    input: impl Read,
    stderr: impl Write,
    mut map: impl FnMut(u64, Vec<u8>) -> Result<Vec<(&'static str, u64)>, Failure>,
) -> Result<(), Failure> {
    let mut chunks = ChunkReader::new(input, config.chunk_size);
    let mut reporter = Reporter::new(stderr);
    while let Some((offset, bytes)) = chunks.next_chunk().map_err(|e| io_failure("<stdin>", e))? {
        let len = bytes.len() as u64;
        for (name, n) in map(offset, bytes)? {
            let _ = reporter.counter(COUNTER_GROUP, name, n);
        }
        let _ = reporter.status(&format!("mapped {} bytes", offset + len));
    }
    Ok(())
}

/// A chunk as the only input of a job, named as the library's streaming
/// mapper names it, so that errors say where the chunk starts.
fn chunk_inputs(offset: u64, bytes: Vec<u8>) -> Inputs {
    let mut inputs = Inputs::new();
    inputs.push_bytes(format!("<stdin> from byte {offset}"), bytes);
    inputs
}

/// `streaming map grep`: the selected lines of each chunk, in order.
fn map_grep(
    job: &Job,
    config: &Config,
    pattern: &Grep,
    input: impl Read,
    output: impl Write,
    stderr: impl Write,
) -> Result<(), Failure> {
    let mut out = BufWriter::with_capacity(WRITE_BUFFER, output);
    let stdout_error = |e| io_failure("<stdout>", e);
    for_each_chunk(config, input, stderr, |offset, bytes| {
        let inputs = chunk_inputs(offset, drop_cr_before_lf(bytes));
        let (matches, counters) = run_grep(job, &inputs, pattern)?;
        for found in &matches {
            out.write_all(found.line).map_err(stdout_error)?;
            out.write_all(b"\n").map_err(stdout_error)?;
        }
        Ok(vec![
            ("map input records", counters.records),
            ("map output records", matches.len() as u64),
        ])
    })?;
    out.flush().map_err(stdout_error)
}

/// The chunk with each `\r\n` made `\n`, and a `\r` ending the input
/// dropped: the lines Hadoop's line reader would have handed the task, as
/// `KeyValueReader` reads them. Chunks end after a `\n` or at the end of
/// the input, so no `\r\n` straddles two, and a chunk ending in `\r` is the
/// last.
fn drop_cr_before_lf(mut bytes: Vec<u8>) -> Vec<u8> {
    if bytes.last() == Some(&b'\r') {
        bytes.pop();
    }
    let finder = memmem::Finder::new(b"\r\n");
    let Some(first) = finder.find(&bytes) else {
        return bytes;
    };
    let mut out = Vec::with_capacity(bytes.len());
    let mut start = 0;
    let mut at = first;
    loop {
        out.extend_from_slice(&bytes[start..at]);
        start = at + 1;
        match finder.find(&bytes[start..]) {
            Some(next) => at = start + next,
            None => break,
        }
    }
    out.extend_from_slice(&bytes[start..]);
    out
}

/// The file `streaming map invert` indexes words under: `--file`, else the
/// variables Hadoop Streaming sets for a map task, else `-`; refused if it
/// would not read back as one file.
fn input_file_name(flag: Option<&OsString>, separator: &Separator) -> Result<Vec<u8>, Failure> {
    let from_env = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    let (name, source) = match flag {
        Some(name) => (name.clone(), "--file"),
        None => match from_env("mapreduce_map_input_file") {
            Some(name) => (name, "$mapreduce_map_input_file"),
            None => match from_env("map_input_file") {
                Some(name) => (name, "$map_input_file"),
                None => (OsString::from("-"), "the default"),
            },
        },
    };
    let name = name.into_encoded_bytes();
    let fault = if name.is_empty() {
        Some("is empty".to_string())
    } else if memchr::memchr2(b'\n', b'\r', &name).is_some() {
        Some("holds a line break".to_string())
    } else if memmem::find(&name, separator.as_bytes()).is_some() {
        let separator = String::from_utf8_lossy(separator.as_bytes());
        Some(format!("holds the separator {separator:?}"))
    } else {
        None
    };
    if let Some(fault) = fault {
        let message = format!(
            "{source}: file name {:?} {fault}: the reducer would not read it back as one file",
            String::from_utf8_lossy(&name),
        );
        return Err(if flag.is_some() {
            Failure::Usage(message)
        } else {
            Failure::Job(message)
        });
    }
    Ok(name)
}

/// `streaming map invert`: `word<SEP>file` for each distinct word of each
/// chunk, words found by word count's engine.
fn map_invert(
    job: &Job,
    config: &Config,
    words: &WordCount,
    file: &[u8],
    input: impl Read,
    output: impl Write,
    stderr: impl Write,
) -> Result<(), Failure> {
    let mut writer = KeyValueWriter::new(output, config.map_output.clone(), 1);
    let stdout_error = |e| io_failure("<stdout>", e);
    for_each_chunk(config, input, stderr, |offset, bytes| {
        let inputs = chunk_inputs(offset, bytes);
        let result = job.map_reduce_with(&inputs, words, mr_local::jobs::add_count)?;
        for (word, _) in result.partitions().iter().flatten() {
            writer.write(word, file).map_err(stdout_error)?;
        }
        let counters = result.counters();
        Ok(vec![
            ("map input records", counters.records),
            ("map output records", counters.map_output_records),
            ("combine output records", result.len() as u64),
        ])
    })?;
    writer.flush().map_err(stdout_error)
}

fn reduce(args: &ReduceArgs) -> Result<(), Failure> {
    let mut config = Config::default();
    config.reduce_input = args.reduce_input_field_separator.clone();
    config.reduce_output = args.reduce_output_field_separator.clone();
    let (stdin, stdout, stderr) = (io::stdin().lock(), crate::stdout()?, io::stderr());
    match args.job {
        JobArg::Wordcount => {
            // The counts come from elsewhere: a sum past u64::MAX fails
            // the task, naming the key, rather than wrap or saturate.
            let sum = |total: &mut u64, n: u64| -> Result<(), mr_local::BoxError> {
                *total = total
                    .checked_add(n)
                    .ok_or_else(|| format!("the counts sum past {}", u64::MAX))?;
                Ok(())
            };
            streaming::try_run_reducer(&config, sum, stdin, stdout, stderr)?;
        }
        JobArg::Grep | JobArg::Sort => {
            streaming::run_identity_reducer(&config, stdin, stdout, stderr)?;
        }
        JobArg::Invert => reduce_invert(&config, stdin, stdout, stderr)?,
    }
    Ok(())
}

/// `streaming reduce invert`: each run of equal keys as one line, its
/// values' files merged into a sorted list without duplicates.
fn reduce_invert(
    config: &Config,
    input: impl Read,
    output: impl Write,
    stderr: impl Write,
) -> Result<(), Failure> {
    let stdin_error = |e| io_failure("<stdin>", e);
    let stdout_error = |e| io_failure("<stdout>", e);
    let mut reader = KeyValueReader::new(
        BufReader::with_capacity(WRITE_BUFFER, input),
        config.reduce_input.clone(),
        1,
    );
    let mut writer = KeyValueWriter::new(output, config.reduce_output.clone(), 1);
    let input_separator = memmem::Finder::new(config.reduce_input.as_bytes());
    let output_separator = config.reduce_output.as_bytes();
    let (mut groups, mut bad_records, mut output_records) = (0u64, 0u64, 0u64);
    let mut files: BTreeSet<Vec<u8>> = BTreeSet::new();
    let mut list = Vec::new();
    while let Some(mut group) = reader.next_group().map_err(stdin_error)? {
        groups += 1;
        files.clear();
        while let Some(value) = group.next_value().map_err(stdin_error)? {
            let mut found = false;
            let mut start = 0;
            let ends = input_separator.find_iter(value).chain([value.len()]);
            for end in ends {
                let file = &value[start..end];
                start = end + config.reduce_input.as_bytes().len();
                if !file.is_empty() {
                    found = true;
                    if !files.contains(file) {
                        files.insert(file.to_vec());
                    }
                }
            }
            bad_records += u64::from(!found);
        }
        if files.is_empty() {
            continue;
        }
        list.clear();
        for file in &files {
            if memmem::find(file, output_separator).is_some() {
                return Err(Failure::Job(format!(
                    "<stdout>: file name {:?} holds the output separator {:?}: \
                     it would not read back as one file",
                    String::from_utf8_lossy(file),
                    String::from_utf8_lossy(output_separator),
                )));
            }
            if !list.is_empty() {
                list.extend_from_slice(output_separator);
            }
            list.extend_from_slice(file);
        }
        writer.write(group.key(), &list[..]).map_err(stdout_error)?;
        output_records += 1;
    }
    writer.flush().map_err(stdout_error)?;
    let mut reporter = Reporter::new(stderr);
    for (name, n) in [
        ("reduce input records", reader.records()),
        ("reduce input groups", groups),
        ("bad records", bad_records),
        ("reduce output records", output_records),
    ] {
        // Best effort, as the library's reducer reports.
        let _ = reporter.counter(COUNTER_GROUP, name, n);
    }
    Ok(())
}
