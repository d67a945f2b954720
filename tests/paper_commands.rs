//! `mr-local grep`, `invert` and `sort`: checked against `grep -Hn`,
//! `LC_ALL=C sort` and a plain inverted index built here, on the shared
//! corpora and on awkward inputs, at several split sizes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::reference::Counts;
use crate::util::{self, assert_one_line_error, Dir, TestCommand};

/// Runs a system tool with `LC_ALL=C`, returning its stdout; `None` (after
/// saying so) where the tool is missing.
fn system(tool: &str, args: &[&str], files: &[PathBuf]) -> Option<Vec<u8>> {
    let out = Command::new(tool)
        .args(args)
        .args(files)
        .env("LC_ALL", "C")
        .output();
    match out {
        Ok(out) if out.status.code().is_some_and(|c| c <= 1) => Some(out.stdout),
        Ok(out) => panic!(
            "{tool} {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(err) => {
            eprintln!("skipping: {tool} not runnable: {err}");
            None
        }
    }
}

fn corpora(data: &Path) -> Vec<PathBuf> {
    [
        "kjvbible.txt",
        "silesia-dickens.txt",
        "canterbury-world192.txt",
        "canterbury-bible.txt",
    ]
    .iter()
    .map(|name| data.join(name))
    .collect()
}

/// Lines with everything `sort` and `grep` must agree on: CRLF, empty
/// lines, invalid UTF-8, duplicates, and no newline at the end.
const AWKWARD: &[u8] =
    b"beta\r\nalpha\n\n\xff\xfe raw\nAlpha\nbeta\r\n\n  indented\nalpha\nzeta no newline";

fn output_bytes(cmd: &mut TestCommand) -> Vec<u8> {
    let out = cmd.output();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

mrtest!(
    grep_agrees_with_grep_hn_on_the_corpora,
    |dir: Dir, _: TestCommand| {
        let Some(data) = util::datasets() else { return };
        let files = corpora(&data);
        for pattern in ["whale", "^The ", "[0-9]+:[0-9]+ And", "ing[.,]$", "^$", "x"] {
            let Some(expected) = system("grep", &["-Hn", "-E", pattern], &files) else {
                return;
            };
            for split in ["64K", "1M"] {
                let got = output_bytes(
                    dir.command()
                        .args(["grep", "--split-size", split, pattern])
                        .args(&files),
                );
                assert_text_eq!(
                    String::from_utf8_lossy(&expected),
                    String::from_utf8_lossy(&got),
                    "pattern {pattern:?}, split size {split}"
                );
            }
        }
        // -i and -v on ASCII text, where case folding is the same for both.
        let kjv = [data.join("kjvbible.txt")];
        for flags in [["-i", "lord god"], ["-v", "e"]] {
            let Some(expected) = system("grep", &["-Hn", flags[0], flags[1]], &kjv) else {
                return;
            };
            let got = output_bytes(dir.command().arg("grep").args(flags).args(&kjv));
            assert_eq!(expected, got, "grep {flags:?}");
        }
    }
);

mrtest!(grep_on_awkward_lines, |dir: Dir, _: TestCommand| {
    dir.create("awkward.txt", AWKWARD);
    dir.create("second.txt", AWKWARD);
    let files = [dir.join("awkward.txt"), dir.join("second.txt")];
    for pattern in ["alpha", "^$", "a$", "^ +", "raw"] {
        let Some(expected) = system("grep", &["-Hn", "-a", "-E", pattern], &files) else {
            return;
        };
        for split in ["1", "7", "1M"] {
            let got = output_bytes(
                dir.command()
                    .args(["grep", "--threads", "2", "--split-size", split, pattern])
                    .args(&files),
            );
            assert_eq!(
                String::from_utf8_lossy(&expected),
                String::from_utf8_lossy(&got),
                "pattern {pattern:?}, split size {split}"
            );
        }
    }
});

mrtest!(sort_agrees_with_c_sort, |dir: Dir, _: TestCommand| {
    dir.create("awkward.txt", AWKWARD);
    let mut inputs = vec![vec![dir.join("awkward.txt")]];
    if let Some(data) = util::datasets() {
        inputs.push(corpora(&data));
    }
    for files in &inputs {
        for (flags, sort_flags) in [
            (vec![], vec![]),
            (vec!["-u"], vec!["-u"]),
            (vec!["-r"], vec!["-r"]),
        ] {
            let Some(expected) = system("sort", &sort_flags, files) else {
                return;
            };
            for engine in [
                &["--split-size", "1"][..],
                &["--partitions", "7", "--split-size", "100K"],
                &[],
            ] {
                if engine.contains(&"1") && files.len() > 1 {
                    continue; // one-byte splits of 20 MB: slow and proves nothing more
                }
                let got = output_bytes(
                    dir.command()
                        .arg("sort")
                        .args(&flags)
                        .args(engine)
                        .args(files),
                );
                assert!(
                    expected == got,
                    "sort {flags:?} {engine:?} on {files:?} differs from LC_ALL=C sort"
                );
            }
        }
    }
});

mrtest!(
    invert_agrees_with_a_plain_index,
    |dir: Dir, _: TestCommand| {
        let Some(data) = util::datasets() else { return };
        let mut files: Vec<PathBuf> = std::fs::read_dir(data.join("udhr"))
            .expect("list udhr")
            .map(|e| e.expect("entry").path())
            .collect();
        files.sort();
        files.push(data.join("canterbury-world192.txt"));
        let mut index: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for file in &files {
            let mut counts = Counts::new(false);
            counts.add(&util::read(file));
            for word in counts.words() {
                index
                    .entry(word.to_string())
                    .or_default()
                    .push(file.display().to_string());
            }
        }
        let expected: String = index
            .iter()
            .map(|(word, files)| format!("{word}\t{}\n", files.join("\t")))
            .collect();
        for split in ["4K", "1M"] {
            let got = dir
                .command()
                .args(["invert", "--split-size", split])
                .args(&files)
                .stdout();
            assert_text_eq!(expected, got, "split size {split}");
        }
        let json = dir
            .command()
            .args(["invert", "--format", "json"])
            .args(&files[..1])
            .stdout();
        let first = json.lines().next().expect("a line");
        assert!(
            first.starts_with("{\"word\": \"") && first.ends_with("\"]}"),
            "{first}"
        );
    }
);

mrtest!(
    every_command_reports_a_missing_file_on_one_line,
    |dir: Dir, _: TestCommand| {
        dir.create("good.txt", "some text\n");
        for command in [&["grep", "x"][..], &["invert"], &["sort"]] {
            let out = dir
                .command()
                .args(command)
                .args(["good.txt", "missing.txt", "-o", "out.txt"])
                .assert_exit_code(1);
            assert_one_line_error(&out, Path::new("missing.txt"), "no such file or directory");
            assert!(
                !dir.join("out.txt").exists(),
                "{command:?} left an output file"
            );
        }
    }
);

mrtest!(
    an_invalid_pattern_is_a_usage_error,
    |_: Dir, mut cmd: TestCommand| {
        let out = cmd.args(["grep", "(unclosed", "x.txt"]).assert_exit_code(2);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.starts_with("mr-local: invalid pattern: "),
            "{stderr}"
        );
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
    }
);

mrtest!(
    commands_write_atomically_and_refuse_to_overwrite_inputs,
    |dir: Dir, _: TestCommand| {
        dir.create("in.txt", "b\na\n");
        for command in [&["grep", "a"][..], &["invert"], &["sort"]] {
            let out = dir
                .command()
                .args(command)
                .args(["in.txt", "-o", "in.txt"])
                .assert_exit_code(2);
            assert!(String::from_utf8_lossy(&out.stderr)
                .contains("refusing to overwrite an input file"));
            assert_eq!(dir.read("in.txt"), b"b\na\n");
        }
        dir.command()
            .args(["sort", "in.txt", "-o", "sorted.txt", "--stats"])
            .output();
        assert_eq!(dir.read("sorted.txt"), b"a\nb\n");
        let stderr = dir.command().args(["sort", "in.txt", "--stats"]).stderr();
        assert!(
            stderr.contains("records"),
            "--stats prints counters: {stderr}"
        );
    }
);
