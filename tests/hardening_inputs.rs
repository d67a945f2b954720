//! Hardening of the input side (issue 12): files that change while being
//! read, special files below a directory given with `-r`, and inputs read
//! in bounded memory.

use std::path::Path;
use std::time::Duration;

use crate::util::{assert_one_line_error, Dir, TestCommand};

/// Makes a FIFO at `path` with mkfifo(1); false where that cannot be done.
fn mkfifo(path: &Path) -> bool {
    std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .is_ok_and(|s| s.success())
}

// Case 14: below a directory, FIFOs and sockets are skipped, as `grep -r`
// does, instead of blocking forever on the FIFO or failing on the socket.
#[cfg(unix)]
mrtest!(
    recursion_skips_fifos_and_sockets,
    |dir: Dir, mut cmd: TestCommand| {
        dir.create("tree/a.txt", "one two\n");
        dir.create("tree/sub/b.txt", "two\n");
        if !mkfifo(&dir.join("tree/sub/p.fifo")) {
            eprintln!("skipping: cannot run mkfifo");
            return;
        }
        let _socket =
            std::os::unix::net::UnixListener::bind(dir.join("tree/s.sock")).expect("bind a socket");
        let out = cmd
            .args(["wordcount", "-r", "tree"])
            .output_within(Duration::from_secs(20));
        assert!(
            out.status.success(),
            "{}; stderr: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(String::from_utf8_lossy(&out.stdout), "two\t2\none\t1\n");
    }
);

// Case 14, the other half: a socket named on the command line is still
// opened (and fails, naming it), not skipped.
#[cfg(unix)]
mrtest!(
    a_special_file_named_on_the_command_line_is_not_skipped,
    |dir: Dir, mut cmd: TestCommand| {
        let _socket =
            std::os::unix::net::UnixListener::bind(dir.join("s.sock")).expect("bind a socket");
        let out = cmd
            .args(["wordcount", "s.sock"])
            .output_within(Duration::from_secs(20));
        assert_eq!(out.status.code(), Some(1), "{out:?}");
        assert_one_line_error(&out, Path::new("s.sock"), "no such device or address");
    }
);

/// Opens the FIFO at `path` for writing once a reader has it open, without
/// blocking (`O_NONBLOCK` fails with `ENXIO` until then), within `limit`.
#[cfg(target_os = "linux")]
fn open_fifo_writer(path: &Path, limit: Duration) -> std::fs::File {
    use std::os::unix::fs::OpenOptionsExt;

    /// `O_NONBLOCK` and `ENXIO` on Linux; libc is not a dependency.
    const O_NONBLOCK: i32 = 0o4000;
    const ENXIO: i32 = 6;
    let deadline = std::time::Instant::now() + limit;
    loop {
        let opened = std::fs::OpenOptions::new()
            .write(true)
            .custom_flags(O_NONBLOCK)
            .open(path);
        match opened {
            Ok(file) => return file,
            Err(e) if e.raw_os_error() == Some(ENXIO) && std::time::Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(2));
            }
            Err(e) => panic!("open {} for writing: {e}", path.display()),
        }
    }
}

// Case 6: a file that shrinks between being opened and being read is an
// error naming it, with no output, not a count of what was left. The FIFO
// makes the order certain: inputs are opened before any is read, and open
// inputs are read in order, so once the run has read most of what the test
// writes into the FIFO (a pipe holds 64 KiB), it has taken big.txt's size
// and not yet read it; then the test truncates big.txt and ends the FIFO.
#[cfg(target_os = "linux")]
mrtest!(
    a_file_truncated_while_being_read_is_an_error,
    |dir: Dir, mut cmd: TestCommand| {
        dir.create("big.txt", "some words here\n".repeat(64 * 1024));
        if !mkfifo(&dir.join("p.fifo")) {
            eprintln!("skipping: cannot run mkfifo");
            return;
        }
        let truncate = {
            let (fifo, big) = (dir.join("p.fifo"), dir.join("big.txt"));
            std::thread::spawn(move || {
                use std::io::Write;
                let first = open_fifo_writer(&fifo, Duration::from_secs(20));
                // A blocking writer, opened at once now that the run reads:
                // its write returns once the run has read all but the
                // pipe's 64 KiB.
                let mut writer = std::fs::OpenOptions::new().write(true).open(&fifo);
                drop(first);
                let words = "fifo words\n".repeat(100_000);
                writer
                    .as_mut()
                    .expect("open the FIFO again")
                    .write_all(words.as_bytes())
                    .expect("write into the FIFO");
                let file = std::fs::OpenOptions::new().write(true).open(&big);
                file.and_then(|f| f.set_len(300_000)).expect("truncate");
                drop(writer);
            })
        };
        let out = cmd
            .args(["wordcount", "--no-mmap", "p.fifo", "big.txt"])
            .output_within(Duration::from_secs(20));
        truncate.join().expect("truncating thread");
        assert_eq!(out.status.code(), Some(1), "{out:?}");
        assert_one_line_error(&out, Path::new("big.txt"), "changed while being read");
    }
);

/// The peak resident memory of process `pid`, in KiB, from
/// `/proc/PID/status`.
#[cfg(target_os = "linux")]
fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("read status");
    let line = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .expect("VmHWM line");
    line.split_whitespace()
        .nth(1)
        .expect("a number")
        .parse()
        .expect("KiB")
}

// Case 9: stdin is read in chunks as it is mapped, so memory stays bounded
// whatever its size. The test reads the run's peak resident memory while
// the run waits for the end of its input, after 64 MiB of it went through
// (the pipe holds 64 KiB): holding it whole would take more than 64 MiB.
#[cfg(target_os = "linux")]
mrtest!(
    stdin_is_read_in_bounded_memory,
    |_dir: Dir, mut cmd: TestCommand| {
        use std::io::Write;
        use std::process::Stdio;

        let mut child = cmd
            .args(["wordcount", "--memory", "16M", "--threads", "2"])
            .cmd()
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run mr-local");
        let stdout = crate::util::read_in_background(child.stdout.take().expect("stdout"));
        let stderr = crate::util::read_in_background(child.stderr.take().expect("stderr"));
        let mut stdin = child.stdin.take().expect("stdin");
        let block = "hello world foo\n".repeat(64 * 1024);
        for _ in 0..64 {
            stdin.write_all(block.as_bytes()).expect("write stdin");
        }
        let peak = peak_rss_kib(child.id());
        drop(stdin);
        let status = crate::util::wait_within(child, Duration::from_secs(60), "wordcount");
        let stdout = String::from_utf8(stdout.join().expect("stdout")).expect("UTF-8");
        assert!(status.success(), "{status}: {:?}", stderr.join());
        assert_eq!(stdout, "foo\t4194304\nhello\t4194304\nworld\t4194304\n");
        assert!(peak < 48 * 1024, "peak RSS {peak} KiB for 64 MiB of stdin");
    }
);

// Case 11: an input too large for memory is one line and exit 1, not an
// abort with a backtrace (exit 134). The input is a sparse file of 1 TiB
// (no disk used), the address space is limited to 4 GB, and grep reads its
// inputs whole (it is not streamed), so the buffer for it cannot be had.
#[cfg(target_os = "linux")]
mrtest!(
    an_input_too_large_for_memory_is_one_line_and_exit_1,
    |dir: Dir, _: TestCommand| {
        let sparse = std::fs::File::create(dir.join("huge.txt")).expect("create");
        if sparse.set_len(1 << 40).is_err() {
            eprintln!("skipping: no sparse file of 1 TiB here");
            return;
        }
        for extra in [&["--no-mmap"][..], &[]] {
            let mut sh = std::process::Command::new("sh");
            sh.current_dir(dir.path())
                .env_remove("RUST_BACKTRACE")
                .arg("-c")
                .arg("ulimit -v 4000000 && exec \"$0\" \"$@\"")
                .arg(crate::util::BIN)
                // Few threads, so that their stacks and allocator arenas
                // fit in the limit on any machine.
                .args(["grep", "--threads", "2", "x", "huge.txt"])
                .args(extra)
                .stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped());
            let mut child = sh.spawn().expect("run sh");
            let stdout = crate::util::read_in_background(child.stdout.take().expect("stdout"));
            let stderr = crate::util::read_in_background(child.stderr.take().expect("stderr"));
            let status = crate::util::wait_within(child, Duration::from_secs(30), "grep");
            let out = std::process::Output {
                status,
                stdout: stdout.join().expect("stdout"),
                stderr: stderr.join().expect("stderr"),
            };
            assert_eq!(out.status.code(), Some(1), "{extra:?}: {out:?}");
            assert_one_line_error(&out, Path::new("huge.txt"), "out of memory while reading");
        }
    }
);

// Many open inputs, each too large to be read whole at open (256 KiB or
// more, not mapped) and each ending within the head a sampled run reads
// ahead: they must not all hold a descriptor at once. Under a limit of 64
// descriptors, 80 such inputs sort as they do without it.
#[cfg(unix)]
mrtest!(
    many_open_inputs_do_not_hold_a_descriptor_each,
    |dir: Dir, mut cmd: TestCommand| {
        let mut names = Vec::new();
        for f in 0..80u64 {
            let name = format!("many/{f:02}.txt");
            let text: String = (0..2900u64)
                .map(|i| {
                    format!(
                        "{:016x} {f:02} {i:<72}\n",
                        (i * 7919 + f * 104_729) % 1_000_003
                    )
                })
                .collect();
            assert!(text.len() > 256 * 1024);
            dir.create(&name, text);
            names.push(name);
        }
        let args = ["sort", "--no-mmap", "--threads", "2", "--memory", "64M"];
        let normal = cmd
            .args(args)
            .args(&names)
            .output_within(Duration::from_secs(60));
        assert!(normal.status.success(), "{normal:?}");
        let limited = std::process::Command::new("sh")
            .current_dir(dir.path())
            .arg("-c")
            .arg("ulimit -n 64 && exec \"$0\" \"$@\"")
            .arg(crate::util::BIN)
            .args(args)
            .args(&names)
            .output()
            .expect("run sh");
        assert!(
            limited.status.success(),
            "{}: {}",
            limited.status,
            String::from_utf8_lossy(&limited.stderr)
        );
        assert_eq!(limited.stdout.len(), 80 * 2900 * 93);
        assert!(limited.stdout == normal.stdout, "outputs differ");
    }
);
