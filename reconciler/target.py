"""Open a client on the configured target: the Atlan tenant, or the embedded emulator in-process;
and the object stores the sources' files go to on that target (``ObjectStores``).

Which one is decided by ``choose_target``, from the settings alone, before anything is sent or
written. The embedded emulator is never chosen silently where a tenant was probably meant: in CI,
or with an API key but no URL, the choice has to be made explicitly.

=================  ==============  =============  ========  =====================================
RECONCILER_TARGET  ATLAN_BASE_URL  ATLAN_API_KEY  CI [#]_   target
=================  ==============  =============  ========  =====================================
tenant             set             set            any       the tenant
tenant             unset or        either unset   any       error naming what is missing
embedded           any             any            any       the emulator (a set URL is ignored,
                                                            and the stderr line says so)
unset              set             set            any       the tenant
unset              set             unset          any       error: ATLAN_API_KEY is not set
unset              unset           unset          no        the emulator
unset              unset           set            any       error: choose (URL or
unset              unset           any            yes       RECONCILER_TARGET=embedded)
=================  ==============  =============  ========  =====================================

.. [#] CI or GITHUB_ACTIONS set, to anything but empty, "false", "0" or "no".
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import httpx

from reconciler import console
from reconciler.atlan import AtlanWorkflowClient, RateLimit, RetryPolicy, Timeouts
from reconciler.errors import SettingsError
from reconciler.packages.compiler import FileStore
from reconciler.redaction import SECRETS
from reconciler.settings import Settings, ensure_state_dir
from reconciler.stores import (
    AzureClientSecret,
    Credentials,
    GcsServiceAccount,
    ObjectStore,
    Presigner,
    S3Keys,
    StoredObject,
    StoreKind,
    StoreLocation,
    open_store,
)

# The embedded emulator runs in this process; its key only has to match itself.
_EMBEDDED_KEY = "embedded-emulator"
EMBEDDED_URL = "http://embedded-emulator"
# Runs on the embedded emulator take this long, so `apply --wait` finishes quickly in a demo.
EMBEDDED_RUN_SECONDS = 3.0

_HOW_TO_CHOOSE = (
    "set ATLAN_BASE_URL (and ATLAN_API_KEY) to use the tenant, "
    "or RECONCILER_TARGET=embedded to use the embedded emulator"
)


@dataclass(frozen=True)
class Target:
    """Where the commands go. ``why`` starts the one stderr line said for the embedded emulator."""

    embedded: bool
    why: str = ""


TENANT = Target(embedded=False)


def choose_target(settings: Settings) -> Target:
    """The target the settings select (the table above); a SettingsError if they select none.

    Pure: reads only ``settings``; names variables, never their values.
    """
    has_url = settings.atlan_base_url is not None
    has_key = settings.atlan_api_key is not None and bool(settings.atlan_api_key.get_secret_value())
    if settings.target == "embedded":
        if has_url:
            return Target(embedded=True, why="RECONCILER_TARGET=embedded (ATLAN_BASE_URL is ignored)")
        return Target(embedded=True, why="RECONCILER_TARGET=embedded")
    if settings.target == "tenant" or has_url:
        missing = [name for name, ok in (("ATLAN_BASE_URL", has_url), ("ATLAN_API_KEY", has_key)) if not ok]
        if not missing:
            return TENANT
        unset = f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not set"
        if settings.target == "tenant":
            raise SettingsError(f"{unset}; RECONCILER_TARGET=tenant needs ATLAN_BASE_URL and ATLAN_API_KEY")
        raise SettingsError(f"{unset}; it is needed to talk to the tenant at ATLAN_BASE_URL")
    reasons = [
        name
        for name, present in (
            ("ATLAN_API_KEY", has_key),
            ("CI", _flag(settings.ci)),
            ("GITHUB_ACTIONS", _flag(settings.github_actions)),
        )
        if present
    ]
    if reasons:
        raise SettingsError(
            f"ATLAN_BASE_URL is not set but {' and '.join(reasons)} {'is' if len(reasons) == 1 else 'are'} "
            f"set, so the embedded emulator is not used without being asked for: {_HOW_TO_CHOOSE}"
        )
    return Target(embedded=True, why="No ATLAN_BASE_URL set")


def _flag(value: str) -> bool:
    return value.strip().lower() not in ("", "false", "0", "no")


@asynccontextmanager
async def connect(settings: Settings) -> AsyncIterator[AtlanWorkflowClient]:
    """A client for ``settings`` (see ``choose_target``); for the embedded emulator, said once on
    stderr. A SettingsError before any request is sent or any file written if none is chosen."""
    async with connect_with_stores(settings) as (client, _):
        yield client


@asynccontextmanager
async def connect_with_stores(settings: Settings) -> AsyncIterator[tuple[AtlanWorkflowClient, ObjectStores]]:
    """``connect``, and the object stores of the same target (opened on first use, closed at the end)."""
    target = choose_target(settings)
    retry = RetryPolicy(attempts=settings.retries + 1, backoff_base=settings.retry_backoff)
    timeouts = Timeouts(connect=settings.timeout, read=settings.timeout, write=settings.timeout)
    transport: httpx.AsyncBaseTransport | None = None
    stand_ins = settings.stand_ins
    if target.embedded:
        from reconciler.emulator import EmulatorConfig, create_app

        try:
            ensure_state_dir(settings.state_dir)
        except OSError as exc:
            raise SettingsError(
                f"RECONCILER_STATE_DIR: cannot create the state directory ({exc.strerror or exc})"
            ) from None
        database = settings.state_dir / "emulator.db"
        console.err(f"{target.why}: using the embedded emulator ({database}).")
        config = EmulatorConfig(api_key=_EMBEDDED_KEY, db_path=database, run_seconds=EMBEDDED_RUN_SECONDS)
        app = create_app(config)
        transport = httpx.ASGITransport(app=app)
        stand_ins = config.objects_root()
        client = AtlanWorkflowClient(
            EMBEDDED_URL,
            _EMBEDDED_KEY,
            transport=transport,
            retry=retry,
            rate_limit=None,
            timeouts=timeouts,
        )
    else:
        assert settings.atlan_base_url is not None  # choose_target saw both
        assert settings.atlan_api_key is not None
        SECRETS.add([settings.atlan_api_key.get_secret_value()])  # scrubbed if anything quotes it
        client = AtlanWorkflowClient(
            settings.atlan_base_url,
            settings.atlan_api_key.get_secret_value(),
            retry=retry,
            rate_limit=RateLimit(per_second=settings.rate_limit, burst=max(1, int(settings.rate_limit))),
            timeouts=timeouts,
            max_connections=max(settings.parallelism * 2, 10),
        )
    async with client:
        stores = ObjectStores(settings, client, stand_ins=stand_ins, transport=transport)
        try:
            yield client, stores
        finally:
            await stores.aclose()


class ObjectStores:
    """The object stores of one run, each opened once, on first use; and a count of the requests
    made to them (``calls``: HEAD, GET and PUT).

    A manifest's ``object_store`` is its bucket, signed with the environment's credentials, or the
    manifest's own with ``upload_credentials: manifest``; with ``stand_ins`` (the embedded
    emulator's objects directory, or RECONCILER_STAND_INS) a local directory in the emulator's
    layout stands in for it. Without an ``object_store``, it is the tenant's own store, through
    Atlan's file API (``presigner``: the client; the embedded emulator's app as ``transport``).
    """

    def __init__(
        self,
        settings: Settings,
        presigner: Presigner,
        *,
        stand_ins: Path | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._settings = settings
        self._presigner = presigner
        self._stand_ins = stand_ins
        self._transport = transport
        self._opened: dict[tuple[FileStore, Credentials | None], ObjectStore] = {}
        self.calls: Counter[str] = Counter()

    def store(self, where: FileStore, credentials: Credentials | None = None) -> ObjectStore:
        """The store ``where`` names; ``credentials`` the manifest's own (None: the environment's).
        An ObjectStoreError when none can be opened (no credentials in the environment)."""
        if self._stand_ins is not None and where.kind != "tenant":
            credentials = None  # a local directory takes none
        key = (where, credentials)
        if key not in self._opened:
            location = StoreLocation(
                cast(StoreKind, where.kind),
                bucket=where.bucket,
                region=where.region,
                account=where.account,
                project=where.project,
            )
            if self._stand_ins is not None and where.kind != "tenant":
                location = location.stand_in(self._stand_ins)
            opened = open_store(
                location,
                settings=self._settings,
                credentials=credentials,
                presigner=self._presigner,
                transport=self._transport,
            )
            self._opened[key] = _Counted(opened, self.calls)
        return self._opened[key]

    async def aclose(self) -> None:
        for store in self._opened.values():
            await store.aclose()
        self._opened.clear()


def manifest_credentials(payload: Sequence[Mapping[str, Any]]) -> Credentials | None:
    """The credentials of a compiled request's credential ``payload`` (what the workflow reads
    with), for ``upload_credentials: manifest``; None when it has none."""
    if not payload:
        return None
    body = payload[0]["body"]
    extra = body.get("extra") or {}
    match body.get("authType"):
        case "s3":
            return S3Keys(body["username"], body["password"])
        case "gcs":
            return GcsServiceAccount(body["password"])
        case "adls":
            return AzureClientSecret(body["username"], body["password"], extra.get("azure_tenant_id", ""))
    return None


class _Counted:
    """An ObjectStore that counts the requests it is asked for (``ObjectStores.calls``)."""

    def __init__(self, store: ObjectStore, calls: Counter[str]) -> None:
        self._store = store
        self._calls = calls

    @property
    def url(self) -> str:
        return self._store.url

    async def head(self, key: str) -> StoredObject | None:
        self._calls["HEAD"] += 1
        return await self._store.head(key)

    async def get(self, key: str) -> tuple[StoredObject, bytes] | None:
        self._calls["GET"] += 1
        return await self._store.get(key)

    async def put(self, key: str, data: bytes, *, sha256: str, expected: StoredObject | None) -> StoredObject:
        self._calls["PUT"] += 1
        return await self._store.put(key, data, sha256=sha256, expected=expected)

    async def aclose(self) -> None:
        await self._store.aclose()
