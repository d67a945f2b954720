#!/usr/bin/env python3
"""Draw the table of a `benches/compare.sh` results file as an SVG bar chart.

    python3 benches/compare/chart.py RESULTS.md [MORE.md ...] benches/results/compare.svg

One group of bars per (input, threads), one bar per tool, MB/s (higher is
better). Where several results files measure the same tool, threads and
input, the last one given wins. Only the standard library is needed.
"""

import sys

COLOURS = {
    "mr-local": "#1b9e77",
    "baseline": "#7570b3",
    "polars": "#d95f02",
    "duckdb": "#e6ab02",
    "coreutils": "#666666",
}


def rows(path):
    """Yields (tool, threads, input, mb_per_s) from the results table."""
    for line in open(path, encoding="utf-8"):
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 6 or cells[0] in ("tool", "---") or not cells[1].isdigit():
            continue
        tool, threads, name, mbs = cells[0], int(cells[1]), cells[2].split(" ")[0], float(cells[5])
        yield tool, threads, name, mbs


def svg(data, title):
    groups = []
    for tool, threads, name, mbs in data:
        key = (name, threads)
        if key not in [g[0] for g in groups]:
            groups.append((key, {}))
        dict(groups)[key][tool] = mbs
    tools = [t for t in COLOURS if any(t in bars for _, bars in groups)]
    top = max(v for _, bars in groups for v in bars.values())
    bar, gap, left, width = 12, 16, 150, 560
    height = 50 + len(groups) * (len(tools) * bar + gap) + 30
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + width + 90}" height="{height}" '
        'font-family="sans-serif" font-size="11">',
        '<rect width="100%" height="100%" fill="white"/>',
        f'<text x="10" y="18" font-size="13" font-weight="bold">{title}</text>',
    ]
    y = 34
    for (name, threads), bars in groups:
        out.append(f'<text x="10" y="{y + len(tools) * bar / 2 + 4}">{name}, {threads} thread{"s" if threads > 1 else ""}</text>')
        for tool in tools:
            if tool in bars:
                w = max(1, bars[tool] / top * width)
                out.append(f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{bar - 2}" fill="{COLOURS[tool]}">'
                           f"<title>{tool}: {bars[tool]:.0f} MB/s</title></rect>")
                out.append(f'<text x="{left + w + 4:.1f}" y="{y + bar - 3}" font-size="9">{bars[tool]:.0f}</text>')
                y += bar
        y += gap
    for i, tool in enumerate(tools):
        x = 10 + i * 130
        out.append(f'<rect x="{x}" y="{y}" width="10" height="10" fill="{COLOURS[tool]}"/>')
        out.append(f'<text x="{x + 14}" y="{y + 9}">{tool}</text>')
    out.append("</svg>")
    return "\n".join(out)


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    results, target = sys.argv[1:-1], sys.argv[-1]
    latest = {}
    for path in results:
        for tool, threads, name, mbs in rows(path):
            latest[(tool, threads, name)] = mbs
    data = [(tool, threads, name, mbs) for (tool, threads, name), mbs in latest.items()]
    if not data:
        sys.exit(f"chart.py: no result rows in {' '.join(results)}")
    title = "Word count, MB/s (higher is better): mr-local and the alternatives"
    open(target, "w", encoding="utf-8").write(svg(data, title) + "\n")
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
