//! Ctrl-C (SIGINT) during a run: exit status 130, and no temporary or
//! partial output left behind.

use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::util::{self, Dir, TestCommand, BIN};

fn interrupt(child: &Child) {
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(status.success());
}

mrtest!(
    interrupted_output_leaves_no_temporary_file,
    |dir: Dir, _cmd: TestCommand| {
        // Generating 8 GiB takes long enough to be caught while writing.
        let child = Command::new(BIN)
            .args(["generate", "--size", "8G", "-o", "out.txt"])
            .current_dir(dir.path())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        util::poll_until(
            Duration::from_secs(30),
            "no temporary file appeared",
            || dir.list(".").iter().any(|name| name.ends_with(".tmp")),
        );
        interrupt(&child);
        let status = util::wait_within(child, Duration::from_secs(30), "mr-local after SIGINT");
        assert_eq!(status.code(), Some(130));
        assert_eq!(
            dir.list("."),
            Vec::<String>::new(),
            "files were left behind"
        );
    }
);

mrtest!(
    interrupted_job_writes_no_output,
    |dir: Dir, mut cmd: TestCommand| {
        cmd.args(["generate", "--size", "200M", "-o", "big.txt"])
            .stdout();
        let mut child = Command::new(BIN)
            .args([
                "wordcount",
                "--threads",
                "1",
                "--progress",
                "always",
                "-o",
                "counts.tsv",
                "big.txt",
            ])
            .current_dir(dir.path())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        // The bar's first bytes show that the job, and the handler, are running.
        let mut first = [0u8; 1];
        child
            .stderr
            .take()
            .expect("stderr")
            .read_exact(&mut first)
            .expect("progress output");
        interrupt(&child);
        let status = util::wait_within(child, Duration::from_secs(30), "mr-local after SIGINT");
        if status.code() == Some(0) {
            // The job won the race and finished first: then its output must be
            // whole. (200 MB on one thread takes about a second, so this is
            // rare.)
            assert!(dir.read("counts.tsv").ends_with(b"\n"));
            return;
        }
        assert_eq!(status.code(), Some(130));
        assert_eq!(
            dir.list("."),
            vec!["big.txt".to_string()],
            "output was left behind"
        );
    }
);

mrtest!(
    interrupted_spilling_job_removes_its_runs,
    |dir: Dir, mut cmd: TestCommand| {
        cmd.args(["generate", "--size", "100M", "-o", "big.txt"])
            .stdout();
        let spill = dir.create_dir("spill");
        let mut child = Command::new(BIN)
            .args([
                "sort",
                "--threads",
                "1",
                "--memory",
                "1M",
                "-o",
                "sorted.txt",
                "big.txt",
                "--tmp-dir",
            ])
            .arg(&spill)
            .current_dir(dir.path())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        // What it says explains an unexpected exit status.
        let said = util::read_in_background(child.stderr.take().expect("stderr"));
        // Wait for the first run file, deep in the job's spill directory.
        util::poll_until(Duration::from_secs(60), "no spill run appeared", || {
            util::has_spill_runs(&spill)
        });
        interrupt(&child);
        let status = util::wait_within(child, Duration::from_secs(30), "mr-local after SIGINT");
        let said = String::from_utf8_lossy(&said.join().expect("stderr reader")).into_owned();
        assert_eq!(
            status.code(),
            Some(130),
            "the job should have been interrupted; it said: {said}"
        );
        assert_eq!(
            dir.list("spill"),
            Vec::<String>::new(),
            "spill runs left behind"
        );
        assert_eq!(
            dir.list("."),
            vec!["big.txt".to_string(), "spill".to_string()]
        );
    }
);
