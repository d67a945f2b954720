#!/usr/bin/env bash
# Compressed inputs (issue 16): word count of kjv x50 (217 MB) read from
# gzip and zstd files, against the plain file and against decompressing
# with the system's tool into a pipe; members decoded in parallel at 1 and
# 2 threads; and peak RSS as the decoded stream grows.
#
#   benches/compressed.sh [--copies 50] [--runs 5] [--threads 2]
#                         [--rss-copies "120 240"] [--scratch DIR]
#                         [--datasets DIR]
#
# Inputs, made in the scratch folder (default ${TMPDIR:-/tmp}/mr-local-compressed)
# unless there already: kjvK.txt (kjvbible.txt K times), kjvK.gz (gzip -6,
# one member), kjvK-members.gz (kjv gzipped once, K times over: what
# concatenated .gz files are), kjvK.zst (zstd -3, one frame) and
# kjvK-frames.zst (K frames). Each case's commands run alternately, --runs
# rounds, each round's order rotated; the median wall time of each is
# printed, with the ratio the issue's target is about. Every output is
# checked against the plain file's. The RSS rows run
# `wordcount --memory 64M` on zstd files of the given copies (120 copies
# decode to 520 MB, 240 to 1 GB) and print the peak RSS (/usr/bin/time -v):
# it should not grow with the input. The 1-thread runs are also made
# pinned to one core (taskset -c 0). Results go to stdout and to
# benches/results/compressed-DATE-HOST.md. Needs a release build.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

copies=50 runs=5 threads=2 rss_copies="120 240"
scratch=${TMPDIR:-/tmp}/mr-local-compressed
datasets=../shared/datasets
while [ $# -gt 0 ]; do
    case "$1" in
        --copies) copies=$2; shift 2 ;;
        --runs) runs=$2; shift 2 ;;
        --threads) threads=$2; shift 2 ;;
        --rss-copies) rss_copies=$2; shift 2 ;;
        --scratch) scratch=$2; shift 2 ;;
        --datasets) datasets=$2; shift 2 ;;
        *) sed -n '2,24p' "$0" >&2; exit 2 ;;
    esac
done

bin=${MR_LOCAL:-target/release/mr-local}
[ -x "$bin" ] || { echo "$0: build first: cargo build --release" >&2; exit 1; }
mkdir -p "$scratch"
kjv=$datasets/kjvbible.txt
[ -f "$kjv" ] || { echo "$0: $kjv not found (--datasets DIR)" >&2; exit 1; }

repeat() { # repeat FILE K: FILE K times on stdout
    local i
    for ((i = 0; i < $2; i++)); do cat "$1"; done
}
make_inputs() { # make_inputs K
    local k=$1 base=$scratch/kjv$1
    [ -f "$base.txt" ] || repeat "$kjv" "$k" > "$base.txt"
    [ -f "$base.gz" ] || gzip -6 -c "$base.txt" > "$base.gz"
    [ -f "$base.zst" ] || zstd -3 -q -c "$base.txt" > "$base.zst"
    [ -f "$scratch/kjv1.gz" ] || gzip -6 -c "$kjv" > "$scratch/kjv1.gz"
    [ -f "$scratch/kjv1.zst" ] || zstd -3 -q -c "$kjv" > "$scratch/kjv1.zst"
    [ -f "$base-members.gz" ] || repeat "$scratch/kjv1.gz" "$k" > "$base-members.gz"
    [ -f "$base-frames.zst" ] || repeat "$scratch/kjv1.zst" "$k" > "$base-frames.zst"
}
make_inputs "$copies"
base=$scratch/kjv$copies
want=$("$bin" wordcount "$base.txt" | sha256sum)

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# time_cases NAME... : each NAME is a shell command in the array CMD; runs
# them alternately and sets MEDIAN[NAME].
declare -A CMD MEDIAN
time_cases() {
    local names=("$@") n=$# round i j name t out
    declare -A times
    for ((round = 0; round < runs; round++)); do
        for ((j = 0; j < n; j++)); do
            name=${names[(round + j) % n]}
            out=$scratch/out.txt
            t=$( { /usr/bin/time -f %e bash -c "${CMD[$name]} > $out" ; } 2>&1 | tail -1)
            [ "$(sha256sum < "$out")" = "$want" ] || echo "MISMATCH: $name" >&2
            times[$name]+="$t "
        done
    done
    for name in "${names[@]}"; do
        MEDIAN[$name]=$(tr ' ' '\n' <<< "${times[$name]}" | grep . | median)
    done
}

rows=()
row() { rows+=("$(printf '| %s | %s | %s |' "$@")"); echo "${rows[-1]}"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
t=$threads
CMD[plain]="$bin wordcount --threads $t $base.txt"
CMD[zcat]="gzip -dc $base.gz | $bin wordcount --threads $t -"
CMD[gz]="$bin wordcount --threads $t $base.gz"
CMD[zst]="$bin wordcount --threads $t $base.zst"
time_cases plain zcat gz zst
row "plain file, $t threads" "${MEDIAN[plain]} s" ""
row "gzip -dc x.gz \| mr-local -, $t threads" "${MEDIAN[zcat]} s" ""
row "x.gz (one member), $t threads" "${MEDIAN[gz]} s" "$(ratio "${MEDIAN[gz]}" "${MEDIAN[zcat]}")x the pipe (target <= 0.6)"
row "x.zst (one frame), $t threads" "${MEDIAN[zst]} s" "$(ratio "${MEDIAN[zst]}" "${MEDIAN[plain]}")x plain (target <= 1.5)"

CMD[gz1]="$bin wordcount --threads 1 $base-members.gz"
CMD[gzt]="$bin wordcount --threads $t $base-members.gz"
CMD[zst1]="$bin wordcount --threads 1 $base-frames.zst"
CMD[zstt]="$bin wordcount --threads $t $base-frames.zst"
# At 1 thread the reader thread decodes beside the mapping thread, on a
# second core where there is one: pinned to one core, the same run shows
# what decoding on every thread buys.
CMD[gz1c]="taskset -c 0 $bin wordcount --threads 1 $base-members.gz"
CMD[zst1c]="taskset -c 0 $bin wordcount --threads 1 $base-frames.zst"
time_cases gz1 gzt zst1 zstt gz1c zst1c
row "$copies-member gzip, 1 thread" "${MEDIAN[gz1]} s" ""
row "$copies-member gzip, $t threads" "${MEDIAN[gzt]} s" "$(ratio "${MEDIAN[gz1]}" "${MEDIAN[gzt]}")x faster than 1 thread (target >= 1.6)"
row "$copies-frame zstd, 1 thread" "${MEDIAN[zst1]} s" ""
row "$copies-frame zstd, $t threads" "${MEDIAN[zstt]} s" "$(ratio "${MEDIAN[zst1]}" "${MEDIAN[zstt]}")x faster than 1 thread (target >= 1.6)"
row "$copies-member gzip, 1 thread on 1 core" "${MEDIAN[gz1c]} s" "$t threads $(ratio "${MEDIAN[gz1c]}" "${MEDIAN[gzt]}")x faster"
row "$copies-frame zstd, 1 thread on 1 core" "${MEDIAN[zst1c]} s" "$t threads $(ratio "${MEDIAN[zst1c]}" "${MEDIAN[zstt]}")x faster"

for k in $rss_copies; do
    [ -f "$scratch/kjv$k.zst" ] || repeat "$kjv" "$k" | zstd -3 -q -c > "$scratch/kjv$k.zst"
    rss=$( { /usr/bin/time -v "$bin" wordcount --memory 64M --threads "$t" "$scratch/kjv$k.zst" > /dev/null; } 2>&1 \
        | awk '/Maximum resident/ { print $NF }')
    row "peak RSS, --memory 64M, zstd decoding to $((k * 4332506 / 1000000)) MB" "$((rss / 1024)) MiB" ""
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

out=benches/results/compressed-$(date +%F)-$(hostname).md
{
    echo "# Compressed inputs, $(date +%F), $(hostname), $(nproc) cores"
    echo
    echo "kjv x$copies ($(stat -c %s "$base.txt") bytes), medians of $runs alternating runs, release build."
    echo
    echo "| case | median | |"
    echo "| --- | --- | --- |"
    printf '%s\n' "${rows[@]}"
} > "$out"
echo "written to $out"
