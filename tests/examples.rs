//! The programs in `examples/`, run as a user would run them, on real or
//! generated data, each checked against an independent computation: a
//! plain sequential one written here another way, or the system's `grep`
//! and `sort`.
//!
//! The examples are built by the first test that runs one (see
//! [`example`]), into `target/<profile>/examples/`.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsStr;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use mr_local::generate::AccessLogConfig;
use regex::bytes::Regex;

use crate::util::{self, Dir};

/// The example `name`, built first if need be.
///
/// `cargo test` builds the examples, but not when given a test name to
/// filter on (`cargo test --profile ci examples`), so the first call builds
/// them with the cargo running the tests, in the same profile, and a stale
/// binary can never be tested.
pub(crate) fn example(name: &str) -> Command {
    static BUILT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    let dir = BUILT.get_or_init(|| {
        let exe = std::env::current_exe().expect("the test binary's path");
        // target/<profile>/deps/integration-<hash> -> target/<profile>
        let profile_dir = exe
            .parent()
            .and_then(Path::parent)
            .expect("the test binary lives in target/<profile>/deps");
        let mut cargo = Command::new(std::env::var_os("CARGO").unwrap_or("cargo".into()));
        cargo
            .args(["build", "--quiet", "--examples"])
            .current_dir(env!("CARGO_MANIFEST_DIR"));
        // A profile builds into the folder of its name, but for dev's
        // target/debug (and bench's target/release, which builds as
        // release does).
        let profile = match profile_dir.file_name().and_then(OsStr::to_str) {
            Some("debug") => "dev",
            Some(profile) => profile,
            None => panic!("{} has no profile name", profile_dir.display()),
        };
        cargo.args(["--profile", profile]);
        let status = cargo.status().expect("run cargo to build the examples");
        assert!(status.success(), "{cargo:?} failed");
        profile_dir.join("examples")
    });
    let path = dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(path.is_file(), "{} is not built", path.display());
    let mut cmd = Command::new(path);
    cmd.stdin(Stdio::null());
    cmd
}

/// Runs example `name` with `args`, asserts it succeeded, and returns its
/// stdout and stderr.
pub(crate) fn run<I, A>(name: &str, args: I) -> (Vec<u8>, String)
where
    I: IntoIterator<Item = A>,
    A: AsRef<OsStr>,
{
    let mut cmd = example(name);
    cmd.args(args);
    let out = cmd.output().expect("run the example");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}\n{stderr}",
        out.status
    );
    (out.stdout, stderr)
}

/// Runs a system tool and returns its stdout; grep's "no match" exit
/// status 1 counts as success.
fn system(program: &str, args: &[&OsStr]) -> Vec<u8> {
    let out = Command::new(program)
        .args(args)
        .env("LC_ALL", "C")
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
    let ok = out.status.success() || (program == "grep" && out.status.code() == Some(1));
    assert!(
        ok,
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn os(paths: &[PathBuf]) -> Vec<&OsStr> {
    paths.iter().map(|p| p.as_os_str()).collect()
}

/// Files with what breaks line-oriented tools: CRLF, empty lines, bytes
/// that are not UTF-8, duplicates, a long line, no final newline; big
/// enough to be cut into several splits; and an empty file.
fn odd_files(dir: &Dir) -> Vec<PathBuf> {
    let mut odd = util::tricky_text();
    odd.extend_from_slice(b"\nsame\nsame\n\n\r\n\r\nsame\r\n");
    vec![
        dir.create("tricky.txt", &odd),
        dir.create("empty.txt", ""),
        dir.create("same.txt", "z\n".repeat(50_000)),
        dir.create("no-newline.txt", "b\r\na\n\nc"),
    ]
}

/// `vhost_combined` lines, by regex (the examples parse by hand): returns
/// the site, the port, the request path and the referrer of a valid line.
fn parse_log_line(line: &[u8]) -> Option<[&[u8]; 4]> {
    static FORMAT: std::sync::OnceLock<Regex> = std::sync::OnceLock::new();
    let format = FORMAT.get_or_init(|| {
        let quoted = r#"(?:[^"\\]|\\.)*"#;
        let pattern = format!(
            r#"^(?-u)([^ :]+):([0-9]+) [^ ]+ [^ ]+ [^ ]+ \[[^\]]+\] "[A-Z]+ ([^ "]*) [^"]*" [0-9]{{3}} (?:[0-9]+|-) "({quoted})" "{quoted}"$"#
        );
        Regex::new(&pattern).expect("valid regex")
    });
    let caps = format.captures(line)?;
    Some([1, 2, 3, 4].map(|i| caps.get(i).map_or(&b""[..], |m| m.as_bytes())))
}

fn lines(text: &[u8]) -> impl Iterator<Item = &[u8]> {
    text.strip_suffix(b"\n")
        .unwrap_or(text)
        .split(|&b| b == b'\n')
        .filter(|_| !text.is_empty())
}

#[test]
fn website_visits_match_a_regex_count_of_a_generated_log() {
    let dir = Dir::new("website_visits");
    let config = AccessLogConfig {
        sites: 300,
        malformed: 0.02,
        ..AccessLogConfig::default()
    };
    let mut log = Vec::new();
    config.write_access_log(8 << 20, &mut log).unwrap();
    let path = dir.create("access.log", &log);

    let (mut visits, mut malformed, mut total) = (BTreeMap::new(), 0, 0);
    for line in lines(&log) {
        total += 1;
        match parse_log_line(line) {
            Some([site, ..]) => *visits.entry(text(site)).or_insert(0u64) += 1,
            None => malformed += 1,
        }
    }
    let mut ranked: Vec<(String, u64)> = visits.into_iter().collect();
    ranked.sort_by(|(a, x), (b, y)| y.cmp(x).then(a.cmp(b)));
    let expected: String = ranked.iter().map(|(s, n)| format!("{s}\t{n}\n")).collect();
    assert!(malformed > 0 && ranked.len() > 250);
    // The generator's own view: its most popular site comes first.
    assert_eq!(ranked[0].0, config.site_names()[0]);

    let (stdout, stderr) = run("website_visits", [&path]);
    assert_text_eq!(expected, text(&stdout));
    let summary = format!(
        "{total} lines, {} sites, {malformed} malformed",
        ranked.len()
    );
    assert!(
        stderr.contains(&summary),
        "{stderr:?} should say {summary:?}"
    );

    let (top, _) = run(
        "website_visits",
        [OsStr::new("--top"), OsStr::new("3"), path.as_os_str()],
    );
    let first_three: String = expected.lines().take(3).map(|l| format!("{l}\n")).collect();
    assert_text_eq!(first_three, text(&top));
}

#[test]
fn website_visits_small_hand_checked_log() {
    let dir = Dir::new("website_visits_small");
    let ok = r#"[01/Nov/2026:00:00:00 +0000] "GET / HTTP/1.1" 200 512 "-" "curl/8.5.0""#;
    let log = [
        format!("a.com:443 192.0.2.1 - - {ok}"),
        format!("b.org:80 192.0.2.2 - bob {ok}"),
        // An escaped quote and backslash in the user agent; no body.
        r#"a.com:443 ::1 - - [01/Nov/2026:00:00:01 +0000] "HEAD / HTTP/1.1" 304 - "https://b.org/x" "Bot \"1\" \\""#.to_string(),
        String::new(),
        format!("a.com:443 192.0.2.1 - - {ok}")[..60].to_string(),
        format!("a.com:443 192.0.2.1 - - {ok}").replace("] \"GET", "] GET"),
        format!("a.com:443 192.0.2.1 - - {ok}").replace("curl", "cu\"rl"),
        "a.com 192.0.2.1 - - [x] \"GET /\" 200 1 \"-\" \"-\"".to_string(),
    ]
    .join("\n");
    let path = dir.create("small.log", log);
    let (stdout, stderr) = run("website_visits", [&path]);
    assert_text_eq!("a.com\t2\nb.org\t1\n", text(&stdout));
    assert!(stderr.contains("8 lines, 2 sites, 5 malformed"), "{stderr}");
}

#[test]
fn inverted_index_matches_a_sequential_index() {
    let Some(datasets) = util::datasets() else {
        return;
    };
    let dir = Dir::new("inverted_index");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(datasets.join("udhr"))
        .expect("list udhr/")
        .map(|entry| entry.expect("udhr entry").path())
        .filter(|p| p.extension() == Some(OsStr::new("txt")))
        .collect();
    paths.sort();
    assert!(paths.len() >= 14, "udhr has 14 languages");
    paths.push(datasets.join("canterbury-world192.txt"));
    paths.extend(odd_files(&dir));

    // Words by a character loop, not by `split`.
    let mut index: BTreeMap<String, BTreeSet<usize>> = BTreeMap::new();
    for (id, path) in paths.iter().enumerate() {
        let mut word = String::new();
        for c in String::from_utf8_lossy(&util::read(path))
            .chars()
            .chain(['\n'])
        {
            if c.is_alphanumeric() {
                word.push(c);
            } else if !word.is_empty() {
                index.entry(word.to_lowercase()).or_default().insert(id);
                word.clear();
            }
        }
    }
    let mut expected = String::new();
    for (word, ids) in &index {
        expected.push_str(word);
        for &id in ids {
            let _ = write!(expected, "\t{}", paths[id].display());
        }
        expected.push('\n');
    }
    let (stdout, _) = run("inverted_index", &paths);
    assert_text_eq!(expected, text(&stdout));
}

#[test]
fn grep_prints_what_grep_hn_prints() {
    let dir = Dir::new("grep");
    let odd = odd_files(&dir);
    let mut sets = vec![odd.clone(), odd[..1].to_vec()];
    if let Some(datasets) = util::datasets() {
        let real = [
            "kjvbible.txt",
            "silesia-dickens.txt",
            "canterbury-world192.txt",
        ];
        sets.push(real.iter().map(|f| datasets.join(f)).chain(odd).collect());
    }
    // Patterns that mean the same to the regex crate and to `grep -E` in
    // the C locale (no `.`: the regex crate's matches a UTF-8 character).
    let patterns = [
        "Lord|LORD",
        "^And",
        "[0-9]+:[0-9]+",
        "ing$",
        "x$",
        "^$",
        "same",
        "zz+",
        "e",
        // Could match across a line break, which must not count.
        "d[[:space:]]+[A-Z]",
        "[^a-z]+$",
    ];
    for files in &sets {
        for pattern in patterns {
            let mut args = vec![OsStr::new("-aHnE"), OsStr::new(pattern)];
            args.extend(os(files));
            let expected = system("grep", &args);
            let (got, _) = run("grep", [OsStr::new(pattern)].into_iter().chain(os(files)));
            assert!(
                expected == got,
                "pattern {pattern:?} on {files:?}:\n{}",
                util::describe_mismatch("grep -Hn", &text(&expected), "example", &text(&got))
            );
        }
    }
}

#[test]
fn reverse_links_match_links_taken_from_an_access_log() {
    let dir = Dir::new("reverse_links");
    let mut log = Vec::new();
    AccessLogConfig::default()
        .write_access_log(4 << 20, &mut log)
        .unwrap();
    // A referrer links to the page it sent the visitor to.
    let mut edges = Vec::new();
    let mut expected: BTreeMap<Vec<u8>, BTreeSet<Vec<u8>>> = BTreeMap::new();
    for [site, port, path, referrer] in lines(&log).filter_map(parse_log_line) {
        if referrer.starts_with(b"http") {
            let scheme: &[u8] = if port == b"80" { b"http" } else { b"https" };
            let target = [scheme, b"://", site, path].concat();
            edges.extend_from_slice(&[referrer, b" ", &target, b"\n"].concat());
            expected
                .entry(target)
                .or_default()
                .insert(referrer.to_vec());
        }
    }
    // Blank lines are skipped; lines of one or three fields are malformed.
    edges.extend_from_slice(b"\n  \nlonely\na b c\n\tx\t\ty\t\n");
    expected
        .entry(b"y".to_vec())
        .or_default()
        .insert(b"x".to_vec());
    let path = dir.create("links.txt", &edges);

    let mut want = Vec::new();
    for (target, sources) in &expected {
        let sources: Vec<&[u8]> = sources.iter().map(Vec::as_slice).collect();
        want.extend_from_slice(&[target, &b"\t"[..], &sources.join(&b","[..]), b"\n"].concat());
    }
    assert!(expected.len() > 1000);
    let (stdout, stderr) = run("reverse_links", [&path]);
    assert_text_eq!(text(&want), text(&stdout));
    assert!(stderr.contains("2 malformed lines"), "{stderr}");
}

#[test]
fn histogram_matches_a_direct_count() {
    let dir = Dir::new("histogram");
    // Samples from a fixed LCG: a triangular shape, and the extremes.
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut samples: Vec<u16> = (0..3_000_000)
        .map(|_| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            ((state >> 48) / 2 + (state >> 16 & 0xffff) / 2) as u16
        })
        .collect();
    samples.extend([0, 0, u16::MAX, 1024, 1023]);
    let bytes: Vec<u8> = samples.iter().flat_map(|s| s.to_le_bytes()).collect();
    let path = dir.create("samples.raw", &bytes);

    for bins in [64usize, 1, 7 + 1, 65_536] {
        let width = 65_536 / bins;
        let mut counts = vec![0u64; bins];
        for &s in &samples {
            counts[usize::from(s) / width] += 1;
        }
        let expected: String = (0..bins)
            .map(|b| format!("{}\t{}\n", b * width, counts[b]))
            .collect();
        let (stdout, _) = run(
            "histogram",
            [
                OsStr::new("--bins"),
                OsStr::new(&bins.to_string()),
                path.as_os_str(),
            ],
        );
        assert_text_eq!(expected, text(&stdout), "--bins {bins}");
    }
}

#[test]
fn histogram_of_an_odd_length_file_names_its_last_byte() {
    let dir = Dir::new("histogram_odd");
    let path = dir.create("odd.raw", [1u8, 0, 2, 0, 3]);
    let out = example("histogram").arg(&path).output().unwrap();
    // `Error: ...` is the error's Debug form (main returns it), which says
    // `offset: 4` where its Display form says `byte 4`.
    let stderr = text(&out.stderr);
    let cause = if stderr.contains("offset") {
        "offset: 4"
    } else {
        "byte 4"
    };
    assert_failed_with_one_line(&out, &path, cause);
}

#[test]
fn sort_prints_what_lc_all_c_sort_prints() {
    let dir = Dir::new("sort");
    let odd = odd_files(&dir);
    let mut sets = vec![odd.clone(), odd[2..3].to_vec(), odd[3..].to_vec()];
    if let Some(datasets) = util::datasets() {
        let real = [
            "kjvbible.txt",
            "silesia-dickens.txt",
            "canterbury-world192.txt",
        ];
        sets.push(real.iter().map(|f| datasets.join(f)).chain(odd).collect());
    }
    for files in &sets {
        let expected = system("sort", &os(files));
        let (got, _) = run("sort", files);
        assert!(
            expected == got,
            "on {files:?}:\n{}",
            util::describe_mismatch("LC_ALL=C sort", &text(&expected), "example", &text(&got))
        );
    }
}

#[test]
fn examples_fail_with_one_line_on_a_missing_file() {
    let dir = Dir::new("examples_missing");
    let missing = dir.join("no-such-file");
    let cases: [(&str, &[&str]); 6] = [
        ("website_visits", &[]),
        ("inverted_index", &[]),
        ("grep", &["x"]),
        ("reverse_links", &[]),
        ("histogram", &[]),
        ("sort", &[]),
    ];
    for (name, args) in cases {
        let out = example(name).args(args).arg(&missing).output().unwrap();
        assert_failed_with_one_line(&out, &missing, "no such file or directory");
        // And with no arguments at all: a usage message.
        let out = example(name).output().unwrap();
        assert!(!out.status.success(), "{name} without arguments succeeded");
        assert!(
            text(&out.stderr).contains("usage"),
            "{name}: {}",
            text(&out.stderr)
        );
    }
}

pub(crate) fn assert_failed_with_one_line(out: &Output, path: &Path, cause: &str) {
    let stderr = text(&out.stderr);
    assert!(!out.status.success(), "succeeded; stderr: {stderr}");
    assert!(out.stdout.is_empty(), "stdout: {}", text(&out.stdout));
    assert_eq!(stderr.lines().count(), 1, "{stderr:?}");
    assert!(stderr.contains(&path.display().to_string()), "{stderr:?}");
    assert!(stderr.contains(cause), "{stderr:?} should say {cause:?}");
}

/// glibc's `rand()` from `srand(seed)`, written from its definition for the
/// tests (the examples have their own): `r[i] = r[i-3] + r[i-31]` after 31
/// words from the LCG 16807 and three copies, the first 310 outputs
/// dropped, each output shifted right by one.
fn glibc_rand(seed: u32, n: usize) -> Vec<i32> {
    let mut r: Vec<i32> = vec![seed as i32];
    for i in 1..31 {
        // 16807 * r mod (2^31 - 1), on the word as a signed number.
        let word = (16_807 * i64::from(r[i - 1])).rem_euclid(2_147_483_647);
        r.push(word as i32);
    }
    for i in 31..34 {
        r.push(r[i - 31]);
    }
    while r.len() < 344 + n {
        let i = r.len();
        r.push(r[i - 3].wrapping_add(r[i - 31]));
    }
    r[344..].iter().map(|&w| ((w as u32) >> 1) as i32).collect()
}

#[test]
fn glibc_rand_copy_gives_what_gcc_gives() {
    // `int main() { for (...) printf("%d\n", rand()); }`, built with gcc.
    let first = [1804289383, 846930886, 1681692777, 1714636915, 1957747793];
    assert_eq!(glibc_rand(1, 5), first);
    assert_eq!(glibc_rand(1, 1000)[999], 1_143_565_421);
}

/// The little-endian bytes of `values`.
fn le_bytes(values: &[i32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

#[test]
fn kmeans_matches_a_sequential_lloyd_loop() {
    let (dim, k, n, grid) = (3, 8, 10_000, 100);
    let random = glibc_rand(1, (n + k) * dim);
    let points: Vec<&[i32]> = random[..n * dim].chunks(dim).collect();
    let mut means: Vec<Vec<i32>> = random[n * dim..]
        .chunks(dim)
        .map(|m| m.iter().map(|x| x % grid).collect())
        .collect();
    let mut cluster = vec![usize::MAX; n];
    let mut iterations = 0;
    loop {
        iterations += 1;
        let mut changed = false;
        let mut sums = vec![(vec![0i64; dim], 0i64); k];
        for (p, point) in points.iter().enumerate() {
            let dist = |m: &Vec<i32>| -> i64 {
                (0..dim)
                    .map(|d| i64::from(point[d] % grid - m[d]).pow(2))
                    .sum()
            };
            // The first of the nearest.
            let nearest = (0..k).min_by_key(|&c| (dist(&means[c]), c)).unwrap();
            changed |= cluster[p] != nearest;
            cluster[p] = nearest;
            sums[nearest].1 += 1;
            for d in 0..dim {
                sums[nearest].0[d] += i64::from(point[d] % grid);
            }
        }
        for (mean, (sum, count)) in means.iter_mut().zip(sums) {
            if count > 0 {
                *mean = sum.iter().map(|s| (s / count) as i32).collect();
            }
        }
        if !changed {
            break;
        }
    }
    assert!(iterations > 3, "{iterations} iterations test too little");
    let mut expected = format!(
        "Dimension = {dim}\nNumber of clusters = {k}\nNumber of points = {n}\n\
         Size of each dimension = {grid}\nKMeans: Calling MapReduce Scheduler\n\
         KMeans: MapReduce Completed\n\n\nFinal means:\n"
    );
    for mean in &means {
        expected += &mean.iter().map(|x| format!("{x:5} ")).collect::<String>();
        expected += "\n";
    }
    let args = format!("-d {dim} -c {k} -p{n} -s {grid}");
    let mut cmd = example("kmeans");
    let out = cmd
        .args(args.split(' '))
        .env("RAYON_NUM_THREADS", "3")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_text_eq!(expected, text(&out.stdout));
}

#[test]
fn pca_matches_a_direct_covariance_sum() {
    // More rows than columns: what Phoenix++'s keys cannot hold.
    for (rows, cols, max) in [(10, 10, 100), (150, 120, 1000), (60, 7, 5)] {
        let random = glibc_rand(1, rows * cols);
        let matrix: Vec<&[i32]> = random.chunks(cols).collect();
        let at = |i: usize, k: usize| i64::from(matrix[i][k] % max);
        let means: Vec<i64> = (0..rows)
            .map(|i| (0..cols).map(|k| at(i, k)).sum::<i64>() / cols as i64)
            .collect();
        let mut sum = 0i64;
        for i in 0..rows {
            for j in i..rows {
                let products: i64 = (0..cols)
                    .map(|k| (at(i, k) - means[i]) * (at(j, k) - means[j]))
                    .sum();
                sum += products / (cols as i64 - 1);
            }
        }
        let expected = format!(
            "Number of rows = {rows}\nNumber of cols = {cols}\nMax value for each element = {max}\n\
             PCA Mean: Calling MapReduce Scheduler\nPCA Mean: MapReduce Completed\n\
             PCA Cov: Calling MapReduce Scheduler\nPCA Cov: MapReduce Completed\n\n\n\
             Covariance sum: {sum}\n"
        );
        let args = [
            format!("-r{rows}"),
            "-c".into(),
            cols.to_string(),
            format!("-s{max}"),
        ];
        let (stdout, _) = run("pca", &args);
        assert_text_eq!(expected, text(&stdout));
    }
}

/// Runs example `matrix_multiply` in `dir` and returns its stdout.
fn matrix_multiply(dir: &Dir, args: &[&str]) -> String {
    let out = example("matrix_multiply")
        .args(args)
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    text(&out.stdout)
}

/// The sum of the elements of `a` × `b`, `side` × `side`, in wrapping
/// `i32`s, straight from the definition.
fn product_sum(a: &[i32], b: &[i32], side: usize) -> i32 {
    let mut sum = 0i32;
    for i in 0..side {
        for j in 0..side {
            for k in 0..side {
                sum = sum.wrapping_add(a[i * side + k].wrapping_mul(b[k * side + j]));
            }
        }
    }
    sum
}

fn matrix_multiply_output(side: usize, row_block: usize, sum: i32) -> String {
    format!(
        "MatrixMult: Side of the matrix is {side}\nMatrixMult: Row Block Len is {row_block}\n\
         MatrixMult: Running...\nMatrixMult: Calling MapReduce Scheduler Matrix Multiplication\n\
         MatrixMult: total sum is {sum}\nMatrixMult: MapReduce Completed\n"
    )
}

#[test]
fn matrix_multiply_matches_a_direct_product_of_its_files() {
    let dir = Dir::new("matrix_multiply");
    // Values that overflow an i32 sum, negative ones too.
    let side = 150;
    let values = glibc_rand(7, 2 * side * side);
    let a: Vec<i32> = values[..side * side]
        .iter()
        .map(|v| v % 2001 - 1000)
        .collect();
    let b: Vec<i32> = values[side * side..].iter().map(|v| v % 50_000).collect();
    dir.create("matrix_file_A.txt", le_bytes(&a));
    dir.create("matrix_file_B.txt", le_bytes(&b));
    let expected = matrix_multiply_output(side, 1, product_sum(&a, &b, side));
    assert_text_eq!(expected, matrix_multiply(&dir, &["150"]));

    // Files longer than the matrix: read up to the side asked for.
    let (a, b) = (&a[..100 * 100], &b[..100 * 100]);
    let expected = matrix_multiply_output(100, 4, product_sum(a, b, 100));
    assert_text_eq!(expected, matrix_multiply(&dir, &["100", "4"]));

    // Shorter ones fail, naming the file.
    let out = example("matrix_multiply")
        .arg("151")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("matrix_file_A.txt: shorter than"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn matrix_multiply_writes_files_it_then_reads() {
    let dir = Dir::new("matrix_multiply_create");
    let side = 40;
    let stdout = matrix_multiply(&dir, &["40", "1", "create"]);
    let read = |name: &str| -> Vec<i32> {
        let bytes = std::fs::read(dir.join(name)).unwrap();
        assert_eq!(bytes.len(), side * side * 4, "{name}");
        bytes
            .chunks(4)
            .map(|c| i32::from_le_bytes(c.try_into().unwrap()))
            .collect()
    };
    let (a, b) = (read("matrix_file_A.txt"), read("matrix_file_B.txt"));
    // rand() % 11, as Phoenix++ writes them.
    assert!(a.iter().chain(&b).all(|v| (0..=10).contains(v)));
    assert!(a != b && a.contains(&10));
    assert_text_eq!(
        matrix_multiply_output(side, 1, product_sum(&a, &b, side)),
        stdout
    );
}

/// A fixed LCG's next byte, for the Phoenix++ ports' generated inputs.
pub(crate) fn lcg_bytes(seed: u64, n: usize) -> Vec<u8> {
    let mut state = seed;
    (0..n)
        .map(|_| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (state >> 56) as u8
        })
        .collect()
}

/// Runs a Phoenix++ port on 2 threads and returns its stdout.
fn run_port(name: &str, args: &[&OsStr]) -> String {
    let mut cmd = example(name);
    cmd.args(args).env("RAYON_NUM_THREADS", "2");
    let out = cmd.output().expect("run the example");
    assert!(out.status.success(), "{cmd:?}: {}", text(&out.stderr));
    text(&out.stdout)
}

#[test]
fn pixel_histogram_prints_phoenix_lines_and_a_direct_count() {
    let dir = Dir::new("pixel_histogram");
    // Pixels at an offset that is not a multiple of 3, and a last partial
    // pixel; blue only from 250, so the first ten bins run into green.
    let start = 70usize;
    let mut pixels = lcg_bytes(11, 3 * 400_000 + 2);
    for blue in pixels.chunks_mut(3) {
        blue[0] = blue[0].max(250);
    }
    let mut bmp = vec![0u8; start];
    bmp[..2].copy_from_slice(b"BM");
    bmp[10..12].copy_from_slice(&(start as u16).to_le_bytes());
    bmp[28..30].copy_from_slice(&24u16.to_le_bytes());
    bmp.extend(&pixels);
    let path = dir.create("image.bmp", &bmp);

    let mut bins = [0u64; 768];
    for pixel in pixels.chunks_exact(3) {
        for (colour, &value) in pixel.iter().enumerate() {
            bins[colour * 256 + usize::from(value)] += 1;
        }
    }
    let mut expected = format!(
        "Histogram: Running...\nThis file has {} bytes of image data, 400000 pixels\n",
        pixels.len()
    );
    expected += "\n\nBlue\n----------\n\n";
    for (value, count) in bins.iter().enumerate().skip(250).take(6) {
        expected += &format!("{value} - {count}\n");
    }
    expected += "\n\nGreen\n----------\n\n";
    let green: Vec<usize> = (256..512).filter(|&k| bins[k] > 0).take(4).collect();
    for key in green {
        expected += &format!("{} - {}\n", key - 256, bins[key]);
    }
    for (key, count) in bins.iter().enumerate() {
        expected += &format!("{key}\t{count}\n");
    }
    let got = run_port("pixel_histogram", &[path.as_os_str(), OsStr::new("--all")]);
    assert_text_eq!(expected, got);
}

#[test]
fn linear_regression_prints_phoenix_sums_and_fit() {
    let dir = Dir::new("linear_regression");
    // y follows x, with noise; and a last odd byte, left out.
    let noise = lcg_bytes(5, 1_000_001);
    let mut points = Vec::new();
    for pair in noise.chunks_exact(2) {
        let x = pair[0] as i8;
        let y = (i16::from(x) / 2 + i16::from(pair[1] as i8 / 4)) as i8;
        points.extend([x as u8, y as u8]);
    }
    points.push(0x7f);
    let path = dir.create("points.bin", &points);

    let n = (points.len() / 2) as i64;
    let (mut sx, mut sy, mut sxx, mut syy, mut sxy) = (0i64, 0i64, 0i64, 0i64, 0i64);
    for pair in points.chunks_exact(2) {
        let (x, y) = (i64::from(pair[0] as i8), i64::from(pair[1] as i8));
        sx += x;
        sy += y;
        sxx += x * x;
        syy += y * y;
        sxy += x * y;
    }
    let (nf, fx, fy) = (n as f64, sx as f64, sy as f64);
    let b = (nf * sxy as f64 - fx * fy) / (nf * sxx as f64 - fx * fx);
    let a = (fy - b * fx) / nf;
    let r2 = (nf * sxy as f64 - fx * fy).powi(2)
        / ((nf * sxx as f64 - fx * fx) * (nf * syy as f64 - fy * fy));
    assert!(b > 0.4 && b < 0.6 && r2 > 0.5, "b {b}, r2 {r2}: not a fit");
    let expected = format!(
        "Linear Regression: Running...\ndata size: {n}\n\
         Linear Regression: Calling MapReduce Scheduler\nLinear Regression Results:\n\
         \ta     = {a:.6}\n\tb     = {b:.6}\n\txbar = {:.6}\n\tybar = {:.6}\n\
         \tr2    = {r2:.6}\n\tSX    = {sx}\n\tSY    = {sy}\n\tSXX  = {sxx}\n\
         \tSYY  = {syy}\n\tSXY  = {sxy}\n",
        fx / nf,
        fy / nf
    );
    assert_text_eq!(expected, run_port("linear_regression", &[path.as_os_str()]));
}

#[test]
fn string_match_counts_the_words_phoenix_compares() {
    let dir = Dir::new("string_match");
    let keys = ["Helloworld", "howareyou", "ferrari", "whotheman"];
    let words: [&[u8]; 9] = [
        b"Helloworld",
        b"howareyou",
        b"ferrari",
        b"whotheman",
        b"helloworld",
        b"ferrarix",
        b"ferrar",
        b"whotheman\xfbafter",
        b"",
    ];
    let ends: [&[u8]; 4] = [b"\n", b"\r\n", b"\r", b"\n\n"];
    let mut file = Vec::new();
    for pick in lcg_bytes(3, 400_000).chunks_exact(2) {
        file.extend(words[usize::from(pick[0]) % words.len()]);
        file.extend(ends[usize::from(pick[1]) % ends.len()]);
    }
    file.extend(b"ferrari");
    let path = dir.create("words.txt", &file);

    // A word is a run of bytes other than CR and LF; strcmp of the
    // hashes stops at the byte that hashes to 0.
    let mut expected = "String Match: Running...\nString Match: Calling String Match\n".to_owned();
    for key in keys {
        let count = file
            .split(|&b| b == b'\r' || b == b'\n')
            .filter(|w| w.split(|&b| b == 0xfb).next() == Some(key.as_bytes()))
            .count();
        assert!(count > 1000, "{key}: {count}");
        expected += &format!("{key}\t{count}\n");
    }
    assert_text_eq!(expected, run_port("string_match", &[path.as_os_str()]));
}

#[test]
fn word_count_prints_phoenix_top_words() {
    let dir = Dir::new("word_count");
    let words: [&[u8]; 12] = [
        b"the",
        b"The",
        b"THE",
        b"don't",
        b"'quoted'",
        b"a1b",
        b"na\xc3\xafve",
        b"x",
        b"X",
        b"rock''n",
        b"zebra",
        b"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    ];
    let gaps: [&[u8]; 5] = [b" ", b"\n", b"\t", b", ", b"\r\n"];
    let mut file = Vec::new();
    for (i, pick) in lcg_bytes(9, 300_000).chunks_exact(2).enumerate() {
        // Skewed, so that counts differ; some ties between the rare ones.
        let word = (usize::from(pick[0]) * usize::from(pick[0]) / 5000) % words.len();
        file.extend(words[word]);
        file.extend(gaps[usize::from(pick[1]) % gaps.len()]);
        if i % 1000 == 0 {
            file.extend(format!("w{} ", i / 1000 % 7).as_bytes());
        }
    }
    let path = dir.create("text.txt", &file);

    // Phoenix++'s scan over the whole file: uppercase, a letter starts a
    // word, letters and apostrophes continue it.
    let mut counts = BTreeMap::<Vec<u8>, u64>::new();
    let upper = file.to_ascii_uppercase();
    let mut at = 0;
    while at < upper.len() {
        if !upper[at].is_ascii_uppercase() {
            at += 1;
            continue;
        }
        let len = upper[at..]
            .iter()
            .take_while(|&&b| b.is_ascii_uppercase() || b == b'\'')
            .count();
        *counts.entry(upper[at..at + len].to_vec()).or_default() += 1;
        at += len;
    }
    let total: u64 = counts.values().sum();
    let mut ranked: Vec<_> = counts.iter().collect();
    ranked.sort_by_key(|&(word, n)| (std::cmp::Reverse(*n), word));
    for top in [None, Some(3), Some(1000)] {
        let shown = top.unwrap_or(10).min(ranked.len());
        let mut expected = format!(
            "Wordcount: Running...\nWordcount: Calling MapReduce Scheduler Wordcount\n\
             Wordcount: MapReduce Completed\n\nWordcount: Results (TOP {shown} of {}):\n",
            ranked.len()
        );
        for (word, n) in &ranked[..shown] {
            expected += &format!("{:>15} - {n}\n", text(word));
        }
        expected += &format!("Total: {total}\n");
        let top = top.map(|n| n.to_string());
        let mut args = vec![path.as_os_str()];
        args.extend(top.as_deref().map(OsStr::new));
        assert_text_eq!(expected, run_port("word_count", &args), "top {top:?}");
    }
}

#[test]
fn closure_wordcount_and_rayon_fold_count_whitespace_separated_words() {
    let dir = Dir::new("closure_wordcount");
    // Words of random bytes (UTF-8 and not), separated by every ASCII
    // whitespace byte the two examples split on, with CRLF lines and a
    // last line without its newline.
    let bytes = lcg_bytes(23, 200_000);
    let mut file = Vec::new();
    for (i, &b) in bytes.iter().enumerate() {
        file.push(match b % 16 {
            0 => b' ',
            1 => b'\t',
            2 => b'\n',
            3 if i % 7 == 0 => 0x0c,
            4 if i % 5 == 0 => b'\r',
            _ => b"abcAB'-\x80\xff"[usize::from(b) % 9],
        });
    }
    file.extend(b"\r\nlast");
    let path = dir.create("text.txt", &file);

    let mut counts = BTreeMap::<&[u8], u64>::new();
    for word in file
        .split(|b| b" \t\n\r\x0c".contains(b))
        .filter(|w| !w.is_empty())
    {
        *counts.entry(word).or_default() += 1;
    }
    let mut ranked: Vec<_> = counts.into_iter().collect();
    ranked.sort_by_key(|&(word, n)| (std::cmp::Reverse(n), word));
    let mut expected = Vec::new();
    for (word, n) in ranked {
        expected.extend(word);
        expected.extend(format!("\t{n}\n").bytes());
    }
    for name in ["closure_wordcount", "rayon_fold"] {
        let out = example(name)
            .arg(&path)
            .env("RAYON_NUM_THREADS", "2")
            .output()
            .expect("run the example");
        assert!(out.status.success(), "{name}: {}", text(&out.stderr));
        assert!(out.stdout == expected, "{name}: the counts differ");
    }
}
