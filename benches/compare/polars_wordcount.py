#!/usr/bin/env python3
"""Word count with Polars (lazy query, streaming engine), for benches/compare.sh.

Writes `word<TAB>count` lines, count descending then word ascending
(bytewise), the same format as `mr-local wordcount`.

    POLARS_MAX_THREADS=N polars_wordcount.py [--split alphanumeric|whitespace]
        [--bigrams] [--lossy-utf8] [--expect-threads N] [--inner-time FILE]
        INPUT OUTPUT

Polars sizes its thread pool once, when it is imported, from the environment
variable POLARS_MAX_THREADS; compare.sh sets it. This script checks that the
pool has the size asked for (--expect-threads) and fails otherwise.

How: scan_csv reads the input as a one-column CSV (a separator byte that
does not occur in text, no quoting, no header), so each line is one string;
then lowercase, str.extract_all(pattern), explode, group_by + len, sort,
collected with the streaming engine, written with write_csv (never quoting).

Words: the same two patterns as duckdb_wordcount.py ([a-z0-9]+ after
lowercasing, or runs of bytes other than TAB LF VT FF CR SPACE).

With --bigrams it counts pairs of consecutive words within a line instead,
written `first second` (one space): each line's word list without its last
word and without its first are exploded side by side and joined. On ASCII
text that is exactly what `examples/bigrams.rs` counts.

Input that is not valid UTF-8 fails with the default encoding; --lossy-utf8
reads it with encoding="utf8-lossy", which turns each invalid byte into
U+FFFD: a separator for [a-z0-9]+ (as invalid bytes are for mr-local), but a
word character in whitespace mode (where mr-local treats it as a separator).
"""

import argparse
import os
import sys
import time

import polars as pl

PATTERNS = {
    "alphanumeric": r"[a-z0-9]+",
    "whitespace": r"[^\t\n\x0B\x0C\r ]+",
}


def collect_streaming(query: "pl.LazyFrame") -> "pl.DataFrame":
    try:
        return query.collect(engine="streaming")
    except TypeError:  # Polars before 1.x spelled it differently
        return query.collect(streaming=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=sorted(PATTERNS), default="alphanumeric")
    parser.add_argument("--bigrams", action="store_true", help="count word pairs within lines")
    parser.add_argument("--lossy-utf8", action="store_true")
    parser.add_argument("--expect-threads", type=int)
    parser.add_argument("--inner-time", help="write the seconds spent after `import polars` here")
    parser.add_argument("input")
    parser.add_argument("output")
    args = parser.parse_args()

    after_import = time.perf_counter()
    if args.expect_threads is not None and pl.thread_pool_size() != args.expect_threads:
        print(
            f"polars_wordcount: thread pool has {pl.thread_pool_size()} threads, "
            f"expected {args.expect_threads} (POLARS_MAX_THREADS={os.environ.get('POLARS_MAX_THREADS')!r})",
            file=sys.stderr,
        )
        return 1

    lines = pl.scan_csv(
        args.input,
        has_header=False,
        separator="\x01",  # does not occur in text: every line is one column
        quote_char=None,
        schema={"line": pl.String},
        encoding="utf8-lossy" if args.lossy_utf8 else "utf8",
    )
    words = pl.col("line").str.to_lowercase().str.extract_all(PATTERNS[args.split])
    if args.bigrams:
        firsts = words.list.head(pl.max_horizontal(words.list.len() - 1, 0))
        keys = (
            lines.select(firsts.alias("first"), words.list.slice(1).alias("second"))
            .explode(["first", "second"])
            .drop_nulls()
            .select(pl.concat_str(["first", "second"], separator=" ").alias("word"))
        )
    else:
        keys = lines.select(words.alias("word")).explode("word").drop_nulls("word")
    query = (
        keys.group_by("word")
        .agg(pl.len().alias("n"))
        .sort(["n", "word"], descending=[True, False])
    )
    counts = collect_streaming(query)
    counts.write_csv(args.output, separator="\t", include_header=False, quote_style="never")

    if args.inner_time:
        with open(args.inner_time, "w") as f:
            f.write(f"{time.perf_counter() - after_import:.6f}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
