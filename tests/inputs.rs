//! Where input comes from (files, `-`, piped stdin, repeated paths) and
//! the awkward texts of `util::tricky_text`, needing no datasets.

use crate::reference::{self, Counts};
use crate::util::{self, Dir, TestCommand};

// Records straddling split edges (down to 1-byte splits), CRLF, invalid
// UTF-8, Unicode case mapping, one long line, no final newline.
mrtest!(
    tricky_text_matches_reference,
    |dir: Dir, mut cmd: TestCommand| {
        let text = util::tricky_text();
        dir.create("tricky.txt", &text);
        let expected = reference::wordcount(&text);

        let got = cmd.args(["wordcount", "tricky.txt"]).stdout();
        assert_text_eq!(expected, got);

        let settings: &[&[&str]] = &[
            &["--threads", "1"],
            &["--threads", "2", "--split-size", "1"],
            &["--threads", "3", "--partitions", "5", "--split-size", "7"],
            &["--no-mmap", "--threads", "2", "--split-size", "100"],
        ];
        for args in settings {
            let got = dir
                .command()
                .arg("wordcount")
                .args(*args)
                .arg("tricky.txt")
                .stdout();
            assert_text_eq!(expected, got, "with {args:?}");
        }

        let got = dir
            .command()
            .args(["wordcount", "--case-sensitive", "tricky.txt"])
            .stdout();
        assert_text_eq!(Counts::new(true).add(&text).to_tsv(), got);

        for case_sensitive in [false, true] {
            let mut args = vec!["wordcount", "--split", "whitespace"];
            if case_sensitive {
                args.push("--case-sensitive");
            }
            for extra in [&[][..], &["--threads", "2", "--split-size", "3"]] {
                // Words may hold bytes that are not UTF-8: compared as
                // bytes, shown lossily.
                let out = dir
                    .command()
                    .args(&args)
                    .args(extra)
                    .arg("tricky.txt")
                    .output();
                assert!(out.status.success(), "{out:?}");
                let expected = Counts::whitespace_split(case_sensitive)
                    .add(&text)
                    .to_tsv_bytes();
                assert_text_eq!(
                    String::from_utf8_lossy(&expected),
                    String::from_utf8_lossy(&out.stdout),
                    "with {args:?} {extra:?}"
                );
                assert!(expected == out.stdout, "with {args:?} {extra:?}");
            }
        }
    }
);

mrtest!(dash_reads_stdin, |dir: Dir, mut cmd: TestCommand| {
    let text = util::tricky_text();
    dir.create("tricky.txt", &text);
    let from_file = dir.command().args(["wordcount", "tricky.txt"]).stdout();
    assert!(!from_file.is_empty());
    let got = cmd.args(["wordcount", "-"]).pipe(&text);
    assert_text_eq!(from_file, got);

    // Larger than any pipe or read buffer.
    let big = text.repeat(20);
    let got = dir.command().args(["wordcount", "-"]).pipe(&big);
    assert_text_eq!(reference::wordcount(&big), got);
});

mrtest!(
    no_paths_reads_piped_stdin,
    |dir: Dir, mut cmd: TestCommand| {
        let text = util::tricky_text();
        dir.create("tricky.txt", &text);
        let from_file = dir.command().args(["wordcount", "tricky.txt"]).stdout();
        assert!(!from_file.is_empty());
        let got = cmd.arg("wordcount").pipe(&text);
        assert_text_eq!(from_file, got);
    }
);

// A file and stdin together: counts of both, summed.
mrtest!(
    file_and_stdin_are_summed,
    |dir: Dir, mut cmd: TestCommand| {
        let a = util::tricky_text();
        let b = "The fox and the Hound\r\nΣΊΣΥΦΟΣ\n".repeat(50);
        dir.create("a.txt", &a);
        let mut expected = Counts::new(false);
        expected.add(&a).add(b.as_bytes());
        let got = cmd.args(["wordcount", "a.txt", "-"]).pipe(&b);
        assert_text_eq!(expected.to_tsv(), got);
    }
);

mrtest!(
    file_given_twice_counts_twice,
    |dir: Dir, mut cmd: TestCommand| {
        let text = util::tricky_text();
        dir.create("tricky.txt", &text);
        let once = dir.command().args(["wordcount", "tricky.txt"]).stdout();
        assert!(!once.is_empty());
        let twice = cmd.args(["wordcount", "tricky.txt", "tricky.txt"]).stdout();
        assert_text_eq!(util::double_counts(&once), twice);
    }
);

mrtest!(
    empty_inputs_give_empty_output,
    |dir: Dir, mut cmd: TestCommand| {
        dir.create("empty.txt", "");
        let out = cmd.args(["wordcount", "empty.txt"]).assert_exit_code(0);
        assert!(out.stdout.is_empty(), "stdout: {:?}", out.stdout);
        assert!(out.stderr.is_empty(), "stderr: {:?}", out.stderr);

        let out = dir
            .command()
            .args(["wordcount", "--no-mmap", "empty.txt", "empty.txt"])
            .assert_exit_code(0);
        assert!(out.stdout.is_empty(), "stdout: {:?}", out.stdout);

        // Separators only.
        dir.create("blank.txt", b" \r\n\n-- , \xff\n");
        let got = dir.command().args(["wordcount", "blank.txt"]).stdout();
        assert_text_eq!("", got);

        // Empty stdin, both as `-` and with no paths.
        let got = dir.command().args(["wordcount", "-"]).pipe("");
        assert_text_eq!("", got);
        let got = dir.command().arg("wordcount").pipe("");
        assert_text_eq!("", got);
    }
);

mrtest!(
    recursive_reads_nested_directories,
    |dir: Dir, mut cmd: TestCommand| {
        let a = "one two Two\n".repeat(3);
        let b = "two three\r\nTHREE".to_string();
        let c = util::tricky_text();
        dir.create("corpus/a.txt", &a);
        dir.create("corpus/sub/b.txt", &b);
        dir.create("corpus/sub/deeper/c.txt", &c);
        let mut expected = Counts::new(false);
        expected.add(a.as_bytes()).add(b.as_bytes()).add(&c);
        let got = cmd.args(["wordcount", "-r", "corpus"]).stdout();
        assert_text_eq!(expected.to_tsv(), got);
    }
);
