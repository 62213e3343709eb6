"""The emulator keeps no credential secret: metadata and a salted digest only, old databases included."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from reconciler.emulator.store import (
    CREDENTIAL_METADATA,
    RunSettings,
    Store,
    credential_digest,
    salt_of,
)
from tests.emulator.conftest import package_body
from tests.helpers import CANARY

SECRET = "emulator-at-rest-" + CANARY
NAME = "csa-asset-import-at-rest"
SETTINGS = RunSettings(run_seconds=30.0, pending_seconds=1.0, failure_rate=0.0, seed=0)


def _body_with(password: str, name: str = NAME) -> dict[str, Any]:
    body = package_body(name=name)
    body["payload"][0]["body"]["password"] = password
    return body


def _files_holding(directory: Path, secret: str) -> list[str]:
    forms = (secret.encode(), json.dumps(secret)[1:-1].encode())
    return sorted(
        path.name
        for path in directory.iterdir()
        if path.is_file() and any(form in path.read_bytes() for form in forms)
    )


def _credentials(admin: httpx.Client) -> list[dict[str, Any]]:
    credentials: list[dict[str, Any]] = admin.get("credentials").json()["credentials"]
    return credentials


def test_no_database_file_holds_the_secret_while_served(
    client: httpx.Client, admin: httpx.Client, db: Path
) -> None:
    assert client.post("workflows?submit=true", json=_body_with(SECRET)).status_code == 200
    assert client.post(f"workflows/{NAME}", json=_body_with(SECRET + "-2")).status_code == 200
    # the connection is open: the -wal file, if any, is read as it is
    assert db.is_file()
    assert _files_holding(db.parent, SECRET) == []


def test_the_admin_fingerprint_is_a_salted_digest_of_the_body(
    client: httpx.Client, admin: httpx.Client
) -> None:
    body = _body_with(SECRET)
    assert client.post("workflows", json=body).status_code == 200
    (credential,) = _credentials(admin)
    version, salt_hex, mac = credential["fingerprint"].split(":")
    assert (version, len(salt_hex), len(mac)) == ("v1", 32, 64)
    sent = body["payload"][0]["body"]
    salt = salt_of(credential["fingerprint"])
    assert salt is not None
    assert credential_digest(sent, salt) == credential["fingerprint"]
    assert credential_digest({**sent, "password": SECRET + "x"}, salt) != credential["fingerprint"]
    unsalted = hashlib.sha256(json.dumps(sent, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    assert unsalted not in json.dumps(credential)


def test_a_digest_tells_a_rotation_and_nothing_across_credentials(
    client: httpx.Client, admin: httpx.Client
) -> None:
    assert client.post("workflows", json=_body_with(SECRET)).status_code == 200
    assert client.post(f"workflows/{NAME}", json=_body_with(SECRET)).status_code == 200  # sent again
    assert client.post(f"workflows/{NAME}", json=_body_with("rotated")).status_code == 200
    assert client.post("workflows", json=_body_with(SECRET, name=NAME + "-2")).status_code == 200
    first, again, rotated, other = _credentials(admin)
    assert [c["active"] for c in (first, again, rotated, other)] == [False, False, True, True]
    assert again["fingerprint"] == first["fingerprint"]  # same body: same digest (the salt is kept)
    assert rotated["fingerprint"] != again["fingerprint"]
    assert salt_of(rotated["fingerprint"]) == salt_of(first["fingerprint"])
    # the same secret for another workflow: another salt, so the digests cannot be matched up
    assert salt_of(other["fingerprint"]) != salt_of(first["fingerprint"])
    assert other["fingerprint"] != first["fingerprint"]


def test_reading_a_credential_shows_the_metadata_only(
    client: httpx.Client, create: Callable[..., Any], db: Path
) -> None:
    created = client.post("workflows", json=_body_with(SECRET)).json()
    parameters = created["spec"]["templates"][0]["dag"]["tasks"][0]["arguments"]["parameters"]
    guid = next(p["value"] for p in parameters if p["name"] == "cloud_source")
    shown = client.get(f"credentials/{guid}").json()
    assert set(shown) == {"id", *CREDENTIAL_METADATA}
    with sqlite3.connect(db) as conn:
        (kept,) = conn.execute("SELECT body FROM credentials WHERE guid = ?", (guid,)).fetchone()
    assert set(json.loads(kept)) == set(CREDENTIAL_METADATA)


def _old_format(db: Path) -> tuple[str, str, dict[str, Any]]:
    """A database as the emulator wrote it before: the body in clear, an unsalted fingerprint.
    Returns the guids of the replaced and the active credential, and the active body."""
    store = Store(db)
    first = store.create(_body_with(SECRET + "-old"), now=0.0, owner="u", submit=False, settings=SETTINGS)[0]
    store.update(NAME, _body_with(SECRET), seed=0)
    store.close()
    body = _body_with(SECRET)["payload"][0]["body"]
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"))
    old = json.dumps({**body, "password": SECRET + "-old"}, sort_keys=True, separators=(",", ":"))
    with sqlite3.connect(db) as conn:
        (replaced,), (active,) = conn.execute("SELECT guid FROM credentials ORDER BY created_rv").fetchall()
        conn.execute(
            "UPDATE credentials SET fingerprint = ?, body = NULL WHERE guid = ?",
            (hashlib.sha256(old.encode()).hexdigest(), replaced),
        )
        conn.execute(
            "UPDATE credentials SET fingerprint = ?, body = ? WHERE guid = ?",
            (hashlib.sha256(canonical.encode()).hexdigest(), canonical, active),
        )
    assert first.credentials  # the template refers to the credential
    return replaced, active, body


def test_an_old_database_loses_its_secrets_when_opened(tmp_path: Path) -> None:
    db = tmp_path / "emulator.db"
    replaced, active, body = _old_format(db)
    assert _files_holding(tmp_path, SECRET)  # the scan sees the old format's secret

    store = Store(db)
    try:
        credentials = {c["guid"]: c for c in store.credentials()}
        assert store.credential(active) == {"id": active, **{k: body[k] for k in CREDENTIAL_METADATA}}
        assert credentials[active]["fingerprint"].startswith("v1:")
        salt = salt_of(credentials[active]["fingerprint"])
        assert salt is not None
        assert credential_digest(body, salt) == credentials[active]["fingerprint"]
        # the replaced row kept no body; its unsalted fingerprint is salted too
        assert credentials[replaced]["fingerprint"].startswith("v0:")
        assert salt_of(credentials[replaced]["fingerprint"]) == salt
        # the next write of the same body has the same digest: the migrated salt is kept
        store.update(NAME, _body_with(SECRET), seed=0)
        newest = [c for c in store.credentials() if c["active"]]
        assert [c["fingerprint"] for c in newest] == [credentials[active]["fingerprint"]]
        assert _files_holding(tmp_path, SECRET) == []
    finally:
        store.close()
    assert _files_holding(tmp_path, SECRET) == []


def test_opening_a_migrated_database_again_changes_nothing(tmp_path: Path) -> None:
    db = tmp_path / "emulator.db"
    _old_format(db)
    first = Store(db)
    migrated = first.credentials()
    first.close()
    second = Store(db)
    try:
        assert second.credentials() == migrated
    finally:
        second.close()
