"""Import benchmark: an asset-import run of N rows in the emulator, next to stdlib ``csv``.

Run: ``.venv/bin/python benchmarks/import_rows.py [--rows N ...] [--repeat R] [--batch-size B]``.
Asserts nothing. Generates an assets file of N tables (five columns: typeName, qualifiedName,
name, description, ownerUsers) and, in a fresh process per repeat, first reads it with a plain
``csv.reader`` (the baseline), then runs an asset import of it: the file is put in the tenant
store, and ``POST workflows?submit=true`` is sent to the emulator in-process (httpx's ASGI
transport), which carries the import out before it answers (reconciler/emulator/imports): parse,
check, look every row up in the catalog, write it, in batches of B rows, one SQLite transaction
each, and the results.csv. Prints rows per second, wall and CPU seconds and peak RSS of each, and
the ratio of the two times: the best of R runs, as other work on the machine only slows one down.
The peak RSS of the import is the process's high-water mark after both (the baseline streams).
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
CONNECTION = "default/snowflake/1700000000"


def write_source(path: Path, rows: int) -> None:
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("typeName,qualifiedName,name,description,ownerUsers\n")
        for n in range(rows):
            out.write(
                f"Table,{CONNECTION}/DB{n % 10}/SCH{n % 100}/T{n},T{n},"
                f'"Table number {n}, kept for reports","u{n % 7}\nu{n % 3}"\n'
            )


def baseline(source: Path) -> int:
    rows = 0
    with source.open(encoding="utf-8", newline="") as text:
        for _row in csv.reader(text):
            rows += 1
    return rows - 1


def run_import(source: Path, database: Path, batch_size: int) -> tuple[int, str]:
    """One run of the import through the workflow API; its created count and phase."""
    import anyio
    import httpx

    from reconciler.emulator import EmulatorConfig, create_app

    config = EmulatorConfig(api_key="bench", db_path=database, run_seconds=0, pending_seconds=0)
    app = create_app(config)
    app.emulator.objects.write("tenant", "bench/assets.csv", source.read_bytes())
    parameters = {
        "assets_prefix": "bench",
        "assets_key": "assets.csv",
        "assets_upsert_semantic": "upsert",
        "assets_config": "advanced",
        "assets_batch_size": batch_size,
    }
    task = {
        "name": "run",
        "templateRef": {"name": "csa-asset-import", "template": "main", "clusterScope": True},
        "arguments": {"parameters": [{"name": k, "value": v} for k, v in parameters.items()]},
    }
    body = {
        "metadata": {"name": "csa-asset-import-1700000000", "namespace": "default"},
        "spec": {"templates": [{"name": "main", "dag": {"tasks": [task]}}], "entrypoint": "main"},
    }

    async def submit() -> dict[str, object]:
        transport = httpx.ASGITransport(app=app)
        headers = {"authorization": "Bearer bench"}
        async with httpx.AsyncClient(transport=transport, base_url="http://emulator", headers=headers) as c:
            assert (await c.post("/api/service/workflows?submit=true", json=body)).status_code == 200
            found = await c.post("/api/service/runs/indexsearch", json={"size": 1})
            source: dict[str, object] = found.json()["hits"]["hits"][0]["_source"]
            return source

    try:
        run = anyio.run(submit)
    finally:
        app.emulator.close()
    status = run["status"]
    assert isinstance(status, dict)
    results = json.loads(status["outputs"]["parameters"][0]["value"])
    return int(results["files"][0]["created"]), str(status["phase"])


def one(source: Path, directory: Path, batch_size: int) -> None:
    """Both sides in this (fresh) process, the baseline first: one JSON line of figures."""
    sys.path.insert(0, str(HERE))
    from _rss import peak_rss_mb

    import reconciler.emulator.app  # noqa: F401 - the imports are start-up, not the run
    from reconciler.data.vocabulary import vocabulary

    vocabulary()
    figures: dict[str, float | str] = {}
    start, cpu = time.perf_counter(), time.process_time()
    figures["baseline_rows"] = baseline(source)
    figures["baseline_seconds"] = time.perf_counter() - start
    figures["baseline_cpu"] = time.process_time() - cpu
    figures["baseline_rss_mb"] = peak_rss_mb()
    start, cpu = time.perf_counter(), time.process_time()
    created, phase = run_import(source, directory / "emulator.db", batch_size)
    figures["import_seconds"] = time.perf_counter() - start
    figures["import_cpu"] = time.process_time() - cpu
    figures["import_rss_mb"] = peak_rss_mb()
    figures["import_rows"] = created
    figures["phase"] = phase
    print(json.dumps(figures))


def measure(source: Path, batch_size: int) -> dict[str, float | str]:
    with tempfile.TemporaryDirectory() as directory:
        argv = [sys.executable, __file__, "--one", str(source), directory, str(batch_size)]
        done = subprocess.run(argv, capture_output=True, text=True, check=True)
    result: dict[str, float | str] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _best(runs: list[dict[str, float | str]], key: str) -> float:
    return min(float(run[key]) for run in runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=20, help="assets_batch_size")
    parser.add_argument("--one", nargs=3, metavar=("SOURCE", "DIRECTORY", "BATCH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        source, directory, batch = args.one
        one(Path(source), Path(directory), int(batch))
        return
    print(
        f"{'rows':>10} {'side':<24} {'wall s':>7} {'CPU s':>7} {'rows/s':>9} {'peak RSS MB':>12} "
        f"{'x csv wall':>10} {'x csv CPU':>10}"
    )
    for count in args.rows:
        with tempfile.TemporaryDirectory() as directory:
            source = Path(directory) / "assets.csv"
            write_source(source, count)
            runs = [measure(source, args.batch_size) for _ in range(args.repeat)]
        for run in runs:
            if run["phase"] != "Succeeded" or run["import_rows"] != count:
                raise SystemExit(f"the import did not load every row: {run}")

        plain_wall, plain_cpu = _best(runs, "baseline_seconds"), _best(runs, "baseline_cpu")
        for side, name in (("baseline", "stdlib csv.reader"), ("import", "asset-import run")):
            wall, cpu = _best(runs, f"{side}_seconds"), _best(runs, f"{side}_cpu")
            rss = max(float(run[f"{side}_rss_mb"]) for run in runs)
            print(
                f"{count:>10,} {name:<24} {wall:7.2f} {cpu:7.2f} {count / wall:9,.0f} {rss:12.1f} "
                f"{wall / plain_wall:10.1f} {cpu / plain_cpu:10.1f}"
            )


if __name__ == "__main__":
    main()
