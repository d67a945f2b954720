//! `mr-local streaming map|combine|reduce`: Hadoop Streaming's contract
//! (separators, malformed lines, counters, pipes), the local pipeline
//! `map | LC_ALL=C sort | reduce` against `mr-local wordcount` on the real
//! corpora, the library example, and the same mapper and reducer under
//! Apache Spark in local mode (issue 7).

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use crate::util::{self, read_in_background, wait_within, Dir, TestCommand, BIN};

/// Runs `script` with bash, `set -euo pipefail`, `$MR` naming the binary
/// under test and `$1`... the `args`; asserts success and returns stdout.
pub(crate) fn bash(dir: &Dir, script: &str, args: &[&Path]) -> Vec<u8> {
    let out = Command::new("bash")
        .arg("-c")
        .arg(format!("set -euo pipefail\n{script}"))
        .arg("bash")
        .args(args)
        .env("MR", BIN)
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .output()
        .expect("run bash");
    assert!(
        out.status.success(),
        "{script} failed: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// The lines of `bytes` that do not start with `reporter:`.
fn non_reporter_lines(stderr: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(stderr)
        .lines()
        .filter(|l| !l.starts_with("reporter:"))
        .map(str::to_string)
        .collect()
}

/// The sum of the `reporter:counter:mr-local,NAME,N` lines of `stderr`.
fn counter(stderr: &[u8], name: &str) -> u64 {
    let prefix = format!("reporter:counter:mr-local,{name},");
    String::from_utf8_lossy(stderr)
        .lines()
        .filter_map(|l| l.strip_prefix(&prefix))
        .map(|n| n.parse::<u64>().expect("counter amount"))
        .sum()
}

fn stdout_of(out: &Output) -> &[u8] {
    assert!(
        out.status.success(),
        "failed: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    &out.stdout
}

// The issue's acceptance test: `cat input | map | LC_ALL=C sort | reduce`
// prints what `mr-local wordcount --sort key` prints, byte for byte, on
// every corpus (CRLF, invalid UTF-8, fourteen scripts), with wordcount's
// options, small chunks (so the reducer sums across map chunks) and a
// combiner in between. Re-sorted by count, it is `mr-local wordcount`'s
// default output.
mrtest!(
    map_sort_reduce_equals_wordcount_on_datasets,
    |dir: Dir, _: TestCommand| {
        let Some(data) = util::datasets() else { return };
        let mut udhr = Vec::new();
        let mut names: Vec<PathBuf> = std::fs::read_dir(data.join("udhr"))
            .expect("list udhr")
            .map(|e| e.expect("udhr entry").path())
            .collect();
        names.sort();
        for name in names {
            udhr.extend(util::read(name));
        }
        let udhr = dir.create("udhr-all.txt", udhr);
        let files = [
            data.join("kjvbible.txt"),
            data.join("silesia-dickens.txt"),
            data.join("canterbury-world192.txt"),
            udhr,
        ];
        let options: [&str; 3] = [
            "",
            "--split whitespace --case-sensitive",
            "--threads 2 --chunk-size 300K",
        ];
        for file in &files {
            for opts in options {
                let wordcount_opts = opts.replace("--chunk-size 300K", "");
                let script = format!(
                    "cat \"$1\" | \"$MR\" streaming map wordcount {opts} 2>/dev/null \
                     | LC_ALL=C sort | \"$MR\" streaming combine wordcount 2>/dev/null \
                     | \"$MR\" streaming reduce wordcount 2>/dev/null"
                );
                let got = bash(&dir, &script, &[file]);
                let expected = bash(
                    &dir,
                    &format!("\"$MR\" wordcount --sort key {wordcount_opts} \"$1\""),
                    &[file],
                );
                assert!(!expected.is_empty());
                assert!(
                    got == expected,
                    "{opts:?} on {}:\n{}",
                    file.display(),
                    util::describe_mismatch(
                        "wordcount --sort key",
                        &String::from_utf8_lossy(&expected),
                        "map | sort | reduce",
                        &String::from_utf8_lossy(&got),
                    )
                );
            }
        }
        let by_count = bash(
            &dir,
            "\"$MR\" streaming map wordcount < \"$1\" 2>/dev/null | LC_ALL=C sort \
             | \"$MR\" streaming reduce wordcount 2>/dev/null \
             | LC_ALL=C sort -t \"$(printf '\\t')\" -k2,2nr -k1,1",
            &[&files[1]],
        );
        let default = bash(&dir, "\"$MR\" wordcount \"$1\"", &[&files[1]]);
        assert!(by_count == default, "re-sorted by count, dickens differs");
    }
);

// Same pipeline on text made to break word counters (long words, CRLF,
// invalid UTF-8, no final newline), so that it runs where the datasets are
// absent too.
mrtest!(
    map_sort_reduce_equals_wordcount_on_tricky_text,
    |dir: Dir, _: TestCommand| {
        let file = dir.create("tricky.txt", util::tricky_text());
        for opts in ["", "--split whitespace", "--chunk-size 1K --threads 2"] {
            let got = bash(
                &dir,
                &format!(
                    "\"$MR\" streaming map wordcount {opts} < \"$1\" 2>/dev/null \
                     | LC_ALL=C sort | \"$MR\" streaming reduce wordcount 2>/dev/null"
                ),
                &[&file],
            );
            let opts = opts.replace("--chunk-size 1K", "");
            let expected = bash(
                &dir,
                &format!("\"$MR\" wordcount --sort key {opts} \"$1\""),
                &[&file],
            );
            assert!(got == expected, "{opts:?} differs");
        }
    }
);

// Hadoop's rules for reducer input: a line without the separator is all
// key with an empty value; the empty line is an empty key; keys are bytes;
// a CR before the LF is dropped; the last line needs no newline. Values
// that are not counts are bad records: skipped and counted, never fatal.
mrtest!(
    reducer_follows_hadoops_rules_for_malformed_lines,
    |_: Dir, mut cmd: TestCommand| {
        let input: &[u8] = b"\n\nno separator\n\xff\xfe\t2\n\xff\xfe\t3\r\n\
            x\tnot a number\nx\t4\nx\t-1\nx\t\t5\ny\t18446744073709551616\nz\t7";
        let out = cmd
            .args(["streaming", "reduce", "wordcount"])
            .pipe_output(input);
        assert_eq!(stdout_of(&out), b"\xff\xfe\t5\nx\t4\nz\t7\n");
        assert_eq!(non_reporter_lines(&out.stderr), Vec::<String>::new());
        // Empty, empty, no separator, three bad x values, y too large.
        assert_eq!(counter(&out.stderr, "bad records"), 7);
        assert_eq!(counter(&out.stderr, "reduce input records"), 11);
        assert_eq!(counter(&out.stderr, "reduce input groups"), 6);
        assert_eq!(counter(&out.stderr, "reduce output records"), 3);
    }
);

mrtest!(combine_is_the_reducer, |dir: Dir, mut cmd: TestCommand| {
    let input = b"a\t1\na\t2\nb\t1\nb\tx\n";
    let reduced = dir
        .command()
        .args(["streaming", "reduce", "wordcount"])
        .pipe_output(input);
    let combined = cmd
        .args(["streaming", "combine", "wordcount"])
        .pipe_output(input);
    assert_eq!(stdout_of(&combined), b"a\t3\nb\t1\n");
    assert_eq!(stdout_of(&combined), stdout_of(&reduced));
    assert_eq!(combined.stderr, reduced.stderr);
});

// Separators named after Hadoop's properties, multi-byte ones and the `\t`
// spelling included; a local pipe hands the reducer the mapper's separator.
mrtest!(
    separators_follow_the_flags,
    |dir: Dir, mut cmd: TestCommand| {
        let text = "b a b\nc b\n";
        let mapped = cmd
            .args([
                "streaming",
                "map",
                "wordcount",
                "--map-output-field-separator",
                "::",
            ])
            .pipe_output(text);
        let mut lines: Vec<&str> = std::str::from_utf8(stdout_of(&mapped))
            .unwrap()
            .lines()
            .collect();
        lines.sort();
        assert_eq!(lines, ["a::1", "b::3", "c::1"]);

        let reduced = dir
            .command()
            .args(["streaming", "reduce", "wordcount"])
            .args(["--reduce-input-field-separator", "::"])
            .args(["--reduce-output-field-separator", ","])
            .pipe_output("a::1\nb::3\nb::2\nc::1\n");
        assert_eq!(stdout_of(&reduced), b"a,1\nb,5\nc,1\n");

        let tab = dir
            .command()
            .args(["streaming", "reduce", "wordcount"])
            .args(["--reduce-input-field-separator", "\\t"])
            .args(["--reduce-output-field-separator", "\\t"])
            .pipe_output("a\t1\na\t2\n");
        assert_eq!(stdout_of(&tab), b"a\t3\n");
    }
);

// A word holding the separator would be cut short on the cluster: the
// mapper fails, with one line naming the word, rather than write it. (The
// words written before it stay written, as any streaming task's output
// does: a cluster discards a failed task's output.)
mrtest!(
    a_word_holding_the_separator_fails_the_mapper,
    |_: Dir, mut cmd: TestCommand| {
        let out = cmd
            .args(["streaming", "map", "wordcount", "--split", "whitespace"])
            .args(["--map-output-field-separator", ","])
            .pipe_output("fine words, and more\n");
        assert_eq!(out.status.code(), Some(1), "{out:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.starts_with("mr-local: <stdout>: key \"words,\" ")
                && stderr.ends_with('\n')
                && stderr.lines().count() == 1,
            "{stderr:?}"
        );
        assert!(!out.stdout.windows(6).any(|w| w == b"words,"));
    }
);

mrtest!(
    bad_flags_are_usage_errors,
    |dir: Dir, mut cmd: TestCommand| {
        cmd.args(["streaming", "map", "wordcount"])
            .args(["--map-output-field-separator", ""])
            .assert_exit_code(2);
        dir.command()
            .args(["streaming", "reduce", "no-such-job"])
            .assert_exit_code(2);
        dir.command()
            .args(["streaming", "map", "wordcount", "--chunk-size", "0"])
            .assert_exit_code(2);
        let help = dir
            .command()
            .args(["streaming", "reduce", "--help"])
            .stdout();
        for text in [
            "stream.reduce.input.field.separator",
            "stream.reduce.output.field.separator",
            "bad record",
            "Exit status",
        ] {
            assert!(help.contains(text), "{text:?} not in {help}");
        }
        let help = dir.command().args(["streaming", "map", "--help"]).stdout();
        assert!(help.contains("stream.map.output.field.separator"), "{help}");
    }
);

// Empty input: no output, success; the mapper reports nothing, the reducer
// zero counts.
mrtest!(
    empty_input_gives_empty_output,
    |dir: Dir, mut cmd: TestCommand| {
        let out = cmd.args(["streaming", "map", "wordcount"]).pipe_output("");
        assert_eq!(stdout_of(&out), b"");
        assert_eq!(out.stderr, b"");
        let out = dir
            .command()
            .args(["streaming", "reduce", "wordcount"])
            .pipe_output("");
        assert_eq!(stdout_of(&out), b"");
        assert_eq!(counter(&out.stderr, "reduce input records"), 0);
        assert_eq!(non_reporter_lines(&out.stderr), Vec::<String>::new());
    }
);

// CRLF input, the engine's counters as Hadoop counter lines, a status line
// per chunk, and nothing else on stderr.
mrtest!(
    mapper_reports_counters_and_status_on_stderr,
    |_: Dir, mut cmd: TestCommand| {
        let text = "One two\r\ntwo THREE\r\n\r\nthree three\r\n".repeat(1000);
        let out = cmd
            .args(["streaming", "map", "wordcount", "--chunk-size", "10K"])
            .pipe_output(&text);
        let mut lines: Vec<&str> = std::str::from_utf8(stdout_of(&out))
            .unwrap()
            .lines()
            .collect();
        lines.sort();
        // Several chunks, so several lines per word; they sum right.
        let total = |word: &str| -> u64 {
            lines
                .iter()
                .filter_map(|l| l.strip_prefix(&format!("{word}\t")))
                .map(|n| n.parse::<u64>().unwrap())
                .sum()
        };
        assert!(lines.len() > 3, "{lines:?}");
        assert_eq!(
            (total("one"), total("two"), total("three")),
            (1000, 2000, 3000)
        );
        assert_eq!(non_reporter_lines(&out.stderr), Vec::<String>::new());
        assert_eq!(counter(&out.stderr, "map input records"), 4000);
        assert_eq!(counter(&out.stderr, "map output records"), 6000);
        assert_eq!(
            counter(&out.stderr, "combine output records"),
            lines.len() as u64
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        let status: Vec<&str> = stderr
            .lines()
            .filter(|l| l.starts_with("reporter:status:mapped "))
            .collect();
        assert!(status.len() > 1, "{stderr}");
        assert_eq!(
            status.last(),
            Some(&&*format!("reporter:status:mapped {} bytes", text.len()))
        );
    }
);

/// Runs `cmd` with `input` on stdin and stdout on a pipe whose reader takes
/// 10 bytes, then closes it; asserts a quiet exit 0 (reporter lines aside).
fn assert_quiet_on_closed_pipe(cmd: &mut TestCommand, input: &Path) {
    let mut child = cmd
        .cmd()
        .stdin(File::open(input).expect("open input"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn mr-local");
    let mut stdout = child.stdout.take().expect("piped stdout");
    let mut first = [0u8; 10];
    stdout.read_exact(&mut first).expect("read the first bytes");
    drop(stdout);
    let reader = read_in_background(child.stderr.take().expect("piped stderr"));
    let status = wait_within(child, Duration::from_secs(60), "mr-local streaming");
    let stderr = reader.join().expect("stderr reader");
    assert!(
        status.success(),
        "a closed stdout should end in exit 0, got {status}; stderr: {}",
        String::from_utf8_lossy(&stderr)
    );
    assert_eq!(non_reporter_lines(&stderr), Vec::<String>::new());
}

// `... | mr-local streaming map wordcount | head`: a broken pipe is a quiet
// exit 0, for the mapper and the reducer.
mrtest!(
    closed_stdout_pipe_is_a_quiet_success,
    |dir: Dir, mut cmd: TestCommand| {
        dir.command()
            .args(["generate", "--size", "8M", "--seed", "3", "-o", "big.txt"])
            .assert_exit_code(0);
        let sorted = bash(&dir, "\"$MR\" wordcount --sort key big.txt", &[]);
        assert!(sorted.len() > 512 * 1024, "only {} bytes", sorted.len());
        let sorted = dir.create("sorted.tsv", sorted);
        assert_quiet_on_closed_pipe(
            cmd.args(["streaming", "map", "wordcount"]),
            &dir.join("big.txt"),
        );
        assert_quiet_on_closed_pipe(
            dir.command().args(["streaming", "reduce", "wordcount"]),
            &sorted,
        );
    }
);

/// The path of the example `name`, built (if it is not up to date) with the
/// profile of this test binary: `cargo test` builds examples, but not when
/// given a test name to filter on.
pub(crate) fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    // target/<profile>/deps/integration-HASH -> target/<profile>/examples/
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("test binary in target/<profile>/deps");
    let path = profile_dir
        .join("examples")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    let profile = profile_dir
        .file_name()
        .and_then(|n| n.to_str())
        .map(|n| if n == "debug" { "dev" } else { n })
        .expect("profile directory name");
    let status = Command::new(env!("CARGO"))
        .args(["build", "--quiet", "--profile", profile, "--example", name])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .status()
        .expect("run cargo build --example");
    assert!(status.success(), "cargo build --example {name}: {status}");
    assert!(
        path.is_file(),
        "{} missing after building it",
        path.display()
    );
    path
}

// The library example: a user's own closures as a streaming mapper and
// reducer, run through `map | sort | reduce`, against a count done here.
mrtest!(
    streaming_example_counts_word_lengths,
    |dir: Dir, _: TestCommand| {
        let example = example("streaming_wordlength");
        let text = util::tricky_text();
        let input = dir.create("input.txt", &text);
        let got = Command::new("bash")
            .arg("-c")
            .arg("set -euo pipefail; \"$0\" map < \"$1\" | LC_ALL=C sort | \"$0\" reduce")
            .arg(&example)
            .arg(&input)
            .output()
            .expect("run the example");
        let got = String::from_utf8(stdout_of(&got).to_vec()).expect("UTF-8");

        let mut by_length = std::collections::BTreeMap::<usize, u64>::new();
        for word in text.split(|b| !b.is_ascii_alphanumeric()) {
            if !word.is_empty() {
                *by_length.entry(word.len()).or_default() += 1;
            }
        }
        // The reducer writes keys in the order of its (text-sorted) input.
        let mut expected: Vec<String> = by_length
            .iter()
            .map(|(len, n)| format!("{len}\t{n}"))
            .collect();
        expected.sort();
        let expected: String = expected.iter().map(|l| format!("{l}\n")).collect();
        assert_text_eq!(expected, got);
    }
);

/// The Python that runs the Spark test: `MR_LOCAL_SPARK_PYTHON` (which
/// `.ci/run` sets), else the venv `.ci/run` makes in `target/spark-venv`,
/// else `python3`; `None` after saying why the test skips, where Java or
/// pyspark is missing and CI is not set.
pub(crate) fn spark_python() -> Option<PathBuf> {
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/spark-venv/bin/python");
    let python = match std::env::var_os("MR_LOCAL_SPARK_PYTHON") {
        Some(python) => PathBuf::from(python),
        None if venv.is_file() => venv,
        None => PathBuf::from("python3"),
    };
    let works = |cmd: &mut Command| {
        cmd.stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    let missing = if !works(Command::new("java").arg("-version")) {
        Some("java".to_string())
    } else if !works(Command::new(&python).args(["-c", "import pyspark"])) {
        Some(format!("pyspark for {}", python.display()))
    } else {
        None
    };
    let Some(missing) = missing else {
        return Some(python);
    };
    if std::env::var_os("CI").is_some_and(|v| !v.is_empty()) {
        panic!(
            "{missing} not found, and CI is set: .ci/run installs pyspark in \
             target/spark-venv and sets MR_LOCAL_SPARK_PYTHON"
        );
    }
    eprintln!(
        "skipping the Spark test: {missing} not found (python3 -m venv target/spark-venv \
         && target/spark-venv/bin/pip install pyspark, then set \
         MR_LOCAL_SPARK_PYTHON=target/spark-venv/bin/python)"
    );
    None
}

/// The reduced lines, sorted by key bytes (the text before the tab): the
/// order of `mr-local wordcount --sort key`. Spark's collect gives the
/// reducers' outputs one after the other, each sorted on its own.
pub(crate) fn sorted_by_key(lines: &[u8]) -> Vec<u8> {
    let mut lines: Vec<&[u8]> = lines.split_inclusive(|b| *b == b'\n').collect();
    lines.sort_by_key(|l| l.split(|b| *b == b'\t').next().unwrap_or(l));
    lines.concat()
}

// The issue's proof on a real engine: Spark in local mode reads the input
// as an RDD, pipes it through the mapper, partitions and sorts by key bytes
// within partitions, pipes that through the reducer, and collects: the same
// counts as `mr-local wordcount`.
mrtest!(
    spark_local_mode_runs_the_mapper_and_reducer,
    |dir: Dir, _: TestCommand| {
        let Some(data) = util::datasets() else { return };
        let Some(python) = spark_python() else { return };
        let inputs = [data.join("kjvbible.txt"), data.join("silesia-dickens.txt")];
        let script =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/spark/streaming_wordcount.py");
        let mut child = Command::new(&python)
            .arg(&script)
            .arg(BIN)
            .arg(dir.path())
            .args(&inputs)
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::inherit())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start python");
        let reader = read_in_background(child.stderr.take().expect("piped stderr"));
        let status = wait_within(child, Duration::from_secs(300), "the Spark job");
        let stderr = reader.join().expect("stderr reader");
        assert!(
            status.success(),
            "the Spark job failed: {status}\nstderr (last 4000 bytes):\n{}",
            String::from_utf8_lossy(&stderr[stderr.len().saturating_sub(4000)..])
        );
        for (i, input) in inputs.iter().enumerate() {
            let got = sorted_by_key(&dir.read(format!("spark-{i}.tsv")));
            let expected = bash(&dir, "\"$MR\" wordcount --sort key \"$1\"", &[input]);
            assert!(!expected.is_empty());
            assert!(
                got == expected,
                "Spark on {}:\n{}",
                input.display(),
                util::describe_mismatch(
                    "wordcount --sort key",
                    &String::from_utf8_lossy(&expected),
                    "Spark",
                    &String::from_utf8_lossy(&got),
                )
            );
        }
    }
);

/// `text` with each `\r\n` made `\n` and a `\r` ending it dropped: the
/// lines Hadoop's line reader hands a task, and so what the streaming jobs
/// read.
pub(crate) fn drop_cr_before_lf(text: &[u8]) -> Vec<u8> {
    let text = text.strip_suffix(b"\r").unwrap_or(text);
    let mut out = Vec::with_capacity(text.len());
    for (i, &b) in text.iter().enumerate() {
        if !(b == b'\r' && text.get(i + 1) == Some(&b'\n')) {
            out.push(b);
        }
    }
    out
}

/// The lines of `bytes` (each ended by `\n`), sorted bytewise.
fn sorted_lines(bytes: &[u8]) -> Vec<&[u8]> {
    let mut lines: Vec<&[u8]> = bytes.split_inclusive(|b| *b == b'\n').collect();
    assert!(
        lines.iter().all(|l| l.ends_with(b"\n")),
        "a line without \\n"
    );
    lines.sort();
    lines
}

/// `mr-local grep`'s output for the one input `path`, each line without its
/// `path:N:` prefix, its `\r` dropped if it ended in `\r\n` (as the
/// streaming grep reads lines), sorted bytewise.
fn grep_lines_without_prefix(out: &[u8], path: &Path) -> Vec<Vec<u8>> {
    let prefix = [path.as_os_str().as_encoded_bytes(), b":"].concat();
    let mut lines: Vec<Vec<u8>> = out
        .split_inclusive(|b| *b == b'\n')
        .map(|line| {
            let rest = line.strip_prefix(&prefix[..]).expect("path: prefix");
            let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
            assert!(digits > 0 && rest[digits] == b':', "no line number");
            drop_cr_before_lf(&rest[digits + 1..])
        })
        .collect();
    lines.sort();
    lines
}

// Issue 7 for grep: `map grep | LC_ALL=C sort | reduce grep` gives the
// lines `mr-local grep` selects, without their `path:N:` prefixes (a map
// task cannot know line numbers), as a sorted list: on the corpora (CRLF,
// a TAB, invalid UTF-8) and tricky text, with -i, -v and small chunks.
mrtest!(
    grep_map_sort_reduce_gives_mr_local_greps_lines,
    |dir: Dir, _: TestCommand| {
        let mut files = vec![dir.create("tricky.txt", util::tricky_text())];
        if let Some(data) = util::datasets() {
            files.push(data.join("kjvbible.txt"));
            files.push(data.join("canterbury-world192.txt"));
            files.push(data.join("silesia-dickens.txt"));
            files.push(data.join("udhr/tur.txt"));
        }
        let cases: [(&str, &str); 4] = [
            ("the lord", ""),
            ("(?:fox|İstanbul|Lord)", "-i"),
            ("e", "-v"),
            ("[0-9]{2}", "--threads 2 --chunk-size 100K"),
        ];
        for file in &files {
            for (pattern, opts) in cases {
                let got = bash(
                    &dir,
                    &format!(
                        "cat \"$1\" | \"$MR\" streaming map grep '{pattern}' {opts} 2>/dev/null \
                         | LC_ALL=C sort | \"$MR\" streaming combine grep 2>/dev/null \
                         | \"$MR\" streaming reduce grep 2>/dev/null"
                    ),
                    &[file],
                );
                let grep_opts = opts.replace("--chunk-size 100K", "");
                let expected = bash(
                    &dir,
                    &format!("\"$MR\" grep {grep_opts} '{pattern}' \"$1\""),
                    &[file],
                );
                let expected = grep_lines_without_prefix(&expected, file);
                let got: Vec<Vec<u8>> = sorted_lines(&got).iter().map(|l| l.to_vec()).collect();
                assert!(
                    got == expected,
                    "{pattern:?} {opts:?} on {}: {} lines from the pipe, {} from mr-local grep",
                    file.display(),
                    got.len(),
                    expected.len()
                );
            }
        }
    }
);

// A streaming grep reads lines as Hadoop hands them on, `\r\n` cut off
// before matching: `a$` selects the CRLF line `a`. Counters are lines read
// and lines written.
mrtest!(
    grep_mapper_matches_lines_without_their_cr,
    |_: Dir, mut cmd: TestCommand| {
        let out = cmd
            .args(["streaming", "map", "grep", "a$"])
            .pipe_output("a\r\nb\na\rz\nba\r");
        assert_eq!(stdout_of(&out), b"a\nba\n");
        assert_eq!(counter(&out.stderr, "map input records"), 4);
        assert_eq!(counter(&out.stderr, "map output records"), 2);
        assert_eq!(non_reporter_lines(&out.stderr), Vec::<String>::new());
    }
);

// Issue 7 for invert: one mapper per file, the file named by Hadoop's
// environment (or --file), then `LC_ALL=C sort | combine | reduce`, gives
// `mr-local invert`'s index of the same files, named so that the order
// given is the bytewise order the reducer sorts files in.
mrtest!(
    invert_map_sort_reduce_equals_mr_local_invert,
    |dir: Dir, _: TestCommand| {
        let mut files = vec![
            dir.create("a.txt", "The cat sat.\r\nOn the mat"),
            dir.create("b.txt", util::tricky_text()),
            dir.create("c.txt", ""),
            dir.create("d.txt", "a CAT, a dog\nStraße STRASSE\n"),
        ];
        let mut data_files = Vec::new();
        if let Some(data) = util::datasets() {
            let mut names: Vec<PathBuf> = std::fs::read_dir(data.join("udhr"))
                .expect("list udhr")
                .map(|e| e.expect("udhr entry").path())
                .collect();
            names.sort();
            data_files = names;
        }
        let scripts = [
            (
                "",
                "mapreduce_map_input_file=\"$f\" \"$MR\" streaming map invert",
            ),
            (
                "--split whitespace --case-sensitive",
                "map_input_file=\"$f\" \"$MR\" streaming map invert \
                 --split whitespace --case-sensitive",
            ),
            (
                "",
                "\"$MR\" streaming map invert --file \"$f\" --threads 2 --chunk-size 1K",
            ),
        ];
        for set in [&mut files, &mut data_files] {
            if set.is_empty() {
                continue;
            }
            let args: Vec<&Path> = set.iter().map(PathBuf::as_path).collect();
            for (opts, map) in scripts {
                let got = bash(
                    &dir,
                    &format!(
                        "for f in \"$@\"; do {map} < \"$f\" 2>/dev/null; done \
                         | LC_ALL=C sort | \"$MR\" streaming combine invert 2>/dev/null \
                         | \"$MR\" streaming reduce invert 2>/dev/null"
                    ),
                    &args,
                );
                let expected = bash(&dir, &format!("\"$MR\" invert {opts} \"$@\""), &args);
                assert!(!expected.is_empty());
                assert!(
                    got == expected,
                    "{map:?}:\n{}",
                    util::describe_mismatch(
                        "mr-local invert",
                        &String::from_utf8_lossy(&expected),
                        "map | sort | reduce",
                        &String::from_utf8_lossy(&got),
                    )
                );
            }
        }
    }
);

// The invert reducer merges each key's file lists (values are themselves
// SEP-separated lists, so a combiner's output is valid reducer input),
// sorts them bytewise and drops duplicates; a key with no file is a bad
// record; a file name holding the output separator fails, in one line.
mrtest!(
    invert_reducer_merges_sorted_unique_file_lists,
    |dir: Dir, mut cmd: TestCommand| {
        let input: &[u8] = b"cat\tz.txt\ncat\ta.txt\tb.txt\r\ncat\tb.txt\n\
            dog\n\xff\tx\t\ty\nmat\t\n";
        let out = cmd
            .args(["streaming", "reduce", "invert"])
            .pipe_output(input);
        assert_eq!(stdout_of(&out), b"cat\ta.txt\tb.txt\tz.txt\n\xff\tx\ty\n");
        assert_eq!(counter(&out.stderr, "bad records"), 2);
        assert_eq!(counter(&out.stderr, "reduce input records"), 6);
        assert_eq!(counter(&out.stderr, "reduce input groups"), 4);
        assert_eq!(counter(&out.stderr, "reduce output records"), 2);
        assert_eq!(non_reporter_lines(&out.stderr), Vec::<String>::new());

        let out = dir
            .command()
            .args(["streaming", "combine", "invert"])
            .args(["--reduce-input-field-separator", "::"])
            .args(["--reduce-output-field-separator", ","])
            .pipe_output("w::b.txt::a.txt\nw::a.txt\n");
        assert_eq!(stdout_of(&out), b"w,a.txt,b.txt\n");

        let out = dir
            .command()
            .args(["streaming", "reduce", "invert"])
            .args(["--reduce-output-field-separator", ","])
            .pipe_output("w\ta,b.txt\n");
        assert_eq!(out.status.code(), Some(1), "{out:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.starts_with("mr-local: <stdout>: file name \"a,b.txt\" holds")
                && stderr.lines().count() == 1,
            "{stderr:?}"
        );
    }
);

// The invert mapper names its file from --file, then Hadoop 2's variable,
// then the old one, then `-`; a name that would not read back as one file
// fails: exit 2 for the flag, 1 for the environment.
mrtest!(
    invert_mapper_takes_its_file_from_hadoops_environment,
    |dir: Dir, mut cmd: TestCommand| {
        let mapped = |cmd: &mut TestCommand, extra: &[&str]| {
            let out = cmd
                .args(["streaming", "map", "invert"])
                .args(extra)
                .pipe_output("Cat\n");
            String::from_utf8(stdout_of(&out).to_vec()).unwrap()
        };
        assert_eq!(mapped(&mut cmd, &[]), "cat\t-\n");
        let hdfs = "hdfs://nn:8020/books/a.txt";
        assert_eq!(
            mapped(dir.command().env("map_input_file", "old.txt"), &[]),
            "cat\told.txt\n"
        );
        let both = |cmd: &mut TestCommand| {
            cmd.env("map_input_file", "old.txt")
                .env("mapreduce_map_input_file", hdfs);
        };
        let mut with_both = dir.command();
        both(&mut with_both);
        assert_eq!(mapped(&mut with_both, &[]), format!("cat\t{hdfs}\n"));
        let mut with_both = dir.command();
        both(&mut with_both);
        assert_eq!(
            mapped(&mut with_both, &["--file", "mine.txt"]),
            "cat\tmine.txt\n"
        );
        let out = dir
            .command()
            .env("mapreduce_map_input_file", "a\tb")
            .args(["streaming", "map", "invert"])
            .pipe_output("cat\n");
        assert_eq!(out.status.code(), Some(1), "{out:?}");
        assert!(out.stdout.is_empty());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.starts_with("mr-local: $mapreduce_map_input_file: file name \"a\\tb\" holds")
                && stderr.lines().count() == 1,
            "{stderr:?}"
        );
        dir.command()
            .args(["streaming", "map", "invert", "--file", ""])
            .assert_exit_code(2);
    }
);

// Issue 7 for sort: `map sort | LC_ALL=C sort | reduce sort` is
// `mr-local sort`, byte for byte, on lines as Hadoop reads them (a `\r`
// before `\n` dropped; a lone `\r`, empty lines, invalid UTF-8, a last line
// without newline kept): on the corpora, the CRLF one included, and on an
// awkward file.
mrtest!(
    sort_map_sort_reduce_equals_mr_local_sort,
    |dir: Dir, _: TestCommand| {
        let awkward = b"pear\r\n\n\napple\r\nx\ry\n  lead\n\xff\xfe\nApple\n\napple\nzz\rlast\r";
        let mut files = vec![
            dir.create("awkward.txt", awkward),
            dir.create("tricky.txt", util::tricky_text()),
            dir.create("empty.txt", ""),
        ];
        if let Some(data) = util::datasets() {
            files.push(data.join("kjvbible.txt"));
            files.push(data.join("canterbury-world192.txt"));
        }
        for (i, file) in files.iter().enumerate() {
            for opts in [
                "",
                "--reduce-input-field-separator , --reduce-output-field-separator ,",
            ] {
                let got = bash(
                    &dir,
                    &format!(
                        "cat \"$1\" | \"$MR\" streaming map sort 2>/dev/null | LC_ALL=C sort \
                         | \"$MR\" streaming combine sort {opts} 2>/dev/null \
                         | \"$MR\" streaming reduce sort {opts} 2>/dev/null"
                    ),
                    &[file],
                );
                let hadoop_lines = dir.create(
                    format!("lines-{i}.txt"),
                    drop_cr_before_lf(&util::read(file)),
                );
                let expected = bash(&dir, "\"$MR\" sort \"$1\"", &[&hadoop_lines]);
                assert!(
                    got == expected,
                    "{opts:?} on {}:\n{}",
                    file.display(),
                    util::describe_mismatch(
                        "mr-local sort",
                        &String::from_utf8_lossy(&expected),
                        "map | sort | reduce",
                        &String::from_utf8_lossy(&got),
                    )
                );
            }
        }
        let awkward_sorted = bash(
            &dir,
            "\"$MR\" streaming map sort < \"$1\" 2>/dev/null | LC_ALL=C sort \
             | \"$MR\" streaming reduce sort 2>/dev/null",
            &[&files[0]],
        );
        assert_eq!(
            awkward_sorted,
            b"\n\n\n  lead\nApple\napple\napple\npear\nx\ry\nzz\rlast\n\xff\xfe\n"
        );
    }
);

// The identity reducers write each line as read, a line holding the input
// separator recut with the output separator; they count groups, never bad
// records.
mrtest!(
    identity_reducers_recut_with_the_output_separator,
    |dir: Dir, mut cmd: TestCommand| {
        let input = "a\t1\na\t2\tx\nno separator\n\n";
        for job in ["grep", "sort"] {
            let out = dir
                .command()
                .args(["streaming", "reduce", job])
                .pipe_output(input);
            assert_eq!(stdout_of(&out), input.as_bytes());
            assert_eq!(counter(&out.stderr, "reduce input groups"), 3);
            assert_eq!(counter(&out.stderr, "bad records"), 0);
        }
        let out = cmd
            .args(["streaming", "combine", "sort"])
            .args(["--reduce-output-field-separator", ","])
            .pipe_output(input);
        assert_eq!(stdout_of(&out), b"a,1\na,2\tx\nno separator\n\n");
    }
);

// Options are refused where they do not apply, rather than ignored; the
// help says what each job does in streaming form.
mrtest!(
    streaming_options_belong_to_their_jobs,
    |dir: Dir, mut cmd: TestCommand| {
        cmd.args(["streaming", "map", "grep"]).assert_exit_code(2);
        for args in [
            &["wordcount", "pattern"][..],
            &["sort", "-i"],
            &["invert", "-v"],
            &["grep", "x", "--file", "f"],
            &["sort", "--split", "whitespace"],
            &["grep", "x", "--case-sensitive"],
            &["grep", "("],
        ] {
            let out = dir
                .command()
                .args(["streaming", "map"])
                .args(args)
                .pipe_output("");
            assert_eq!(out.status.code(), Some(2), "{args:?}: {out:?}");
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(
                stderr.starts_with("mr-local: ") && stderr.lines().count() == 1,
                "{args:?}: {stderr:?}"
            );
        }
        let help = dir.command().args(["streaming", "map", "--help"]).stdout();
        for text in [
            "line numbers cannot be known",
            "$mapreduce_map_input_file",
            "$map_input_file",
            "TotalOrderPartitioner",
            "sorts them bytewise",
        ] {
            assert!(help.contains(text), "{text:?} not in {help}");
        }
        let help = dir.command().args(["streaming", "--help"]).stdout();
        for job in ["wordcount", "grep", "invert", "sort"] {
            assert!(help.contains(job), "{job:?} not in {help}");
        }
    }
);
