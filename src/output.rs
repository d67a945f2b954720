//! Output: formatting results and committing output files atomically.
//!
//! - [`write_tsv`], [`write_csv`] and [`write_json_lines`] write
//!   `(key, count)` pairs whose keys are bytes, in three formats; the field
//!   writers under them, [`write_csv_field`] and [`write_json_string`], are
//!   public for jobs with other record shapes.
//! - [`AtomicFile`] makes a file appear whole or not at all.
//! - [`register_temporary`], [`commit_temporary`] and
//!   [`remove_temporary_files`] keep the list of temporary files that a
//!   signal handler removes, and keep that removal and commits apart.
//!
//! Keys are bytes, not strings: TSV writes them as they are, while CSV and
//! JSON, which are text formats, replace bytes that are not valid UTF-8 with
//! U+FFFD, as [`String::from_utf8_lossy`] does. No key makes a writer fail
//! or panic; only `out` can fail.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::error::Error;

pub use crate::temporary::{
    commit_temporary, forget_temporary, register_temporary, remove_temporary_files,
};

/// Writes `key<TAB>count` lines.
///
/// # Errors
///
/// Whatever `out` returns.
///
/// # Example
///
/// ```
/// let mut out = Vec::new();
/// mr_local::output::write_tsv(&mut out, [(&b"the"[..], 2u64), (b"cat", 1)])?;
/// assert_eq!(out, b"the\t2\ncat\t1\n");
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn write_tsv<K: AsRef<[u8]>>(
    mut out: impl Write,
    pairs: impl IntoIterator<Item = (K, u64)>,
) -> io::Result<()> {
    let mut digits = [0u8; 20];
    for (key, count) in pairs {
        out.write_all(key.as_ref())?;
        out.write_all(b"\t")?;
        out.write_all(format_u64(count, &mut digits))?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

/// Writes a CSV header line, then one `key,count` record per pair, as RFC
/// 4180 describes, except that records end in `\n` rather than CRLF (CSV
/// readers accept both). A field is quoted only when it holds a comma, a
/// double quote, a CR or an LF (see [`write_csv_field`]).
///
/// `header` names the two columns (`["word", "count"]` for word count);
/// the names are quoted by the same rule. Keys that are not valid UTF-8 are
/// written lossily, with U+FFFD in place of each invalid sequence.
///
/// # Errors
///
/// Whatever `out` returns.
///
/// # Example
///
/// ```
/// let mut out = Vec::new();
/// let pairs = [(&b"the"[..], 2u64), (b"a,b", 1), (b"say \"hi\"", 1)];
/// mr_local::output::write_csv(&mut out, ["word", "count"], pairs)?;
/// assert_eq!(out, &b"word,count\nthe,2\n\"a,b\",1\n\"say \"\"hi\"\"\",1\n"[..]);
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn write_csv<K: AsRef<[u8]>>(
    mut out: impl Write,
    header: [&str; 2],
    pairs: impl IntoIterator<Item = (K, u64)>,
) -> io::Result<()> {
    write_csv_field(&mut out, header[0].as_bytes())?;
    out.write_all(b",")?;
    write_csv_field(&mut out, header[1].as_bytes())?;
    out.write_all(b"\n")?;
    let mut digits = [0u8; 20];
    for (key, count) in pairs {
        write_csv_field(&mut out, key.as_ref())?;
        out.write_all(b",")?;
        out.write_all(format_u64(count, &mut digits))?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

/// Writes one CSV field: as it is, or, if it holds a comma, a double
/// quote, a CR or an LF, between double quotes with each double quote
/// doubled (RFC 4180).
///
/// Bytes that are not valid UTF-8 are replaced with U+FFFD (one per
/// invalid sequence, as [`String::from_utf8_lossy`] does), so the output is
/// always UTF-8.
///
/// # Errors
///
/// Whatever `out` returns.
///
/// # Example
///
/// ```
/// use mr_local::output::write_csv_field;
///
/// let mut out = Vec::new();
/// write_csv_field(&mut out, b"plain")?;
/// write_csv_field(&mut out, b" ")?;
/// write_csv_field(&mut out, b"two\nlines, \"quoted\"")?;
/// write_csv_field(&mut out, b"bad\xff")?;
/// assert_eq!(
///     String::from_utf8(out).unwrap(),
///     "plain \"two\nlines, \"\"quoted\"\"\"bad\u{fffd}",
/// );
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn write_csv_field(mut out: impl Write, field: &[u8]) -> io::Result<()> {
    let text = String::from_utf8_lossy(field);
    let text = text.as_bytes();
    let needs_quotes = text
        .iter()
        .any(|&b| matches!(b, b',' | b'"' | b'\r' | b'\n'));
    if !needs_quotes {
        return out.write_all(text);
    }
    out.write_all(b"\"")?;
    for (i, piece) in text.split(|&b| b == b'"').enumerate() {
        if i > 0 {
            out.write_all(b"\"\"")?;
        }
        out.write_all(piece)?;
    }
    out.write_all(b"\"")
}

/// Writes JSON Lines: one object `{"KEY":"...","COUNT":N}` per pair and
/// line, where `names` gives the two member names (`["word", "count"]` for
/// word count).
///
/// Keys become JSON strings as [`write_json_string`] writes them: escaped
/// where JSON requires it, and lossily converted where they are not valid
/// UTF-8. Counts are plain integers.
///
/// # Errors
///
/// Whatever `out` returns.
///
/// # Example
///
/// ```
/// let mut out = Vec::new();
/// let pairs = [(&b"the"[..], 2u64), (b"back\\slash", 1)];
/// mr_local::output::write_json_lines(&mut out, ["word", "count"], pairs)?;
/// assert_eq!(
///     String::from_utf8(out).unwrap(),
///     "{\"word\":\"the\",\"count\":2}\n{\"word\":\"back\\\\slash\",\"count\":1}\n",
/// );
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn write_json_lines<K: AsRef<[u8]>>(
    mut out: impl Write,
    names: [&str; 2],
    pairs: impl IntoIterator<Item = (K, u64)>,
) -> io::Result<()> {
    // `{"word":` and `,"count":`, escaped once rather than per line.
    let mut open = b"{".to_vec();
    write_json_string(&mut open, names[0].as_bytes())?;
    open.push(b':');
    let mut middle = b",".to_vec();
    write_json_string(&mut middle, names[1].as_bytes())?;
    middle.push(b':');
    let mut digits = [0u8; 20];
    for (key, count) in pairs {
        out.write_all(&open)?;
        write_json_string(&mut out, key.as_ref())?;
        out.write_all(&middle)?;
        out.write_all(format_u64(count, &mut digits))?;
        out.write_all(b"}\n")?;
    }
    Ok(())
}

/// Writes `text` as a JSON string, quotes included.
///
/// `"` and `\` are escaped with a backslash; control characters (below
/// U+0020) use JSON's short escapes (`\b`, `\f`, `\n`, `\r`, `\t`) where
/// there is one and `\u00XX` otherwise. Everything else, non-ASCII characters
/// included, is written as UTF-8. Bytes that are not valid UTF-8 are
/// replaced with U+FFFD, one per invalid sequence, as
/// [`String::from_utf8_lossy`] does.
///
/// # Errors
///
/// Whatever `out` returns.
///
/// # Example
///
/// ```
/// use mr_local::output::write_json_string;
///
/// let mut out = Vec::new();
/// write_json_string(&mut out, b"tab\t\"q\" \x01 caf\xc3\xa9 \xff")?;
/// assert_eq!(
///     String::from_utf8(out).unwrap(),
///     r#""tab\t\"q\" \u0001 café �""#,
/// );
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn write_json_string(mut out: impl Write, text: &[u8]) -> io::Result<()> {
    out.write_all(b"\"")?;
    for chunk in text.utf8_chunks() {
        write_json_escaped(&mut out, chunk.valid().as_bytes())?;
        if !chunk.invalid().is_empty() {
            out.write_all(
                char::REPLACEMENT_CHARACTER
                    .encode_utf8(&mut [0; 4])
                    .as_bytes(),
            )?;
        }
    }
    out.write_all(b"\"")
}

/// Writes valid UTF-8 with JSON's escapes, in runs between the bytes that
/// need one.
fn write_json_escaped(mut out: impl Write, text: &[u8]) -> io::Result<()> {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut start = 0;
    for (i, &b) in text.iter().enumerate() {
        let short: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            0x00..=0x1f => b"",
            _ => continue,
        };
        out.write_all(&text[start..i])?;
        start = i + 1;
        if short.is_empty() {
            let hex = [
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[usize::from(b >> 4)],
                HEX[usize::from(b & 0xf)],
            ];
            out.write_all(&hex)?;
        } else {
            out.write_all(short)?;
        }
    }
    out.write_all(&text[start..])
}

/// Formats `n` in decimal into `buf`, returning the digits.
fn format_u64(mut n: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut at = buf.len();
    loop {
        at -= 1;
        buf[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            return &buf[at..];
        }
    }
}

/// A file that appears at its path only when [`commit`](AtomicFile::commit)
/// succeeds.
///
/// It is written under a temporary name in the same directory (so the final
/// rename cannot cross file systems) and renamed into place at the end; if
/// it is dropped uncommitted, the temporary file is removed, so a failed run
/// never leaves a partial file behind.
///
/// A symbolic link is followed, so the link stays and its target is
/// replaced. A path that exists but is not a regular file (a FIFO,
/// `/dev/null`, a terminal) cannot be replaced by a rename: it is opened and
/// written directly, as a shell's `>` would.
///
/// # Example
///
/// ```
/// use std::io::Write;
/// use mr_local::output::AtomicFile;
///
/// let path = std::env::temp_dir().join(format!("mr-local-doc-atomic-{}", std::process::id()));
/// let mut file = AtomicFile::create(&path)?;
/// file.write_all(b"done\n")?;
/// assert!(!path.exists());
/// file.commit()?;
/// assert_eq!(std::fs::read(&path)?, b"done\n");
/// # std::fs::remove_file(&path)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct AtomicFile {
    path: PathBuf,
    /// The temporary file to rename into place; `None` when writing
    /// directly into a special file.
    temp: Option<PathBuf>,
    file: Option<io::BufWriter<File>>,
}

impl AtomicFile {
    /// Creates the temporary file beside `path` (or opens `path` itself if
    /// it is a special file).
    ///
    /// # Errors
    ///
    /// An error naming `path` if its directory is missing or not writable.
    pub fn create(path: impl AsRef<Path>) -> Result<AtomicFile, Error> {
        let path = path.as_ref().to_path_buf();
        let open = |path: &Path, options: &mut fs::OpenOptions| {
            options
                .open(path)
                .map(|f| Some(io::BufWriter::with_capacity(1 << 16, f)))
        };
        let target = match fs::metadata(&path) {
            Ok(meta) if !meta.is_file() && !meta.is_dir() => {
                let file = open(&path, fs::OpenOptions::new().write(true))
                    .map_err(|e| Error::io(&path, e))?;
                return Ok(AtomicFile {
                    path,
                    temp: None,
                    file,
                });
            }
            // Replace what a link points to, not the link.
            Ok(_) => fs::canonicalize(&path).unwrap_or_else(|_| path.clone()),
            Err(_) => path.clone(),
        };
        let temp = temp_path(&target).map_err(|e| Error::io(&path, e))?;
        // Registered before it exists, so that an interrupt can never leave
        // it behind unlisted.
        register_temporary(&temp);
        let file = match open(&temp, fs::OpenOptions::new().write(true).create_new(true)) {
            Ok(file) => file,
            Err(e) => {
                forget_temporary(&temp);
                return Err(Error::io(&path, e));
            }
        };
        // Locked while it lives, so that no other run takes it for a dead
        // one's (see remove_stale_temporaries). Best effort.
        if let Some(writer) = &file {
            let _ = crate::stale::try_lock(writer.get_ref());
        }
        remove_stale_temporaries(&target);
        Ok(AtomicFile {
            path: target,
            temp: Some(temp),
            file,
        })
    }

    /// Returns the final path (a link's target, where `path` was a link).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Flushes, syncs and renames the file into place.
    ///
    /// # Errors
    ///
    /// An error naming the final path if any step fails; the temporary file
    /// is then removed.
    pub fn commit(mut self) -> Result<(), Error> {
        let result = self.finish();
        if result.is_err() {
            self.remove_temp();
        }
        result.map_err(|e| Error::io(&self.path, e))
    }

    fn finish(&mut self) -> io::Result<()> {
        let Some(writer) = self.file.take() else {
            return Ok(());
        };
        let file = writer
            .into_inner()
            .map_err(io::IntoInnerError::into_error)?;
        match &self.temp {
            Some(temp) => {
                file.sync_all()?;
                // Never while a signal handler removes the temporary files:
                // the file is either renamed whole or removed.
                commit_temporary(temp, || fs::rename(temp, &self.path))
            }
            None => Ok(()),
        }
    }

    fn remove_temp(&self) {
        if let Some(temp) = &self.temp {
            let _ = fs::remove_file(temp);
            forget_temporary(temp);
        }
    }

    fn writer(&mut self) -> io::Result<&mut io::BufWriter<File>> {
        self.file
            .as_mut()
            .ok_or_else(|| io::Error::other("the file was already committed"))
    }
}

/// Removes beside `path` what runs killed by SIGKILL left of their
/// writing to `path`: the temporary files and directories named exactly
/// `.NAME.mr-local-PID-N.tmp` whose process PID no longer exists, owned by
/// this user, not this process's, and not locked by a live run (of another
/// PID namespace). Nothing else is touched; a directory goes only if it
/// holds nothing but `part-*`, `_SUCCESS` and their temporary files. Best
/// effort: what cannot be read or removed stays.
///
/// [`AtomicFile::create`] calls it; so does whatever makes its own
/// temporaries under that naming (an output directory's fresh one).
///
/// # Example
///
/// ```
/// let path = std::env::temp_dir().join(format!("mr-local-doc-stale-{}", std::process::id()));
/// mr_local::output::remove_stale_temporaries(&path); // nothing of a dead run there
/// ```
pub fn remove_stale_temporaries(path: &Path) {
    crate::stale::remove_stale_temporaries(path);
}

/// Returns a fresh name beside `path`: `.NAME.mr-local-PID-N.tmp`.
fn temp_path(path: &Path) -> io::Result<PathBuf> {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "not a file name"))?;
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let mut temp = std::ffi::OsString::from(".");
    temp.push(name);
    temp.push(format!(".mr-local-{}-{n}.tmp", std::process::id()));
    Ok(path.with_file_name(temp))
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.writer()?.write(buf)
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.writer()?.write_all(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.writer()?.flush()
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if self.file.is_some() {
            self.remove_temp();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::TempDir;

    fn csv(pairs: &[(&[u8], u64)]) -> String {
        let mut out = Vec::new();
        write_csv(&mut out, ["word", "count"], pairs.iter().copied()).unwrap();
        String::from_utf8(out).expect("CSV output is UTF-8")
    }

    fn json(pairs: &[(&[u8], u64)]) -> String {
        let mut out = Vec::new();
        write_json_lines(&mut out, ["word", "count"], pairs.iter().copied()).unwrap();
        String::from_utf8(out).expect("JSON output is UTF-8")
    }

    #[test]
    fn tsv_writes_bytes_as_they_are() {
        let mut out = Vec::new();
        let pairs: [(&[u8], u64); 2] = [(b"a\tb\"c\\", 1), (b"\xff\x01", u64::MAX)];
        write_tsv(&mut out, pairs).unwrap();
        assert_eq!(out, b"a\tb\"c\\\t1\n\xff\x01\t18446744073709551615\n");
    }

    #[test]
    fn csv_quotes_only_what_rfc_4180_requires() {
        let pairs: &[(&[u8], u64)] = &[
            (b"plain", 3),
            (b"tab\there", 2),
            (b"back\\slash", 2),
            (b"a,b", 1),
            (b"say\"hi\"", 1),
            (b"\"", 1),
            (b"line\nfeed", 1),
            (b"carriage\rreturn", 1),
            (b"ctl\x01", 1),
            (b"caf\xc3\xa9", 0),
        ];
        assert_eq!(
            csv(pairs),
            "word,count\nplain,3\ntab\there,2\nback\\slash,2\n\"a,b\",1\n\
             \"say\"\"hi\"\"\",1\n\"\"\"\",1\n\"line\nfeed\",1\n\
             \"carriage\rreturn\",1\nctl\x01,1\ncafé,0\n"
        );
        assert_eq!(csv(&[]), "word,count\n");
    }

    #[test]
    fn csv_replaces_invalid_utf8() {
        let pairs: &[(&[u8], u64)] = &[(b"bad\xffbyte", 1), (b"\xe2\x82,", 2), (b"\xc3", 3)];
        assert_eq!(
            csv(pairs),
            "word,count\nbad\u{fffd}byte,1\n\"\u{fffd},\",2\n\u{fffd},3\n"
        );
    }

    #[test]
    fn csv_header_names_are_quoted_too() {
        let mut out = Vec::new();
        write_csv(&mut out, ["a,b", "n"], [(&b"x"[..], 1)]).unwrap();
        assert_eq!(out, b"\"a,b\",n\nx,1\n");
    }

    #[test]
    fn json_escapes_what_json_requires() {
        let pairs: &[(&[u8], u64)] = &[
            (b"plain", 3),
            (b"tab\there", 2),
            (b"back\\slash", 2),
            (b"a,b", 1),
            (b"say\"hi\"", 1),
            (b"line\nfeed\r\n", 1),
            (b"\x00\x01\x08\x0c\x1f\x7f", 1),
            (b"caf\xc3\xa9 \xe2\x80\xa8", 0),
            (b"", u64::MAX),
        ];
        assert_eq!(
            json(pairs),
            concat!(
                r#"{"word":"plain","count":3}"#,
                "\n",
                r#"{"word":"tab\there","count":2}"#,
                "\n",
                r#"{"word":"back\\slash","count":2}"#,
                "\n",
                r#"{"word":"a,b","count":1}"#,
                "\n",
                r#"{"word":"say\"hi\"","count":1}"#,
                "\n",
                r#"{"word":"line\nfeed\r\n","count":1}"#,
                "\n",
                r#"{"word":"\u0000\u0001\b\f\u001f"#,
                "\x7f",
                r#"","count":1}"#,
                "\n",
                "{\"word\":\"café \u{2028}\",\"count\":0}\n",
                r#"{"word":"","count":18446744073709551615}"#,
                "\n",
            )
        );
    }

    #[test]
    fn json_replaces_invalid_utf8() {
        let pairs: &[(&[u8], u64)] = &[
            (b"bad\xffbyte", 1),
            (b"\xe2\x82\"", 2),
            (b"\xc3", 3),
            (b"\xed\xa0\x80", 4), // a UTF-16 surrogate, invalid in UTF-8
        ];
        assert_eq!(
            json(pairs),
            "{\"word\":\"bad\u{fffd}byte\",\"count\":1}\n\
             {\"word\":\"\u{fffd}\\\"\",\"count\":2}\n\
             {\"word\":\"\u{fffd}\",\"count\":3}\n\
             {\"word\":\"\u{fffd}\u{fffd}\u{fffd}\",\"count\":4}\n"
        );
    }

    /// Every byte value, alone and around others: the JSON string always
    /// decodes (by a small strict decoder) to the lossy text, and the CSV
    /// field to the lossy text after unquoting.
    #[test]
    fn every_byte_round_trips() {
        for b in 0..=255u8 {
            for key in [vec![b], vec![b'a', b, b'z'], vec![b, b, b'"', b]] {
                let lossy = String::from_utf8_lossy(&key).into_owned();

                let mut out = Vec::new();
                write_json_string(&mut out, &key).unwrap();
                let out = String::from_utf8(out).expect("UTF-8");
                assert_eq!(decode_json_string(&out), lossy, "{key:?} -> {out:?}");

                let mut out = Vec::new();
                write_csv_field(&mut out, &key).unwrap();
                let out = String::from_utf8(out).expect("UTF-8");
                let unquoted = match out.strip_prefix('"') {
                    Some(inner) => inner
                        .strip_suffix('"')
                        .expect("closing quote")
                        .replace("\"\"", "\""),
                    None => {
                        assert!(!out.contains([',', '"', '\r', '\n']), "{out:?}");
                        out.clone()
                    }
                };
                assert_eq!(unquoted, lossy, "{key:?} -> {out:?}");
            }
        }
    }

    /// Decodes one JSON string literal, rejecting raw control characters.
    fn decode_json_string(text: &str) -> String {
        let inner = text
            .strip_prefix('"')
            .and_then(|t| t.strip_suffix('"'))
            .unwrap_or_else(|| panic!("not a JSON string: {text:?}"));
        let mut out = String::new();
        let mut chars = inner.chars();
        while let Some(c) = chars.next() {
            assert!(c >= ' ', "raw control character in {text:?}");
            assert!(c != '"', "unescaped quote in {text:?}");
            if c != '\\' {
                out.push(c);
                continue;
            }
            match chars.next() {
                Some('"') => out.push('"'),
                Some('\\') => out.push('\\'),
                Some('/') => out.push('/'),
                Some('b') => out.push('\x08'),
                Some('f') => out.push('\x0c'),
                Some('n') => out.push('\n'),
                Some('r') => out.push('\r'),
                Some('t') => out.push('\t'),
                Some('u') => {
                    let hex: String = chars.by_ref().take(4).collect();
                    let code = u32::from_str_radix(&hex, 16).expect("4 hex digits");
                    out.push(char::from_u32(code).expect("not a surrogate"));
                }
                other => panic!("bad escape {other:?} in {text:?}"),
            }
        }
        out
    }

    #[test]
    fn formats_numbers() {
        let mut buf = [0; 20];
        for n in [0, 7, 10, 1234567890, u64::MAX] {
            assert_eq!(format_u64(n, &mut buf), n.to_string().as_bytes());
        }
    }

    #[test]
    fn an_uncommitted_file_leaves_nothing_behind() {
        let dir = TempDir::new("atomic");
        let path = dir.path().join("out.tsv");
        {
            let mut file = AtomicFile::create(&path).unwrap();
            file.write_all(b"partial").unwrap();
        }
        assert!(!path.exists());
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn a_symlink_stays_and_its_target_is_replaced() {
        let dir = TempDir::new("atomic-link");
        let target = dir.write("real.tsv", "old\n");
        let link = dir.path().join("link.tsv");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let mut file = AtomicFile::create(&link).unwrap();
        file.write_all(b"new\n").unwrap();
        file.commit().unwrap();
        assert!(fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(fs::read(&target).unwrap(), b"new\n");
    }

    #[test]
    fn a_special_file_is_written_not_replaced() {
        let mut file = AtomicFile::create("/dev/null").unwrap();
        file.write_all(b"discarded\n").unwrap();
        file.commit().unwrap();
        assert!(!fs::metadata("/dev/null").unwrap().is_file());
    }

    #[test]
    fn a_missing_directory_names_the_output() {
        let dir = TempDir::new("atomic-missing");
        let path = dir.path().join("no/such/dir/out.tsv");
        let err = AtomicFile::create(&path).unwrap_err();
        assert_eq!(err.path(), Some(path.as_path()));
    }
}
