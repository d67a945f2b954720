//! Helpers for the CLI tests: a temporary directory removed on drop, a
//! wrapper around the built `mr-local` binary, and the location of the
//! shared datasets.
//!
//! Modelled on ripgrep's `tests/util.rs`.

use std::ffi::OsStr;
use std::fmt::Write as _;
use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{self, Child, Command, ExitStatus, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

/// The binary under test, built by cargo for this test target.
pub const BIN: &str = env!("CARGO_BIN_EXE_mr-local");

/// Returns the shared datasets directory (`../shared/datasets` next to the
/// crate), or `None` after printing why the caller should skip.
///
/// A user's clone may not have it, so tests skip there. In CI (the `CI`
/// environment variable is set and non-empty) the tests must really run,
/// so a missing directory fails the test instead.
pub fn datasets() -> Option<PathBuf> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/datasets");
    let ci = std::env::var_os("CI").is_some_and(|v| !v.is_empty());
    find_datasets(path, ci)
}

fn find_datasets(path: PathBuf, ci: bool) -> Option<PathBuf> {
    if path.is_dir() {
        return Some(path);
    }
    if ci {
        panic!(
            "{} not found, and CI is set: the dataset tests must run in CI",
            path.display()
        );
    }
    eprintln!(
        "skipping: ../shared/datasets not found ({})",
        path.display()
    );
    None
}

#[test]
fn missing_datasets_skip_outside_ci() {
    let dir = Dir::new("missing_datasets");
    assert_eq!(find_datasets(dir.join("nope"), false), None);
    assert_eq!(
        find_datasets(dir.path().into(), true),
        Some(dir.path().into())
    );
}

#[test]
#[should_panic(expected = "CI is set")]
fn missing_datasets_fail_in_ci() {
    find_datasets(PathBuf::from("/no/such/datasets/dir"), true);
}

/// Reads a file, panicking with its path on failure.
pub fn read(path: impl AsRef<Path>) -> Vec<u8> {
    let path = path.as_ref();
    fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// A fresh directory under the system's temporary directory, removed (with
/// everything in it) when dropped.
#[derive(Debug)]
pub struct Dir {
    root: PathBuf,
}

impl Dir {
    /// Creates a directory whose name is unique to this process and call.
    pub fn new(name: &str) -> Dir {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let id = NEXT.fetch_add(1, Ordering::Relaxed);
        let root =
            std::env::temp_dir().join(format!("mr-local-test-{}-{id}-{name}", process::id()));
        if root.exists() {
            // Left over by a killed run whose pid was reused.
            fs::remove_dir_all(&root).expect("remove stale test dir");
        }
        fs::create_dir_all(&root)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", root.display()));
        Dir { root }
    }

    /// The directory's path.
    pub fn path(&self) -> &Path {
        &self.root
    }

    /// `name` inside this directory.
    pub fn join(&self, name: impl AsRef<Path>) -> PathBuf {
        self.root.join(name)
    }

    /// Writes a file (creating its parent directories) and returns its path.
    pub fn create(&self, name: impl AsRef<Path>, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.join(name);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).expect("create parent dir");
        }
        fs::write(&path, contents)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
        path
    }

    /// Creates a directory (and its parents) and returns its path.
    pub fn create_dir(&self, name: impl AsRef<Path>) -> PathBuf {
        let path = self.join(name);
        fs::create_dir_all(&path).expect("create dir");
        path
    }

    /// Reads a file of this directory.
    pub fn read(&self, name: impl AsRef<Path>) -> Vec<u8> {
        read(self.join(name))
    }

    /// The sorted names of the entries of `name` (a directory inside this
    /// one; "" or "." for this directory itself).
    pub fn list(&self, name: impl AsRef<Path>) -> Vec<String> {
        let path = self.join(name);
        let mut names: Vec<String> = fs::read_dir(&path)
            .unwrap_or_else(|e| panic!("cannot list {}: {e}", path.display()))
            .map(|entry| {
                entry
                    .expect("read dir entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        names.sort();
        names
    }

    /// A command running `mr-local` in this directory.
    pub fn command(&self) -> TestCommand {
        TestCommand::new(self.path())
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.root);
    }
}

/// Waits for `child` to end and returns its status; if it runs longer than
/// `limit`, kills it and panics naming `what`.
///
/// A thread waits on the child and reports through a channel, so the wait
/// is a real one, bounded by `recv_timeout`, not a polling loop.
pub fn wait_within(mut child: Child, limit: Duration, what: &str) -> ExitStatus {
    let pid = child.id();
    let (done, ended) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = done.send(child.wait());
    });
    match ended.recv_timeout(limit) {
        Ok(status) => status.expect("wait for the child"),
        Err(_) => {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
            let _ = ended.recv();
            panic!("{what} still running after {limit:?}: killed");
        }
    }
}

/// Reads all of `pipe` (a child's stdout or stderr) on a thread of its own,
/// so that the child never blocks on a full pipe while the test waits for
/// it; `join` the handle for the bytes.
pub fn read_in_background(mut pipe: impl Read + Send + 'static) -> JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        bytes
    })
}

/// Runs `test` with a fresh `Dir` and a `TestCommand` running in it; used
/// by `mrtest!`.
pub fn run_test(name: &str, test: impl FnOnce(Dir, TestCommand)) {
    let dir = Dir::new(name);
    let cmd = dir.command();
    test(dir, cmd);
}

/// A `std::process::Command` for the binary under test, with helpers that
/// run it and check how it ended.
///
/// Unless [`pipe`](TestCommand::pipe) is used, stdin is empty (not a
/// terminal), so with no file arguments `mr-local` reads an empty stdin.
#[derive(Debug)]
pub struct TestCommand {
    cmd: Command,
}

impl TestCommand {
    /// A command for `mr-local` running in `dir`.
    pub fn new(dir: &Path) -> TestCommand {
        let mut cmd = Command::new(BIN);
        cmd.current_dir(dir);
        TestCommand { cmd }
    }

    /// The underlying command, for anything the helpers do not cover.
    pub fn cmd(&mut self) -> &mut Command {
        &mut self.cmd
    }

    /// Sets an environment variable.
    pub fn env(&mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> &mut TestCommand {
        self.cmd.env(key, value);
        self
    }

    /// Adds one argument.
    pub fn arg(&mut self, arg: impl AsRef<OsStr>) -> &mut TestCommand {
        self.cmd.arg(arg);
        self
    }

    /// Adds arguments.
    pub fn args<I, A>(&mut self, args: I) -> &mut TestCommand
    where
        I: IntoIterator<Item = A>,
        A: AsRef<OsStr>,
    {
        self.cmd.args(args);
        self
    }

    /// Runs the command with an empty stdin and returns what it did.
    pub fn output(&mut self) -> Output {
        self.cmd
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("cannot run {:?}: {e}", self.cmd))
    }

    /// Runs the command, asserts that it succeeded and returns its stdout.
    pub fn stdout(&mut self) -> String {
        let out = self.output();
        self.expect_success(out)
    }

    /// Runs the command with an empty stdin, killing it and panicking if it
    /// runs longer than `limit` (for cases where a bug could block it).
    pub fn output_within(&mut self, limit: Duration) -> Output {
        let mut child = self
            .cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {:?}: {e}", self.cmd));
        let out_reader = read_in_background(child.stdout.take().expect("piped stdout"));
        let err_reader = read_in_background(child.stderr.take().expect("piped stderr"));
        let status = wait_within(child, limit, &format!("{:?}", self.cmd));
        Output {
            status,
            stdout: out_reader.join().expect("stdout reader"),
            stderr: err_reader.join().expect("stderr reader"),
        }
    }

    /// Runs the command with `input` on stdin and returns what it did.
    pub fn pipe_output(&mut self, input: impl AsRef<[u8]>) -> Output {
        let mut child = self
            .cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {:?}: {e}", self.cmd));
        let mut stdin = child.stdin.take().expect("piped stdin");
        let input = input.as_ref().to_vec();
        // Write from another thread, so that a child that fills its
        // stdout pipe before it finishes reading cannot deadlock us. A write
        // error only means the child stopped reading; its exit tells why.
        let writer = std::thread::spawn(move || {
            let _ = stdin.write_all(&input);
        });
        let out = child.wait_with_output().expect("wait for mr-local");
        writer.join().expect("stdin writer thread");
        out
    }

    /// Runs the command with `input` on stdin, asserts that it succeeded
    /// and returns its stdout.
    pub fn pipe(&mut self, input: impl AsRef<[u8]>) -> String {
        let out = self.pipe_output(input);
        self.expect_success(out)
    }

    /// Runs the command and returns its stderr, however it ended.
    pub fn stderr(&mut self) -> String {
        String::from_utf8_lossy(&self.output().stderr).into_owned()
    }

    /// Runs the command, asserts that it exited with `code` and returns
    /// what it did.
    pub fn assert_exit_code(&mut self, code: i32) -> Output {
        let out = self.output();
        if out.status.code() != Some(code) {
            panic!(
                "expected exit code {code}, got {}\n{}",
                out.status,
                self.report(&out)
            );
        }
        out
    }

    /// Runs the command, asserts that it failed (any non-zero exit) and
    /// returns what it did.
    pub fn assert_failure(&mut self) -> Output {
        let out = self.output();
        if out.status.success() || out.status.code().is_none() {
            panic!(
                "expected a non-zero exit code, got {}\n{}",
                out.status,
                self.report(&out)
            );
        }
        out
    }

    fn expect_success(&self, out: Output) -> String {
        if !out.status.success() {
            panic!("mr-local failed: {}\n{}", out.status, self.report(&out));
        }
        String::from_utf8(out.stdout)
            .unwrap_or_else(|e| panic!("stdout of {:?} is not UTF-8: {e}", self.cmd))
    }

    /// The command and a bounded view of its output, for failure messages.
    fn report(&self, out: &Output) -> String {
        format!(
            "command: {:?}\nstdout ({} bytes, first 1000 shown):\n{}\n\
             stderr:\n{}",
            self.cmd,
            out.stdout.len(),
            String::from_utf8_lossy(&out.stdout[..out.stdout.len().min(1000)]),
            String::from_utf8_lossy(&out.stderr),
        )
    }
}

/// Asserts the shape of every job error: nothing on stdout, and stderr is
/// exactly one line that starts with `mr-local: `, names `path` and
/// contains `cause`.
pub fn assert_one_line_error(out: &Output, path: &Path, cause: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    let path = path.display().to_string();
    assert!(
        out.stdout.is_empty(),
        "stdout should be empty on error, got {} bytes; stderr: {stderr}",
        out.stdout.len()
    );
    assert!(
        stderr.ends_with('\n') && stderr.lines().count() == 1,
        "stderr should be exactly one line, got: {stderr:?}"
    );
    assert!(
        stderr.starts_with("mr-local: "),
        "stderr should start with 'mr-local: ', got: {stderr:?}"
    );
    assert!(
        stderr.contains(&path),
        "stderr should name {path:?}, got: {stderr:?}"
    );
    assert!(
        stderr.contains(cause),
        "stderr should say {cause:?}, got: {stderr:?}"
    );
}

/// Describes how `got` differs from `expected`, line by line, without
/// printing megabytes: sizes, the first differing line and a few lines of
/// context on each side. Used by `assert_text_eq!`.
pub fn describe_mismatch(expected_name: &str, expected: &str, got_name: &str, got: &str) -> String {
    const CONTEXT: usize = 3;
    let exp: Vec<&str> = expected.split_inclusive('\n').collect();
    let gotl: Vec<&str> = got.split_inclusive('\n').collect();
    let first = exp
        .iter()
        .zip(&gotl)
        .position(|(a, b)| a != b)
        .unwrap_or(exp.len().min(gotl.len()));
    let mut msg = String::new();
    let _ = writeln!(
        msg,
        "texts differ\n  expected ({expected_name}): {} bytes, {} lines\n  \
         got      ({got_name}): {} bytes, {} lines\n  \
         first difference at line {} (1-based)",
        expected.len(),
        exp.len(),
        got.len(),
        gotl.len(),
        first + 1
    );
    let from = first.saturating_sub(CONTEXT);
    for (label, lines) in [("expected", &exp), ("got", &gotl)] {
        let _ = writeln!(msg, "--- {label}:");
        let to = (first + CONTEXT + 1).min(lines.len());
        if from >= to {
            let _ = writeln!(msg, "    (no line {})", first + 1);
        }
        for (i, line) in lines.iter().enumerate().take(to).skip(from) {
            let mark = if i == first { '>' } else { ' ' };
            let _ = writeln!(msg, "{mark}{:>7}: {line:?}", i + 1);
        }
    }
    msg
}

/// Doubles the count on every `word<TAB>count` line.
pub fn double_counts(tsv: &str) -> String {
    let mut out = String::with_capacity(tsv.len() + tsv.len() / 8);
    for line in tsv.lines() {
        let (word, count) = line
            .rsplit_once('\t')
            .unwrap_or_else(|| panic!("not a word<TAB>count line: {line:?}"));
        let count: u64 = count.parse().expect("count is a number");
        let _ = writeln!(out, "{word}\t{}", count * 2);
    }
    out
}

/// A small text with the cases that break word counters: mixed case,
/// Unicode letters whose lowercase differs in length, Greek final sigma,
/// Turkish dotted I, digits, CRLF, bytes that are not UTF-8, Unicode
/// spaces, words on both sides of the 22-byte inline-key limit, one
/// 100 KB word, one long line and no final newline.
pub fn tricky_text() -> Vec<u8> {
    let mut text = Vec::new();
    for i in 0..500 {
        let _ = writeln!(
            text,
            "Line {i}: The quick brown Fox -- the LAZY dog's café; \
             STRASSE Straße ΟΔΟΣ ὈΔΌΣ İstanbul ǅemal ﬁne x²\r"
        );
        let _ = writeln!(
            text,
            "abcdefghijklmnopqrstuv abcdefghijklmnopqrstuvw{} \
             ANTIDISESTABLISHMENTARIANISM Antidisestablishmentarianism \
             ΑΝΤΙΣΥΝΤΑΓΜΑΤΙΚΟΤΗΤΑΣ\u{a0}nbsp\u{3000}ideographic\u{2003}em\
             \u{85}nel\u{2028}ls\x0bvt\x0cff\ttab",
            i % 7
        );
    }
    text.extend_from_slice(&b"x".repeat(100_000));
    text.extend_from_slice(b" ");
    text.extend_from_slice(&b"X".repeat(100_000));
    text.extend_from_slice(b"\n");
    text.extend_from_slice(b"bad\xffbytes split \xe2\x82 here\r\n\r\n\n");
    text.extend_from_slice(b"\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82 ");
    for i in 0..5000 {
        let _ = write!(text, "w{} ", i % 37);
    }
    text.extend_from_slice("\n日本語のテキスト ไทย no final newline".as_bytes());
    text
}

#[test]
fn mismatch_report_points_at_the_first_differing_line() {
    let expected = "a\t3\nb\t2\nc\t1\nd\t1\n";
    let got = "a\t3\nb\t2\nd\t1\n";
    let report = describe_mismatch("expected", expected, "got", got);
    assert!(report.contains("first difference at line 3"), "{report}");
    assert!(report.contains(">      3: \"c\\t1\\n\""), "{report}");
    assert!(report.contains(">      3: \"d\\t1\\n\""), "{report}");
    assert!(report.contains("(no line 4)") || report.contains("4 lines"));
    let result = std::panic::catch_unwind(|| assert_text_eq!(expected, got));
    assert!(result.is_err(), "assert_text_eq! accepted different texts");
    let fixed = got.replace("b\t2\n", "b\t2\nc\t1\n");
    assert_text_eq!(expected, fixed);
}

/// Checks `done` every few milliseconds until it holds, and fails the test
/// with `what` after `limit`. For the state of another process (a file a
/// child writes), which nothing in this process can wait on.
pub fn poll_until(limit: Duration, what: &str, mut done: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + limit;
    while !done() {
        assert!(std::time::Instant::now() < deadline, "{what}");
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// True once a job's spill directory below `spill` holds a run.
pub fn has_spill_runs(spill: &Path) -> bool {
    fs::read_dir(spill)
        .into_iter()
        .flatten()
        .flatten()
        .any(|d| fs::read_dir(d.path()).is_ok_and(|mut runs| runs.next().is_some()))
}
