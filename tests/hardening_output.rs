//! Issue 12, output safety: no output is written over an input or over
//! another output of the same run, `--output-dir` runs never leave a mix
//! or lose the previous results, and a stdout that cannot be written is an
//! error.

use std::path::Path;
use std::process::{Command, Output, Stdio};

use crate::util::{assert_one_line_error, Dir, TestCommand, BIN};

/// Asserts a usage error (exit 2) of one line naming `path` with `cause`.
fn assert_refused(cmd: &mut TestCommand, path: &str, cause: &str) {
    let out = cmd.assert_exit_code(2);
    assert_one_line_error(&out, Path::new(path), cause);
}

// Case 1: --stats-json, like -o, never replaces an input, however named.
mrtest!(
    stats_json_over_an_input_is_refused,
    |dir: Dir, _: TestCommand| {
        let text = "a b c a\n";
        dir.create("v.txt", text);
        dir.create("corpus/w.txt", text);
        let cases: &[&[&str]] = &[
            &["wordcount", "v.txt", "--stats-json", "v.txt"],
            &["wordcount", "v.txt", "--stats-json", "./v.txt"],
            &["wordcount", "-r", "corpus", "--stats-json", "corpus/w.txt"],
            &["sort", "v.txt", "--stats-json", "v.txt"],
            &["grep", "a", "v.txt", "--stats-json", "v.txt"],
            &["invert", "v.txt", "--stats-json", "v.txt"],
        ];
        for args in cases {
            let path = args[args.len() - 1];
            assert_refused(
                dir.command().args(*args),
                path,
                "refusing to overwrite an input file",
            );
            assert_eq!(dir.read("v.txt"), text.as_bytes(), "{args:?}");
            assert_eq!(dir.read("corpus/w.txt"), text.as_bytes(), "{args:?}");
        }
        assert_eq!(dir.list("."), ["corpus", "v.txt"]);
    }
);

// Case 1: two outputs of one run never name the same file: -o and
// --stats-json, an output through a link, a stats file inside
// --output-dir, or a file that stdout already writes into.
mrtest!(
    two_outputs_of_one_run_are_refused,
    |dir: Dir, _: TestCommand| {
        dir.create("a.txt", "a b c a\n");
        dir.create("o.tsv", "old\t1\n");
        std::os::unix::fs::symlink("o.tsv", dir.join("link.tsv")).expect("symlink");
        let cases: &[(&[&str], &str)] = &[
            (
                &["wordcount", "a.txt", "-o", "o.tsv", "--stats-json", "o.tsv"],
                "o.tsv",
            ),
            (
                &[
                    "wordcount",
                    "a.txt",
                    "-o",
                    "new.tsv",
                    "--stats-json",
                    "./new.tsv",
                ],
                "new.tsv",
            ),
            (
                &[
                    "wordcount",
                    "a.txt",
                    "-o",
                    "o.tsv",
                    "--stats-json",
                    "link.tsv",
                ],
                "link.tsv",
            ),
            (
                &["sort", "a.txt", "-o", "o.tsv", "--stats-json", "o.tsv"],
                "o.tsv",
            ),
            (
                &["grep", "a", "a.txt", "-o", "o.tsv", "--stats-json", "o.tsv"],
                "o.tsv",
            ),
            (
                &["invert", "a.txt", "-o", "o.tsv", "--stats-json", "o.tsv"],
                "o.tsv",
            ),
            (
                &[
                    "wordcount",
                    "a.txt",
                    "--output-dir",
                    "out",
                    "--stats-json",
                    "out/stats.json",
                ],
                "out/stats.json",
            ),
        ];
        for (args, path) in cases {
            let out = dir.command().args(*args).assert_exit_code(2);
            assert_one_line_error(&out, Path::new(path), "same run");
            assert_eq!(dir.read("o.tsv"), b"old\t1\n", "{args:?}");
            assert_eq!(dir.list("."), ["a.txt", "link.tsv", "o.tsv"], "{args:?}");
        }

        // stdout redirected into the file --stats-json would replace.
        let out = Command::new("sh")
            .arg("-c")
            .arg(r#"exec "$0" wordcount a.txt --stats-json o.tsv > o.tsv"#)
            .arg(BIN)
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .output()
            .expect("run sh");
        assert_eq!(out.status.code(), Some(2), "{out:?}");
        assert_one_line_error(&out, Path::new("o.tsv"), "same run");
        assert_eq!(dir.read("o.tsv"), b"", "the shell truncated it, no more");
    }
);

// Case 1: the checks come before the job, and a run that passes them
// still writes every output.
mrtest!(
    distinct_outputs_are_all_written,
    |dir: Dir, mut cmd: TestCommand| {
        dir.create("a.txt", "a b c a\n");
        cmd.args([
            "wordcount",
            "a.txt",
            "-o",
            "o.tsv",
            "--stats-json",
            "s.json",
        ])
        .assert_exit_code(0);
        assert_eq!(dir.read("o.tsv"), b"a\t2\nb\t1\nc\t1\n");
        assert!(dir.read("s.json").starts_with(b"{"));
        // Writing twice into /dev/null replaces nothing.
        dir.command()
            .args([
                "wordcount",
                "a.txt",
                "-o",
                "/dev/null",
                "--stats-json",
                "/dev/null",
            ])
            .assert_exit_code(0);
    }
);

// Case 2: --force does not replace the part files it reads.
mrtest!(
    force_over_its_own_input_is_refused,
    |dir: Dir, _: TestCommand| {
        dir.create("in.txt", "a b a\n");
        dir.command()
            .args([
                "wordcount",
                "in.txt",
                "--output-dir",
                "out",
                "--partitions",
                "2",
            ])
            .assert_exit_code(0);
        let before: Vec<_> = ["part-00000", "part-00001"]
            .iter()
            .map(|p| dir.read(Path::new("out").join(p)))
            .collect();
        let cases: &[(&[&str], &str)] = &[
            (&["out/part-00001"], "out/part-00001"),
            (&["in.txt", "out/part-00000"], "out/part-00000"),
            (&["-r", "out"], "out/_SUCCESS"),
        ];
        for (inputs, path) in cases {
            assert_refused(
                dir.command().arg("wordcount").args(*inputs).args([
                    "--output-dir",
                    "out",
                    "--force",
                    "--partitions",
                    "2",
                ]),
                path,
                "refusing to overwrite an input file",
            );
            assert_eq!(dir.list("out"), ["_SUCCESS", "part-00000", "part-00001"]);
            for (p, old) in ["part-00000", "part-00001"].iter().zip(&before) {
                assert_eq!(&dir.read(Path::new("out").join(p)), old, "{inputs:?}");
            }
        }
    }
);

/// Runs `mr-local ARGS` in `dir` with its stdout closed (`>&-`).
fn run_with_closed_stdout(dir: &Dir, args: &[&str]) -> Output {
    Command::new("sh")
        .arg("-c")
        .arg(r#"exec "$0" "$@" >&-"#)
        .arg(BIN)
        .args(args)
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .output()
        .expect("run sh")
}

// Case 4: a closed stdout is a write error (exit 1, one line), not a
// quiet success, for every command that writes to stdout.
mrtest!(closed_stdout_is_an_error, |dir: Dir, _: TestCommand| {
    dir.create("a.txt", "a b c a\n");
    let cases: &[&[&str]] = &[
        &["wordcount", "a.txt"],
        &["wordcount", "a.txt", "--sort", "none"],
        &["sort", "a.txt"],
        &["grep", "a", "a.txt"],
        &["invert", "a.txt"],
        &["generate", "--size", "1K"],
        &["completions", "bash"],
        &["streaming", "reduce", "wordcount"],
    ];
    for args in cases {
        let out = run_with_closed_stdout(&dir, args);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {out:?}");
        assert_one_line_error(&out, Path::new("<stdout>"), "bad file descriptor");
    }
    // Where stdout is not written, its state does not matter.
    let out = run_with_closed_stdout(&dir, &["wordcount", "a.txt", "-o", "o.tsv"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(dir.read("o.tsv"), b"a\t2\nb\t1\nc\t1\n");
});

/// `_SUCCESS` and `part-00000` to `part-{n-1}`, as `Dir::list` sorts them.
fn part_names(n: usize) -> Vec<String> {
    let mut names = vec!["_SUCCESS".to_string()];
    names.extend((0..n).map(|i| format!("part-{i:05}")));
    names
}

/// Every part file of `dir/name`, in part order, concatenated.
fn parts_of(dir: &Dir, name: &str) -> Vec<u8> {
    let mut all = Vec::new();
    for part in dir.list(name).iter().filter(|n| n.starts_with("part-")) {
        all.extend(dir.read(Path::new(name).join(part)));
    }
    all
}

/// Asserts that `dir` holds nothing but `keep` and, if it exists, an
/// output directory `out` that is complete: `_SUCCESS` and `n` parts.
fn assert_whole_or_absent(dir: &Dir, keep: &[&str], n: usize) {
    let mut names = dir.list(".");
    names.retain(|name| !keep.contains(&name.as_str()));
    assert!(
        names.is_empty() || names == ["out"],
        "left beside the output: {names:?}"
    );
    if !names.is_empty() {
        let got = dir.list("out");
        assert!(
            got == part_names(n),
            "a partial output directory: {} entries of {}, _SUCCESS: {}",
            got.len(),
            n + 1,
            got.contains(&"_SUCCESS".to_string())
        );
    }
}

/// Text with `n` distinct words, `tag0 tag1 ...`, a few bytes each.
fn distinct_words(tag: &str, n: usize) -> String {
    (0..n).map(|i| format!("{tag}{i}\n")).collect()
}

// Case 3: a --force run that fails while writing (here: a file size limit,
// as a full disk would) leaves the earlier results as they were.
mrtest!(
    failed_force_run_keeps_the_earlier_results,
    |dir: Dir, _: TestCommand| {
        dir.create("old.txt", "old words\n");
        dir.create("new.txt", distinct_words("new", 20_000));
        dir.command()
            .args([
                "wordcount",
                "old.txt",
                "--output-dir",
                "out",
                "--partitions",
                "2",
            ])
            .assert_exit_code(0);
        let before = parts_of(&dir, "out");
        // SIGXFSZ ignored, so that a write past the limit fails with EFBIG.
        let out = Command::new("sh")
            .arg("-c")
            .arg(r#"trap '' XFSZ; ulimit -f 16; exec "$0" "$@""#)
            .arg(BIN)
            .args([
                "wordcount",
                "new.txt",
                "--output-dir",
                "out",
                "--force",
                "--partitions",
                "2",
            ])
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .output()
            .expect("run sh");
        assert_eq!(out.status.code(), Some(1), "{out:?}");
        assert_one_line_error(&out, Path::new("out/part-0000"), "file too large");
        assert_eq!(dir.list("out"), part_names(2));
        assert_eq!(parts_of(&dir, "out"), before);
        assert_eq!(dir.list("."), ["new.txt", "old.txt", "out"]);
    }
);

// Case 3: Ctrl-C while the parts are written leaves either no output or a
// whole one, never parts without _SUCCESS, and no temporary directory.
mrtest!(
    interrupted_output_dir_is_whole_or_absent,
    |dir: Dir, _: TestCommand| {
        use std::time::Duration;

        let partitions = 2000;
        dir.create("in.txt", distinct_words("w", 50_000));
        let child = Command::new(BIN)
            .args(["wordcount", "in.txt", "--output-dir", "out"])
            .args(["--partitions", &partitions.to_string()])
            .current_dir(dir.path())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        // Until the first part file is being written, whichever directory it
        // is written into.
        crate::util::poll_until(Duration::from_secs(60), "no output appeared", || {
            dir.list(".")
                .iter()
                .filter(|name| *name == "out" || name.starts_with(".out."))
                .any(|name| std::fs::read_dir(dir.join(name)).is_ok_and(|mut d| d.next().is_some()))
        });
        let killed = Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(killed.success());
        let status =
            crate::util::wait_within(child, Duration::from_secs(60), "mr-local after SIGINT");
        assert!(matches!(status.code(), Some(0 | 130)), "{status}");
        assert_whole_or_absent(&dir, &["in.txt"], partitions);
    }
);

// Case 3: concurrent --force runs into one directory never mix: what is
// left is one run's whole output, and nothing beside it.
mrtest!(
    concurrent_force_runs_do_not_mix,
    |dir: Dir, _: TestCommand| {
        let partitions = 300;
        let texts = ["a.txt", "b.txt"];
        for (tag, name) in ["a", "b"].iter().zip(texts) {
            dir.create(name, distinct_words(tag, 3000));
        }
        let run = |input: &str| {
            let mut cmd = Command::new(BIN);
            cmd.args([
                "wordcount",
                input,
                "--output-dir",
                "out",
                "--force",
                "--sort",
                "key",
            ])
            .args(["--partitions", &partitions.to_string()])
            .current_dir(dir.path());
            cmd
        };
        let expected: Vec<Vec<u8>> = texts
            .iter()
            .map(|input| {
                let done = run(input).arg("--quiet").status().expect("run");
                assert!(done.success());
                parts_of(&dir, "out")
            })
            .collect();
        for round in 0..3 {
            let children: Vec<_> = texts
                .iter()
                .map(|input| {
                    run(input)
                        .stdout(Stdio::null())
                        .stderr(Stdio::piped())
                        .spawn()
                        .expect("spawn")
                })
                .collect();
            for child in children {
                let out = child.wait_with_output().expect("wait");
                assert!(out.status.success(), "round {round}: {out:?}");
            }
            assert_whole_or_absent(&dir, &texts, partitions);
            let got = parts_of(&dir, "out");
            assert!(expected.contains(&got), "round {round}: a mix of both runs");
        }
    }
);

/// Runs `mr-local ARGS` in `dir` and returns its peak resident set size in
/// KiB, as `wait4` reports it for that one child.
fn peak_rss_kib(dir: &Dir, args: &[&str]) -> i64 {
    // Waited for by wait4 below, which std's wait cannot report for.
    #[allow(clippy::zombie_processes)]
    let child = Command::new(BIN)
        .args(args)
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .spawn()
        .expect("spawn mr-local");
    let pid = libc::pid_t::try_from(child.id()).expect("a pid");
    let mut status = 0;
    // SAFETY: `rusage` is plain data, for which all zeroes is a valid value.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: both pointers are to live locals; the child is ours and not
    // waited for elsewhere (`child` is never waited on).
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(waited, pid, "wait4: {}", std::io::Error::last_os_error());
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "{args:?} failed: {status}"
    );
    usage.ru_maxrss
}

// Case 10: word count's memory does not grow with its distinct keys. Its
// tables drain when full at a size set by the budget, a streamed chunk's
// output reaches the budget as it is made, --sort key, --sort none and
// --output-dir write the result partition by partition, the count order
// (to one stream or per part file) sorts in runs within the budget and
// merges them, and --top N keeps N per partition.
//
// The reference is the same run on as many lines of one word. Read in
// chunks (--no-mmap), 400,000 distinct words at --memory 2M may cost a
// fixed allowance over it (buffers, a few times the budget), not memory per
// word: that cost 25 MB and more when tables or a partition were held whole
// (about 60 bytes a word).
mrtest!(
    word_count_never_holds_its_whole_result,
    |dir: Dir, _: TestCommand| {
        let words = 400_000;
        let text: String = (1..=words).map(|i| format!("{i}\n")).collect();
        dir.create("u.txt", text);
        dir.create("one.txt", "1234567\n".repeat(words));
        let run = |input: &str, extra: &[&str]| {
            let mut args = vec![
                "wordcount",
                input,
                "--no-mmap",
                "--threads",
                "1",
                "--memory",
                "2M",
            ];
            args.extend(extra);
            peak_rss_kib(&dir, &args)
        };
        let reference = run("one.txt", &["-o", "one.tsv"]);
        let allowance = 12 * 1024;
        let runs: [(&str, &[&str]); 5] = [
            ("count order", &["-o", "count.tsv"]),
            ("--sort key", &["--sort", "key", "-o", "key.tsv"]),
            ("--sort none", &["--sort", "none", "-o", "none.tsv"]),
            ("--output-dir", &["--output-dir", "out"]),
            ("--top 10", &["--top", "10", "-o", "top.tsv"]),
        ];
        for (what, args) in runs {
            let peak = run("u.txt", args);
            assert!(
                peak < reference + allowance,
                "{what} peaked at {peak} KiB, {} KiB over {reference} KiB for one word",
                peak - reference
            );
        }
        // Every count is 1, so the count order is the key order.
        let counts = dir.read("count.tsv");
        assert!(dir.read("key.tsv") == counts, "--sort key differs");
        let ten = counts.split_inclusive(|&b| b == b'\n').take(10);
        assert_eq!(dir.read("top.tsv"), ten.collect::<Vec<_>>().concat());
        let expected: String = {
            let mut lines: Vec<String> = (1..=words).map(|i| format!("{i}\t1\n")).collect();
            lines.sort();
            lines.concat()
        };
        assert!(counts == expected.as_bytes(), "the count order is wrong");
        assert_eq!(dir.read("none.tsv").len(), counts.len());
        assert_eq!(dir.list("out").len(), 1 + 4);
        // Each part file is in count order: here, by word.
        for part in dir.list("out").iter().filter(|p| p.starts_with("part-")) {
            let text = dir.read(format!("out/{part}"));
            let lines: Vec<&[u8]> = text.split_inclusive(|&b| b == b'\n').collect();
            assert!(
                lines.windows(2).all(|w| w[0] < w[1]),
                "{part} is not sorted"
            );
        }
    }
);

/// What `dir/out` holds: the whole output of run `a` or of run `b` (given
/// as the parts each wrote), or a description of the mix.
fn whole_output_of(dir: &Dir, runs: &[(&str, &[u8])], n: usize) -> Result<String, String> {
    let names = dir.list("out");
    let ok = names == part_names(n);
    let got = parts_of(dir, "out");
    match runs.iter().find(|(_, parts)| ok && got == *parts) {
        Some((name, _)) => Ok(name.to_string()),
        None => Err(format!(
            "a partial output directory: {} entries of {}, _SUCCESS: {}",
            names.len(),
            n + 1,
            names.iter().any(|n| n == "_SUCCESS")
        )),
    }
}

// Case 3: SIGTERM near the end of a --force run, when the parts are all but
// written and the commit is close: the run ends with 143, and DIR holds the
// whole earlier result or the whole new one, with nothing left beside it.
// The moment is a race, so the test tries it a few times.
mrtest!(
    signal_near_the_commit_keeps_one_whole_output,
    |dir: Dir, _: TestCommand| {
        use std::time::{Duration, Instant};

        let n = 200;
        dir.create("old.txt", distinct_words("old", 2000));
        dir.create("new.txt", distinct_words("new", 60_000));
        let run = |input: &str| {
            let mut cmd = Command::new(BIN);
            cmd.args(["wordcount", input, "--output-dir", "out", "--force"])
                .args(["--sort", "key", "--partitions", &n.to_string()])
                .current_dir(dir.path())
                .stdin(Stdio::null())
                .stderr(Stdio::null());
            cmd
        };
        let mut expected: Vec<Vec<u8>> = Vec::new();
        for input in ["new.txt", "old.txt"] {
            assert!(run(input).status().expect("run").success());
            expected.push(parts_of(&dir, "out"));
        }
        let runs = [("new", &expected[0][..]), ("old", &expected[1][..])];
        let fresh_parts = || {
            dir.list(".")
                .iter()
                .filter(|name| name.starts_with(".out."))
                .filter_map(|name| std::fs::read_dir(dir.join(name)).ok())
                .map(|d| d.count())
                .max()
        };
        let mut signalled = 0;
        for round in 0..10 {
            let mut child = run("new.txt").spawn().expect("spawn");
            let deadline = Instant::now() + Duration::from_secs(60);
            let mut sent = false;
            while child.try_wait().expect("try_wait").is_none() {
                assert!(
                    Instant::now() < deadline,
                    "round {round}: no parts appeared"
                );
                if fresh_parts().is_some_and(|count| count >= n - 10) {
                    let pid = child.id().to_string();
                    let killed = Command::new("kill").args(["-TERM", &pid]).status();
                    sent = killed.expect("run kill").success();
                    break;
                }
            }
            let status =
                crate::util::wait_within(child, Duration::from_secs(60), "mr-local after SIGTERM");
            let outcome = whole_output_of(&dir, &runs, n);
            assert!(outcome.is_ok(), "round {round}: {outcome:?}, {status}");
            let mut names = dir.list(".");
            names.retain(|name| name.starts_with('.'));
            assert!(names.is_empty(), "round {round}: left beside: {names:?}");
            if sent {
                assert_eq!(status.code(), Some(143), "round {round}: {outcome:?}");
                signalled += 1;
                if signalled == 3 {
                    break;
                }
            }
            // Back to the earlier result, for the next round.
            assert!(run("old.txt").status().expect("run").success());
        }
        assert!(signalled > 0, "the signal never came in time");
    }
);

/// The inode of `path`.
fn inode(path: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).expect("stat").ino()
}

// Case 3: `--output-dir .` writes into the current directory in place: the
// shell's directory stays the same inode, and a --force run with fewer
// partitions leaves exactly its own parts.
mrtest!(
    output_dir_dot_is_written_in_place,
    |dir: Dir, _: TestCommand| {
        dir.create("a.txt", "a b c a\n");
        dir.create("b.txt", distinct_words("b", 100));
        let out = dir.create_dir("out");
        let before = inode(&out);
        let run = |input: &str, partitions: &str, force: bool| {
            let mut cmd = dir.command();
            cmd.cmd().current_dir(&out);
            cmd.args(["wordcount", input, "--output-dir", ".", "--sort", "key"])
                .args(["--partitions", partitions]);
            if force {
                cmd.arg("--force");
            }
            cmd.assert_exit_code(0);
        };
        run("../b.txt", "4", false);
        assert_eq!(dir.list("out"), part_names(4));
        assert_eq!(inode(&out), before, "the directory was replaced");
        run("../a.txt", "2", true);
        assert_eq!(dir.list("out"), part_names(2));
        assert_eq!(inode(&out), before, "the directory was replaced");
        let mut lines: Vec<Vec<u8>> = parts_of(&dir, "out")
            .split_inclusive(|&b| b == b'\n')
            .map(<[u8]>::to_vec)
            .collect();
        lines.sort();
        assert_eq!(lines.concat(), b"a\t2\nb\t1\nc\t1\n");
        assert_eq!(dir.list("."), ["a.txt", "b.txt", "out"]);
    }
);

// Case 3: an in-place run holds DIR locked; a second run into it fails at
// once with one line (exit 1) and leaves DIR as it was.
mrtest!(
    concurrent_in_place_run_is_refused,
    |dir: Dir, _: TestCommand| {
        use std::os::fd::AsRawFd;

        dir.create("a.txt", "a b c a\n");
        let out = dir.create_dir("out");
        let run = |force: bool| {
            let mut cmd = dir.command();
            cmd.cmd().current_dir(&out);
            cmd.args(["wordcount", "../a.txt", "--output-dir", "."]);
            if force {
                cmd.arg("--force");
            }
            cmd
        };
        run(false).assert_exit_code(0);
        let (names, before) = (dir.list("out"), parts_of(&dir, "out"));
        assert!(names.contains(&"_SUCCESS".to_string()));
        // The lock another run would hold: flock on DIR, as mr-local takes.
        let held = std::fs::File::open(&out).expect("open out");
        // SAFETY: the descriptor is `held`'s, open across the call.
        let locked = unsafe { libc::flock(held.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        assert_eq!(locked, 0, "flock: {}", std::io::Error::last_os_error());
        let failed = run(true).assert_exit_code(1);
        assert_one_line_error(&failed, Path::new("."), "another mr-local run");
        assert_eq!(dir.list("out"), names);
        assert_eq!(parts_of(&dir, "out"), before);
        drop(held);
        run(true).assert_exit_code(0);
    }
);

// Case 3: a mount point cannot be renamed; it is written in place. Needs
// root and tmpfs: skipped where `mount` fails.
mrtest!(output_dir_on_a_mount_point, |dir: Dir, _: TestCommand| {
    dir.create("a.txt", "a b c a\n");
    let mnt = dir.create_dir("mnt");
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=4m", "tmpfs"])
        .arg(&mnt)
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !mounted {
        eprintln!("skipping: cannot mount a tmpfs here (needs root)");
        return;
    }
    let result = std::panic::catch_unwind(|| {
        for force in [false, true] {
            let mut cmd = dir.command();
            cmd.args([
                "wordcount",
                "a.txt",
                "--output-dir",
                "mnt",
                "--partitions",
                "2",
            ]);
            if force {
                cmd.arg("--force");
            }
            cmd.assert_exit_code(0);
            assert_eq!(dir.list("mnt"), part_names(2));
        }
    });
    let _ = Command::new("umount").arg(&mnt).status();
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
});
