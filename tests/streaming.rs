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

use crate::util::{self, wait_within, Dir, TestCommand, BIN};

/// Runs `script` with bash, `set -euo pipefail`, `$MR` naming the binary
/// under test and `$1`... the `args`; asserts success and returns stdout.
fn bash(dir: &Dir, script: &str, args: &[&Path]) -> Vec<u8> {
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

// The acceptance test: `cat input | map | LC_ALL=C sort | reduce`
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
    let mut stderr_pipe = child.stderr.take().expect("piped stderr");
    let reader = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = stderr_pipe.read_to_end(&mut bytes);
        bytes
    });
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
fn example(name: &str) -> PathBuf {
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
fn spark_python() -> Option<PathBuf> {
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
fn sorted_by_key(lines: &[u8]) -> Vec<u8> {
    let mut lines: Vec<&[u8]> = lines.split_inclusive(|b| *b == b'\n').collect();
    lines.sort_by_key(|l| l.split(|b| *b == b'\t').next().unwrap_or(l));
    lines.concat()
}

// The proof on a real engine: Spark in local mode reads the input
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
        let mut stderr_pipe = child.stderr.take().expect("piped stderr");
        let reader = std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = stderr_pipe.read_to_end(&mut bytes);
            bytes
        });
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
