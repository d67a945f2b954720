//! Issue 12 (hardening), the CLI cases: `sort -r` (15), file names in
//! `invert`'s TSV (16), thread counts (12), overflowing counts (5) and
//! bytes that are not UTF-8 in `--split whitespace` (7).

use std::path::Path;
use std::time::Duration;

use crate::util::{assert_one_line_error, Dir, TestCommand};

// Case 15: for `sort`, `-r` is `--reverse` alone; `--recursive` has no
// short flag there, and the help, the completions and the message about a
// directory say so.
mrtest!(
    issue12_sort_r_means_reverse_only,
    |dir: Dir, _: TestCommand| {
        let help = dir.command().args(["sort", "--help"]).stdout();
        assert_eq!(help.matches("-r,").count(), 1, "{help}");
        assert!(help.contains("-r, --reverse"), "{help}");
        assert!(help.contains("    --recursive"), "{help}");
        dir.create("corpus/a.txt", "b\na\nc\n");
        let reversed = dir.command().args(["sort", "-r", "corpus/a.txt"]).stdout();
        assert_eq!(reversed, "c\nb\na\n");
        let sorted = dir
            .command()
            .args(["sort", "--recursive", "corpus"])
            .stdout();
        assert_eq!(sorted, "a\nb\nc\n");
        let out = dir
            .command()
            .args(["sort", "-r", "corpus"])
            .assert_exit_code(1);
        assert_one_line_error(&out, Path::new("corpus"), "is a directory (use --recursive");
        // The other commands keep -r for --recursive.
        let counts = dir.command().args(["wordcount", "-r", "corpus"]).stdout();
        assert_eq!(counts.lines().count(), 3);
        for shell in ["bash", "zsh", "fish"] {
            dir.command().args(["completions", shell]).stdout();
        }
    }
);

/// Asserts a usage error (exit 2): nothing on stdout, one line on stderr
/// that holds each of `words`.
fn assert_usage_line(cmd: &mut TestCommand, words: &[&str]) {
    let out = cmd.assert_exit_code(2);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.stdout.is_empty(), "stdout: {:?}", out.stdout);
    assert!(
        stderr.starts_with("mr-local: ") && stderr.lines().count() == 1,
        "{stderr:?}"
    );
    for word in words {
        assert!(
            stderr.contains(word),
            "stderr should say {word:?}: {stderr:?}"
        );
    }
}

// Case 16: a file name holding a TAB or a line break cannot be written
// in a TSV index; `invert` refuses it as `streaming map invert --file`
// does (exit 2, one line naming the file), and JSON quotes it.
mrtest!(
    issue12_invert_refuses_tsv_breaking_names,
    |dir: Dir, _: TestCommand| {
        dir.create("plain.txt", "hello world\n");
        for name in ["a\tb.txt", "line\nbreak.txt", "cr\r.txt"] {
            dir.create(format!("corpus/{name}"), "hello\n");
            let quoted = format!("{name:?}");
            let quoted = quoted.trim_matches('"');
            let mut named = dir.command();
            named
                .args(["invert", "plain.txt"])
                .arg(format!("corpus/{name}"));
            assert_usage_line(&mut named, &[quoted, "--format json"]);
            let mut found = dir.command();
            found.args(["invert", "-r", "corpus", "-o", "index.tsv"]);
            assert_usage_line(&mut found, &[quoted]);
            assert!(!dir.join("index.tsv").exists());
            let json = dir
                .command()
                .args(["invert", "--format", "json"])
                .arg(format!("corpus/{name}"))
                .stdout();
            let file = format!("\"corpus/{quoted}\"");
            assert_eq!(
                json,
                format!("{{\"word\": \"hello\", \"files\": [{file}]}}\n")
            );
            std::fs::remove_file(dir.join(format!("corpus/{name}"))).unwrap();
        }
        // Other names are written as they are.
        let tsv = dir.command().args(["invert", "plain.txt"]).stdout();
        assert_eq!(tsv, "hello\tplain.txt\nworld\tplain.txt\n");
    }
);

// Case 12: thread counts above the documented maximum are a usage error
// (they used to run for minutes), and the maximum itself finishes a tiny
// input promptly. The limit is only there to catch a hang, not to time it.
mrtest!(
    issue12_thread_counts_are_capped,
    |dir: Dir, _: TestCommand| {
        dir.create("tiny.txt", "hello world hello\n");
        let max = mr_local::MAX_THREADS.to_string();
        for too_many in [
            (mr_local::MAX_THREADS + 1).to_string(),
            "10000".into(),
            "4294967295".into(),
        ] {
            for command in ["wordcount", "sort", "grep", "streaming"] {
                let mut cmd = dir.command();
                cmd.arg(command);
                if command == "grep" {
                    cmd.arg("hello");
                } else if command == "streaming" {
                    cmd.args(["map", "wordcount"]);
                }
                cmd.args(["--threads", &too_many, "tiny.txt"]);
                // clap's usage error, as for --threads 0.
                let out = cmd.assert_exit_code(2);
                let stderr = String::from_utf8_lossy(&out.stderr);
                assert!(out.stdout.is_empty());
                let range = format!("{too_many} is not in 1..={max}");
                assert!(
                    stderr.contains("--threads") && stderr.contains(&range),
                    "{stderr}"
                );
            }
        }
        let help = dir.command().args(["wordcount", "--help"]).stdout();
        assert!(
            help.contains(&format!("Worker threads, at most {max}")),
            "{help}"
        );
        let out = dir
            .command()
            .args(["wordcount", "--threads", &max, "tiny.txt"])
            .output_within(Duration::from_secs(60));
        assert!(out.status.success(), "{out:?}");
        assert_eq!(out.stdout, b"hello\t2\nworld\t1\n");
    }
);

// Like threads, partitions cost every map thread a buffer each: ten million
// of them took 20 s and 7.9 GB for a tiny input. Above the maximum they are
// a usage error; the maximum itself starts and finishes promptly.
mrtest!(
    issue12_partition_counts_are_capped,
    |dir: Dir, _: TestCommand| {
        dir.create("tiny.txt", "hello world hello\n");
        let max = mr_local::MAX_PARTITIONS.to_string();
        for too_many in [
            (mr_local::MAX_PARTITIONS + 1).to_string(),
            "10000000".into(),
        ] {
            let out = dir
                .command()
                .args(["wordcount", "--partitions", &too_many, "tiny.txt"])
                .assert_exit_code(2);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(out.stdout.is_empty());
            assert!(
                stderr.contains(&format!("{too_many} is not in 1..={max}")),
                "{stderr}"
            );
        }
        let out = dir
            .command()
            .args(["wordcount", "--partitions", &max, "tiny.txt"])
            .output_within(Duration::from_secs(60));
        assert!(out.status.success(), "{out:?}");
        assert_eq!(out.stdout, b"hello\t2\nworld\t1\n");
    }
);

// Case 5: a sum of counts past u64::MAX fails the streaming reducer and
// combiner (exit 1, one line naming the key and the line), where it used
// to print u64::MAX and exit 0; sums that fit still work up to the max.
mrtest!(
    issue12_streaming_count_overflow_fails,
    |dir: Dir, _: TestCommand| {
        for command in ["reduce", "combine"] {
            let out = dir
                .command()
                .args(["streaming", command, "wordcount"])
                .pipe_output("a\t18446744073709551615\na\t1\n");
            assert_eq!(out.status.code(), Some(1), "{out:?}");
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(out.stdout.is_empty(), "{out:?}");
            let errors: Vec<&str> = stderr
                .lines()
                .filter(|l| !l.starts_with("reporter:"))
                .collect();
            assert_eq!(errors.len(), 1, "{stderr}");
            for word in [
                "mr-local: <stdin>: line 2: key \"a\"",
                "18446744073709551615",
            ] {
                assert!(errors[0].contains(word), "{word:?} not in {stderr:?}");
            }
            let fits = dir
                .command()
                .args(["streaming", command, "wordcount"])
                .pipe("a\t18446744073709551614\na\t1\nb\t2\n");
            assert_eq!(fits, "a\t18446744073709551615\nb\t2\n");
        }
    }
);

// Case 7: with --split whitespace a word is a maximal run of bytes that
// are not whitespace characters: bytes that are not UTF-8 belong to it and
// are written as they are; the valid pieces are lowercased.
mrtest!(
    issue12_whitespace_words_keep_invalid_bytes,
    |dir: Dir, _: TestCommand| {
        let input = b"fa\xe7ade caf\xe9\nFA\xe7ADE \xc3\x84\xff\xce\xa3\xe3\x80\x80\xffX\xe3\x80\n";
        let counts = dir
            .command()
            .args(["wordcount", "--split", "whitespace"])
            .pipe_output(input);
        assert!(counts.status.success(), "{counts:?}");
        let want: &[u8] = b"fa\xe7ade\t2\ncaf\xe9\t1\n\xc3\xa4\xff\xcf\x83\t1\n\xffx\xe3\x80\t1\n";
        assert_eq!(
            String::from_utf8_lossy(&counts.stdout),
            String::from_utf8_lossy(want)
        );
        assert_eq!(counts.stdout, want);
        // The default mode still splits there.
        let alnum = dir.command().arg("wordcount").pipe_output(&input[..12]);
        assert_eq!(alnum.stdout, b"ade\t1\ncaf\t1\nfa\t1\n");
        // invert and the streaming mapper find the same words.
        dir.create("in.txt", &input[..]);
        let index = dir
            .command()
            .args(["invert", "--split", "whitespace", "in.txt"])
            .output();
        assert!(index.stdout.starts_with(b"caf\xe9\tin.txt\n"), "{index:?}");
        let mapped = dir
            .command()
            .args(["streaming", "map", "wordcount", "--split", "whitespace"])
            .pipe_output(&input[..12]);
        let mut lines: Vec<&[u8]> = mapped.stdout.split(|&b| b == b'\n').collect();
        lines.sort();
        assert_eq!(lines, [&b""[..], b"caf\xe9\t1", b"fa\xe7ade\t1"]);
    }
);

// Case 11, beyond the buffers that grow with an input: any allocation can
// fail under a small address-space limit (a partition's pairs, a sort's
// scratch, a thread's stack), and the standard library then prints a
// backtrace and aborts (exit 134). The command's allocator makes each such
// failure one line and exit 1. Where exactly memory runs out depends on
// the binary and the machine, so the limit is swept: every run either
// succeeds or fails with one line, and at least one runs out of memory.
mrtest!(
    issue12_running_out_of_memory_is_one_line,
    |dir: Dir, _: TestCommand| {
        let corpus = dir
            .command()
            .args(["generate", "--size", "4M", "--seed", "11"])
            .stdout();
        dir.create("big.txt", corpus);
        let mut out_of_memory = 0;
        let limited = |limit_kib: u32, args: &[&str]| {
            std::process::Command::new("sh")
                .current_dir(dir.path())
                .env_remove("RUST_BACKTRACE")
                .arg("-c")
                .arg(format!("ulimit -v {limit_kib} && exec \"$0\" \"$@\""))
                .arg(crate::util::BIN)
                .args(args)
                .stdin(std::process::Stdio::null())
                .output()
                .expect("run sh")
        };
        dir.create("tiny.txt", "a few words\n");
        let sort = |input: &'static str| ["sort", "--threads", "2", input, "-o", "out.txt"];
        // Below some limit the binary cannot be loaded, or its threads
        // cannot get their stacks (the standard library panics there):
        // the sweep starts where sorting a tiny file works.
        let start = (4_000..=120_000)
            .step_by(4_000)
            .find(|&kib| limited(kib, &sort("tiny.txt")).status.success())
            .expect("sorting a tiny file works under some limit");
        for limit_kib in (start..=start + 120_000).step_by(8_000) {
            let out = limited(limit_kib, &sort("big.txt"));
            let stderr = String::from_utf8_lossy(&out.stderr);
            match out.status.code() {
                Some(0) => continue,
                Some(1) => {}
                _ => panic!("{limit_kib} KiB: {out:?}"),
            }
            assert_eq!(stderr.lines().count(), 1, "{limit_kib} KiB: {stderr}");
            assert!(
                stderr.starts_with("mr-local: "),
                "{limit_kib} KiB: {stderr}"
            );
            if stderr.contains("out of memory") {
                out_of_memory += 1;
            }
        }
        assert!(out_of_memory > 0, "no limit made the run run out of memory");
        // Failed runs leave no temporary output behind.
        let names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| name.contains("mr-local"))
            .collect();
        assert!(names.is_empty(), "{names:?}");
    }
);

// Case 1, for the streaming commands, which read stdin alone: a stdout
// appended to the file stdin reads would read its own output back.
mrtest!(
    issue12_streaming_never_writes_into_its_stdin,
    |dir: Dir, _: TestCommand| {
        dir.create("f.txt", "a\tb\n".repeat(1000));
        for command in ["map wordcount", "reduce wordcount", "combine wordcount"] {
            let out = std::process::Command::new("sh")
                .current_dir(dir.path())
                .arg("-c")
                .arg(format!("exec \"$0\" streaming {command} < f.txt >> f.txt"))
                .arg(crate::util::BIN)
                .output()
                .expect("run sh");
            assert_eq!(out.status.code(), Some(2), "{command}: {out:?}");
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(
                stderr,
                "mr-local: <stdout>: refusing to write into the file stdin reads\n"
            );
            assert_eq!(dir.read("f.txt"), "a\tb\n".repeat(1000).into_bytes());
        }
    }
);
