//! The `mr-local` command: a thin layer over the library.

#![deny(unsafe_code)]

mod alloc;
#[macro_use]
mod args;
mod bycount;
mod commands;
mod destinations;
mod limits;
mod outdir;
mod parts;
mod pieces;
mod progress;
mod stats;
mod streaming;
mod sys;
mod write;

use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use clap::Parser;

use mr_local::generate::{AccessLogConfig, CorpusConfig};
use mr_local::output::AtomicFile;
use mr_local::{Counters, Inputs, Job};

use args::{Args, Command, EngineArgs, GenerateArgs, KindArg, ReportArgs, WordcountArgs};
use destinations::Destinations;

/// Running out of memory is one line and exit 1, not an abort.
#[global_allocator]
static ALLOCATOR: alloc::ExitOnOom = alloc::ExitOnOom;

/// Exit status of a job that failed.
const EXIT_FAILURE: u8 = 1;
/// Exit status of a usage error (clap uses it too).
const EXIT_USAGE: u8 = 2;

/// Why a run stopped early.
pub(crate) enum Failure {
    /// The reader of stdout went away: not an error for a Unix filter.
    BrokenPipe,
    /// The arguments make no sense together.
    Usage(String),
    /// The job failed.
    Job(String),
}

impl From<mr_local::Error> for Failure {
    fn from(err: mr_local::Error) -> Failure {
        let is_pipe = matches!(
            err.kind(),
            mr_local::ErrorKind::Io { err, .. } if err.kind() == io::ErrorKind::BrokenPipe
        );
        if is_pipe {
            Failure::BrokenPipe
        } else {
            Failure::Job(err.to_string())
        }
    }
}

/// Set by the signal thread before it removes the temporary files.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Set in the signal handler itself, as the signal arrives, before the
/// signal thread (which may not have run yet) takes it: a run that
/// finishes just after must still end with the signal's status.
static CAUGHT: std::sync::OnceLock<std::sync::Arc<AtomicBool>> = std::sync::OnceLock::new();

/// True once a signal has arrived (see [`handle_signals`]).
fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst) || CAUGHT.get().is_some_and(|c| c.load(Ordering::SeqCst))
}

fn main() -> ExitCode {
    sys::return_freed_memory();
    let args = Args::parse();
    handle_signals();
    limits::raise_open_files_limit();
    let result = match &args.command {
        Command::Wordcount(args) => wordcount(args),
        Command::Grep(args) => commands::grep(args),
        Command::Invert(args) => commands::invert(args),
        Command::Sort(args) => commands::sort(args),
        Command::Generate(args) => generate(args),
        Command::Streaming(command) => streaming::run(command),
        Command::Completions { shell } => completions(*shell),
    };
    if interrupted() {
        // The handler is removing the job's files, maybe under it (which is
        // why it failed, if it did: no error to report), and a commit that
        // came first was still interrupted. Let the handler end the
        // process, with the interrupted status, never 0.
        loop {
            std::thread::park();
        }
    }
    match result {
        Ok(()) | Err(Failure::BrokenPipe) => ExitCode::SUCCESS,
        Err(Failure::Usage(message)) => {
            eprintln!("mr-local: {message}");
            ExitCode::from(EXIT_USAGE)
        }
        Err(Failure::Job(message)) => {
            eprintln!("mr-local: {message}");
            ExitCode::from(EXIT_FAILURE)
        }
    }
}

/// On SIGINT (Ctrl-C), SIGTERM or SIGHUP, removes the temporary output
/// files and spill directories, then exits with 128 + the signal's number
/// (130, 143, 129), as a shell reports a process the signal ended; an
/// interrupted run leaves nothing half-written. The signals are taken on a
/// thread of their own (signal-hook's self-pipe), where removing files is
/// safe. If the handler cannot be installed, the default action still ends
/// the process.
fn handle_signals() {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};

    let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP]) else {
        return;
    };
    let caught = CAUGHT.get_or_init(Default::default);
    for signal in [SIGINT, SIGTERM, SIGHUP] {
        let _ = signal_hook::flag::register(signal, std::sync::Arc::clone(caught));
    }
    let spawned = std::thread::Builder::new()
        .name("mr-local-signals".to_string())
        .spawn(move || {
            if let Some(signal) = signals.forever().next() {
                INTERRUPTED.store(true, Ordering::SeqCst);
                mr_local::output::remove_temporary_files();
                std::process::exit(128 + signal);
            }
        });
    if let Err(e) = spawned {
        // The signals are taken from their default action now: without the
        // thread, Ctrl-C would do nothing, so the run does not start.
        eprintln!("mr-local: cannot start the thread that handles signals: {e}");
        std::process::exit(i32::from(EXIT_FAILURE));
    }
}

fn wordcount(args: &WordcountArgs) -> Result<(), Failure> {
    let command = JobCommand {
        files: &args.files,
        engine: &args.engine,
        report: &args.report,
        destinations: args.output.destinations(),
    };
    let words = args.word_count();
    command.run(|job, inputs, bar| {
        let run = job.map_with(inputs, &words).spill().streamed();
        write::count_words(&args.output, job, run, bar)
    })
}

/// What every job command shares: its inputs, engine settings, reports
/// and outputs (besides `--stats-json`, which `report` holds).
pub(crate) struct JobCommand<'a> {
    pub files: &'a [PathBuf],
    pub engine: &'a EngineArgs,
    pub report: &'a ReportArgs,
    pub destinations: Destinations<'a>,
}

impl args::JobArgs {
    /// The command these arguments describe.
    pub(crate) fn command(&self) -> JobCommand<'_> {
        JobCommand {
            files: &self.files,
            engine: &self.engine,
            report: &self.report,
            destinations: Destinations::default().output(self.output.as_deref()),
        }
    }
}

impl JobCommand<'_> {
    /// Opens the inputs, checks the destinations against them and builds
    /// the job, with a progress bar, then runs `job` (which runs the job
    /// and writes its output, calling `Bar::writing` between the two) and
    /// reports the counters it returns.
    pub fn run(
        &self,
        job: impl FnOnce(&Job, &Inputs, &progress::Bar) -> Result<Counters, Failure>,
    ) -> Result<(), Failure> {
        let started = Instant::now();
        let files = input_paths(self.files)?;
        let bar = progress::Bar::new(self.report);
        let mut builder = self.engine.job_builder();
        bar.attach(&mut builder);
        let built = builder.build()?;
        let result = (|| -> Result<_, Failure> {
            let inputs = Inputs::open(&files, &self.engine.input_options())?;
            self.destinations
                .clone()
                .file(self.report.stats_json.as_deref(), "--stats-json")
                .check(&inputs)?;
            let counters = job(&built, &inputs, &bar)?;
            Ok((counters, bar.write_time()))
        })();
        bar.finish();
        let (counters, write) = result?;
        stats::report(
            self.report,
            &counters,
            &stats::Timings {
                threads: built.threads(),
                write,
                total: started.elapsed(),
            },
        )
    }
}

fn generate(args: &GenerateArgs) -> Result<(), Failure> {
    if !(args.zipf.is_finite() && args.zipf > 0.0) {
        return Err(Failure::Usage(format!(
            "--zipf {}: must be a positive number",
            args.zipf
        )));
    }
    let only_for =
        |flag: &str, kind: &str| Err(Failure::Usage(format!("{flag} is only for --kind {kind}")));
    Destinations::default()
        .output(args.output.as_deref())
        .check(&Inputs::new())?;
    match args.kind {
        KindArg::Text => {
            if args.sites.is_some() {
                return only_for("--sites", "access-log");
            }
            if args.malformed.is_some() {
                return only_for("--malformed", "access-log");
            }
            let config = CorpusConfig {
                seed: args.seed,
                vocabulary: args
                    .vocabulary
                    .map_or(100_000, |n| usize::try_from(n).unwrap_or(usize::MAX)),
                zipf_exponent: args.zipf,
            };
            write_output(args.output.as_deref(), |out| {
                config.write_corpus(args.size, out)
            })
        }
        KindArg::AccessLog => {
            if args.vocabulary.is_some() {
                return only_for("--vocabulary", "text");
            }
            let malformed = args.malformed.unwrap_or(0.01);
            if !(0.0..=1.0).contains(&malformed) {
                return Err(Failure::Usage(format!(
                    "--malformed {malformed}: must be between 0 and 1"
                )));
            }
            let config = AccessLogConfig {
                seed: args.seed,
                sites: args.sites.map_or(1000, |n| n as usize),
                zipf_exponent: args.zipf,
                malformed,
            };
            write_output(args.output.as_deref(), |out| {
                config.write_access_log(args.size, out)
            })
        }
    }
}

/// The inputs to open: the given paths, or stdin when none are given and
/// stdin is not a terminal.
fn input_paths(files: &[PathBuf]) -> Result<Vec<PathBuf>, Failure> {
    if !files.is_empty() {
        return Ok(files.to_vec());
    }
    if io::stdin().is_terminal() {
        return Err(Failure::Usage(
            "no input files (give paths, or pipe data to stdin)".to_string(),
        ));
    }
    Ok(vec![PathBuf::from("-")])
}

/// Standard output, locked: what every command writes its stdout through.
///
/// # Errors
///
/// An I/O error if the process started with stdout closed (`>&-`), which
/// would otherwise swallow the output without a word (see
/// `sys::stdout_was_closed`).
pub(crate) fn stdout() -> Result<io::StdoutLock<'static>, Failure> {
    if sys::stdout_was_closed() {
        let closed = io::Error::from_raw_os_error(libc::EBADF);
        return Err(io_failure("<stdout>", closed));
    }
    Ok(io::stdout().lock())
}

/// Runs `write` on a buffered stdout, or on an atomic file at `path`.
pub(crate) fn write_output(
    path: Option<&Path>,
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> Result<(), Failure> {
    match path {
        None => {
            let stdout = stdout()?;
            let mut out = io::BufWriter::with_capacity(1 << 16, stdout);
            write(&mut out)
                .and_then(|()| out.flush())
                .map_err(|e| io_failure("<stdout>", e))
        }
        Some(path) => {
            let mut file = AtomicFile::create(path)?;
            write(&mut file).map_err(|e| io_failure(path, e))?;
            Ok(file.commit()?)
        }
    }
}

pub(crate) fn io_failure(path: impl AsRef<Path>, err: io::Error) -> Failure {
    Failure::from(mr_local::Error::io(path.as_ref(), err))
}

fn completions(shell: args::ShellArg) -> Result<(), Failure> {
    use clap_complete::Shell;

    let shell = match shell {
        args::ShellArg::Bash => Shell::Bash,
        args::ShellArg::Zsh => Shell::Zsh,
        args::ShellArg::Fish => Shell::Fish,
    };
    let mut command = <args::Args as clap::CommandFactory>::command();
    // clap_complete panics when it cannot write, a closed pipe included, so
    // the script is rendered in memory and written where errors are ours.
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, "mr-local", &mut script);
    write_output(None, |out| out.write_all(&script))
}
