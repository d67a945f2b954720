//! Command-line arguments: clap's derive types, and their conversion into
//! the library's settings. clap types never reach the library.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

use mr_local::jobs::wordcount::{WordCount, WordSplit};
use mr_local::{InputOptions, JobBuilder, MmapChoice, ShuffleStrategy};

const AFTER_HELP: &str = "\
Exit status:
  0  success (also when the reader of stdout goes away, as with `| head`)
  1  the job failed: an input or output could not be read or written
     (stdout included, when closed or full), or a compressed input is
     corrupt, cut short or followed by garbage
  2  usage error: an unknown flag or an invalid value, or an output that
     would replace an input or another output of the run
  129  hung up (SIGHUP)
  130  interrupted (Ctrl-C, SIGINT)
  143  terminated (SIGTERM)
On 129, 130 and 143, temporary output files and spill runs are removed first.";

/// The exit statuses of the signals, which every subcommand's help lists
/// after its own (a macro, for `concat!`).
macro_rules! signal_statuses {
    () => {
        "129, 130, 143 ended by SIGHUP, SIGINT (Ctrl-C), SIGTERM (temporary output
files and spill runs are removed first)."
    };
}

/// A high-throughput, single-machine MapReduce engine.
#[derive(Debug, Parser)]
#[command(name = "mr-local", version, about, after_help = AFTER_HELP)]
pub struct Args {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Count words: prints `word<TAB>count`, most frequent first.
    #[command(after_help = WORDCOUNT_HELP)]
    Wordcount(WordcountArgs),
    /// Print the lines that match a regular expression as `path:line:text`,
    /// like `grep -Hn`, in input order.
    #[command(after_help = GREP_HELP)]
    Grep(GrepArgs),
    /// Build an inverted index: each word with the files that contain it.
    #[command(after_help = INVERT_HELP)]
    Invert(InvertArgs),
    /// Sort lines bytewise, like `LC_ALL=C sort`, in parallel.
    #[command(after_help = SORT_HELP)]
    Sort(SortArgs),
    /// Write a deterministic English-like corpus with Zipf-distributed words.
    #[command(after_help = GENERATE_HELP)]
    Generate(GenerateArgs),
    /// Run a built-in job as a Hadoop Streaming mapper, combiner or reducer.
    #[command(subcommand)]
    Streaming(crate::streaming::StreamingCommand),
    /// Print a shell completion script for bash, zsh or fish.
    #[command(after_help = COMPLETIONS_HELP)]
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: ShellArg,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ShellArg {
    Bash,
    Zsh,
    Fish,
}

const WORDCOUNT_HELP: &str = concat!(
    "\
Examples:
  mr-local wordcount datasets/sample.txt --top 10
  mr-local wordcount --split whitespace -o counts.tsv big.txt
  cat *.txt | mr-local wordcount
  mr-local wordcount -r corpus/ --threads 4

A word is a maximal run of alphanumeric characters (char::is_alphanumeric),
lowercased with full Unicode lowercasing; bytes that are not valid UTF-8
separate words. With --split whitespace, a word is a maximal run of bytes
that are not whitespace characters: bytes that are not valid UTF-8 belong to
it (written as they are in TSV, as U+FFFD in CSV and JSON), and its valid
pieces are lowercased. Output is sorted by count descending, then by word
(bytewise).

Regular files are memory-mapped by default. If another process truncates a
file while it is mapped, the process is killed by SIGBUS: use --no-mmap for
inputs that may change while mr-local runs (one that shrinks while it is read
fails the job). Stdin, pipes, empty files and files that report a size of 0
(as /proc does) are always read, never mapped; what is not mapped is read in
chunks as it is counted, so memory does not grow with it.

Inputs compressed with gzip, zstd, bzip2 or xz are decoded, told by their
first bytes, not their names (--no-decompress reads them as they are); one
of several members or frames (concatenated .gz files, say) is decoded on
all threads, from --threads 3.

Exit status: 0 success, 1 the job failed, 2 usage error;
",
    signal_statuses!()
);

const GREP_HELP: &str = concat!(
    "\
Examples:
  mr-local grep 'whale|Ahab' moby-dick.txt
  mr-local grep -i -r 'error [0-9]+' logs/ -o errors.txt

PATTERN uses the regex crate's syntax (https://docs.rs/regex), close to
grep -E: `^` and `$` match at each line's start and end. A line is the bytes
between two newlines; a carriage return before a newline belongs to the line,
as with grep. Lines print in input order, files in the order given.

Exit status: 0 success (with or without matches), 1 the job failed, 2 usage
error (an invalid pattern included);
",
    signal_statuses!()
);

const INVERT_HELP: &str = concat!(
    "\
Examples:
  mr-local invert ../shared/datasets/udhr/*.txt
  mr-local invert -r docs/ --format json -o index.jsonl

Words are found and folded as by `mr-local wordcount` (--split,
--case-sensitive). Output is one line per word, in word order (bytewise):
`word<TAB>file<TAB>file...` with files in the order they were given, or with
--format json, `{\"word\": ..., \"files\": [...]}`. A file name holding a
TAB or a line break is refused in TSV (exit 2); JSON quotes it.

Exit status: 0 success, 1 the job failed, 2 usage error;
",
    signal_statuses!()
);

const SORT_HELP: &str = concat!(
    "\
Examples:
  mr-local sort big.txt -o sorted.txt
  cat a.txt b.txt | mr-local sort -u

Lines are compared byte by byte, as `LC_ALL=C sort` does; the output is the
same. Lines are split among partitions by key ranges chosen from a sample of
the input, each partition is sorted in parallel, and the partitions are
written one after the other. Unlike sort(1), -o never names an input (nor
the file stdin is redirected from): sorting in place is refused (exit 2).

Exit status: 0 success, 1 the job failed, 2 usage error;
",
    signal_statuses!()
);

const COMPLETIONS_HELP: &str = concat!(
    "\
Examples:
  mr-local completions bash > ~/.local/share/bash-completion/completions/mr-local
  mr-local completions zsh > ~/.zfunc/_mr-local
  mr-local completions fish > ~/.config/fish/completions/mr-local.fish

Exit status: 0 success, 2 usage error;
",
    signal_statuses!()
);

const GENERATE_HELP: &str = concat!(
    "\
Examples:
  mr-local generate --size 1G -o datasets/generated/zipf-1g.txt
  mr-local generate --size 2M --seed 7 | mr-local wordcount --top 5
  mr-local generate --kind access-log --size 100M --sites 5000 -o access.log

The same options always give the same bytes.

Exit status: 0 success, 1 the output could not be written, 2 usage error;
",
    signal_statuses!()
);

/// Options of `mr-local wordcount`.
#[derive(Debug, clap::Args)]
pub struct WordcountArgs {
    /// Input files; `-` is stdin. With none, reads stdin.
    pub files: Vec<PathBuf>,

    /// What separates words.
    #[arg(long, value_enum, default_value_t = SplitArg::Alphanumeric)]
    pub split: SplitArg,

    /// Keep case instead of lowercasing words.
    #[arg(long)]
    pub case_sensitive: bool,

    #[command(flatten)]
    pub output: OutputArgs,

    #[command(flatten)]
    pub engine: EngineArgs,

    #[command(flatten)]
    pub report: ReportArgs,
}

/// Options of `mr-local grep`.
#[derive(Debug, clap::Args)]
pub struct GrepArgs {
    /// The regular expression.
    pub pattern: String,

    /// Match without regard to case.
    #[arg(short, long)]
    pub ignore_case: bool,

    /// Print the lines that do not match.
    #[arg(short = 'v', long)]
    pub invert_match: bool,

    #[command(flatten)]
    pub job: JobArgs,
}

/// Options of `mr-local invert`.
#[derive(Debug, clap::Args)]
pub struct InvertArgs {
    /// What separates words.
    #[arg(long, value_enum, default_value_t = SplitArg::Alphanumeric)]
    pub split: SplitArg,

    /// Keep case instead of lowercasing words.
    #[arg(long)]
    pub case_sensitive: bool,

    /// Output format.
    #[arg(long, value_enum, default_value_t = IndexFormatArg::Tsv)]
    pub format: IndexFormatArg,

    #[command(flatten)]
    pub job: JobArgs,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum IndexFormatArg {
    /// `word<TAB>file<TAB>file...` lines.
    Tsv,
    /// JSON Lines: `{"word": ..., "files": [...]}` per line.
    Json,
}

/// Options of `mr-local sort`. As in sort(1), `-r` is `--reverse`, so
/// `--recursive` has no short flag here.
#[derive(Debug, clap::Args)]
#[command(mut_arg("recursive", |arg| arg.short(None)))]
pub struct SortArgs {
    /// Print each distinct line once.
    #[arg(short, long)]
    pub unique: bool,

    /// Sort in decreasing order.
    #[arg(short, long)]
    pub reverse: bool,

    #[command(flatten)]
    pub job: JobArgs,
}

/// What `grep`, `invert` and `sort` take besides their own options: inputs,
/// an output file, engine settings and reports.
#[derive(Debug, clap::Args)]
pub struct JobArgs {
    /// Input files; `-` is stdin. With none, reads stdin.
    pub files: Vec<PathBuf>,

    /// Write to FILE (atomically: a failed run leaves no file) instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    #[command(flatten)]
    pub engine: EngineArgs,

    #[command(flatten)]
    pub report: ReportArgs,
}

/// Where and how results are written.
#[derive(Debug, clap::Args)]
pub struct OutputArgs {
    /// Print only the first N records (the N most frequent words with the default sort).
    #[arg(long, value_name = "N", conflicts_with = "output_dir")]
    pub top: Option<usize>,

    /// Write to FILE (atomically: a failed run leaves no file) instead of stdout.
    #[arg(short, long, value_name = "FILE", conflicts_with = "output_dir")]
    pub output: Option<PathBuf>,

    /// Write one file per partition, DIR/part-00000 ..., each sorted on its own,
    /// then an empty DIR/_SUCCESS. DIR is created if missing; an existing DIR
    /// must be empty. The parts are written beside DIR and put in its place at
    /// the end, so DIR holds one run's whole output or what it held before.
    /// A DIR that cannot be replaced (a mount point, a parent not writable, the
    /// current directory or one above it) is written in place instead, locked
    /// (a second run into it fails, exit 1), with _SUCCESS written last.
    #[arg(long, value_name = "DIR")]
    pub output_dir: Option<PathBuf>,

    /// With --output-dir: replace the part-* and _SUCCESS files of an earlier run
    /// (DIR must hold nothing else).
    #[arg(long, requires = "output_dir")]
    pub force: bool,

    /// Output format.
    #[arg(long, value_enum, default_value_t = FormatArg::Tsv)]
    pub format: FormatArg,

    /// Output order: count descending (ties by key), key ascending, or none
    /// (partition after partition, unsorted: the fastest). count must see
    /// every count first: it keeps up to half of --memory of the result, sorts
    /// the rest in runs under --tmp-dir and merges them (with --top N, it
    /// keeps N per partition); key, none and --output-dir write the result
    /// partition by partition.
    #[arg(long, value_enum, default_value_t = SortArg::Count)]
    pub sort: SortArg,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    /// `key<TAB>count` lines.
    Tsv,
    /// `word,count` with a header line; fields quoted as RFC 4180 requires.
    Csv,
    /// JSON Lines: `{"word": ..., "count": ...}` per line.
    Json,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SortArg {
    /// Count descending, then key ascending (bytewise).
    Count,
    /// Key ascending (bytewise).
    Key,
    /// No order: partitions in turn.
    None,
}

/// Progress, statistics and messages on stderr.
#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// Show a progress bar on stderr: auto shows it when stderr is a terminal.
    #[arg(long, value_enum, default_value_t = ProgressArg::Auto)]
    pub progress: ProgressArg,

    /// Print nothing on stderr but errors.
    #[arg(short, long)]
    pub quiet: bool,

    /// Print the job's counters on stderr when it ends.
    #[arg(long)]
    pub stats: bool,

    /// Write the job's counters as JSON to FILE; `-` is stdout, if the output
    /// goes to -o or --output-dir.
    #[arg(long, value_name = "FILE")]
    pub stats_json: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ProgressArg {
    Auto,
    Always,
    Never,
}

/// Options shared by every job.
#[derive(Debug, clap::Args)]
pub struct EngineArgs {
    /// Worker threads, at most 512 [default: RAYON_NUM_THREADS, else all
    /// cores, at most 512].
    #[arg(long, value_name = "N", value_parser = crate::args::threads_parser())]
    pub threads: Option<u32>,

    /// Partitions, which is also the number of reduce tasks, at most 65536
    /// [default: 4 per thread].
    #[arg(long, value_name = "R", value_parser = crate::args::partitions_parser())]
    pub partitions: Option<u32>,

    /// Target size of a map task's split, e.g. 4M [default: from the input size].
    #[arg(long, value_name = "BYTES", value_parser = parse_split_size)]
    pub split_size: Option<usize>,

    /// How map output reaches the reducers.
    #[arg(long, value_name = "NAME", default_value = "lockfree", value_parser = parse_shuffle)]
    pub shuffle: ShuffleStrategy,

    /// Read the files inside directories given as inputs.
    // `sort` takes the short flag away: there `-r` is `--reverse`.
    #[arg(short, long)]
    pub recursive: bool,

    /// Read every file instead of memory-mapping large regular files.
    #[arg(long)]
    pub no_mmap: bool,

    /// Read gzip, zstd, bzip2 and xz inputs (told by their first bytes, not
    /// their names) as the compressed bytes they are, not decoded.
    #[arg(long)]
    pub no_decompress: bool,

    /// Memory for intermediate data, e.g. 2G; past it, map output is spilled
    /// to sorted runs on disk and merged back [default: half of physical memory].
    #[arg(long, value_name = "BYTES", value_parser = parse_memory)]
    pub memory: Option<usize>,

    /// Where spill runs go (in a directory of their own, removed at the end)
    /// [default: $TMPDIR, else /tmp].
    #[arg(long, value_name = "DIR")]
    pub tmp_dir: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SplitArg {
    /// Runs of alphanumeric characters.
    #[value(alias = "alnum")]
    Alphanumeric,
    /// Runs of non-whitespace bytes, punctuation and invalid UTF-8 kept.
    Whitespace,
}

/// Options of `mr-local generate`.
#[derive(Debug, clap::Args)]
pub struct GenerateArgs {
    /// What to write: English-like text, or web-server access logs.
    #[arg(long, value_enum, default_value_t = KindArg::Text)]
    pub kind: KindArg,

    /// How much to write, e.g. 100M or 1G (binary units). Access logs stop
    /// at the last whole line that fits.
    #[arg(long, value_name = "BYTES", value_parser = parse_size)]
    pub size: u64,

    /// Seed of the pseudo-random generator.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,

    /// Text: number of distinct base words [default: 100000].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub vocabulary: Option<u64>,

    /// Access logs: number of distinct sites [default: 1000].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=1 << 20))]
    pub sites: Option<u64>,

    /// Access logs: fraction of malformed lines, 0 to 1 [default: 0.01].
    #[arg(long, value_name = "F")]
    pub malformed: Option<f64>,

    /// Exponent of the Zipf distribution of word ranks, or of the sites'
    /// popularity.
    #[arg(long, value_name = "S", default_value_t = 1.1)]
    pub zipf: f64,

    /// Write to FILE (atomically) instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum KindArg {
    /// English-like prose with Zipf-distributed words.
    Text,
    /// Apache `vhost_combined` access-log lines, sites with a Zipf
    /// popularity, some lines malformed.
    AccessLog,
}

/// `--threads`: 1 to [`mr_local::MAX_THREADS`], which the help states.
/// `--partitions`: 1 to [`mr_local::MAX_PARTITIONS`].
pub(crate) fn partitions_parser() -> clap::builder::RangedI64ValueParser<u32> {
    const _: () = assert!(
        mr_local::MAX_PARTITIONS == 65536,
        "update --partitions' help"
    );
    clap::value_parser!(u32).range(1..=mr_local::MAX_PARTITIONS as i64)
}

pub(crate) fn threads_parser() -> clap::builder::RangedI64ValueParser<u32> {
    const _: () = assert!(mr_local::MAX_THREADS == 512, "update --threads' help");
    clap::value_parser!(u32).range(1..=mr_local::MAX_THREADS as i64)
}

fn parse_size(s: &str) -> Result<u64, String> {
    mr_local::generate::parse_size(s)
}

fn parse_split_size(s: &str) -> Result<usize, String> {
    match parse_size(s)? {
        0 => Err("the split size must be at least 1 byte".to_string()),
        n => usize::try_from(n).map_err(|_| "too large for this machine".to_string()),
    }
}

fn parse_memory(s: &str) -> Result<usize, String> {
    usize::try_from(parse_size(s)?).map_err(|_| "too large for this machine".to_string())
}

fn parse_shuffle(s: &str) -> Result<ShuffleStrategy, String> {
    ShuffleStrategy::from_name(s).ok_or_else(|| {
        let names: Vec<_> = ShuffleStrategy::all()
            .iter()
            .map(ShuffleStrategy::name)
            .collect();
        format!("unknown strategy (choose from: {})", names.join(", "))
    })
}

impl EngineArgs {
    pub fn job_builder(&self) -> JobBuilder {
        let mut builder = mr_local::Job::builder();
        if let Some(n) = self.threads {
            builder.threads(n as usize);
        }
        if let Some(n) = self.partitions {
            builder.partitions(n as usize);
        }
        if let Some(n) = self.split_size {
            builder.split_size(n);
        }
        builder.shuffle(self.shuffle);
        if let Some(bytes) = self.memory {
            builder.memory(bytes);
        }
        if let Some(dir) = &self.tmp_dir {
            builder.tmp_dir(dir);
        }
        builder
    }

    #[allow(unsafe_code)]
    pub fn input_options(&self) -> InputOptions {
        // Stdin, pipes and files not mapped are read as they are mapped, in
        // chunks, so that memory does not grow with them.
        let options = InputOptions::default()
            .recursive(self.recursive)
            .stream(true)
            .decompress(!self.no_decompress);
        if self.no_mmap {
            return options;
        }
        // SAFETY: mapping is the CLI's default because it is what makes
        // large inputs fast. What could go wrong: if another process
        // truncates an input while it is mapped, reading the lost pages
        // raises SIGBUS and kills this process; if it rewrites one, the
        // counts may mix old and new bytes. Nothing unsound can happen
        // beyond that, since we never write through the map. `--help`
        // documents the risk and `--no-mmap` avoids it; stdin, pipes and
        // other non-regular files are never mapped.
        options.mmap(unsafe { MmapChoice::auto() })
    }
}

impl SplitArg {
    pub fn word_count(self, case_sensitive: bool) -> WordCount {
        let split = match self {
            SplitArg::Alphanumeric => WordSplit::Alphanumeric,
            SplitArg::Whitespace => WordSplit::Whitespace,
        };
        WordCount {
            split,
            case_sensitive,
        }
    }
}

impl WordcountArgs {
    pub fn word_count(&self) -> WordCount {
        self.split.word_count(self.case_sensitive)
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// clap checks the definitions (unique short flags included) only when
    /// a command is built: check every subcommand here, not only those
    /// the CLI tests happen to run.
    #[test]
    fn the_clap_definitions_are_consistent() {
        super::Args::command().debug_assert();
    }
}
