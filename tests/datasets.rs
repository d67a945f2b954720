//! `mr-local wordcount` on the real corpora in `../shared/datasets`,
//! checked against the countwords oracle and against the reference in
//! `reference.rs`.

use std::path::{Path, PathBuf};

use crate::reference::{self, Counts};
use crate::util::{self, assert_one_line_error, Dir, TestCommand};

/// The sorted `*.txt` files of the udhr directory.
fn udhr_files(udhr: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(udhr)
        .expect("list udhr")
        .map(|entry| entry.expect("udhr entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "txt"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no .txt files in {}", udhr.display());
    files
}

// The countwords benchmark's own expected output for kjvbible.txt x10:
// `line.lower().split()`, printed as `word count`.
mrtest!(
    whitespace_split_matches_countwords_oracle,
    |dir: Dir, mut cmd: TestCommand| {
        let Some(data) = util::datasets() else { return };
        let kjv = util::read(data.join("kjvbible.txt"));
        dir.create("kjvbible_x10.txt", kjv.repeat(10));

        let got = cmd
            .args(["wordcount", "--split", "whitespace", "kjvbible_x10.txt"])
            .stdout();
        assert!(got.ends_with('\n'), "output must end with a newline");
        let mut spaced = String::with_capacity(got.len());
        for line in got.lines() {
            let (word, count) = line
                .split_once('\t')
                .unwrap_or_else(|| panic!("no tab in output line {line:?}"));
            assert!(!count.contains('\t'), "two tabs in {line:?}");
            spaced.push_str(word);
            spaced.push(' ');
            spaced.push_str(count);
            spaced.push('\n');
        }
        let expected = String::from_utf8(util::read(
            data.join("kjvbible_x10.countwords-expected.txt"),
        ))
        .expect("oracle is UTF-8");
        assert_text_eq!(expected, spaced);
    }
);

// CRLF line ends and 8 bytes that are not UTF-8.
mrtest!(
    default_mode_on_dickens_matches_reference,
    |_: Dir, mut cmd: TestCommand| {
        let Some(data) = util::datasets() else { return };
        let path = data.join("silesia-dickens.txt");
        let expected = reference::wordcount(&util::read(&path));
        let got = cmd.arg("wordcount").arg(&path).stdout();
        assert_text_eq!(expected, got);
    }
);

// Fourteen scripts, one file at a time, then all at once through -r and
// through explicit paths; and the directory without -r is an error.
mrtest!(udhr_matches_reference, |dir: Dir, _: TestCommand| {
    let Some(data) = util::datasets() else { return };
    let udhr = data.join("udhr");
    let mut total = Counts::new(false);
    let files = udhr_files(&udhr);
    for file in &files {
        let bytes = util::read(file);
        total.add(&bytes);
        let got = dir.command().arg("wordcount").arg(file).stdout();
        assert_text_eq!(reference::wordcount(&bytes), got, "on {}", file.display());
    }
    let expected = total.to_tsv();

    let got = dir.command().args(["wordcount", "-r"]).arg(&udhr).stdout();
    assert_text_eq!(expected, got, "with -r on {}", udhr.display());

    let got = dir.command().arg("wordcount").args(&files).stdout();
    assert_text_eq!(expected, got, "with every file named");

    let out = dir
        .command()
        .arg("wordcount")
        .arg(&udhr)
        .assert_exit_code(1);
    assert_one_line_error(&out, &udhr, "is a directory");
});

// CRLF line ends, numbers and tables; no lowercasing.
mrtest!(
    case_sensitive_on_world192_matches_reference,
    |dir: Dir, mut cmd: TestCommand| {
        let Some(data) = util::datasets() else { return };
        let path = data.join("canterbury-world192.txt");
        let bytes = util::read(&path);

        let expected = Counts::new(true).add(&bytes).to_tsv();
        let got = cmd
            .args(["wordcount", "--case-sensitive"])
            .arg(&path)
            .stdout();
        assert_text_eq!(expected, got);

        let full = dir.command().arg("wordcount").arg(&path).stdout();
        assert_text_eq!(reference::wordcount(&bytes), full);
        let first5: String = full.split_inclusive('\n').take(5).collect();
        assert_eq!(first5.lines().count(), 5);
        let top5 = dir
            .command()
            .args(["wordcount", "--top", "5"])
            .arg(&path)
            .stdout();
        assert_text_eq!(first5, top5);
    }
);

// The result must not depend on how the work is cut up.
mrtest!(
    kjvbible_output_is_invariant_under_engine_settings,
    |dir: Dir, mut cmd: TestCommand| {
        let Some(data) = util::datasets() else { return };
        let path = data.join("kjvbible.txt");
        let baseline = cmd.arg("wordcount").arg(&path).stdout();
        assert_text_eq!(reference::wordcount(&util::read(&path)), baseline);

        let settings: &[&[&str]] = &[
            &["--threads", "1"],
            &["--threads", "2", "--partitions", "1"],
            &["--threads", "3", "--partitions", "17", "--split-size", "4K"],
            &["--no-mmap"],
            &["--no-mmap", "--threads", "2", "--split-size", "1K"],
        ];
        let strategies = ["lockfree", "mutex", "rwlock", "channel", "cond", "pooled"];
        let shuffles: Vec<[&str; 6]> = strategies
            .iter()
            .map(|s| ["--shuffle", s, "--threads", "3", "--split-size", "64K"])
            .collect();
        let many_partitions: &[&str] = &[
            "--shuffle",
            "channel",
            "--threads",
            "1",
            "--partitions",
            "40",
        ];
        let settings = settings
            .iter()
            .copied()
            .chain(shuffles.iter().map(|a| &a[..]))
            .chain([many_partitions]);
        for args in settings {
            let got = dir
                .command()
                .arg("wordcount")
                .args(args)
                .arg(&path)
                .stdout();
            assert_text_eq!(baseline, got, "with {args:?}");
        }
    }
);
