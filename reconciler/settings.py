"""Every environment variable the reconciler reads, in one place (design §9).

``ATLAN_BASE_URL`` and ``ATLAN_API_KEY`` have the Atlan SDK's names, so a shell set up for the SDK
works as it is. With no ``ATLAN_BASE_URL`` the CLI runs the embedded emulator in-process.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from reconciler.errors import SettingsError
from reconciler.manifest.cache import ManifestCache
from reconciler.manifest.models import LABEL_NAME


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


class Settings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    atlan_base_url: Annotated[str | None, AfterValidator(_check_base_url)] = Field(
        default=None,
        validation_alias="ATLAN_BASE_URL",
        description="The tenant, e.g. https://tenant.atlan.com; unset: the embedded emulator.",
    )
    atlan_api_key: SecretStr | None = Field(
        default=None, validation_alias="ATLAN_API_KEY", description="An Atlan API token."
    )
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
    state_dir: Path = Field(
        default=Path(".reconciler"),
        validation_alias="RECONCILER_STATE_DIR",
        description="Where the embedded emulator keeps its database, and the manifest cache.",
    )
    cache: bool = Field(
        default=True,
        validation_alias="RECONCILER_CACHE",
        description="Keep validated manifests under <state dir>/cache, keyed by file content.",
    )

    def manifest_cache(self) -> ManifestCache | None:
        """The cache of validated manifests (reconciler.manifest.cache), unless turned off."""
        return ManifestCache(self.state_dir / "cache" / "manifests") if self.cache else None

    @property
    def embedded(self) -> bool:
        """True when no tenant is configured and the embedded emulator is the target."""
        return self.atlan_base_url is None


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
