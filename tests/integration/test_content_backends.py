"""Issue 16: the same round trip through each real backend, over HTTP on 127.0.0.1: S3 on moto,
Azure Blob on Azurite, GCS on fake-gcs-server, and the tenant's own store on the emulator.

Uploads sign the way a CI job would: S3 and Azure with the environment's credentials (an access
key, a storage account key), GCS with the manifest's own service account (``upload_credentials:
manifest``), whose token comes from a token endpoint on loopback. A first apply uploads and runs;
the next plan asks no store anything; an edited row is planned, applied and read back; the object
replaced behind git's back is drift.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import threading
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from reconciler.settings import Settings
from reconciler.stores import AzureAccountKey, Credentials, S3Keys, StoreLocation, open_store
from reconciler.stores.base import Anonymous
from tests.integration.conftest import Tenant
from tests.integration.test_plan_apply import by_address
from tests.stores.conftest import azurite, bucket_name, fake_gcs, moto  # noqa: F401 - the servers
from tests.stores.servers import AZURITE_ACCOUNT, AZURITE_KEY, LOOPBACK, Azurite, FakeGcs, MotoS3
from tests.stores.test_factory import service_account_key

ADDRESS = "AssetImport.glossary"
KEY = "glossaries/terms.csv"
TERMS = (
    "typeName,name,anchor,userDescription,qualifiedName\n"
    "AtlasGlossary,Finance,,Money matters,\n"
    "AtlasGlossaryTerm,Revenue,Finance,Income,\n"
)
EDITED = (
    TERMS.replace("Income,", "Income from sales,") + "AtlasGlossaryTerm,Margin,Finance,Revenue less cost,\n"
)
BACKENDS = ["s3", "adls", "gcs", "tenant"]


class TokenEndpoint:
    """Google's OAuth token endpoint, as far as a service account's JWT grant needs it."""

    def __init__(self) -> None:
        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("content-length", 0)))
                body = json.dumps({"access_token": "token-for-tests", "expires_in": 3600}).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer((LOOPBACK, 0), Handler)
        self.url = f"http://{LOOPBACK}:{self.server.server_address[1]}/token"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def token_endpoint() -> Iterator[TokenEndpoint]:
    endpoint = TokenEndpoint()
    yield endpoint
    endpoint.stop()


def service_account(token_uri: str) -> str:
    """A service account key (tests/stores/test_factory.py's) whose token comes from ``token_uri``."""
    info = json.loads(service_account_key())
    return json.dumps({**info, "token_uri": token_uri})


class Backend:
    """One backend: the manifest's object_store, and a store of our own to look at its object."""

    def __init__(
        self,
        object_store: dict[str, Any],
        location: StoreLocation,
        settings: Settings,
        credentials: Credentials | None,
    ) -> None:
        self.object_store = object_store
        self.location = location
        self.settings = settings
        self.credentials = credentials

    async def _get(self) -> tuple[Any, bytes] | None:
        store = open_store(
            self.location, settings=self.settings, credentials=self.credentials, presigner=self.presigner
        )
        try:
            return await store.get(KEY)
        finally:
            await store.aclose()

    async def _replace(self, data: bytes) -> None:
        store = open_store(
            self.location, settings=self.settings, credentials=self.credentials, presigner=self.presigner
        )
        try:
            found = await store.head(KEY)
            await store.put(KEY, data, sha256=hashlib.sha256(data).hexdigest(), expected=found)
        finally:
            await store.aclose()

    presigner: Any = None

    def read(self) -> bytes:
        found = asyncio.run(self._get())
        assert found is not None
        return bytes(found[1])

    def replace(self, data: bytes) -> None:
        asyncio.run(self._replace(data))


@pytest.fixture(params=BACKENDS)
def backend(
    request: pytest.FixtureRequest, tenant: Tenant, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Backend:
    monkeypatch.delenv("RECONCILER_STAND_INS")  # the real servers, not local stand-ins
    name = bucket_name()
    kind: str = request.param
    if kind == "s3":
        server: MotoS3 = request.getfixturevalue("moto")
        server.make_bucket(name)
        monkeypatch.setenv("RECONCILER_S3_ENDPOINT", server.endpoint)  # keys: the environment's
        store: dict[str, Any] = {
            "s3": {
                "bucket": name,
                "region": "us-east-1",
                "access_key": "${env:AWS_ACCESS_KEY_ID}",
                "secret_key": "${env:AWS_SECRET_ACCESS_KEY}",
            }
        }
        settings = Settings(RECONCILER_S3_ENDPOINT=server.endpoint)
        return Backend(store, StoreLocation("s3", bucket=name), settings, S3Keys("AKIATEST", "x"))
    if kind == "adls":
        azure: Azurite = request.getfixturevalue("azurite")
        azure.make_bucket(name)
        monkeypatch.setenv("RECONCILER_AZURE_BLOB_ENDPOINT", azure.endpoint)
        monkeypatch.setenv("AZURE_STORAGE_ACCOUNT_KEY", AZURITE_KEY)  # the environment's credential
        store = {
            "adls": {
                "client_id": "app-1",
                "client_secret": "${env:AZURE_CLIENT_SECRET}",
                "tenant_id": "t-1",
                "account_name": AZURITE_ACCOUNT,
                "container": name,
            }
        }
        settings = Settings(RECONCILER_AZURE_BLOB_ENDPOINT=azure.endpoint)
        location = StoreLocation("adls", bucket=name, account=AZURITE_ACCOUNT)
        return Backend(store, location, settings, AzureAccountKey(AZURITE_KEY))
    if kind == "gcs":
        gcs: FakeGcs = request.getfixturevalue("fake_gcs")
        gcs.make_bucket(name)
        monkeypatch.setenv("RECONCILER_GCS_ENDPOINT", gcs.endpoint)
        token: TokenEndpoint = request.getfixturevalue("token_endpoint")
        monkeypatch.setenv("GCS_SERVICE_ACCOUNT_JSON", service_account(token.url))
        store = {
            "gcs": {
                "project_id": "acme",
                "service_account_json": "${env:GCS_SERVICE_ACCOUNT_JSON}",
                "bucket": name,
            },
            "upload_credentials": "manifest",
        }
        settings = Settings(RECONCILER_GCS_ENDPOINT=gcs.endpoint)
        return Backend(store, StoreLocation("gcs", bucket=name), settings, Anonymous())
    from tests.integration.conftest import API_KEY
    from tests.stores.conftest import atlan_client

    backend = Backend({}, StoreLocation("tenant"), Settings(), None)
    backend.presigner = _Presigner(tenant.server.base_url, API_KEY, atlan_client)
    return backend


class _Presigner:
    """Presigned URLs from the emulator, with a client opened for each (each asyncio.run)."""

    def __init__(self, base_url: str, api_key: str, factory: Any) -> None:
        self.base_url, self.api_key, self.factory = base_url, api_key, factory

    async def presigned_url(self, key: str, method: Any, *, expiry: str) -> str:
        client = self.factory(self.base_url, self.api_key)
        try:
            url: str = await client.presigned_url(key, method, expiry=expiry)
            return url
        finally:
            await client.aclose()


def test_the_round_trip(tenant: Tenant, backend: Backend, store_calls: Counter[str]) -> None:
    for path in tenant.manifests.rglob("*.yaml"):
        path.unlink()
    data = tenant.manifests.parent / "data"
    data.mkdir()
    (data / "terms.csv").write_text(TERMS)
    spec: dict[str, Any] = {
        "glossaries": {"prefix": "/glossaries/", "object_key": "terms.csv", "source": "../data/terms.csv"}
    }
    if backend.object_store:
        spec["object_store"] = backend.object_store
    manifest = {
        "apiVersion": "reconciler/v1",
        "kind": "AssetImport",
        "metadata": {"name": "glossary"},
        "spec": spec,
    }
    (tenant.manifests / "glossary.yaml").write_text(json.dumps(manifest))  # JSON is YAML

    # A first apply uploads the file and runs the workflow.
    first = tenant.apply()
    assert first.code == 0, first.out + first.err
    assert backend.read() == TERMS.encode()
    workflow = str(by_address(tenant.plan("-o", "json").json())[ADDRESS]["workflow"])
    assert len(tenant.runs_of(workflow)) == 1
    tenant.finish_runs()

    # The next plan is empty, and no store is asked anything.
    store_calls.clear()
    again = tenant.plan("--detailed-exitcode")
    assert (again.code, sum(store_calls.values())) == (0, 0), again.out
    assert tenant.cli("drift", str(tenant.manifests)).code == 0  # one HEAD: the object is ours
    assert store_calls == Counter({"HEAD": 1})

    # An edited and an added row are planned with their cells, then applied and run.
    (data / "terms.csv").write_text(EDITED)
    entry = by_address(tenant.plan("-o", "json").json())[ADDRESS]
    [content] = entry["content"]
    assert (entry["actions"], content["added"], content["changed"], content["removed"]) == (
        ["update", "rerun"],
        1,
        1,
        0,
    )
    revenue = next(row for row in content["rows"] if row["identity"]["name"] == "Revenue")
    assert revenue["cells"] == [{"column": "userDescription", "old": "Income", "new": "Income from sales"}]
    applied = tenant.apply()
    assert applied.code == 0, applied.out + applied.err
    assert backend.read() == EDITED.encode()
    assert len(tenant.runs_of(workflow)) == 2
    tenant.finish_runs()
    assert tenant.plan("--detailed-exitcode").code == 0

    # Replaced behind git's back: drift, and the next plan shows the rows it would restore.
    backend.replace(b"typeName,name,qualifiedName\nAtlasGlossary,Edited by hand,\n")
    drift = tenant.cli("drift", str(tenant.manifests), "-o", "json")
    assert drift.code == 3
    assert [(f["kind"], f["message"].split(" (")[0]) for f in drift.json()["findings"]] == [
        ("content", "glossaries: replaced outside git")
    ]
