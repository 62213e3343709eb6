"""A client-side rate limit: an async token bucket with an injectable clock and sleep.

Every HTTP attempt (first tries, retries and re-reads alike) takes one token. The bucket holds
up to ``burst`` tokens and refills at ``per_second``. Waiters are served in arrival order (they
queue on a lock and sleep while holding it). A 429 with ``Retry-After`` pauses the whole bucket,
so concurrent requests back off together instead of each earning its own 429.

A token bucket alone lets ``burst + per_second`` requests through in the first second, which a
server counting requests per second (Atlan's gateway, the emulator) answers with 429s and a
Retry-After pause of a whole second. So the bucket also keeps the times of its recent requests
and never hands out more than ``max(burst, per_second)`` tokens in any one-second window; when
that window is what holds a request back, it waits a little longer (``WINDOW_MARGIN``), so the
jitter between our clock and the server's arrival times does not cost a 429.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

Sleep = Callable[[float], Awaitable[None]]
Clock = Callable[[], float]

_EPSILON = 1e-9
WINDOW_SECONDS = 1.0
WINDOW_MARGIN = 0.05
"""Seconds added to a wait that the one-second window imposes (not to the bucket's own waits)."""


@dataclass(frozen=True, slots=True)
class RateLimit:
    """At most ``per_second`` requests per second on average, with bursts of up to ``burst``."""

    per_second: float = 10.0
    burst: int = 10

    def __post_init__(self) -> None:
        if self.per_second <= 0:
            raise ValueError("RateLimit.per_second must be positive")
        if self.burst < 1:
            raise ValueError("RateLimit.burst must be at least 1")


class TokenBucket:
    """The running state of a ``RateLimit``; ``clock`` is monotonic seconds."""

    def __init__(
        self, limit: RateLimit, *, clock: Clock = time.monotonic, sleep: Sleep = asyncio.sleep
    ) -> None:
        self._limit = limit
        self._clock = clock
        self._sleep = sleep
        self._tokens = float(limit.burst)
        self._updated = clock()
        self._paused_until = self._updated
        self._lock = asyncio.Lock()
        self._window_cap = max(limit.burst, math.ceil(limit.per_second))
        self._sent: deque[float] = deque()

    def __repr__(self) -> str:
        return f"TokenBucket(per_second={self._limit.per_second}, burst={self._limit.burst})"

    def _refill(self, now: float) -> None:
        elapsed = max(0.0, now - self._updated)
        self._tokens = min(float(self._limit.burst), self._tokens + elapsed * self._limit.per_second)
        self._updated = now

    async def acquire(self) -> None:
        """Wait until a token is free and take it."""
        async with self._lock:
            while True:
                now = self._clock()
                if now < self._paused_until:
                    await self._sleep(self._paused_until - now)
                    continue
                self._refill(now)
                if self._tokens >= 1.0 - _EPSILON:  # float dust must not leave a waiter spinning
                    sent = self._sent
                    while sent and sent[0] <= now - WINDOW_SECONDS:
                        sent.popleft()
                    if len(sent) >= self._window_cap:
                        await self._sleep(sent[0] + WINDOW_SECONDS + WINDOW_MARGIN - now)
                        continue
                    self._tokens = max(0.0, self._tokens - 1.0)
                    sent.append(now)
                    return
                await self._sleep((1.0 - self._tokens) / self._limit.per_second)

    def pause(self, seconds: float) -> None:
        """Hand out no token for ``seconds`` (the server asked us to slow down)."""
        if seconds > 0:
            self._paused_until = max(self._paused_until, self._clock() + seconds)
