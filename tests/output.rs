//! Where output goes: `-o FILE` (atomic, no leftovers) and a stdout pipe
//! whose reader goes away.

use std::io::Read;
use std::process::Stdio;

use crate::util::{Dir, TestCommand};

mrtest!(
    output_file_equals_stdout,
    |dir: Dir, mut cmd: TestCommand| {
        dir.create("in/tricky.txt", crate::util::tricky_text());
        dir.create_dir("out");
        let stdout = cmd.args(["wordcount", "in/tricky.txt"]).stdout();
        assert!(!stdout.is_empty());

        let out = dir
            .command()
            .args(["wordcount", "in/tricky.txt", "-o", "out/counts.tsv"])
            .assert_exit_code(0);
        assert!(out.stdout.is_empty(), "stdout should be empty with -o");
        assert!(out.stderr.is_empty(), "stderr: {:?}", out.stderr);
        assert_eq!(dir.read("out/counts.tsv"), stdout.as_bytes());
        assert_eq!(dir.list("out"), ["counts.tsv"]);
    }
);

// The old file stays whole until the new one replaces it by a rename: an
// open handle on the old file still reads the old bytes afterwards, which
// an in-place truncate-and-write would not allow.
#[cfg(unix)]
mrtest!(
    output_file_is_replaced_atomically,
    |dir: Dir, mut cmd: TestCommand| {
        use std::os::unix::fs::MetadataExt;

        dir.create("in.txt", "new words new\n".repeat(1000));
        let old = "old\tcontents\n".repeat(10_000);
        let path = dir.create("out/counts.tsv", &old);
        let old_inode = std::fs::metadata(&path).expect("stat").ino();
        let mut old_handle = std::fs::File::open(&path).expect("open old");

        let stdout = dir.command().args(["wordcount", "in.txt"]).stdout();
        cmd.args(["wordcount", "in.txt", "-o", "out/counts.tsv"])
            .assert_exit_code(0);
        assert_eq!(dir.read("out/counts.tsv"), stdout.as_bytes());
        assert_eq!(dir.list("out"), ["counts.tsv"]);

        let mut seen = String::new();
        old_handle.read_to_string(&mut seen).expect("read old");
        assert!(seen == old, "the old file was modified in place");
        assert_ne!(
            std::fs::metadata(&path).expect("stat").ino(),
            old_inode,
            "the new file should be a new inode renamed over the old one"
        );
    }
);

// A failed job commits nothing: an existing output keeps its bytes, a new
// one is not created, and no temporary file is left.
mrtest!(
    failed_job_leaves_output_alone,
    |dir: Dir, mut cmd: TestCommand| {
        dir.create("in.txt", "words\n");
        dir.create("out/existing.tsv", "old\t1\n");
        cmd.args([
            "wordcount",
            "in.txt",
            "missing.txt",
            "-o",
            "out/existing.tsv",
        ])
        .assert_exit_code(1);
        dir.command()
            .args(["wordcount", "in.txt", "missing.txt", "-o", "out/new.tsv"])
            .assert_exit_code(1);
        assert_eq!(dir.read("out/existing.tsv"), b"old\t1\n");
        assert_eq!(dir.list("out"), ["existing.tsv"]);
    }
);

/// Runs `cmd` with stdout on a pipe whose reader takes 10 bytes and then
/// closes it; asserts a quiet exit 0.
fn assert_quiet_on_closed_pipe(cmd: &mut TestCommand) {
    let mut child = cmd
        .cmd()
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn mr-local");
    let mut stdout = child.stdout.take().expect("piped stdout");
    let mut first = [0u8; 10];
    stdout.read_exact(&mut first).expect("read the first bytes");
    drop(stdout);
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .expect("piped stderr")
        .read_to_string(&mut stderr)
        .expect("read stderr");
    let status = child.wait().expect("wait for mr-local");
    assert!(
        status.success(),
        "a closed stdout should end in exit 0, got {status}; stderr: {stderr}"
    );
    assert_eq!(stderr, "", "stderr should be empty");
}

// `mr-local wordcount big.txt | head -c 10`: a broken pipe is a quiet
// exit 0, not a panic or an error message.
mrtest!(
    closed_stdout_pipe_is_a_quiet_success,
    |dir: Dir, mut cmd: TestCommand| {
        dir.command()
            .args(["generate", "--size", "8M", "--seed", "1", "-o", "big.txt"])
            .assert_exit_code(0);
        // The output must be far larger than a pipe's buffer (64 KiB on
        // Linux) and than stdout's buffer, or the pipe would never fill.
        let full = dir.command().args(["wordcount", "big.txt"]).stdout();
        assert!(full.len() > 512 * 1024, "only {} bytes", full.len());

        assert_quiet_on_closed_pipe(cmd.args(["wordcount", "big.txt"]));
        assert_quiet_on_closed_pipe(dir.command().args(["generate", "--size", "256M"]));
    }
);

// `-o PATH` writes into a FIFO or device the way `> PATH` does: renaming a
// temporary file over it (right for regular files) once replaced a FIFO, and
// as root even /dev/null, with a regular file.
// A FIFO in the test's own directory stands in for /dev/null, which a test
// must never touch.
#[cfg(target_os = "linux")]
mrtest!(
    output_into_a_fifo_writes_into_it,
    |dir: Dir, mut cmd: TestCommand| {
        use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
        use std::time::Duration;

        /// `O_NONBLOCK` on Linux (x86-64 and aarch64 alike); std has no name
        /// for it and libc is not a dependency.
        const O_NONBLOCK: i32 = 0o4000;

        dir.create("in.txt", "a b a\n");
        let fifo = dir.join("out.fifo");
        match std::process::Command::new("mkfifo").arg(&fifo).status() {
            Ok(status) if status.success() => {}
            _ => {
                eprintln!("skipping: cannot run mkfifo");
                return;
            }
        }
        // With a reader open, opening the FIFO for writing does not block; a
        // non-blocking reader does not block the test either.
        let mut reader = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(O_NONBLOCK)
            .open(&fifo)
            .expect("open the FIFO for reading");
        let stdout = dir.command().args(["wordcount", "in.txt"]).stdout();
        assert!(stdout.len() < 4096, "must fit in the FIFO's buffer");

        let out = cmd
            .args(["wordcount", "in.txt", "-o", "out.fifo"])
            .output_within(Duration::from_secs(30));
        let mut got = Vec::new();
        if let Err(e) = reader.read_to_end(&mut got) {
            assert_eq!(e.kind(), std::io::ErrorKind::WouldBlock, "{e}");
        }
        let kind = std::fs::symlink_metadata(&fifo).expect("stat").file_type();
        assert!(
            kind.is_fifo(),
            "-o replaced the FIFO with a {kind:?}; stderr: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            out.status.success(),
            "{}; stderr: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(String::from_utf8_lossy(&got), stdout);
        assert_eq!(dir.list("."), ["in.txt", "out.fifo"]);
    }
);
