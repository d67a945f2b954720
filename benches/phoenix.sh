#!/usr/bin/env bash
# Phoenix++ 1.0's own suite, against our ports of it (examples/), on the same
# inputs, alternating, at 1 and 2 threads.
#
# Usage: benches/phoenix.sh [OPTIONS]
#
#   --runs K        timed runs of each program per app and thread count
#                   (default 5); the median is reported
#   --threads "..." thread counts (default "1 2")
#   --apps "..."    any of: histogram linear_regression string_match
#                   word_count kmeans pca matrix_multiply (default all)
#   --quick         smoke test: small inputs, 1 run (flags given explicitly
#                   still win); results go to phoenix-DATE-quick.md
#   --shared DIR    the shared folder with peers/build-phoenix.sh (default
#                   ../shared from the repository root)
#   --scratch DIR   Phoenix++'s build, the inputs and the outputs (default
#                   ${TMPDIR:-/tmp}/mr-local-phoenix); inputs are kept there
#                   and reused when their size is right
#   -h, --help      this text
#
# WHAT IT DOES
# 1. Builds Phoenix++ with ../shared/peers/build-phoenix.sh (from the
#    repository root); where ../shared is absent it says so and exits 0.
#    Builds our examples with `cargo build --release --examples`
#    (CARGO_TARGET_DIR is honoured).
# 2. Generates the inputs (sizes in binary units; --quick in brackets):
#      histogram          a 24-bit BMP, 54-byte header, /dev/urandom pixels,
#                         1 GiB [8 MiB]
#      linear_regression  /dev/urandom as (x, y) signed-byte pairs, 1 GiB
#                         [8 MiB]
#      word_count         `mr-local generate --size 512M --seed 42` (a Zipf
#                         corpus) [4 MiB]
#      string_match       that corpus twice, one word a line (`tr -cs
#                         A-Za-z '\n'`), the four keys inserted every 997th
#                         to 1021st line, cut to 512 MiB [4 MiB]
#      kmeans             -d 3 -c 100 -p 200000 -s 1000 [-p 20000 -c 20]
#      pca                -r 1000 -c 1000 -s 100 [-r 200 -c 200]: the most
#                         Phoenix++ takes (its arrays hold 1000 means and
#                         10^6 covariances; beyond, it crashes)
#      matrix_multiply    side 2000, files written once by Phoenix++ (`2000
#                         1 create`, untimed) and then read by both [side 150]
#    The last three generate their data themselves (glibc rand(), seed 1;
#    matrix_multiply's files are shared). Their sizes are meant to take a
#    few seconds a run: one-off Phoenix++ runs at 2 threads on the 2-core
#    machine (load average 8) took 2.0 s for kmeans at -p 100000, 0.35 s
#    for pca at 1000 x 1000 and 0.37 s for matrix_multiply at side 1000, and
#    the sizes above are 2x, 1x and 8x those. Override them with
#    PHX_KMEANS_ARGS, PHX_PCA_ARGS, PHX_MM_SIDE.
# 3. Runs Phoenix++ (threads: MR_NUMTHREADS) and ours (RAYON_NUM_THREADS,
#    which Job::builder() honours) alternately, the first of the two
#    alternating from run to run: wall time in milliseconds (`date +%s%N`
#    around the command), peak RSS from `/usr/bin/time -f %M`, stdout to a
#    file, stderr dropped.
# 4. Checks every run's output against Phoenix++'s: byte for byte, except
#    string_match, where Phoenix++ prints two lines and reports no match (a
#    stray `;` in its map; see examples/string_match.rs): its two lines must
#    be our first two, and our counts must equal `LC_ALL=C grep -cxF KEY`
#    on the input (which has no `\r` and no 0xFB byte, so the two agree). A
#    difference prints MISMATCH and marks the row; the run goes on.
# 5. Prints and writes benches/results/phoenix-DATE.md (medians, ratio =
#    ours / Phoenix++'s time, < 1 means ours is faster, peak RSS of each)
#    and phoenix-DATE.svg, a chart of the ratios (benches/phoenix_report.py).
#
# An app whose example does not exist is reported as "skipped: no example".
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
runs=5 threads="1 2" quick=0 scratch="${TMPDIR:-/tmp}/mr-local-phoenix"
apps="histogram linear_regression string_match word_count kmeans pca matrix_multiply"
runs_set=0 shared="$root/../shared"
while [ $# -gt 0 ]; do
    case "$1" in
        --runs) runs=$2; runs_set=1; shift 2 ;;
        --threads) threads=$2; shift 2 ;;
        --apps) apps=$2; shift 2 ;;
        --quick) quick=1; shift ;;
        --scratch) scratch=$2; shift 2 ;;
        --shared) shared=$2; shift 2 ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "phoenix.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
[ "$quick" = 1 ] && [ "$runs_set" = 0 ] && runs=1

say() { echo "phoenix.sh: $*" >&2; }

build_script="$shared/peers/build-phoenix.sh"
if [ ! -f "$build_script" ]; then
    say "$shared is absent (no peers/build-phoenix.sh): no Phoenix++ to compare with; nothing run"
    exit 0
fi
for tool in /usr/bin/time python3 cargo; do
    command -v "$tool" >/dev/null || { say "needs $tool"; exit 1; }
done

mkdir -p "$scratch"
scratch=$(cd "$scratch" && pwd)
say "building Phoenix++ into $scratch/phoenix"
phx=$(bash "$build_script" "$scratch/phoenix" | tail -n 1)
say "building our examples (release)"
(cd "$root" && cargo build --release --quiet --bin mr-local --examples)
target="${CARGO_TARGET_DIR:-$root/target}"
case "$target" in /*) ;; *) target="$root/$target" ;; esac
ours="$target/release/examples"
mr_local="$target/release/mr-local"

# Sizes.
if [ "$quick" = 1 ]; then
    big=$((8 << 20)) text=$((4 << 20))
    kmeans_args=${PHX_KMEANS_ARGS:--d 3 -c 20 -p 20000 -s 1000}
    pca_args=${PHX_PCA_ARGS:--r 200 -c 200 -s 100}
    mm_side=${PHX_MM_SIDE:-150}
else
    big=$((1 << 30)) text=$((512 << 20))
    kmeans_args=${PHX_KMEANS_ARGS:--d 3 -c 100 -p 200000 -s 1000}
    pca_args=${PHX_PCA_ARGS:--r 1000 -c 1000 -s 100}
    mm_side=${PHX_MM_SIDE:-2000}
fi
inputs="$scratch/inputs"
mkdir -p "$inputs"

size_of() { stat -c %s "$1" 2>/dev/null || echo 0; }

make_bmp() { # FILE BYTES
    local file=$1 bytes=$2
    # Width 1024 pixels (rows of 3072 bytes need no padding).
    local height=$((bytes / 3072)) data
    data=$((height * 3072))
    [ "$(size_of "$file")" = $((data + 54)) ] && return 0
    say "generating $file: a 1024 x $height 24-bit BMP of random pixels"
    python3 - "$file" "$height" "$data" <<'EOF'
import struct, sys
path, height, data = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
header = b"BM" + struct.pack("<IHHI", 54 + data, 0, 0, 54)
header += struct.pack("<IiiHHIIiiII", 40, 1024, height, 1, 24, 0, data, 2835, 2835, 0, 0)
open(path, "wb").write(header)
EOF
    head -c "$data" /dev/urandom >>"$file"
}

make_random() { # FILE BYTES
    [ "$(size_of "$1")" = "$2" ] && return 0
    say "generating $1: $2 bytes of /dev/urandom"
    head -c "$2" /dev/urandom >"$1"
}

make_corpus() { # FILE BYTES
    [ "$(size_of "$1")" = "$2" ] && return 0
    say "generating $1: mr-local generate --size $2 --seed 42"
    "$mr_local" generate --size "$2" --seed 42 -o "$1"
    [ "$(size_of "$1")" = "$2" ] || truncate -s "$2" "$1"
}

make_words() { # FILE BYTES CORPUS
    [ "$(size_of "$1")" = "$2" ] && return 0
    say "generating $1: one word a line, with the four keys"
    # The corpus twice: its words alone are a few percent shorter than it.
    # head closes the pipe early, so the others' SIGPIPE is expected.
    cat "$3" "$3" | tr -cs 'A-Za-z' '\n' | awk '
        NR % 997 == 0 { print "Helloworld" }
        NR % 1009 == 0 { print "howareyou" }
        NR % 1013 == 0 { print "ferrari" }
        NR % 1021 == 0 { print "whotheman" }
        { print }' | head -c "$2" >"$1" || true
    [ "$(size_of "$1")" = "$2" ] || { say "$1: not $2 bytes"; exit 1; }
}

# app -> Phoenix++ binary, our example, arguments.
phoenix_bin() { echo "$phx/$1/$1"; }
example_of() { [ "$1" = histogram ] && echo pixel_histogram || echo "$1"; }

prepare() { # APP: generates its input, sets $args and $workdir
    local app=$1
    workdir="$scratch/work/$app"
    mkdir -p "$workdir"
    case "$app" in
        histogram) make_bmp "$inputs/image-$big.bmp" "$big"; args="$inputs/image-$big.bmp" ;;
        linear_regression) make_random "$inputs/points-$big.bin" "$big"; args="$inputs/points-$big.bin" ;;
        word_count) make_corpus "$inputs/corpus-$text.txt" "$text"; args="$inputs/corpus-$text.txt" ;;
        string_match)
            make_corpus "$inputs/corpus-$text.txt" "$text"
            make_words "$inputs/words-$text.txt" "$text" "$inputs/corpus-$text.txt"
            args="$inputs/words-$text.txt" ;;
        kmeans) args=$kmeans_args ;;
        pca) args=$pca_args ;;
        matrix_multiply)
            say "writing the $mm_side x $mm_side matrices (Phoenix++, untimed)"
            (cd "$workdir" && rm -f matrix_file_A.txt matrix_file_B.txt &&
                "$(phoenix_bin matrix_multiply)" "$mm_side" 1 create >/dev/null 2>&1)
            args="$mm_side 1" ;;
    esac
}

# Runs one program once: PROG(phoenix|ours) APP THREADS OUTFILE; appends
# "seconds rss_kb" to stdout.
run_one() {
    local prog=$1 app=$2 t=$3 out=$4 bin env
    if [ "$prog" = phoenix ]; then
        bin=$(phoenix_bin "$app") env="MR_NUMTHREADS=$t"
    else
        bin="$ours/$(example_of "$app")" env="RAYON_NUM_THREADS=$t"
    fi
    local start end
    start=$(date +%s%N)
    # shellcheck disable=SC2086 # $args is a list of arguments
    (cd "$workdir" && /usr/bin/time -f "%M" -o "$out.time" \
        env "$env" "$bin" $args >"$out" 2>/dev/null) ||
        { say "$prog $app at $t threads failed"; echo "fail 0"; return 0; }
    end=$(date +%s%N)
    printf '%d.%03d %s\n' $(((end - start) / 1000000000)) $(((end - start) / 1000000 % 1000)) "$(tail -n 1 "$out.time")"
}

# Compares our output with Phoenix++'s (see 4. above): prints ok or MISMATCH.
check() { # APP PHOENIX_OUT OURS_OUT
    local app=$1 theirs=$2 mine=$3
    if [ "$app" = string_match ]; then
        head -n 2 "$mine" | cmp -s - "$theirs" || { echo MISMATCH; return; }
        local key n
        while IFS=$'\t' read -r key n; do
            [ "$(LC_ALL=C grep -cxF "$key" "$args")" = "$n" ] || { echo MISMATCH; return; }
        done < <(tail -n +3 "$mine")
        echo ok
    else
        cmp -s "$theirs" "$mine" && echo ok || echo MISMATCH
    fi
}

raw="$scratch/raw.tsv"
printf 'app\tthreads\tprogram\tseconds\trss_kb\tcheck\targs\n' >"$raw"
outs="$scratch/out"
mkdir -p "$outs"
for app in $apps; do
    if [ ! -f "$root/examples/$(example_of "$app").rs" ]; then
        say "$app: skipped: no example"
        printf '%s\t-\tskipped\t-\t-\tskipped: no example\t-\n' "$app" >>"$raw"
        continue
    fi
    prepare "$app"
    for t in $threads; do
        for run in $(seq 1 "$runs"); do
            order="phoenix ours"
            [ $((run % 2)) = 0 ] && order="ours phoenix"
            line=""
            for prog in $order; do
                read -r secs rss < <(run_one "$prog" "$app" "$t" "$outs/$app-$t-$prog")
                printf '%s\t%s\t%s\t%s\t%s\t\t%s\n' "$app" "$t" "$prog" "$secs" "$rss" "$args" >>"$raw"
                line="$line$prog ${secs}s ${rss}KB, "
            done
            verdict=$(check "$app" "$outs/$app-$t-phoenix" "$outs/$app-$t-ours")
            if [ "$verdict" != ok ]; then
                say "MISMATCH: $app at $t threads, run $run:"
                diff "$outs/$app-$t-phoenix" "$outs/$app-$t-ours" | head -n 5 >&2 || true
            fi
            printf '%s\t%s\tcheck\t-\t-\t%s\t-\n' "$app" "$t" "$verdict" >>"$raw"
            say "$app, $t threads, run $run: $line$verdict"
        done
    done
done

stamp=$(date -u +%Y-%m-%d)
suffix=""
[ "$quick" = 1 ] && suffix="-quick"
md="$root/benches/results/phoenix-$stamp$suffix.md"
svg="$root/benches/results/phoenix-$stamp$suffix.svg"
python3 "$here/phoenix_report.py" "$raw" "$md" "$svg" --runs "$runs" \
    --note "$([ "$quick" = 1 ] && echo 'QUICK smoke test: small inputs, 1 run; not a measurement.')"
cat "$md"
say "wrote $md and $svg"
