//! [`parse_size`]: byte counts as people write them (`"1G"`, `"1.5GiB"`).

/// Parses a size such as `"1G"`, `"100M"`, `"512K"`, `"4096"` or `"1.5G"`.
///
/// Units are binary: `K` is 1024 bytes, `M` 1024², `G` 1024³ and `T` 1024⁴.
/// Each may also be written `KB` or `KiB` (and so on), and `B` means bytes.
/// Case is ignored, as is white space around the number and unit. A
/// fractional number (`"1.5G"`, `"0.5k"`) is allowed; the result is rounded
/// down to a whole byte.
///
/// # Errors
///
/// Returns a short lowercase message if the text is empty, is not a
/// non-negative decimal number followed by an optional known unit, or gives
/// more than `u64::MAX` bytes.
///
/// # Example
///
/// ```
/// use mr_local::generate::parse_size;
///
/// assert_eq!(parse_size("4096"), Ok(4096));
/// assert_eq!(parse_size("512K"), Ok(512 * 1024));
/// assert_eq!(parse_size("1.5GiB"), Ok(3 << 29));
/// assert!(parse_size("ten megabytes").is_err());
/// ```
pub fn parse_size(s: &str) -> Result<u64, String> {
    let text = s.trim();
    if text.is_empty() {
        return Err("empty size".to_string());
    }
    let bad = || {
        format!("invalid size {s:?}: expected a number and optional unit, like 512K, 100M or 1.5G")
    };
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let shift = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        "t" | "tb" | "tib" => 40,
        _ => return Err(bad()),
    };
    let (whole, fraction) = match number.split_once('.') {
        Some((whole, fraction)) => (whole, fraction),
        None => (number, ""),
    };
    let all_digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty()
        || !all_digits(whole)
        || !all_digits(fraction)
        || (number.contains('.') && fraction.is_empty())
    {
        return Err(bad());
    }
    let too_large = || format!("size {s:?} is too large");
    let whole: u128 = whole.parse::<u64>().map_err(|_| too_large())?.into();
    let mut bytes = whole << shift;
    // The fraction times 2^shift, rounded down, read off bit by bit by
    // doubling the decimal digits: exact, with no float or overflow. Digits
    // past the `shift`-th cannot change the result (they add less than
    // 5^-shift to a multiple of 5^-shift), so they are skipped.
    let mut digits: Vec<u8> = fraction.bytes().take(shift).map(|b| b - b'0').collect();
    let mut part = 0u128;
    for _ in 0..shift {
        let mut carry = 0;
        for digit in digits.iter_mut().rev() {
            let doubled = *digit * 2 + carry;
            *digit = doubled % 10;
            carry = doubled / 10;
        }
        part = part * 2 + u128::from(carry);
    }
    bytes += part;
    u64::try_from(bytes).map_err(|_| too_large())
}

#[cfg(test)]
mod tests {

    use super::*;

    #[test]
    fn parse_size_accepts_good_input() {
        let cases: &[(&str, u64)] = &[
            ("0", 0),
            ("4096", 4096),
            ("512K", 512 << 10),
            ("512k", 512 << 10),
            ("100M", 100 << 20),
            ("1G", 1 << 30),
            ("1.5G", 3 << 29),
            ("2T", 2 << 40),
            ("10KB", 10 << 10),
            ("10kib", 10 << 10),
            ("3MB", 3 << 20),
            ("3MiB", 3 << 20),
            ("7gb", 7 << 30),
            ("7GiB", 7 << 30),
            ("12b", 12),
            (" 64 K ", 64 << 10),
            ("0.5k", 512),
            ("1.0009765625K", 1025),
            ("0.1K", 102),
            ("18446744073709551615", u64::MAX),
            // 2^-40 T is exactly one byte; it needs all 40 decimals.
            ("0.0000000000009094947017729282379150390625T", 1),
            ("0.0000000000009094947017729282379150390624T", 0),
            ("1.99999999999999999999999999999999999999999999b", 1),
            ("15.99999999999999G", (16 << 30) - 1),
        ];
        for &(text, want) in cases {
            assert_eq!(parse_size(text), Ok(want), "{text:?}");
        }
    }

    #[test]
    fn parse_size_rejects_bad_input() {
        let cases = [
            "",
            "  ",
            "G",
            "abc",
            "-1",
            "1.",
            ".5G",
            "1..5G",
            "1.5.2G",
            "1X",
            "1 G B",
            "1e9",
            "+5",
            "16777216T",
            "18446744073709551616",
            "99999999999999999999999M",
        ];
        for text in cases {
            let err = parse_size(text).expect_err(text);
            assert!(err.starts_with(|c: char| c.is_ascii_lowercase()), "{err}");
        }
    }
}
