"""Start-up benchmark: ``reconciler --version`` and ``reconciler plan --help`` against ``python -c pass``.

Run: ``make bench`` (or ``.venv/bin/python benchmarks/startup.py``). Asserts nothing; prints each
command's median wall time over a few runs and its ratio to an interpreter that does nothing,
measured in this same process, back to back. The package's ``__init__``s import their members on
first use (reconciler/_lazy.py) and the CLI imports a command's modules only when it runs, so a
command that does not plan loads no planner, no pydantic model and no HTTP client.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

RUNS = 7
SCRIPT = Path(sys.executable).with_name("reconciler")


def median_seconds(argv: list[str]) -> float:
    walls = []
    for _ in range(RUNS):
        start = time.perf_counter()
        subprocess.run(argv, check=True, capture_output=True)
        walls.append(time.perf_counter() - start)
    return statistics.median(walls)


def main() -> None:
    baseline = median_seconds([sys.executable, "-c", "pass"])
    print(f"{'command':<36} {'median s':>9} {'x python -c pass':>17}")
    print(f"{'python -c pass':<36} {baseline:9.3f} {1:17.1f}")
    for argv in (["--version"], ["plan", "--help"], ["emulator", "serve", "--help"]):
        seconds = median_seconds([str(SCRIPT), *argv])
        print(f"{'reconciler ' + ' '.join(argv):<36} {seconds:9.3f} {seconds / baseline:17.1f}")


if __name__ == "__main__":
    main()
