//! `--output-dir DIR`: one part file per partition, each sorted on its
//! own, then an empty `_SUCCESS`; what happens to an existing DIR.

use std::path::Path;

use crate::formats::{parse_csv, parse_tsv, sorted_lines, to_tsv};
use crate::util::{self, assert_one_line_error, Dir, TestCommand};

/// `_SUCCESS` and `part-00000` to `part-{n-1}`, sorted as `Dir::list`
/// sorts them.
fn part_names(n: usize) -> Vec<String> {
    let mut names = vec!["_SUCCESS".to_string()];
    names.extend((0..n).map(|i| format!("part-{i:05}")));
    names
}

/// The concatenation of every part file in `dir/name`, in part order.
fn concat_parts(dir: &Dir, name: &str) -> String {
    let mut all = String::new();
    for part in dir.list(name).iter().filter(|n| n.starts_with("part-")) {
        let bytes = dir.read(Path::new(name).join(part));
        all.push_str(&String::from_utf8(bytes).expect("UTF-8 part"));
    }
    all
}

mrtest!(
    one_part_per_partition_then_success,
    |dir: Dir, _: TestCommand| {
        dir.create("tricky.txt", util::tricky_text());
        let stdout = dir.command().args(["wordcount", "tricky.txt"]).stdout();
        for partitions in [1, 5, 12] {
            let out = format!("out{partitions}");
            let run = dir
                .command()
                .args(["wordcount", "tricky.txt", "--output-dir", &out])
                .args(["--partitions", &partitions.to_string()])
                .assert_exit_code(0);
            assert!(run.stdout.is_empty(), "stdout should be empty");
            assert!(run.stderr.is_empty(), "stderr: {:?}", run.stderr);
            assert_eq!(dir.list(&out), part_names(partitions));
            assert!(dir.read(Path::new(&out).join("_SUCCESS")).is_empty());

            // Together the parts hold every line once; each is sorted by
            // count descending, then word.
            let all = concat_parts(&dir, &out);
            assert_eq!(sorted_lines(&all), sorted_lines(&stdout));
            for part in dir.list(&out).iter().filter(|n| n.starts_with("part-")) {
                let text = String::from_utf8(dir.read(Path::new(&out).join(part))).unwrap();
                let pairs = parse_tsv(&text);
                let mut sorted = pairs.clone();
                sorted.sort_by(|a, b| {
                    b.1.cmp(&a.1)
                        .then_with(|| a.0.as_bytes().cmp(b.0.as_bytes()))
                });
                assert_eq!(pairs, sorted, "{out}/{part} is not sorted");
            }
        }
    }
);

// Partitions that get no key still get their (empty) part file.
mrtest!(
    empty_partitions_get_empty_parts,
    |dir: Dir, mut cmd: TestCommand| {
        dir.create("in.txt", "one two one\n");
        cmd.args([
            "wordcount",
            "in.txt",
            "--output-dir",
            "out",
            "--partitions",
            "9",
        ])
        .assert_exit_code(0);
        assert_eq!(dir.list("out"), part_names(9));
        assert_eq!(
            sorted_lines(&concat_parts(&dir, "out")),
            ["one\t2", "two\t1"]
        );

        // No input words at all: still nine empty parts and _SUCCESS.
        dir.create("empty.txt", "");
        dir.command()
            .args([
                "wordcount",
                "empty.txt",
                "--output-dir",
                "none",
                "--partitions",
                "9",
            ])
            .assert_exit_code(0);
        assert_eq!(dir.list("none"), part_names(9));
        assert_eq!(concat_parts(&dir, "none"), "");
    }
);

mrtest!(
    every_sort_and_format_per_part,
    |dir: Dir, _: TestCommand| {
        dir.create("tricky.txt", util::tricky_text());
        let expected = sorted_lines(&dir.command().args(["wordcount", "tricky.txt"]).stdout());
        for sort in ["count", "key", "none"] {
            for format in ["tsv", "csv"] {
                let out = format!("out-{sort}-{format}");
                dir.command()
                    .args(["wordcount", "tricky.txt", "--partitions", "4"])
                    .args(["--sort", sort, "--format", format, "--output-dir", &out])
                    .assert_exit_code(0);
                assert_eq!(dir.list(&out), part_names(4));
                let mut lines = Vec::new();
                for i in 0..4 {
                    let text = dir.read(Path::new(&out).join(format!("part-{i:05}")));
                    let text = String::from_utf8(text).unwrap();
                    // Every CSV part has its own header.
                    let pairs = match format {
                        "csv" => parse_csv(&text),
                        _ => parse_tsv(&text),
                    };
                    if sort == "key" {
                        assert!(
                            pairs
                                .windows(2)
                                .all(|w| w[0].0.as_bytes() < w[1].0.as_bytes()),
                            "{out}/part-{i:05} is not sorted by key"
                        );
                    }
                    lines.extend(sorted_lines(&to_tsv(&pairs)));
                }
                lines.sort();
                assert_eq!(lines, expected, "{out}");
            }
        }
    }
);

mrtest!(non_empty_dir_needs_force, |dir: Dir, _: TestCommand| {
    dir.create("in.txt", "a b a\n");
    // What an earlier run with more partitions left, and a temporary
    // file of a killed one.
    dir.create("out/part-00000", "old\t1\n");
    dir.create("out/part-00007", "old\t1\n");
    dir.create("out/_SUCCESS", "");
    dir.create("out/.part-00001.mr-local-1-0.tmp", "partial");

    let out = dir
        .command()
        .args([
            "wordcount",
            "in.txt",
            "--output-dir",
            "out",
            "--partitions",
            "2",
        ])
        .assert_exit_code(2);
    assert_one_line_error(&out, Path::new("out"), "not empty");
    assert!(String::from_utf8_lossy(&out.stderr).contains("--force"));
    assert_eq!(dir.read("out/part-00007"), b"old\t1\n");

    dir.command()
        .args([
            "wordcount",
            "in.txt",
            "--output-dir",
            "out",
            "--partitions",
            "2",
        ])
        .arg("--force")
        .assert_exit_code(0);
    assert_eq!(dir.list("out"), part_names(2));
    assert_eq!(sorted_lines(&concat_parts(&dir, "out")), ["a\t2", "b\t1"]);

    // An existing empty directory needs no --force.
    dir.create_dir("empty");
    dir.command()
        .args([
            "wordcount",
            "in.txt",
            "--output-dir",
            "empty",
            "--partitions",
            "1",
        ])
        .assert_exit_code(0);
    assert_eq!(dir.list("empty"), part_names(1));
});

// --force never deletes a file that mr-local did not write.
mrtest!(
    force_refuses_unrelated_files,
    |dir: Dir, mut cmd: TestCommand| {
        dir.create("in.txt", "a b a\n");
        dir.create("out/part-00000", "old\t1\n");
        dir.create("out/notes.txt", "mine\n");
        let out = cmd
            .args(["wordcount", "in.txt", "--output-dir", "out", "--force"])
            .assert_exit_code(2);
        assert_one_line_error(&out, &Path::new("out").join("notes.txt"), "--force");
        assert_eq!(dir.list("out"), ["notes.txt", "part-00000"]);
        assert_eq!(dir.read("out/part-00000"), b"old\t1\n");
    }
);

mrtest!(
    output_dir_with_missing_parent,
    |dir: Dir, mut cmd: TestCommand| {
        dir.create("in.txt", "a b a\n");
        let out = cmd
            .args(["wordcount", "in.txt", "--output-dir", "no/such/out"])
            .assert_exit_code(1);
        assert_one_line_error(&out, Path::new("no/such/out"), "no such file or directory");
        assert_eq!(dir.list("."), ["in.txt"]);
    }
);

mrtest!(
    output_dir_that_is_a_file,
    |dir: Dir, mut cmd: TestCommand| {
        dir.create("in.txt", "a b a\n");
        dir.create("out", "a file\n");
        let out = cmd
            .args(["wordcount", "in.txt", "--output-dir", "out", "--force"])
            .assert_exit_code(2);
        assert_one_line_error(&out, Path::new("out"), "not a directory");
        assert_eq!(dir.read("out"), b"a file\n");
    }
);

// Refused by the argument parser, before any work: --top has no single
// meaning across part files; -o and --output-dir are two destinations;
// --force means nothing without --output-dir.
mrtest!(output_dir_flag_conflicts, |dir: Dir, _: TestCommand| {
    dir.create("in.txt", "a b a\n");
    let cases: &[&[&str]] = &[
        &["--output-dir", "out", "--top", "1"],
        &["--output-dir", "out", "-o", "x.tsv"],
        &["--force"],
    ];
    for args in cases {
        let out = dir
            .command()
            .args(["wordcount", "in.txt"])
            .args(*args)
            .assert_exit_code(2);
        assert!(out.stdout.is_empty(), "{args:?}");
    }
    assert_eq!(dir.list("."), ["in.txt"]);
});
