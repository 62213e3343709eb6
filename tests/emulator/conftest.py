"""A served emulator on 127.0.0.1 (uvicorn on a thread), an authenticated client for it, and
presigned URLs of its tenant store."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.emulator import Clock, EmulatorConfig, EmulatorServer
from tests.helpers import FIXTURES

KEY = "emulator-test-key"
START = 1_800_000_000.0
PACKAGE_REQUESTS = FIXTURES / "pyatlan-package-requests"


def make_config(db: Path, **overrides: Any) -> EmulatorConfig:
    settings: dict[str, Any] = {
        "api_key": KEY,
        "db_path": db,
        "run_seconds": 30.0,
        "pending_seconds": 1.0,
        "clock": Clock(start=START, frozen=True),
    }
    settings.update(overrides)
    return EmulatorConfig(**settings)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "emulator.db"


@pytest.fixture
def server(db: Path) -> Iterator[EmulatorServer]:
    with EmulatorServer(make_config(db)) as running:
        yield running


@pytest.fixture
def client(server: EmulatorServer) -> Iterator[httpx.Client]:
    headers = {"authorization": f"Bearer {KEY}"}
    with httpx.Client(base_url=server.base_url + "/api/service/", headers=headers, timeout=10) as c:
        yield c


@pytest.fixture
def admin(server: EmulatorServer) -> Iterator[httpx.Client]:
    headers = {"authorization": f"Bearer {KEY}"}
    with httpx.Client(base_url=server.base_url + "/_emulator/", headers=headers, timeout=10) as c:
        yield c


# The files a run of the asset_import_s3 fixture reads, in the bucket's stand-in: runs are carried
# out (reconciler/emulator/imports), and without its files a run fails.
FIXTURE_FILES = {
    "s3/my-bucket/test/prefix/assets-test.csv": b"typeName,qualifiedName,name\n",
    "s3/my-bucket/test/prefix/glossaries-test.csv": b"typeName,name,qualifiedName\n",
    "s3/my-bucket/test/prefix/data-products-test.csv": b"typeName,name,qualifiedName\n",
}


def put_fixture_files(admin: httpx.Client) -> None:
    """Put the asset_import_s3 fixture's files where its runs read them (``admin``: /_emulator/)."""
    for location, data in FIXTURE_FILES.items():
        assert admin.put(f"objects/{location}", content=data).status_code == 200


def package_body(fixture: str = "asset_import_s3", name: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = json.loads((PACKAGE_REQUESTS / f"{fixture}.json").read_text())
    if name is not None:
        body["metadata"]["name"] = name
    return body


@pytest.fixture
def create(client: httpx.Client) -> Callable[..., dict[str, Any]]:
    def _create(name: str, *, submit: bool = True, fixture: str = "asset_import_s3") -> dict[str, Any]:
        path = "workflows?submit=true" if submit else "workflows"
        response = client.post(path, json=package_body(fixture, name))
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result

    return _create


@pytest.fixture
def presign(client: httpx.Client) -> Callable[..., str]:
    """A presigned URL from ``POST files/presignedUrl``: ``presign(key, method="PUT", expiry="30s")``."""

    def _presign(key: str, method: str = "PUT", expiry: str = "30s") -> str:
        response = client.post("files/presignedUrl", json={"key": key, "expiry": expiry, "method": method})
        assert response.status_code == 200, response.text
        url: str = response.json()["url"]
        return url

    return _presign
