"""The async client for Atlan's workflow API (``/api/service/...``, atlan-api.md §2).

One ``AtlanWorkflowClient`` per command run, used as ``async with``. It owns the HTTP details the
rest of the reconciler must not care about: headers, the endpoint family chosen from ``whoami``,
paging (concurrent, past Elasticsearch's 10,000-hit window), retries with backoff, a client-side
rate limit, and the translation of every failure into ``reconciler.errors.ApiError``.

Retries (``RetryPolicy``): 429, 500, 502, 503, 504, timeouts and broken connections are retried
with full-jitter exponential backoff, honouring ``Retry-After``; each retry logs one line
``"<METHOD> <path> attempt #n/N failed: <why>; will retry in X s"`` on ``reconciler.atlan``.

Creates and submits are never retried blindly. When their answer is lost (a 5xx, or a timeout or
broken connection after the request may have been sent) the client waits the backoff, re-reads
live state, and only then decides:

- create: the workflow exists under that name with our instance/manifest labels -> it was created;
  otherwise create again. A later 409 is settled the same way. A 409 on the first attempt is
  raised as ``ConflictError`` (the name exists: the caller re-reads and compares).
- submit: a run of the template that is Pending/Running, or was created after the submit began,
  exists -> it was submitted; otherwise submit again.
- a re-read that itself fails raises ``OutcomeUnknownError``.

- update with a ``resourceVersion`` (a conditional write, e.g. apply's claim of a rerun): the
  workflow carries a newer version with exactly what we sent -> it was updated; otherwise retry.

A 429, or a connection that was never made, means the server did nothing, so those are retried
directly. Unconditional updates (the same full body) and archives are idempotent and retried
like reads.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any, Generic, Literal, Self, TypeVar
from urllib.parse import quote

import httpx
import orjson
import pydantic

from reconciler.atlan import queries, wire
from reconciler.atlan.models import Whoami
from reconciler.atlan.ratelimit import RateLimit, TokenBucket
from reconciler.atlan.retry import RetryPolicy, parse_retry_after
from reconciler.collector import collector_paused
from reconciler.errors import ApiError, NotFoundError, OutcomeUnknownError, SettingsError
from reconciler.live import LiveRun, LiveWorkflow
from reconciler.packages.identity import INSTANCE_LABEL, MANIFEST_LABEL, NAMESPACE

logger = logging.getLogger("reconciler.atlan")

T = TypeVar("T")
EndpointFamily = Literal["workflows", "package-workflows"]
Index = Literal["workflows", "runs"]
Sleep = Callable[[float], Awaitable[None]]

# Kubernetes names are at most 253 characters, so prefix partitioning can never go deeper.
_MAX_NAME_LENGTH = 253
# Names per ``terms`` query when looking many up at once (Elasticsearch allows 65,536).
_TERMS_CHUNK = 1000


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Seconds to wait for each phase of a request (the SDK uses 30 s connect, 900 s read)."""

    connect: float = 30.0
    read: float = 300.0
    write: float = 30.0
    pool: float = 30.0

    def to_httpx(self) -> httpx.Timeout:
        return httpx.Timeout(connect=self.connect, read=self.read, write=self.write, pool=self.pool)


# A listing is one small first page (it learns the total; a small tenant is done in one short
# request), then every other page at once in bigger pages: 10,000 managed workflows are 11
# requests in two rounds (benchmarks/scale.py). Each page costs a request and a rate-limit token;
# a hit is about 5 kB, so a later page is about 5 MB of JSON.
DEFAULT_PAGE_SIZE = 100
DEFAULT_LATER_PAGE_SIZE = 1000
DEFAULT_PAGE_CONCURRENCY = 8
DEFAULT_RETRY = RetryPolicy()
DEFAULT_RATE_LIMIT = RateLimit()


@dataclass(frozen=True, slots=True)
class _Failure:
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


@dataclass(frozen=True, slots=True)
class _Page:
    total: int | None
    sources: list[Mapping[str, Any]]


class AtlanWorkflowClient:
    """Async client for the workflow endpoints of one Atlan tenant (or the emulator).

    ``transport`` replaces the network (``httpx.MockTransport`` in unit tests,
    ``httpx.ASGITransport`` for the embedded emulator). ``sleep``, ``clock`` (monotonic seconds),
    ``now`` (aware UTC datetime) and ``uniform`` (the jitter) are injectable so tests never wait.
    The API key never appears in ``repr``, exceptions or logs.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timeouts: Timeouts = Timeouts(),
        max_connections: int = 20,
        retry: RetryPolicy = DEFAULT_RETRY,
        rate_limit: RateLimit | None = DEFAULT_RATE_LIMIT,
        page_size: int = DEFAULT_PAGE_SIZE,
        later_page_size: int | None = None,
        page_concurrency: int = DEFAULT_PAGE_CONCURRENCY,
        clock_skew: float = 5.0,
        trust_env: bool = False,
        sleep: Sleep = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        uniform: Callable[[float, float], float] = random.uniform,
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
        if later_page_size is None:  # bigger later pages only with the default first page
            later_page_size = DEFAULT_LATER_PAGE_SIZE if page_size == DEFAULT_PAGE_SIZE else page_size
        if not all(1 <= size <= queries.MAX_RESULT_WINDOW for size in (page_size, later_page_size)):
            raise ValueError(f"page_size must be within 1..{queries.MAX_RESULT_WINDOW}")
        if page_concurrency < 1 or max_connections < 1:
            raise ValueError("page_concurrency and max_connections must be at least 1")
        self.base_url = wire.display_url(base_url)
        self._secrets = secrets
        self._retry = retry
        self._page_size = page_size
        self._later_page_size = later_page_size
        self._pages = asyncio.Semaphore(page_concurrency)
        self._clock_skew = timedelta(seconds=clock_skew)
        self._sleep = sleep
        self._now = now
        self._uniform = uniform
        self._bucket = None if rate_limit is None else TokenBucket(rate_limit, clock=clock, sleep=sleep)
        self._whoami: Whoami | None = None
        self._whoami_lock = asyncio.Lock()
        self._http = httpx.AsyncClient(
            base_url=base_url,
            transport=transport,
            headers=wire.default_headers(api_key),
            timeout=timeouts.to_httpx(),
            limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
            follow_redirects=False,
            trust_env=trust_env,
        )

    def __repr__(self) -> str:
        return f"AtlanWorkflowClient(base_url={self.base_url!r})"

    async def __aenter__(self) -> Self:
        await self._http.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._http.__aexit__(exc_type, exc, tb)

    async def aclose(self) -> None:
        await self._http.aclose()

    # -- who we are ------------------------------------------------------------------------------

    async def whoami(self) -> Whoami:
        """``GET whoami``, asked once per client and cached."""
        if self._whoami is None:
            async with self._whoami_lock:
                if self._whoami is None:
                    self._whoami = Whoami.from_response(await self._call("GET", "whoami"))
        return self._whoami

    async def endpoint_family(self) -> EndpointFamily:
        """``workflows`` for API-token and admin users, ``package-workflows`` for everyone else."""
        return "workflows" if (await self.whoami()).is_api_token_user else "package-workflows"

    # -- reading ---------------------------------------------------------------------------------

    async def search_workflows(self, query: Mapping[str, Any]) -> list[LiveWorkflow]:
        """Every workflow template matching the Elasticsearch ``query``, sorted by name."""
        return await self._collect("workflows", query, LiveWorkflow.listing_parser())

    async def search_runs(self, query: Mapping[str, Any]) -> list[LiveRun]:
        """Every run matching the Elasticsearch ``query``, sorted by name."""
        return await self._collect("runs", query, LiveRun.from_source)

    async def list_managed(self, instance: str) -> list[LiveWorkflow]:
        """Every workflow labelled as managed by ``instance``, sorted by name (one paged search)."""
        return await self.search_workflows(queries.by_label(INSTANCE_LABEL, instance))

    async def get_workflow(self, name: str) -> LiveWorkflow | None:
        """The workflow called ``name`` (the SDK's ``find_by_id``), or None."""
        data = await self._call("POST", "workflows/indexsearch", queries.find_by_id(name))
        for source in self._page(data, "workflows").sources:
            workflow = self._parse(LiveWorkflow.from_source, source, "POST", "workflows/indexsearch")
            if workflow.name == name:
                return workflow
        return None

    async def get_workflows(self, names: Iterable[str]) -> dict[str, LiveWorkflow]:
        """The workflows among ``names`` that exist, by name (one ``terms`` search per 1,000 names)."""
        wanted = sorted(set(names))
        chunks = [wanted[i : i + _TERMS_CHUNK] for i in range(0, len(wanted), _TERMS_CHUNK)]
        found: dict[str, LiveWorkflow] = {}
        for workflows in await _gather(self.search_workflows(queries.by_names(chunk)) for chunk in chunks):
            found.update((w.name, w) for w in workflows if w.name in wanted)
        return dict(sorted(found.items()))

    async def runs_for(
        self, template_names: Iterable[str], *, phases: Iterable[str] | None = None
    ) -> dict[str, list[LiveRun]]:
        """Runs of each template (newest first), from one paged search over all of them.

        Every requested name is a key, with an empty list when it has no runs. ``phases``
        (e.g. ``ACTIVE_PHASES``) restricts the search to runs in those phases.
        """
        wanted = sorted(set(template_names))
        phase_list = None if phases is None else sorted(set(phases))
        chunks = [wanted[i : i + _TERMS_CHUNK] for i in range(0, len(wanted), _TERMS_CHUNK)]
        result: dict[str, list[LiveRun]] = {name: [] for name in wanted}
        searches = (self.search_runs(queries.runs_of_any(chunk, phase_list)) for chunk in chunks)
        for runs in await _gather(searches):
            for run in runs:
                if run.template_name in result:
                    result[run.template_name].append(run)
        for runs in result.values():
            runs.sort(key=_newest_first)
        return result

    async def get_credential(self, guid: str) -> dict[str, Any] | None:
        """A credential's metadata (``GET credentials/{guid}``: authType, username, extra), or None.

        The API never returns the secret; this is what ``export`` rebuilds an object store from.
        """
        try:
            data = await self._call("GET", f"credentials/{_segment(guid)}")
        except NotFoundError:
            return None
        return dict(data) if isinstance(data, Mapping) else None

    async def latest_run(self, name: str) -> LiveRun | None:
        """The most recently created run of template ``name``, or None.

        Sorted by ``metadata.creationTimestamp`` rather than the SDK monitor's ``status.startedAt``:
        a run still Pending has no start time and would sort behind older, finished runs.
        """
        data = await self._call("POST", "runs/indexsearch", queries.current_runs(name, size=1))
        sources = self._page(data, "runs").sources
        return self._parse(LiveRun.from_source, sources[0], "POST", "runs/indexsearch") if sources else None

    # -- writing ---------------------------------------------------------------------------------

    async def create_workflow(self, body: Mapping[str, Any], *, submit: bool) -> LiveWorkflow:
        """Create the workflow ``body`` (a compiled Workflow request); with ``submit`` also start a run.

        ``POST {family}?submit=true|false``. Raises ``ConflictError`` when the name already exists
        (unless an earlier attempt of this very call made it), ``OutcomeUnknownError`` when an
        answer was lost and the re-read failed, other ``ApiError`` subclasses as mapped.
        """
        name = _body_name(body)
        family = await self.endpoint_family()
        path = f"{family}?submit={'true' if submit else 'false'}"
        labels = _mapping(_mapping(body.get("metadata")).get("labels"))

        async def settle() -> LiveWorkflow | None:
            live = await self.get_workflow(name)
            if live is not None and _same_owner(labels, live.labels):
                logger.info("workflow %s exists with our labels: treating the create as done", name)
                return live
            return None

        return await self._post_workflow(path, body, settle, what=f"create of {name}")

    async def update_workflow(self, name: str, body: Mapping[str, Any]) -> LiveWorkflow:
        """Replace workflow ``name`` with ``body`` (``POST {family}/{name}``).

        Without ``metadata.resourceVersion`` the update is idempotent and retried like a read.
        With it, the update is conditional, and a retry after a lost answer would meet its own
        earlier success as a 409. So it is settled like a create: after a lost answer (and on a
        409 after one) the workflow is re-read, and if it carries a newer resourceVersion and
        exactly the labels and annotations we sent (and our spec, when it names no credential),
        the update is done. A 409 on the first attempt is raised as ``ConflictError``.
        """
        family = await self.endpoint_family()
        path = f"{family}/{_segment(name)}"
        metadata = _mapping(body.get("metadata"))
        sent_version = metadata.get("resourceVersion")
        if sent_version in (None, ""):
            return self._parse(LiveWorkflow.from_source, await self._call("POST", path, body), "POST", path)

        async def settle() -> LiveWorkflow | None:
            live = await self.get_workflow(name)
            if live is None or live.resource_version == str(sent_version):
                return None
            same = live.labels == dict(_mapping(metadata.get("labels"))) and live.annotations == dict(
                _mapping(metadata.get("annotations"))
            )
            spec = _mapping(body.get("spec"))
            # A sent credential, or a "{{credential}}" placeholder, comes back as a guid.
            if same and not body.get("payload") and "{{" not in json.dumps(spec):
                same = live.spec == spec
            if same:
                logger.info("workflow %s carries what we sent: treating the update as done", name)
                return live
            return None

        return await self._post_workflow(path, body, settle, what=f"update of {name}")

    async def submit(self, name: str, *, namespace: str = NAMESPACE) -> LiveRun:
        """Start one more run of template ``name`` (``POST {family}/submit``); the new run.

        Not retried blindly: after a lost answer a run that is Pending/Running, or that was
        created after this call began (allowing ``clock_skew``), counts as this submit's run.
        """
        family = await self.endpoint_family()
        body = {"namespace": namespace, "resourceKind": "WorkflowTemplate", "resourceName": name}
        began = self._now() - self._clock_skew

        async def settle() -> LiveRun | None:
            data = await self._call("POST", "runs/indexsearch", queries.current_runs(name))
            for source in self._page(data, "runs").sources:
                run = self._parse(LiveRun.from_source, source, "POST", "runs/indexsearch")
                created = run.creation_timestamp or run.started_at
                if run.is_active or (created is not None and created >= began):
                    logger.info("run %s of %s exists: treating the submit as done", run.name, name)
                    return run
            return None

        return await self._post_unsafe(
            f"{family}/submit",
            body,
            parse=lambda data: self._parse(LiveRun.from_source, data, "POST", f"{family}/submit"),
            settle=settle,
            what=f"submit of {name}",
        )

    async def archive(self, name: str) -> None:
        """Archive (delete) workflow ``name``; one already gone (404) counts as archived."""
        family = await self.endpoint_family()
        try:
            await self._call("POST", f"{family}/{_segment(name)}/archive")
        except NotFoundError:
            logger.info("workflow %s is already gone", name)

    async def stop_run(self, run_name: str) -> LiveRun:
        """Stop run ``run_name`` (``POST runs/{run}/stop``); the run as the server reports it."""
        path = f"runs/{_segment(run_name)}/stop"
        return self._parse(LiveRun.from_source, await self._call("POST", path), "POST", path)

    # -- searching -------------------------------------------------------------------------------

    async def _collect(
        self, index: Index, query: Mapping[str, Any], parse: Callable[[Mapping[str, Any]], T]
    ) -> list[T]:
        """Every hit matching ``query`` parsed, deduplicated by name and sorted by it."""
        found = _Collected(lambda source: self._parse(parse, source, "POST", f"{index}/indexsearch"))
        await self._collect_partition(index, query, prefix=None, parent_total=None, into=found)
        return [found.items[name] for name in sorted(found.items)]

    async def _collect_partition(
        self,
        index: Index,
        base: Mapping[str, Any],
        *,
        prefix: str | None,
        parent_total: int | None,
        into: _Collected[Any],
    ) -> int:
        """Collect one partition (everything, or the names under ``prefix``); its reported size."""
        query = base if prefix is None else queries.all_of(base, queries.name_starts_with(prefix))
        first = await self._search_page(index, query, 0, self._page_size, queries.SORT_BY_NAME_ASC)
        into.keep(first.sources)
        if first.total is None:  # no total: page on until a short page, one at a time
            start, page, seen = self._page_size, first, len(first.sources)
            while len(page.sources) >= self._page_size and start < queries.MAX_RESULT_WINDOW:
                size = min(self._page_size, queries.MAX_RESULT_WINDOW - start)
                page = await self._search_page(index, query, start, size, queries.SORT_BY_NAME_ASC)
                into.keep(page.sources)
                start, seen = start + size, seen + len(page.sources)
            return seen
        if first.total <= queries.MAX_RESULT_WINDOW:
            windows = queries.page_windows(first.total, self._page_size, self._later_page_size)
            await _gather(self._keep_page(index, query, start, size, into) for start, size in windows)
            return first.total
        await self._partition(index, base, prefix, first, parent_total, into)
        return first.total

    async def _partition(
        self,
        index: Index,
        base: Mapping[str, Any],
        prefix: str | None,
        first: _Page,
        parent_total: int | None,
        into: _Collected[Any],
    ) -> None:
        """List more than 10,000 hits by splitting on the next character of the name."""
        where = f"{index}/indexsearch"
        total = first.total or 0
        if parent_total is not None and total >= parent_total:
            raise ApiError(f"POST /{wire.PREFIX}{where}: the server did not narrow the search by name prefix")
        query = base if prefix is None else queries.all_of(base, queries.name_starts_with(prefix))
        last = await self._search_page(index, query, 0, 1, queries.SORT_BY_NAME_DESC)
        if not first.sources or not last.sources:
            raise ApiError(f"POST /{wire.PREFIX}{where}: {total} hits reported but none returned")
        common = queries.common_prefix(_name_of(first.sources[0]), _name_of(last.sources[-1]))
        if prefix is not None and not common.startswith(prefix):
            raise ApiError(f"POST /{wire.PREFIX}{where}: the server did not narrow the search by name prefix")
        if len(common) >= _MAX_NAME_LENGTH:
            raise ApiError(f"POST /{wire.PREFIX}{where}: cannot partition {total} hits by name")
        logger.debug("%s: %d hits under prefix %r; splitting after %r", where, total, prefix or "", common)
        children = [self._collect_exact(index, base, common, into)] if common else []
        children.extend(
            self._collect_partition(index, base, prefix=child, parent_total=total, into=into)
            for child in queries.split_prefix(common)
        )
        counted = sum(await _gather(children))
        if counted != total:  # data changed while listing, or the server sorts or filters oddly
            logger.warning(
                "%s: %d hits under prefix %r, but its parts hold %d", where, total, prefix or "", counted
            )

    async def _collect_exact(
        self, index: Index, base: Mapping[str, Any], name: str, into: _Collected[Any]
    ) -> int:
        """The one hit (if any) named exactly ``name``: the part of a split no longer prefix covers."""
        query = queries.all_of(base, queries.name_is(name))
        page = await self._search_page(index, query, 0, 1, queries.SORT_BY_NAME_ASC)
        into.keep(page.sources)
        return len(page.sources)

    async def _keep_page(
        self, index: Index, query: Mapping[str, Any], from_: int, size: int, into: _Collected[Any]
    ) -> None:
        """One page, parsed into ``into`` as soon as it arrives."""
        page = await self._search_page(index, query, from_, size, queries.SORT_BY_NAME_ASC)
        into.keep(page.sources)

    async def _search_page(
        self, index: Index, query: Mapping[str, Any], from_: int, size: int, sort: Sequence[Mapping[str, Any]]
    ) -> _Page:
        body = queries.search_body(query, from_=from_, size=size, sort=sort)
        async with self._pages:
            data = await self._call("POST", f"{index}/indexsearch", body)
        return self._page(data, index)

    def _page(self, data: Any, index: str) -> _Page:
        where = f"POST /{wire.PREFIX}{index}/indexsearch"
        hits = _mapping(data).get("hits")
        if not isinstance(hits, Mapping) or not isinstance(hits.get("hits", []), list):
            raise ApiError(f"{where}: the answer has no search hits", status=200)
        total_field = hits.get("total")
        total: int | None
        if isinstance(total_field, Mapping) and isinstance(total_field.get("value"), int):
            total = total_field["value"]
        elif isinstance(total_field, int):
            total = total_field
        else:
            total = None
        sources = []
        for hit in hits.get("hits", []):
            source = _mapping(hit).get("_source")
            if not isinstance(source, Mapping):
                raise ApiError(f"{where}: a search hit has no _source", status=200)
            sources.append(source)  # not copied: parsing copies what it keeps
        return _Page(total=total, sources=sources)

    def _parse(self, parse: Callable[[Mapping[str, Any]], T], data: Any, method: str, path: str) -> T:
        """A model from an answer; a malformed answer is an ApiError, never a pydantic error."""
        where = f"{method} /{wire.PREFIX}{path}"
        if not isinstance(data, Mapping):
            raise ApiError(
                f"{where}: expected a JSON object in the answer, got {type(data).__name__}", status=200
            )
        try:
            return parse(data)
        except pydantic.ValidationError as exc:
            problem = wire.scrub(f"{exc.errors()[0]['loc']}: {exc.errors()[0]['msg']}", self._secrets)
            raise ApiError(f"{where}: unexpected answer ({problem})", status=200) from exc

    # -- the request loop ------------------------------------------------------------------------

    async def _attempt(
        self, method: str, path: str, content: bytes | None, request_id: str
    ) -> httpx.Response | _Failure:
        """Send once; a 2xx answer, or what went wrong."""
        if self._bucket is not None:
            await self._bucket.acquire()
        try:
            response = await self._http.request(
                method, wire.PREFIX + path, content=content, headers={"x-atlan-request-id": request_id}
            )
        except (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError, httpx.CookieConflict) as exc:
            if not isinstance(exc, httpx.HTTPError):
                raise ApiError(f"{method} /{wire.PREFIX}{path}: {type(exc).__name__}") from exc
            return _Failure(
                method=method,
                path=path,
                response=None,
                exception=exc,
                retryable=wire.retryable_exception(exc),
                maybe_applied=wire.request_was_sent(exc),
                retry_after=None,
            )
        if response.is_success:
            return response
        status = response.status_code
        return _Failure(
            method=method,
            path=path,
            response=response,
            exception=None,
            retryable=status in self._retry.statuses,
            maybe_applied=status >= 500,
            retry_after=parse_retry_after(response.headers.get("retry-after"), self._now()),
        )

    def _error(self, failure: _Failure, attempts: int) -> ApiError:
        if failure.response is not None:
            return wire.status_error(
                failure.response,
                method=failure.method,
                path=failure.path,
                base_url=self.base_url,
                secrets=self._secrets,
                attempts=attempts,
            )
        assert failure.exception is not None
        return wire.transport_error(
            failure.exception,
            method=failure.method,
            path=failure.path,
            base_url=self.base_url,
            secrets=self._secrets,
            attempts=attempts,
        )

    async def _wait(self, failure: _Failure, attempt: int, then: str = "retry") -> None:
        """Log the failed attempt and sleep before the next step (a retry, or a re-read)."""
        delay = self._retry.delay(attempt, failure.retry_after, self._uniform)
        logger.warning(
            "%s /%s%s attempt #%d/%d failed: %s; will %s in %.2f s",
            failure.method,
            wire.PREFIX,
            failure.path,
            attempt,
            self._retry.attempts,
            failure.reason(self._secrets),
            then,
            delay,
        )
        if failure.status == 429 and failure.retry_after is not None and self._bucket is not None:
            self._bucket.pause(delay)
        await self._sleep(delay)

    async def _call(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> Any:
        """A request that is safe to repeat: retried per the policy; the decoded JSON answer."""
        content = _encode(body)
        request_id = wire.request_id()
        attempts = self._retry.attempts
        for attempt in range(1, attempts + 1):
            result = await self._attempt(method, path, content, request_id)
            if isinstance(result, httpx.Response):
                return self._decode(result, method, path)
            if not result.retryable or attempt == attempts:
                raise self._error(result, attempt) from result.cause()
            await self._wait(result, attempt)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _post_workflow(
        self,
        path: str,
        body: Mapping[str, Any],
        settle: Callable[[], Awaitable[LiveWorkflow | None]],
        *,
        what: str,
    ) -> LiveWorkflow:
        """A create or conditional update of a workflow: never blindly retried (see _post_unsafe)."""
        return await self._post_unsafe(
            path,
            body,
            parse=lambda data: self._parse(LiveWorkflow.from_source, data, "POST", path),
            settle=settle,
            what=what,
        )

    async def _post_unsafe(
        self,
        path: str,
        body: Mapping[str, Any],
        *,
        parse: Callable[[Any], T],
        settle: Callable[[], Awaitable[T | None]],
        what: str,
    ) -> T:
        """A POST that must not happen twice: after a lost answer, ``settle`` decides (module docstring)."""
        content = _encode(body)
        request_id = wire.request_id()
        attempts = self._retry.attempts
        lost = False  # an earlier attempt may have been applied
        for attempt in range(1, attempts + 1):
            result = await self._attempt("POST", path, content, request_id)
            if isinstance(result, httpx.Response):
                return parse(self._decode(result, "POST", path))
            error = self._error(result, attempt)
            if result.status == 409 and lost:  # perhaps our own lost attempt took the name
                found = await self._settle(settle, what, error)
                if found is not None:
                    return found
                raise error from result.cause()
            final = attempt == attempts
            if not result.retryable or (final and not result.maybe_applied):
                raise error from result.cause()
            await self._wait(result, attempt, then="re-read" if final else "retry")
            if result.maybe_applied:
                lost = True
                why = result.reason(self._secrets)
                logger.warning(
                    "%s: the answer was lost (%s); re-reading live state before deciding", what, why
                )
                found = await self._settle(settle, what, error)
                if found is not None:
                    return found
                if final:
                    raise error from result.cause()
                logger.info("%s: it did not happen; sending it again", what)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _settle(self, settle: Callable[[], Awaitable[T | None]], what: str, lost: ApiError) -> T | None:
        try:
            return await settle()
        except ApiError as exc:
            raise OutcomeUnknownError(
                f"{what}: the answer was lost ({lost}) and re-reading failed ({exc}); "
                "it may or may not have happened",
                status=lost.status,
            ) from exc

    def _decode(self, response: httpx.Response, method: str, path: str) -> Any:
        content = response.content.strip()
        if not content or content == b"null":
            return None
        try:
            with collector_paused():  # orjson: a 1,000-hit page decodes 3x faster than with json
                return orjson.loads(content)
        except ValueError as exc:
            said = wire.scrub(response.text, self._secrets)
            raise ApiError(
                f"{method} /{wire.PREFIX}{path}: the answer is not JSON: {said}", status=response.status_code
            ) from exc


# -- helpers -------------------------------------------------------------------------------------


async def _gather(aws: Iterable[Coroutine[Any, Any, T]]) -> list[T]:
    """Run coroutines concurrently; the first failure cancels the rest and is raised as itself."""
    tasks: list[asyncio.Task[T]] = []
    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(aw) for aw in aws]
    except BaseExceptionGroup as failures:
        leaves = list(_leaves(failures))
        raise next((e for e in leaves if isinstance(e, ApiError)), leaves[0]) from None
    return [task.result() for task in tasks]


def _leaves(group: BaseExceptionGroup[BaseException]) -> Iterable[BaseException]:
    for exc in group.exceptions:
        if isinstance(exc, BaseExceptionGroup):
            yield from _leaves(exc)
        else:
            yield exc


def _encode(body: Mapping[str, Any] | None) -> bytes | None:
    """JSON as the SDK writes it (``json.dumps`` defaults: ASCII-escaped, ``", "`` separators)."""
    return None if body is None else json.dumps(body).encode()


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _segment(name: str) -> str:
    return quote(name, safe="")


def _body_name(body: Mapping[str, Any]) -> str:
    name = _mapping(body.get("metadata")).get("name")
    if not isinstance(name, str) or not name:
        raise ValueError("a workflow body needs metadata.name")
    return name


def _same_owner(ours: Mapping[str, Any], live: Mapping[str, str]) -> bool:
    """Whether a live workflow carries the identity labels of the body we sent."""
    keys = [key for key in (INSTANCE_LABEL, MANIFEST_LABEL) if key in ours]
    if not keys:
        keys = list(ours)
    return all(live.get(key) == ours[key] for key in keys)


def _name_of(source: Mapping[str, Any]) -> str:
    name = _mapping(source.get("metadata")).get("name")
    return name if isinstance(name, str) else ""


class _Collected(Generic[T]):
    """The hits of a listing so far, parsed as each page arrives (so that a page's raw JSON is
    let go at once, instead of all pages' together), by name; the first of a name is kept."""

    def __init__(self, parse: Callable[[Mapping[str, Any]], T]) -> None:
        self.parse = parse
        self.items: dict[str, T] = {}

    def keep(self, sources: Iterable[Mapping[str, Any]]) -> None:
        with collector_paused():
            for source in sources:
                name = _name_of(source)
                if name not in self.items:
                    self.items[name] = self.parse(source)


def _newest_first(run: LiveRun) -> tuple[bool, float, str]:
    when = run.creation_timestamp or run.started_at
    return (when is None, -(when.timestamp() if when else 0.0), run.name)
