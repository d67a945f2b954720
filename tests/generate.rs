//! `mr-local generate`: deterministic output of the exact size asked for.

use std::path::Path;

use crate::util::{self, Dir, TestCommand};

/// Runs `generate` with `args` and returns its stdout, checking success.
fn generate(dir: &Dir, args: &[&str]) -> Vec<u8> {
    let out = dir.command().arg("generate").args(args).assert_exit_code(0);
    assert!(out.stderr.is_empty(), "stderr: {:?}", out.stderr);
    out.stdout
}

mrtest!(
    generate_is_deterministic_and_exact,
    |dir: Dir, _: TestCommand| {
        let first = generate(&dir, &["--size", "1M", "--seed", "7"]);
        assert_eq!(first.len(), 1_048_576);
        let second = generate(&dir, &["--size", "1M", "--seed", "7"]);
        assert!(first == second, "two runs with the same seed differ");
        let other = generate(&dir, &["--size", "1M", "--seed", "8"]);
        assert_eq!(other.len(), 1_048_576);
        assert!(first != other, "seeds 7 and 8 give the same bytes");

        // `-o` writes the same bytes.
        generate(&dir, &["--size", "1M", "--seed", "7", "-o", "g.txt"]);
        assert!(dir.read("g.txt") == first, "-o differs from stdout");

        // Sizes that are not a multiple of anything in particular.
        for (size, bytes) in [("0", 0), ("1", 1), ("1000", 1000), ("3K", 3072)] {
            let got = generate(&dir, &["--size", size]);
            assert_eq!(got.len(), bytes, "--size {size}");
        }
    }
);

mrtest!(
    generate_bad_size_is_a_usage_error,
    |_: Dir, mut cmd: TestCommand| {
        let out = cmd.args(["generate", "--size", "1X"]).assert_exit_code(2);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("--size"), "stderr: {stderr}");
        assert!(out.stdout.is_empty());
    }
);

// datasets/sample.txt is made by `mr-local generate --size 2M --seed 42`.
mrtest!(sample_txt_is_generated, |dir: Dir, _: TestCommand| {
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("datasets/sample.txt");
    if !sample.exists() {
        eprintln!("skipping: {} not found", sample.display());
        return;
    }
    let expected = util::read(&sample);
    let got = generate(&dir, &["--size", "2M", "--seed", "42"]);
    assert!(
        got == expected,
        "{} ({} bytes) differs from `generate --size 2M --seed 42` ({} bytes)",
        sample.display(),
        expected.len(),
        got.len()
    );
});

mrtest!(
    generate_access_log_is_deterministic_whole_lines,
    |dir: Dir, _: TestCommand| {
        let args = ["--kind", "access-log", "--size", "200K", "--sites", "20"];
        let first = generate(&dir, &args);
        assert!(first == generate(&dir, &args), "two runs differ");
        assert!(first.len() <= 200 * 1024 && first.len() > 199 * 1024);
        assert!(first.ends_with(b"\n"));
        // With no malformed lines, every line starts with `site:port `.
        let clean = generate(&dir, &[&args[..], &["--malformed", "0"]].concat());
        for line in clean.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
            let vhost = line.split(|b| *b == b' ').next().unwrap_or_default();
            assert!(
                vhost.ends_with(b":443") || vhost.ends_with(b":80"),
                "{}",
                String::from_utf8_lossy(line)
            );
        }
    }
);

mrtest!(
    generate_options_of_the_other_kind_are_usage_errors,
    |dir: Dir, _: TestCommand| {
        for args in [
            &["--size", "1K", "--sites", "5"][..],
            &["--size", "1K", "--malformed", "0.1"],
            &["--kind", "access-log", "--size", "1K", "--vocabulary", "5"],
            &["--kind", "access-log", "--size", "1K", "--malformed", "2"],
        ] {
            let out = dir.command().arg("generate").args(args).assert_exit_code(2);
            assert!(out.stdout.is_empty(), "{args:?}");
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(stderr.starts_with("mr-local: "), "{args:?}: {stderr}");
        }
    }
);
