"""How long the emulator takes to serve a 1,000-hit page out of 10,000 stored workflows.

Seeds 10,000 asset-import workflows (the SDK's fixture body, renamed) into a temporary database,
then times `POST workflows/indexsearch` over real HTTP on 127.0.0.1 for a few query shapes.
Prints the figures; asserts nothing. Run: ``.venv/bin/python benchmarks/emulator_search.py``.
"""

from __future__ import annotations

import copy
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from reconciler.emulator import Clock, EmulatorConfig, EmulatorServer
from reconciler.emulator.store import RunSettings

FIXTURE = (
    Path(__file__).resolve().parents[2]
    / "shared"
    / "atlan-workflow-fixtures"
    / "pyatlan-package-requests"
    / "asset_import_s3.json"
)
WORKFLOWS = 10_000
PAGE = 1_000
REPEATS = 10
KEY = "benchmark-key"


def seed(server: EmulatorServer, base: dict[str, Any]) -> float:
    started = time.perf_counter()
    store = server.app.emulator.store
    settings = RunSettings(run_seconds=30, pending_seconds=1, failure_rate=0, seed=0)
    clock = server.app.emulator.clock
    for index in range(WORKFLOWS):
        body = copy.deepcopy(base)
        name = f"rc-bench-asset-import-{index:05d}"
        body["metadata"]["name"] = name
        body["metadata"]["labels"]["reconciler.dev/instance"] = "bench" if index % 2 == 0 else "other"
        body["metadata"]["labels"]["reconciler.dev/manifest"] = f"m-{index:05d}"
        store.create(body, now=clock.now(), owner="bench", submit=False, settings=settings)
        clock.advance(1)
    return time.perf_counter() - started


def measure(client: httpx.Client, body: dict[str, Any]) -> tuple[float, float, int]:
    """Median round trip (ms), median server-side `took` (ms), hits on the page."""
    rounds, tooks, hits = [], [], 0
    for _ in range(REPEATS):
        started = time.perf_counter()
        response = client.post("/api/service/workflows/indexsearch", json=body)
        rounds.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
        payload = response.json()
        tooks.append(payload["took"])
        hits = len(payload["hits"]["hits"])
    return statistics.median(rounds), statistics.median(tooks), hits


def main() -> int:
    base = json.loads(FIXTURE.read_text())
    label_filter = {
        "bool": {
            "filter": [
                {
                    "nested": {
                        "path": "metadata",
                        "query": {
                            "term": {"metadata.labels.reconciler.dev/instance.keyword": {"value": "bench"}}
                        },
                    }
                }
            ]
        }
    }
    queries = {
        "match_all, default sort": {"from": 0, "size": PAGE},
        "label term (5,000 match)": {"from": 0, "size": PAGE, "query": label_filter},
        "label term, page 5": {"from": 4 * PAGE, "size": PAGE, "query": label_filter},
        "regexp on name, sort name asc": {
            "from": 0,
            "size": PAGE,
            "query": {"regexp": {"metadata.name.keyword": {"value": "rc[-]bench[-].*[0-9]{5}"}}},
            "sort": [{"metadata.name.keyword": {"order": "asc"}}],
        },
        "find_by_id (term on name)": {
            "from": 0,
            "size": 1,
            "query": {
                "bool": {
                    "filter": [{"term": {"metadata.name.keyword": {"value": "rc-bench-asset-import-04242"}}}]
                }
            },
        },
    }
    with tempfile.TemporaryDirectory() as tmp:
        config = EmulatorConfig(api_key=KEY, db_path=Path(tmp) / "bench.db", clock=Clock(frozen=True))
        with EmulatorServer(config) as server:
            seconds = seed(server, base)
            print(f"seeded {WORKFLOWS} workflows in {seconds:.1f} s")
            headers = {"authorization": f"Bearer {KEY}"}
            with httpx.Client(base_url=server.base_url, headers=headers, timeout=60) as client:
                client.post("/api/service/workflows/indexsearch", json={"size": 1})  # warm the cache
                print(f"{'query':34} {'hits':>5} {'round trip ms':>14} {'server took ms':>15}")
                for label, body in queries.items():
                    round_trip, took, hits = measure(client, body)
                    print(f"{label:34} {hits:5d} {round_trip:14.1f} {took:15.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
