"""The peer baseline: the unmodified Atlan SDK (pyatlan 10.0.0) doing a scenario's job, as documented.

Run by ``benchmarks/scale.py`` with ``.venv-sdk/bin/python`` (pyatlan pins its own pydantic):
``_sdk_baseline.py read|rerun|create BODIES_JSON real|patched``, with EMULATOR_URL and
EMULATOR_KEY in the environment. ``BODIES_JSON`` holds the workflow requests our compiler makes
(equal to the SDK's own ``to_workflow()`` for the same builder calls). Per workflow:

- read:   ``find_by_id`` (the SDK has no listing by label; this is how a script learns the state)
- rerun:  ``find_by_id``, ``update``, ``rerun(idempotent=True)`` (the documented update-and-run)
- create: ``find_by_id`` (nothing found), ``run``

``patched`` replaces the fixed ``sleep(10)`` of ``rerun(idempotent=True)`` with nothing, as
pyatlan's own tests do; ``real`` keeps it. Prints one JSON line: seconds, failures, peak RSS.
"""

from __future__ import annotations

import json
import os
import sys
import time
import warnings
from pathlib import Path
from typing import Any

warnings.simplefilter("ignore")

import pyatlan.client.workflow as workflow_module  # noqa: E402
from _rss import peak_rss_mb  # noqa: E402  (this directory, as the script's own)
from pyatlan.client.atlan import AtlanClient  # noqa: E402
from pyatlan.model.workflow import Workflow  # noqa: E402

SLEPT: list[float] = []


def main() -> int:
    mode, bodies_path, sleep_mode = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
    if sleep_mode == "patched":
        workflow_module.sleep = SLEPT.append  # type: ignore[attr-defined]
    bodies: list[dict[str, Any]] = json.loads(bodies_path.read_text())
    client = AtlanClient(base_url=os.environ["EMULATOR_URL"], api_key=os.environ["EMULATOR_KEY"])
    wf = client.workflow
    failures: list[str] = []
    started = time.perf_counter()
    for body in bodies:
        name = body["metadata"]["name"]
        try:
            found = wf.find_by_id(name)
            if mode == "read":
                continue
            if mode == "create":
                if found is None:
                    wf.run(Workflow.parse_obj(body))
                continue
            if found is None:
                failures.append(f"{name}: not found")
                continue
            wf.update(Workflow.parse_obj(body))
            wf.rerun(found, idempotent=True)
        except Exception as exc:  # one workflow's failure must not stop the others, as in our apply
            failures.append(f"{name}: {type(exc).__name__}: {str(exc)[:200]}")
    wall = time.perf_counter() - started
    out = {
        "wall": wall,
        "workflows": len(bodies),
        "failed": len(failures),
        "failures": failures[:5],
        "patched_sleeps": len(SLEPT),
        "max_rss_mb": peak_rss_mb(),
    }
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
