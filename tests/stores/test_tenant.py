"""The tenant's own store through Atlan's file API: the presign request, the bare requests to the
presigned URLs (no Atlan credentials), what Azure and GCS need, races, retries, and a presigned
URL never shown."""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import AsyncIterator

import httpx
import pytest

from reconciler.atlan import AtlanWorkflowClient, RetryPolicy
from reconciler.errors import ApiError, ObjectStoreError, PreconditionFailedError
from reconciler.redaction import SECRETS
from reconciler.stores.tenant import TenantStore, provider_of
from tests.stores.conftest import atlan_client
from tests.stores.fake_tenant import ATLAN, FakeTenant, Flavour

pytestmark = pytest.mark.anyio

DATA = b"typeName,qualifiedName,name\nTable,default/snowflake/1/DB/S/T,T\n"
SHA = hashlib.sha256(DATA).hexdigest()
KEY = "csa-asset-import/assets.csv"


class Tenant:
    """A fake tenant of one flavour, its Atlan client and the store on it."""

    def __init__(self, flavour: Flavour, retry: RetryPolicy) -> None:
        self.fake = FakeTenant(flavour)
        self.client = atlan_client(f"https://{ATLAN}", self.fake.api_key, transport=self.fake.transport())
        self.store = TenantStore(self.client, transport=self.fake.transport(), retry=retry, sleep=_no_sleep)

    async def aclose(self) -> None:
        await self.store.aclose()
        await self.client.aclose()


async def _no_sleep(seconds: float) -> None:
    return None


@pytest.fixture(params=["s3", "azure", "gcs"])
async def tenant(request: pytest.FixtureRequest) -> AsyncIterator[Tenant]:
    made = Tenant(request.param, RetryPolicy.no_wait(attempts=3))
    yield made
    await made.aclose()


def flavoured(flavour: Flavour) -> pytest.MarkDecorator:
    return pytest.mark.parametrize("tenant", [flavour], indirect=True)


async def test_presigned_urls_are_asked_of_atlan_and_used_without_its_credentials(tenant: Tenant) -> None:
    await tenant.store.put(KEY, DATA, sha256=SHA, expected=None)
    assert await tenant.store.get(KEY) is not None
    asked = [json.loads(r.content) for r in tenant.fake.requests if r.url.host == ATLAN]
    assert {"key": KEY, "expiry": "120s", "method": "PUT"} in asked
    assert {"key": KEY, "expiry": "120s", "method": "GET"} in asked
    assert all(
        r.headers["authorization"] == "Bearer atlan-key" for r in tenant.fake.requests if r.url.host == ATLAN
    )
    assert tenant.fake.store_requests()
    assert tenant.fake.authorization_seen == 0
    assert not any("cookie" in r.headers for r in tenant.fake.store_requests())


@flavoured("azure")
async def test_azure_needs_a_block_blob_and_answers_201(tenant: Tenant) -> None:
    written = await tenant.store.put(KEY, DATA, sha256=SHA, expected=None)
    (put,) = tenant.fake.store_requests("PUT")
    assert put.headers["x-ms-blob-type"] == "BlockBlob"
    assert put.headers["if-none-match"] == "*"
    assert written.etag == f'"{tenant.fake.objects[KEY].version}"'


@flavoured("gcs")
async def test_gcs_versions_are_generations_and_checked_before_the_write(tenant: Tenant) -> None:
    written = await tenant.store.put(KEY, DATA, sha256=SHA, expected=None)
    assert written.etag == tenant.fake.objects[KEY].version  # x-goog-generation, not the ETag
    (put,) = tenant.fake.store_requests("PUT")
    assert "if-none-match" not in put.headers  # GCS's XML API would ignore it; unsigned x-goog-* would fail
    tenant.fake.replace(KEY, b"replaced\n")
    with pytest.raises(PreconditionFailedError, match="changed since it was read"):
        await tenant.store.put(KEY, DATA, sha256=SHA, expected=written)
    assert len(tenant.fake.store_requests("PUT")) == 1  # refused before a second upload
    assert tenant.fake.objects[KEY].data == b"replaced\n"


@flavoured("s3")
async def test_a_replacement_between_the_check_and_the_write_is_refused_by_the_store(tenant: Tenant) -> None:
    written = await tenant.store.put(KEY, DATA, sha256=SHA, expected=None)

    def someone_else_writes_first(request: httpx.Request) -> httpx.Response | None:
        if request.method == "PUT":
            tenant.fake.replace(KEY, b"theirs\n")
        return None

    tenant.fake.tamper = someone_else_writes_first
    with pytest.raises(PreconditionFailedError) as caught:
        await tenant.store.put(KEY, b"ours\n", sha256=SHA, expected=written)
    assert caught.value.status == 412
    assert tenant.fake.objects[KEY].data == b"theirs\n"


@flavoured("azure")
async def test_azure_says_409_when_a_create_meets_a_blob(tenant: Tenant) -> None:
    def someone_else_creates_first(request: httpx.Request) -> httpx.Response | None:
        if request.method == "PUT":
            tenant.fake.replace(KEY, b"theirs\n")
        return None

    tenant.fake.tamper = someone_else_creates_first
    with pytest.raises(PreconditionFailedError, match="already exists") as caught:
        await tenant.store.put(KEY, DATA, sha256=SHA, expected=None)
    assert caught.value.status == 409


@flavoured("s3")
async def test_head_reads_one_byte_and_the_size_from_content_range(tenant: Tenant) -> None:
    await tenant.store.put(KEY, DATA, sha256=SHA, expected=None)
    head = await tenant.store.head(KEY)
    assert head is not None
    assert head.size == len(DATA)
    ranged = [r for r in tenant.fake.store_requests("GET") if r.headers.get("range")]
    assert ranged  # the write's own check and this HEAD
    assert all(r.headers["range"] == "bytes=0-0" for r in ranged)
    assert not [r for r in tenant.fake.store_requests("GET") if not r.headers.get("range")]


@flavoured("s3")
async def test_reads_are_retried_and_a_write_is_not(tenant: Tenant) -> None:
    await tenant.store.put(KEY, DATA, sha256=SHA, expected=None)
    failures = iter([httpx.ReadError("reset"), None])

    def flaky_get(request: httpx.Request) -> httpx.Response | None:
        if request.method == "GET" and (failure := next(failures, None)) is not None:
            raise failure
        return None

    tenant.fake.tamper = flaky_get
    found = await tenant.store.get(KEY)
    assert found is not None
    assert found[1] == DATA

    def lost_put(request: httpx.Request) -> httpx.Response | None:
        if request.method == "PUT":
            raise httpx.ReadTimeout("lost")
        return None

    tenant.fake.tamper = lost_put
    with pytest.raises(ObjectStoreError, match="may or may not have happened") as caught:
        await tenant.store.put(KEY, b"new\n", sha256=SHA, expected=found[0])
    assert not isinstance(caught.value, PreconditionFailedError)


@flavoured("s3")
async def test_an_expired_url_is_said_so(tenant: Tenant) -> None:
    tenant.fake.tamper = lambda request: httpx.Response(403, text="<Error><Code>AccessDenied</Code></Error>")
    with pytest.raises(
        ObjectStoreError,
        match=r"^HEAD tenant:csa-asset-import/assets.csv: refused: the presigned URL expired",
    ):
        await tenant.store.head(KEY)


async def test_a_presigned_url_is_never_shown(tenant: Tenant, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="reconciler"):
        await tenant.store.put(KEY, DATA, sha256=SHA, expected=None)
        tenant.fake.tamper = _server_error
        with pytest.raises(ObjectStoreError) as caught:
            await tenant.store.get(KEY)
    assert tenant.fake.presigned
    said = [r.getMessage() for r in caplog.records if r.name.startswith("reconciler")] + [str(caught.value)]
    for url in tenant.fake.presigned:
        signature = httpx.URL(url).params["X-Amz-Signature"]
        assert not any(signature in text for text in said)
        assert signature not in SECRETS.scrub(f"see {url}")
    assert "GET tenant:csa-asset-import/assets.csv: 503 Service Unavailable" in str(caught.value)
    assert any(
        re.match(r"PUT tenant:csa-asset-import/assets.csv -> 20[01] in \d+ ms$", text) for text in said
    )


def _server_error(request: httpx.Request) -> httpx.Response:
    return httpx.Response(503, text=f"<Error><Message>{request.url}</Message></Error>")  # echoes the URL


async def test_an_answer_without_a_url_is_an_api_error() -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json={"url": ""}))
    async with AtlanWorkflowClient(f"https://{ATLAN}", "k", transport=transport, rate_limit=None) as client:
        with pytest.raises(
            ApiError, match=r"^POST /api/service/files/presignedUrl: the answer holds no URL$"
        ):
            await client.presigned_url(KEY, "PUT")


@pytest.mark.parametrize(
    ("url", "provider"),
    [
        ("https://b.s3.us-east-1.amazonaws.com/k?X-Amz-Signature=s", "s3"),
        ("https://acct.blob.core.windows.net/c/k?sig=s", "azure"),
        ("https://storage.googleapis.com/b/k?X-Goog-Signature=s", "gcs"),
        ("http://127.0.0.1:8000/_store/amazonaws.com/k?X-Amz-Signature=s", "s3"),
    ],
)
def test_the_provider_is_read_from_the_url_as_pyatlan_does(url: str, provider: str) -> None:
    assert provider_of(url) == provider
