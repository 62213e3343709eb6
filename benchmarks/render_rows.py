"""Render benchmark: N source rows through a five-column template, next to stdlib ``csv``.

Run: ``make bench`` (or ``.venv/bin/python benchmarks/render_rows.py [--rows N ...] [--repeat R]``).
Asserts nothing; prints rows per second, wall and CPU seconds and peak RSS of
``reconciler.data.render_source`` and of a plain ``csv.reader`` -> ``csv.writer`` copy of the same
file (its baseline, measured in the same run, alternating with it), and the ratios of the two
times: the best of R runs each, as other work on the machine only ever slows a run down. Each run
is a fresh process, so that its peak RSS is its own, timed after its imports. Rendering streams
(the duplicate check keeps 8 bytes a row, spilled to disk in runs: reconciler/data/render.py), so
the peak stays flat as N grows.
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
TEMPLATE = [
    {
        "typeName": "Table",
        "qualifiedName": "default/snowflake/1700000000/${1}/${2}/${3}",
        "name": "${3}",
        "userDescription": "${4}",
        "ownerUsers": ["${5}"],
    }
]


def write_source(path: Path, rows: int) -> None:
    """A ;-separated file of ``rows`` rows (and a header): database, schema, table, text, owners."""
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("database;schema;table;description;owners\n")
        for n in range(rows):
            out.write(f"DB{n % 10};SCH{n % 100};T{n};Table number {n}, kept for reports;u{n % 7},u{n % 3}\n")


def render(source: Path, output: Path) -> int:
    from reconciler.data import CsvOptions, load_template, render_source  # imported by one()

    with output.open("wb") as sink:
        rendered = render_source(
            source, load_template(TEMPLATE, "assets"), CsvOptions(header_row=True), sink=sink
        )
    return rendered.rows


def baseline(source: Path, output: Path) -> int:
    rows = 0
    with (
        source.open(encoding="utf-8", newline="") as text,
        output.open("w", encoding="utf-8", newline="") as out,
    ):
        reader = csv.reader(text, delimiter=";")
        writer = csv.writer(out, lineterminator="\n")
        for row in reader:
            writer.writerow(row)
            rows += 1
    return rows - 1


def one(side: str, source: Path, output: Path) -> None:
    """One side in this (fresh) process: one JSON line with its rows, seconds and peak RSS."""
    sys.path.insert(0, str(HERE))
    from _rss import peak_rss_mb

    if side == "render":  # the import and the vocabulary's first read are start-up, not rendering
        from reconciler.data.vocabulary import vocabulary

        vocabulary()
    start, cpu = time.perf_counter(), time.process_time()
    rows = (render if side == "render" else baseline)(source, output)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    print(json.dumps({"rows": rows, "seconds": seconds, "cpu": cpu, "rss_mb": peak_rss_mb()}))


def measure(side: str, source: Path, output: Path) -> dict[str, float]:
    argv = [sys.executable, __file__, "--one", side, str(source), str(output)]
    done = subprocess.run(argv, capture_output=True, text=True, check=True)
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--one", nargs=3, metavar=("SIDE", "SOURCE", "OUTPUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        side, source, output = args.one
        one(side, Path(source), Path(output))
        return
    print(
        f"{'rows':>10} {'side':<22} {'wall s':>7} {'CPU s':>7} {'rows/s':>9} {'peak RSS MB':>12} "
        f"{'x csv wall':>10} {'x csv CPU':>10}"
    )
    for count in args.rows:
        runs: dict[str, list[dict[str, float]]] = {"baseline": [], "render": []}
        with tempfile.TemporaryDirectory() as directory:
            source = Path(directory) / "source.csv"
            write_source(source, count)
            for _ in range(args.repeat):
                for side in runs:
                    runs[side].append(measure(side, source, Path(directory) / f"{side}.csv"))
        best = {
            side: {key: min(run[key] for run in found) for key in found[0]} for side, found in runs.items()
        }
        plain = best["baseline"]
        for side, name in (("baseline", "stdlib csv read+write"), ("render", "render_source")):
            result = best[side]
            rss = max(run["rss_mb"] for run in runs[side])
            wall, cpu = result["seconds"], result["cpu"]
            print(
                f"{count:>10,} {name:<22} {wall:7.2f} {cpu:7.2f} {result['rows'] / wall:9,.0f} {rss:12.1f} "
                f"{wall / plain['seconds']:10.2f} {cpu / plain['cpu']:10.2f}"
            )


if __name__ == "__main__":
    main()
