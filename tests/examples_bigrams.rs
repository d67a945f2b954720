//! `examples/bigrams.rs`, run as a user runs it, checked against pairs of
//! words taken here another way: each line split on the characters that
//! are not alphanumeric, with `char::is_alphanumeric` and
//! `str::to_lowercase`.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::examples::{assert_failed_with_one_line, example, lcg_bytes, run};
use crate::util::Dir;

/// The words of `line`, lowercased: runs of alphanumeric characters.
fn words(line: &str) -> impl Iterator<Item = String> + '_ {
    line.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
}

/// `key<TAB>count` lines, count descending then key bytewise.
fn ranked(counts: &BTreeMap<String, u64>) -> String {
    let mut ranked: Vec<_> = counts.iter().collect();
    ranked.sort_by_key(|&(key, n)| (std::cmp::Reverse(*n), key.as_bytes()));
    let mut tsv = String::new();
    for (key, n) in ranked {
        let _ = writeln!(tsv, "{key}\t{n}");
    }
    tsv
}

/// About 1.5 MB of skewed words (so counts differ and tie) with what the
/// rules must get right: case, digits, apostrophes and dashes between
/// words, Unicode letters and separators, keys on both sides of the 22
/// bytes a `Word` holds inline, CRLF, tabs, empty lines and lines of one
/// word; no final newline.
fn generated_text() -> String {
    let words = [
        "the",
        "The",
        "THE",
        "of",
        "and",
        "don't",
        "a1b",
        "42",
        "Café",
        "ÉTÉ",
        "naïve",
        "x",
        "ROCK'n'roll",
        "well-known",
        "abcdefghijklmnopq",
        "Antidisestablishmentarianism",
    ];
    let gaps = [
        " ", " ", " ", "\t", ", ", " — ", "\u{a0}", "\r\n", "\n", "\n\n",
    ];
    let mut text = String::new();
    for pick in lcg_bytes(15, 400_000).chunks_exact(2) {
        let word = usize::from(pick[0]) * usize::from(pick[0]) / 4200 % words.len();
        text += words[word];
        text += gaps[usize::from(pick[1]) % gaps.len()];
    }
    text + "last line"
}

#[test]
fn bigrams_match_pairs_taken_line_by_line() {
    let dir = Dir::new("bigrams");
    let text = generated_text();
    let path = dir.create("text.txt", &text);

    let mut unigrams = BTreeMap::<String, u64>::new();
    let mut bigrams = BTreeMap::<String, u64>::new();
    for line in text.split('\n') {
        let line: Vec<String> = words(line).collect();
        for word in &line {
            *unigrams.entry(word.clone()).or_default() += 1;
        }
        for pair in line.windows(2) {
            *bigrams
                .entry(format!("{} {}", pair[0], pair[1]))
                .or_default() += 1;
        }
    }
    // The words here are the words of `mr-local wordcount`.
    assert_text_eq!(
        ranked(&unigrams),
        dir.command().arg("wordcount").arg(&path).stdout()
    );

    let expected = ranked(&bigrams);
    assert!(bigrams.len() > 200, "{} distinct bigrams", bigrams.len());
    assert!(
        bigrams.keys().any(|k| k.len() > 22),
        "no bigram longer than 22 bytes"
    );
    for threads in ["1", "2", "3"] {
        let (stdout, _) = run(
            "bigrams",
            ["--threads".as_ref(), threads.as_ref(), path.as_os_str()],
        );
        assert_text_eq!(
            expected,
            String::from_utf8_lossy(&stdout),
            "--threads {threads}"
        );
    }
}

#[test]
fn bigrams_small_hand_checked_text() {
    let dir = Dir::new("bigrams_small");
    let a = dir.create(
        "a.txt",
        "The cat sat. The cat\r\nran\n\nTHE CAT sat on the mat",
    );
    let b = dir.create("b.txt", "one\n");
    let (stdout, _) = run("bigrams", [&a, &b]);
    assert_text_eq!(
        "the cat\t3\ncat sat\t2\non the\t1\nsat on\t1\nsat the\t1\nthe mat\t1\n",
        String::from_utf8_lossy(&stdout)
    );
    let (stdout, _) = run("bigrams", [&b]);
    assert!(stdout.is_empty(), "{stdout:?}");
}

#[test]
fn bigrams_fail_with_one_line() {
    let dir = Dir::new("bigrams_missing");
    let missing = dir.join("no-such-file");
    let out = example("bigrams").arg(&missing).output().unwrap();
    assert_failed_with_one_line(&out, &missing, "no such file or directory");
    for args in [&[][..], &["--threads"], &["--threads", "x", "f"]] {
        let out = example("bigrams").args(args).output().unwrap();
        assert!(!out.status.success(), "{args:?} succeeded");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("usage"), "{args:?}: {stderr}");
    }
}
