"""What the stores do besides the round trip: a lost answer settled, an object replaced behind
the reconciler's back, keys refused before any request, errors that name the object and never a
credential, the request log, and the emulator reading what a local stand-in holds."""

from __future__ import annotations

import hashlib
import logging
import re
from pathlib import Path

import httpx
import obstore
import pytest
from obstore.store import S3Store

from reconciler.emulator import EmulatorConfig, EmulatorServer
from reconciler.errors import ObjectStoreError, PreconditionFailedError
from reconciler.stores import AzureAccountKey, ObjectStore, S3Keys, StoreLocation, open_store
from tests.helpers import CANARY
from tests.stores.conftest import EMULATOR_KEY, MOTO_KEYS, bucket_name, cloud_store, settings
from tests.stores.servers import AZURITE_ACCOUNT, FakeGcs, MotoS3

pytestmark = pytest.mark.anyio

DATA = b"Atlan tag name\nPII\n"
ADMIN = {"authorization": f"Bearer {EMULATOR_KEY}"}
SHA = hashlib.sha256(DATA).hexdigest()


@pytest.mark.parametrize("store", ["s3", "adls", "gcs", "local"], indirect=True)
async def test_a_create_that_finds_its_own_upload_counts_as_done(store: ObjectStore, key: str) -> None:
    """A create retried after its answer was lost meets its own object: same digest and size,
    so it is done, not refused. Anything else there is still refused."""
    first = await store.put(key, DATA, sha256=SHA, expected=None)
    again = await store.put(key, DATA, sha256=SHA, expected=None)
    assert (again.etag, again.sha256) == (first.etag, SHA)
    with pytest.raises(PreconditionFailedError):
        await store.put(key, DATA, sha256="another-digest", expected=None)


@pytest.mark.parametrize("store", ["tenant", "tenant-azure"], indirect=True)
async def test_the_tenant_store_cannot_tell_its_own_upload(store: ObjectStore, key: str) -> None:
    """No metadata on presigned URLs, so nothing tells our earlier upload from someone else's."""
    await store.put(key, DATA, sha256=SHA, expected=None)
    with pytest.raises(PreconditionFailedError, match="already exists"):
        await store.put(key, DATA, sha256=SHA, expected=None)


# -- replaced behind our back: another version, and no digest ---------------------------------------


async def test_a_local_file_replaced_by_other_means_has_no_digest(tmp_path: Path, key: str) -> None:
    store = open_store(StoreLocation("local", directory=tmp_path / "bucket"), settings=settings())
    written = await store.put(key, DATA, sha256=SHA, expected=None)
    (tmp_path / "bucket" / key).write_bytes(b"Atlan tag name\nPCI\n")
    head = await store.head(key)
    assert head is not None
    assert head.sha256 is None
    assert head.etag != written.etag
    with pytest.raises(PreconditionFailedError):
        await store.put(key, DATA, sha256=SHA, expected=written)


@pytest.mark.parametrize("backend", ["s3", "gcs"])
async def test_an_object_overwritten_without_metadata_has_no_digest(
    request: pytest.FixtureRequest, backend: str, key: str
) -> None:
    bucket = bucket_name()
    store = cloud_store(request, backend, bucket)
    written = await store.put(key, DATA, sha256=SHA, expected=None)
    await overwrite(request, backend, bucket, key, b"Atlan tag name\nPCI\n")
    head = await store.head(key)
    assert head is not None
    assert (head.sha256, head.size) == (None, len(b"Atlan tag name\nPCI\n"))
    assert head.etag != written.etag
    await store.aclose()


async def overwrite(request: pytest.FixtureRequest, backend: str, bucket: str, key: str, data: bytes) -> None:
    """Another client replaces ``key``, setting no metadata."""
    if backend == "s3":
        moto: MotoS3 = request.getfixturevalue("moto")
        other = S3Store(
            bucket,
            endpoint=moto.endpoint,
            access_key_id=MOTO_KEYS.access_key_id,
            secret_access_key=MOTO_KEYS.secret_access_key,
            client_options={"allow_http": True},
        )
        await obstore.put_async(other, key, data)
        return
    fake_gcs: FakeGcs = request.getfixturevalue("fake_gcs")
    async with httpx.AsyncClient(base_url=fake_gcs.endpoint) as http:
        upload = await http.post(
            f"/upload/storage/v1/b/{bucket}/o", params={"uploadType": "media", "name": key}, content=data
        )
        upload.raise_for_status()


# -- keys ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad", ["", "/imports/a.csv", "imports/", "imports//a.csv", "imports/../a.csv", "./a.csv", "a\nb", "a\\b"]
)
@pytest.mark.parametrize("store", ["s3", "local"], indirect=True)
async def test_unusable_keys_are_refused_before_any_request(store: ObjectStore, bad: str) -> None:
    for call in (store.head(bad), store.get(bad), store.put(bad, DATA, sha256=SHA, expected=None)):
        with pytest.raises(ObjectStoreError, match="is not usable"):
            await call


async def test_the_local_metadata_directory_is_not_an_object(tmp_path: Path) -> None:
    store = open_store(StoreLocation("local", directory=tmp_path), settings=settings())
    with pytest.raises(ObjectStoreError, match="reserved for metadata"):
        await store.put(".reconciler/x.json", DATA, sha256=SHA, expected=None)


# -- errors -------------------------------------------------------------------------------------------

NO_BUCKET = "no-such-bucket-here"


@pytest.mark.parametrize("backend", ["s3", "adls", "gcs"])
async def test_a_missing_bucket_is_named(request: pytest.FixtureRequest, backend: str, key: str) -> None:
    credentials = S3Keys("AKIAMOTO", CANARY) if backend == "s3" else None
    store = cloud_store(request, backend, NO_BUCKET, make=False, credentials=credentials)
    with pytest.raises(ObjectStoreError) as caught:
        await store.put(key, DATA, sha256=SHA, expected=None)
    message = str(caught.value)
    assert message.startswith(f"PUT {store.url}/{key}: not found (404")
    assert message.endswith("does the bucket exist?")
    assert caught.value.status == 404
    assert CANARY not in message
    assert "127.0.0.1" not in message
    await store.aclose()


async def test_refused_credentials_are_said_without_them(request: pytest.FixtureRequest, key: str) -> None:
    name = bucket_name()
    wrong = "d3Jvbmcta2V5LW5vdC1henVyaXRlcy1rZXktMDEyMzQ1Njc4OWFiY2RlZg=="
    store = cloud_store(request, "adls", name, credentials=AzureAccountKey(wrong))
    with pytest.raises(ObjectStoreError) as caught:
        await store.head(key)
    assert re.fullmatch(
        rf"HEAD az://{AZURITE_ACCOUNT}/{name}/{re.escape(key)}: (the credentials were refused|permission denied) \(403 .*\)",
        str(caught.value),
    ), str(caught.value)
    assert wrong not in str(caught.value)
    assert not isinstance(caught.value, PreconditionFailedError)


@pytest.mark.parametrize("store", ["s3", "gcs", "local"], indirect=True)
async def test_each_request_logs_one_line_naming_the_object(
    store: ObjectStore, key: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="reconciler.stores"):
        await store.put(key, DATA, sha256=SHA, expected=None)
        await store.get(key)
    lines = [r.getMessage() for r in caplog.records if r.name == "reconciler.stores"]
    assert lines, "nothing logged"
    line = re.compile(rf"^(HEAD|GET|PUT) {re.escape(store.url)}/{re.escape(key)} -> \S+ in \d+ ms$")
    assert all(line.match(text) for text in lines), lines
    assert any(text.startswith("PUT ") for text in lines)


# -- the emulator reads what a local stand-in holds ---------------------------------------------------


async def test_the_emulator_reads_a_stand_in_written_here(tmp_path: Path, key: str) -> None:
    objects = tmp_path / "objects"
    location = StoreLocation("s3", bucket="landing-zone").stand_in(objects)
    store = open_store(location, settings=settings())
    written = await store.put(key, DATA, sha256=SHA, expected=None)
    config = EmulatorConfig(api_key=EMULATOR_KEY, db_path=tmp_path / "e.db", objects_dir=objects)
    with EmulatorServer(config) as server:
        async with httpx.AsyncClient(base_url=server.base_url, headers=ADMIN) as http:
            answer = await http.get(f"/_emulator/objects/s3/landing-zone/{key}")
            listed = (await http.get("/_emulator/objects")).json()["objects"]
    assert answer.status_code == 200
    assert answer.content == DATA
    assert answer.headers["etag"] == written.etag  # both the MD5 of the bytes, quoted, as S3 says it
    assert [(o["store"], o["key"]) for o in listed] == [("s3/landing-zone", key)]
