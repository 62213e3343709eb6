"""One tenant's HTTP connection: send a request, rate-limit it, retry it, and map every failure.

``Transport`` owns the httpx client and the details the rest of the reconciler must not care
about: the headers, the client-side rate limit (ratelimit.py), the retries (reconciler/retrying.py), decoding
the JSON answer, and the translation of every failure into ``reconciler.errors.ApiError`` (the
mappings themselves are wire.py's).

Retries: 429, 500, 502, 503, 504, timeouts and broken connections are retried with full-jitter
exponential backoff, honouring ``Retry-After``; each retry logs one line
``"<METHOD> <path> attempt #n/N failed: <why>; will retry in X s"`` on ``reconciler.atlan``
(tests/atlan/test_retries.py). At INFO (``reconciler -v``) every attempt logs one line of its
own (``reconciler.retrying.log_request``; tests/test_request_log.py). ``call`` is for requests
that are safe to repeat; writes that are not go through settle.py, which uses ``attempt``,
``wait`` and ``again`` below.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import sys
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Any, TypeVar

import httpx
import orjson
import pydantic

from reconciler.atlan import wire
from reconciler.atlan.ratelimit import RateLimit, TokenBucket
from reconciler.errors import ApiError, SettingsError
from reconciler.retrying import Again, RetryPolicy, log_request, parse_retry_after, retry_async

logger = logging.getLogger("reconciler.atlan")

# httpcore asks for sniffio at every acquire and release of a pooled connection
# (httpcore/_synchronization.py, current_async_library). Where sniffio is not installed (anyio 4
# no longer needs it) each ask is an import that fails only after searching all of sys.path:
# about 0.14 ms, four times a request, 0.6 ms of the CPU a create costs (cProfile of a 2,000-create
# apply: 1.2 s of 8.2 s). Recorded once as absent, the import fails at once; nothing else changes,
# since a package that is not installed cannot be imported anyway.
if importlib.util.find_spec("sniffio") is None:
    sys.modules.setdefault("sniffio", None)  # type: ignore[arg-type]

T = TypeVar("T")
Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Seconds to wait for each phase of a request (the SDK uses 30 s connect, 900 s read)."""

    connect: float = 30.0
    read: float = 300.0
    write: float = 30.0
    pool: float = 30.0

    def to_httpx(self) -> httpx.Timeout:
        return httpx.Timeout(connect=self.connect, read=self.read, write=self.write, pool=self.pool)


@dataclass(frozen=True, slots=True)
class Failure:
    """One failed attempt: either an error status or an httpx exception."""

    method: str
    path: str
    response: httpx.Response | None
    exception: httpx.HTTPError | None
    retryable: bool
    maybe_applied: bool  # the server may have acted on the request before the answer was lost
    retry_after: float | None

    @property
    def status(self) -> int | None:
        return None if self.response is None else self.response.status_code

    def reason(self, secrets: tuple[str, ...]) -> str:
        if self.response is not None:
            return f"{self.response.status_code} {self.response.reason_phrase}".strip()
        assert self.exception is not None
        detail = wire.scrub(str(self.exception), secrets)
        return f"{type(self.exception).__name__}: {detail}" if detail else type(self.exception).__name__

    def cause(self) -> BaseException:
        """The httpx exception to chain from (an HTTPStatusError for error statuses)."""
        if self.exception is not None:
            return self.exception
        assert self.response is not None
        return httpx.HTTPStatusError(
            f"{self.response.status_code} {self.response.reason_phrase}",
            request=self.response.request,
            response=self.response,
        )


class Transport:
    """Requests to ``base_url`` + ``/api/service/``; see ``AtlanWorkflowClient`` for the arguments."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        transport: httpx.AsyncBaseTransport | None,
        timeouts: Timeouts,
        max_connections: int,
        retry: RetryPolicy,
        rate_limit: RateLimit | None,
        trust_env: bool,
        sleep: Sleep,
        clock: Callable[[], float],
        now: Callable[[], datetime],
        uniform: Callable[[float, float], float],
    ) -> None:
        secrets = (api_key,) if api_key else ()
        try:
            url = httpx.URL(base_url)
        except httpx.InvalidURL as exc:
            raise SettingsError(f"the Atlan base URL {wire.scrub(base_url, secrets)!r} is invalid") from exc
        if url.scheme not in ("http", "https") or not url.host:
            raise SettingsError(
                f"the Atlan base URL must be an http(s) URL, not {wire.scrub(base_url, secrets)!r}"
            )
        if max_connections < 1:
            raise ValueError("page_concurrency and max_connections must be at least 1")
        self.base_url = wire.display_url(base_url)
        self.secrets = secrets
        self.retry = retry
        self.sleep = sleep
        self.now = now
        self._clock = clock
        self._uniform = uniform
        self._bucket = None if rate_limit is None else TokenBucket(rate_limit, clock=clock, sleep=sleep)
        self._http = httpx.AsyncClient(
            base_url=base_url,
            transport=transport,
            headers=wire.default_headers(api_key),
            timeout=timeouts.to_httpx(),
            limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
            follow_redirects=False,
            trust_env=trust_env,
        )

    async def __aenter__(self) -> None:
        await self._http.__aenter__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._http.__aexit__(exc_type, exc, tb)

    async def aclose(self) -> None:
        await self._http.aclose()

    # -- a request that is safe to repeat ----------------------------------------------------------

    async def call(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> Any:
        """Retried per the policy; the decoded JSON answer."""
        content = encode(body)
        request_id = wire.request_id()

        async def attempt(number: int) -> Any:
            result = await self.attempt(method, path, content, request_id, number)
            if isinstance(result, httpx.Response):
                return self.decode(result, method, path)
            error = self.error(result, number)
            if not result.retryable:
                raise error from result.cause()
            raise self.again(result, number, error)

        return await retry_async(self.retry.attempts, attempt, sleep=self.sleep)

    # -- the pieces of a retry loop ------------------------------------------------------------------

    async def attempt(
        self, method: str, path: str, content: bytes | None, request_id: str, number: int = 1
    ) -> httpx.Response | Failure:
        """Send once (attempt ``number``, for the log line); a 2xx answer, or what went wrong."""
        if self._bucket is not None:
            await self._bucket.acquire()
        began = self._clock()  # after the rate limit's wait: the line says how long the server took
        try:
            response = await self._http.request(
                method, wire.PREFIX + path, content=content, headers={"x-atlan-request-id": request_id}
            )
        except (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError, httpx.CookieConflict) as exc:
            self._log(method, path, exc, began, number)
            if not isinstance(exc, httpx.HTTPError):
                raise ApiError(f"{method} /{wire.PREFIX}{path}: {type(exc).__name__}") from exc
            return Failure(
                method=method,
                path=path,
                response=None,
                exception=exc,
                retryable=wire.retryable_exception(exc),
                maybe_applied=wire.request_was_sent(exc),
                retry_after=None,
            )
        self._log(method, path, response.status_code, began, number)
        if response.is_success:
            return response
        status = response.status_code
        return Failure(
            method=method,
            path=path,
            response=response,
            exception=None,
            retryable=status in self.retry.statuses,
            maybe_applied=status >= 500,
            retry_after=parse_retry_after(response.headers.get("retry-after"), self.now()),
        )

    def _log(self, method: str, path: str, answer: int | BaseException, began: float, number: int) -> None:
        where, seconds = f"/{wire.PREFIX}{path}", self._clock() - began
        log_request(logger, method, where, answer, seconds, attempt=number, attempts=self.retry.attempts)

    def error(self, failure: Failure, attempts: int) -> ApiError:
        """The ApiError for a failure, after ``attempts`` attempts."""
        where: dict[str, Any] = {
            "method": failure.method,
            "path": failure.path,
            "base_url": self.base_url,
            "secrets": self.secrets,
            "attempts": attempts,
        }
        if failure.response is not None:
            return wire.status_error(failure.response, **where)
        assert failure.exception is not None
        return wire.transport_error(failure.exception, **where)

    def again(self, failure: Failure, attempt: int, error: ApiError) -> Again:
        """Ask for another attempt after the backoff (``error`` if none is left)."""
        return Again(error, cause=failure.cause(), announce=lambda: self._announce(failure, attempt, "retry"))

    async def wait(self, failure: Failure, attempt: int, then: str) -> None:
        """Log the failed attempt and sleep the backoff before the next step (a retry, or a re-read)."""
        await self.sleep(self._announce(failure, attempt, then))

    def _announce(self, failure: Failure, attempt: int, then: str) -> float:
        """Log the failed attempt; the seconds to wait (which a 429's Retry-After imposes on everyone)."""
        delay = self.retry.delay(attempt, failure.retry_after, self._uniform)
        logger.warning(
            "%s /%s%s attempt #%d/%d failed: %s; will %s in %.2f s",
            failure.method,
            wire.PREFIX,
            failure.path,
            attempt,
            self.retry.attempts,
            failure.reason(self.secrets),
            then,
            delay,
        )
        if failure.status == 429 and failure.retry_after is not None and self._bucket is not None:
            self._bucket.pause(delay)
        return delay

    # -- answers ---------------------------------------------------------------------------------------

    def decode(self, response: httpx.Response, method: str, path: str) -> Any:
        content = response.content.strip()
        if not content or content == b"null":
            return None
        try:
            return orjson.loads(content)
        except ValueError as exc:
            said = wire.scrub(response.text, self.secrets)
            raise ApiError(
                f"{method} /{wire.PREFIX}{path}: the answer is not JSON: {said}", status=response.status_code
            ) from exc

    def parse(self, parse: Callable[[Mapping[str, Any]], T], data: Any, method: str, path: str) -> T:
        """A model from an answer; a malformed answer is an ApiError, never a pydantic error."""
        where = f"{method} /{wire.PREFIX}{path}"
        if not isinstance(data, Mapping):
            raise ApiError(
                f"{where}: expected a JSON object in the answer, got {type(data).__name__}", status=200
            )
        try:
            return parse(data)
        except pydantic.ValidationError as exc:
            problem = wire.scrub(f"{exc.errors()[0]['loc']}: {exc.errors()[0]['msg']}", self.secrets)
            raise ApiError(f"{where}: unexpected answer ({problem})", status=200) from exc


def encode(body: Mapping[str, Any] | None) -> bytes | None:
    """JSON as the SDK writes it (``json.dumps`` defaults: ASCII-escaped, ``", "`` separators)."""
    return None if body is None else json.dumps(body).encode()
