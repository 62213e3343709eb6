"""Holding off Python's cyclic garbage collector while a search runs.

A copy, on purpose, of ``collector_paused`` in ``reconciler/collector.py``: the emulator is
standalone test tooling and may not import the rest of the package (the import-linter contract
"The emulator is standalone test tooling" in ``pyproject.toml``). It leaves out that module's
``gc.freeze`` after a burst, which only the CLI's short-lived process opts into. This is the
emulator's only copy; fix a bug here and there alike.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_gc_lock = threading.Lock()
_gc_pauses = 0
_gc_was_enabled = False


@contextmanager
def gc_paused() -> Iterator[None]:
    """Hold off the cyclic garbage collector while a search runs.

    A search over 10,000 stored documents allocates tens of thousands of short-lived containers;
    with the collector on, they are promoted while alive and trigger full collections over the
    millions of objects of the stored documents, which costs more than the search. Nothing a search
    allocates is cyclic, so reference counting frees it all. Safe under threads: the collector is
    re-enabled (if it was on) when the last concurrent search ends.
    """
    global _gc_pauses, _gc_was_enabled
    with _gc_lock:
        if _gc_pauses == 0:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _gc_pauses += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_pauses -= 1
            if _gc_pauses == 0 and _gc_was_enabled:
                gc.enable()
