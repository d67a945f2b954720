//! Macros for the CLI tests, after ripgrep's `tests/macros.rs`.

/// Defines a `#[test]` that gets a fresh temporary `Dir` and a
/// `TestCommand` running `mr-local` inside it:
///
/// ```ignore
/// mrtest!(name, |dir: Dir, mut cmd: TestCommand| { ... });
/// ```
macro_rules! mrtest {
    ($name:ident, $fun:expr) => {
        #[test]
        fn $name() {
            $crate::util::run_test(stringify!($name), $fun);
        }
    };
}

/// Like `assert_eq!` for two texts, but on a mismatch prints sizes, the
/// first differing line and some context instead of both texts whole,
/// which may be megabytes.
macro_rules! assert_text_eq {
    ($expected:expr, $got:expr $(,)?) => {{
        let expected: &str = &$expected;
        let got: &str = &$got;
        if expected != got {
            panic!(
                "{}",
                $crate::util::describe_mismatch(
                    stringify!($expected),
                    expected,
                    stringify!($got),
                    got,
                )
            );
        }
    }};
    ($expected:expr, $got:expr, $($fmt:tt)+) => {{
        let expected: &str = &$expected;
        let got: &str = &$got;
        if expected != got {
            panic!(
                "{}\n{}",
                format_args!($($fmt)+),
                $crate::util::describe_mismatch(
                    stringify!($expected),
                    expected,
                    stringify!($got),
                    got,
                )
            );
        }
    }};
}
