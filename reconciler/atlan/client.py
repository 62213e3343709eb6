"""The async client for Atlan's workflow API (``/api/service/...``): the endpoints the Atlan SDK's
``WorkflowClient`` calls (tests/atlan/test_requests.py pins the paths, and compares the bodies
with the requests pyatlan 10.0.0 sends).

One ``AtlanWorkflowClient`` per command run, used as ``async with``. It is a facade over three
parts, each with one job:

- transport.py: the HTTP call, the rate limit, retries (retry.py) and the mapping of every
  failure to ``reconciler.errors.ApiError``;
- listing.py: paged, concurrent searches, partitioned past Elasticsearch's 10,000-hit window;
- settle.py: creates, submits and conditional updates, which are never retried blindly; after a
  lost answer live state is re-read and a rule decides whether the write happened.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, Self
from urllib.parse import quote

import httpx

from reconciler.atlan import files, queries, settle
from reconciler.atlan.listing import (
    DEFAULT_PAGE_CONCURRENCY,
    DEFAULT_PAGE_SIZE,
    Lister,
    chunks,
    gather,
    page_of,
)
from reconciler.atlan.models import Whoami
from reconciler.atlan.ratelimit import RateLimit
from reconciler.atlan.transport import Sleep, Timeouts, Transport
from reconciler.errors import NotFoundError
from reconciler.live import LiveRun, LiveWorkflow
from reconciler.packages.identity import INSTANCE_LABEL, NAMESPACE
from reconciler.retrying import RetryPolicy

logger = logging.getLogger("reconciler.atlan")

EndpointFamily = Literal["workflows", "package-workflows"]
DEFAULT_TIMEOUTS = Timeouts()
DEFAULT_RETRY = RetryPolicy()
DEFAULT_RATE_LIMIT = RateLimit()


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
        timeouts: Timeouts = DEFAULT_TIMEOUTS,
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
        self._transport = Transport(
            base_url,
            api_key,
            transport=transport,
            timeouts=timeouts,
            max_connections=max_connections,
            retry=retry,
            rate_limit=rate_limit,
            trust_env=trust_env,
            sleep=sleep,
            clock=clock,
            now=now,
            uniform=uniform,
        )
        self._lister = Lister(
            self._transport,
            page_size=page_size,
            later_page_size=later_page_size,
            page_concurrency=page_concurrency,
        )
        self.base_url = self._transport.base_url
        self._clock_skew = timedelta(seconds=clock_skew)
        self._now = now
        self._whoami: Whoami | None = None
        self._whoami_lock = asyncio.Lock()

    def __repr__(self) -> str:
        return f"AtlanWorkflowClient(base_url={self.base_url!r})"

    async def __aenter__(self) -> Self:
        await self._transport.__aenter__()
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        await self._transport.__aexit__(*exc_info)

    async def aclose(self) -> None:
        await self._transport.aclose()

    # -- who we are ------------------------------------------------------------------------------

    async def whoami(self) -> Whoami:
        """``GET whoami``, asked once per client and cached."""
        if self._whoami is None:
            async with self._whoami_lock:
                if self._whoami is None:
                    self._whoami = Whoami.from_response(await self._transport.call("GET", "whoami"))
        return self._whoami

    async def endpoint_family(self) -> EndpointFamily:
        """``workflows`` for API-token and admin users, ``package-workflows`` for everyone else."""
        return "workflows" if (await self.whoami()).is_api_token_user else "package-workflows"

    # -- reading ---------------------------------------------------------------------------------

    async def search_workflows(self, query: Mapping[str, Any]) -> list[LiveWorkflow]:
        """Every workflow template matching the Elasticsearch ``query``, sorted by name."""
        return await self._lister.collect("workflows", query, LiveWorkflow.listing_parser())

    async def search_runs(self, query: Mapping[str, Any]) -> list[LiveRun]:
        """Every run matching the Elasticsearch ``query``, sorted by name."""
        return await self._lister.collect("runs", query, LiveRun.from_source)

    async def list_managed(self, instance: str) -> list[LiveWorkflow]:
        """Every workflow labelled as managed by ``instance``, sorted by name (one paged search)."""
        return await self.search_workflows(queries.by_label(INSTANCE_LABEL, instance))

    async def get_workflow(self, name: str) -> LiveWorkflow | None:
        """The workflow called ``name`` (the SDK's ``find_by_id``), or None."""
        where = "workflows/indexsearch"
        data = await self._transport.call("POST", where, queries.find_by_id(name))
        for source in page_of(data, "workflows").sources:
            workflow = self._transport.parse(LiveWorkflow.from_source, source, "POST", where)
            if workflow.name == name:
                return workflow
        return None

    async def get_workflows(self, names: Iterable[str]) -> dict[str, LiveWorkflow]:
        """The workflows among ``names`` that exist, by name (one ``terms`` search per 1,000 names)."""
        parts = chunks(names)
        wanted = {name for part in parts for name in part}
        found: dict[str, LiveWorkflow] = {}
        for workflows in await gather(self.search_workflows(queries.by_names(part)) for part in parts):
            found.update((w.name, w) for w in workflows if w.name in wanted)
        return dict(sorted(found.items()))

    async def runs_for(
        self, template_names: Iterable[str], *, phases: Iterable[str] | None = None
    ) -> dict[str, list[LiveRun]]:
        """Runs of each template (newest first), from one paged search over all of them.

        Every requested name is a key, with an empty list when it has no runs. ``phases``
        (e.g. ``ACTIVE_PHASES``) restricts the search to runs in those phases.
        """
        parts = chunks(template_names)
        phase_list = None if phases is None else sorted(set(phases))
        result: dict[str, list[LiveRun]] = {name: [] for part in parts for name in part}
        searches = (self.search_runs(queries.runs_of_any(part, phase_list)) for part in parts)
        for runs in await gather(searches):
            for run in runs:
                if run.template_name in result:
                    result[run.template_name].append(run)
        for runs in result.values():
            runs.sort(key=_newest_first)
        return result

    async def newest_run(self, template: str) -> LiveRun | None:
        """The newest run of ``template`` (any phase), or None when it has none: one search of one hit."""
        where = "runs/indexsearch"
        data = await self._transport.call("POST", where, queries.current_runs(template, size=1))
        for source in page_of(data, "runs").sources:
            return self._transport.parse(LiveRun.from_source, source, "POST", where)
        return None

    async def get_credential(self, guid: str) -> dict[str, Any] | None:
        """A credential's metadata (``GET credentials/{guid}``: authType, username, extra), or None.

        The API never returns the secret; this is what ``export`` rebuilds an object store from.
        """
        try:
            data = await self._transport.call("GET", f"credentials/{_segment(guid)}")
        except NotFoundError:
            return None
        return dict(data) if isinstance(data, Mapping) else None

    async def presigned_url(
        self, key: str, method: files.PresignMethod, *, expiry: str = files.DEFAULT_EXPIRY
    ) -> str:
        """A presigned URL to PUT or GET ``key`` in the tenant's own object store
        (``POST files/presignedUrl``, reconciler/atlan/files.py); a credential, never to be shown."""
        return await files.presigned_url(self._transport, key, method, expiry=expiry)

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

        async def reread() -> LiveWorkflow | None:
            live = await self.get_workflow(name)
            if settle.created(body, live):
                logger.info("workflow %s exists with our labels: treating the create as done", name)
                return live
            return None

        return await self._post_workflow(path, body, reread, what=f"create of {name}")

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
        metadata = body.get("metadata")
        sent_version = metadata.get("resourceVersion") if isinstance(metadata, Mapping) else None
        if sent_version in (None, ""):
            data = await self._transport.call("POST", path, body)
            return self._transport.parse(LiveWorkflow.from_source, data, "POST", path)

        async def reread() -> LiveWorkflow | None:
            live = await self.get_workflow(name)
            if settle.updated(body, live):
                logger.info("workflow %s carries what we sent: treating the update as done", name)
                return live
            return None

        return await self._post_workflow(path, body, reread, what=f"update of {name}")

    async def submit(self, name: str, *, namespace: str = NAMESPACE) -> LiveRun:
        """Start one more run of template ``name`` (``POST {family}/submit``); the new run.

        Not retried blindly: after a lost answer a run that is Pending/Running, or that was
        created after this call began (allowing ``clock_skew``), counts as this submit's run.
        """
        family = await self.endpoint_family()
        path = f"{family}/submit"
        body = {"namespace": namespace, "resourceKind": "WorkflowTemplate", "resourceName": name}
        began = self._now() - self._clock_skew

        async def reread() -> LiveRun | None:
            data = await self._transport.call("POST", "runs/indexsearch", queries.current_runs(name))
            runs = (
                self._transport.parse(LiveRun.from_source, source, "POST", "runs/indexsearch")
                for source in page_of(data, "runs").sources
            )  # parsed one by one: the first that settles it ends the search
            run = settle.submitted(runs, began)
            if run is not None:
                logger.info("run %s of %s exists: treating the submit as done", run.name, name)
            return run

        return await settle.post_once(
            self._transport,
            path,
            body,
            parse=lambda data: self._transport.parse(LiveRun.from_source, data, "POST", path),
            settle=reread,
            what=f"submit of {name}",
        )

    async def archive(self, name: str) -> None:
        """Archive (delete) workflow ``name``; one already gone (404) counts as archived."""
        family = await self.endpoint_family()
        try:
            await self._transport.call("POST", f"{family}/{_segment(name)}/archive")
        except NotFoundError:
            logger.info("workflow %s is already gone", name)

    async def _post_workflow(
        self,
        path: str,
        body: Mapping[str, Any],
        reread: Callable[[], Awaitable[LiveWorkflow | None]],
        *,
        what: str,
    ) -> LiveWorkflow:
        """A create or conditional update of a workflow: never blindly retried (settle.py)."""
        return await settle.post_once(
            self._transport,
            path,
            body,
            parse=lambda data: self._transport.parse(LiveWorkflow.from_source, data, "POST", path),
            settle=reread,
            what=what,
        )


def _segment(name: str) -> str:
    return quote(name, safe="")


def _body_name(body: Mapping[str, Any]) -> str:
    metadata = body.get("metadata")
    name = metadata.get("name") if isinstance(metadata, Mapping) else None
    if not isinstance(name, str) or not name:
        raise ValueError("a workflow body needs metadata.name")
    return name


def _newest_first(run: LiveRun) -> tuple[bool, float, str]:
    when = run.creation_timestamp or run.started_at
    return (when is None, -(when.timestamp() if when else 0.0), run.name)
