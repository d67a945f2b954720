#!/usr/bin/env bash
# How word count's cost grows with input size and with vocabulary:
# throughput, and peak memory beyond the memory-mapped input, over generated
# Zipf corpora of growing size (by default 100 MB, 1 GB and 10 GB, with the
# generator's default 100k base words), then of one size with growing
# vocabularies (by default 1 GB with 10k, 1M and 10M base words).
#
#   benches/scaling.sh [--sizes "100M 1G 10G"] [--vocabularies "10000 1000000 10000000"]
#                      [--vocabulary-size 1G] [--threads "1 2"] [--runs 3]
#                      [--scratch DIR]
#
# Each corpus is `mr-local generate --size SIZE --vocabulary N --seed 42`,
# made in the scratch folder (default ${TMPDIR:-/tmp}/mr-local-scaling)
# unless already there; it needs room for all of them. Runs alternate
# between the thread counts. For each (corpus, threads) the script prints
# the median wall time, MB/s, the peak anonymous RSS (RssAnon in /proc,
# sampled every 2 ms: the tables and buffers, not the mapped input's pages,
# which are file-backed), the number of distinct words, and the bytes per
# distinct word beyond the word's own: (peak RssAnon - the distinct words'
# bytes) / distinct words, the words' bytes taken from one more, untimed
# run's output. It writes the table to benches/results/scaling-DATE-HOST.md.
# Needs a release build (or MR_LOCAL=path, the binary to measure).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

sizes="100M 1G 10G" vocabularies="10000 1000000 10000000" vocabulary_size=1G
threads="1 $(nproc)" runs=3
scratch=${TMPDIR:-/tmp}/mr-local-scaling
while [ $# -gt 0 ]; do
    case "$1" in
        --sizes) sizes=$2; shift 2 ;;
        --vocabularies) vocabularies=$2; shift 2 ;;
        --vocabulary-size) vocabulary_size=$2; shift 2 ;;
        --threads) threads=$2; shift 2 ;;
        --runs) runs=$2; shift 2 ;;
        --scratch) scratch=$2; shift 2 ;;
        *) sed -n '2,/^set -e/{/^#/p}' "$0" >&2; exit 2 ;;
    esac
done

bin=${MR_LOCAL:-target/release/mr-local}
[ -x "$bin" ] || { echo "$0: build first: cargo build --release" >&2; exit 1; }
mkdir -p "$scratch"
# Each "label size vocabulary path", for the measuring script below.
corpora=()
add_corpus() { # label size vocabulary
    local corpus=$scratch/zipf-$2-v$3-seed42.txt
    if [ ! -s "$corpus" ]; then
        echo "generating $corpus" >&2
        "$bin" generate --size "$2" --vocabulary "$3" --seed 42 -o "$corpus"
    fi
    corpora+=("$1 $2 $3 $corpus")
}
for size in $sizes; do add_corpus size "$size" 100000; done
for vocabulary in $vocabularies; do add_corpus vocabulary "$vocabulary_size" "$vocabulary"; done

out=benches/results/scaling-$(date +%Y-%m-%d)-$(hostname -s).md
python3 - "$bin" "$runs" "$out" "$threads" "${corpora[@]}" <<'EOF'
import os, statistics, subprocess, sys, time

bin, runs, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
threads = [int(t) for t in sys.argv[4].split()]
corpora = [corpus.split(maxsplit=3) for corpus in sys.argv[5:]]


def anon_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("RssAnon:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def run(corpus, t):
    """Wall seconds, peak RssAnon in KiB, and the distinct words."""
    start = time.perf_counter()
    child = subprocess.Popen(
        [bin, "wordcount", "--threads", str(t), corpus, "--stats"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    peak = 0
    while child.poll() is None:
        peak = max(peak, anon_kib(child.pid))
        time.sleep(0.002)
    wall = time.perf_counter() - start
    stats = child.stderr.read()
    if child.returncode != 0:
        sys.exit(f"scaling.sh: mr-local failed on {corpus}: {stats}")
    distinct = next(int(l.split()[-1].replace(",", "")) for l in stats.splitlines()
                    if l.strip().startswith("distinct keys"))
    return wall, peak, distinct


def key_bytes(corpus):
    """The distinct words' own bytes, summed from an untimed run's output."""
    child = subprocess.Popen([bin, "wordcount", corpus], stdout=subprocess.PIPE)
    total = sum(line.rindex(b"\t") for line in child.stdout)
    if child.wait() != 0:
        sys.exit(f"scaling.sh: mr-local failed on {corpus}")
    return total


rows = []
for label, size, vocabulary, corpus in corpora:
    nbytes = os.path.getsize(corpus)
    results = {t: [] for t in threads}
    for _ in range(runs):
        for t in threads:
            results[t].append(run(corpus, t))
    words = key_bytes(corpus)
    for t in threads:
        wall = statistics.median(r[0] for r in results[t])
        peak = max(r[1] for r in results[t])
        distinct = results[t][0][2]
        per_key = (peak * 1024 - words) / max(distinct, 1)
        rows.append((label, size, vocabulary, t, wall, nbytes / wall / 1e6, peak / 1024, distinct,
                     words / max(distinct, 1), per_key))
        print(f"{size}, vocabulary {vocabulary}, {t} threads: {wall:.3f} s, "
              f"{nbytes / wall / 1e6:.0f} MB/s, peak anon {peak / 1024:.0f} MiB, "
              f"{distinct} distinct words of {words / max(distinct, 1):.1f} bytes on average, "
              f"{per_key:.0f} bytes per word beyond its own", file=sys.stderr)

with open(out, "w") as f:
    f.write(f"# Word count over growing inputs and vocabularies\n\nMachine: {os.cpu_count()} cores. "
            f"Inputs: `mr-local generate --size SIZE --vocabulary N --seed 42`. "
            f"Median of {runs} runs, alternating thread counts; peak anonymous RSS "
            f"(RssAnon, sampled every 2 ms) is the largest seen over the runs. "
            f"*Bytes per word* = (peak anon RSS - the distinct words' own bytes) / distinct words: "
            f"what a distinct word costs beyond its bytes (fixed buffers included, "
            f"which dominate where words are few).\n")
    for kind, title in [("size", "Growing input, 100k base words"),
                        ("vocabulary", "Growing vocabulary, one size")]:
        f.write(f"\n## {title}\n\n")
        f.write("| input | base words | threads | seconds | MB/s | peak anon RSS (MiB) | distinct words "
                "| mean word bytes | bytes per word beyond its own |\n")
        f.write("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
        for label, size, vocabulary, t, wall, mbs, peak, distinct, mean, per_key in rows:
            if label == kind:
                f.write(f"| {size} | {vocabulary} | {t} | {wall:.3f} | {mbs:.0f} | {peak:.0f} | {distinct} "
                        f"| {mean:.1f} | {per_key:.0f} |\n")
print(out)
EOF
