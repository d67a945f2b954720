#!/usr/bin/env bash
# Side-by-side word count throughput: mr-local against the tools a user would
# otherwise pick, on the same machine and inputs, in one run. Also, by input
# name: bigram counts and line sorts (JOBS below).
#
# Usage: benches/compare.sh [OPTIONS]
#
#   --runs K          timed runs of every tool on every input (default 5)
#   --warmup K        untimed rounds first, outputs still checked (default 1)
#   --threads "1 N"   thread counts for the tools that have threads
#                     (default "1 $(nproc)")
#   --inputs "..."    kjv10 zipf1g dickens10 by default. Names: kjvK and
#                     dickensK (the shared dataset concatenated K times),
#                     zipfSIZE (e.g. zipf20m, zipf1g: `mr-local generate
#                     --size SIZE --seed 42`), or a path to a file (no
#                     spaces in it). seqN (e.g. seq20m: `seq 1 20000000`,
#                     k and m decimal) has a distinct key on every line.
#                     vocabV-SIZE (e.g. vocab10m-1g: `mr-local generate
#                     --size 1g --vocabulary 10000000 --seed 42`; V in
#                     decimal k and m, SIZE as for zipf) has millions of
#                     distinct words. A name with the prefix bigrams- or
#                     sort- (bigrams-zipf200m, sort-zipf1g) runs that job
#                     on the input the rest names (see JOBS).
#   --tools "..."     any of: mr-local baseline duckdb polars coreutils
#                     (default all)
#   --split MODE      alphanumeric (default) or whitespace: the word
#                     definition, for every tool (see WORDS below); bigrams
#                     rows take alphanumeric only, sort rows ignore it
#   --sort-buffer S   GNU sort's -S on sort rows (default: twice the input
#                     plus 256 MiB, so that it sorts in memory)
#   --quick           smoke test: 1 run, no warm-up, inputs "kjv1 zipf20m"
#                     (flags given explicitly still win)
#   --out FILE        the results file (default
#                     benches/results/compare-<date>-<hostname>.md, with
#                     -quick before .md for --quick)
#   --scratch DIR     scratch folder for inputs and outputs
#                     (default ${TMPDIR:-/tmp}/mr-local-compare)
#   --datasets DIR    the shared datasets (default ../shared/datasets from
#                     the repository root)
#   --build           run `cargo build --release` (and the baseline example)
#                     first, even if the binaries exist
#   --no-install      do not create the Python venv or pip install into it;
#                     DuckDB/Polars run only if they already import
#   -h, --help        this text
#
# Environment: MR_LOCAL=path (the mr-local binary to measure; default
# target/release/mr-local, built if missing), MR_LOCAL_BASELINE=path (default
# target/release/examples/hashmap_baseline, built if missing),
# MR_LOCAL_BIGRAMS=path (default target/release/examples/bigrams, built if
# missing and a bigrams- input is asked for),
# COMPARE_VENV=dir (default benches/compare/.venv), PYTHON (the python3 that
# creates the venv; default python3).
#
# WHAT IT DOES
# Round-robin: per input, run 1 of every (tool, threads) pair, then run 2 of
# every pair, and so on, the starting pair rotating from one run to the next,
# so that machine noise hits every tool alike. Every run's output is checked
# against mr-local's (sha256 of the whole `word<TAB>count` output, after
# normalising the coreutils format outside the timing); a difference prints a
# loud MISMATCH with the first differing line, marks the row, and the run
# goes on. The table (tool, threads, input, median wall seconds, MB/s =
# input bytes / median / 10^6, peak RSS, ratio to mr-local at the same thread
# count: tool time / mr-local time, >1 means mr-local is faster) is printed
# and written to the results file with the machine described at the top.
#
# TOOLS
#   mr-local   `mr-local wordcount --threads T [--split whitespace] INPUT`
#   baseline   `hashmap_baseline [--split whitespace] INPUT`: one thread, one
#              std HashMap (examples/hashmap_baseline.rs)
#   duckdb     benches/compare/duckdb_wordcount.py: lines via read_csv,
#              regexp_extract_all(lower(line)), GROUP BY, ORDER BY, COPY;
#              `SET threads = T`
#   polars     benches/compare/polars_wordcount.py: scan_csv lines, lowercase,
#              str.extract_all, explode, group_by/len, sort, streaming engine;
#              POLARS_MAX_THREADS=T set before import
#   coreutils  LC_ALL=C tr -cs 'A-Za-z0-9' '\n' | tr A-Z a-z |
#              sort --parallel=T | uniq -c | sort -k1,1nr -k2,2
#              (threads = GNU sort's --parallel; the other stages are
#              single-threaded but run concurrently with it)
# DuckDB and Polars come from PyPI into a venv (benches/compare/.venv); if
# that fails (no network), they are skipped with a message.
#
# JOBS
# Every input is counted as words unless its name has a job prefix:
#   bigrams-INPUT  pairs of consecutive words within a line (a line's last
#              word and the next line's first do not pair), written
#              `first second`, as `bigram<TAB>count` in word count's order.
#              mr-local: `examples/bigrams --threads T INPUT`, the library's
#              closure API (one closure per line, an emit per pair, a
#              summing combiner), not the CLI. duckdb, polars: the scripts
#              above with --bigrams (each line's word list paired with
#              itself shifted by one, unnested). coreutils: `LC_ALL=C awk`
#              (not coreutils, but the usual companion; it lowercases,
#              turns non-[a-z0-9] runs into spaces and prints each pair)
#              | sort --parallel=T | uniq -c | sort -k1,1nr -k2. No
#              baseline. Alphanumeric words only; on ASCII text with no
#              lone CR (DuckDB's reader ends lines there) all must be equal.
#   sort-INPUT   the input's lines sorted bytewise. mr-local: `mr-local
#              sort --threads T INPUT`; coreutils: `LC_ALL=C sort
#              --parallel=T -S SIZE INPUT` (see --sort-buffer; a peak RSS
#              below the input's size means GNU sort used temporary files,
#              and the run says so loudly). No baseline, DuckDB or Polars.
# The rows of issue 15 (many distinct keys), for example:
#   benches/compare.sh --inputs "seq20m vocab10m-1g bigrams-zipf200m"
#   benches/compare.sh --inputs "sort-zipf200m sort-zipf1g" --tools "mr-local coreutils"
#
# WORDS
# alphanumeric: [a-z0-9]+ after ASCII lowercasing in every tool; on ASCII
# text exactly what `mr-local wordcount` counts, so outputs must be equal.
# whitespace: runs of bytes other than TAB LF VT FF CR SPACE, lowercased; on
# ASCII text exactly `mr-local wordcount --split whitespace` (coreutils:
# tr -s ' \t\n\v\f\r' '\n' instead of the first tr).
# On text that is not ASCII the tools' rules differ from mr-local's (Unicode
# alphanumerics and lowercasing; invalid UTF-8 bytes separate words). Where a
# tool's output differs on an input that is not valid UTF-8, the script checks
# whether mr-local run on the text as that tool reads it gives the tool's
# output (DuckDB: lines with invalid UTF-8 dropped, as its reader can only
# skip them; Polars: invalid bytes as U+FFFD; tr and the baseline, which keep
# invalid bytes inside whitespace-split words: both sides with those bytes as
# U+FFFD), and says in the notes whether that explains the difference.

set -euo pipefail
export LC_ALL=C

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HERE=$ROOT/benches/compare
ALL_TOOLS="mr-local baseline duckdb polars coreutils"

die() { echo "compare.sh: $*" >&2; exit 2; }
say() { echo "compare.sh: $*" >&2; }
loud() { printf '\n!!!!!!!! %s\n' "$*" >&2; }
usage() { sed -n '2,/^$/{s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"; }

# ---------------------------------------------------------------- options
RUNS=5 WARMUP=1 THREADS="" INPUTS="kjv10 zipf1g dickens10" TOOLS=$ALL_TOOLS
SPLIT=alphanumeric QUICK=0 OUT="" BUILD=0 INSTALL=1 SORT_BUFFER=""
SCRATCH=${TMPDIR:-/tmp}/mr-local-compare
DATASETS=$ROOT/../shared/datasets
declare -A GIVEN=()
ORIG_ARGS=("$@")
while (($#)); do
    case $1 in
        --runs) RUNS=${2:?}; GIVEN[runs]=1; shift 2 ;;
        --warmup) WARMUP=${2:?}; GIVEN[warmup]=1; shift 2 ;;
        --threads) THREADS=${2:?}; shift 2 ;;
        --inputs) INPUTS=${2:?}; GIVEN[inputs]=1; shift 2 ;;
        --tools) TOOLS=${2:?}; shift 2 ;;
        --split) SPLIT=${2:?}; shift 2 ;;
        --sort-buffer) SORT_BUFFER=${2:?}; shift 2 ;;
        --quick) QUICK=1; shift ;;
        --out) OUT=${2:?}; shift 2 ;;
        --scratch) SCRATCH=${2:?}; shift 2 ;;
        --datasets) DATASETS=${2:?}; shift 2 ;;
        --build) BUILD=1; shift ;;
        --no-install) INSTALL=0; shift ;;
        -h | --help) usage; exit 0 ;;
        *) die "unknown argument '$1' (see --help)" ;;
    esac
done
if ((QUICK)); then
    [[ -n ${GIVEN[runs]:-} ]] || RUNS=1
    [[ -n ${GIVEN[warmup]:-} ]] || WARMUP=0
    [[ -n ${GIVEN[inputs]:-} ]] || INPUTS="kjv1 zipf20m"
fi
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "--runs wants a positive integer, not '$RUNS'"
[[ $WARMUP =~ ^[0-9]+$ ]] || die "--warmup wants an integer, not '$WARMUP'"
case $SPLIT in alphanumeric | whitespace) ;; *) die "--split is alphanumeric or whitespace, not '$SPLIT'" ;; esac
for t in $TOOLS; do [[ " $ALL_TOOLS " == *" $t "* ]] || die "unknown tool '$t' (tools: $ALL_TOOLS)"; done

NPROC=$(nproc)
[[ -n $THREADS ]] || THREADS="1 $NPROC"
THREAD_LIST=()
for t in $THREADS; do
    [[ $t =~ ^[1-9][0-9]*$ ]] || die "--threads wants positive integers, not '$t'"
    [[ " ${THREAD_LIST[*]} " == *" $t "* ]] || THREAD_LIST+=("$t")
done

HOST=$(hostname 2>/dev/null || cat /proc/sys/kernel/hostname)
DAY=$(date -u +%Y-%m-%d)
if [[ -z $OUT ]]; then
    OUT=$ROOT/benches/results/compare-$DAY-$HOST$( ((QUICK)) && echo -quick || true).md
fi
mkdir -p "$SCRATCH/out" "$(dirname "$OUT")"
SCRATCH=$(cd "$SCRATCH" && pwd)

has_tool() { [[ " $TOOLS " == *" $1 "* ]]; }
drop_tool() { # TOOL WHY
    local t kept=""
    for t in $TOOLS; do [[ $t == "$1" ]] || kept+="$t "; done
    TOOLS=${kept% }
    SKIPPED+=("$1: $2")
    loud "SKIPPING $1: $2"
}
SKIPPED=()

# ---------------------------------------------------------------- binaries
cd "$ROOT"
if [[ -n ${MR_LOCAL:-} ]]; then
    [[ -x $MR_LOCAL ]] || die "MR_LOCAL=$MR_LOCAL is not an executable"
else
    MR_LOCAL=$ROOT/target/release/mr-local
    if ((BUILD)) || [[ ! -x $MR_LOCAL ]]; then
        say "building mr-local: cargo build --release"
        cargo build --release --bin mr-local >&2 || die "cargo build --release failed"
    fi
fi
MR_LOCAL=$(realpath "$MR_LOCAL")
if has_tool baseline; then
    if [[ -n ${MR_LOCAL_BASELINE:-} ]]; then
        [[ -x $MR_LOCAL_BASELINE ]] || die "MR_LOCAL_BASELINE=$MR_LOCAL_BASELINE is not an executable"
    else
        MR_LOCAL_BASELINE=$ROOT/target/release/examples/hashmap_baseline
        if ((BUILD)) || [[ ! -x $MR_LOCAL_BASELINE ]]; then
            say "building the baseline: cargo build --release --example hashmap_baseline"
            cargo build --release --example hashmap_baseline >&2 ||
                drop_tool baseline "cargo build --release --example hashmap_baseline failed"
        fi
    fi
fi
if has_tool mr-local && [[ " $INPUTS " == *" bigrams-"* ]]; then
    if [[ -n ${MR_LOCAL_BIGRAMS:-} ]]; then
        [[ -x $MR_LOCAL_BIGRAMS ]] || die "MR_LOCAL_BIGRAMS=$MR_LOCAL_BIGRAMS is not an executable"
    else
        MR_LOCAL_BIGRAMS=$ROOT/target/release/examples/bigrams
        if ((BUILD)) || [[ ! -x $MR_LOCAL_BIGRAMS ]]; then
            say "building the bigram count: cargo build --release --example bigrams"
            cargo build --release --example bigrams >&2 || die "cargo build --release --example bigrams failed"
        fi
        [[ -x $MR_LOCAL_BIGRAMS ]] || die "no $MR_LOCAL_BIGRAMS after the build (CARGO_TARGET_DIR set? then give MR_LOCAL_BIGRAMS=path)"
    fi
    MR_LOCAL_BIGRAMS=$(realpath "$MR_LOCAL_BIGRAMS")
fi

# ---------------------------------------------------------------- timing
# Wall time is taken by this shell around the command (microseconds); peak
# RSS comes from GNU time's %M, or from measure.py where GNU time is missing.
if [[ ! -x /usr/bin/time ]] && command -v apt-get >/dev/null && [[ $(id -u) == 0 ]]; then
    say "/usr/bin/time is missing: apt-get install -y time"
    apt-get install -y time >&2 || { apt-get update >&2 && apt-get install -y time >&2; } || true
fi
SYS_PYTHON=${PYTHON:-python3}
if [[ -x /usr/bin/time ]] && /usr/bin/time -f %M -o /dev/null true 2>/dev/null; then
    RSS_TOOL=gnu-time
    RSS_HOW="GNU time %M (ru_maxrss)"
else
    command -v "$SYS_PYTHON" >/dev/null || die "neither GNU time (/usr/bin/time) nor $SYS_PYTHON is available to measure peak RSS"
    RSS_TOOL=python
    RSS_HOW="ru_maxrss of the children (benches/compare/measure.py, as GNU time is missing: values under ~15 MiB are the Python wrapper's own, the child's true peak is lower)"
fi

# ---------------------------------------------------------------- python
VENV=${COMPARE_VENV:-$HERE/.venv}
VPY=$VENV/bin/python
py_module_of() { case $1 in duckdb) echo duckdb ;; polars) echo polars ;; esac; }
if has_tool duckdb || has_tool polars; then
    missing=()
    for t in duckdb polars; do
        has_tool $t || continue
        [[ -x $VPY ]] && "$VPY" -c "import $(py_module_of $t)" 2>/dev/null || missing+=("$t")
    done
    if ((${#missing[@]})) && ((INSTALL)); then
        if [[ ! -x $VPY ]]; then
            say "creating the Python venv $VENV"
            "$SYS_PYTHON" -m venv "$VENV" >&2 || say "could not create the venv ($SYS_PYTHON -m venv)"
        fi
        if [[ -x $VPY ]]; then
            say "installing into the venv: pip install -r benches/compare/requirements.txt"
            "$VPY" -m pip install --quiet -r "$HERE/requirements.txt" >&2 || say "pip install failed"
        fi
    fi
    for t in duckdb polars; do
        has_tool $t || continue
        if ! { [[ -x $VPY ]] && "$VPY" -c "import $(py_module_of $t)" 2>/dev/null; }; then
            drop_tool $t "the Python package '$t' is not installed in $VENV (no network? try: $SYS_PYTHON -m venv $VENV && $VPY -m pip install -r benches/compare/requirements.txt)"
        fi
    done
fi
[[ -n $TOOLS ]] || die "no tool left to run"

# ---------------------------------------------------------------- inputs
generate() { # SIZE FILE [OPTION...]
    local size=$1 file=$2
    shift 2
    say "generating $file: mr-local generate --size $size --seed 42 $*"
    "$MR_LOCAL" generate --size "$size" --seed 42 "$@" -o "$file"
}
decimal() { # 10 m -> 10000000
    case $2 in k) echo $(($1 * 1000)) ;; m) echo $(($1 * 1000000)) ;; *) echo "$1" ;; esac
}
concat() { # FILE K DEST
    local src=$1 k=$2 dest=$3 i
    [[ -r $src ]] || die "missing dataset $src (see --datasets)"
    local want=$(($(stat -c %s "$src") * k))
    if [[ ! -f $dest || $(stat -c %s "$dest") != "$want" || $src -nt $dest ]]; then
        say "making $dest ($(basename "$src") x$k)"
        for ((i = 0; i < k; i++)); do cat "$src"; done >"$dest.part"
        mv "$dest.part" "$dest"
    fi
}
size_bytes() { # 20m -> 20971520 (binary units, like mr-local generate)
    local n=${1%[kKmMgG]} u=${1: -1}
    case $u in k | K) echo $((n << 10)) ;; m | M) echo $((n << 20)) ;; g | G) echo $((n << 30)) ;; *) echo "$1" ;; esac
}
# Sets path (and name, for a file) for the input named $name.
resolve_input() {
    local src k size n vocab
    if [[ $name =~ ^(kjv|dickens)([0-9]+)$ ]]; then
        src=$DATASETS/$([[ ${BASH_REMATCH[1]} == kjv ]] && echo kjvbible.txt || echo silesia-dickens.txt)
        k=${BASH_REMATCH[2]}
        ((k >= 1)) || die "input $name: K must be at least 1"
        [[ -r $src ]] || die "missing dataset $src (see --datasets)"
        if ((k == 1)); then
            path=$(realpath "$src")
        else
            path=$SCRATCH/$(basename "$src" .txt)_x$k.txt
            concat "$src" "$k" "$path"
        fi
    elif [[ $name =~ ^zipf([0-9]+[kKmMgG]?)$ ]]; then
        size=${BASH_REMATCH[1]}
        path=$SCRATCH/zipf-${size,,}-seed42.txt
        if [[ ! -f $path || $(stat -c %s "$path") != "$(size_bytes "$size")" || $MR_LOCAL -nt $path ]]; then
            generate "$size" "$path"
        fi
    elif [[ $name =~ ^vocab([0-9]+)([km]?)-([0-9]+[kKmMgG]?)$ ]]; then
        # A corpus of millions of distinct words.
        vocab=$(decimal "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}") size=${BASH_REMATCH[3]}
        path=$SCRATCH/vocab-$vocab-${size,,}-seed42.txt
        if [[ ! -f $path || $(stat -c %s "$path") != "$(size_bytes "$size")" || $MR_LOCAL -nt $path ]]; then
            generate "$size" "$path" --vocabulary "$vocab"
        fi
    elif [[ $name =~ ^seq([0-9]+)([km]?)$ ]]; then
        # Every line a distinct key: the high-cardinality case.
        n=$(decimal "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}")
        path=$SCRATCH/seq-$n.txt
        if [[ ! -f $path ]]; then
            say "making $path: seq 1 $n"
            seq 1 "$n" >"$path.part" && mv "$path.part" "$path"
        fi
    elif [[ -f $name ]]; then
        path=$(realpath "$name")
        name=$(basename "$name")
        name=${name//[^A-Za-z0-9._-]/_}
    else
        die "unknown input '$name' (kjvK, dickensK, zipfSIZE, vocabV-SIZE, seqN or a file, each with an optional bigrams- or sort- prefix)"
    fi
}
IN_NAMES=() IN_PATHS=() IN_BYTES=() IN_KIND=() IN_JOB=()
for name in $INPUTS; do
    job=wordcount
    if [[ ! -f $name && $name =~ ^(bigrams|sort)-(.+)$ ]]; then
        job=${BASH_REMATCH[1]} name=${BASH_REMATCH[2]}
        [[ $job == bigrams && $SPLIT != alphanumeric ]] && die "input $job-$name: bigrams rows count alphanumeric words only (no --split $SPLIT)"
    fi
    resolve_input
    [[ $job == wordcount ]] || name=$job-$name
    # What the text is: ascii, utf8 (valid, not ASCII) or invalid (not UTF-8).
    if ! grep -qaP '[\x80-\xFF]' "$path"; then
        kind=ascii
    elif "$SYS_PYTHON" - "$path" <<'EOF' 2>/dev/null; then
import sys
with open(sys.argv[1], "rb") as f:
    for line in f:
        line.decode("utf-8")
EOF
        kind=utf8
    else
        kind=invalid
    fi
    if grep -qa $'\x01' "$path"; then
        loud "input $name holds 0x01 bytes: DuckDB and Polars read lines as one-column CSV with 0x01 as the delimiter, so they will fail or miscount on it"
    fi
    IN_NAMES+=("$name") IN_PATHS+=("$path") IN_BYTES+=("$(stat -c %s "$path")") IN_KIND+=("$kind") IN_JOB+=("$job")
done

# ---------------------------------------------------------------- versions
version_of() {
    case $1 in
        mr-local) echo "$("$MR_LOCAL" --version 2>/dev/null | head -1), \`$MR_LOCAL\` built $(date -u -r "$MR_LOCAL" '+%Y-%m-%d %H:%M UTC'); work tree $(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo 'not in git')" ;;
        baseline) echo "examples/hashmap_baseline.rs ($(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo 'no git'))" ;;
        duckdb | polars) echo "$1 $("$VPY" -c "import $1; print($1.__version__)" 2>/dev/null), Python $("$VPY" -c 'import platform; print(platform.python_version())')" ;;
        coreutils) echo "$(sort --version | head -1)" ;;
    esac
}

# ---------------------------------------------------------------- configs
# One config = (tool, threads). The baseline has one thread only.
C_TOOL=() C_THREADS=() REF_OWNER=()
for t in "${THREAD_LIST[@]}"; do
    for tool in mr-local baseline duckdb polars coreutils; do
        has_tool $tool || continue
        if [[ $tool == baseline ]]; then
            # once, at one thread, whatever the thread list
            [[ " ${C_TOOL[*]} " == *" baseline "* ]] && continue
            C_TOOL+=(baseline) C_THREADS+=(1)
        else
            C_TOOL+=("$tool") C_THREADS+=("$t")
        fi
    done
done
NCFG=${#C_TOOL[@]}
# Whether config $1 runs on input $2: which tools have each job.
applies() { # CFG INPUT_INDEX
    case ${IN_JOB[$2]}:${C_TOOL[$1]} in
        wordcount:*) ;;
        bigrams:baseline | sort:baseline | sort:duckdb | sort:polars) return 1 ;;
    esac
}
# coreutils' bigrams: each line's alphanumeric words, lowercased, in pairs.
# shellcheck disable=SC2016 # expanded by awk / the inner shell
AWK_BIGRAMS='{ $0 = tolower($0); gsub(/[^a-z0-9]+/, " "); n = split($0, w, " "); for (i = 1; i < n; i++) print w[i] " " w[i + 1] }'
# GNU sort's buffer on sort rows: twice the input plus 256 MiB, in KiB.
sort_buffer() { # BYTES
    if [[ -n $SORT_BUFFER ]]; then echo "$SORT_BUFFER"; else echo "$((($1 >> 9) + 262144))K"; fi
}

# The first stage of the coreutils pipeline: bytes to one word a line.
if [[ $SPLIT == alphanumeric ]]; then
    COREUTILS_FIRST="tr -cs 'A-Za-z0-9' '\\n'"
else
    COREUTILS_FIRST="tr -s ' \\t\\n\\v\\f\\r' '\\n'"
fi
# Sets CMD (argv) for config $1 on input $2, writing to $3 (or $3.raw).
build_cmd() { # CFG INPUT OUT INNER KIND JOB
    local c=$1 input=$2 out=$3 inner=$4 tool=${C_TOOL[$1]} t=${C_THREADS[$1]} kind=$5 job=$6
    local splitarg=()
    [[ $SPLIT == whitespace ]] && splitarg=(--split whitespace)
    if [[ $job == sort ]]; then
        case $tool in
            mr-local) CMD=("$MR_LOCAL" sort --threads "$t" "$input") ;;
            coreutils) CMD=(sort --parallel="$t" -S "$(sort_buffer "$(stat -c %s "$input")")" -T "$SCRATCH" "$input") ;;
        esac
        return
    fi
    if [[ $job == bigrams ]]; then
        case $tool in
            mr-local) CMD=("$MR_LOCAL_BIGRAMS" --threads "$t" "$input") && return ;;
            coreutils)
                # shellcheck disable=SC2016 # expanded by awk / the inner shell
                CMD=(bash -c 'set -o pipefail; export LC_ALL=C; awk "$3" <"$1" | sort --parallel="$2" | uniq -c | sort -k1,1nr -k2' coreutils "$input" "$t" "$AWK_BIGRAMS")
                return
                ;;
        esac # duckdb and polars: their word count with --bigrams, below
    fi
    case $tool in
        mr-local) CMD=("$MR_LOCAL" wordcount --threads "$t" "${splitarg[@]}" "$input") ;;
        baseline) CMD=("$MR_LOCAL_BASELINE" "${splitarg[@]}" "$input") ;;
        duckdb)
            CMD=("$VPY" "$HERE/duckdb_wordcount.py" --threads "$t" --split "$SPLIT"
                --inner-time "$inner" --temp-dir "$SCRATCH/duckdb-tmp")
            [[ $kind == invalid ]] && CMD+=(--skip-invalid-utf8)
            CMD+=("$input" "$out")
            ;;
        polars)
            CMD=(env "POLARS_MAX_THREADS=$t" "$VPY" "$HERE/polars_wordcount.py" --split "$SPLIT"
                --expect-threads "$t" --inner-time "$inner")
            [[ $kind == invalid ]] && CMD+=(--lossy-utf8)
            CMD+=("$input" "$out")
            ;;
        coreutils)
            CMD=(bash -c "set -o pipefail; export LC_ALL=C; $COREUTILS_FIRST < \"\$1\" | tr A-Z a-z | sort --parallel=\"\$2\" | uniq -c | sort -k1,1nr -k2,2" coreutils "$input" "$t")
            ;;
    esac
    if [[ $job == bigrams ]]; then CMD+=(--bigrams); fi
}
# Whether the tool writes its output file itself (else: stdout).
writes_file() { [[ ${C_TOOL[$1]} == duckdb || ${C_TOOL[$1]} == polars ]]; }

# `  count word` lines of uniq -c into `word<TAB>count`, dropping the empty
# word that tr leaves when the input starts with a separator.
normalise_coreutils() { sed -E 's/^ *([0-9]+) (.*)$/\2\t\1/' "$1" | grep -av $'^\t' || true; }

first_difference() { # REF OUT -> "line N: expected '...', got '...'"
    local n
    n=$(cmp "$1" "$2" 2>&1 | grep -o 'line [0-9]*' | head -1 | cut -d' ' -f2)
    if [[ -z $n ]]; then echo "(cmp found no line)"; return; fi
    # cmp reports EOF after the last full line of the shorter file.
    if cmp "$1" "$2" 2>&1 | grep -q EOF; then n=$((n + 1)); fi
    local a b
    a=$(sed -n "${n}{s/\t/\\\\t/g;p;q}" "$1"); b=$(sed -n "${n}{s/\t/\\\\t/g;p;q}" "$2")
    printf "line %d: mr-local has '%s', the tool has '%s'" "$n" "${a:-<end of output>}" "${b:-<end of output>}"
}

median() { sort -g | awk '{v[NR] = $1} END {if (NR == 0) print ""; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.6f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
min_of() { sort -g | head -1; }
max_of() { sort -g | tail -1; }

# ---------------------------------------------------------------- run
CPU=$(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -1)
MEM=$(awk '/^MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)
say "machine: $HOST, $NPROC CPUs ($CPU), $MEM; tools: $TOOLS; threads: ${THREAD_LIST[*]}; runs: $RUNS (+$WARMUP warm-up); split: $SPLIT"

declare -A TIMES=() RSS=() INNER=() STATUS=() NOTE=() EXPLAINED=() SPILLED=()
ROW_KEYS=()
for ((i = 0; i < ${#IN_NAMES[@]}; i++)); do
    name=${IN_NAMES[$i]} input=${IN_PATHS[$i]} kind=${IN_KIND[$i]} job=${IN_JOB[$i]}
    say "input $name: $input (${IN_BYTES[$i]} bytes, $kind); warming the page cache"
    cat "$input" >/dev/null
    ref=$SCRATCH/out/$name.reference.tsv
    rm -f "$ref"
    total=$((WARMUP + RUNS))
    for ((r = 0; r < total; r++)); do
        for ((j = 0; j < NCFG; j++)); do
            c=$(((j + r) % NCFG)) # rotate the starting tool from run to run
            key="$i,$c"
            [[ ${STATUS[$key]:-} == FAILED ]] && continue
            applies "$c" "$i" || continue
            tool=${C_TOOL[$c]} t=${C_THREADS[$c]}
            out=$SCRATCH/out/$name.$tool.$t.tsv
            inner=$SCRATCH/out/$name.$tool.$t.inner
            meas=$SCRATCH/out/$name.$tool.$t.meas
            err=$SCRATCH/out/$name.$tool.$t.stderr
            rm -f "$out" "$out.raw" "$inner" "$meas"
            build_cmd "$c" "$input" "$out" "$inner" "$kind" "$job"
            sink=$out
            writes_file "$c" && sink=/dev/null
            [[ $tool == coreutils && $job != sort ]] && sink=$out.raw
            rc=0
            t0=$EPOCHREALTIME
            if [[ $RSS_TOOL == gnu-time ]]; then
                /usr/bin/time -f %M -o "$meas" "${CMD[@]}" >"$sink" 2>"$err" </dev/null || rc=$?
            else
                "$SYS_PYTHON" "$HERE/measure.py" "$meas" "${CMD[@]}" >"$sink" 2>"$err" </dev/null || rc=$?
            fi
            t1=$EPOCHREALTIME
            us=$((10#${t1/[.,]/} - 10#${t0/[.,]/}))
            wall=$(awk -v us="$us" 'BEGIN {printf "%.6f", us / 1e6}')
            if [[ $RSS_TOOL == gnu-time ]]; then
                rss_kib=$(tail -1 "$meas" 2>/dev/null || echo 0)
            else
                read -r wall rss_kib <"$meas" || true
            fi
            label="$tool T=$t"
            phase=$([[ $r -lt $WARMUP ]] && echo "warm-up $((r + 1))/$WARMUP" || echo "run $((r - WARMUP + 1))/$RUNS")
            if ((rc != 0)); then
                STATUS[$key]=FAILED
                NOTE[$key]="exit status $rc: $(tail -3 "$err" | tr '\n' ' ' | cut -c1-300)"
                loud "FAILED: [$name] $label exited with $rc; its stderr ends:"
                tail -5 "$err" >&2
                continue
            fi
            [[ $tool == coreutils && $job != sort ]] && normalise_coreutils "$out.raw" >"$out" && rm -f "$out.raw"
            rss_int=${rss_kib%.*}
            if [[ $job == sort && $tool == coreutils ]] && ((${rss_int:-0} * 1024 < ${IN_BYTES[$i]})) && [[ -z ${SPILLED[$key]:-} ]]; then
                SPILLED[$key]="GNU sort's peak RSS ($((rss_kib >> 10)) MiB) is below the input's size: it sorted through temporary files; give a larger --sort-buffer"
                loud "[$name] $tool T=$t: ${SPILLED[$key]}"
            fi
            if [[ ! -f $ref ]]; then
                cp "$out" "$ref"
                REF_OWNER[$i]=$label
            fi
            verdict=ok
            if ! cmp -s "$ref" "$out"; then
                verdict=MISMATCH
                if [[ ${STATUS[$key]:-} != MISMATCH ]]; then
                    STATUS[$key]=MISMATCH
                    diffline=$(first_difference "$ref" "$out")
                    if [[ $(sort "$ref" | sha256sum) == $(sort "$out" | sha256sum) ]]; then
                        NOTE[$key]="same lines in another order; first difference at $diffline"
                    else
                        only=$(comm -3 <(sort "$ref") <(sort "$out") | wc -l)
                        NOTE[$key]="$only lines in only one of the two outputs ($(wc -l <"$ref") vs $(wc -l <"$out") lines); first difference at $diffline"
                    fi
                    loud "MISMATCH: [$name] $label differs from ${REF_OWNER[$i]}: ${NOTE[$key]}"
                    cp "$out" "$out.mismatch"
                fi
            fi
            [[ -n ${STATUS[$key]:-} ]] || STATUS[$key]=ok
            if ((r >= WARMUP)); then
                TIMES[$key]+="$wall "
                RSS[$key]+="$rss_kib "
                [[ -f $inner ]] && INNER[$key]+="$(cat "$inner") "
            fi
            printf 'compare.sh: [%s] %-10s %-22s %9.3f s %8.0f MiB  %s\n' "$name" "$phase" "$label" "$wall" "$(awk -v k="$rss_kib" 'BEGIN {print k / 1024}')" "$verdict" >&2
        done
    done
    # Why a tool differs on text that is not valid UTF-8: run mr-local
    # (untimed) on the text as the tool reads it, and compare again.
    if [[ $kind == invalid && $job == wordcount ]]; then
        for ((c = 0; c < NCFG; c++)); do
            key="$i,$c" tool=${C_TOOL[$c]}
            [[ ${STATUS[$key]:-} == MISMATCH ]] || continue
            got=$SCRATCH/out/$name.$tool.${C_THREADS[$c]}.tsv.mismatch
            case $tool in
                duckdb) mode=drop-invalid-lines ;;
                mr-local) continue ;; # mr-local at another thread count: no excuse
                *) mode=replace-invalid ;;
            esac
            variant=$SCRATCH/out/$name.as-$tool-reads-it.txt
            "$SYS_PYTHON" "$HERE/variant.py" "$mode" "$input" "$variant"
            splitarg=()
            [[ $SPLIT == whitespace ]] && splitarg=(--split whitespace)
            "$MR_LOCAL" wordcount "${splitarg[@]}" "$variant" >"$variant.tsv"
            # Tools that keep invalid bytes inside words: compare with those
            # bytes shown as U+FFFD, as mr-local then counts them.
            if [[ $tool == baseline || $tool == coreutils ]]; then
                "$SYS_PYTHON" "$HERE/variant.py" lossy-counts "$got" "$got.lossy"
                got=$got.lossy
            fi
            if cmp -s "$variant.tsv" "$got"; then
                case $tool in
                    duckdb) EXPLAINED[$key]="explained: DuckDB cannot read invalid UTF-8, and with ignore_errors it skips the $(($(wc -l <"$input") - $(wc -l <"$variant"))) lines holding some; mr-local on the input without those lines gives exactly DuckDB's output" ;;
                    polars) EXPLAINED[$key]="explained: Polars reads invalid UTF-8 as U+FFFD (utf8-lossy)$([[ $SPLIT == whitespace ]] && echo ', a word character in whitespace mode' || true); mr-local on the input with that replacement gives exactly Polars' output" ;;
                    *) EXPLAINED[$key]="explained: $tool keeps bytes that are not valid UTF-8 inside words, where mr-local separates words at them; with those bytes read as U+FFFD (a word character for mr-local too), mr-local's output and $tool's are the same" ;;
                esac
            else
                EXPLAINED[$key]="NOT explained by its handling of invalid UTF-8 alone: mr-local on the text as $tool reads it ($mode) still differs"
            fi
            say "[$name] $tool T=${C_THREADS[$c]}: ${EXPLAINED[$key]}"
            rm -f "$variant" "$variant.tsv"
        done
    fi
done

# ---------------------------------------------------------------- table
fmt() { awk -v v="$1" -v d="$2" 'BEGIN {if (v == "") print "—"; else printf "%." d "f", v}'; }
mr_median() { # INPUT_INDEX THREADS
    local c
    for ((c = 0; c < NCFG; c++)); do
        if [[ ${C_TOOL[$c]} == mr-local && ${C_THREADS[$c]} == "$2" && ${STATUS[$1,$c]:-} != FAILED ]]; then
            tr ' ' '\n' <<<"${TIMES[$1,$c]:-}" | grep . | median
            return
        fi
    done
}
TABLE=$(
    echo "| tool | threads | input | median s | min–max s | MB/s | peak RSS MiB | vs mr-local | in-process s | output |"
    echo "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |"
    for ((i = 0; i < ${#IN_NAMES[@]}; i++)); do
        mb=$(awk -v b="${IN_BYTES[$i]}" 'BEGIN {printf "%.1f", b / 1e6}')
        for ((c = 0; c < NCFG; c++)); do
            key="$i,$c" tool=${C_TOOL[$c]} t=${C_THREADS[$c]}
            applies "$c" "$i" || continue
            status=${STATUS[$key]:-not run}
            if [[ $status == FAILED ]]; then
                echo "| $tool | $t | ${IN_NAMES[$i]} ($mb MB) | — | — | — | — | — | — | FAILED |"
                continue
            fi
            times=$(tr ' ' '\n' <<<"${TIMES[$key]:-}" | grep . || true)
            med=$(median <<<"$times")
            lo=$(min_of <<<"$times") hi=$(max_of <<<"$times")
            rss=$(tr ' ' '\n' <<<"${RSS[$key]:-}" | grep . | max_of || true)
            in_med=$(tr ' ' '\n' <<<"${INNER[$key]:-}" | grep . | median || true)
            mr=$(mr_median "$i" "$t")
            ratio=""
            [[ -n $mr && -n $med ]] && ratio=$(awk -v a="$med" -v b="$mr" 'BEGIN {if (b > 0) printf "%.2f", a / b}')
            mbs=$(awk -v b="${IN_BYTES[$i]}" -v s="$med" 'BEGIN {if (s > 0) printf "%.0f", b / s / 1e6}')
            rss_mib=$(awk -v k="$rss" 'BEGIN {printf "%.0f", k / 1024}')
            shown=$status
            if [[ $status == MISMATCH ]]; then
                shown="**MISMATCH**"
                [[ ${EXPLAINED[$key]:-} == explained:* ]] && shown="**MISMATCH** (invalid UTF-8 input, see notes)"
            fi
            echo "| $tool | $t | ${IN_NAMES[$i]} ($mb MB) | $(fmt "$med" 3) | $(fmt "$lo" 3)–$(fmt "$hi" 3) | ${mbs:-—} | $rss_mib | ${ratio:-—} | $(fmt "$in_med" 3) | $shown |"
        done
    done
)

NOTES=$(
    echo "- Median of $RUNS timed run(s) per row after $WARMUP untimed warm-up round(s); runs alternate round-robin (run k of every tool, then run k+1), the starting tool rotating each run; the page cache was warmed before each input."
    echo "- Wall time is the whole process as a user runs it, measured by the shell (\$EPOCHREALTIME) around it: for DuckDB and Polars that includes starting Python and importing the package. *in-process s* is the median time those scripts spend after the import (query and output only)."
    echo "- MB/s = input bytes / median seconds / 10^6. *vs mr-local* = this tool's median / mr-local's median at the same thread count (the baseline: against mr-local at 1 thread); above 1 means mr-local is faster."
    echo "- Peak RSS: $RSS_HOW, the largest over the runs; for the coreutils pipeline it is the largest single process (sort), not the sum of the five."
    echo "- Words ($SPLIT): $([[ $SPLIT == alphanumeric ]] && echo '[a-z0-9]+ after ASCII lowercasing in every tool (on ASCII text exactly what mr-local counts)' || echo 'runs of bytes other than TAB LF VT FF CR SPACE, lowercased (on ASCII text exactly mr-local --split whitespace)'). Every run's full output was compared with ${REF_OWNER[0]:-mr-local}'s (cmp of the \`word<TAB>count\` files, count descending then word bytewise; coreutils' \`uniq -c\` format rewritten outside the timing)."
    echo "- coreutils: \`LC_ALL=C $COREUTILS_FIRST < FILE | tr A-Z a-z | sort --parallel=T | uniq -c | sort -k1,1nr -k2,2\`; *threads* is GNU sort's --parallel, the other stages are single-threaded but run at the same time as it."
    echo "- DuckDB reads lines with read_csv (delimiter 0x01, no quote/escape, new_line LF, strict_mode false) and runs \`regexp_extract_all(lower(line), …)\` → unnest → GROUP BY → ORDER BY → COPY, \`SET threads = T\`. Polars: scan_csv (separator 0x01, no quoting) → str.to_lowercase → str.extract_all → explode → group_by().len() → sort, streaming engine, POLARS_MAX_THREADS=T."
    if [[ " ${IN_JOB[*]} " == *" bigrams "* ]]; then
        echo "- bigrams-* rows: pairs of consecutive alphanumeric words within a line (lowercased; a line's last word does not pair with the next line's first), \`first second<TAB>count\`, count descending then bigram bytewise. mr-local there is \`examples/bigrams --threads T\` (the library's closure API: one closure per line, an emit per pair, a summing combiner), not the CLI. DuckDB: \`list_transform(range(1, len(w)), lambda i: w[i] || ' ' || w[i + 1])\` over each line's word list, unnested, grouped; Polars: each line's word list without its last and without its first word, exploded side by side, joined with a space. coreutils: \`LC_ALL=C awk '$AWK_BIGRAMS' < FILE | sort --parallel=T | uniq -c | sort -k1,1nr -k2\` (awk is not coreutils; $(awk -W version 2>&1 | head -1 || true)). No baseline."
    fi
    if [[ " ${IN_JOB[*]} " == *" sort "* ]]; then
        echo "- sort-* rows: the input's lines sorted bytewise. mr-local: \`mr-local sort --threads T FILE\`; coreutils: \`LC_ALL=C sort --parallel=T -S SIZE -T SCRATCH FILE\` with SIZE $([[ -n $SORT_BUFFER ]] && echo "$SORT_BUFFER (--sort-buffer)" || echo 'twice the input plus 256 MiB'), meant to keep it in memory (a peak RSS below the input's size would mean temporary files: see below). Outputs compared byte for byte."
    fi
    for ((i = 0; i < ${#IN_NAMES[@]}; i++)); do
        case ${IN_KIND[$i]} in
            ascii) what="ASCII" ;;
            utf8) what="valid UTF-8 with non-ASCII characters: there mr-local's Unicode rules (alphanumerics, lowercasing) and the tools' [a-z0-9]/A-Z rules differ, so differences may be expected" ;;
            invalid) what="not valid UTF-8 (mr-local separates words at invalid bytes; DuckDB runs with ignore_errors = true, which skips the lines holding them; Polars reads with encoding utf8-lossy)" ;;
        esac
        echo "- Input ${IN_NAMES[$i]}: \`${IN_PATHS[$i]}\`, ${IN_BYTES[$i]} bytes, $what."
    done
    for t in mr-local baseline duckdb polars coreutils; do
        has_tool $t && echo "- $t: $(version_of $t)"
    done
    for s in "${SKIPPED[@]}"; do echo "- SKIPPED $s"; done
    for ((i = 0; i < ${#IN_NAMES[@]}; i++)); do
        for ((c = 0; c < NCFG; c++)); do
            key="$i,$c"
            case ${STATUS[$key]:-} in
                MISMATCH) echo "- **MISMATCH** ${C_TOOL[$c]} T=${C_THREADS[$c]} on ${IN_NAMES[$i]}: ${NOTE[$key]}${EXPLAINED[$key]:+. ${EXPLAINED[$key]}}" ;;
                FAILED) echo "- **FAILED** ${C_TOOL[$c]} T=${C_THREADS[$c]} on ${IN_NAMES[$i]}: ${NOTE[$key]}" ;;
            esac
            if [[ -n ${SPILLED[$key]:-} ]]; then
                echo "- **TEMPORARY FILES** ${C_TOOL[$c]} T=${C_THREADS[$c]} on ${IN_NAMES[$i]}: ${SPILLED[$key]}"
            fi
        done
    done
)

{
    what="Word count"
    [[ " ${IN_JOB[*]} " == *" bigrams "* ]] && what+=", bigrams"
    [[ " ${IN_JOB[*]} " == *" sort "* ]] && what+=", sort"
    [[ " ${IN_JOB[*]} " == *" wordcount "* ]] || what=${what#Word count, }
    echo "# ${what^}: mr-local and the alternatives$( ((QUICK)) && echo ' (--quick smoke test)' || true)"
    echo
    echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "- machine: \`$HOST\`, nproc $NPROC, CPU: $CPU, memory $MEM, $(uname -sr)"
    echo "- command: \`benches/compare.sh$( ((${#ORIG_ARGS[@]})) && printf ' %q' "${ORIG_ARGS[@]}")\`"
    echo "- runs: $RUNS timed + $WARMUP warm-up; threads: ${THREAD_LIST[*]}; split: $SPLIT"
    echo
    echo "$TABLE"
    echo
    echo "## Notes"
    echo
    echo "$NOTES"
} >"$OUT"

echo
echo "$TABLE"
echo
echo "$NOTES"
echo
say "results written to $OUT"
