"""The sorted matches of recent template searches, so the pages of one listing share one scan and sort."""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any


class SortedMatches:
    """The sorted matches of the last few template searches, valid for one version of the store.

    A listing asks for page after page of one query; without this each page would scan and sort
    every stored template again (O(N) per page, O(N²) per listing). A key holds the store
    version, so any write makes older entries unreachable; they age out of the small LRU.
    """

    def __init__(self, version: Callable[[], int], size: int = 8) -> None:
        self._version = version
        self._size = size
        self._lock = threading.Lock()
        self._items: OrderedDict[tuple[Any, ...], list[Any]] = OrderedDict()

    def key(self, index: str, body: Mapping[str, Any]) -> tuple[Any, ...] | None:
        shape = {k: body.get(k) for k in ("query", "post_filter", "sort")}
        text = json.dumps(shape, sort_keys=True, separators=(",", ":"), default=str)
        if "now" in text:  # date math: the answer depends on the clock, not only on the store
            return None
        return (index, text, self._version())

    def get(self, key: tuple[Any, ...]) -> list[Any] | None:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def put(self, key: tuple[Any, ...], ordered: list[Any]) -> None:
        if key[-1] != self._version():  # the store moved on while we scanned: not this version's
            return
        with self._lock:
            self._items[key] = ordered
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)
