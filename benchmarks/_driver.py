"""One reconciler scenario in its own process, timed phase by phase; prints one JSON line.

Run by ``benchmarks/scale.py`` as ``python benchmarks/_driver.py plan|apply MANIFEST_DIR``, with
the settings in the environment (ATLAN_BASE_URL, ATLAN_API_KEY, RECONCILER_*). It does what the
CLI commands do, with the same functions (``desired_and_live``, ``plan_state``, ``apply_plan``,
the text renderers), and reports the seconds each phase took (``read``: the manifests loaded
while the live workflows are listed; ``diff``; ``apply``; ``render``), the apply outcomes and
the process's peak RSS.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

STARTED = time.perf_counter()

from _rss import peak_rss_mb  # noqa: E402  (this directory, as the script's own)

from reconciler import collector  # noqa: E402
from reconciler.apply import ApplyGuard, apply_plan  # noqa: E402
from reconciler.engine import desired_and_live, plan_state  # noqa: E402
from reconciler.render.plan import render_text  # noqa: E402
from reconciler.render.results import render_results_text  # noqa: E402
from reconciler.settings import load_settings  # noqa: E402


async def scenario(command: str, manifests: Path, phases: dict[str, float], out: dict[str, Any]) -> None:
    settings = load_settings()
    mark = time.perf_counter()
    async with desired_and_live(settings, [manifests], os.environ) as (client, desired, live):
        # Manifests load in a worker thread while the listing is in flight, as in the CLI.
        phases["read"] = time.perf_counter() - mark
        out["rss_mb_after"] = {"read": peak_rss_mb()}
        mark = time.perf_counter()
        guard = ApplyGuard.of(live, desired, instance=settings.instance)
        result, _ = plan_state(settings, desired, live)
        phases["diff"] = time.perf_counter() - mark
        out["rss_mb_after"]["diff"] = peak_rss_mb()
        mark = time.perf_counter()
        text = render_text(result, color=False)
        phases["render"] = time.perf_counter() - mark
        out["summary"] = result.summary
        out["plan_chars"] = len(text)
        if command == "apply" and result.has_changes:
            mark = time.perf_counter()
            applied = await apply_plan(result, desired, client, guard=guard, parallelism=settings.parallelism)
            phases["apply"] = time.perf_counter() - mark
            out["rss_mb_after"]["apply"] = peak_rss_mb()
            mark = time.perf_counter()
            render_results_text(applied, color=False)
            phases["render"] += time.perf_counter() - mark
            out["outcomes"] = dict(Counter(item.outcome for item in applied.items))
            out["failures"] = [item.detail for item in applied.items if item.outcome == "failed"][:5]
        out["rendered"] = time.perf_counter()
        out["cpu_at_render"] = time.process_time()


def main() -> int:
    command, manifests = sys.argv[1], Path(sys.argv[2])
    collector.for_one_command()  # as the console script does
    imported = time.perf_counter() - STARTED
    phases: dict[str, float] = {}
    out: dict[str, Any] = {"imports": imported}
    mark, cpu = time.perf_counter(), time.process_time()
    asyncio.run(scenario(command, manifests, phases, out))
    ended = time.perf_counter()
    # Wall: from reading manifests to the rendered result. What follows (closing the client,
    # freeing everything) is reported apart, as teardown.
    out["wall"] = out.pop("rendered") - mark
    out["teardown"] = ended - mark - out["wall"]
    out["cpu"] = out.pop("cpu_at_render") - cpu  # this process's CPU seconds within the wall
    out["phases"] = phases
    out["max_rss_mb"] = peak_rss_mb()
    print(json.dumps(out, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
