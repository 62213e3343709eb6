"""The emulator's state: workflow templates, runs and credentials in SQLite, mirrored in memory.

SQLite is the truth; it survives restarts and may be shared by several processes. Every write
runs in one ``BEGIN IMMEDIATE`` transaction and stamps the rows it touches with a new, global
``resourceVersion``. Each process keeps the parsed documents in memory and catches up by loading
only the rows whose version is newer than the last one it saw, so searches never parse JSON and a
write by another process is seen on the next request. One lock serialises access per process.

No secret is kept. A credential row holds the metadata Atlan shows (``CREDENTIAL_METADATA``) and
a salted digest of the whole body, ``v1:<salt hex>:<HMAC-SHA256 hex>`` (``credential_digest``):
enough to tell whether a credential changed, not to recover it. The salt is random per
credential and kept by the credentials that replace it, so two versions of one credential have
equal digests exactly when their bodies are equal, while equal secrets of different credentials
cannot be matched up and no precomputed table applies (someone holding the file can still test
guesses, one HMAC each: the emulator holds test credentials, not production ones). A database written before
this (the whole body in clear, an unsalted SHA-256) is rewritten that way when it is opened.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reconciler.emulator.clock import format_timestamp
from reconciler.emulator.errors import ApiProblem
from reconciler.emulator.runs import (
    CREATOR_LABEL,
    IMPORTING,
    SUCCEEDED,
    TEMPLATE_LABEL,
    RunEntry,
    decide_outcome,
    run_name,
    seeded_rng,
    seeded_uuid,
)
from reconciler.emulator.sqlite import connect

API_VERSION = "argoproj.io/v1alpha1"
DEFAULT_NAMESPACE = "default"
SCHEDULE_ANNOTATION = "orchestration.atlan.com/schedule"
TIMEZONE_ANNOTATION = "orchestration.atlan.com/timezone"
_GROUP = "workflowtemplates.argoproj.io"
_NAME = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_LABEL_NAME = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")
# What of a credential's body is kept, and shown by ``GET credentials/{guid}``: never the secret.
CREDENTIAL_METADATA = ("name", "authType", "username", "extra", "connectorConfigName")
DIGEST_VERSION = "v1"
_LEGACY_VERSION = "v0"  # a row replaced before the upgrade: the MAC covers its old unsalted SHA-256
_SALT_BYTES = 16

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT OR IGNORE INTO meta (key, value) VALUES ('rv', 0), ('epoch', 0);
CREATE TABLE IF NOT EXISTS templates (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    archived INTEGER NOT NULL DEFAULT 0,
    rv INTEGER NOT NULL,
    owner TEXT NOT NULL,
    credentials TEXT NOT NULL,
    source TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS templates_active_name ON templates (name) WHERE archived = 0;
CREATE INDEX IF NOT EXISTS templates_rv ON templates (rv);
CREATE TABLE IF NOT EXISTS runs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    template TEXT NOT NULL,
    rv INTEGER NOT NULL,
    created_at REAL NOT NULL,
    pending_seconds REAL NOT NULL,
    run_seconds REAL NOT NULL,
    outcome TEXT NOT NULL,
    stopped_at REAL,
    source TEXT NOT NULL,
    result TEXT -- an import run's outcome (runs.py RunEntry.result), as JSON
);
CREATE INDEX IF NOT EXISTS runs_rv ON runs (rv);
CREATE TABLE IF NOT EXISTS credentials (
    guid TEXT PRIMARY KEY,
    workflow TEXT NOT NULL,
    parameter TEXT NOT NULL,
    name TEXT,
    auth_type TEXT,
    fingerprint TEXT NOT NULL, -- credential_digest of the body sent: v1:<salt hex>:<mac hex>
    body TEXT, -- the CREDENTIAL_METADATA of the body, as JSON; NULL once replaced
    created_rv INTEGER NOT NULL,
    replaced_rv INTEGER
);
"""


@dataclass(frozen=True)
class TemplateEntry:
    """One live (not archived) workflow template, with its ``_source`` pre-serialised."""

    id: int
    name: str
    rv: int
    owner: str
    credentials: dict[str, str]
    source: dict[str, Any]
    source_json: str
    memo: dict[Any, Any] = field(default_factory=dict, compare=False, repr=False)
    """Scratch space for values derived from this version of the document (sort keys)."""


@dataclass(frozen=True)
class RunSettings:
    """What a new run gets: the durations and failure rate in force when it is submitted."""

    run_seconds: float
    pending_seconds: float
    failure_rate: float
    seed: int


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def credential_digest(body: Mapping[str, Any], salt: bytes) -> str:
    """``v1:<salt hex>:<HMAC-SHA256(salt, canonical JSON of body) hex>``."""
    mac = hmac.new(salt, _canonical(body).encode(), hashlib.sha256).hexdigest()
    return f"{DIGEST_VERSION}:{salt.hex()}:{mac}"


def salt_of(digest: str | None) -> bytes | None:
    """The salt of a digest this module wrote, or None."""
    version, _, rest = (digest or "").partition(":")
    salt, _, mac = rest.partition(":")
    if version not in (DIGEST_VERSION, _LEGACY_VERSION) or not mac:
        return None
    try:
        return bytes.fromhex(salt)
    except ValueError:
        return None


def _credential_metadata(body: Mapping[str, Any]) -> dict[str, Any]:
    return {key: body[key] for key in CREDENTIAL_METADATA if key in body}


def _migrate_credentials(conn: sqlite3.Connection) -> None:
    """Rewrite credential rows of the old format (body in clear, unsalted SHA-256 fingerprint):
    keep the metadata and a salted digest, and leave no copy of the secret in the file."""
    legacy = "fingerprint NOT LIKE 'v1:%' AND fingerprint NOT LIKE 'v0:%'"
    if conn.execute(f"SELECT 1 FROM credentials WHERE {legacy} LIMIT 1").fetchone() is None:  # noqa: S608
        return
    conn.execute("PRAGMA secure_delete = ON")  # what the updates free is overwritten with zeros
    conn.execute("BEGIN IMMEDIATE")
    try:
        salts: dict[tuple[str, str], bytes] = {}
        rows = conn.execute(
            "SELECT guid, workflow, parameter, fingerprint, body FROM credentials"  # noqa: S608
            f" WHERE {legacy} ORDER BY created_rv"
        ).fetchall()
        for guid, workflow, parameter, fingerprint, body in rows:
            salt = salts.setdefault((workflow, parameter), secrets.token_bytes(_SALT_BYTES))
            if body:
                decoded = json.loads(body)
                digest, kept = credential_digest(decoded, salt), _canonical(_credential_metadata(decoded))
            else:
                mac = hmac.new(salt, str(fingerprint).encode(), hashlib.sha256).hexdigest()
                digest, kept = f"{_LEGACY_VERSION}:{salt.hex()}:{mac}", None
            conn.execute(
                "UPDATE credentials SET fingerprint = ?, body = ? WHERE guid = ?", (digest, kept, guid)
            )
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    finally:
        conn.execute("PRAGMA secure_delete = OFF")
    # The old pages are still in the write-ahead log until it is copied back and emptied.
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def _migrate_runs(conn: sqlite3.Connection) -> None:
    """A database written before runs carried an import's outcome gets the column."""
    columns = {row[1] for row in conn.execute("PRAGMA table_info(runs)")}
    if "result" not in columns:
        try:
            conn.execute("ALTER TABLE runs ADD COLUMN result TEXT")
        except sqlite3.OperationalError as exc:  # another process added it meanwhile
            if "duplicate column" not in str(exc):
                raise


def _not_found(name: str, group: str = _GROUP) -> ApiProblem:
    return ApiProblem(404, f'{group} "{name}" not found')


def _check_name(name: Any, what: str = "metadata.name") -> str:
    if not isinstance(name, str) or not name:
        raise ApiProblem(400, f"{what}: Required value: name is required")
    if len(name) > 253 or _NAME.fullmatch(name) is None:
        raise ApiProblem(
            400,
            f'{what}: Invalid value: "{name}": a lowercase RFC 1123 subdomain must consist of lower case '
            "alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character",
        )
    return name


def _check_labels(labels: Any) -> dict[str, str]:
    if not isinstance(labels, Mapping):
        raise ApiProblem(400, "metadata.labels: Invalid value: must be an object of strings")
    for key, value in labels.items():
        prefix, _, label = key.rpartition("/")
        if (
            len(label) > 63
            or _LABEL_NAME.fullmatch(label) is None
            or (prefix and (len(prefix) > 253 or _NAME.fullmatch(prefix) is None))
        ):
            raise ApiProblem(
                400, f'metadata.labels: Invalid value: "{key}": name part must be a valid label key'
            )
        if not isinstance(value, str) or len(value) > 63 or (value and _LABEL_NAME.fullmatch(value) is None):
            raise ApiProblem(
                400,
                f'metadata.labels: Invalid value: "{value}": a valid label must be an empty string or '
                "consist of at most 63 alphanumeric characters, '-', '_' or '.', and must start and end "
                "with an alphanumeric character",
            )
    return dict(labels)


def _check_annotations(annotations: Any) -> dict[str, str]:
    if not isinstance(annotations, Mapping) or not all(isinstance(v, str) for v in annotations.values()):
        raise ApiProblem(400, "metadata.annotations: Invalid value: must be an object of strings")
    if len(_dumps(annotations)) > 256 * 1024:
        raise ApiProblem(400, "metadata.annotations: Too long: must have at most 262144 bytes")
    return dict(annotations)


def _credential_items(payload: Any) -> list[tuple[str, dict[str, Any]]]:
    """The credentials of a request's ``payload`` as (parameter, body) pairs; other items are ignored."""
    if payload is None:
        return []
    if not isinstance(payload, list):
        raise ApiProblem(400, "payload: Invalid value: must be an array")
    items: list[tuple[str, dict[str, Any]]] = []
    for position, item in enumerate(payload):
        if not isinstance(item, Mapping) or not isinstance(item.get("parameter"), str):
            raise ApiProblem(400, f"payload[{position}]: Invalid value: needs a 'parameter' string")
        if item.get("type") != "credential":
            continue
        body = item.get("body")
        if isinstance(body, str):
            try:
                body = json.loads(body)
            except json.JSONDecodeError as exc:
                raise ApiProblem(400, f"payload[{position}].body: Invalid value: not JSON") from exc
        if not isinstance(body, Mapping):
            raise ApiProblem(400, f"payload[{position}].body: Invalid value: must be an object")
        items.append((item["parameter"], dict(body)))
    return items


def _substitute(value: Any, replacements: Mapping[str, str]) -> Any:
    """``value`` with every ``{{parameter}}`` placeholder in its strings replaced by a credential guid."""
    if not replacements:
        return value
    if isinstance(value, str):
        if "{{" in value:
            for placeholder, guid in replacements.items():
                value = value.replace(placeholder, guid)
        return value
    if isinstance(value, list):
        return [_substitute(item, replacements) for item in value]
    if isinstance(value, Mapping):
        return {key: _substitute(item, replacements) for key, item in value.items()}
    return value


def schedule_of(source: Mapping[str, Any]) -> tuple[str, str] | None:
    annotations = source["metadata"].get("annotations") or {}
    cron = annotations.get(SCHEDULE_ANNOTATION)
    if not cron:
        return None
    return cron, annotations.get(TIMEZONE_ANNOTATION, "")


class Store:
    """Thread-safe access to the state; opened lazily on first use, closed by ``close``."""

    def __init__(self, path: Path | str) -> None:
        self.path = str(path)
        self._lock = threading.RLock()
        self._conn: sqlite3.Connection | None = None
        self._epoch = -1
        self._synced = 0
        self._templates: dict[str, TemplateEntry] = {}
        self._runs: dict[str, RunEntry] = {}
        self._runs_by_template: dict[str, dict[str, RunEntry]] = {}

    # -- connection and cache --------------------------------------------------------------

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            conn = connect(self.path, _SCHEMA)
            _migrate_runs(conn)
            _migrate_credentials(conn)
            self._conn = conn
        return self._conn

    def open(self) -> None:
        """Open the database now (it is otherwise opened by the first request); raises sqlite3.Error."""
        with self._lock:
            self._connection()

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
            self._epoch, self._synced = -1, 0
            self._templates.clear()
            self._runs.clear()
            self._runs_by_template.clear()

    def _meta(self, key: str) -> int:
        row = self._connection().execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return int(row[0])

    def _sync(self) -> None:
        conn = self._connection()
        values = dict(conn.execute("SELECT key, value FROM meta WHERE key IN ('rv', 'epoch')").fetchall())
        rv, epoch = int(values["rv"]), int(values["epoch"])
        if epoch != self._epoch:
            self._templates.clear()
            self._runs.clear()
            self._runs_by_template.clear()
            self._epoch, self._synced = epoch, 0
        if rv == self._synced:
            return
        rows = conn.execute(
            "SELECT id, name, archived, rv, owner, credentials, source FROM templates"
            " WHERE rv > ? ORDER BY rv",
            (self._synced,),
        )
        for template_id, name, archived, row_rv, owner, credentials, source in rows:
            current = self._templates.get(name)
            if archived:
                if current is not None and current.id == template_id:
                    del self._templates[name]
                continue
            self._templates[name] = TemplateEntry(
                template_id, name, row_rv, owner, json.loads(credentials), json.loads(source), source
            )
        rows = conn.execute(
            "SELECT name, template, rv, seq, created_at, pending_seconds, run_seconds, outcome, stopped_at,"
            " source, result FROM runs WHERE rv > ?",
            (self._synced,),
        )
        for row in rows:
            name, template, rv_, seq, created, pending, duration, outcome, stopped, source, result = row
            run = RunEntry(
                name,
                template,
                rv_,
                seq,
                created,
                pending,
                duration,
                outcome,
                stopped,
                json.loads(source),
                json.loads(result) if result else None,
            )
            self._runs[name] = run
            self._runs_by_template.setdefault(template, {})[name] = run
        self._synced = rv

    @contextmanager
    def _write(self) -> Iterator[int]:
        """One transaction; yields the new resourceVersion the write stamps on what it touches."""
        with self._lock:
            conn = self._connection()
            conn.execute("BEGIN IMMEDIATE")
            try:
                self._sync()
                rv = self._meta("rv") + 1
                yield rv
                conn.execute("UPDATE meta SET value = ? WHERE key = 'rv'", (rv,))
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            self._sync()

    # -- reads -------------------------------------------------------------------------------

    def version(self) -> int:
        """The resourceVersion of the newest write this process has seen (after catching up)."""
        with self._lock:
            self._sync()
            return self._synced

    def templates(self) -> list[TemplateEntry]:
        with self._lock:
            self._sync()
            return list(self._templates.values())

    def template(self, name: str) -> TemplateEntry:
        with self._lock:
            self._sync()
            entry = self._templates.get(name)
        if entry is None:
            raise _not_found(name)
        return entry

    def templates_named(self, names: Iterable[str]) -> list[TemplateEntry]:
        with self._lock:
            self._sync()
            return [entry for name in names if (entry := self._templates.get(name)) is not None]

    def runs_named(self, names: Iterable[str]) -> list[RunEntry]:
        with self._lock:
            self._sync()
            return [entry for name in names if (entry := self._runs.get(name)) is not None]

    def runs_of(self, templates: Iterable[str]) -> list[RunEntry]:
        with self._lock:
            self._sync()
            return [run for name in templates for run in self._runs_by_template.get(name, {}).values()]

    def runs(self) -> list[RunEntry]:
        with self._lock:
            self._sync()
            return list(self._runs.values())

    def run(self, name: str) -> RunEntry:
        with self._lock:
            self._sync()
            entry = self._runs.get(name)
        if entry is None:
            raise _not_found(name, "workflows.argoproj.io")
        return entry

    def credentials(self) -> list[dict[str, Any]]:
        """Every credential, as kept: guid, workflow, parameter, name, authType, fingerprint (the
        salted digest, ``credential_digest``), createdRv, active."""
        with self._lock:
            rows = self._connection().execute(
                "SELECT guid, workflow, parameter, name, auth_type, fingerprint, created_rv, replaced_rv"
                " FROM credentials ORDER BY created_rv, guid"
            )
            keys = ("guid", "workflow", "parameter", "name", "authType", "fingerprint", "createdRv")
            return [{**dict(zip(keys, row[:7], strict=True)), "active": row[7] is None} for row in rows]

    def credential(self, guid: str) -> dict[str, Any] | None:
        """One active credential as the API shows it: id, name, authType, username, extra; no password."""
        with self._lock:
            row = (
                self._connection()
                .execute("SELECT guid, body FROM credentials WHERE guid = ? AND replaced_rv IS NULL", (guid,))
                .fetchone()
            )
        if row is None:
            return None
        return {"id": row[0], **_credential_metadata(json.loads(row[1]) if row[1] else {})}

    # -- writes ------------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget everything (every process sharing the file notices)."""
        with self._write():
            conn = self._connection()
            for table in ("templates", "runs", "credentials"):
                conn.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names
            conn.execute("UPDATE meta SET value = value + 1 WHERE key = 'epoch'")

    def _store_credentials(
        self, workflow: str, items: list[tuple[str, dict[str, Any]]], rv: int, seed: int
    ) -> dict[str, str]:
        conn = self._connection()
        created: dict[str, str] = {}
        for parameter, body in items:
            guid = seeded_uuid(seed, "credential", workflow, parameter, rv)
            # The salt stays with the credential across replacements, so equal bodies, equal digests.
            current = conn.execute(
                "SELECT fingerprint FROM credentials"
                " WHERE workflow = ? AND parameter = ? AND replaced_rv IS NULL",
                (workflow, parameter),
            ).fetchone()
            salt = (salt_of(current[0]) if current else None) or secrets.token_bytes(_SALT_BYTES)
            conn.execute(
                "UPDATE credentials SET replaced_rv = ?, body = NULL"
                " WHERE workflow = ? AND parameter = ? AND replaced_rv IS NULL",
                (rv, workflow, parameter),
            )
            conn.execute(
                "INSERT INTO credentials (guid, workflow, parameter, name, auth_type, fingerprint, body,"
                " created_rv) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    guid,
                    workflow,
                    parameter,
                    str(body.get("name", "")),
                    str(body.get("authType", "")),
                    credential_digest(body, salt),
                    _canonical(_credential_metadata(body)),
                    rv,
                ),
            )
            created[parameter] = guid
        return created

    def _new_run(
        self,
        template: TemplateEntry,
        rv: int,
        now: float,
        settings: RunSettings,
        inputs: list[dict[str, Any]] | None,
        importing: bool,
    ) -> str:
        attempt = 0
        while True:
            name = run_name(template.name, settings.seed, rv, attempt)
            if name not in self._runs and len(name) <= 253:
                break
            attempt += 1
        source = template.source
        spec = source["spec"]
        workflow_metadata = spec.get("workflowMetadata") or {}
        labels = {
            **(source["metadata"].get("labels") or {}),
            **(workflow_metadata.get("labels") or {}),
            CREATOR_LABEL: template.owner,
            TEMPLATE_LABEL: template.name,
        }
        annotations = {
            **(source["metadata"].get("annotations") or {}),
            **(workflow_metadata.get("annotations") or {}),
        }
        ref = {"name": template.name}
        run_source: dict[str, Any] = {
            "apiVersion": API_VERSION,
            "kind": "Workflow",
            "metadata": {
                "name": name,
                "generateName": f"{template.name}-",
                "namespace": source["metadata"].get("namespace", DEFAULT_NAMESPACE),
                "uid": seeded_uuid(settings.seed, "run", name, rv),
                "resourceVersion": str(rv),
                "generation": 1,
                "creationTimestamp": format_timestamp(now),
                "labels": labels,
                "annotations": annotations,
            },
            "spec": {"workflowTemplateRef": ref, "arguments": {}},
            "status": {
                "estimatedDuration": int(settings.run_seconds),
                "storedWorkflowTemplateSpec": {**spec, "workflowTemplateRef": ref},
            },
        }
        if inputs:
            run_source["status"]["inputs"] = inputs  # the objects it reads (inputs.py)
        outcome = decide_outcome(settings.seed, name, settings.failure_rate)
        if importing and outcome == SUCCEEDED:  # a run failure_rate fails imports nothing
            outcome = IMPORTING
        self._connection().execute(
            "INSERT INTO runs (name, template, rv, created_at, pending_seconds, run_seconds, outcome, source)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                name,
                template.name,
                rv,
                now,
                settings.pending_seconds,
                settings.run_seconds,
                outcome,
                _dumps(run_source),
            ),
        )
        return name

    def create(
        self,
        body: Mapping[str, Any],
        *,
        now: float,
        owner: str,
        submit: bool,
        settings: RunSettings,
        inputs: list[dict[str, Any]] | None = None,
        importing: bool = False,
    ) -> tuple[TemplateEntry, RunEntry | None]:
        """Create a template (and, with ``submit``, its first run, noting ``inputs``; ``importing``:
        a run the caller will carry out and ``record_import``); 409 if the name is taken."""
        metadata, spec = _metadata_and_spec(body)
        items = _credential_items(body.get("payload"))
        with self._write() as rv:
            name = metadata.get("name")
            if not name and isinstance(metadata.get("generateName"), str):
                rng = seeded_rng(settings.seed, "generateName", rv)
                name = metadata["generateName"] + "".join(
                    rng.choice("bcdfghjklmnpqrstvwxz2456789") for _ in range(5)
                )
            name = _check_name(name)
            if name in self._templates:
                raise ApiProblem(409, f'{_GROUP} "{name}" already exists')
            credentials = self._store_credentials(name, items, rv, settings.seed)
            spec = _substitute(spec, {"{{" + p + "}}": g for p, g in credentials.items()})
            source = _template_source(
                metadata,
                spec,
                name=name,
                uid=seeded_uuid(settings.seed, "template", name, rv),
                rv=rv,
                generation=1,
                created=format_timestamp(now),
            )
            conn = self._connection()
            cursor = conn.execute(
                "INSERT INTO templates (name, rv, owner, credentials, source) VALUES (?, ?, ?, ?, ?)",
                (name, rv, owner, _dumps(credentials), _dumps(source)),
            )
            entry = TemplateEntry(
                int(cursor.lastrowid or 0), name, rv, owner, credentials, source, _dumps(source)
            )
            run_created = self._new_run(entry, rv, now, settings, inputs, importing) if submit else ""
        return self.template(name), (self.run(run_created) if run_created else None)

    def update(self, name: str, body: Mapping[str, Any], *, seed: int) -> TemplateEntry:
        """Replace labels, annotations and spec; 404 if missing, 409 on a stale resourceVersion."""
        metadata, spec = _metadata_and_spec(body)
        items = _credential_items(body.get("payload"))
        if metadata.get("name") not in (None, name):
            raise ApiProblem(
                400,
                f'metadata.name: Invalid value: "{metadata["name"]}": does not match the name in the path',
            )
        with self._write() as rv:
            current = self._templates.get(name)
            if current is None:
                raise _not_found(name)
            sent_rv = metadata.get("resourceVersion")
            if sent_rv not in (None, "") and str(sent_rv) != str(current.rv):
                raise ApiProblem(
                    409,
                    f'Operation cannot be fulfilled on {_GROUP} "{name}": the object has been modified; '
                    "please apply your changes to the latest version and try again",
                )
            sent_uid = metadata.get("uid")
            if sent_uid not in (None, "") and sent_uid != current.source["metadata"]["uid"]:
                raise ApiProblem(
                    409,
                    f"Precondition failed: UID in precondition: {sent_uid}, "
                    f"UID in object meta: {current.source['metadata']['uid']}",
                )
            credentials = {**current.credentials, **self._store_credentials(name, items, rv, seed)}
            spec = _substitute(spec, {"{{" + p + "}}": g for p, g in credentials.items()})
            old = current.source["metadata"]
            changed = _canonical(spec) != _canonical(current.source["spec"])
            source = _template_source(
                {**metadata, "namespace": old.get("namespace", DEFAULT_NAMESPACE)},
                spec,
                name=name,
                uid=old["uid"],
                rv=rv,
                generation=int(old["generation"]) + (1 if changed else 0),
                created=old["creationTimestamp"],
            )
            self._connection().execute(
                "UPDATE templates SET rv = ?, credentials = ?, source = ? WHERE id = ?",
                (rv, _dumps(credentials), _dumps(source), current.id),
            )
        return self.template(name)

    def archive(self, name: str) -> TemplateEntry:
        with self._write() as rv:
            current = self._templates.get(name)
            if current is None:
                raise _not_found(name)
            self._connection().execute(
                "UPDATE templates SET archived = 1, rv = ? WHERE id = ?", (rv, current.id)
            )
        return current

    def change_owner(self, name: str, owner: str) -> TemplateEntry:
        with self._write() as rv:
            current = self._templates.get(name)
            if current is None:
                raise _not_found(name)
            source = current.source
            source = {**source, "metadata": {**source["metadata"], "resourceVersion": str(rv)}}
            self._connection().execute(
                "UPDATE templates SET owner = ?, rv = ?, source = ? WHERE id = ?",
                (owner, rv, _dumps(source), current.id),
            )
        return self.template(name)

    def submit(
        self,
        name: str,
        *,
        now: float,
        settings: RunSettings,
        inputs: list[dict[str, Any]] | None = None,
        importing: bool = False,
    ) -> RunEntry:
        """A new run of template ``name``, noting ``inputs`` (``importing`` as for ``create``); 404
        if there is no such (live) template."""
        with self._write() as rv:
            current = self._templates.get(name)
            if current is None:
                raise _not_found(name)
            created = self._new_run(current, rv, now, settings, inputs, importing)
        return self.run(created)

    def record_import(self, name: str, outcome: str, result: Mapping[str, Any]) -> RunEntry:
        """Store how the import of run ``name`` ended: its final phase and what it shows once final."""
        with self._write() as rv:
            self._connection().execute(
                "UPDATE runs SET outcome = ?, result = ?, rv = ? WHERE name = ?",
                (outcome, _dumps(result), rv, name),
            )
        return self.run(name)

    def stop(self, name: str, *, now: float) -> RunEntry:
        """Mark run ``name`` stopped; returns it as it was just before. 409 if it already finished."""
        with self._write() as rv:
            current = self._runs.get(name)
            if current is None:
                raise _not_found(name, "workflows.argoproj.io")
            if current.stopped_at is None:
                if current.finished_by(now):
                    raise ApiProblem(409, f'workflows.argoproj.io "{name}": cannot stop a completed workflow')
                self._connection().execute(
                    "UPDATE runs SET stopped_at = ?, rv = ? WHERE name = ?", (now, rv, name)
                )
        return current


def _metadata_and_spec(body: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    if not isinstance(body, Mapping):
        raise ApiProblem(400, "the request body must be a JSON object")
    metadata = body.get("metadata")
    spec = body.get("spec")
    if not isinstance(metadata, Mapping):
        raise ApiProblem(400, "metadata: Required value: must be an object")
    if not isinstance(spec, Mapping):
        raise ApiProblem(400, "spec: Required value: must be an object")
    return dict(metadata), dict(spec)


def _template_source(
    metadata: Mapping[str, Any],
    spec: dict[str, Any],
    *,
    name: str,
    uid: str,
    rv: int,
    generation: int,
    created: str,
) -> dict[str, Any]:
    """The stored ``_source`` of a template: labels and annotations as sent, server fields set."""
    namespace = metadata.get("namespace") or DEFAULT_NAMESPACE
    if not isinstance(namespace, str):
        raise ApiProblem(400, "metadata.namespace: Invalid value: must be a string")
    out: dict[str, Any] = {"name": name, "namespace": namespace}
    if "labels" in metadata and metadata["labels"] is not None:
        out["labels"] = _check_labels(metadata["labels"])
    if "annotations" in metadata and metadata["annotations"] is not None:
        out["annotations"] = _check_annotations(metadata["annotations"])
    out.update(uid=uid, resourceVersion=str(rv), generation=generation, creationTimestamp=created)
    return {
        "apiVersion": API_VERSION,
        "kind": "WorkflowTemplate",
        "metadata": out,
        "spec": spec,
        "status": {},
    }
