#!/usr/bin/env python3
"""Turn criterion's saved estimates for `benches/shuffle.rs` into a Markdown
table and an SVG chart.

    cargo bench --bench shuffle
    python3 benches/report.py            # writes benches/results/shuffle.md and .svg

Reads target/criterion/shuffle_<scenario>/<strategy>/<threads>/new/
{estimates.json,benchmark.json} (the median is the point estimate used), and
target/criterion/shuffle-allocations.tsv for the allocation counts. Only the
standard library is needed.
"""

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ORDER = ["lockfree", "pooled", "per-task", "mutex", "mutex-unbatched", "channel", "cond", "rwlock", "sequential-hashmap"]
COLOURS = {
    "lockfree": "#1b9e77",
    "pooled": "#66a61e",
    "per-task": "#a6d854",
    "mutex": "#d95f02",
    "mutex-unbatched": "#fc8d62",
    "channel": "#7570b3",
    "cond": "#a6761d",
    "rwlock": "#e7298a",
    "sequential-hashmap": "#666666",
}


def machine():
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
            if line.startswith("Model name:"):
                cpu = line.split(":", 1)[1].strip()
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {cpu}, {platform.node()}"


def load(criterion):
    """Yields (scenario, strategy, threads, median_ns, bytes)."""
    for group in sorted(criterion.glob("shuffle_*")):
        scenario = group.name[len("shuffle_"):]
        for bench in sorted(group.iterdir()):
            if not bench.is_dir() or bench.name == "report":
                continue
            # `name/1t` is stored as name/1t/new, or as name_1t/new when the
            # id was given as one string.
            if (bench / "new").is_dir():
                name, _, threads = bench.name.rpartition("_")
                runs = [(name, threads, bench / "new")]
            else:
                runs = [(bench.name, t.name, t / "new") for t in sorted(bench.iterdir())]
            for name, threads, new in runs:
                if not (new / "estimates.json").exists():
                    continue
                median = json.loads((new / "estimates.json").read_text())["median"]["point_estimate"]
                info = json.loads((new / "benchmark.json").read_text())
                throughput = info.get("throughput") or {}
                yield scenario, name, threads, median, throughput.get("Bytes", 0)


def allocations(criterion):
    path = criterion / "shuffle-allocations.tsv"
    table = {}
    if path.exists():
        rows = path.read_text().splitlines()[1:]
        for row in rows:
            scenario, strategy, threads, count, size = row.split("\t")
            table[(scenario, strategy, f"{threads}t")] = (int(count), int(size))
    return table


def markdown(rows, allocs, threads):
    scenarios = sorted({r[0] for r in rows}, key=lambda s: (s.split("-")[1], s))
    lines = [
        f"Shuffle strategies at {threads.rstrip('t')} thread(s), word-count-style job (emit every key, sum): "
        "median MB/s (ratio to `lockfree`), and allocations per run.",
        "",
        "| strategy | " + " | ".join(scenarios) + " |",
        "| --- |" + " ---: |" * len(scenarios),
    ]
    by_key = {(s, b, t): (ns, size) for s, b, t, ns, size in rows}
    for strategy in ORDER:
        bench_threads = "1t" if strategy == "sequential-hashmap" else threads
        cells = []
        for scenario in scenarios:
            found = by_key.get((scenario, strategy, bench_threads))
            base = by_key.get((scenario, "lockfree", threads))
            if not found:
                cells.append("—")
                continue
            mbs = found[1] / found[0] * 1e3  # bytes per ns -> MB/s
            ratio = base[0] / found[0] if base else float("nan")
            cell = f"{mbs:,.0f} ({ratio:.2f}×)"
            alloc = allocs.get((scenario, strategy, bench_threads))
            if alloc:
                cell += f"<br>{alloc[0]:,} allocs"
            cells.append(cell)
        if any(c != "—" for c in cells):
            name = strategy + (" (1 thread)" if strategy == "sequential-hashmap" else "")
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def svg(rows, threads):
    """Grouped horizontal bars: one group per scenario, one bar per strategy."""
    scenarios = sorted({r[0] for r in rows}, key=lambda s: (s.split("-")[1], s))
    by_key = {(s, b, t): size / ns * 1e3 for s, b, t, ns, size in rows}
    strategies = [s for s in ORDER if any((sc, s, threads if s != "sequential-hashmap" else "1t") in by_key for sc in scenarios)]
    top = max(by_key.values())
    bar, gap, left, width = 11, 14, 190, 560
    height = 40 + len(scenarios) * (len(strategies) * bar + gap) + 30 + 18 * ((len(strategies) + 3) // 4)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + width + 80}" height="{height}" '
        'font-family="sans-serif" font-size="11">',
        '<rect width="100%" height="100%" fill="white"/>',
        f'<text x="10" y="18" font-size="13" font-weight="bold">Shuffle strategies: MB/s at {threads} '
        f'(sequential HashMap at 1t), higher is better</text>',
    ]
    y = 36
    for scenario in scenarios:
        out.append(f'<text x="10" y="{y + len(strategies) * bar / 2 + 4}">{scenario}</text>')
        for strategy in strategies:
            t = "1t" if strategy == "sequential-hashmap" else threads
            value = by_key.get((scenario, strategy, t))
            if value is not None:
                w = max(1, value / top * width)
                out.append(
                    f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{bar - 2}" fill="{COLOURS[strategy]}">'
                    f"<title>{strategy} {scenario}: {value:,.0f} MB/s</title></rect>"
                )
                out.append(f'<text x="{left + w + 4:.1f}" y="{y + bar - 3}" font-size="9">{value:,.0f}</text>')
            y += bar
        y += gap
    y += 10
    for i, strategy in enumerate(strategies):
        x = 10 + (i % 4) * 180
        yy = y + (i // 4) * 18
        out.append(f'<rect x="{x}" y="{yy - 9}" width="10" height="10" fill="{COLOURS[strategy]}"/>')
        out.append(f'<text x="{x + 14}" y="{yy}">{strategy}</text>')
    out.append("</svg>")
    return "\n".join(out)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--criterion", default=ROOT / "target" / "criterion", type=Path)
    parser.add_argument("--out", default=ROOT / "benches" / "results", type=Path)
    parser.add_argument("--threads", default=f"{os.cpu_count()}t", help="which thread count to tabulate, e.g. 2t")
    args = parser.parse_args()

    rows = list(load(args.criterion))
    if not rows:
        sys.exit(f"report.py: no shuffle results under {args.criterion}; run `cargo bench --bench shuffle` first")
    allocs = allocations(args.criterion)
    args.out.mkdir(parents=True, exist_ok=True)
    header = f"Measured {datetime.date.today()} on {machine()}.\n\n"
    tables = [markdown(rows, allocs, t) for t in sorted({r[2] for r in rows if r[1] != "sequential-hashmap"})]
    (args.out / "shuffle.md").write_text(header + "\n\n".join(tables) + "\n")
    (args.out / "shuffle.svg").write_text(svg(rows, args.threads) + "\n")
    print(header + "\n\n".join(tables))
    print(f"\nwrote {args.out / 'shuffle.md'} and {args.out / 'shuffle.svg'}")


if __name__ == "__main__":
    main()
