//! `--format tsv|csv|json`, `--sort count|key|none` and `--top N`, checked
//! through the binary. The CSV and JSON outputs are read back by the small
//! strict parsers below, which share no code with the writers.

use crate::util::{self, Dir, TestCommand};

/// Words that need quoting or escaping. The default word definition only
/// makes alphanumeric words, so these use `--split whitespace`.
const AWKWARD: &[u8] =
    b"a,b say\"hi\" back\\slash x\x01y a,b \" , caf\xc3\xa9 plain plain plain\x7f plain\n";

mrtest!(
    formats_quote_and_escape_awkward_words,
    |dir: Dir, _: TestCommand| {
        dir.create("in.txt", AWKWARD);
        let run = |format: &str| {
            dir.command()
                .args(["wordcount", "--split", "whitespace", "--format", format])
                .arg("in.txt")
                .stdout()
        };
        assert_text_eq!(
            "plain\t3\na,b\t2\n\"\t1\n,\t1\nback\\slash\t1\ncafé\t1\n\
             plain\x7f\t1\nsay\"hi\"\t1\nx\x01y\t1\n",
            run("tsv")
        );
        assert_text_eq!(
            "word,count\nplain,3\n\"a,b\",2\n\"\"\"\",1\n\",\",1\nback\\slash,1\n\
             café,1\nplain\x7f,1\n\"say\"\"hi\"\"\",1\nx\x01y,1\n",
            run("csv")
        );
        assert_text_eq!(
            concat!(
                r#"{"word":"plain","count":3}"#,
                "\n",
                r#"{"word":"a,b","count":2}"#,
                "\n",
                r#"{"word":"\"","count":1}"#,
                "\n",
                r#"{"word":",","count":1}"#,
                "\n",
                r#"{"word":"back\\slash","count":1}"#,
                "\n",
                r#"{"word":"café","count":1}"#,
                "\n",
                "{\"word\":\"plain\x7f\",\"count\":1}\n",
                r#"{"word":"say\"hi\"","count":1}"#,
                "\n",
                r#"{"word":"x\u0001y","count":1}"#,
                "\n",
            ),
            run("json")
        );
    }
);

// The three formats carry the same records in the same order, on a text
// with every awkward case `util::tricky_text` has, in both word modes.
mrtest!(formats_agree_on_tricky_text, |dir: Dir, _: TestCommand| {
    dir.create("tricky.txt", util::tricky_text());
    for split in ["alphanumeric", "whitespace"] {
        // TSV keeps bytes that are not UTF-8 (whitespace words hold
        // some), CSV and JSON replace them as a lossy reading of TSV does.
        let run = |format: &str| {
            let out = dir
                .command()
                .args(["wordcount", "--split", split, "--format", format])
                .arg("tricky.txt")
                .output();
            assert!(out.status.success(), "{out:?}");
            String::from_utf8_lossy(&out.stdout).into_owned()
        };
        let tsv = parse_tsv(&run("tsv"));
        assert!(tsv.len() > 20, "{split}: only {} records", tsv.len());
        assert_eq!(parse_csv(&run("csv")), tsv, "csv, --split {split}");
        assert_eq!(parse_json_lines(&run("json")), tsv, "json, --split {split}");
    }
});

// With --split whitespace, bytes that are not UTF-8 belong to words: TSV
// writes them as they are, CSV and JSON (text formats) as U+FFFD, and
// nothing fails.
mrtest!(
    invalid_utf8_input_in_every_format,
    |dir: Dir, _: TestCommand| {
        let text: &[u8] =
            b"ok\xffbad \xc3( caf\xc3\xa9 \xed\xa0\x80x \xf0\x9f\x92 ok\xc0\xafok\n\xfe\xff\xfe";
        dir.create("bad.txt", text);
        let run = |format: &str| {
            let out = dir
                .command()
                .args(["wordcount", "--split", "whitespace", "--format", format])
                .arg("bad.txt")
                .output();
            assert!(out.status.success(), "{out:?}");
            out.stdout
        };
        let tsv = run("tsv");
        assert_eq!(
            tsv,
            b"caf\xc3\xa9\t1\nok\xc0\xafok\t1\nok\xffbad\t1\n\xc3(\t1\n\
              \xed\xa0\x80x\t1\n\xf0\x9f\x92\t1\n\xfe\xff\xfe\t1\n"
        );
        let tsv = parse_tsv(&String::from_utf8_lossy(&tsv));
        assert_eq!(parse_csv(&String::from_utf8(run("csv")).unwrap()), tsv);
        assert_eq!(
            parse_json_lines(&String::from_utf8(run("json")).unwrap()),
            tsv
        );
    }
);

mrtest!(
    output_file_in_each_format_equals_stdout,
    |dir: Dir, _: TestCommand| {
        dir.create("in.txt", AWKWARD);
        for format in ["tsv", "csv", "json"] {
            let args = ["wordcount", "--split", "whitespace", "--format", format];
            let stdout = dir.command().args(args).arg("in.txt").stdout();
            dir.command()
                .args(args)
                .args(["in.txt", "-o", "out.txt"])
                .assert_exit_code(0);
            assert_eq!(dir.read("out.txt"), stdout.as_bytes(), "{format}");
        }
    }
);

mrtest!(sort_key_is_bytewise, |dir: Dir, _: TestCommand| {
    dir.create("tricky.txt", util::tricky_text());
    for threads in ["1", "3"] {
        let by_count = dir
            .command()
            .args(["wordcount", "--threads", threads, "tricky.txt"])
            .stdout();
        let mut expected = parse_tsv(&by_count);
        expected.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
        let got = dir
            .command()
            .args(["wordcount", "--sort", "key", "--threads", threads])
            .arg("tricky.txt")
            .stdout();
        assert_eq!(parse_tsv(&got), expected, "--threads {threads}");
        // And explicitly `--sort count` is the default.
        let explicit = dir
            .command()
            .args(["wordcount", "--sort", "count", "--threads", threads])
            .arg("tricky.txt")
            .stdout();
        assert_text_eq!(by_count, explicit);
    }
});

mrtest!(sort_none_has_the_same_lines, |dir: Dir, _: TestCommand| {
    dir.create("tricky.txt", util::tricky_text());
    let expected = sorted_lines(&dir.command().args(["wordcount", "tricky.txt"]).stdout());
    for partitions in ["1", "7"] {
        for format in ["tsv", "csv"] {
            let got = dir
                .command()
                .args(["wordcount", "--sort", "none", "--format", format])
                .args(["--partitions", partitions, "tricky.txt"])
                .stdout();
            let got = match format {
                "csv" => to_tsv(&parse_csv(&got)),
                _ => got,
            };
            assert_eq!(
                sorted_lines(&got),
                expected,
                "--partitions {partitions} --format {format}"
            );
        }
    }
});

mrtest!(top_with_each_sort, |dir: Dir, _: TestCommand| {
    dir.create("tricky.txt", util::tricky_text());
    let full = |sort: &str| {
        dir.command()
            .args(["wordcount", "--sort", sort, "tricky.txt"])
            .stdout()
    };
    let top = |sort: &str, n: &str| {
        dir.command()
            .args(["wordcount", "--sort", sort, "--top", n, "tricky.txt"])
            .stdout()
    };
    for sort in ["count", "key"] {
        let all = full(sort);
        let total = all.lines().count();
        for n in [0, 1, 5, total - 1, total, total + 10] {
            let expected: String = all.split_inclusive('\n').take(n).collect();
            assert_text_eq!(
                expected,
                top(sort, &n.to_string()),
                "--sort {sort} --top {n}"
            );
        }
    }
    let all = sorted_lines(&full("count"));
    for n in [0, 3, all.len() + 1] {
        let got = top("none", &n.to_string());
        let lines = sorted_lines(&got);
        assert_eq!(lines.len(), n.min(all.len()), "--sort none --top {n}");
        assert!(
            lines.iter().all(|line| all.binary_search(line).is_ok()),
            "--sort none --top {n} printed a line that is not in the output: {got}"
        );
    }
    // The header is not a record: --top 2 gives it and two records.
    let csv = dir
        .command()
        .args(["wordcount", "--format", "csv", "--top", "2", "tricky.txt"])
        .stdout();
    let tsv: String = full("count").split_inclusive('\n').take(2).collect();
    assert_eq!(to_tsv(&parse_csv(&csv)), tsv);
});

/// `word<TAB>count` lines as pairs.
pub fn parse_tsv(text: &str) -> Vec<(String, u64)> {
    text.lines()
        .map(|line| {
            let (word, count) = line
                .rsplit_once('\t')
                .unwrap_or_else(|| panic!("not a word<TAB>count line: {line:?}"));
            (word.to_string(), count.parse().expect("count is a number"))
        })
        .collect()
}

/// Pairs as `word<TAB>count` lines.
pub fn to_tsv(pairs: &[(String, u64)]) -> String {
    pairs.iter().map(|(w, n)| format!("{w}\t{n}\n")).collect()
}

/// The lines of `text`, sorted.
pub fn sorted_lines(text: &str) -> Vec<String> {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    lines.sort();
    lines
}

/// Parses `word,count` CSV (RFC 4180, LF line ends) with its header,
/// strictly: a quote inside an unquoted field, text after a closing quote
/// or an unclosed quote panics.
pub fn parse_csv(text: &str) -> Vec<(String, u64)> {
    let mut records = Vec::new();
    let mut chars = text.chars().peekable();
    while chars.peek().is_some() {
        let mut fields = Vec::new();
        loop {
            let mut field = String::new();
            if chars.peek() == Some(&'"') {
                chars.next();
                loop {
                    match chars.next() {
                        Some('"') if chars.peek() == Some(&'"') => {
                            chars.next();
                            field.push('"');
                        }
                        Some('"') => break,
                        Some(c) => field.push(c),
                        None => panic!("unclosed quote in {text:?}"),
                    }
                }
            } else {
                while let Some(&c) = chars.peek() {
                    if c == ',' || c == '\n' {
                        break;
                    }
                    assert!(
                        c != '"' && c != '\r',
                        "{c:?} in an unquoted field: {text:?}"
                    );
                    field.push(c);
                    chars.next();
                }
            }
            fields.push(field);
            match chars.next() {
                Some(',') => continue,
                Some('\n') => break,
                other => panic!("expected , or a newline after a field, got {other:?}"),
            }
        }
        records.push(fields);
    }
    assert_eq!(
        records.first().map(|header| header.join(",")).as_deref(),
        Some("word,count"),
        "the first line is the header"
    );
    records[1..]
        .iter()
        .map(|fields| match fields.as_slice() {
            [word, count] => (word.clone(), count.parse().expect("count is a number")),
            _ => panic!("not two fields: {fields:?}"),
        })
        .collect()
}

/// Parses JSON Lines of exactly `{"word":STRING,"count":INTEGER}`,
/// strictly (raw control characters and unknown escapes panic).
pub fn parse_json_lines(text: &str) -> Vec<(String, u64)> {
    assert!(text.is_empty() || text.ends_with('\n'), "no final newline");
    text.lines()
        .map(|line| {
            let rest = line
                .strip_prefix(r#"{"word":"#)
                .unwrap_or_else(|| panic!("bad start: {line:?}"));
            let (word, rest) = json_string(rest);
            let count = rest
                .strip_prefix(r#","count":"#)
                .and_then(|r| r.strip_suffix('}'))
                .unwrap_or_else(|| panic!("bad end: {line:?}"));
            assert!(count.bytes().all(|b| b.is_ascii_digit()), "{line:?}");
            (word, count.parse().expect("count is a number"))
        })
        .collect()
}

/// Reads one JSON string at the start of `text`; returns it and the rest.
fn json_string(text: &str) -> (String, &str) {
    let mut chars = text
        .strip_prefix('"')
        .unwrap_or_else(|| panic!("not a string: {text:?}"))
        .char_indices();
    let mut out = String::new();
    while let Some((_, c)) = chars.next() {
        match c {
            '"' => return (out, chars.as_str()),
            '\\' => match chars.next().map(|(_, c)| c) {
                Some('"') => out.push('"'),
                Some('\\') => out.push('\\'),
                Some('/') => out.push('/'),
                Some('b') => out.push('\u{8}'),
                Some('f') => out.push('\u{c}'),
                Some('n') => out.push('\n'),
                Some('r') => out.push('\r'),
                Some('t') => out.push('\t'),
                Some('u') => {
                    let hex: String = chars.by_ref().take(4).map(|(_, c)| c).collect();
                    let code = u32::from_str_radix(&hex, 16).expect("4 hex digits");
                    out.push(char::from_u32(code).expect("a scalar value"));
                }
                other => panic!("bad escape {other:?} in {text:?}"),
            },
            c if c < ' ' => panic!("raw control character in {text:?}"),
            c => out.push(c),
        }
    }
    panic!("unclosed string: {text:?}");
}
