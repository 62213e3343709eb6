"""Peak memory of the current process; stdlib only, so both the reconciler's driver and the SDK
baseline (which runs under the SDK's own interpreter) can import it from this directory."""

from __future__ import annotations

import resource
from pathlib import Path


def peak_rss_mb() -> float:
    """This process's peak resident set size in MB: VmHWM, which exec resets.

    (``ru_maxrss`` is not: on Linux it keeps the high-water mark of the image before exec, i.e. of
    the benchmark process that forked this one.)
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
