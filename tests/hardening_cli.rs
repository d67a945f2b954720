//! Issue 12 (hardening), the CLI cases: `sort -r` (15), file names in
//! `invert`'s TSV (16), thread counts (12), overflowing counts (5) and
//! bytes that are not UTF-8 in `--split whitespace` (7).

use std::path::Path;

use crate::util::{assert_one_line_error, Dir, TestCommand};

// Case 15: for `sort`, `-r` is `--reverse` alone; `--recursive` has no
// short flag there, and the help, the completions and the message about a
// directory say so.
mrtest!(
    issue12_sort_r_means_reverse_only,
    |dir: Dir, _: TestCommand| {
        let help = dir.command().args(["sort", "--help"]).stdout();
        assert_eq!(help.matches("-r,").count(), 1, "{help}");
        assert!(help.contains("-r, --reverse"), "{help}");
        assert!(help.contains("    --recursive"), "{help}");
        dir.create("corpus/a.txt", "b\na\nc\n");
        let reversed = dir.command().args(["sort", "-r", "corpus/a.txt"]).stdout();
        assert_eq!(reversed, "c\nb\na\n");
        let sorted = dir
            .command()
            .args(["sort", "--recursive", "corpus"])
            .stdout();
        assert_eq!(sorted, "a\nb\nc\n");
        let out = dir
            .command()
            .args(["sort", "-r", "corpus"])
            .assert_exit_code(1);
        assert_one_line_error(&out, Path::new("corpus"), "is a directory (use --recursive");
        // The other commands keep -r for --recursive.
        let counts = dir.command().args(["wordcount", "-r", "corpus"]).stdout();
        assert_eq!(counts.lines().count(), 3);
        for shell in ["bash", "zsh", "fish"] {
            dir.command().args(["completions", shell]).stdout();
        }
    }
);
