#!/usr/bin/env bash
# A word count written as closures on the engine (examples/closure_wordcount:
# one closure call per line, an emit per word, `Emit<&[u8], u64>`, a summing
# combiner) against the same count as a plain rayon fold into ahash maps
# over line-aligned 1 MiB chunks (examples/rayon_fold), at each thread
# count (issue 14's "at least 1.5x faster than the rayon fold").
#
#   benches/closure.sh [--size 256M] [--runs 5] [--threads "1 2"]
#                      [--scratch DIR]
#
# The input, made in the scratch folder (default
# ${TMPDIR:-/tmp}/mr-local-closure) unless there already, is
# `mr-local generate --size SIZE --seed 42` (a Zipf corpus). The two
# programs run alternately, --runs rounds, the first of the two alternating
# from round to round (RAYON_NUM_THREADS sets the threads of both); every
# output is compared with the rayon fold's (`cmp`). Printed, and written to
# benches/results/closure-DATE-HOST.md: the median wall time of each, the
# ratio rayon / engine (above 1: the engine is faster) and the peak RSS
# (/usr/bin/time). Builds the examples with `cargo build --release`
# (CARGO_TARGET_DIR is honoured).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

size=256M runs=5 threads="1 2"
scratch=${TMPDIR:-/tmp}/mr-local-closure
while [ $# -gt 0 ]; do
    case "$1" in
        --size) size=$2; shift 2 ;;
        --runs) runs=$2; shift 2 ;;
        --threads) threads=$2; shift 2 ;;
        --scratch) scratch=$2; shift 2 ;;
        *) sed -n '2,20p' "$0" >&2; exit 2 ;;
    esac
done

target=${CARGO_TARGET_DIR:-target}
cargo build --release --quiet --bin mr-local --example closure_wordcount --example rayon_fold
mkdir -p "$scratch"
input=$scratch/corpus-$size.txt
if [ ! -s "$input" ]; then
    echo "making $input" >&2
    "$target/release/mr-local" generate --size "$size" --seed 42 -o "$input.part"
    mv "$input.part" "$input"
fi

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# run PROGRAM THREADS: one timed run; prints "seconds rss_kb"; output to
# $scratch/PROGRAM.out.
run() {
    local out=$scratch/$1.out times=$scratch/time.txt
    RAYON_NUM_THREADS=$2 /usr/bin/time -f '%e %M' -o "$times" \
        "$target/release/examples/$1" "$input" >"$out"
    cat "$times"
}

host=$(hostname -s 2>/dev/null || echo host)
file=benches/results/closure-$(date +%F)-$host.md
cpu=$(lscpu | sed -n 's/^Model name: *//p' | head -1)
rows=()
for t in $threads; do
    declare -A secs=() rss=()
    for round in $(seq "$runs"); do
        order=(rayon_fold closure_wordcount)
        [ $((round % 2)) -eq 0 ] && order=(closure_wordcount rayon_fold)
        for program in "${order[@]}"; do
            read -r s m < <(run "$program" "$t")
            secs[$program]+="$s " rss[$program]=$m
        done
        cmp -s "$scratch/rayon_fold.out" "$scratch/closure_wordcount.out" ||
            { echo "MISMATCH at $t threads, round $round" >&2; exit 1; }
    done
    fold=$(tr ' ' '\n' <<<"${secs[rayon_fold]}" | grep . | median)
    engine=$(tr ' ' '\n' <<<"${secs[closure_wordcount]}" | grep . | median)
    ratio=$(awk -v a="$fold" -v b="$engine" 'BEGIN { printf "%.2f", a / b }')
    rows+=("| $t | $fold | $engine | $ratio | $((rss[rayon_fold] / 1024)) | $((rss[closure_wordcount] / 1024)) |")
    echo "${rows[-1]}"
done

{
    echo "# A closure word count on the engine against a rayon fold ($(date +%F))"
    echo
    echo "Machine: $(nproc) cores, $cpu, $host. Input: \`mr-local generate --size $size --seed 42\` ($(stat -c %s "$input") bytes). Medians of $runs alternating runs, whole process wall time; outputs compared on every run (equal). Ratio = rayon fold's time / the engine's: above 1 means the engine is faster."
    echo
    echo "| threads | rayon fold s | engine s | ratio | rayon fold RSS MB | engine RSS MB |"
    echo "| ---: | ---: | ---: | ---: | ---: | ---: |"
    printf '%s\n' "${rows[@]}"
} >"$file"
echo "wrote $file" >&2
