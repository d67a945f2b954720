//! `mr-local completions SHELL`.

use crate::util::{Dir, TestCommand};

mrtest!(completions_for_each_shell, |dir: Dir, _: TestCommand| {
    for shell in ["bash", "zsh", "fish"] {
        let script = dir.command().args(["completions", shell]).stdout();
        assert!(script.contains("mr-local"), "{shell}: {script}");
        // The script knows the subcommands and their flags.
        for word in ["wordcount", "generate", "output-dir"] {
            assert!(script.contains(word), "{shell} script lacks {word}");
        }
    }
});

mrtest!(
    completions_for_an_unknown_shell,
    |_: Dir, mut cmd: TestCommand| {
        let out = cmd.args(["completions", "tcsh"]).assert_exit_code(2);
        assert!(out.stdout.is_empty());
        assert!(String::from_utf8_lossy(&out.stderr).contains("tcsh"));
    }
);

// Issue 12, case 15: in `sort`, `-r` completes as --reverse alone.
mrtest!(completions_give_sort_one_r, |dir: Dir, _: TestCommand| {
    let fish = dir.command().args(["completions", "fish"]).stdout();
    let sort: Vec<&str> = fish
        .lines()
        .filter(|l| l.contains("using_subcommand sort\"") && l.contains("-s r "))
        .collect();
    assert_eq!(sort.len(), 1, "{sort:?}");
    assert!(sort[0].contains("-l reverse"), "{sort:?}");
    let wordcount = "using_subcommand wordcount\" -s r -l recursive";
    assert!(fish.contains(wordcount), "{fish}");
});
