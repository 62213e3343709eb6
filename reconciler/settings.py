"""Every environment variable the reconciler reads, in one place (README, Settings).

``ATLAN_BASE_URL`` and ``ATLAN_API_KEY`` have the Atlan SDK's names, so a shell set up for the SDK
works as it is. Which target a command talks to, the tenant or the embedded emulator, is decided
from these by ``reconciler.target.choose_target`` (``RECONCILER_TARGET``, ``CI``).

The state directory (``RECONCILER_STATE_DIR``) is made private by ``ensure_state_dir``.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Mapping
from functools import partial
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from reconciler.errors import SettingsError
from reconciler.manifest.cache import ManifestCache
from reconciler.manifest.models import LABEL_NAME, ManifestEnviron


def _check_instance(value: str) -> str:
    # The instance is written as a label value on every managed workflow.
    if len(value) > 63 or not LABEL_NAME.match(value):
        raise ValueError(
            "must be a Kubernetes label value: at most 63 letters, digits, '-', '_', '.', "
            "starting and ending with a letter or digit"
        )
    return value


def _check_base_url(value: str | None) -> str | None:
    if value is not None and not re.match(r"^https?://[^/\s]+", value):
        raise ValueError("must be an http(s) URL such as https://tenant.atlan.com")
    return value.rstrip("/") if value else value


def _check_endpoint(value: str | None) -> str | None:
    # Object-store endpoints: a local server in tests, an S3-compatible store, a private link.
    if value is not None and not re.match(r"^https?://[^/\s]+", value):
        raise ValueError("must be an http(s) URL such as http://127.0.0.1:9000")
    return value.rstrip("/") if value else None


def _blank_is_unset(value: Any) -> Any:
    # RECONCILER_TARGET is read in any case, and set to nothing it is the same as unset.
    if isinstance(value, str):
        return value.strip().lower() or None
    return value


TargetName = Literal["tenant", "embedded"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    atlan_base_url: Annotated[str | None, AfterValidator(_check_base_url)] = Field(
        default=None,
        validation_alias="ATLAN_BASE_URL",
        description="The tenant, e.g. https://tenant.atlan.com.",
    )
    atlan_api_key: SecretStr | None = Field(
        default=None, validation_alias="ATLAN_API_KEY", description="An Atlan API token."
    )
    target: Annotated[TargetName | None, BeforeValidator(_blank_is_unset)] = Field(
        default=None,
        validation_alias="RECONCILER_TARGET",
        description="'tenant' or 'embedded'; unset: the tenant if ATLAN_BASE_URL is set, else the "
        "embedded emulator, but only outside CI and with no ATLAN_API_KEY (reconciler.target).",
    )
    # Set by CI services (GitHub Actions sets both). Kept as written: only the choice of target
    # reads them, where empty, "false", "0" and "no" count as unset (reconciler.target).
    ci: str = Field(default="", validation_alias="CI", repr=False, exclude=True)
    github_actions: str = Field(default="", validation_alias="GITHUB_ACTIONS", repr=False, exclude=True)
    instance: Annotated[str, AfterValidator(_check_instance)] = Field(
        default="default",
        validation_alias="RECONCILER_INSTANCE",
        description="This repository's claim on the tenant; labels every managed workflow.",
    )
    parallelism: int = Field(
        default=8, ge=1, le=64, validation_alias="RECONCILER_PARALLELISM", description="Concurrent writes."
    )
    timeout: float = Field(
        default=30.0, gt=0, validation_alias="RECONCILER_TIMEOUT", description="Seconds per HTTP request."
    )
    interrupt_grace: float = Field(
        default=10.0,
        ge=0,
        validation_alias="RECONCILER_INTERRUPT_GRACE",
        description="Seconds an interrupted apply gives the items in flight to finish.",
    )
    rate_limit: float = Field(
        default=20.0,
        gt=0,
        validation_alias="RECONCILER_RATE_LIMIT",
        description="Client-side limit, requests per second.",
    )
    retries: int = Field(
        default=5, ge=0, le=20, validation_alias="RECONCILER_RETRIES", description="Retries per request."
    )
    retry_backoff: float = Field(
        default=1.0,
        ge=0,
        validation_alias="RECONCILER_RETRY_BACKOFF",
        description="Base of the exponential backoff between retries, in seconds.",
    )
    drift_ignore: str = Field(
        default="",
        validation_alias="RECONCILER_DRIFT_IGNORE",
        description="Comma-separated JSON pointers drift never reports, for every manifest.",
    )
    env_allow: str = Field(
        default="",
        validation_alias="RECONCILER_ENV_ALLOW",
        description=(
            "Comma-separated patterns (shell-style, e.g. AWS_*,IMPORT_PREFIX) of the variables "
            "manifests may reference; empty: any but the reserved ones."
        ),
    )
    state_dir: Path = Field(
        default=Path(".reconciler"),
        validation_alias="RECONCILER_STATE_DIR",
        description="Where the embedded emulator keeps its database, and the manifest cache; "
        "private (0o700) and ignored by git (ensure_state_dir).",
    )
    cache: bool = Field(
        default=True,
        validation_alias="RECONCILER_CACHE",
        description="Keep validated manifests under <state dir>/cache, keyed by file content.",
    )

    # -- object stores (reconciler.stores): where uploads go, and which credentials may be used --
    s3_endpoint: Annotated[str | None, AfterValidator(_check_endpoint)] = Field(
        default=None,
        validation_alias="RECONCILER_S3_ENDPOINT",
        description="S3 endpoint URL instead of AWS's regional one (an S3-compatible store, a local server).",
    )
    gcs_endpoint: Annotated[str | None, AfterValidator(_check_endpoint)] = Field(
        default=None,
        validation_alias="RECONCILER_GCS_ENDPOINT",
        description="Google Cloud Storage JSON API endpoint instead of Google's (a local server).",
    )
    azure_blob_endpoint: Annotated[str | None, AfterValidator(_check_endpoint)] = Field(
        default=None,
        validation_alias="RECONCILER_AZURE_BLOB_ENDPOINT",
        description="Azure Blob endpoint of the storage account, instead of "
        "https://<account>.blob.core.windows.net (e.g. Azurite's http://127.0.0.1:10000/devstoreaccount1).",
    )
    cloud_metadata: bool = Field(
        default=False,
        validation_alias="RECONCILER_CLOUD_METADATA",
        description="Let uploads take credentials from the cloud's instance or container metadata "
        "endpoint (a self-hosted runner's VM role); off, only the environment's variables and "
        "credential files are used.",
    )
    stand_ins: Path | None = Field(
        default=None,
        validation_alias="RECONCILER_STAND_INS",
        description="A directory that stands in for the s3, gcs and adls buckets manifests name, in "
        "the embedded emulator's layout (<dir>/<kind>/<bucket>/<key>): for tests and demos against "
        "a served emulator. The embedded emulator always uses <state dir>/objects.",
    )

    def manifest_environ(self, environ: Mapping[str, str]) -> ManifestEnviron:
        """The variables ``${env:NAME}`` may read: ``environ`` within RECONCILER_ENV_ALLOW."""
        patterns = tuple(p.strip() for p in self.env_allow.split(",") if p.strip())
        return ManifestEnviron(environ, patterns)

    def manifest_cache(self) -> ManifestCache | None:
        """The cache of validated manifests (reconciler.manifest.cache), unless turned off; the
        state directory is made (private, git-ignored) when the first entry is written."""
        if not self.cache:
            return None
        return ManifestCache(
            self.state_dir / "cache" / "manifests", prepare=partial(ensure_state_dir, self.state_dir)
        )


# What the reconciler itself puts in a state directory. An existing directory holding nothing
# else (or empty) is taken to be one, and is tightened; any other is left as it is.
STATE_DIR_MODE = 0o700
STATE_GITIGNORE = "# Written by reconciler: nothing in this directory belongs in version control.\n*\n"
_STATE_ENTRIES = frozenset(
    {
        ".gitignore",
        "cache",
        "emulator.db",
        "emulator.db-wal",
        "emulator.db-shm",
        "emulator.db-journal",
        "objects",  # the emulator's stored files and bucket stand-ins (reconciler/emulator/objects.py)
    }
)


def ensure_state_dir(path: Path) -> Path:
    """Make ``path`` a state directory: mode 0o700, holding a ``.gitignore`` of ``*``; returns it.

    A directory this creates always gets both. An existing one gets them only if it looks like a
    state directory, i.e. holds nothing but what the reconciler writes there (an older
    ``.reconciler``), or other state directories: so pointing RECONCILER_STATE_DIR (or ``emulator
    serve --db``) at a directory of one's own, such as the repository root, never changes its mode
    or what git sees. Its mode is tightened only if this user owns it. Raises OSError if it cannot
    be created.
    """
    try:
        path.mkdir(mode=STATE_DIR_MODE, parents=True)
        created = True
    except FileExistsError:
        if not path.is_dir():
            raise
        created = False
    if not created and not _looks_like_state_dir(path):
        return path
    with contextlib.suppress(OSError):  # a directory shared with other users stays as it is
        info = path.stat()
        if info.st_mode & 0o777 != STATE_DIR_MODE and (created or info.st_uid == os.getuid()):
            path.chmod(STATE_DIR_MODE)
    with contextlib.suppress(FileExistsError), (path / ".gitignore").open("x", encoding="utf-8") as file:
        file.write(STATE_GITIGNORE)
    return path


def _looks_like_state_dir(path: Path) -> bool:
    try:
        entries = list(os.scandir(path))
    except OSError:
        return False
    return all(
        entry.name in _STATE_ENTRIES or (entry.is_dir() and _is_ours(Path(entry.path) / ".gitignore"))
        for entry in entries
    )


def _is_ours(gitignore: Path) -> bool:
    try:
        return gitignore.read_text(encoding="utf-8") == STATE_GITIGNORE
    except (OSError, UnicodeDecodeError):
        return False


def load_settings() -> Settings:
    """Read the settings from the environment; a bad value is a SettingsError naming the variable."""
    try:
        return Settings()
    except ValidationError as exc:
        messages = []
        for error in exc.errors():
            field = str(error["loc"][0]) if error["loc"] else "?"
            info = Settings.model_fields.get(field)
            name = str(info.validation_alias) if info and info.validation_alias else field.upper()
            # Never echo the value: ATLAN_API_KEY is among these.
            messages.append(f"{name}: {str(error['msg']).removeprefix('Value error, ')}")
        raise SettingsError("invalid setting " + "; ".join(messages)) from None
