"""What goes on the wire and how failures come back: headers, error bodies, status -> exception.

Pure functions, so the client's retry loop stays readable and each mapping is testable alone.
Every message is one line naming the method and path; anything the server said is capped at
256 characters and scrubbed of the API key (a server may echo a bad token back).
"""

from __future__ import annotations

import json
import platform
import uuid
from collections.abc import Mapping
from importlib import metadata
from typing import Any

import httpx

from reconciler.errors import (
    ApiError,
    AuthenticationError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    ServerError,
    TransportError,
)

MESSAGE_CAP = 256
PREFIX = "api/service/"  # EndPoint.HERACLES


def version() -> str:
    try:
        return metadata.version("reconciler")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "0+unknown"


def default_headers(api_key: str) -> dict[str, str]:
    """The headers the SDK sends on every request, as the reconciler's agent (pinned by
    tests/atlan/test_requests.py)."""
    headers = {
        "accept": "application/json",
        "content-type": "application/json",
        "user-agent": f"reconciler/{version()}",
        "x-atlan-agent": "reconciler",
        "x-atlan-agent-id": "reconciler",
        "x-atlan-client-origin": "reconciler",
        "x-atlan-python-version": platform.python_version(),
        "x-atlan-client-type": "async",
    }
    if api_key.strip():
        headers["authorization"] = f"Bearer {api_key}"
    return headers


def request_id() -> str:
    return str(uuid.uuid4())


def display_url(base_url: str) -> str:
    """The base URL without any user:password part, for messages."""
    url = httpx.URL(base_url)
    return str(url.copy_with(username=None, password=None)) if url.userinfo else str(url)


def scrub(text: str, secrets: tuple[str, ...]) -> str:
    """``text`` on one line, secrets replaced, capped at MESSAGE_CAP characters."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    text = " ".join(text.split())
    return text if len(text) <= MESSAGE_CAP else text[: MESSAGE_CAP - 1] + "…"


def server_message(response: httpx.Response) -> str:
    """What the server said went wrong, from the error-body keys the SDK reads, else the raw text."""
    text = response.text
    try:
        body: Any = json.loads(text) if text.strip() else None
    except ValueError:
        body = None
    if isinstance(body, Mapping):
        code = next((body[k] for k in ("errorCode", "code") if body.get(k) not in (None, "")), None)
        message = next((body[k] for k in ("errorMessage", "message") if body.get(k) not in (None, "")), None)
        causes = body.get("causes")
        if message is None and isinstance(causes, list) and causes and isinstance(causes[0], Mapping):
            message = causes[0].get("errorMessage")
        if message is not None:
            return f"{code}: {message}" if code is not None else str(message)
    return text


def status_error(
    response: httpx.Response,
    *,
    method: str,
    path: str,
    base_url: str,
    secrets: tuple[str, ...],
    attempts: int = 1,
) -> ApiError:
    """The reconciler error for a non-2xx answer."""
    status = response.status_code
    said = scrub(server_message(response), secrets)
    tail = f": {said}" if said else ""
    after = f" after {attempts} attempts" if attempts > 1 else ""
    where = f"{method} /{PREFIX}{path}"
    if status == 401:
        return AuthenticationError(
            f"the API key was refused by {display_url(base_url)} (401 on {where}){tail}", status=status
        )
    reason = response.reason_phrase or "error"
    message = f"{where}: {status} {reason}{after}{tail}"
    cls: type[ApiError]
    if status == 403:
        cls = PermissionDeniedError
    elif status == 404:
        cls = NotFoundError
    elif status == 409:
        cls = ConflictError
    elif status == 429:
        cls = RateLimitedError
    elif status >= 500:
        cls = ServerError
    else:
        cls = ApiError
    return cls(message, status=status)


def transport_error(
    exc: httpx.HTTPError,
    *,
    method: str,
    path: str,
    base_url: str,
    secrets: tuple[str, ...],
    attempts: int = 1,
) -> TransportError:
    """The reconciler error for an answer that never came (or could not be read)."""
    kind = type(exc).__name__
    detail = scrub(str(exc), secrets)
    after = f" after {attempts} attempts" if attempts > 1 else ""
    why = f"{kind}: {detail}" if detail else kind
    return TransportError(f"{method} /{PREFIX}{path}: no answer from {display_url(base_url)}{after} ({why})")


def retryable_exception(exc: httpx.HTTPError) -> bool:
    """Timeouts and broken connections are worth another attempt; protocol misuse is not."""
    return isinstance(exc, httpx.TimeoutException | httpx.NetworkError | httpx.RemoteProtocolError)


def request_was_sent(exc: httpx.HTTPError) -> bool:
    """False only when the request certainly never reached the server (no connection was made)."""
    return not isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)
