"""Writes that must not happen twice: creates, submits and conditional updates.

They are never retried blindly. When such a write's answer is lost (a 5xx, or a timeout or
broken connection after the request may have been sent) ``post_once`` waits the backoff, re-reads
live state, and a rule below decides whether the write happened:

- create (``created``): the workflow exists under that name with our instance/manifest labels ->
  it was created; otherwise create again. A later 409 is settled the same way. A 409 on the first
  attempt is raised as ``ConflictError`` (the name exists: the caller re-reads and compares).
- submit (``submitted``): a run of the template that is Pending/Running, or was created after
  the submit began, exists -> it was submitted; otherwise submit again.
- update with a ``resourceVersion`` (``updated``; a conditional write, e.g. apply's claim of a
  rerun): the workflow carries a newer version with exactly what we sent -> it was updated;
  otherwise retry.
- a re-read that itself fails raises ``OutcomeUnknownError``.

A 429, or a connection that was never made, means the server did nothing, so those are retried
directly. Unconditional updates (the same full body) and archives are idempotent and retried like
reads (``Transport.call``). tests/atlan/test_writes.py and tests/resilience/ pin all of this.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import datetime
from typing import Any, TypeVar

import httpx

from reconciler.atlan import wire
from reconciler.atlan.transport import Transport, encode
from reconciler.errors import ApiError, OutcomeUnknownError
from reconciler.live import LiveRun, LiveWorkflow
from reconciler.packages.identity import INSTANCE_LABEL, MANIFEST_LABEL
from reconciler.retrying import Again, retry_async

logger = logging.getLogger("reconciler.atlan")

T = TypeVar("T")


async def post_once(
    transport: Transport,
    path: str,
    body: Mapping[str, Any],
    *,
    parse: Callable[[Any], T],
    settle: Callable[[], Awaitable[T | None]],
    what: str,
) -> T:
    """POST ``body`` to ``path``; after a lost answer, ``settle()`` re-reads and finds the result
    (or None: it did not happen). ``what`` names the write in logs and errors."""
    content = encode(body)
    request_id = wire.request_id()
    attempts = transport.retry.attempts
    lost = False  # an earlier attempt may have been applied

    async def attempt(number: int) -> T:
        nonlocal lost
        result = await transport.attempt("POST", path, content, request_id, number)
        if isinstance(result, httpx.Response):
            return parse(transport.decode(result, "POST", path))
        error = transport.error(result, number)
        if result.status == 409 and lost:  # perhaps our own lost attempt took the name
            found = await _reread(settle, what, error)
            if found is not None:
                return found
            raise error from result.cause()
        final = number == attempts
        if not result.retryable or (final and not result.maybe_applied):
            raise error from result.cause()
        if not result.maybe_applied:  # the server did nothing: wait, and send it again
            raise transport.again(result, number, error)
        await transport.wait(result, number, then="re-read" if final else "retry")
        lost = True
        why = result.reason(transport.secrets)
        logger.warning("%s: the answer was lost (%s); re-reading live state before deciding", what, why)
        found = await _reread(settle, what, error)
        if found is not None:
            return found
        if final:
            raise error from result.cause()
        logger.info("%s: it did not happen; sending it again", what)
        raise Again(error, cause=result.cause())  # at once: the backoff was waited before the re-read

    return await retry_async(attempts, attempt, sleep=transport.sleep)


async def _reread(settle: Callable[[], Awaitable[T | None]], what: str, lost: ApiError) -> T | None:
    try:
        return await settle()
    except ApiError as exc:
        raise OutcomeUnknownError(
            f"{what}: the answer was lost ({lost}) and re-reading failed ({exc}); "
            "it may or may not have happened",
            status=lost.status,
        ) from exc


# -- the rules: did the write happen? ---------------------------------------------------------------


def created(body: Mapping[str, Any], live: LiveWorkflow | None) -> bool:
    """Whether ``live`` is the workflow a create of ``body`` made: it carries the identity labels
    of the body (instance and manifest; all its labels when it has neither)."""
    if live is None:
        return False
    ours = _mapping(_mapping(body.get("metadata")).get("labels"))
    keys = [key for key in (INSTANCE_LABEL, MANIFEST_LABEL) if key in ours]
    if not keys:
        keys = list(ours)
    return all(live.labels.get(key) == ours[key] for key in keys)


def updated(body: Mapping[str, Any], live: LiveWorkflow | None) -> bool:
    """Whether ``live`` shows a conditional update of ``body`` done: a resourceVersion other than
    the one sent, exactly the labels and annotations sent, and the spec sent (compared only when
    the body names no credential: a sent credential, or a ``{{credential}}`` placeholder, comes
    back as a guid)."""
    metadata = _mapping(body.get("metadata"))
    if live is None or live.resource_version == str(metadata.get("resourceVersion")):
        return False
    same = live.labels == dict(_mapping(metadata.get("labels"))) and live.annotations == dict(
        _mapping(metadata.get("annotations"))
    )
    spec = _mapping(body.get("spec"))
    if same and not body.get("payload") and "{{" not in json.dumps(spec):
        same = live.spec == spec
    return same


def submitted(runs: Iterable[LiveRun], began: datetime) -> LiveRun | None:
    """The run a submit that began at ``began`` (less the clock skew) started, among the newest
    runs of its template: one that is Pending/Running, or was created since."""
    for run in runs:
        created_at = run.creation_timestamp or run.started_at
        if run.is_active or (created_at is not None and created_at >= began):
            return run
    return None


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}
