"""The tenant file API over real HTTP: presigned URLs, the objects behind them, the admin routes.

Objects are files under the emulator's objects directory (``objects`` beside the database here);
the tests look at the files too, since the client side writes the stand-ins with obstore's
LocalStore and the layout is part of the contract.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO
from urllib.parse import parse_qs, urlsplit

import anyio
import httpx
import pytest

from reconciler.emulator import EmulatorConfig, EmulatorServer, create_app
from reconciler.emulator import objects as objects_module
from reconciler.emulator.objects import ObjectStore
from tests.emulator.conftest import KEY, make_config

AUTH = {"authorization": f"Bearer {KEY}"}
CSV = b"typeName,qualifiedName,name\nTable,default/snowflake/1700000000/DB/SCH/T,T\n"
SHA = "metadata-value-0123"

Presign = Callable[..., str]


def md5_etag(data: bytes) -> str:
    return f'"{hashlib.md5(data, usedforsecurity=False).hexdigest()}"'


def s3_code(response: httpx.Response) -> str:
    assert response.headers["content-type"] == "application/xml"
    return response.text.split("<Code>")[1].split("</Code>")[0]


def objects_dir(db: Path) -> Path:
    return db.parent / "objects"


# -- presigned URLs -------------------------------------------------------------------------------


def test_a_presigned_put_stores_the_bytes_that_a_presigned_get_reads(db: Path, presign: Presign) -> None:
    url = presign("/test/prefix//assets.csv")
    parts = urlsplit(url)
    assert parts.hostname == "127.0.0.1"
    assert parts.path.split("/")[1:3] == ["_store", "amazonaws.com"]  # pyatlan picks its S3 path
    query = parse_qs(parts.query)
    assert query["X-Amz-Expires"] == ["30"]
    assert len(query["X-Amz-Signature"][0]) == 64
    put = httpx.put(url, content=CSV)
    assert put.status_code == 200
    assert put.headers["etag"] == md5_etag(CSV)
    got = httpx.get(presign("test/prefix/assets.csv", "GET"))
    assert (got.status_code, got.content, got.headers["etag"]) == (200, CSV, md5_etag(CSV))
    assert (objects_dir(db) / "tenant" / "test" / "prefix" / "assets.csv").read_bytes() == CSV


def test_head_on_a_get_url_gives_etag_size_and_metadata_without_the_body(presign: Presign) -> None:
    headers = {"x-amz-meta-reconciler-sha256": SHA, "content-type": "text/csv"}
    assert httpx.put(presign("p/a.csv"), content=CSV, headers=headers).status_code == 200
    head = httpx.head(presign("p/a.csv", "GET"))
    assert head.status_code == 200
    assert head.headers["etag"] == md5_etag(CSV)
    assert head.headers["content-length"] == str(len(CSV))
    assert head.headers["x-amz-meta-reconciler-sha256"] == SHA
    assert head.content == b""


@pytest.mark.parametrize(
    ("ranged", "status", "body", "content_range"),
    [
        ("bytes=0-0", 206, CSV[:1], f"bytes 0-0/{len(CSV)}"),
        ("bytes=2-5", 206, CSV[2:6], f"bytes 2-5/{len(CSV)}"),
        ("bytes=3-", 206, CSV[3:], f"bytes 3-{len(CSV) - 1}/{len(CSV)}"),
        ("bytes=0-999999", 206, CSV, f"bytes 0-{len(CSV) - 1}/{len(CSV)}"),
        ("bytes=-5", 200, CSV, None),  # a suffix range: the whole object, as S3 may answer too
    ],
)
def test_a_get_of_one_byte_range_answers_that_range(
    presign: Presign, ranged: str, status: int, body: bytes, content_range: str | None
) -> None:
    """The tenant store's HEAD is a GET of bytes=0-0 (reconciler/stores/tenant.py): it read the
    whole object from the emulator, which ignored Range."""
    assert httpx.put(presign("p/a.csv"), content=CSV).status_code == 200
    got = httpx.get(presign("p/a.csv", "GET"), headers={"range": ranged})
    assert (got.status_code, got.content, got.headers.get("content-range")) == (status, body, content_range)
    assert got.headers["etag"] == md5_etag(CSV)


def test_a_range_past_the_end_or_of_an_empty_object_is_416(presign: Presign) -> None:
    assert httpx.put(presign("p/a.csv"), content=CSV).status_code == 200
    assert httpx.put(presign("p/empty.csv"), content=b"").status_code == 200
    beyond = httpx.get(presign("p/a.csv", "GET"), headers={"range": f"bytes={len(CSV)}-"})
    empty = httpx.get(presign("p/empty.csv", "GET"), headers={"range": "bytes=0-0"})
    assert (beyond.status_code, empty.status_code) == (416, 416)
    assert httpx.get(presign("p/a.csv", "GET")).content == CSV  # and it goes on serving


@pytest.mark.parametrize("authorization", [None, f"Bearer {KEY}", "Bearer not-the-key"])
def test_object_urls_need_no_authorization_and_ignore_one(
    presign: Presign, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"authorization": authorization}
    assert httpx.put(presign("k.csv"), content=b"x", headers=headers).status_code == 200
    assert httpx.get(presign("k.csv", "GET"), headers=headers).content == b"x"


def test_a_missing_object_is_404(presign: Presign) -> None:
    for response in (httpx.get(presign("nothing.csv", "GET")), httpx.head(presign("nothing.csv", "GET"))):
        assert response.status_code == 404
    assert s3_code(httpx.get(presign("nothing.csv", "GET"))) == "NoSuchKey"


def _swap_key(url: str) -> str:
    return url.replace("/amazonaws.com/mine.csv", "/amazonaws.com/other.csv")


def _tamper(url: str) -> str:
    signature = parse_qs(urlsplit(url).query)["X-Amz-Signature"][0]
    return url.replace(signature, ("0" if signature[0] != "0" else "1") + signature[1:])


@pytest.mark.parametrize(
    ("signed", "used", "change", "code"),
    [
        ("PUT", "PUT", _tamper, "SignatureDoesNotMatch"),
        ("PUT", "PUT", _swap_key, "SignatureDoesNotMatch"),
        ("PUT", "GET", None, "SignatureDoesNotMatch"),
        ("GET", "PUT", None, "SignatureDoesNotMatch"),
        ("PUT", "PUT", lambda url: url.split("?")[0], "AccessDenied"),
    ],
    ids=["tampered", "other key", "put url read", "get url written", "no signature"],
)
def test_a_url_used_for_anything_it_was_not_signed_for_is_403(
    presign: Presign,
    signed: str,
    used: str,
    change: Callable[[str], str] | None,
    code: str,
) -> None:
    assert httpx.put(presign("mine.csv"), content=b"before").status_code == 200
    assert httpx.put(presign("other.csv"), content=b"other").status_code == 200
    url = presign("mine.csv", signed)
    if change is not None:
        url = change(url)
    response = httpx.request(used, url, content=b"after" if used == "PUT" else None)
    assert response.status_code == 403
    assert s3_code(response) == code
    assert httpx.get(presign("mine.csv", "GET")).content == b"before"
    assert httpx.get(presign("other.csv", "GET")).content == b"other"


def test_an_expired_url_is_403(presign: Presign, admin: httpx.Client) -> None:
    url = presign("late.csv", "PUT", "30s")
    admin.post("clock", json={"advance": 30})
    assert httpx.put(url, content=b"in time").status_code == 200  # at the last second
    admin.post("clock", json={"advance": 1})
    response = httpx.put(url, content=b"too late")
    assert response.status_code == 403
    assert "Request has expired" in response.text
    assert httpx.get(presign("late.csv", "GET")).content == b"in time"


def test_urls_stay_valid_across_a_restart(db: Path) -> None:
    with EmulatorServer(make_config(db)) as first:
        response = httpx.post(
            first.base_url + "/api/service/files/presignedUrl",
            json={"key": "kept.csv", "expiry": "1h", "method": "PUT"},
            headers=AUTH,
        )
        path_and_query = response.json()["url"].split(first.base_url)[1]
    with EmulatorServer(make_config(db)) as second:
        assert httpx.put(second.base_url + path_and_query, content=b"x").status_code == 200


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"key": "a.csv", "expiry": "30s", "method": "POST"}, "method: Unsupported value"),
        ({"key": "a.csv", "expiry": "30s"}, "method: Unsupported value"),
        ({"expiry": "30s", "method": "PUT"}, "key: must be a string"),
        ({"key": "/", "expiry": "30s", "method": "PUT"}, "key: must not be empty"),
        ({"key": "a/../../etc/passwd", "expiry": "30s", "method": "PUT"}, "'..' segments"),
        ({"key": "a" * 1025, "expiry": "30s", "method": "PUT"}, "at most 1024 bytes"),
        ({"key": "a.csv", "expiry": "soon", "method": "PUT"}, "expiry: 'soon' is not a duration"),
        ({"key": "a.csv", "expiry": "0s", "method": "GET"}, "expiry: must be between"),
        ({"key": "a.csv", "expiry": "169h", "method": "GET"}, "expiry: must be between"),
    ],
)
def test_a_bad_presign_request_is_a_400_in_atlans_shape(
    client: httpx.Client, body: dict[str, str], message: str
) -> None:
    response = client.post("files/presignedUrl", json=body)
    assert response.status_code == 400
    assert message in response.json()["errorMessage"]
    assert response.json()["errorCode"] == "ATLAN-EMULATOR-400-000"


def test_presigning_needs_the_api_key(server: EmulatorServer) -> None:
    response = httpx.post(
        server.base_url + "/api/service/files/presignedUrl",
        json={"key": "a.csv", "expiry": "30s", "method": "PUT"},
    )
    assert response.status_code == 401


@pytest.mark.parametrize("expiry", ["45s", "5m", "1h30m", "168h"])
def test_expiry_takes_go_style_durations(client: httpx.Client, expiry: str) -> None:
    seconds = {"45s": 45, "5m": 300, "1h30m": 5400, "168h": 604800}[expiry]
    response = client.post("files/presignedUrl", json={"key": "a", "expiry": expiry, "method": "GET"})
    assert parse_qs(urlsplit(response.json()["url"]).query)["X-Amz-Expires"] == [str(seconds)]


# -- conditional writes -----------------------------------------------------------------------------


def test_if_none_match_star_creates_only(presign: Presign) -> None:
    assert httpx.put(presign("c.csv"), content=b"one", headers={"if-none-match": "*"}).status_code == 200
    again = httpx.put(presign("c.csv"), content=b"two", headers={"if-none-match": "*"})
    assert again.status_code == 412
    assert s3_code(again) == "PreconditionFailed"
    assert httpx.get(presign("c.csv", "GET")).content == b"one"


def test_if_match_replaces_only_the_version_that_was_read(presign: Presign) -> None:
    assert (
        httpx.put(presign("m.csv"), content=b"one", headers={"if-match": md5_etag(b"one")}).status_code == 412
    )
    first = httpx.put(presign("m.csv"), content=b"one").headers["etag"]
    second = httpx.put(presign("m.csv"), content=b"two", headers={"if-match": first})
    assert second.status_code == 200
    stale = httpx.put(presign("m.csv"), content=b"three", headers={"if-match": first})
    assert stale.status_code == 412
    assert httpx.get(presign("m.csv", "GET")).content == b"two"
    assert second.headers["etag"] == md5_etag(b"two")


def test_one_key_cannot_be_both_an_object_and_a_prefix(presign: Presign) -> None:
    assert httpx.put(presign("a/b"), content=b"x").status_code == 200
    assert httpx.put(presign("a"), content=b"y").status_code == 409
    assert httpx.put(presign("a/b/c"), content=b"z").status_code == 409
    assert httpx.get(presign("a/b", "GET")).content == b"x"


# -- limits and the request log ---------------------------------------------------------------------


@pytest.fixture
def small(db: Path) -> Iterator[EmulatorServer]:
    with EmulatorServer(make_config(db, max_body_bytes=1000, max_object_bytes=4000)) as running:
        yield running


def _small_url(server: EmulatorServer, key: str, method: str = "PUT") -> str:
    response = httpx.post(
        server.base_url + "/api/service/files/presignedUrl",
        json={"key": key, "expiry": "30s", "method": method},
        headers=AUTH,
    )
    url: str = response.json()["url"]
    return url


def test_objects_have_their_own_size_limit_and_no_json_checks(small: EmulatorServer) -> None:
    brackets = b"[" * 3000  # over max_body_bytes, and "JSON" nested 3,000 deep: an object is bytes
    assert httpx.put(_small_url(small, "big.csv"), content=brackets).status_code == 200
    assert httpx.get(_small_url(small, "big.csv", "GET")).content == brackets


def test_an_object_over_the_limit_is_413_and_leaves_nothing_behind(small: EmulatorServer, db: Path) -> None:
    data = b"x" * 4001

    def chunked() -> Iterator[bytes]:
        for start in range(0, len(data), 500):
            yield data[start : start + 500]

    declared = httpx.put(_small_url(small, "big.csv"), content=data)
    streamed = httpx.put(_small_url(small, "big.csv"), content=chunked())
    assert (declared.status_code, streamed.status_code) == (413, 413)
    assert s3_code(streamed) == "EntityTooLarge"
    assert httpx.get(_small_url(small, "big.csv", "GET")).status_code == 404
    assert list((objects_dir(db) / ".tmp").iterdir()) == []
    assert httpx.put(_small_url(small, "big.csv"), content=data[:4000]).status_code == 200


def test_the_log_keeps_neither_object_bytes_nor_signatures(server: EmulatorServer, presign: Presign) -> None:
    secret_bytes = b"row-that-must-not-be-logged\n" * 3
    put_url = presign("logged.csv")
    get_url = presign("logged.csv", "GET")
    assert httpx.put(put_url, content=secret_bytes).status_code == 200
    assert httpx.get(get_url).status_code == 200
    assert httpx.head(get_url).status_code == 200
    log = server.app.emulator.log
    records = [r for r in log.records() if r["endpoint"].endswith("objects/{key}")]
    assert [(r["endpoint"], r["body"]) for r in records] == [
        ("PUT objects/{key}", f"({len(secret_bytes)} bytes, not kept)"),
        ("GET objects/{key}", None),
        ("HEAD objects/{key}", None),
    ]
    assert records[0]["path"] == "/_store/amazonaws.com/logged.csv"
    assert "X-Amz-Expires=30" in records[0]["query"]
    everything = json.dumps(log.records())
    for url in (put_url, get_url):
        assert parse_qs(urlsplit(url).query)["X-Amz-Signature"][0] not in everything
    assert "row-that-must-not-be-logged" not in everything
    assert log.counts()["by_endpoint"]["POST files/presignedUrl"] == 2


def test_object_requests_meet_scripted_faults(admin: httpx.Client, presign: Presign) -> None:
    url = presign("f.csv")
    admin.post("faults", json={"script": [{"fault": "503", "path": "^/_store/", "method": "PUT"}]})
    assert httpx.put(url, content=b"one").status_code == 503
    assert httpx.get(presign("f.csv", "GET")).status_code == 404  # refused before being carried out
    admin.post("faults", json={"script": [{"fault": "lost-503", "path": "^/_store/", "method": "PUT"}]})
    assert httpx.put(url, content=b"two").status_code == 503
    assert httpx.get(presign("f.csv", "GET")).content == b"two"  # carried out, answer lost
    (record,) = [r for r in admin.get("requests").json()["requests"] if r["fault"] == "lost-503"]
    assert record["committed"] is True


# -- the admin routes -------------------------------------------------------------------------------


def test_admin_reads_replaces_lists_and_deletes_any_object(
    admin: httpx.Client, presign: Presign, db: Path
) -> None:
    put = admin.put("objects/s3/my-bucket/p/x.csv", content=CSV, headers={"x-amz-meta-note": "n"})
    assert put.status_code == 200
    assert put.json() == {
        "store": "s3/my-bucket",
        "key": "p/x.csv",
        "etag": md5_etag(CSV),
        "size": len(CSV),
        "metadata": {"note": "n"},
    }
    assert (objects_dir(db) / "s3" / "my-bucket" / "p" / "x.csv").read_bytes() == CSV
    got = admin.get("objects/s3/my-bucket/p/x.csv")
    assert (got.content, got.headers["x-amz-meta-note"]) == (CSV, "n")
    assert httpx.put(presign("t.csv"), content=b"t").status_code == 200
    listed = admin.get("objects").json()["objects"]
    assert [(o["store"], o["key"]) for o in listed] == [("s3/my-bucket", "p/x.csv"), ("tenant", "t.csv")]
    # Replaced behind the reconciler's back: the tenant URL reads the new bytes.
    assert admin.put("objects/tenant/t.csv", content=b"replaced").json()["etag"] == md5_etag(b"replaced")
    assert httpx.get(presign("t.csv", "GET")).content == b"replaced"
    assert admin.delete("objects/s3/my-bucket/p/x.csv").status_code == 204
    assert admin.get("objects/s3/my-bucket/p/x.csv").status_code == 404
    assert admin.delete("objects/s3/my-bucket/p/x.csv").status_code == 404
    assert not (objects_dir(db) / "s3" / "my-bucket" / "p").exists()  # no empty directory left


def test_admin_conditional_replace(admin: httpx.Client) -> None:
    etag = admin.put("objects/gcs/b/k", content=b"1").json()["etag"]
    assert admin.put("objects/gcs/b/k", content=b"2", headers={"if-match": '"stale"'}).status_code == 412
    assert admin.put("objects/gcs/b/k", content=b"2", headers={"if-match": etag}).status_code == 200
    assert admin.get("objects/gcs/b/k").content == b"2"


@pytest.mark.parametrize(
    ("location", "message"),
    [
        ("ftp/b/k", "store: must be one of tenant, s3, gcs, adls"),
        ("s3/b", "key: must not be empty"),
        ("tenant", "key: must not be empty"),
        ("s3/%2E%2E/k", "bucket: '..' is not usable"),
        ("tenant/a/%2E%2E/%2E%2E/k", "'..' segments"),
        ("tenant/a%00b", "NUL"),
    ],
)
def test_admin_refuses_a_location_outside_the_layout(
    admin: httpx.Client, location: str, message: str
) -> None:
    response = admin.put(f"objects/{location}", content=b"x")
    assert response.status_code == 400
    assert message in response.json()["error"]


def test_admin_object_routes_need_the_key(server: EmulatorServer) -> None:
    assert httpx.put(server.base_url + "/_emulator/objects/tenant/a", content=b"x").status_code == 401
    assert httpx.get(server.base_url + "/_emulator/objects").status_code == 401


# -- files written by other means -------------------------------------------------------------------


def test_a_file_replaced_on_disk_has_a_new_etag_and_no_metadata(db: Path, presign: Presign) -> None:
    headers = {"x-amz-meta-reconciler-sha256": SHA}
    assert httpx.put(presign("d.csv"), content=b"aaaa", headers=headers).status_code == 200
    path = objects_dir(db) / "tenant" / "d.csv"
    with path.open("r+b") as handle:  # same size, same inode, maybe the same mtime tick
        handle.write(b"bbbb")
    head = httpx.head(presign("d.csv", "GET"))
    assert head.headers["etag"] == md5_etag(b"bbbb")
    assert "x-amz-meta-reconciler-sha256" not in head.headers


def test_an_unchanged_file_is_hashed_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """HEAD of an object costs a stat and an index lookup, not a read, once its ETag is known."""
    store = ObjectStore(tmp_path)
    path = tmp_path / "tenant" / "old.csv"
    path.parent.mkdir(parents=True)
    path.write_bytes(CSV)
    an_hour_ago = path.stat().st_mtime_ns - 3600 * 10**9
    os.utime(path, ns=(an_hour_ago, an_hour_ago))  # outside the window where mtimes may be coarse
    hashed: list[str] = []
    original = objects_module._md5

    def counting(handle: BinaryIO) -> str:
        hashed.append(Path(handle.name).name)
        return original(handle)

    monkeypatch.setattr(objects_module, "_md5", counting)
    try:
        etags = [store.head("tenant", "old.csv") for _ in range(3)]
    finally:
        store.close()
    assert {stored.etag for stored in etags if stored is not None} == {md5_etag(CSV)}
    assert hashed == ["old.csv"]


def test_files_written_into_the_layout_are_objects(db: Path, admin: httpx.Client) -> None:
    """What obstore's LocalStore(prefix=<objects_dir>/adls/<container>) leaves is readable."""
    path = objects_dir(db) / "adls" / "container" / "prefix" / "lineage.csv"
    path.parent.mkdir(parents=True)
    path.write_bytes(CSV)
    got = admin.get("objects/adls/container/prefix/lineage.csv")
    assert (got.status_code, got.content, got.headers["etag"]) == (200, CSV, md5_etag(CSV))


# -- where objects live -----------------------------------------------------------------------------


def test_objects_live_beside_the_database_in_a_private_directory(db: Path, presign: Presign) -> None:
    assert httpx.put(presign("a.csv"), content=b"x").status_code == 200
    assert stat.S_IMODE(os.stat(objects_dir(db)).st_mode) == 0o700


def test_objects_dir_is_configurable(tmp_path: Path) -> None:
    chosen = tmp_path / "elsewhere"
    config = make_config(tmp_path / "e.db", objects_dir=chosen)
    with EmulatorServer(config) as server, httpx.Client(base_url=server.base_url, headers=AUTH) as c:
        assert c.put("/_emulator/objects/tenant/a.csv", content=b"x").status_code == 200
    assert (chosen / "tenant" / "a.csv").read_bytes() == b"x"
    assert not (tmp_path / "objects").exists()


def test_an_emulator_in_memory_keeps_objects_in_a_directory_it_removes() -> None:
    app = create_app(EmulatorConfig(api_key=KEY))

    async def scenario() -> Path:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://emulator", headers=AUTH) as c:
            assert (await c.put("/_emulator/objects/tenant/a.csv", content=b"x")).status_code == 200
        return app.emulator.objects.root

    root = anyio.run(scenario)
    assert (root / "tenant" / "a.csv").read_bytes() == b"x"
    app.emulator.close()
    assert not root.exists()


def test_in_process_urls_point_at_the_embedded_base_and_work_through_the_transport(db: Path) -> None:
    app = create_app(make_config(db))

    async def scenario() -> tuple[str, int, int, bytes]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://embedded-emulator") as c:

            async def url_for(method: str) -> str:
                body = {"key": "p/a.csv", "expiry": "30s", "method": method}
                response = await c.post("/api/service/files/presignedUrl", json=body, headers=AUTH)
                url: str = response.json()["url"]
                return url

            put_url = await url_for("PUT")
            put = await c.put(put_url, content=CSV)
            read_with_put_url = await c.get(put_url)
            got = await c.get(await url_for("GET"))
            return put_url, put.status_code, read_with_put_url.status_code, got.content

    try:
        url, put_status, wrong_status, content = anyio.run(scenario)
    finally:
        app.emulator.close()
    assert url.startswith("http://embedded-emulator/_store/amazonaws.com/p/a.csv?")
    assert (put_status, wrong_status, content) == (200, 403, CSV)
