//! The progress bar: bytes mapped of total, throughput, ETA and the phase,
//! on stderr, only where asked for (`--progress`, by default when stderr is
//! a terminal). The library reports once per split, so the bar costs
//! nothing per record.

use std::cell::Cell;
use std::io::{self, IsTerminal, Write};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle, TermLike};
use mr_local::{JobBuilder, Phase, Progress};

use crate::args::{ProgressArg, ReportArgs};

/// A progress bar, or nothing when none is wanted; and when writing the
/// results started, for `--stats`.
pub(crate) struct Bar {
    bar: Option<ProgressBar>,
    writing: Cell<Option<Instant>>,
}

impl Bar {
    /// A bar for `args`, not yet drawn.
    pub fn new(args: &ReportArgs) -> Bar {
        let show = match args.progress {
            ProgressArg::Always => true,
            ProgressArg::Never => false,
            ProgressArg::Auto => !args.quiet && io::stderr().is_terminal(),
        };
        if !show {
            return Bar {
                bar: None,
                writing: Cell::new(None),
            };
        }
        // A target of our own: indicatif's stderr target hides itself when
        // stderr is not a terminal, and `--progress always` means always.
        let target = ProgressDrawTarget::term_like_with_hz(Box::new(Stderr), 10);
        let bar = ProgressBar::with_draw_target(Some(0), target);
        bar.set_style(
            ProgressStyle::with_template(
                "{prefix:>7} [{bar:30}] {bytes}/{total_bytes} {binary_bytes_per_sec} ETA {eta}",
            )
            .expect("the template is valid")
            .progress_chars("=> "),
        );
        bar.set_prefix("open");
        bar.enable_steady_tick(Duration::from_millis(200));
        Bar {
            bar: Some(bar),
            writing: Cell::new(None),
        }
    }

    /// Makes `builder` report to this bar.
    pub fn attach(&self, builder: &mut JobBuilder) {
        if let Some(bar) = &self.bar {
            let bar = bar.clone();
            builder.progress(move |p: Progress| {
                bar.set_length(p.bytes_total);
                bar.set_position(p.bytes_done);
                if bar.prefix() != phase_name(p.phase) {
                    bar.set_prefix(phase_name(p.phase));
                }
            });
        }
    }

    /// Shows that results are being sorted and written.
    pub fn writing(&self) {
        self.writing.set(Some(Instant::now()));
        if let Some(bar) = &self.bar {
            bar.set_prefix("write");
        }
    }

    /// How long since [`Bar::writing`] was called: zero if it was not.
    pub fn write_time(&self) -> Duration {
        self.writing
            .get()
            .map_or(Duration::ZERO, |since| since.elapsed())
    }

    /// Removes the bar, leaving stderr as it was.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

fn phase_name(phase: Phase) -> &'static str {
    match phase {
        Phase::Map => "map",
        Phase::Shuffle => "shuffle",
        Phase::Reduce => "reduce",
        _ => "run",
    }
}

/// Standard error as a terminal that understands ANSI cursor movement.
#[derive(Debug)]
struct Stderr;

impl Stderr {
    fn write(&self, text: &str) -> io::Result<()> {
        io::stderr().lock().write_all(text.as_bytes())
    }

    /// Moves the cursor `n` places with the ANSI sequence `ESC [ n dir`.
    fn move_cursor(&self, n: usize, direction: char) -> io::Result<()> {
        if n == 0 {
            return Ok(());
        }
        self.write(&format!("\x1b[{n}{direction}"))
    }
}

impl TermLike for Stderr {
    fn width(&self) -> u16 {
        100
    }

    fn move_cursor_up(&self, n: usize) -> io::Result<()> {
        self.move_cursor(n, 'A')
    }

    fn move_cursor_down(&self, n: usize) -> io::Result<()> {
        self.move_cursor(n, 'B')
    }

    fn move_cursor_right(&self, n: usize) -> io::Result<()> {
        self.move_cursor(n, 'C')
    }

    fn move_cursor_left(&self, n: usize) -> io::Result<()> {
        self.move_cursor(n, 'D')
    }

    fn write_line(&self, line: &str) -> io::Result<()> {
        self.write(&format!("{line}\n"))
    }

    fn write_str(&self, text: &str) -> io::Result<()> {
        self.write(text)
    }

    fn clear_line(&self) -> io::Result<()> {
        self.write("\r\x1b[2K")
    }

    fn flush(&self) -> io::Result<()> {
        io::stderr().flush()
    }
}
