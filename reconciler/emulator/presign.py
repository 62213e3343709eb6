"""Presigned URLs of the tenant store, as ``POST files/presignedUrl`` hands them out.

A URL is ``<base>/_store/amazonaws.com/<key>?X-Amz-Algorithm=...&X-Amz-Date=...&X-Amz-Expires=...
&X-Amz-SignedHeaders=host&X-Amz-Signature=...``: ``amazonaws.com`` is a path segment so that
pyatlan's provider check (a substring test) takes its S3 path, and the query looks like SigV4's.
The signature is an HMAC-SHA256 of the method, the key, the date and the expiry, under a secret
derived from the API key: URLs stay valid across restarts and between processes sharing a
database, reveal nothing of the key, and cannot be made for another key or method. A GET URL also
serves HEAD. Times come from the emulator's clock, so a test expires a URL by moving the clock.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from urllib.parse import quote, urlencode

from reconciler.emulator.objects import ObjectProblem

OBJECT_PREFIX = "/_store/amazonaws.com/"
METHODS = ("PUT", "GET")
MAX_EXPIRY_SECONDS = 7 * 24 * 3600  # S3's limit for presigned URLs
SIGNATURE = "X-Amz-Signature"
_ALGORITHM = "AWS4-HMAC-SHA256"
_DATE_FORMAT = "%Y%m%dT%H%M%SZ"
_EXPIRY = re.compile(r"(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")


def parse_expiry(value: object) -> int:
    """Seconds from ``"30s"``, ``"5m"``, ``"1h30m"`` (or a whole number of seconds); ValueError else."""
    if isinstance(value, int) and not isinstance(value, bool):
        seconds = value
    elif isinstance(value, str) and value.strip() and (match := _EXPIRY.fullmatch(value.strip())):
        hours, minutes, secs = (int(part or 0) for part in match.groups())
        seconds = hours * 3600 + minutes * 60 + secs
    else:
        raise ValueError(f"expiry: {value!r} is not a duration like '30s', '5m' or '1h'")
    if not 1 <= seconds <= MAX_EXPIRY_SECONDS:
        raise ValueError(f"expiry: must be between 1 second and {MAX_EXPIRY_SECONDS} seconds (7 days)")
    return seconds


class Presigner:
    def __init__(self, api_key: str) -> None:
        self._secret = hmac.new(api_key.encode(), b"emulator presigned URLs", hashlib.sha256).digest()

    def _signature(self, method: str, key: str, date: str, expires: str) -> str:
        message = "\n".join((method, key, date, expires)).encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()

    def url(self, base: str, method: str, key: str, *, now: float, expires: int) -> str:
        """The URL under ``base`` (scheme and authority) that lets ``method`` at ``key`` until
        ``now + expires``."""
        date = datetime.fromtimestamp(int(now), tz=UTC).strftime(_DATE_FORMAT)
        query = {
            "X-Amz-Algorithm": _ALGORITHM,
            "X-Amz-Date": date,
            "X-Amz-Expires": str(expires),
            "X-Amz-SignedHeaders": "host",
            SIGNATURE: self._signature(method, key, date, str(expires)),
        }
        return f"{base.rstrip('/')}{OBJECT_PREFIX}{quote(key)}?{urlencode(query)}"

    def verify(self, method: str, key: str, query: Mapping[str, str], *, now: float) -> None:
        """Raise 403 unless ``query`` signs ``method`` (HEAD as GET) at ``key`` and has not expired."""
        date, expires, signature = (query.get(name) for name in ("X-Amz-Date", "X-Amz-Expires", SIGNATURE))
        if not (date and expires and signature):
            raise ObjectProblem(
                403,
                "AccessDenied",
                "Query-string authentication requires X-Amz-Date, X-Amz-Expires and X-Amz-Signature",
            )
        wanted = self._signature("GET" if method == "HEAD" else method, key, date, expires)
        if not hmac.compare_digest(wanted, signature):
            raise ObjectProblem(
                403,
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided",
            )
        # Signed by us, so both parse.
        signed_at = datetime.strptime(date, _DATE_FORMAT).replace(tzinfo=UTC).timestamp()
        if now > signed_at + int(expires):
            raise ObjectProblem(403, "AccessDenied", "Request has expired")


def without_signature(query: str) -> str:
    """A presigned URL's query fit for a log: the signature (a credential) left out."""
    return "&".join(part for part in query.split("&") if not part.lower().startswith(SIGNATURE.lower() + "="))
