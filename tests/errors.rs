//! Exit codes and error messages. A job error is exit 1 with one line on
//! stderr, `mr-local: PATH: cause`, and nothing on stdout; a usage error is
//! exit 2 (clap's code).

use std::path::Path;

use crate::util::{assert_one_line_error, Dir, TestCommand};

/// Asserts a usage error (exit 2) that mentions `flag` on stderr and
/// prints nothing on stdout.
fn assert_usage_error(cmd: &mut TestCommand, flag: &str) {
    let out = cmd.assert_exit_code(2);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(flag),
        "stderr should mention {flag}: {stderr}"
    );
    assert!(out.stdout.is_empty(), "stdout should be empty");
}

mrtest!(missing_file, |_: Dir, mut cmd: TestCommand| {
    let out = cmd
        .args(["wordcount", "no-such-file.txt"])
        .assert_exit_code(1);
    assert_one_line_error(
        &out,
        Path::new("no-such-file.txt"),
        "no such file or directory",
    );
});

// A MapReduce result missing one input is a wrong result: nothing may be
// printed, whatever the order of the paths.
mrtest!(good_and_missing_file, |dir: Dir, _: TestCommand| {
    dir.create("good.txt", "some words here\n".repeat(1000));
    for args in [["good.txt", "missing.txt"], ["missing.txt", "good.txt"]] {
        let out = dir
            .command()
            .arg("wordcount")
            .args(args)
            .assert_exit_code(1);
        assert_one_line_error(&out, Path::new("missing.txt"), "no such file or directory");
    }
    // The same message whatever the order.
    let first = dir
        .command()
        .args(["wordcount", "good.txt", "missing.txt"])
        .stderr();
    let second = dir
        .command()
        .args(["wordcount", "missing.txt", "good.txt"])
        .stderr();
    assert_eq!(first, second);
});

mrtest!(
    directory_without_recursive,
    |dir: Dir, mut cmd: TestCommand| {
        dir.create("corpus/a.txt", "a b c\n");
        let out = cmd.args(["wordcount", "corpus"]).assert_exit_code(1);
        assert_one_line_error(&out, Path::new("corpus"), "is a directory");
    }
);

// Nor when the input was named by a link, or found below a directory
// given with -r, or the output's path goes through `..`.
mrtest!(
    output_naming_a_linked_or_found_input_is_refused,
    |dir: Dir, _: TestCommand| {
        dir.create("corpus/in.txt", "a b c\n");
        std::os::unix::fs::symlink("corpus/in.txt", dir.join("link.txt")).expect("symlink");
        for (input, output) in [
            ("link.txt", "corpus/../corpus/in.txt"),
            ("corpus", "corpus/in.txt"),
        ] {
            let out = dir
                .command()
                .args(["wordcount", "-r", input, "-o", output])
                .assert_exit_code(2);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(
                stderr.contains("refusing to overwrite an input file"),
                "{input} -> {output}: {stderr}"
            );
            assert_eq!(dir.read("corpus/in.txt"), b"a b c\n");
        }
        // Another file in the same directory is fine.
        dir.command()
            .args(["wordcount", "-r", "corpus", "-o", "corpus/counts.tsv"])
            .assert_exit_code(0);
    }
);

mrtest!(
    output_into_missing_directory,
    |dir: Dir, mut cmd: TestCommand| {
        dir.create("in.txt", "a b c\n");
        let out = cmd
            .args(["wordcount", "-o", "nowhere/counts.tsv", "in.txt"])
            .assert_exit_code(1);
        assert_one_line_error(
            &out,
            Path::new("nowhere/counts.tsv"),
            "no such file or directory",
        );
        assert!(!dir.join("nowhere").exists());
        assert_eq!(dir.list("."), ["in.txt"]);
    }
);

mrtest!(
    zero_threads_is_a_usage_error,
    |dir: Dir, mut cmd: TestCommand| {
        dir.create("in.txt", "a b c\n");
        assert_usage_error(
            cmd.args(["wordcount", "--threads", "0", "in.txt"]),
            "--threads",
        );
    }
);

mrtest!(
    zero_partitions_is_a_usage_error,
    |dir: Dir, mut cmd: TestCommand| {
        dir.create("in.txt", "a b c\n");
        assert_usage_error(
            cmd.args(["wordcount", "--partitions", "0", "in.txt"]),
            "--partitions",
        );
    }
);

mrtest!(
    bad_split_size_is_a_usage_error,
    |dir: Dir, _: TestCommand| {
        dir.create("in.txt", "a b c\n");
        for size in ["0", "4Q", "-1"] {
            let flag = format!("--split-size={size}");
            assert_usage_error(
                dir.command().args(["wordcount", &flag, "in.txt"]),
                "--split-size",
            );
        }
    }
);

mrtest!(
    unknown_shuffle_is_a_usage_error,
    |dir: Dir, mut cmd: TestCommand| {
        dir.create("in.txt", "a b c\n");
        assert_usage_error(
            cmd.args(["wordcount", "--shuffle", "nope", "in.txt"]),
            "--shuffle",
        );
    }
);

mrtest!(
    unknown_flag_is_a_usage_error,
    |dir: Dir, mut cmd: TestCommand| {
        dir.create("in.txt", "a b c\n");
        assert_usage_error(
            cmd.args(["wordcount", "--no-such-flag", "in.txt"]),
            "--no-such-flag",
        );
    }
);

// `-o` naming an input, however spelled, is refused before anything is
// written.
mrtest!(
    output_naming_an_input_is_refused,
    |dir: Dir, _: TestCommand| {
        let text = "keep me as I am\n".repeat(100);
        dir.create("in.txt", &text);
        dir.create("other.txt", "other words\n");
        let spellings = [
            ("in.txt", "in.txt"),
            ("./in.txt", "in.txt"),
            ("in.txt", "./in.txt"),
        ];
        for (output, input) in spellings {
            let out = dir
                .command()
                .args(["wordcount", "other.txt", input, "-o", output])
                .assert_failure();
            assert_one_line_error(&out, Path::new(output), "input");
            assert_eq!(dir.read("in.txt"), text.as_bytes(), "-o {output}");
        }
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink("in.txt", dir.join("link.txt")).expect("symlink");
            let out = dir
                .command()
                .args(["wordcount", "in.txt", "-o", "link.txt"])
                .assert_failure();
            assert_one_line_error(&out, Path::new("link.txt"), "input");
            assert_eq!(dir.read("in.txt"), text.as_bytes(), "-o link.txt");
        }
        // No output file, and no temporary file left behind.
        let mut expected = vec!["in.txt", "other.txt"];
        if cfg!(unix) {
            expected.push("link.txt");
            expected.sort();
        }
        assert_eq!(dir.list("."), expected);
    }
);

// Root reads anything, so this checks itself: if the chmod 000 file is
// still readable, it skips.
#[cfg(unix)]
mrtest!(unreadable_input, |dir: Dir, mut cmd: TestCommand| {
    use std::os::unix::fs::PermissionsExt;

    let path = dir.create("secret.txt", "hidden words\n");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o000)).expect("chmod 000");
    if std::fs::read(&path).is_ok() {
        eprintln!("skipping: a chmod 000 file is readable (running as root?)");
        return;
    }
    dir.create("good.txt", "some words\n");
    let out = cmd
        .args(["wordcount", "good.txt", "secret.txt"])
        .assert_exit_code(1);
    assert_one_line_error(&out, Path::new("secret.txt"), "permission denied");
});

mrtest!(
    negative_or_bad_top_is_a_usage_error,
    |dir: Dir, _: TestCommand| {
        dir.create("in.txt", "a b c\n");
        for args in [&["--top", "-1"][..], &["--top=-1"], &["--top", "x"]] {
            let out = dir
                .command()
                .args(["wordcount", "in.txt"])
                .args(args)
                .assert_exit_code(2);
            assert!(out.stdout.is_empty(), "{args:?}: stdout should be empty");
        }
    }
);

// A write error on the output is exit 1 with one line naming it, whether
// it shows in the middle of the output (more than the buffers hold) or
// only when the last bytes are flushed.
#[cfg(target_os = "linux")]
mrtest!(output_to_a_full_device, |dir: Dir, _: TestCommand| {
    if !Path::new("/dev/full").exists() {
        eprintln!("skipping: no /dev/full");
        return;
    }
    dir.create("small.txt", "a b a\n");
    dir.command()
        .args(["generate", "--size", "4M", "--seed", "3", "-o", "big.txt"])
        .assert_exit_code(0);
    for input in ["small.txt", "big.txt"] {
        for format in ["tsv", "json"] {
            let out = dir
                .command()
                .args(["wordcount", input, "--format", format, "-o", "/dev/full"])
                .assert_exit_code(1);
            assert_one_line_error(&out, Path::new("/dev/full"), "no space left on device");
        }
    }
    let out = dir
        .command()
        .args(["generate", "--size", "1M", "-o", "/dev/full"])
        .assert_exit_code(1);
    assert_one_line_error(&out, Path::new("/dev/full"), "no space left on device");
    assert_eq!(dir.list("."), ["big.txt", "small.txt"]);
});

// `-o` into a directory the user may not write to. Root writes anywhere,
// so this checks itself: if a file can be created in the read-only
// directory, it skips.
#[cfg(unix)]
mrtest!(unwritable_output, |dir: Dir, _: TestCommand| {
    use std::os::unix::fs::PermissionsExt;

    dir.create("in.txt", "a b a\n");
    let locked = dir.create_dir("locked");
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o555)).expect("chmod 555");
    let probe = locked.join("probe");
    if std::fs::write(&probe, "").is_ok() {
        let _ = std::fs::remove_file(&probe);
        eprintln!("skipping: a read-only directory is writable (running as root?)");
        return;
    }
    let out = dir
        .command()
        .args(["wordcount", "in.txt", "-o", "locked/counts.tsv"])
        .assert_exit_code(1);
    assert_one_line_error(&out, Path::new("locked/counts.tsv"), "permission denied");
    let out = dir
        .command()
        .args(["wordcount", "in.txt", "--output-dir", "locked/out"])
        .assert_exit_code(1);
    assert_one_line_error(&out, Path::new("locked/out"), "permission denied");
    // An output directory that exists but cannot be written into: nothing
    // is left in it, not even a temporary file.
    let out = dir
        .command()
        .args(["wordcount", "in.txt", "--output-dir", "locked"])
        .assert_exit_code(1);
    assert_one_line_error(&out, Path::new("locked"), "permission denied");
    assert!(dir.list("locked").is_empty());
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o755)).expect("chmod 755");
});
