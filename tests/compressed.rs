//! Compressed inputs (issue 16): gzip, zstd, bzip2 and xz, told by their
//! magic bytes, decoded for every job from files and stdin; the output on
//! a compressed input is the output on the plain one. The inputs are made
//! with the system's `gzip`, `zstd`, `bzip2` and `xz` (and `pigz` where it
//! is installed); a test whose tool is missing skips, unless `CI` is set.

#![cfg(feature = "decompress")]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::util::{assert_one_line_error, datasets, Dir, TestCommand};

/// The datasets: `MR_LOCAL_DATASETS` if set (for a checkout whose
/// `../shared` is elsewhere), else where the other tests find them.
fn data_dir() -> Option<PathBuf> {
    match std::env::var_os("MR_LOCAL_DATASETS") {
        Some(dir) if !dir.is_empty() => Some(PathBuf::from(dir)),
        _ => datasets(),
    }
}

/// A format, the tool that makes it, and the fastest level of it.
struct Format {
    ext: &'static str,
    tool: &'static str,
    args: &'static [&'static str],
    name: &'static str,
}

const GZIP: Format = Format {
    ext: "gz",
    tool: "gzip",
    args: &["-1", "-c"],
    name: "gzip",
};
const ZSTD: Format = Format {
    ext: "zst",
    tool: "zstd",
    args: &["-1", "-q", "-c"],
    name: "zstd",
};
const BZIP2: Format = Format {
    ext: "bz2",
    tool: "bzip2",
    args: &["-1", "-c"],
    name: "bzip2",
};
const XZ: Format = Format {
    ext: "xz",
    tool: "xz",
    args: &["-0", "-T1", "-c"],
    name: "xz",
};

/// `bytes` compressed by `format`'s tool, or `None` (after saying why)
/// where the tool is missing outside CI.
fn compress(format: &Format, bytes: &[u8]) -> Option<Vec<u8>> {
    compress_with(format.tool, format.args, bytes)
}

fn compress_with(tool: &str, args: &[&str], bytes: &[u8]) -> Option<Vec<u8>> {
    let child = Command::new(tool)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(e) if std::env::var_os("CI").is_none_or(|v| v.is_empty()) => {
            eprintln!("skipping: cannot run {tool}: {e}");
            return None;
        }
        Err(e) => panic!("cannot run {tool}, and CI is set: {e}"),
    };
    let mut stdin = child.stdin.take().expect("piped stdin");
    let input = bytes.to_vec();
    let writer = std::thread::spawn(move || {
        use std::io::Write;
        stdin.write_all(&input).expect("write to the compressor");
    });
    let out = child.wait_with_output().expect("wait for the compressor");
    writer.join().expect("writer thread");
    assert!(out.status.success(), "{tool} failed");
    Some(out.stdout)
}

/// A job's command line on `input`, at `threads`.
fn job(job: &[&str], threads: &str, input: &str) -> Vec<String> {
    let mut args: Vec<String> = job.iter().map(|a| a.to_string()).collect();
    args.extend(["--threads".into(), threads.into(), input.into()]);
    args
}

const WORDCOUNT: &[&str] = &["wordcount"];
const GREP: &[&str] = &["grep", "Lord"];
const INVERT: &[&str] = &["invert"];
const SORT: &[&str] = &["sort"];

/// The job's output on `plain`, and on `compressed` (a file in `dir`) at
/// 1 and 2 threads from the file and, at `stdin_threads`, from stdin:
/// all the same, byte for byte. grep and invert name their inputs, so
/// their output names the plain file throughout.
fn assert_same_output(
    dir: &Dir,
    args: &[&str],
    plain: &str,
    compressed: &str,
    stdin_threads: &[&str],
) {
    let want = succeeded(dir.command().args(job(args, "2", plain)).output());
    assert!(!want.is_empty(), "{args:?} on {plain} printed nothing");
    let bytes = std::fs::read(dir.join(compressed)).expect("read the compressed file");
    for threads in ["1", "2"] {
        let got = succeeded(dir.command().args(job(args, threads, compressed)).output());
        assert_same_bytes(&want, &renamed(&got, compressed, plain), args);
    }
    for threads in stdin_threads {
        let got = dir
            .command()
            .args(job(args, threads, "-"))
            .pipe_output(&bytes);
        let got = succeeded(got);
        assert_same_bytes(&want, &renamed(&got, "<stdin>", plain), args);
    }
}

/// The stdout of a run that must have succeeded.
fn succeeded(out: std::process::Output) -> Vec<u8> {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{}: {stderr}", out.status);
    out.stdout
}

/// `bytes` with every `from` replaced by `to`.
fn renamed(bytes: &[u8], from: &str, to: &str) -> Vec<u8> {
    let (from, to) = (from.as_bytes(), to.as_bytes());
    let mut out = Vec::with_capacity(bytes.len());
    let mut rest = bytes;
    while let Some(at) = rest.windows(from.len()).position(|w| w == from) {
        out.extend_from_slice(&rest[..at]);
        out.extend_from_slice(to);
        rest = &rest[at + from.len()..];
    }
    out.extend_from_slice(rest);
    out
}

fn assert_same_bytes(want: &[u8], got: &[u8], args: &[&str]) {
    if want != got {
        let (want, got) = (String::from_utf8_lossy(want), String::from_utf8_lossy(got));
        panic!(
            "{args:?}: {}",
            crate::util::describe_mismatch("plain", &want, "compressed", &got)
        );
    }
}

/// kjv ×10, compressed whole (one member) and as ten members of kjv, and
/// counted as the plain text is, for `format`.
fn kjv_ten_times(format: &Format) {
    let Some(data) = data_dir() else { return };
    let kjv = std::fs::read(data.join("kjvbible.txt")).expect("kjv");
    let dir = Dir::new(&format!("compressed_kjv_{}", format.ext));
    let ten = kjv.repeat(10);
    dir.create("kjv10.txt", &ten);
    let Some(whole) = compress(format, &ten) else {
        return;
    };
    let one = compress(format, &kjv).expect("compressed once already");
    let whole_name = format!("kjv10.{}", format.ext);
    let members_name = format!("kjv10-members.{}", format.ext);
    dir.create(&whole_name, whole);
    dir.create(&members_name, one.repeat(10));
    assert_same_output(&dir, WORDCOUNT, "kjv10.txt", &whole_name, &["2"]);
    // Decoded a member per task at 3 threads, in windows, mapped as the
    // next window decodes; by one decoder at 1 and 2.
    assert_same_output(&dir, WORDCOUNT, "kjv10.txt", &members_name, &["3"]);
    // grep's line numbers run on across members, decoded in parallel at
    // 2 threads (grep holds its input whole).
    assert_same_output(&dir, GREP, "kjv10.txt", &members_name, &["1"]);
}

/// Dickens (CRLF, bytes that are not UTF-8) through every job, for
/// `format`.
fn dickens_every_job(format: &Format) {
    let Some(data) = data_dir() else { return };
    let text = std::fs::read(data.join("silesia-dickens.txt")).expect("dickens");
    let dir = Dir::new(&format!("compressed_dickens_{}", format.ext));
    dir.create("dickens.txt", &text);
    let Some(packed) = compress(format, &text) else {
        return;
    };
    let name = format!("dickens.{}", format.ext);
    dir.create(&name, packed);
    for args in [WORDCOUNT, GREP, INVERT, SORT] {
        assert_same_output(&dir, args, "dickens.txt", &name, &["2"]);
    }
}

mrtest!(gzip_kjv_ten_times, |_: Dir, _: TestCommand| kjv_ten_times(
    &GZIP
));
mrtest!(zstd_kjv_ten_times, |_: Dir, _: TestCommand| kjv_ten_times(
    &ZSTD
));
mrtest!(bzip2_kjv_ten_times, |_: Dir, _: TestCommand| kjv_ten_times(
    &BZIP2
));
mrtest!(xz_kjv_ten_times, |_: Dir, _: TestCommand| kjv_ten_times(
    &XZ
));
mrtest!(gzip_dickens_every_job, |_: Dir, _: TestCommand| {
    dickens_every_job(&GZIP)
});
mrtest!(zstd_dickens_every_job, |_: Dir, _: TestCommand| {
    dickens_every_job(&ZSTD)
});
mrtest!(bzip2_dickens_every_job, |_: Dir, _: TestCommand| {
    dickens_every_job(&BZIP2)
});
mrtest!(xz_dickens_every_job, |_: Dir, _: TestCommand| {
    dickens_every_job(&XZ)
});

/// Some lines of words, a few hundred KiB: enough for several chunks.
fn some_text() -> Vec<u8> {
    (0..40_000u32)
        .map(|i| format!("line {i} of words {}\n", i % 97))
        .collect::<String>()
        .into_bytes()
}

/// Runs wordcount on `name` with `-o out.txt` and checks the failure: one
/// line naming the file and saying `cause` and the byte, exit 1, and no
/// output file.
fn assert_fails(dir: &Dir, name: &str, cause: &str) {
    let out = dir
        .command()
        .args(["wordcount", "-o", "out.txt", name])
        .assert_exit_code(1);
    assert_one_line_error(&out, Path::new(name), cause);
    assert!(String::from_utf8_lossy(&out.stderr).contains(" at byte "));
    assert!(!dir.join("out.txt").exists(), "an output file was left");
}

mrtest!(
    truncated_corrupt_and_trailing_garbage_fail,
    |dir: Dir, _: TestCommand| {
        let text = some_text();
        for format in [&GZIP, &ZSTD, &BZIP2, &XZ] {
            let Some(packed) = compress(format, &text) else {
                continue;
            };
            let name = |what: &str| format!("{what}.{}", format.ext);
            dir.create(name("cut"), &packed[..packed.len() * 2 / 3]);
            let mut flipped = packed.clone();
            let middle = flipped.len() / 2;
            flipped[middle] ^= 0x55;
            dir.create(name("flipped"), flipped);
            let mut garbage = packed.clone();
            garbage.extend_from_slice(b"not compressed\n");
            dir.create(name("garbage"), garbage);
            let truncated = format!("truncated {} stream", format.name);
            assert_fails(&dir, &name("cut"), &truncated);
            // A flipped byte is found where it breaks the format, or by
            // the checksum at the end.
            assert_fails(&dir, &name("flipped"), format.name);
            let trailing = format!(
                "trailing garbage after {} data at byte {}",
                format.name,
                packed.len()
            );
            assert_fails(&dir, &name("garbage"), &trailing);
        }
    }
);

mrtest!(
    errors_name_the_compressed_offset_from_stdin_too,
    |dir: Dir, _: TestCommand| {
        let Some(packed) = compress(&GZIP, &some_text()) else {
            return;
        };
        let out = dir
            .command()
            .args(["wordcount", "-o", "out.txt", "-"])
            .pipe_output(&packed[..packed.len() / 2]);
        assert_eq!(out.status.code(), Some(1));
        assert_one_line_error(&out, Path::new("<stdin>"), "truncated gzip stream at byte ");
        assert!(!dir.join("out.txt").exists());
    }
);

mrtest!(empty_gzip_inputs_work, |dir: Dir, _: TestCommand| {
    let Some(empty) = compress(&GZIP, b"") else {
        return;
    };
    dir.create("of-empty.gz", empty);
    dir.create("empty.gz", "");
    for name in ["of-empty.gz", "empty.gz"] {
        for args in [WORDCOUNT, SORT] {
            let got = dir.command().args(job(args, "2", name)).stdout();
            assert_eq!(got, "", "{args:?} {name}");
        }
    }
});

mrtest!(
    no_decompress_reads_the_raw_bytes,
    |dir: Dir, _: TestCommand| {
        let text = some_text();
        let Some(packed) = compress(&GZIP, &text) else {
            return;
        };
        dir.create("a.txt", &text);
        dir.create("a.gz", &packed);
        let plain = dir.command().args(["wordcount", "a.txt"]).stdout();
        let raw = dir
            .command()
            .args(["wordcount", "--no-decompress", "a.gz"])
            .stdout();
        let raw_stdin = dir
            .command()
            .args(["wordcount", "--no-decompress", "-"])
            .pipe(&packed);
        assert_ne!(plain, raw);
        assert_eq!(raw, raw_stdin);
        // Detection is by content: a compressed file by any name is decoded,
        // a plain one named .gz is read as it is.
        dir.create("named-plain.gz", &text);
        dir.create("named-oddly.txt", &packed);
        for name in ["named-plain.gz", "named-oddly.txt"] {
            assert_eq!(dir.command().args(["wordcount", name]).stdout(), plain);
        }
    }
);

mrtest!(
    a_recursive_tree_of_mixed_formats,
    |dir: Dir, _: TestCommand| {
        let text = some_text();
        let mut want = Vec::new();
        for (i, format) in [&GZIP, &ZSTD, &BZIP2, &XZ].into_iter().enumerate() {
            let Some(packed) = compress(format, &text) else {
                return;
            };
            dir.create(format!("tree/{i}.{}", format.ext), packed);
            want.extend_from_slice(&text);
        }
        dir.create("all.txt", &want);
        let plain = dir.command().args(["wordcount", "all.txt"]).stdout();
        let tree = dir.command().args(["wordcount", "-r", "tree"]).stdout();
        assert_eq!(tree, plain);
    }
);

mrtest!(pigz_output_is_read, |dir: Dir, _: TestCommand| {
    let text = some_text().repeat(8);
    dir.create("a.txt", &text);
    let plain = dir.command().args(["wordcount", "a.txt"]).stdout();
    for args in [&["-c"][..], &["-i", "-b", "32", "-c"][..]] {
        let Some(packed) = compress_with("pigz", args, &text) else {
            return;
        };
        dir.create("a.gz", packed);
        assert_eq!(dir.command().args(["wordcount", "a.gz"]).stdout(), plain);
    }
});

mrtest!(
    stats_count_compressed_and_decoded_bytes,
    |dir: Dir, _: TestCommand| {
        let text = some_text();
        let Some(packed) = compress(&ZSTD, &text) else {
            return;
        };
        dir.create("a.zst", &packed);
        dir.create("b.txt", &text);
        for input in ["a.zst", "-"] {
            dir.command()
                .args(["wordcount", "--stats-json", "stats.json", input, "b.txt"])
                .pipe(&packed);
            let json = String::from_utf8(dir.read("stats.json")).unwrap();
            let decoded = format!("\"input_bytes\":{},", 2 * text.len());
            let compressed = format!("\"compressed_bytes\":{},", packed.len());
            assert!(json.contains(&decoded), "{json}");
            assert!(json.contains(&compressed), "{json}");
        }
        // Members decoded in parallel count each compressed byte once.
        dir.create("b.zst", packed.repeat(5));
        dir.command()
            .args([
                "wordcount",
                "--stats-json",
                "stats.json",
                "--split-size",
                "1M",
            ])
            .args(["--threads", "3", "b.zst"])
            .stdout();
        let json = String::from_utf8(dir.read("stats.json")).unwrap();
        let decoded = format!("\"input_bytes\":{},", 5 * text.len());
        let compressed = format!("\"compressed_bytes\":{},", 5 * packed.len());
        assert!(
            json.contains(&decoded) && json.contains(&compressed),
            "{json}"
        );
        let stats = dir
            .command()
            .args(["wordcount", "--stats", "a.zst"])
            .output();
        let stats = String::from_utf8_lossy(&stats.stderr);
        assert!(stats.contains("compressed bytes"), "{stats}");
    }
);

mrtest!(
    the_progress_bar_moves_on_compressed_bytes,
    |dir: Dir, _: TestCommand| {
        let text = some_text().repeat(4);
        let Some(packed) = compress(&GZIP, &text) else {
            return;
        };
        dir.create("a.gz", &packed);
        let out = dir
            .command()
            .args([
                "wordcount",
                "--progress",
                "always",
                "--split-size",
                "64K",
                "a.gz",
            ])
            .output();
        assert!(out.status.success());
        let stderr = String::from_utf8_lossy(&out.stderr);
        // indicatif's binary units, as the bar shows them: the total is
        // the compressed length, never the decoded one.
        let size = format!("{:.2} KiB", packed.len() as f64 / 1024.0);
        assert!(stderr.contains(&format!("/{size} ")), "{stderr}");
        let decoded = format!("{:.2} KiB", text.len() as f64 / 1024.0);
        assert!(!stderr.contains(&decoded), "{stderr}");
    }
);

/// Members of `format`: text, then a member whose decoded bytes are
/// themselves members of `format`, so that its compressed bytes may hold
/// what looks like a member's start; the plain text they decode to, and where
/// each member starts.
fn tricky_members(format: &Format) -> Option<(Vec<u8>, Vec<u8>, Vec<usize>)> {
    let text = some_text();
    // Members of the same format, stored in the outer members as they are
    // wherever the format keeps incompressible bytes raw.
    let mut inner = Vec::new();
    for slice in text.chunks(text.len() / 32) {
        inner.extend(compress(format, slice)?);
    }
    let mut packed = Vec::new();
    let mut plain = Vec::new();
    let mut starts = Vec::new();
    for part in [
        &text[..],
        &inner[..],
        &text[..],
        &text[..],
        &inner[..],
        &text[..],
    ] {
        starts.push(packed.len());
        packed.extend(compress(format, part)?);
        plain.extend_from_slice(part);
    }
    Some((packed, plain, starts))
}

mrtest!(
    members_decode_in_parallel_past_false_starts,
    |dir: Dir, _: TestCommand| {
        for format in [&GZIP, &ZSTD, &BZIP2, &XZ] {
            let Some((packed, plain, _)) = tricky_members(format) else {
                continue;
            };
            let name = format!("members.{}", format.ext);
            dir.create(&name, &packed);
            dir.create("plain.txt", &plain);
            let want = succeeded(dir.command().args(["wordcount", "plain.txt"]).output());
            // Small splits make small segments, several to a window, and
            // some too large for a segment's share, left to one decoder;
            // at every thread count, members are decoded on the pool.
            for (split, threads) in [("64K", "1"), ("64K", "2"), ("256K", "3"), ("4M", "2")] {
                let args = job(&["wordcount", "--split-size", split], threads, &name);
                let got = succeeded(dir.command().args(args).output());
                assert_same_bytes(&want, &got, &[format.name, split, threads]);
            }
            // grep reads them whole, in parallel segments too.
            let grep = &["grep", "words 4"];
            let want = succeeded(dir.command().args(job(grep, "2", "plain.txt")).output());
            assert!(!want.is_empty());
            let got = succeeded(dir.command().args(job(grep, "2", &name)).output());
            assert_same_bytes(&want, &renamed(&got, &name, "plain.txt"), grep);
        }
    }
);

mrtest!(
    a_corrupt_member_is_found_where_it_is,
    |dir: Dir, _: TestCommand| {
        let Some((packed, _, starts)) = tricky_members(&GZIP) else {
            return;
        };
        // The fourth member's middle; the members before it decode.
        let member = starts[3];
        let at = (starts[3] + starts[4]) / 2;
        let mut bad = packed.clone();
        bad[at] ^= 0x55;
        dir.create("bad.gz", &bad);
        dir.create("cut.gz", &packed[..at]);
        for (name, cause) in [("bad.gz", "corrupt"), ("cut.gz", "truncated")] {
            for split in ["64K", "4M"] {
                let out = dir
                    .command()
                    .args(job(&["wordcount", "--split-size", split], "3", name))
                    .assert_exit_code(1);
                assert_one_line_error(
                    &out,
                    Path::new(name),
                    &format!("{cause} gzip stream at byte "),
                );
                let stderr = String::from_utf8_lossy(&out.stderr);
                let byte: usize = stderr
                    .trim_end()
                    .rsplit(' ')
                    .next()
                    .unwrap()
                    .parse()
                    .unwrap();
                // Where decoding stopped: past the member's start, at most
                // a buffer on from the damage.
                assert!(byte > member && byte <= at + 256 * 1024, "{stderr}");
            }
        }
    }
);
