#!/usr/bin/env python3
"""Word count with DuckDB, for benches/compare.sh.

Writes `word<TAB>count` lines, count descending then word ascending
(bytewise), the same format as `mr-local wordcount`.

    duckdb_wordcount.py --threads N [--split alphanumeric|whitespace]
                        [--bigrams] [--skip-invalid-utf8] [--inner-time FILE]
                        [--temp-dir DIR] INPUT OUTPUT

How: the input is read as a one-column CSV (a delimiter byte that does not
occur in text, no quoting, no escaping, no header), so each line is one
VARCHAR; each line is lowercased (`lower`), its words are pulled out with a
regular expression (`regexp_extract_all`), unnested, grouped and ordered,
and the result is written with COPY.

Words:
  alphanumeric  [a-z0-9]+ after lowercasing: on ASCII text exactly the words
                of `mr-local wordcount`.
  whitespace    runs of bytes other than TAB LF VT FF CR SPACE, lowercased:
                on ASCII text exactly `mr-local wordcount --split whitespace`.

With --bigrams it counts pairs of consecutive words within a line instead,
written `first second` (one space): on ASCII text exactly what
`examples/bigrams.rs` counts. A lone CR ends a line for this reader (see
the read options below), so on text holding one the pairs across it are
missing here.

DuckDB's CSV reader refuses input that is not valid UTF-8 (and its built-in
`latin-1` decoder refuses the bytes 0x80-0x9F). With --skip-invalid-utf8 it
runs with `ignore_errors = true`, which drops every line holding an invalid
byte, so its counts then differ slightly from mr-local's; compare.sh passes
the flag only for such inputs and says so in its notes.
"""

import argparse
import sys
import time

import duckdb

PATTERNS = {
    "alphanumeric": "[a-z0-9]+",
    "whitespace": "[^\\t\\n\\x0B\\x0C\\r ]+",
}


def sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, required=True)
    parser.add_argument("--split", choices=sorted(PATTERNS), default="alphanumeric")
    parser.add_argument("--bigrams", action="store_true", help="count word pairs within lines")
    parser.add_argument("--skip-invalid-utf8", action="store_true")
    parser.add_argument("--inner-time", help="write the seconds spent after `import duckdb` here")
    parser.add_argument("--temp-dir", help="where DuckDB may spill")
    parser.add_argument("input")
    parser.add_argument("output")
    args = parser.parse_args()

    after_import = time.perf_counter()
    con = duckdb.connect()
    con.execute(f"SET threads = {int(args.threads)}")
    if args.temp_dir:
        con.execute(f"SET temp_directory = {sql_string(args.temp_dir)}")

    options = [
        "columns = {'line': 'VARCHAR'}",
        "header = false",
        "auto_detect = false",
        # 0x01 does not occur in text: every line is one column.
        "delim = chr(1)",
        "quote = ''",
        "escape = ''",
        # Lines end at LF, and the reader is not strict, so that CRLF, LF
        # and lone CR all read (CR then ends a line too: harmless, as CR
        # separates words in both word definitions). With the defaults,
        # mixed line ends fail, and with only strict_mode = false the text
        # after a lone CR is silently dropped.
        "new_line = '\\n'",
        "strict_mode = false",
    ]
    if args.skip_invalid_utf8:
        options.append("ignore_errors = true")
    pattern = sql_string(PATTERNS[args.split])
    lines = f"read_csv({sql_string(args.input)}, {', '.join(options)})"
    if args.bigrams:
        # Lists are 1-based: element i pairs with element i + 1.
        keys = f"""
            SELECT unnest(list_transform(range(1, len(w)), lambda i: w[i] || ' ' || w[i + 1])) AS word
            FROM (SELECT regexp_extract_all(lower(line), {pattern}) AS w FROM {lines})
        """
    else:
        keys = f"SELECT unnest(regexp_extract_all(lower(line), {pattern})) AS word FROM {lines}"
    query = f"""
        COPY (
            SELECT word, count(*) AS n
            FROM ({keys})
            GROUP BY word
            ORDER BY n DESC, word ASC
        ) TO {sql_string(args.output)} (FORMAT csv, DELIMITER '\t', HEADER false, QUOTE '')
    """
    con.execute(query)
    con.close()

    if args.inner_time:
        with open(args.inner_time, "w") as f:
            f.write(f"{time.perf_counter() - after_import:.6f}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
