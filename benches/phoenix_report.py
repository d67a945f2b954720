#!/usr/bin/env python3
"""The table and chart of `benches/phoenix.sh`: medians of its raw runs.

    python3 benches/phoenix_report.py RAW.tsv OUT.md OUT.svg [--runs K] [--note TEXT]

RAW.tsv has one row per run (app, threads, program = phoenix|ours, seconds,
rss_kb, -, args), one per output check (program = check, the verdict in the
check column), and one per skipped app. Writes a Markdown table (medians,
ratio = ours / Phoenix++'s time, peak RSS) and an SVG bar chart of the
ratios. Only the standard library is needed.
"""

import argparse
import csv
import datetime
import os
import platform
import statistics
import subprocess
from collections import defaultdict, OrderedDict

APPS = ["histogram", "linear_regression", "string_match", "word_count", "kmeans", "pca", "matrix_multiply"]
# The chart's ceiling: ratios above it are drawn cut, with their value.
CAP = 8.0
COLOURS = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a"]


def machine():
    cpu = platform.processor() or "unknown CPU"
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                cpu = line.split(":", 1)[1].strip()
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {cpu}, {platform.node()}"


def load(path):
    """Returns rows {(app, threads): {...}} in input order, and skipped apps."""
    rows = OrderedDict()
    skipped = []
    with open(path, newline="") as f:
        for r in csv.DictReader(f, delimiter="\t"):
            if r["program"] == "skipped":
                skipped.append((r["app"], r["check"]))
                continue
            row = rows.setdefault((r["app"], r["threads"]), defaultdict(list))
            if r["program"] == "check":
                row["checks"].append(r["check"])
            elif r["seconds"] != "fail":
                row[r["program"]].append((float(r["seconds"]), int(r["rss_kb"])))
                row["args"] = r["args"]
            else:
                row["checks"].append("FAILED")
    return rows, skipped


def median(runs, i):
    return statistics.median(r[i] for r in runs) if runs else None


def table(rows, skipped, runs, note):
    out = [f"# Phoenix++ 1.0 against our ports, on its own suite ({datetime.date.today()})", ""]
    out.append(f"Machine: {machine()}. Medians of {runs} alternating run(s) per cell; "
               "whole process wall time and peak RSS (`/usr/bin/time -f %M`). "
               "Ratio = ours / Phoenix++'s time: below 1 means ours is faster. "
               "Outputs: checked on every run as `benches/phoenix.sh` describes.")
    if note:
        out += ["", f"**{note}**"]
    out += ["", "| app | threads | Phoenix++ s | ours s | ratio | Phoenix++ RSS MB | ours RSS MB | outputs | arguments |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |"]
    for (app, threads), row in rows.items():
        theirs, ours = row["phoenix"], row["ours"]
        t, o = median(theirs, 0), median(ours, 0)
        ratio = f"{o / t:.2f}" if t and o is not None else "-"
        checks = row["checks"]
        verdict = "equal" if checks and all(c == "ok" for c in checks) else ", ".join(sorted(set(checks))) or "-"
        cell = lambda v, fmt: fmt.format(v) if v is not None else "-"
        out.append(f"| {app} | {threads} | {cell(t, '{:.3f}')} | {cell(o, '{:.3f}')} | {ratio} | "
                   f"{cell(median(theirs, 1) and median(theirs, 1) / 1024, '{:.0f}')} | "
                   f"{cell(median(ours, 1) and median(ours, 1) / 1024, '{:.0f}')} | {verdict} | "
                   f"`{os.path.basename(row.get('args', '-'))}` |")
    for app, why in skipped:
        out.append(f"| {app} | - | - | - | - | - | - | {why} | |")
    return "\n".join(out) + "\n"


def chart(rows):
    """Bars of the ratio per app, one colour per thread count; a line at 1."""
    threads = sorted({t for _, t in rows}, key=int)
    apps = [a for a in APPS if any(a == k[0] for k in rows)] + \
        [a for a, _ in rows if a not in APPS]
    apps = list(OrderedDict.fromkeys(apps))
    ratios = {}
    for (app, t), row in rows.items():
        tm, om = median(row["phoenix"], 0), median(row["ours"], 0)
        if tm and om is not None:
            ratios[(app, t)] = om / tm
    # One app far off the scale (string_match, where Phoenix++ does no work)
    # would flatten every other bar: bars stop at CAP, labelled with their
    # value.
    top = min(max([1.2] + [r * 1.1 for r in ratios.values()]), CAP * 1.1)
    width, height, left, bottom, group = 120 * max(len(apps), 1) + 80, 360, 60, 60, 120
    plot = height - bottom - 30
    y = lambda v: 30 + plot - plot * v / top
    bar = (group - 30) / max(len(threads), 1)
    svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="12">',
           f'<text x="{left}" y="18">Time ratio, ours / Phoenix++ (below 1: ours faster)</text>',
           f'<line x1="{left}" y1="{y(0)}" x2="{width - 10}" y2="{y(0)}" stroke="black"/>',
           f'<line x1="{left}" y1="{y(1)}" x2="{width - 10}" y2="{y(1)}" stroke="#999" stroke-dasharray="4"/>',
           f'<text x="{left - 8}" y="{y(1) + 4}" text-anchor="end">1.0</text>']
    for i, app in enumerate(apps):
        x0 = left + 10 + i * group
        for j, t in enumerate(threads):
            r = ratios.get((app, t))
            if r is None:
                continue
            x = x0 + j * bar
            shown = min(r, CAP)
            label = f"{r:.2f}" if r <= CAP else f"{r:.0f} (cut)"
            svg.append(f'<rect x="{x:.1f}" y="{y(shown):.1f}" width="{bar - 4:.1f}" height="{y(0) - y(shown):.1f}" '
                       f'fill="{COLOURS[j % len(COLOURS)]}"><title>{app}, {t} threads: {r:.2f}</title></rect>')
            svg.append(f'<text x="{x + (bar - 4) / 2:.1f}" y="{y(shown) - 3:.1f}" text-anchor="middle" font-size="10">{label}</text>')
        svg.append(f'<text x="{x0 + (group - 30) / 2:.1f}" y="{y(0) + 16}" text-anchor="middle">{app}</text>')
    for j, t in enumerate(threads):
        x = left + 10 + j * 110
        svg.append(f'<rect x="{x}" y="{height - 22}" width="12" height="12" fill="{COLOURS[j % len(COLOURS)]}"/>')
        svg.append(f'<text x="{x + 16}" y="{height - 12}">{t} thread{"s" if t != "1" else ""}</text>')
    svg.append("</svg>")
    return "\n".join(svg) + "\n"


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("raw")
    p.add_argument("md")
    p.add_argument("svg")
    p.add_argument("--runs", default="?")
    p.add_argument("--note", default="")
    a = p.parse_args()
    rows, skipped = load(a.raw)
    with open(a.md, "w") as f:
        f.write(table(rows, skipped, a.runs, a.note))
        f.write(f"\n![ratios]({os.path.basename(a.svg)})\n")
    with open(a.svg, "w") as f:
        f.write(chart(rows))


if __name__ == "__main__":
    main()
