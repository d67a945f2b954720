#!/usr/bin/env python3
"""Write the text another tool actually counts, for benches/compare.sh.

When a tool's output differs from mr-local's on an input that is not valid
UTF-8, compare.sh runs mr-local (untimed) on the text as that tool reads it
and compares again: if that matches, the difference is explained by how the
tool handles invalid UTF-8 and nothing else.

    variant.py drop-invalid-lines INPUT OUTPUT
        every line that is not valid UTF-8 left out (what DuckDB's CSV
        reader does with ignore_errors = true)
    variant.py replace-invalid INPUT OUTPUT
        every invalid UTF-8 sequence replaced by U+FFFD (what Polars does
        with encoding="utf8-lossy")
    variant.py lossy-counts COUNTS OUTPUT
        a `word<TAB>count` output with each word's invalid UTF-8 replaced
        by U+FFFD, counts of words that thereby become equal added up, and
        sorted again (count descending, word bytewise): for tools that keep
        invalid bytes inside words (tr, the HashMap baseline in whitespace
        mode), to compare with mr-local run on the replace-invalid text
"""

import sys


def drop_invalid_lines(src, dst):
    for line in src:
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            continue
        dst.write(line)


def replace_invalid(src, dst):
    for line in src:
        dst.write(line.decode("utf-8", errors="replace").encode("utf-8"))


def lossy_counts(src, dst):
    counts = {}
    for line in src:
        word, _, count = line.rstrip(b"\n").rpartition(b"\t")
        key = word.decode("utf-8", errors="replace").encode("utf-8")
        counts[key] = counts.get(key, 0) + int(count)
    for word, count in sorted(counts.items(), key=lambda wc: (-wc[1], wc[0])):
        dst.write(word + b"\t" + str(count).encode() + b"\n")


MODES = {
    "drop-invalid-lines": drop_invalid_lines,
    "replace-invalid": replace_invalid,
    "lossy-counts": lossy_counts,
}


def main() -> int:
    if len(sys.argv) != 4 or sys.argv[1] not in MODES:
        print(__doc__, file=sys.stderr)
        return 2
    with open(sys.argv[2], "rb") as src, open(sys.argv[3], "wb") as dst:
        MODES[sys.argv[1]](src, dst)
    return 0


if __name__ == "__main__":
    sys.exit(main())
