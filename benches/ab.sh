#!/usr/bin/env bash
# A/B: two builds of mr-local, alternating, on the same commands and inputs.
#
# Usage: benches/ab.sh [--runs K] [--threads "1 2"] [--commands "wordcount invert sort"]
#                      A_BINARY B_BINARY INPUT...
#
# For every input and thread count, runs the commands (by default
# `wordcount`, word count's own table, and `invert` and `sort`, two jobs
# through the generic engine: `Emit`, the per-thread buffers and the
# shuffle) K times (default 5) with each binary, A and B
# taking turns (A first on odd rounds, B first on even ones), so that noise
# on a shared machine falls on both alike. Each run's output is checked
# against the first A run's (sha256); a difference is a loud MISMATCH. Prints
# one line per (command, input, threads): the median wall seconds of A and B
# and B/A (below 1: B is faster).
#
# Example: benches/ab.sh --runs 7 /tmp/old/mr-local target/release/mr-local \
#            /tmp/kjv10.txt /tmp/zipf1g.txt
set -euo pipefail

RUNS=5
THREADS="1 $(nproc)"
COMMANDS="wordcount invert sort"
while [[ $# -gt 0 ]]; do
    case $1 in
        --runs) RUNS=${2:?}; shift 2 ;;
        --threads) THREADS=${2:?}; shift 2 ;;
        --commands) COMMANDS=${2:?}; shift 2 ;;
        -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
        *) break ;;
    esac
done
[[ $# -ge 3 ]] || { sed -n '2,19p' "$0" >&2; exit 2; }
A=$1 B=$2
shift 2
SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/mr-local-ab.XXXXXX")
trap 'rm -rf "$SCRATCH"' EXIT

# Runs one command, prints its wall seconds; its output goes to $SCRATCH/out.
timed() {
    local start end
    start=$(date +%s.%N)
    "$@" > "$SCRATCH/out"
    end=$(date +%s.%N)
    echo "$end - $start" | bc
}

median() {
    sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

echo "A: $A"
echo "B: $B"
echo "CPU: $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) cores"
printf '%-10s %-14s %7s %9s %9s %6s\n' command input threads "A s" "B s" "B/A"
for input in "$@"; do
    for threads in $THREADS; do
        for command in $COMMANDS; do
            : > "$SCRATCH/a" ; : > "$SCRATCH/b"
            expected=
            for round in $(seq "$RUNS"); do
                order="A B"
                (( round % 2 == 0 )) && order="B A"
                for who in $order; do
                    bin=$A; [[ $who == B ]] && bin=$B
                    t=$(timed "$bin" "$command" --threads "$threads" "$input")
                    sum=$(sha256sum < "$SCRATCH/out" | cut -d' ' -f1)
                    [[ -z $expected ]] && expected=$sum
                    if [[ $sum != "$expected" ]]; then
                        echo "MISMATCH: $who $command $input --threads $threads" >&2
                    fi
                    echo "$t" >> "$SCRATCH/${who,,}"
                done
            done
            a=$(median < "$SCRATCH/a")
            b=$(median < "$SCRATCH/b")
            printf '%-10s %-14s %7s %9.3f %9.3f %6.3f\n' "$command" "$(basename "$input")" \
                "$threads" "$a" "$b" "$(echo "$b / $a" | bc -l)"
        done
    done
done
