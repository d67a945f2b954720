//! Issue 12, cases 8 and 13: SIGTERM and SIGHUP clean up as SIGINT does,
//! a SIGKILLed run's spill directory is removed by the next run, and
//! spilling stays within the file descriptor limit.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::util::{self, Dir, TestCommand, BIN};

fn signal(child: &Child, name: &str) {
    let status = Command::new("kill")
        .args([&format!("-{name}"), &child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(status.success());
}

/// Whether some directory in `spill` holds a file: a job's first run.
/// Starts a spilling job (an inverted index) of `big.txt` with its runs
/// under `spill/`, and returns once it has written its first run, with
/// what it says on stderr.
fn spilling_job(dir: &Dir) -> (Child, std::thread::JoinHandle<Vec<u8>>) {
    let spill = dir.join("spill");
    let mut child = Command::new(BIN)
        .args([
            "invert",
            "--threads",
            "1",
            "--memory",
            "1M",
            "-o",
            "index.txt",
            "big.txt",
            "--tmp-dir",
        ])
        .arg(&spill)
        .current_dir(dir.path())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let said = util::read_in_background(child.stderr.take().expect("stderr"));
    util::poll_until(Duration::from_secs(60), "no spill run appeared", || {
        util::has_spill_runs(&spill)
    });
    (child, said)
}

fn generate_input(cmd: &mut TestCommand, dir: &Dir) {
    cmd.args(["generate", "--size", "20M", "-o", "big.txt"])
        .stdout();
    dir.create_dir("spill");
}

/// Sends `name` to a spilling job and checks that it exits with `code`,
/// leaving neither runs nor output behind.
fn signalled_spilling_job_cleans_up(dir: Dir, mut cmd: TestCommand, name: &str, code: i32) {
    generate_input(&mut cmd, &dir);
    let (child, said) = spilling_job(&dir);
    signal(&child, name);
    let status = util::wait_within(child, Duration::from_secs(30), "mr-local after signal");
    let said = String::from_utf8_lossy(&said.join().expect("stderr reader")).into_owned();
    assert_eq!(
        status.code(),
        Some(code),
        "the job should have ended on SIG{name}; it said: {said}"
    );
    assert_eq!(said, "", "a signal is no error to report");
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

mrtest!(sigterm_removes_spill_runs, |dir: Dir, cmd: TestCommand| {
    signalled_spilling_job_cleans_up(dir, cmd, "TERM", 143);
});

mrtest!(sighup_removes_spill_runs, |dir: Dir, cmd: TestCommand| {
    signalled_spilling_job_cleans_up(dir, cmd, "HUP", 129);
});

/// Sends `name` while `generate -o` writes, and checks that it exits with
/// `code` and leaves no temporary file.
fn signalled_output_leaves_nothing(dir: &Dir, name: &str, code: i32) {
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
    signal(&child, name);
    let status = util::wait_within(child, Duration::from_secs(30), "mr-local after signal");
    assert_eq!(status.code(), Some(code));
    assert_eq!(
        dir.list("."),
        Vec::<String>::new(),
        "files were left behind"
    );
}

mrtest!(
    sigterm_removes_temporary_output,
    |dir: Dir, _cmd: TestCommand| {
        signalled_output_leaves_nothing(&dir, "TERM", 143);
    }
);

mrtest!(
    sighup_removes_temporary_output,
    |dir: Dir, _cmd: TestCommand| {
        signalled_output_leaves_nothing(&dir, "HUP", 129);
    }
);

mrtest!(
    help_lists_signal_exit_codes,
    |_dir: Dir, mut cmd: TestCommand| {
        let help = cmd.arg("--help").stdout();
        for code in ["129", "130", "143"] {
            assert!(help.contains(&format!("  {code}  ")), "{code} in: {help}");
        }
        let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
            .expect("read README.md");
        for code in ["`129`", "`130`", "`143`"] {
            assert!(readme.contains(code), "{code} in README.md");
        }
    }
);

mrtest!(
    next_run_removes_spill_runs_of_a_killed_one,
    |dir: Dir, mut cmd: TestCommand| {
        generate_input(&mut cmd, &dir);
        let (child, said) = spilling_job(&dir);
        signal(&child, "KILL");
        let status = util::wait_within(child, Duration::from_secs(30), "mr-local after SIGKILL");
        assert_eq!(status.code(), None, "killed by the signal");
        drop(said);
        let stale = dir.list("spill");
        assert_eq!(stale.len(), 1, "the killed run's directory: {stale:?}");
        // Look-alikes that are not a dead run's directory must stay: a
        // live process's (this one's), and names that only resemble one.
        let live = format!("mr-local-spill-{}-0", std::process::id());
        let dead = stale[0].clone();
        let decoys = [
            live.clone(),
            format!("{dead}-x"),
            format!("x{dead}"),
            "mr-local-spill-1x-0".to_string(),
        ];
        for decoy in &decoys {
            dir.create(format!("spill/{decoy}/run-000000"), "keep");
        }
        // A file, not a directory, under a dead run's name.
        dir.create(
            format!("spill/{}-1", dead.rsplit_once('-').unwrap().0),
            "keep",
        );
        // The next run that spills there removes the dead run's directory.
        let mut next = dir.command();
        next.args(["generate", "--size", "4M", "-o", "small.txt"])
            .stdout();
        let mut next = dir.command();
        next.args([
            "invert",
            "--memory",
            "1M",
            "small.txt",
            "-o",
            "small.index",
            "--tmp-dir",
            "spill",
        ])
        .assert_exit_code(0);
        let mut left = dir.list("spill");
        left.retain(|name| !decoys.contains(name));
        assert_eq!(
            left,
            vec![format!("{}-1", dead.rsplit_once('-').unwrap().0)],
            "only the dead run's directory goes"
        );
        for decoy in &decoys {
            assert_eq!(dir.read(format!("spill/{decoy}/run-000000")), b"keep");
        }
    }
);

/// Runs `mr-local ARGS` under `ulimit -n LIMIT` (soft and hard, since the
/// binary raises the soft limit to the hard one); returns its stdout and
/// stderr.
fn under_open_files_limit(dir: &Dir, limit: u32, args: &str) -> (String, String) {
    let script = format!("ulimit -n {limit} && exec \"$0\" {args}");
    let out = Command::new("sh")
        .args(["-c", &script, BIN])
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .output()
        .expect("run sh");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        out.status.success(),
        "{args} under ulimit -n {limit}: {}: {stderr}",
        out.status,
    );
    (String::from_utf8(out.stdout).expect("utf-8 output"), stderr)
}

/// The `spill runs` counter in `--stats` output.
fn spill_runs(stats: &str) -> u64 {
    let line = stats
        .lines()
        .find(|l| l.trim_start().starts_with("spill runs"))
        .unwrap_or_else(|| panic!("no spill runs in: {stats}"));
    let n = line.split_whitespace().last().expect("a count");
    n.replace(',', "").parse().expect("a number")
}

mrtest!(
    spilling_stays_within_the_open_files_limit,
    |dir: Dir, mut cmd: TestCommand| {
        cmd.args(["generate", "--size", "4M", "-o", "in.txt"])
            .stdout();
        dir.create_dir("spill");
        // 8 threads each merging its partition's 50-odd runs wanted
        // hundreds of files at once; 64 threads writing runs at once, 64.
        for (job, threads) in [("invert", 8), ("wordcount", 8), ("invert", 64)] {
            let expected = dir.command().args([job, "in.txt"]).stdout();
            let (got, stats) = under_open_files_limit(
                &dir,
                64,
                &format!("{job} --threads {threads} --memory 512K --stats --tmp-dir spill in.txt"),
            );
            assert_text_eq!(expected, got, "{job}");
            assert!(spill_runs(&stats) > 8, "{job} should spill: {stats}");
        }
        assert_eq!(dir.list("spill"), Vec::<String>::new());
    }
);
