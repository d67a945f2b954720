//! `mr-local streaming map|combine|reduce JOB`: the built-in jobs as Hadoop
//! Streaming mappers, combiners and reducers, over stdin and stdout.
//!
//! Adding a job is one variant of [`JobArg`] and one arm in each of
//! [`map`] and [`reduce`]; the plumbing is the library's
//! `mr_local::streaming`.

use std::io;

use clap::{Subcommand, ValueEnum};

use mr_local::jobs::wordcount::{WordCount, WordSplit};
use mr_local::streaming::{self, Config, Separator};
use mr_local::Job;

use crate::args::SplitArg;
use crate::Failure;

const STREAMING_HELP: &str = "\
Hadoop Streaming's contract: the mapper reads raw input lines on stdin and
writes key<TAB>value lines; the cluster sorts them by key (bytewise) and
hands each reducer key<TAB>value lines with equal keys consecutive; the
reducer (or combiner) writes key<TAB>value lines. Counters go to stderr as
reporter:counter:mr-local,NAME,N lines, status as reporter:status:MESSAGE.

Locally, a cluster is a pipe:
  cat input | mr-local streaming map wordcount | LC_ALL=C sort \\
    | mr-local streaming reduce wordcount
prints what `mr-local wordcount --sort key input` prints, byte for byte.

Exit status: 0 success (also when the reader of stdout goes away),
1 reading or writing failed, 2 usage error.";

const MAP_HELP: &str = "\
Reads stdin in chunks of whole lines (--chunk-size) and runs the parallel
engine on each, as `mr-local wordcount` would, with the same options
(--split, --case-sensitive, --threads): counts are combined within each
chunk before they are written, in no particular order.

Separators, after Hadoop's properties (-D NAME=VALUE):
  --map-output-field-separator SEP   stream.map.output.field.separator
A separator is any non-empty text without a line break; `\\t` stands for a
tab. A word holding the separator (a comma, with --split whitespace and
--map-output-field-separator ,) would be cut short on the cluster, so it
fails the mapper instead. Word count's key is one field: leave
stream.num.map.output.key.fields at 1.

Examples:
  mr-local streaming map wordcount < book.txt
  hadoop jar hadoop-streaming.jar -mapper 'mr-local streaming map wordcount' ...

Exit status: 0 success, 1 reading or writing failed (or a word holds the
separator), 2 usage error.";

const REDUCE_HELP: &str = "\
Reads key<SEP>value lines, sums the counts of each run of equal keys (the
input must be sorted or grouped by key, as the cluster's shuffle leaves it)
and writes one key<SEP>count line per run, in input order.

Lines follow Hadoop's rules: a line ends at \\n (a \\r before it is dropped);
it is cut at the first separator; a line without one is all key with an
empty value; the empty line is an empty key; keys are bytes, UTF-8 or not.
A value that is not a count (an empty value included) is a bad record: it
is skipped and counted (reporter:counter:mr-local,bad records,N), never an
error. `combine` does the same, for use as a combiner.

Separators, after Hadoop's properties (-D NAME=VALUE):
  --reduce-input-field-separator SEP    stream.reduce.input.field.separator
  --reduce-output-field-separator SEP   stream.reduce.output.field.separator
A separator is any non-empty text without a line break; `\\t` stands for a
tab. In a local pipe the reducer reads the mapper's output, so give it the
mapper's --map-output-field-separator as its input separator.

Examples:
  LC_ALL=C sort mapped.tsv | mr-local streaming reduce wordcount
  hadoop jar hadoop-streaming.jar -reducer 'mr-local streaming reduce wordcount' ...

Exit status: 0 success, 1 reading or writing failed, 2 usage error.";

/// `mr-local streaming ...`.
#[derive(Debug, Subcommand)]
#[command(after_help = STREAMING_HELP)]
pub enum StreamingCommand {
    /// Mapper: raw lines on stdin, key<TAB>value lines on stdout.
    #[command(after_help = MAP_HELP)]
    Map(MapArgs),
    /// Reducer: key<TAB>value lines sorted by key on stdin, one
    /// key<TAB>value line per key on stdout.
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
}

/// Options of `mr-local streaming map`.
#[derive(Debug, clap::Args)]
pub struct MapArgs {
    /// The job.
    #[arg(value_enum)]
    pub job: JobArg,

    /// Word count: what separates words.
    #[arg(long, value_enum, default_value_t = SplitArg::Alphanumeric)]
    pub split: SplitArg,

    /// Word count: keep case instead of lowercasing words.
    #[arg(long)]
    pub case_sensitive: bool,

    /// Worker threads [default: RAYON_NUM_THREADS, else all cores].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
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
    match command {
        StreamingCommand::Map(args) => map(args),
        StreamingCommand::Reduce(args) | StreamingCommand::Combine(args) => reduce(args),
    }
}

fn map(args: &MapArgs) -> Result<(), Failure> {
    let mut builder = Job::builder();
    if let Some(n) = args.threads {
        builder.threads(n as usize);
    }
    let job = builder.build()?;
    let mut config = Config::default();
    config.map_output = args.map_output_field_separator.clone();
    config.chunk_size = args.chunk_size;
    let (stdin, stdout, stderr) = (io::stdin().lock(), io::stdout().lock(), io::stderr());
    match args.job {
        JobArg::Wordcount => {
            let words = WordCount {
                split: word_split(args.split),
                case_sensitive: args.case_sensitive,
            };
            let sum = |total: &mut u64, n| *total += n;
            streaming::run_mapper_with(&job, &config, &words, sum, stdin, stdout, stderr)?;
        }
    }
    Ok(())
}

/// `--split` as `mr-local wordcount` reads it.
fn word_split(split: SplitArg) -> WordSplit {
    match split {
        SplitArg::Alphanumeric => WordSplit::Alphanumeric,
        SplitArg::Whitespace => WordSplit::Whitespace,
    }
}

fn reduce(args: &ReduceArgs) -> Result<(), Failure> {
    let mut config = Config::default();
    config.reduce_input = args.reduce_input_field_separator.clone();
    config.reduce_output = args.reduce_output_field_separator.clone();
    let (stdin, stdout, stderr) = (io::stdin().lock(), io::stdout().lock(), io::stderr());
    match args.job {
        JobArg::Wordcount => {
            // Saturates rather than wraps: no input of this world sums past
            // u64::MAX, but a malicious one could try.
            let sum = |total: &mut u64, n: u64| *total = total.saturating_add(n);
            streaming::run_reducer(&config, sum, stdin, stdout, stderr)?;
        }
    }
    Ok(())
}
