"""What every object store offers, whatever its backend: the values and the protocol.

An object is read and written whole (input files are a few MB at most). Each write is conditional:
``put(..., expected=None)`` only creates, ``put(..., expected=seen)`` only replaces the version
``seen`` was read as, so an upload never overwrites a file someone replaced since it was planned.
The version token is the object's ETag (S3, Azure Blob, the tenant's store, local directories)
or its generation (Google Cloud Storage); callers treat it as opaque.

Our own digest of the content travels with the object as user metadata ``reconciler-sha256``
(``reconciler_sha256`` on Azure, whose metadata names must be C# identifiers), so a drift check
needs one HEAD, not a download. A store that keeps no metadata, or an object written by anyone
else, reads back ``sha256=None``.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol, TypeVar

from reconciler.errors import ObjectStoreError, PreconditionFailedError

T = TypeVar("T")
logger = logging.getLogger("reconciler.stores")

StoreKind = Literal["s3", "gcs", "adls", "tenant", "local"]
METADATA_KEY = "reconciler-sha256"
AZURE_METADATA_KEY = "reconciler_sha256"
CONTENT_TYPE = "text/csv"

# A digest goes into a header: hex, or an algorithm-tagged base64 form, nothing that could break one.
_DIGEST = re.compile(r"^[A-Za-z0-9:+/=_-]{1,128}$")
_MAX_KEY = 1024  # S3's and GCS's limit in bytes


@dataclass(frozen=True, slots=True)
class StoredObject:
    """One object as a store reports it."""

    key: str
    etag: str
    """The version token a conditional write checks: the ETag, or the GCS generation."""
    size: int
    sha256: str | None = None
    """Our ``reconciler-sha256`` metadata, when the object carries it."""


class ObjectStore(Protocol):
    """One bucket (or container, or directory) of one backend."""

    @property
    def url(self) -> str:
        """Where the store is, for messages: ``s3://bucket``, ``gs://bucket``, ``tenant:``..."""
        ...

    async def head(self, key: str) -> StoredObject | None:
        """The object at ``key`` without its content, or None if there is none."""
        ...

    async def get(self, key: str) -> tuple[StoredObject, bytes] | None:
        """The object at ``key`` and its content (one consistent version), or None."""
        ...

    async def put(self, key: str, data: bytes, *, sha256: str, expected: StoredObject | None) -> StoredObject:
        """Write ``data`` to ``key`` with ``sha256`` as metadata; the object written.

        ``expected`` None creates the object and fails if one exists; otherwise the write happens
        only if the object is still the version ``expected`` was read as. Either failure raises
        ``PreconditionFailedError``, unless the object found is this very upload (same digest
        metadata and size: an earlier attempt whose answer was lost), which is returned.
        """
        ...

    async def aclose(self) -> None:
        """Release the store's connections."""
        ...


# -- credentials, passed explicitly (a manifest's object_store, a test's local server) ------------


@dataclass(frozen=True, slots=True)
class S3Keys:
    """An AWS access key (and a session token, for temporary ones)."""

    access_key_id: str
    secret_access_key: str = field(repr=False)
    session_token: str | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class GcsServiceAccount:
    """A Google service account key, as the JSON document Google hands out."""

    info_json: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class AzureClientSecret:
    """An Entra ID application (service principal) and its secret, as Atlan's ADLS credential."""

    client_id: str
    client_secret: str = field(repr=False)
    tenant_id: str


@dataclass(frozen=True, slots=True)
class AzureAccountKey:
    """A storage account's shared key (Azurite's well-known one, in tests)."""

    account_key: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class Anonymous:
    """No credentials: requests are not signed (a public bucket, a local server that checks nothing)."""


Credentials = S3Keys | GcsServiceAccount | AzureClientSecret | AzureAccountKey | Anonymous


def secret_values(credentials: Credentials | None) -> list[str]:
    """The parts of ``credentials`` that must never be shown."""
    match credentials:
        case S3Keys(secret_access_key=secret, session_token=token):
            return [secret, *([token] if token else [])]
        case GcsServiceAccount(info_json=info):
            return [info]
        case AzureClientSecret(client_secret=secret):
            return [secret]
        case AzureAccountKey(account_key=key):
            return [key]
    return []


# -- where -------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StoreLocation:
    """Which store: a bucket (S3, GCS), a container (Azure Blob, for ADLS too), the tenant's own
    store, or a local directory standing in for a bucket."""

    kind: StoreKind
    bucket: str = ""
    """The S3 or GCS bucket, or the Azure container."""
    region: str | None = None
    """S3: the bucket's region."""
    account: str | None = None
    """Azure: the storage account."""
    project: str | None = None
    """GCS: the project (sent with no object request; kept for messages)."""
    directory: Path | None = None
    """local: the directory that holds the objects."""
    metadata_directory: Path | None = None
    """local: where the digests are kept (default: ``.reconciler`` inside ``directory``)."""

    def __post_init__(self) -> None:
        if self.kind in ("s3", "gcs", "adls") and not self.bucket:
            raise ValueError(f"a {self.kind} location needs a bucket (or container)")
        if self.kind == "adls" and not self.account:
            raise ValueError("an adls location needs the storage account")
        if self.kind == "local" and self.directory is None:
            raise ValueError("a local location needs a directory")

    @property
    def url(self) -> str:
        match self.kind:
            case "s3":
                return f"s3://{self.bucket}"
            case "gcs":
                return f"gs://{self.bucket}"
            case "adls":
                return f"az://{self.account}/{self.bucket}"
            case "tenant":
                return "tenant:"
            case _:
                return f"file://{self.directory}"

    def stand_in(self, root: Path) -> StoreLocation:
        """The local directory that stands in for this bucket on the embedded emulator, in the
        layout of its object directory ``root`` (reconciler/emulator/objects.py):
        ``root/<kind>/<bucket or container>``, digests under ``root/.reconciler/<kind>/<bucket>``
        where the emulator does not look for objects."""
        if self.kind in ("tenant", "local"):
            raise ValueError(f"a {self.kind} location has no stand-in")
        check_segment(self.bucket, self.url)
        return StoreLocation(
            "local",
            directory=root / self.kind / self.bucket,
            metadata_directory=root / ".reconciler" / self.kind / self.bucket,
        )


def object_path(prefix: str, object_key: str) -> str:
    """The key of ``object_key`` under ``prefix``, as Atlan joins them (a missing slash added)."""
    prefix, object_key = prefix.strip("/"), object_key.strip("/")
    return f"{prefix}/{object_key}" if prefix else object_key


def check_segment(part: str, where: str) -> None:
    if not part or part in (".", "..") or "/" in part or "\\" in part or not part.isprintable():
        raise ObjectStoreError(f"{where}: {part!r} cannot name a directory")


def check_key(key: str, where: str) -> str:
    """``key`` if it names an object the same way in every store (and no file outside a local
    directory); an ObjectStoreError otherwise."""
    problem = None
    if not key:
        problem = "it is empty"
    elif len(key.encode()) > _MAX_KEY:
        problem = f"it is longer than {_MAX_KEY} bytes"
    elif not key.isprintable():
        problem = "it contains a control character"
    elif key.startswith("/") or key.endswith("/") or "//" in key:
        problem = "it has an empty path segment"
    elif any(segment in (".", "..") for segment in key.split("/")):
        problem = "it has a '.' or '..' segment"
    elif "\\" in key:
        problem = "it contains a backslash"
    if problem:
        raise ObjectStoreError(f"{where}: the object key {key!r} is not usable: {problem}")
    return key


def check_digest(sha256: str) -> str:
    if not _DIGEST.match(sha256):
        raise ValueError("sha256 must be a digest (hex or tagged base64), at most 128 characters")
    return sha256


async def settle_put(
    store: ObjectStore, key: str, data: bytes, sha256: str, write: Callable[[], Awaitable[T]]
) -> T | StoredObject:
    """Run a conditional ``write``; if it is refused, the object may be our own earlier attempt,
    whose answer was lost and which the client library retried: when it carries this very digest
    and size it is what we meant to write, and the write counts as done."""
    try:
        return await write()
    except PreconditionFailedError:
        current = await store.head(key)
        if current is not None and current.sha256 == sha256 and current.size == len(data):
            return current
        raise


def log_operation(method: str, where: str, outcome: str, began: float) -> None:
    """One INFO line per store request (``reconciler -v``), shaped like
    ``reconciler.retrying.log_request``: ``PUT s3://bucket/key -> 200 in 12 ms``. ``where`` is our
    name for the object, never a request URL (a presigned one is a credential)."""
    if logger.isEnabledFor(logging.INFO):
        logger.info("%s %s -> %s in %d ms", method, where, outcome, round((time.monotonic() - began) * 1000))
