#!/usr/bin/env python3
"""Run a command; write its wall seconds and peak RSS, for benches/compare.sh.

Used only where /usr/bin/time (GNU time) is missing and cannot be installed.

    measure.py RESULT_FILE COMMAND [ARGS...]

RESULT_FILE gets one line, `<wall seconds> <peak RSS in KiB>`. The peak RSS
is ru_maxrss of the waited-for children, like GNU time's %M: for a pipeline
run through a shell, the largest single process, not the sum. Caveat: a
forked child counts the pages it shares with this Python process until it
execs, so values below this interpreter's own RSS (some 10-15 MiB) say only
"small". The exit status is the command's (128 + signal if it was killed).
"""

import resource
import subprocess
import sys
import time


def main() -> int:
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    result_file, command = sys.argv[1], sys.argv[2:]
    start = time.perf_counter()
    status = subprocess.call(command)
    wall = time.perf_counter() - start
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KiB on Linux
    with open(result_file, "w") as f:
        f.write(f"{wall:.6f} {peak_kib}\n")
    return 128 - status if status < 0 else status


if __name__ == "__main__":
    sys.exit(main())
