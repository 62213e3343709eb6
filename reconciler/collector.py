"""Holding off Python's cyclic garbage collector while building many acyclic objects at once.

Loading 10,000 manifests or decoding a 1,000-hit listing page makes hundreds of thousands of
new dicts and lists. Each burst sets off collections that scan every object the process holds,
over and over: at 10,000 workflows that was about half the listing time and seconds of loading.
Nothing built there is cyclic, so reference counting frees it all anyway. Only ever wrap
synchronous code, so concurrent tasks cannot interleave with a pause.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
