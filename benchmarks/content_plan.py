"""Content benchmark (issue 16): what planning the sources' files costs. Asserts nothing; prints.

Run: ``.venv/bin/python benchmarks/content_plan.py [--workflows N] [--files F] [--rows R]
[--repeat K]`` (``make bench`` runs it with the defaults).

The emulator is served on 127.0.0.1 (uvicorn on a thread of this process), with its objects
directory as the stand-in of the S3 bucket the first scenario's manifests name, and its file API
(presigned URLs, over HTTP) as the tenant store of the second's. Each measured side runs in a
fresh process (this file, ``--side``), timed after its imports, with its own peak RSS:

1. **Unchanged sources.** N workflows (default 1,000), each importing a small generated file,
   applied once; then ``plan``: its wall time, and the object-store requests it made (counted by
   ``reconciler.target.ObjectStores``): zero, since every recorded digest is the local one.
2. **Changed files.** F workflows (default 10) of R rows each (default 10,000) on the tenant
   store, applied; then every file edited (1% of rows changed, 50 added, 50 removed) and
   ``plan`` run: wall time (loading and rendering the sources, listing, one GET per file, the
   second rendering, the row diff, the text plan), the store's requests and peak RSS; next to a
   process that merely downloads those F objects through the same store (presigned URL + GET):
   the ratio of the two is the figure. Best of K runs of each, alternating.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
KEY = "benchmark-api-key-0123456789"

S3 = {
    "s3": {
        "access_key": "AKIABENCH",
        "secret_key": "${env:BENCH_SECRET}",
        "bucket": "bench",
        "region": "us-west-1",
    }
}


def manifest(name: str, store: dict[str, Any] | None) -> str:
    """An AssetImport whose assets file comes from ``../data/<name>.csv`` (JSON is YAML)."""
    spec: dict[str, Any] = {
        "assets": {"prefix": f"/imports/{name}", "object_key": "assets.csv", "source": f"../data/{name}.csv"}
    }
    if store:
        spec["object_store"] = store
    return json.dumps(
        {"apiVersion": "reconciler/v1", "kind": "AssetImport", "metadata": {"name": name}, "spec": spec}
    )


HEADER = "typeName,qualifiedName,name,userDescription\n"


def table_rows(name: str, start: int, stop: int, edited: int = -1) -> str:
    return "".join(
        f"Table,default/snowflake/1/DB/{name}/T{n},T{n},{'Edited: ' if n % 100 == edited else ''}Table {n}\n"
        for n in range(start, stop)
    )


def write_project(root: Path, workflows: int, files: int, rows: int) -> tuple[Path, Path]:
    """Two manifest directories (scenario 1 and 2) and their data, under ``root``."""
    (root / ".git").mkdir(parents=True)  # the sources' repository
    data = root / "data"
    data.mkdir()
    small, large = root / "small", root / "large"
    small.mkdir()
    large.mkdir()
    for i in range(workflows):
        (small / f"small-{i:05d}.yaml").write_text(manifest(f"small-{i:05d}", S3))
        (data / f"small-{i:05d}.csv").write_text(HEADER + table_rows(f"S{i}", 0, 5))
    for i in range(files):
        (large / f"large-{i:02d}.yaml").write_text(manifest(f"large-{i:02d}", None))
        (data / f"large-{i:02d}.csv").write_text(HEADER + table_rows(f"L{i}", 0, rows))
    return small, large


def edit_large(root: Path, files: int, rows: int) -> None:
    """1% of rows changed, the first 50 removed, 50 added."""
    for i in range(files):
        text = HEADER + table_rows(f"L{i}", 50, rows, edited=7) + table_rows(f"L{i}", rows, rows + 50)
        (root / "data" / f"large-{i:02d}.csv").write_text(text)


# -- the sides, each in a fresh process ------------------------------------------------------------


async def _side(side: str, manifests: Path) -> dict[str, Any]:
    from reconciler.apply import ApplyGuard, apply_plan
    from reconciler.engine import Uploads, plan_with_content, session
    from reconciler.packages.compiler import TENANT_STORE
    from reconciler.render.plan import render_text
    from reconciler.settings import load_settings
    from reconciler.target import connect_with_stores

    settings = load_settings()
    began = time.perf_counter()
    if side == "download":
        keys = json.loads(os.environ["BENCH_KEYS"])
        async with connect_with_stores(settings) as (_, stores):
            began = time.perf_counter()
            store = stores.store(TENANT_STORE)
            sizes = [len((await store.get(key) or (None, b""))[1]) for key in keys]
            return {"seconds": time.perf_counter() - began, "bytes": sum(sizes), "store": dict(stores.calls)}
    async with session(settings, [manifests], os.environ) as (client, stores, desired, live):
        guard = ApplyGuard.of(live, desired, instance=settings.instance)
        result, _, _ = await plan_with_content(settings, stores, desired, live)
        text = render_text(result)
        out: dict[str, Any] = {"summary": result.summary, "plan_chars": len(text)}
        if side == "apply":
            applied = await apply_plan(
                result,
                desired,
                client,
                guard=guard,
                parallelism=settings.parallelism,
                uploads=Uploads(stores),
            )
            out["failed"] = [item.detail for item in applied.items if item.outcome == "failed"][:3]
        out["seconds"] = time.perf_counter() - began
        out["store"] = dict(stores.calls)
    return out


def side_main(side: str, manifests: Path) -> None:
    sys.path.insert(0, str(HERE))
    from _rss import peak_rss_mb

    out = asyncio.run(_side(side, manifests))
    out["rss_mb"] = peak_rss_mb()
    print(json.dumps(out))


# -- the orchestration ------------------------------------------------------------------------------


def run_side(side: str, manifests: Path, environ: dict[str, str]) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, "--side", side, str(manifests)],
        env=environ,
        cwd=manifests.parent,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{side} failed: {done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    if result.get("failed"):
        raise RuntimeError(f"{side}: items failed: {result['failed']}")
    return result


def http_requests(server: Any) -> int:
    """Requests to the tenant's file API and to the presigned URLs it handed out, since the log
    was cleared."""
    records = server.app.emulator.log.records()
    return sum(1 for r in records if "presignedUrl" in r["path"] or "/_store/" in r["path"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workflows", type=int, default=1000)
    parser.add_argument("--files", type=int, default=10)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--side", choices=["plan", "apply", "download"])
    parser.add_argument("manifests", nargs="?", type=Path)
    args = parser.parse_args()
    if args.side:
        side_main(args.side, args.manifests)
        return

    from reconciler.emulator import EmulatorConfig, EmulatorServer

    with tempfile.TemporaryDirectory(prefix="content-bench-") as tmp:
        root = Path(tmp)
        small, large = write_project(root / "repo", args.workflows, args.files, args.rows)
        config = EmulatorConfig(
            api_key=KEY, db_path=root / "emulator.db", run_seconds=0.001, pending_seconds=0
        )
        with EmulatorServer(config) as server:
            environ = {
                **{k: v for k, v in os.environ.items() if not k.startswith(("ATLAN_", "RECONCILER_"))},
                "ATLAN_BASE_URL": server.base_url,
                "ATLAN_API_KEY": KEY,
                "RECONCILER_STAND_INS": str(root / "objects"),
                "RECONCILER_STATE_DIR": str(root / "state"),
                "RECONCILER_RATE_LIMIT": "10000",
                "RECONCILER_PARALLELISM": "16",
                "BENCH_SECRET": "bench-secret-value",
            }
            print(f"content benchmark: {args.workflows} unchanged, {args.files} x {args.rows:,} rows changed")
            applied = run_side("apply", small, environ)
            print(
                f"  setup: {args.workflows} workflows applied in {applied['seconds']:.1f} s "
                f"({applied['store']})"
            )
            plans = [run_side("plan", small, environ) for _ in range(args.repeat)]
            best = min(plans, key=lambda r: r["seconds"])
            requests = sum(sum(p["store"].values()) for p in plans)
            print(
                f"  plan, {args.workflows} unchanged sources: {best['seconds']:.2f} s, "
                f"{requests} object-store requests in {args.repeat} plans, peak RSS {best['rss_mb']} MB"
            )

            run_side("apply", large, environ)
            unchanged = min(
                (run_side("plan", large, environ) for _ in range(args.repeat)), key=lambda r: r["seconds"]
            )
            edit_large(root / "repo", args.files, args.rows)
            environ["BENCH_KEYS"] = json.dumps(
                [f"imports/large-{i:02d}/assets.csv" for i in range(args.files)]
            )
            planned, downloads = [], []
            for _ in range(args.repeat):  # alternating, so that both see the same machine
                server.app.emulator.log.clear()
                planned.append(run_side("plan", large, environ) | {"http": http_requests(server)})
                server.app.emulator.log.clear()
                downloads.append(run_side("download", large, environ) | {"http": http_requests(server)})
            plan_best = min(planned, key=lambda r: r["seconds"])
            download_best = min(downloads, key=lambda r: r["seconds"])
            print(
                f"  plan, {args.files} changed files of {args.rows:,} rows: {plan_best['seconds']:.2f} s, "
                f"store requests {plan_best['store']} ({plan_best['http']} HTTP requests to the file API "
                f"and its URLs), peak RSS {plan_best['rss_mb']} MB, "
                f"{plan_best['plan_chars']:,} characters of plan"
            )
            print(
                f"  plan of the same manifests before the edit (every file compiled, none read): "
                f"{unchanged['seconds']:.2f} s, peak RSS {unchanged['rss_mb']} MB"
            )
            print(
                f"  download only, the same {args.files} objects ({download_best['bytes']:,} bytes): "
                f"{download_best['seconds']:.2f} s ({download_best['http']} HTTP requests), "
                f"peak RSS {download_best['rss_mb']} MB"
            )
            print(f"  ratio plan / download: {plan_best['seconds'] / download_best['seconds']:.1f}")


if __name__ == "__main__":
    main()
