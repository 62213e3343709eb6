"""The garbage-collector policy of a process that lives for one command (the CLI's), set once.

Loading 10,000 manifests, decoding 1,000-hit listing pages and planning make millions of small
dicts and lists, nearly all acyclic: reference counting frees them. Python's cyclic collector,
left at its default (a young collection every 700 net allocations, older ones in proportion),
scans them over and over: at 10,000 workflows that was about half the listing time and seconds
of loading. Earlier versions paused the collector around each burst, in five places; one policy
set when the CLI starts does the same job in one place:

- everything imported by then is frozen (``gc.freeze``): never scanned again;
- a young collection runs every ``YOUNG`` net allocations instead of 700, so a burst costs a few
  collections instead of thousands, while the cyclic garbage a long apply makes (asyncio and
  httpx leave some) is still collected.

A library user's process keeps its own policy: only ``reconciler.cli.run`` (and the benchmark
driver, which stands in for it) calls ``for_one_command``. Measured by ``make bench`` (plans and
applies of 10,000 workflows) against the per-burst pauses it replaced: README, Performance.
"""

from __future__ import annotations

import gc

# Net allocations between young collections. 700 is CPython's default; at 100,000 a plan of
# 10,000 workflows runs about as fast as with the collector off, and its peak RSS is unchanged.
YOUNG = 100_000
# Young collections per middle-aged one, and middle-aged per full one (CPython: 10 and 10).
OLDER = (20, 20)


def for_one_command() -> None:
    """Set the policy for the rest of this process; call it once, at the start of a command."""
    gc.freeze()
    gc.set_threshold(YOUNG, *OLDER)
