//! `--help` and `--version`.

use crate::util::{Dir, TestCommand};

mrtest!(
    wordcount_help_has_examples_and_exit_codes,
    |_: Dir, mut cmd: TestCommand| {
        let help = cmd.args(["wordcount", "--help"]).stdout();
        assert!(help.contains("Examples:"), "{help}");
        let at = help.find("Exit status").unwrap_or_else(|| panic!("{help}"));
        let codes = &help[at..];
        for code in ["0", "1", "2"] {
            assert!(codes.contains(code), "exit code {code} not listed: {help}");
        }
    }
);

mrtest!(
    top_level_help_lists_exit_codes,
    |_: Dir, mut cmd: TestCommand| {
        let help = cmd.arg("--help").stdout();
        assert!(help.contains("Exit status"), "{help}");
        assert!(help.contains("wordcount") && help.contains("generate"));
    }
);

mrtest!(
    version_is_the_crate_version,
    |_: Dir, mut cmd: TestCommand| {
        let version = cmd.arg("--version").stdout();
        assert_eq!(version, format!("mr-local {}\n", env!("CARGO_PKG_VERSION")));
    }
);
