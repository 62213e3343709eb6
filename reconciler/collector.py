"""Holding off Python's cyclic garbage collector while building many acyclic objects at once.

Loading 10,000 manifests or decoding a 1,000-hit listing page makes hundreds of thousands of
new dicts and lists. Each burst sets off collections that scan every object the process holds,
over and over: at 10,000 workflows that was about half the listing time and seconds of loading.
Nothing built there is cyclic, so reference counting frees it all anyway. Only ever wrap
synchronous code: an asyncio task that awaited inside a pause would hold the collector off for
every other task.

A pause has a bill: everything it built is still in the youngest generation, so the first
collection after it scans all of it (a quarter of a second after loading 10,000 manifests). The
CLI's process lives for one command, so after a pause that built many objects it moves whatever
survives out of the collector's sight instead (``gc.freeze``; reference counting still frees
those objects). A library user's process is left to its own collector policy.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_freeze_after_pause = False
_BURST = 50_000  # objects made (net) during a pause, beyond which survivors are frozen
_lock = threading.Lock()
_depth = 0  # pauses open now, in any thread
_was_enabled = False  # whether the collector ran before the first of them


def freeze_after_pauses(enabled: bool = True) -> None:
    """For a short-lived process (the CLI's): objects that survive a pause are never scanned again."""
    global _freeze_after_pause
    _freeze_after_pause = enabled


@contextmanager
def collector_paused() -> Iterator[None]:
    """Hold off the collector until the last of the pauses open at the same time ends: the
    manifests load in a worker thread while the event loop decodes listing pages."""
    global _depth, _was_enabled
    with _lock:
        if _depth == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                # Only after a burst (a load, a listing page, a plan): freezing after every small
                # pause (one decoded answer among 20,000 in an apply) would also freeze each
                # moment's not-yet-collected garbage, for good.
                if _freeze_after_pause and gc.get_count()[0] >= _BURST:
                    gc.freeze()
                if _was_enabled:
                    gc.enable()
