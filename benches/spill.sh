#!/usr/bin/env bash
# Out-of-core benchmark: an inverted index and a sort over a generated input
# several times larger than the memory budget. For each job it reports wall
# time, throughput, peak RSS (anonymous memory, which the budget bounds, and
# the total, which also counts the memory-mapped input's pages), and what was
# spilled; and the same job without a budget, for comparison.
#
#   benches/spill.sh [--size 1G] [--memory 128M] [--files 64] [--runs 1]
#
# Writes benches/results/spill-DATE-HOST.md. Needs a release build
# (`cargo build --release`) and room for about 3x --size under $TMPDIR.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

size=1G memory=128M files=64 runs=1
while [ $# -gt 0 ]; do
    case "$1" in
        --size) size=$2; shift 2 ;;
        --memory) memory=$2; shift 2 ;;
        --files) files=$2; shift 2 ;;
        --runs) runs=$2; shift 2 ;;
        *) echo "usage: $0 [--size BYTES] [--memory BYTES] [--files N] [--runs N]" >&2; exit 2 ;;
    esac
done

bin=target/release/mr-local
[ -x "$bin" ] || { echo "$0: build first: cargo build --release" >&2; exit 1; }
work=$(mktemp -d "${TMPDIR:-/tmp}/mr-local-spill-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT

# The input: FILES documents of SIZE/FILES bytes each, each from its own seed,
# with a large vocabulary so that the index is large too.
calc() { python3 -c "print($1)"; }
bytes=$(python3 -c "
import sys; units={'K':1<<10,'M':1<<20,'G':1<<30}
s=sys.argv[1]; print(int(float(s[:-1])*units[s[-1]]) if s[-1] in units else int(s))" "$size")
per=$((bytes / files))
echo "generating $files files of $per bytes in $work" >&2
for i in $(seq 1 "$files"); do
    "$bin" generate --size "$per" --seed "$i" --vocabulary 2000000 -o "$work/doc-$i.txt"
done

# Runs a command, sampling its anonymous and total RSS every 50 ms; prints
# "seconds peak_anon_kib peak_rss_kib".
measure() {
    local start end pid peak_anon=0 peak_rss=0 a r
    start=$(date +%s.%N)
    "$@" &
    pid=$!
    while kill -0 "$pid" 2>/dev/null; do
        a=$(awk '/^RssAnon/{print $2}' "/proc/$pid/status" 2>/dev/null || true)
        r=$(awk '/^VmRSS/{print $2}' "/proc/$pid/status" 2>/dev/null || true)
        [ -n "$a" ] && [ "$a" -gt "$peak_anon" ] && peak_anon=$a
        [ -n "$r" ] && [ "$r" -gt "$peak_rss" ] && peak_rss=$r
        sleep 0.05
    done
    wait "$pid"
    end=$(date +%s.%N)
    echo "$(calc "$end - $start") $peak_anon $peak_rss"
}

json_field() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$1" "$2"; }

out=benches/results/spill-$(date +%Y-%m-%d)-$(hostname -s).md
{
    echo "# Out-of-core: inverted index and sort over $size in $files files"
    echo
    echo "Machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB RAM. Budget: --memory $memory."
    echo "Input: \`mr-local generate --size $per --seed N --vocabulary 2000000\`, N = 1..$files."
    echo "Peak anonymous RSS is what the budget bounds; total RSS also counts"
    echo "the pages of the memory-mapped input, which the kernel can drop."
    echo
    echo "| job | budget | seconds | MB/s | peak anon RSS (MiB) | peak total RSS (MiB) | spilled (MiB) | runs |"
    echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"
} > "$out"

for job in invert sort; do
    for budget in "$memory" none; do
        for run in $(seq 1 "$runs"); do
            flags=()
            [ "$budget" != none ] && flags=(--memory "$budget" --tmp-dir "$work")
            read -r secs anon rss < <(measure "$bin" "$job" "${flags[@]}" --stats-json "$work/stats.json" \
                -o "$work/out.txt" "$work"/doc-*.txt)
            spilled=$(json_field "$work/stats.json" spilled_bytes)
            nruns=$(json_field "$work/stats.json" spill_runs)
            printf '| %s | %s | %.2f | %.0f | %.0f | %.0f | %.0f | %s |\n' "$job" "$budget" "$secs" \
                "$(calc "$bytes / $secs / 1e6")" "$(calc "$anon / 1024")" \
                "$(calc "$rss / 1024")" "$(calc "$spilled / 1048576")" "$nruns" >> "$out"
            if [ "$job" = sort ] && [ "$budget" != none ] && [ "$run" = 1 ]; then
                LC_ALL=C sort "$work"/doc-*.txt | cmp -s - "$work/out.txt" \
                    && echo "sort output checked against LC_ALL=C sort: identical" >&2 \
                    || { echo "$0: sort output differs from LC_ALL=C sort" >&2; exit 1; }
            fi
        done
    done
done
echo "wrote $out" >&2
cat "$out"
