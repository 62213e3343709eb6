"""The garbage-collector policy of a process that lives for one command (the CLI's), set once.

Loading 10,000 manifests, decoding 1,000-hit listing pages and planning make millions of small
dicts and lists, nearly all acyclic: reference counting frees them. Python's cyclic collector,
left at its default (a young collection every 700 net allocations, older ones in proportion),
scans them over and over: at 10,000 workflows that was about half the listing time and seconds
of loading. Earlier versions paused the collector around each burst, in five places; one policy
set when the CLI starts does the same job in one place:

- everything imported by then is frozen (``gc.freeze``): never scanned again;
- a young collection runs every ``YOUNG`` net allocations instead of 700, so a burst costs a few
  collections instead of thousands, while the young cyclic garbage a long apply makes (asyncio
  and httpx leave some) is still collected;
- older generations are left alone for as long as a command lasts.

A library user's process keeps its own policy: only ``reconciler.cli.run`` (and the benchmark
driver, which stands in for it) calls ``for_one_command``. Measured by ``make bench`` (plans and
applies of 10,000 workflows) against the per-burst pauses it replaced: README, Performance.
"""

from __future__ import annotations

import gc

# Net allocations between young collections. 700 is CPython's default; 100,000 makes a burst cost a
# few young collections, each scanning what it made once. Older generations are collected only
# after 1,000 young collections (CPython: 10): what survives a young collection (the manifests,
# the listing, the plan) is not scanned again, as the per-burst freeze used to ensure.
# Warm-cache plan of 10,000, A/B with the pauses it replaced, medians: 2.2 s and 2.4 s; with
# OLDER = (20, 20) 3.2 s (scanning the survivors again), with YOUNG = 300,000 2.6 s.
YOUNG = 100_000
# Young collections per middle-aged one, and middle-aged per full one.
OLDER = (1000, 1000)


def for_one_command() -> None:
    """Set the policy for the rest of this process; call it once, at the start of a command."""
    gc.freeze()
    gc.set_threshold(YOUNG, *OLDER)
