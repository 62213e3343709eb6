"""Atlan's file API: presigned URLs to the tenant's own object store (pyatlan's ``FileClient``).

``POST /api/service/files/presignedUrl`` with ``{"key", "expiry", "method"}`` answers ``{"url"}``,
a URL to PUT the bytes to or GET them from, without the Atlan ``Authorization`` header
(``reconciler.stores.tenant`` does that). The request is safe to repeat, so it is retried like a
read. A presigned URL is a credential for as long as it lives: its query (the signature, a
session token) is registered with the scrubber at once, and no message or log line shows it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal
from urllib.parse import parse_qsl, urlsplit

from reconciler.atlan import wire
from reconciler.atlan.transport import Transport
from reconciler.errors import ApiError
from reconciler.redaction import SECRETS

PresignMethod = Literal["PUT", "GET"]
PRESIGN_PATH = "files/presignedUrl"
DEFAULT_EXPIRY = "120s"
# Query values at least this long (signatures, session tokens, credential scopes) are registered
# one by one too, so they are masked even where a URL is shown decoded.
_SECRET_VALUE_LENGTH = 16


def register_presigned(url: str) -> None:
    """Make the scrubber mask ``url``, its query and the long values in it."""
    query = urlsplit(url).query
    values = [value for _, value in parse_qsl(query) if len(value) >= _SECRET_VALUE_LENGTH]
    SECRETS.add([url, query, *values] if query else [url])


async def presigned_url(transport: Transport, key: str, method: PresignMethod, *, expiry: str) -> str:
    """A presigned URL to ``method`` the object ``key`` of the tenant's store."""
    data = await transport.call("POST", PRESIGN_PATH, {"key": key, "expiry": expiry, "method": method})
    url = data.get("url") if isinstance(data, Mapping) else None
    if not isinstance(url, str) or not url.startswith(("https://", "http://")):
        raise ApiError(f"POST /{wire.PREFIX}{PRESIGN_PATH}: the answer holds no URL", status=200)
    register_presigned(url)
    return url
