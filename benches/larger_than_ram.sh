#!/usr/bin/env bash
# The documented larger-than-RAM run (README, "Out of core"): word count over
# a generated corpus bigger than the machine's memory, with a huge vocabulary,
# under a memory budget; samples the process's anonymous and total RSS.
#
#   benches/larger_than_ram.sh DIR [SIZE] [MEMORY]     (defaults: 30G, 2G)
#
# DIR needs room for SIZE plus the spill runs (about a third of SIZE here).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
dir=${1:?usage: $0 DIR [SIZE] [MEMORY]} size=${2:-30G} memory=${3:-2G}
bin=$PWD/target/release/mr-local
[ -x "$bin" ] || { echo "$0: build first: cargo build --release" >&2; exit 1; }
mkdir -p "$dir" && cd "$dir"
[ -f "corpus-$size.txt" ] || /usr/bin/time -f "generate: %e s" \
    "$bin" generate --size "$size" --vocabulary 50000000 --seed 7 -o "corpus-$size.txt"
"$bin" wordcount "corpus-$size.txt" --memory "$memory" --tmp-dir "$dir" \
    --stats --stats-json stats.json -o counts.tsv 2> stats.txt &
pid=$!
peak_anon=0 peak_rss=0
while kill -0 "$pid" 2>/dev/null; do
    a=$(awk '/^RssAnon/{print $2}' "/proc/$pid/status" 2>/dev/null || true)
    r=$(awk '/^VmRSS/{print $2}' "/proc/$pid/status" 2>/dev/null || true)
    [ -n "$a" ] && [ "$a" -gt "$peak_anon" ] && peak_anon=$a
    [ -n "$r" ] && [ "$r" -gt "$peak_rss" ] && peak_rss=$r
    sleep 0.5
done
wait "$pid"
cat stats.txt
echo "peak anonymous RSS: $((peak_anon / 1024)) MiB; peak total RSS: $((peak_rss / 1024)) MiB"
# The counts must add up to every word the map phase emitted.
python3 - <<'PY'
import json
total = sum(int(line.rsplit(b"\t", 1)[1]) for line in open("counts.tsv", "rb"))
emitted = json.load(open("stats.json"))["map_output_records"]
print(f"sum of counts {total} == map output records {emitted}: {total == emitted}")
assert total == emitted
PY
