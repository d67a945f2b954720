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
