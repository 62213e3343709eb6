"""The retry policy: which failures are retried, how long to wait, and how often.

The defaults follow the Atlan SDK (atlan-api.md §1): up to 6 attempts, full-jitter exponential
backoff ``uniform(0, min(max, base * 2**n))`` before retry *n* (caps 2, 4, 8, 16, 32 s), and a
``Retry-After`` header (seconds or an HTTP date) used instead when present, capped. Unlike the SDK
we never retry 403 or 302, and a POST that creates or submits is not retried blindly (see
``client.py``). ``RetryPolicy.no_wait()`` is the test mode: same attempts, zero waits.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How failed requests are retried; ``attempts`` counts the first try (1 = never retry)."""

    attempts: int = 6
    backoff_base: float = 1.0
    """Seconds; the wait before retry n is drawn from [0, backoff_base * 2**n]."""
    backoff_max: float = 120.0
    """No computed backoff exceeds this many seconds."""
    retry_after_max: float = 120.0
    """A server's ``Retry-After`` is honoured up to this many seconds."""
    statuses: frozenset[int] = RETRY_STATUSES
    """HTTP statuses worth another attempt; timeouts and connection errors always are."""

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("RetryPolicy.attempts must be at least 1")
        if min(self.backoff_base, self.backoff_max, self.retry_after_max) < 0:
            raise ValueError("RetryPolicy waits must not be negative")

    @classmethod
    def no_wait(cls, attempts: int = 3) -> RetryPolicy:
        """The test mode: retries happen (and are logged) but every wait is zero."""
        return cls(attempts=attempts, backoff_base=0.0, backoff_max=0.0, retry_after_max=0.0)

    @classmethod
    def never(cls) -> RetryPolicy:
        """A single attempt."""
        return cls(attempts=1)

    def delay(self, retry: int, retry_after: float | None, uniform: Callable[[float, float], float]) -> float:
        """Seconds to wait before retry number ``retry`` (1-based).

        ``retry_after`` is the server's ``Retry-After`` in seconds, if it sent one; ``uniform`` is
        ``random.uniform`` or a deterministic stand-in.
        """
        if retry_after is not None:
            return max(0.0, min(retry_after, self.retry_after_max))
        cap = min(self.backoff_max, self.backoff_base * 2**retry)
        return uniform(0.0, cap) if cap > 0 else 0.0


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP date; None if absent or bad."""
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if math.isfinite(seconds) else None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # "-0000" dates parse naive; they are UTC all the same
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())
