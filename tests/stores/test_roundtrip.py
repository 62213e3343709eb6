"""The same round trip against every backend (issue 16): create, read, conditional replace,
a stale version and a second create refused, the digest read back, a missing object is None."""

from __future__ import annotations

import hashlib

import pytest

from reconciler.errors import PreconditionFailedError
from reconciler.stores import ObjectStore

pytestmark = pytest.mark.anyio

FIRST = b"typeName,name,qualifiedName\nAtlasGlossary,Finance,\n"
SECOND = b"typeName,name,qualifiedName\nAtlasGlossary,Finance,\nAtlasGlossary,Sales,\n"


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def keeps_metadata(store: ObjectStore) -> bool:
    # Presigned URLs carry no metadata: the tenant's store reads back no digest (tenant.py).
    return store.url != "tenant:"


async def test_round_trip(store: ObjectStore, key: str) -> None:
    assert await store.head(key) is None
    assert await store.get(key) is None

    created = await store.put(key, FIRST, sha256=digest(FIRST), expected=None)
    assert (created.key, created.size) == (key, len(FIRST))
    assert created.etag

    head = await store.head(key)
    assert head is not None
    assert (head.etag, head.size) == (created.etag, len(FIRST))
    assert head.sha256 == (digest(FIRST) if keeps_metadata(store) else None)
    assert await store.get(key) == (head, FIRST)

    with pytest.raises(PreconditionFailedError, match="already exists"):
        await store.put(key, SECOND, sha256=digest(SECOND), expected=None)

    replaced = await store.put(key, SECOND, sha256=digest(SECOND), expected=head)
    assert replaced.etag != head.etag
    assert replaced.size == len(SECOND)

    with pytest.raises(PreconditionFailedError, match="changed since it was read"):
        await store.put(key, b"stale,write\n", sha256=digest(b"stale,write\n"), expected=head)

    found = await store.get(key)
    assert found is not None
    current, data = found
    assert data == SECOND
    assert current.etag == replaced.etag
    assert current.sha256 == (digest(SECOND) if keeps_metadata(store) else None)


async def test_a_missing_object_cannot_be_replaced(store: ObjectStore, key: str) -> None:
    other = f"{key}.elsewhere"
    elsewhere = await store.put(other, FIRST, sha256=digest(FIRST), expected=None)
    stale = type(elsewhere)(key, elsewhere.etag, elsewhere.size, elsewhere.sha256)
    with pytest.raises(PreconditionFailedError):
        await store.put(key, SECOND, sha256=digest(SECOND), expected=stale)
    assert await store.head(key) is None


async def test_an_empty_object(store: ObjectStore, key: str) -> None:
    written = await store.put(key, b"", sha256=digest(b""), expected=None)
    head = await store.head(key)
    assert head is not None
    assert (head.size, head.etag) == (0, written.etag)
    assert await store.get(key) == (head, b"")
