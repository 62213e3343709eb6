"""The object-store servers (once per session) and one store per backend (per test, on a bucket
of its own): s3 on moto, adls on Azurite, gcs on fake-gcs-server, the tenant store on the emulator
over HTTP and on a fake of a tenant backed by Azure, and a local directory."""

from __future__ import annotations

import itertools
import os
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from reconciler.atlan import AtlanWorkflowClient, RetryPolicy
from reconciler.emulator import EmulatorConfig, EmulatorServer
from reconciler.settings import Settings
from reconciler.stores import (
    Anonymous,
    AzureAccountKey,
    Credentials,
    ObjectStore,
    S3Keys,
    StoreLocation,
    open_store,
)
from tests.stores.fake_tenant import ATLAN, FakeTenant
from tests.stores.servers import AZURITE_ACCOUNT, AZURITE_BIN, AZURITE_KEY, Azurite, FakeGcs, MotoS3

EMULATOR_KEY = "emulator-key-3f9a"
# Read before the autouse fixture clears it: where CI runs, a missing Azurite is an error, not a skip.
IN_CI = os.environ.get("CI", "").lower() not in ("", "0", "false", "no")
MOTO_KEYS = S3Keys("AKIAMOTOTESTING", "moto-secret-not-checked")
BACKENDS = ["s3", "adls", "gcs", "tenant", "tenant-azure", "local"]
_names = itertools.count(1)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def moto() -> Iterator[MotoS3]:
    server = MotoS3()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def azurite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Azurite]:
    if not AZURITE_BIN.exists():
        message = f"Azurite is not installed at {AZURITE_BIN}: run `make setup-azurite`"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    server = Azurite(tmp_path_factory.mktemp("azurite"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def fake_gcs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeGcs]:
    server = FakeGcs(tmp_path_factory.mktemp("fake-gcs"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorServer]:
    config = EmulatorConfig(api_key=EMULATOR_KEY, db_path=tmp_path_factory.mktemp("emulator") / "e.db")
    with EmulatorServer(config) as server:
        yield server


def bucket_name() -> str:
    return f"bucket-{next(_names)}-{os.getpid()}"


def settings(**values: str) -> Settings:
    return Settings(RECONCILER_RETRY_BACKOFF="0", RECONCILER_RETRIES="1", **values)  # type: ignore[call-arg]


def atlan_client(base_url: str, api_key: str, **kwargs: object) -> AtlanWorkflowClient:
    return AtlanWorkflowClient(base_url, api_key, retry=RetryPolicy.no_wait(), rate_limit=None, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def fake_tenant() -> FakeTenant:
    return FakeTenant("azure")


@dataclass(frozen=True)
class Cloud:
    """How a test reaches one cloud backend on its local server."""

    server: str  # the session fixture
    location: Callable[[str], StoreLocation]
    endpoint: str  # the setting that points the store at the server
    credentials: Credentials


CLOUDS = {
    "s3": Cloud("moto", lambda name: StoreLocation("s3", bucket=name), "RECONCILER_S3_ENDPOINT", MOTO_KEYS),
    "adls": Cloud(
        "azurite",
        lambda name: StoreLocation("adls", bucket=name, account=AZURITE_ACCOUNT),
        "RECONCILER_AZURE_BLOB_ENDPOINT",
        AzureAccountKey(AZURITE_KEY),
    ),
    "gcs": Cloud(
        "fake_gcs", lambda name: StoreLocation("gcs", bucket=name), "RECONCILER_GCS_ENDPOINT", Anonymous()
    ),
}


def cloud_store(
    request: pytest.FixtureRequest,
    backend: str,
    bucket: str,
    *,
    make: bool = True,
    credentials: Credentials | None = None,
    **setting: str,
) -> ObjectStore:
    """A store on ``bucket`` of ``backend``'s local server, which ``make`` creates first."""
    cloud = CLOUDS[backend]
    server: MotoS3 | Azurite | FakeGcs = request.getfixturevalue(cloud.server)
    if make:
        server.make_bucket(bucket)
    return open_store(
        cloud.location(bucket),
        settings=settings(**{cloud.endpoint: server.endpoint, **setting}),
        credentials=credentials or cloud.credentials,
    )


@pytest.fixture(params=BACKENDS)
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[ObjectStore]:
    """A fresh, empty store of each backend."""
    backend: str = request.param
    client: AtlanWorkflowClient | None = None
    if backend in CLOUDS:
        opened = cloud_store(request, backend, bucket_name())
    elif backend == "tenant":
        emulator: EmulatorServer = request.getfixturevalue("emulator")
        client = atlan_client(emulator.base_url, EMULATOR_KEY)
        opened = open_store(StoreLocation("tenant"), settings=settings(), presigner=client)
    elif backend == "tenant-azure":
        fake: FakeTenant = request.getfixturevalue("fake_tenant")
        client = atlan_client(f"https://{ATLAN}", fake.api_key, transport=fake.transport())
        opened = open_store(
            StoreLocation("tenant"), settings=settings(), presigner=client, transport=fake.transport()
        )
    else:
        opened = open_store(StoreLocation("local", directory=tmp_path / "bucket"), settings=settings())
    yield opened
    await opened.aclose()
    if client is not None:
        await client.aclose()


@pytest.fixture
def key() -> str:
    """An object key no other test uses (the servers live for the whole session)."""
    return f"imports/{bucket_name()}/glossaries/glossary.csv"
