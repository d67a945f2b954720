//! Deterministic web-server access logs: [`AccessLogConfig`].
//!
//! The input of the project's founding example, `examples/website_visits.rs`
//! (visits per website), and of `examples/reverse_links.rs` (its referrer →
//! page pairs are links).
//!
//! # How it is generated
//!
//! As for the corpus: the output is made of blocks, each seeded from
//! `(seed, block index)`, filled in parallel and written in order. A block
//! is whole lines, about 1 MiB of them, and covers one hour of log time, so
//! times never go backwards. The output stops at the last whole line that
//! fits the size asked for.

use std::io::{self, Write};

use rayon::prelude::*;

use super::invalid;
use super::random::{alias_sample, block_seed, build_alias, mix64, Xoshiro256};
use super::vocabulary::build_vocabulary;

/// A block ends with the first line that takes it to this many bytes.
const BLOCK: usize = 1 << 20;
/// Log time covered by one block.
const BLOCK_SECONDS: u64 = 3600;
/// The time of the first line: 2026-11-01 00:00:00 UTC, in Unix seconds.
const START: u64 = 1_793_491_200;
/// Largest number of sites accepted: keeps the name table small.
const MAX_SITES: usize = 1 << 20;
/// The most frequent vocabulary words are one to three letters long
/// ("a.com"); site names use the words from this rank on.
const NAME_OFFSET: usize = 100;
/// Mixed into the seed so that a log and a corpus with the same seed draw
/// unrelated streams.
const LOG_STREAM: u64 = 0x4c4f_4753_5452_4541;

const TLDS: &[&str] = &["com", "org", "net", "io", "dev", "co.uk", "de", "fr"];
const TOPICS: &[&str] = &[
    "rust", "coffee", "garden", "travel", "music", "bikes", "recipes", "news", "photos", "books",
    "games", "weather", "jobs", "maps", "health", "cars", "movies", "science", "art", "sports",
    "code", "linux", "tea", "birds",
];
const USERS: &[&str] = &["alice", "bob", "carol", "dave", "erin"];
/// User agents as Apache logs them: a `"` in a header is written `\"`.
const AGENTS: &[&str] = &[
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "curl/8.5.0",
    "python-requests/2.32.3",
    r#"Mozilla/5.0 (compatible; \"QuoteBot\" 1.0; +https://bot.example/\\info)"#,
];
/// `(percent, choice)`: the percentages add up to 100.
const METHODS: &[(u64, &str)] = &[(88, "GET"), (8, "POST"), (3, "HEAD"), (1, "PUT")];
const STATUSES: &[(u64, u16)] = &[
    (76, 200),
    (8, 304),
    (3, 301),
    (2, 302),
    (7, 404),
    (1, 403),
    (2, 500),
    (1, 206),
];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Settings for the access-log generator.
///
/// Every line is in Apache's `vhost_combined` format: the Combined Log
/// Format with the virtual host and port in front, the format Debian's
/// Apache writes to `other_vhosts_access.log`:
///
/// ```text
/// %v:%p %h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-Agent}i"
/// ```
///
/// for example (one line):
///
/// ```text
/// flimpo.com:443 203.0.113.7 - - [01/Nov/2026:00:00:03 +0000] "GET /blog/tea HTTP/1.1" 200 5120 "https://sarnel.org/" "curl/8.5.0"
/// ```
///
/// The site a line counts a visit to is its first field up to the last `:`
/// (`flimpo.com`), as when one server hosts many sites and tells them apart
/// by the request's `Host` header. Sites are drawn from a Zipf distribution
/// over [`AccessLogConfig::sites`] names, the most popular first (see
/// [`AccessLogConfig::site_names`]). The size is `-` when no body was sent;
/// `"` inside a quoted field is written `\"` and `\` is written `\\`, as
/// Apache does. A referrer is `-`, a search engine, or a page of the same or
/// another site.
///
/// A fraction of lines, [`AccessLogConfig::malformed`], is malformed on
/// purpose, in four ways taken in turn at random: empty; a valid line cut
/// short (it loses at least its last `"`); garbage (random bytes, among
/// them bytes that are not UTF-8, but never `[`); and bad quoting (the
/// request's opening quote missing, or a bare `"` inside the user agent).
/// None of them fits the format above.
///
/// By default the seed is 42, there are 1000 sites, the Zipf exponent is
/// 1.1 and one line in a hundred is malformed.
///
/// # Example
///
/// ```
/// use mr_local::generate::AccessLogConfig;
///
/// # fn main() -> std::io::Result<()> {
/// let config = AccessLogConfig { sites: 50, malformed: 0.0, ..AccessLogConfig::default() };
/// let mut log = Vec::new();
/// config.write_access_log(10_000, &mut log)?;
/// assert!(log.len() <= 10_000 && log.ends_with(b"\n"));
///
/// // Every line names one of the sites in front.
/// let sites = config.site_names();
/// for line in log.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
///     let line = std::str::from_utf8(line).unwrap();
///     let (site, _port) = line.split_once(' ').unwrap().0.rsplit_once(':').unwrap();
///     assert!(sites.iter().any(|s| s == site), "{line}");
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct AccessLogConfig {
    /// Seed of the random streams. By default 42.
    pub seed: u64,
    /// Number of distinct sites. By default 1000; at most 1,048,576.
    pub sites: usize,
    /// Exponent `s` of the sites' Zipf popularity: the site of rank `r`
    /// (counting from 1) gets visits with weight `r^-s`. By default 1.1.
    /// Must be finite and not negative; 0 makes all sites equally popular.
    pub zipf_exponent: f64,
    /// Fraction of lines that are malformed, from 0 to 1. By default 0.01.
    pub malformed: f64,
}

impl Default for AccessLogConfig {
    /// Returns seed 42, 1000 sites, Zipf exponent 1.1 and 1% malformed
    /// lines.
    fn default() -> AccessLogConfig {
        AccessLogConfig {
            seed: 42,
            sites: 1000,
            zipf_exponent: 1.1,
            malformed: 0.01,
        }
    }
}

impl AccessLogConfig {
    /// Returns the names of the sites, most popular first.
    ///
    /// Names are distinct, ASCII, and depend only on
    /// [`AccessLogConfig::sites`]; the site of rank `r` has the same name
    /// whatever the number of sites.
    ///
    /// # Example
    ///
    /// ```
    /// use mr_local::generate::AccessLogConfig;
    ///
    /// let names = AccessLogConfig { sites: 3, ..AccessLogConfig::default() }.site_names();
    /// assert_eq!(names.len(), 3);
    /// assert!(names.iter().all(|name| name.contains('.')));
    /// ```
    pub fn site_names(&self) -> Vec<String> {
        let words = build_vocabulary(NAME_OFFSET + self.sites);
        words[NAME_OFFSET..]
            .iter()
            .enumerate()
            .map(|(rank, word)| {
                let word = std::str::from_utf8(&word[..usize::from(word[15])])
                    .expect("vocabulary words are ASCII");
                let tld = TLDS[(mix64(rank as u64) % TLDS.len() as u64) as usize];
                format!("{word}.{tld}")
            })
            .collect()
    }

    /// Writes whole lines of access log to `out`: as many as fit in
    /// `bytes`, so the output is at most `bytes` long and shorter by less
    /// than one line.
    ///
    /// The bytes are a pure function of `self` and `bytes`, whatever the
    /// size of the rayon pool it runs on. Every line ends with `\n`.
    ///
    /// # Errors
    ///
    /// An [`io::ErrorKind::InvalidInput`] error, before writing anything,
    /// if `sites` is 0 or above 2^20, `zipf_exponent` is negative or not
    /// finite, or `malformed` is not between 0 and 1. Any error from
    /// writing to `out`, which may then hold part of the output.
    ///
    /// # Example
    ///
    /// ```
    /// use mr_local::generate::AccessLogConfig;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let config = AccessLogConfig::default();
    /// let (mut first, mut second) = (Vec::new(), Vec::new());
    /// config.write_access_log(50_000, &mut first)?;
    /// config.write_access_log(50_000, &mut second)?;
    /// assert_eq!(first, second);
    /// assert!(first.len() > 49_000);
    /// # Ok(())
    /// # }
    /// ```
    pub fn write_access_log<W: Write>(&self, bytes: u64, mut out: W) -> io::Result<()> {
        let tables = Tables::new(self)?;
        let batch = (rayon::current_num_threads() * 2).clamp(1, 32) as u64;
        let mut left = bytes;
        let mut first = 0;
        while left > 0 {
            // A block is at least BLOCK bytes, so no more are needed.
            let count = batch.min(left.div_ceil(BLOCK as u64));
            let blocks: Vec<Vec<u8>> = (first..first + count)
                .into_par_iter()
                .map(|index| tables.block(self.seed, index))
                .collect();
            for block in &blocks {
                if block.len() as u64 <= left {
                    out.write_all(block)?;
                    left -= block.len() as u64;
                } else {
                    // The last block: the whole lines that fit.
                    let fit = &block[..left as usize];
                    let keep = fit.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
                    out.write_all(&fit[..keep])?;
                    left = 0;
                }
                if left == 0 {
                    break;
                }
            }
            first += count;
        }
        out.flush()
    }
}

/// What every block draws from.
struct Tables {
    names: Vec<String>,
    /// Alias table of the sites' Zipf weights.
    alias: Vec<u64>,
    /// A line is malformed when 32 random bits fall below this.
    malformed_below: u64,
}

impl Tables {
    fn new(config: &AccessLogConfig) -> io::Result<Tables> {
        let n = config.sites;
        if n == 0 || n > MAX_SITES {
            return Err(invalid(format!(
                "sites must be between 1 and {MAX_SITES}, got {n}"
            )));
        }
        let s = config.zipf_exponent;
        if !s.is_finite() || s < 0.0 {
            return Err(invalid(format!(
                "zipf exponent must be finite and not negative, got {s}"
            )));
        }
        let m = config.malformed;
        if !(0.0..=1.0).contains(&m) {
            return Err(invalid(format!(
                "the malformed fraction must be between 0 and 1, got {m}"
            )));
        }
        Ok(Tables {
            names: config.site_names(),
            alias: build_alias(n, s),
            // Basic arithmetic only, so the same on every platform.
            malformed_below: (m * 4_294_967_296.0) as u64,
        })
    }

    fn site(&self, rng: &mut Xoshiro256) -> &str {
        &self.names[alias_sample(&self.alias, rng.next_u64())]
    }

    /// Block `index`: whole lines, from the first that starts at or after
    /// byte `index * BLOCK` of an imaginary log of exactly BLOCK-byte
    /// blocks, in time order within the block's hour.
    fn block(&self, seed: u64, index: u64) -> Vec<u8> {
        let mut rng = Xoshiro256::new(block_seed(seed ^ LOG_STREAM, index));
        let mut buf = Vec::with_capacity(BLOCK + 2048);
        let mut line = Vec::with_capacity(1024);
        while buf.len() < BLOCK {
            let time =
                START + index * BLOCK_SECONDS + buf.len() as u64 * BLOCK_SECONDS / BLOCK as u64;
            line.clear();
            if rng.next_u64() & 0xffff_ffff < self.malformed_below {
                self.malformed_line(&mut rng, time, &mut line);
            } else {
                self.line(&mut rng, time, &mut line);
            }
            buf.extend_from_slice(&line);
            buf.push(b'\n');
        }
        buf
    }

    /// A valid line, without its `\n`.
    fn line(&self, rng: &mut Xoshiro256, time: u64, out: &mut Vec<u8>) {
        let site = self.site(rng);
        // Separate bits of two draws for the small choices.
        let (r, s) = (rng.next_u64(), rng.next_u64());
        push(out, site);
        push(out, if r % 8 == 0 { ":80 " } else { ":443 " });
        client(out, rng.next_u64());
        push(out, " - ");
        let user = match (r >> 3) % 32 {
            0 => USERS[((r >> 8) % USERS.len() as u64) as usize],
            _ => "-",
        };
        push(out, user);
        push(out, " [");
        timestamp(out, time);
        push(out, "] \"");
        let method = weighted(METHODS, s & 0xff_ffff);
        push(out, method);
        out.push(b' ');
        path(out, rng.next_u64());
        push(out, " HTTP/1.1\" ");
        let status = weighted(STATUSES, (s >> 24) & 0xff_ffff);
        number(out, u64::from(status));
        if status == 304 || method == "HEAD" {
            push(out, " -");
        } else {
            out.push(b' ');
            number(out, 100 + (s >> 48) * 2);
        }
        push(out, " \"");
        let referrer = rng.next_u64();
        match referrer % 100 {
            0..=39 => push(out, "-"),
            40..=49 => {
                push(out, "https://www.google.com/search?q=");
                push(
                    out,
                    TOPICS[((referrer >> 8) % TOPICS.len() as u64) as usize],
                );
            }
            // A link from another page of the same site, or of another.
            percent => {
                let from = if percent < 75 { site } else { self.site(rng) };
                push(out, "https://");
                push(out, from);
                path(out, referrer >> 8);
            }
        }
        push(out, "\" \"");
        push(out, AGENTS[((r >> 16) % AGENTS.len() as u64) as usize]);
        out.push(b'"');
    }

    /// A malformed line, without its `\n`: see [`AccessLogConfig`].
    fn malformed_line(&self, rng: &mut Xoshiro256, time: u64, out: &mut Vec<u8>) {
        let r = rng.next_u64();
        match r % 4 {
            0 => {}
            1 => {
                self.line(rng, time, out);
                // Keep 1 to len - 1 bytes: the closing quote always goes.
                let keep = 1 + (r >> 8) as usize % (out.len() - 1);
                out.truncate(keep);
            }
            2 => {
                let len = 20 + (r >> 8) % 100;
                for _ in 0..len {
                    let b = (rng.next_u64() >> 56) as u8;
                    out.push(match b {
                        b'\n' | b'\r' | b'[' | 0 => b'?',
                        _ => b,
                    });
                }
            }
            _ => {
                self.line(rng, time, out);
                if r & 0x100 == 0 {
                    // `] "GET` becomes `] GET`.
                    let at = out.windows(3).position(|w| w == b"] \"");
                    if let Some(at) = at {
                        out.remove(at + 2);
                    }
                } else {
                    // A bare quote inside the user agent, before its last
                    // character (never a `\\`, which would escape it).
                    let at = out.len() - 2;
                    out.insert(at, b'"');
                }
            }
        }
    }
}

fn push(out: &mut Vec<u8>, text: &str) {
    out.extend_from_slice(text.as_bytes());
}

fn number(out: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[at..]);
}

fn two_digits(out: &mut Vec<u8>, n: u64) {
    out.extend_from_slice(&[b'0' + (n / 10 % 10) as u8, b'0' + (n % 10) as u8]);
}

/// Picks a choice with probability its percentage, from `r % 100`.
fn weighted<T: Copy>(choices: &[(u64, T)], r: u64) -> T {
    let mut x = r % 100;
    for &(percent, choice) in choices {
        if x < percent {
            return choice;
        }
        x -= percent;
    }
    choices[choices.len() - 1].1
}

/// A client address: IPv4, or one time in 32 IPv6 (documentation ranges
/// and public-looking IPv4 ranges alike; no meaning is intended).
fn client(out: &mut Vec<u8>, r: u64) {
    if r % 32 == 0 {
        let [a, b, c] = [8, 24, 40].map(|shift| (r >> shift) & 0xffff);
        push(out, &format!("2001:db8:{a:x}:{b:x}::{c:x}"));
        return;
    }
    let first = match 1 + (r >> 8) % 223 {
        10 | 127 => 11,
        n => n,
    };
    number(out, first);
    for shift in [16, 24, 32] {
        out.push(b'.');
        number(out, (r >> shift) & 0xff);
    }
}

/// A request path, from a few templates and topics.
fn path(out: &mut Vec<u8>, r: u64) {
    let topic = TOPICS[((r >> 8) % TOPICS.len() as u64) as usize];
    let n = (r >> 16) % 100;
    match r % 10 {
        0 | 1 => push(out, "/"),
        2 => push(out, "/index.html"),
        3 => push(out, "/about"),
        4 => {
            push(out, "/blog/");
            push(out, topic);
        }
        5 => {
            push(out, "/products/");
            number(out, n);
        }
        6 => {
            push(out, "/images/");
            push(out, topic);
            push(out, ".jpg");
        }
        7 => push(out, "/static/app.css"),
        8 => {
            push(out, "/search?q=");
            push(out, topic);
            push(out, "+");
            push(out, TOPICS[((r >> 24) % TOPICS.len() as u64) as usize]);
        }
        _ => {
            push(out, "/api/v1/items?page=");
            number(out, n);
        }
    }
}

/// `dd/Mon/yyyy:HH:MM:SS +0000` for Unix time `t`.
fn timestamp(out: &mut Vec<u8>, t: u64) {
    let (year, month, day) = civil_from_days(t / 86_400);
    let secs = t % 86_400;
    two_digits(out, day);
    out.push(b'/');
    push(out, MONTHS[month as usize - 1]);
    out.push(b'/');
    number(out, year);
    for part in [secs / 3600, secs / 60 % 60, secs % 60] {
        out.push(b':');
        two_digits(out, part);
    }
    push(out, " +0000");
}

/// The date `(year, month, day)` of a day counted from 1970-01-01, after
/// Howard Hinnant's `civil_from_days`.
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use regex::bytes::Regex;

    use super::*;

    fn log(config: &AccessLogConfig, bytes: u64) -> Vec<u8> {
        let mut out = Vec::new();
        config
            .write_access_log(bytes, &mut out)
            .expect("writing to a vec");
        out
    }

    /// The `vhost_combined` format, written independently of the
    /// generator: returns the site of a valid line.
    fn site_of(line: &[u8]) -> Option<&[u8]> {
        static FORMAT: std::sync::OnceLock<Regex> = std::sync::OnceLock::new();
        let format = FORMAT.get_or_init(|| {
            let quoted = r#""(?:[^"\\]|\\.)*""#;
            Regex::new(&format!(
                r"^(?-u)([^ :]+):[0-9]+ [^ ]+ [^ ]+ [^ ]+ \[[^\]]+\] {quoted} [0-9]{{3}} (?:[0-9]+|-) {quoted} {quoted}$"
            ))
            .expect("valid regex")
        });
        Some(format.captures(line)?.get(1)?.as_bytes())
    }

    fn lines(text: &[u8]) -> impl Iterator<Item = &[u8]> {
        text.strip_suffix(b"\n")
            .unwrap_or(text)
            .split(|&b| b == b'\n')
    }

    #[test]
    fn same_config_gives_same_bytes_on_any_pool() {
        let config = AccessLogConfig::default();
        let size = 5 * BLOCK as u64 / 2;
        let with = |threads| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .expect("building a pool")
                .install(|| log(&config, size))
        };
        let one = with(1);
        assert_eq!(one, with(3));
        assert_eq!(one, log(&config, size));
        let other = log(&AccessLogConfig { seed: 43, ..config }, size);
        assert_ne!(one, other);
    }

    #[test]
    fn output_is_whole_lines_within_the_size() {
        let config = AccessLogConfig::default();
        for size in [
            0,
            1,
            50,
            500,
            5_000,
            BLOCK as u64,
            BLOCK as u64 + 1,
            3 * BLOCK as u64,
        ] {
            let text = log(&config, size);
            assert!(text.len() as u64 <= size, "size {size}");
            assert!(
                text.len() as u64 + 1024 > size,
                "size {size}: {}",
                text.len()
            );
            assert!(text.is_empty() || text.ends_with(b"\n"), "size {size}");
        }
        // A shorter log is a prefix of a longer one.
        let long = log(&config, 3 * BLOCK as u64);
        let short = log(&config, BLOCK as u64 + 12_345);
        assert_eq!(long[..short.len()], short[..]);
    }

    #[test]
    fn malformed_fraction_holds_and_every_kind_is_rejected() {
        for fraction in [0.0, 0.05, 0.3, 1.0] {
            let config = AccessLogConfig {
                malformed: fraction,
                ..AccessLogConfig::default()
            };
            let text = log(&config, 4 << 20);
            let (mut total, mut bad) = (0, 0);
            for line in lines(&text) {
                total += 1;
                bad += usize::from(site_of(line).is_none());
            }
            let got = bad as f64 / total as f64;
            // Well over three standard deviations at 20,000 lines.
            assert!((got - fraction).abs() < 0.01, "asked {fraction}, got {got}");
        }
    }

    #[test]
    fn sites_follow_zipf() {
        let config = AccessLogConfig {
            malformed: 0.0,
            ..AccessLogConfig::default()
        };
        let names = config.site_names();
        let text = log(&config, 8 << 20);
        let mut visits = std::collections::HashMap::new();
        let mut total = 0u64;
        for line in lines(&text) {
            let site = site_of(line).expect("all lines valid");
            *visits.entry(site).or_insert(0u64) += 1;
            total += 1;
        }
        let count = |rank: usize| visits.get(names[rank].as_bytes()).copied().unwrap_or(0) as f64;
        // P(rank 1) = 1 / H(1000, 1.1), with H the generalised harmonic number.
        let h: f64 = (1..=1000).map(|k| (k as f64).powf(-1.1)).sum();
        let top = count(0) / total as f64;
        assert!((top / (1.0 / h) - 1.0).abs() < 0.05, "rank 1 share {top}");
        let ratio = count(0) / count(1);
        assert!(
            (ratio / 2f64.powf(1.1) - 1.0).abs() < 0.1,
            "rank 1 / rank 2 = {ratio}"
        );
        assert!(count(1) > count(3) && count(3) > count(9) && count(9) > count(99));
        assert!(visits
            .keys()
            .all(|site| names.iter().any(|n| n.as_bytes() == *site)));
    }

    #[test]
    fn site_names_are_distinct_and_stable() {
        let small = AccessLogConfig {
            sites: 10,
            ..AccessLogConfig::default()
        }
        .site_names();
        let big = AccessLogConfig {
            sites: 5000,
            ..AccessLogConfig::default()
        }
        .site_names();
        assert_eq!(small[..], big[..10]);
        let distinct: std::collections::HashSet<&String> = big.iter().collect();
        assert_eq!(distinct.len(), 5000);
    }

    #[test]
    fn bad_config_is_rejected_before_writing() {
        let bad = [
            AccessLogConfig {
                sites: 0,
                ..AccessLogConfig::default()
            },
            AccessLogConfig {
                sites: MAX_SITES + 1,
                ..AccessLogConfig::default()
            },
            AccessLogConfig {
                zipf_exponent: -1.0,
                ..AccessLogConfig::default()
            },
            AccessLogConfig {
                zipf_exponent: f64::NAN,
                ..AccessLogConfig::default()
            },
            AccessLogConfig {
                malformed: 1.5,
                ..AccessLogConfig::default()
            },
            AccessLogConfig {
                malformed: f64::NAN,
                ..AccessLogConfig::default()
            },
        ];
        for config in bad {
            let mut out = Vec::new();
            let err = config.write_access_log(1000, &mut out).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{config:?}");
            assert!(out.is_empty());
        }
    }

    #[test]
    fn dates_and_times() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(START / 86_400), (2026, 11, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        let mut out = Vec::new();
        timestamp(&mut out, START + 86_400 * 61 + 3600 * 13 + 60 * 5 + 9);
        assert_eq!(out, b"01/Jan/2027:13:05:09 +0000");
    }
}
