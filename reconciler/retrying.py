"""Retries for both HTTP clients, run by stamina: the Atlan one (reconciler/atlan/transport.py and
settle.py) and the GitHub one (reconciler/github/_client.py).

stamina runs the loop: it makes at most the given number of attempts, retries an attempt only
when it ended in ``Again`` (any other exception is raised at once), and when the attempts are
spent the last ``Again`` becomes its ``error``. stamina's switches apply as documented:
``stamina.set_testing(True, attempts=n)`` (n attempts, no waits) and ``stamina.set_active(False)``
(one attempt) - tests/atlan/test_retries.py pins both.

The wait before a retry is the client's own, slept through the client's injectable sleep (a fake
clock in tests; the Atlan client's rate limit is paused by the same wait on a 429), so stamina's
own backoff is set to zero. The wait is announced and slept at the start of the next attempt, so
a retry is logged only when stamina grants one.

For the Atlan client the wait is ``RetryPolicy.delay``: full-jitter exponential backoff
``uniform(0, min(max, base * 2**n))`` before retry *n* (caps 2, 4, 8, 16, 32 s by default), or
the server's ``Retry-After`` (seconds or an HTTP date) when it sent one, capped. The defaults
(6 attempts, base 1 s) are the Atlan SDK's; unlike the SDK we never retry 403 or 302, and creates,
submits and conditional updates are never retried blindly (settle.py).
``RetryPolicy.no_wait()`` keeps the attempts and makes every wait zero.

Both clients also log every request at INFO (``reconciler -v``) through ``log_request``: one
line with the method, the path without its query string, the status or the kind of failure, the
milliseconds and the attempt number. Never a body, a header or a query value: those may hold
secrets or contributor data, and the line is meant to be safe to paste into an issue.
"""

from __future__ import annotations

import logging
import math
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Protocol, TypeVar

import httpx
import stamina
import stamina.instrumentation

T = TypeVar("T")

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})

# Each retry logs one line of the client's own. stamina's default instrumentation (a logging hook,
# or Prometheus and structlog ones when those happen to be installed) would add a second: off.
stamina.instrumentation.set_on_retry_hooks(())


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
            return backoff(max(0.0, min(retry_after, self.retry_after_max)))
        cap = min(self.backoff_max, self.backoff_base * 2**retry)
        return backoff(uniform(0.0, cap) if cap > 0 else 0.0)


def backoff(seconds: float) -> float:
    """``seconds``, or no wait at all in stamina's test mode."""
    return 0.0 if stamina.is_testing() else seconds


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


def failure_kind(exc: BaseException) -> str:
    """What went wrong with a request that got no answer, in a word or two, without the
    exception's text (which may quote the URL and its query)."""
    if isinstance(exc, httpx.TimeoutException):
        return "timeout"
    if isinstance(exc, httpx.NetworkError):
        return "connection error"
    if isinstance(exc, httpx.ProtocolError):
        return "protocol error"
    return type(exc).__name__


def log_request(
    logger: logging.Logger,
    method: str,
    path: str,
    answer: int | BaseException,
    seconds: float,
    *,
    attempt: int,
    attempts: int,
) -> None:
    """One INFO line for one HTTP request: ``GET /path -> 200 in 12 ms (attempt 1 of 6)``.

    ``answer`` is the status, or the exception that stood in for one; ``path`` may carry a query
    string, which is left out.
    """
    if not logger.isEnabledFor(logging.INFO):
        return
    outcome = str(answer) if isinstance(answer, int) else failure_kind(answer)
    logger.info(
        "%s %s -> %s in %d ms (attempt %d of %d)",
        method,
        path.partition("?")[0],
        outcome,
        round(seconds * 1000),
        attempt,
        attempts,
    )


class Again(Exception):
    """Raised inside an attempt to ask for another one.

    If stamina grants one, ``announce()`` logs the retry and returns the seconds to wait before it
    (``announce`` is None when the failed attempt has waited already). If no attempt is left,
    ``error`` is raised instead, from ``cause``, and nothing is logged.
    """

    def __init__(
        self,
        error: Exception,
        *,
        cause: BaseException | None = None,
        announce: Callable[[], float] | None = None,
    ) -> None:
        super().__init__(str(error))
        self.error = error
        self.cause = cause
        self.announce = announce


def _again(exc: Exception) -> bool:
    return isinstance(exc, Again)


class _Attempts(Protocol):
    """What ``stamina.retry_context`` returns (stamina does not export the type)."""

    def __iter__(self) -> Iterator[stamina.Attempt]: ...

    def __aiter__(self) -> AsyncIterator[stamina.Attempt]: ...


def _attempts(attempts: int) -> _Attempts:
    """stamina's loop. It sleeps nothing itself (the waits are Again's) and has no overall timeout:
    the attempts alone bound it."""
    return stamina.retry_context(
        on=_again, attempts=attempts, timeout=None, wait_initial=0.0, wait_max=0.0, wait_jitter=0.0
    )


async def retry_async(
    attempts: int, attempt: Callable[[int], Awaitable[T]], *, sleep: Callable[[float], Awaitable[None]]
) -> T:
    """``await attempt(n)`` for n = 1, 2, ... until it returns or raises anything but ``Again``."""
    pending: Again | None = None
    try:
        async for trial in _attempts(attempts):
            with trial:
                if pending is not None and pending.announce is not None:
                    await sleep(pending.announce())
                pending = None
                try:
                    return await attempt(trial.num)
                except Again as again:
                    pending = again
                    raise
    except Again as again:
        raise again.error from again.cause
    raise AssertionError("unreachable")  # pragma: no cover


def retry_sync(attempts: int, attempt: Callable[[int], T], *, sleep: Callable[[float], None]) -> T:
    """``attempt(n)`` for n = 1, 2, ... until it returns or raises anything but ``Again``."""
    pending: Again | None = None
    try:
        for trial in _attempts(attempts):
            with trial:
                if pending is not None and pending.announce is not None:
                    sleep(pending.announce())
                pending = None
                try:
                    return attempt(trial.num)
                except Again as again:
                    pending = again
                    raise
    except Again as again:
        raise again.error from again.cause
    raise AssertionError("unreachable")  # pragma: no cover
