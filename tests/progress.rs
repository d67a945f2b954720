//! The progress bar and `--stats`, tried as a person would: in a real
//! terminal (tmux), and through pipes.

use std::process::Command;
use std::time::{Duration, Instant};

use crate::util::{Dir, TestCommand, BIN};

/// Runs tmux with `args`, returning its stdout.
fn tmux(socket: &str, args: &[&str]) -> Option<String> {
    let out = Command::new("tmux")
        .arg("-L")
        .arg(socket)
        .args(args)
        .output()
        .ok()?;
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// A tmux server of the test's own, killed when dropped.
struct Tmux(String);

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = tmux(&self.0, &["kill-server"]);
    }
}

fn have_tmux() -> bool {
    let found = Command::new("tmux")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "tmux is missing: .ci/run should install it"
        );
        eprintln!("skipping: tmux not found");
    }
    found
}

mrtest!(
    progress_bar_shows_in_a_terminal,
    |dir: Dir, mut cmd: TestCommand| {
        if !have_tmux() {
            return;
        }
        // Big enough to take a while on one thread.
        cmd.args(["generate", "--size", "300M", "-o", "big.txt"])
            .stdout();
        let socket = format!("mr-local-test-{}", std::process::id());
        let server = Tmux(socket.clone());
        let command =
            format!("{BIN} wordcount --threads 1 big.txt > counts.tsv; echo EXIT=$?; sleep 600");
        tmux(
            &server.0,
            &[
                "new-session",
                "-d",
                "-x",
                "150",
                "-y",
                "20",
                "-c",
                dir.path().to_str().unwrap(),
                &command,
            ],
        )
        .expect("start tmux");
        // Poll the screen until the bar appears (or the run ends without it).
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut screens = Vec::new();
        let seen = loop {
            let screen = tmux(&server.0, &["capture-pane", "-p"]).unwrap_or_default();
            if screen.contains("map [") && screen.contains("MiB") {
                break true;
            }
            if screen.contains("EXIT=") || Instant::now() > deadline {
                screens.push(screen);
                break false;
            }
            screens.push(screen);
            std::thread::sleep(Duration::from_millis(20));
        };
        assert!(
            seen,
            "no progress bar on the terminal; last screen:\n{}",
            screens.last().unwrap()
        );
        // When the job ends, the bar is cleared and only the exit line remains.
        let deadline = Instant::now() + Duration::from_secs(60);
        let screen = loop {
            let screen = tmux(&server.0, &["capture-pane", "-p"]).unwrap_or_default();
            if screen.contains("EXIT=") || Instant::now() > deadline {
                break screen;
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        assert!(screen.contains("EXIT=0"), "{screen}");
        assert!(
            !screen.contains("map ["),
            "the bar was not cleared:\n{screen}"
        );
        assert!(dir.read("counts.tsv").starts_with(b"tho\t"));
    }
);

mrtest!(
    piped_runs_print_nothing_but_data,
    |dir: Dir, mut cmd: TestCommand| {
        dir.create("in.txt", "b a b\n".repeat(1000));
        let out = cmd.args(["wordcount", "in.txt"]).output();
        assert!(out.status.success());
        assert_eq!(out.stdout, b"b\t2000\na\t1000\n");
        assert!(
            out.stderr.is_empty(),
            "stderr: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
);

mrtest!(
    progress_always_draws_even_when_piped,
    |dir: Dir, mut cmd: TestCommand| {
        dir.create("in.txt", "b a b\n".repeat(1000));
        let out = cmd
            .args(["wordcount", "--progress", "always", "in.txt"])
            .output();
        assert!(out.status.success());
        assert_eq!(
            out.stdout, b"b\t2000\na\t1000\n",
            "the bar must never reach stdout"
        );
        assert!(!out.stderr.is_empty());
    }
);

mrtest!(stats_and_stats_json, |dir: Dir, mut cmd: TestCommand| {
    dir.create("in.txt", "one two\nthree one\n");
    let out = cmd
        .args([
            "wordcount",
            "--stats",
            "--stats-json",
            "stats.json",
            "in.txt",
        ])
        .output();
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    for line in [
        "input files",
        "records",
        "map output records",
        "distinct keys",
        "time: map",
    ] {
        assert!(stderr.contains(line), "{line} missing from:\n{stderr}");
    }
    let json = String::from_utf8(dir.read("stats.json")).unwrap();
    for field in [
        "\"input_files\":1",
        "\"records\":2",
        "\"map_output_records\":4",
        "\"distinct_keys\":3",
    ] {
        assert!(json.contains(field), "{field} missing from {json}");
    }
    // -q silences the block, not the JSON file.
    std::fs::remove_file(dir.join("stats.json")).unwrap();
    let out = dir
        .command()
        .args([
            "wordcount",
            "-q",
            "--stats",
            "--stats-json",
            "stats.json",
            "in.txt",
        ])
        .output();
    assert!(out.stderr.is_empty());
    assert!(dir.join("stats.json").exists());
});

/// The `threads` line of `--stats`, e.g. `  threads  3`.
fn threads_in_stats(out: &std::process::Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr);
    let line = stderr
        .lines()
        .find(|l| l.trim_start().starts_with("threads"))
        .expect("a threads line");
    line.split_whitespace().last().unwrap().to_string()
}

mrtest!(
    rayon_num_threads_is_respected_unless_threads_is_given,
    |dir: Dir, mut cmd: TestCommand| {
        dir.create("in.txt", "a b\n");
        cmd.args(["wordcount", "--stats", "in.txt"])
            .cmd()
            .env("RAYON_NUM_THREADS", "3");
        assert_eq!(threads_in_stats(&cmd.output()), "3");
        let mut cmd = dir.command();
        cmd.args(["wordcount", "--stats", "--threads", "1", "in.txt"])
            .cmd()
            .env("RAYON_NUM_THREADS", "3");
        assert_eq!(threads_in_stats(&cmd.output()), "1");
    }
);
