//! Issue 12, destinations: stdin and stdout are files like any other when
//! redirected, pipes and sockets have an identity too, a directory is no
//! output file, killed runs' leftovers go, and every help lists every exit
//! status.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use crate::util::{assert_one_line_error, Dir, TestCommand, BIN};

/// Runs `script` with `sh -c` in `dir`, `$0` being mr-local.
fn shell(dir: &Dir, script: &str) -> Output {
    Command::new("sh")
        .arg("-c")
        .arg(script)
        .arg(BIN)
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .output()
        .expect("run sh")
}

/// A PID that no process has: a child's, once reaped.
fn dead_pid() -> u32 {
    let mut child = Command::new("true").spawn().expect("run true");
    let pid = child.id();
    child.wait().expect("wait for true");
    pid
}

// Case 1: an input given on stdin, and a stdout opened onto an input, are
// inputs like those named.
mrtest!(
    stdin_and_stdout_onto_an_input_are_refused,
    |dir: Dir, _: TestCommand| {
        let text = "the cat the dog\n";
        let cases: &[(&str, &str, &str)] = &[
            (
                r#"exec "$0" wordcount -o f.txt < f.txt"#,
                "f.txt",
                "refusing to overwrite an input file",
            ),
            (
                r#"exec "$0" wordcount --stats-json f.txt < f.txt"#,
                "f.txt",
                "refusing to overwrite an input file",
            ),
            (
                r#"exec "$0" sort -o f.txt < f.txt"#,
                "f.txt",
                "refusing to overwrite an input file",
            ),
            (
                r#"exec "$0" wordcount - -o ./f.txt < f.txt"#,
                "./f.txt",
                "refusing to overwrite an input file",
            ),
            (
                r#"exec "$0" wordcount f.txt 1<> f.txt"#,
                "<stdout>",
                "refusing to write into an input file",
            ),
            (
                r#"exec "$0" grep the f.txt >> f.txt"#,
                "<stdout>",
                "refusing to write into an input file",
            ),
            (
                r#"exec "$0" sort >> f.txt < f.txt"#,
                "<stdout>",
                "refusing to write into an input file",
            ),
        ];
        for (script, path, cause) in cases {
            dir.create("f.txt", text);
            let out = shell(&dir, script);
            assert_eq!(out.status.code(), Some(2), "{script}: {out:?}");
            assert_one_line_error(&out, Path::new(path), cause);
            assert_eq!(dir.read("f.txt"), text.as_bytes(), "{script}");
        }
        // Another file on stdout is fine.
        let out = shell(&dir, r#"exec "$0" wordcount < f.txt > counts.tsv"#);
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        assert_eq!(dir.read("counts.tsv"), b"the\t2\ncat\t1\ndog\t1\n");
    }
);

// Case 2: --stats-json never mixes into the data on stdout, through
// /dev/stdout, a FIFO or `-`; `-` is stdout when the data goes elsewhere.
mrtest!(
    stats_json_and_the_data_never_share_a_pipe,
    |dir: Dir, _: TestCommand| {
        dir.create("a.txt", "a b a\n");
        let out = dir
            .command()
            .args(["wordcount", "a.txt", "--stats-json", "/dev/stdout"])
            .assert_exit_code(2);
        assert_one_line_error(&out, Path::new("/dev/stdout"), "same run (stdout)");
        let out = dir
            .command()
            .args(["wordcount", "a.txt", "--stats-json", "-"])
            .assert_exit_code(2);
        assert_one_line_error(&out, Path::new("-"), "-o or --output-dir");

        // A FIFO, refused before it is opened (which would wait for a reader).
        let made = Command::new("mkfifo")
            .arg(dir.join("p"))
            .status()
            .is_ok_and(|s| s.success());
        if made {
            let out = dir
                .command()
                .args(["wordcount", "a.txt", "-o", "p", "--stats-json", "p"])
                .output_within(Duration::from_secs(20));
            assert_eq!(out.status.code(), Some(2), "{out:?}");
            assert_one_line_error(&out, Path::new("p"), "same run (-o)");
        }

        let out = dir
            .command()
            .args(["wordcount", "a.txt", "-o", "o.tsv", "--stats-json", "-"])
            .assert_exit_code(0);
        assert!(out.stdout.starts_with(b"{"), "{out:?}");
        assert_eq!(dir.read("o.tsv"), b"a\t2\nb\t1\n");
        let out = dir
            .command()
            .args([
                "wordcount",
                "a.txt",
                "--output-dir",
                "out",
                "--stats-json",
                "-",
            ])
            .assert_exit_code(0);
        assert!(out.stdout.starts_with(b"{"), "{out:?}");
        assert!(!dir.join("-").exists(), "no file named -");
    }
);

// Case 3: a directory as an output file is refused before the job runs,
// so nothing else is written either.
mrtest!(
    a_directory_as_an_output_file_is_refused_before_the_job,
    |dir: Dir, _: TestCommand| {
        dir.create("a.txt", "a b a\n");
        dir.create_dir("adir");
        let cases: &[&[&str]] = &[
            &["wordcount", "a.txt", "-o", "adir"],
            &[
                "wordcount",
                "a.txt",
                "-o",
                "out.tsv",
                "--stats-json",
                "adir",
            ],
            &[
                "wordcount",
                "a.txt",
                "--output-dir",
                "out",
                "--stats-json",
                "adir",
            ],
            &["sort", "a.txt", "-o", "adir/"],
            &["generate", "--size", "1K", "-o", "adir"],
        ];
        for args in cases {
            let out = dir.command().args(*args).assert_exit_code(2);
            let path = args.iter().find(|a| a.starts_with("adir")).unwrap();
            assert_one_line_error(&out, Path::new(path), "is a directory");
            assert_eq!(dir.list("."), ["a.txt", "adir"], "{args:?}");
            assert!(dir.list("adir").is_empty(), "{args:?}");
        }
    }
);

// Case 4: what a SIGKILLed run left beside an output (its temporary file,
// its fresh --output-dir directory) goes with the next run that writes
// there; nothing of a live process, of another name, or not ours stays
// touched.
mrtest!(
    leftovers_of_killed_runs_are_removed,
    |dir: Dir, _: TestCommand| {
        dir.create("a.txt", "a b a\n");
        let dead = dead_pid();
        let live = std::process::id();
        let gone = [
            format!(".o.txt.mr-local-{dead}-0.tmp"),
            format!(".o.txt.mr-local-{dead}-17.tmp"),
            format!(".kd.mr-local-{dead}-3.tmp"),
        ];
        let kept = [
            format!(".o.txt.mr-local-{live}-0.tmp"),
            format!(".o.txt.mr-local-{dead}-0.tmp.keep"),
            format!(".o.txt.mr-local-{dead}.tmp"),
            format!(".x.txt.mr-local-{dead}-0.tmp"),
            format!(".kd.mr-local-{live}-0.tmp"),
            format!(".kd.mr-local-{dead}-4.tmp"),
        ];
        for name in [&gone[0], &gone[1], &kept[0], &kept[1], &kept[2], &kept[3]] {
            dir.create(name, "partial");
        }
        dir.create(format!("{}/part-00000", gone[2]), "a\t2\n");
        dir.create(format!("{}/_SUCCESS", gone[2]), "");
        dir.create(format!("{}/part-00000", kept[4]), "a\t2\n");
        dir.create(format!("{}/notes.txt", kept[5]), "not ours");

        dir.command()
            .args(["wordcount", "a.txt", "-o", "o.txt"])
            .assert_exit_code(0);
        dir.command()
            .args(["wordcount", "a.txt", "--output-dir", "kd"])
            .assert_exit_code(0);
        let mut want: Vec<String> = kept.to_vec();
        want.extend(["a.txt", "kd", "o.txt"].map(String::from));
        want.sort();
        assert_eq!(dir.list("."), want);
        assert_eq!(dir.read(&kept[0]), b"partial");
    }
);

// Case 5: every subcommand's help lists the signals' exit statuses.
mrtest!(
    every_help_lists_every_exit_status,
    |dir: Dir, _: TestCommand| {
        let commands: &[&[&str]] = &[
            &[],
            &["wordcount"],
            &["grep"],
            &["invert"],
            &["sort"],
            &["generate"],
            &["completions"],
            &["streaming"],
            &["streaming", "map"],
            &["streaming", "reduce"],
            &["streaming", "combine"],
        ];
        for command in commands {
            let help = dir.command().args(*command).arg("--help").stdout();
            for status in ["129", "130", "143", "SIGHUP", "SIGINT", "SIGTERM"] {
                assert!(help.contains(status), "{command:?} --help lacks {status}");
            }
        }
    }
);
