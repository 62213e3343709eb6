"""The emulator's injectable clock: real time plus an offset, or frozen and moved by hand."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def format_timestamp(epoch: float) -> str:
    """``epoch`` as Argo prints it: ``2024-05-01T12:00:00Z`` (whole seconds, UTC)."""
    return datetime.fromtimestamp(int(epoch), tz=UTC).strftime(TIMESTAMP_FORMAT)


class Clock:
    """Seconds since the epoch, as the emulator sees them.

    A running clock follows ``time.time()`` shifted by an offset; a frozen clock stands still until
    ``advance`` or ``set`` moves it. Both kinds can be advanced and set, so tests never sleep.
    """

    def __init__(self, start: float | None = None, *, frozen: bool = False) -> None:
        self._lock = threading.Lock()
        self._offset = 0.0 if start is None else start - time.time()
        self._frozen_at: float | None = None
        if frozen:
            self._frozen_at = time.time() + self._offset if start is None else start

    def now(self) -> float:
        with self._lock:
            if self._frozen_at is not None:
                return self._frozen_at
            return time.time() + self._offset

    @property
    def frozen(self) -> bool:
        return self._frozen_at is not None

    def advance(self, seconds: float) -> float:
        """Move the clock forward (or back, if negative); returns the new time."""
        with self._lock:
            if self._frozen_at is not None:
                self._frozen_at += seconds
                return self._frozen_at
            self._offset += seconds
            return time.time() + self._offset

    def set(self, epoch: float) -> float:
        """Jump to ``epoch``; a frozen clock stays frozen there, a running one runs on from there."""
        with self._lock:
            if self._frozen_at is not None:
                self._frozen_at = epoch
            else:
                self._offset = epoch - time.time()
            return epoch

    def freeze(self) -> None:
        with self._lock:
            if self._frozen_at is None:
                self._frozen_at = time.time() + self._offset

    def unfreeze(self) -> None:
        with self._lock:
            if self._frozen_at is not None:
                self._offset = self._frozen_at - time.time()
                self._frozen_at = None

    def describe(self) -> dict[str, object]:
        now = self.now()
        return {"now": format_timestamp(now), "epoch": now, "frozen": self.frozen}
