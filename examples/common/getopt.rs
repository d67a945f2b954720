//! Command-line options read as Phoenix++'s apps read theirs: C's `getopt`
//! with options that each take a value (`-p 1000` or `-p1000`), values
//! read by `atoi`.

use std::collections::HashMap;

/// The options given, by letter.
pub struct Options(HashMap<char, String>);

/// Reads the command line's options, each one of `letters`. An unknown
/// option or a missing value prints `usage` on stdout and exits with 1, as
/// the Phoenix++ apps do; other arguments are ignored (GNU `getopt` moves
/// them to the end).
pub fn parse(letters: &str, usage: &str) -> Options {
    let mut options = HashMap::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--" {
            break;
        }
        let Some(rest) = arg.strip_prefix('-').filter(|r| !r.is_empty()) else {
            continue;
        };
        let letter = rest.chars().next().unwrap_or_default();
        let inline = &rest[letter.len_utf8()..];
        let value = if !letters.contains(letter) {
            None
        } else if inline.is_empty() {
            args.next()
        } else {
            Some(inline.to_string())
        };
        match value {
            Some(value) => {
                options.insert(letter, value);
            }
            None => {
                eprintln!("invalid option or missing value: -{letter}");
                println!("{usage}");
                std::process::exit(1);
            }
        }
    }
    Options(options)
}

impl Options {
    /// The value of option `letter` as C's `atoi` reads it (leading
    /// blanks, a sign, digits; 0 if none), or `default` if not given.
    pub fn get(&self, letter: char, default: i32) -> i32 {
        let Some(value) = self.0.get(&letter) else {
            return default;
        };
        atoi(value)
    }
}

/// C's `atoi`, wrapping where C's behaviour is undefined.
pub fn atoi(text: &str) -> i32 {
    let text = text.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let (negative, digits) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let n = digits
        .bytes()
        .take_while(u8::is_ascii_digit)
        .fold(0i32, |n, d| {
            n.wrapping_mul(10).wrapping_add(i32::from(d - b'0'))
        });
    if negative {
        n.wrapping_neg()
    } else {
        n
    }
}
