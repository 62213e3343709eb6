"""Open an ``ObjectStore`` for a location: the backend, its endpoint, and whose credentials.

Credentials are either passed in (a manifest's ``object_store`` credentials, opted into per
manifest; a test's local server) or taken from the environment the way each cloud's own tools
take them: AWS's access-key and web-identity variables, Azure's account key, service principal,
workload identity, SAS or CLI, Google's ``GOOGLE_APPLICATION_CREDENTIALS`` or the gcloud
application-default file. That covers a CI job's cloud role (GitHub's OIDC token exchanged
through web identity or workload identity federation).

The cloud's instance-metadata endpoints (169.254.169.254, ECS's 169.254.170.2) are used only with
``RECONCILER_CLOUD_METADATA=true``. Otherwise a missing credential is an error naming the
variables to set, raised before any request: a client left to its defaults would ask the
metadata address, which on a developer's machine or a CI runner hangs or, worse, answers.
As a second guard, obstore's metadata endpoints are pointed at a closed loopback port.

Backends are imported on first use: google-cloud-storage alone takes half a second to import.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

from reconciler.errors import ObjectStoreError
from reconciler.redaction import SECRETS
from reconciler.retrying import RetryPolicy
from reconciler.settings import Settings
from reconciler.stores.base import (
    AZURE_METADATA_KEY,
    METADATA_KEY,
    Anonymous,
    AzureAccountKey,
    AzureClientSecret,
    Credentials,
    GcsServiceAccount,
    ObjectStore,
    S3Keys,
    StoreLocation,
    secret_values,
)

if TYPE_CHECKING:
    from google.auth.credentials import Credentials as GoogleCredentials
    from obstore.store import AzureConfig, ClientConfig, RetryConfig, S3Config
    from obstore.store import ObjectStore as ObstoreBackend

    from reconciler.stores.tenant import Presigner

# Nothing listens on the discard port: a metadata request obstore should never make fails at once.
_NOWHERE = "http://127.0.0.1:9"
_GCS_SCOPE = "https://www.googleapis.com/auth/devstorage.read_write"
_DEFAULT_REGION = "us-east-1"

# Each credential the environment can hold, in obstore's order: all groups must have a variable set.
_AWS_ENVIRONMENT: tuple[tuple[str, Sequence[Sequence[str]]], ...] = (
    ("access key", (("AWS_ACCESS_KEY_ID",), ("AWS_SECRET_ACCESS_KEY",))),
    ("web identity", (("AWS_WEB_IDENTITY_TOKEN_FILE",), ("AWS_ROLE_ARN",))),
)
_AZURE_CLIENT = ("AZURE_STORAGE_CLIENT_ID", "AZURE_CLIENT_ID")
_AZURE_TENANT = (
    "AZURE_STORAGE_TENANT_ID",
    "AZURE_STORAGE_AUTHORITY_ID",
    "AZURE_TENANT_ID",
    "AZURE_AUTHORITY_ID",
)
_AZURE_ENVIRONMENT: tuple[tuple[str, Sequence[Sequence[str]]], ...] = (
    ("access_key", (("AZURE_STORAGE_ACCOUNT_KEY", "AZURE_STORAGE_ACCESS_KEY", "AZURE_STORAGE_MASTER_KEY"),)),
    ("workload_identity", (("AZURE_FEDERATED_TOKEN_FILE",), _AZURE_CLIENT, _AZURE_TENANT)),
    ("client_secret", (_AZURE_CLIENT, ("AZURE_STORAGE_CLIENT_SECRET", "AZURE_CLIENT_SECRET"), _AZURE_TENANT)),
    ("sas_token", (("AZURE_STORAGE_SAS_KEY", "AZURE_STORAGE_SAS_TOKEN"),)),
    ("bearer_token", (("AZURE_STORAGE_TOKEN",),)),
)
_METADATA_HINT = "or RECONCILER_CLOUD_METADATA=true to use the machine's own cloud role"


def open_store(
    location: StoreLocation,
    *,
    settings: Settings,
    credentials: Credentials | None = None,
    presigner: Presigner | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> ObjectStore:
    """The store at ``location``.

    ``credentials`` None means the environment's (``os.environ``, which obstore reads itself).
    The tenant store needs ``presigner`` (an ``AtlanWorkflowClient``) and takes ``transport`` for
    its presigned requests. Raises ObjectStoreError when no credentials are found.
    """
    environ = os.environ
    SECRETS.add(secret_values(credentials))
    match location.kind:
        case "s3":
            return _s3(location, settings, credentials, environ)
        case "adls":
            return _azure(location, settings, credentials, environ)
        case "gcs":
            return _gcs(location, settings, credentials, environ)
        case "tenant":
            from reconciler.stores.tenant import TenantStore

            if presigner is None:
                raise ValueError("the tenant store needs a presigner (an AtlanWorkflowClient)")
            retry = RetryPolicy(attempts=settings.retries + 1, backoff_base=settings.retry_backoff)
            return TenantStore(presigner, transport=transport, timeout=settings.timeout, retry=retry)
        case _:
            from reconciler.stores.local import LocalObjectStore

            assert location.directory is not None  # StoreLocation checks it
            return LocalObjectStore(location.directory, metadata_directory=location.metadata_directory)


# -- S3 ---------------------------------------------------------------------------------------------


def _s3(
    location: StoreLocation, settings: Settings, credentials: Credentials | None, environ: Mapping[str, str]
) -> ObjectStore:
    from obstore.store import S3Store

    config: S3Config = {"region": location.region or _DEFAULT_REGION}
    if settings.s3_endpoint:
        config["endpoint"] = settings.s3_endpoint
    match credentials:
        case S3Keys():
            config["access_key_id"] = credentials.access_key_id
            config["secret_access_key"] = credentials.secret_access_key
            if credentials.session_token:
                config["session_token"] = credentials.session_token
        case Anonymous():
            config["skip_signature"] = True
        case None:
            if not settings.cloud_metadata and _found(environ, _AWS_ENVIRONMENT) is None:
                raise ObjectStoreError(
                    f"{location.url}: no AWS credentials for uploads: set AWS_ACCESS_KEY_ID and "
                    "AWS_SECRET_ACCESS_KEY, or AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN (a CI job's "
                    f"role), {_METADATA_HINT}"
                )
        case _:
            raise ValueError(f"{type(credentials).__name__} cannot sign S3 requests")
    if not settings.cloud_metadata:
        config["metadata_endpoint"] = _NOWHERE
    return _obstore(
        location,
        settings,
        settings.s3_endpoint,
        METADATA_KEY,
        lambda options, retry: S3Store(
            location.bucket, config=config, client_options=options, retry_config=retry
        ),
    )


# -- Azure Blob (ADLS accounts through their blob API) ------------------------------------------------


def _azure(
    location: StoreLocation, settings: Settings, credentials: Credentials | None, environ: Mapping[str, str]
) -> ObjectStore:
    from obstore.store import AzureStore

    config: AzureConfig = {"account_name": location.account or ""}
    if settings.azure_blob_endpoint:
        config["endpoint"] = settings.azure_blob_endpoint
    match credentials:
        case AzureClientSecret():
            config["credential_type"] = "client_secret"
            config["client_id"] = credentials.client_id
            config["client_secret"] = credentials.client_secret
            config["tenant_id"] = credentials.tenant_id
        case AzureAccountKey():
            config["credential_type"] = "access_key"
            config["account_key"] = credentials.account_key
        case Anonymous():
            config["skip_signature"] = True
        case None:
            found = _found(environ, _AZURE_ENVIRONMENT)
            if found is None and environ.get("AZURE_USE_AZURE_CLI", "").lower() in ("1", "true", "yes"):
                found = "azure_cli"
            if found is not None:
                config["credential_type"] = found
            elif not settings.cloud_metadata:
                raise ObjectStoreError(
                    f"{location.url}: no Azure credentials for uploads: set AZURE_STORAGE_ACCOUNT_KEY, "
                    "or AZURE_CLIENT_ID, AZURE_TENANT_ID and AZURE_CLIENT_SECRET or "
                    f"AZURE_FEDERATED_TOKEN_FILE (a CI job's identity), {_METADATA_HINT}"
                )
        case _:
            raise ValueError(f"{type(credentials).__name__} cannot sign Azure requests")
    if not settings.cloud_metadata:
        config["msi_endpoint"] = _NOWHERE
    return _obstore(
        location,
        settings,
        settings.azure_blob_endpoint,
        AZURE_METADATA_KEY,
        lambda options, retry: AzureStore(
            location.bucket, config=config, client_options=options, retry_config=retry
        ),
    )


# -- Google Cloud Storage ---------------------------------------------------------------------------


def _gcs(
    location: StoreLocation, settings: Settings, credentials: Credentials | None, environ: Mapping[str, str]
) -> ObjectStore:
    from reconciler.stores.gcs import GcsStore

    return GcsStore(
        location.bucket,
        credentials=_google_credentials(location, settings, credentials, environ),
        project=location.project,
        endpoint=settings.gcs_endpoint,
        timeout=settings.timeout,
    )


def _google_credentials(
    location: StoreLocation, settings: Settings, credentials: Credentials | None, environ: Mapping[str, str]
) -> GoogleCredentials:
    import google.auth
    import google.auth.exceptions
    from google.auth.credentials import AnonymousCredentials
    from google.oauth2 import service_account

    match credentials:
        case GcsServiceAccount():
            try:
                info = json.loads(credentials.info_json)
                account: GoogleCredentials = service_account.Credentials.from_service_account_info(  # type: ignore[no-untyped-call]
                    info, scopes=[_GCS_SCOPE]
                )
            except (ValueError, KeyError, TypeError) as exc:
                raise ObjectStoreError(
                    f"{location.url}: the service account JSON is not a usable service account key"
                ) from exc
            return account
        case Anonymous():
            return AnonymousCredentials()  # type: ignore[no-untyped-call]
        case None:
            pass
        case _:
            raise ValueError(f"{type(credentials).__name__} cannot sign GCS requests")
    path = environ.get("GOOGLE_APPLICATION_CREDENTIALS") or _gcloud_default_file(environ)
    if path:
        try:
            # The file google.auth.default() would load, without its fallback to the metadata
            # server. The deprecation warns about files from untrusted sources; this one is the
            # user's own configuration.
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                loaded: GoogleCredentials
                loaded, _ = google.auth.load_credentials_from_file(path, scopes=[_GCS_SCOPE])  # type: ignore[no-untyped-call]
        except google.auth.exceptions.GoogleAuthError as exc:
            raise ObjectStoreError(f"{location.url}: the Google credentials file cannot be used") from exc
        return loaded
    if settings.cloud_metadata:
        from google.auth import compute_engine

        return compute_engine.Credentials()  # type: ignore[no-untyped-call]
    raise ObjectStoreError(
        f"{location.url}: no Google credentials for uploads: set GOOGLE_APPLICATION_CREDENTIALS to a "
        "service account key or a workload identity federation file (a CI job's identity), run "
        f"`gcloud auth application-default login`, {_METADATA_HINT}"
    )


def _gcloud_default_file(environ: Mapping[str, str]) -> str | None:
    """gcloud's application-default credentials file, where ``gcloud auth application-default
    login`` writes it, if it exists."""
    config = environ.get("CLOUDSDK_CONFIG")
    home = environ.get("HOME")
    directory = Path(config) if config else (Path(home) if home else Path.home()) / ".config" / "gcloud"
    candidate = directory / "application_default_credentials.json"
    return str(candidate) if candidate.is_file() else None


# -- shared -----------------------------------------------------------------------------------------


def _found(environ: Mapping[str, str], table: Sequence[tuple[str, Sequence[Sequence[str]]]]) -> str | None:
    """The first credential of ``table`` whose variables are all set in ``environ``."""
    for name, groups in table:
        if all(any(environ.get(variable) for variable in group) for group in groups):
            return name
    return None


def _obstore(
    location: StoreLocation,
    settings: Settings,
    endpoint: str | None,
    metadata_key: str,
    make: Callable[[ClientConfig, RetryConfig], ObstoreBackend],
) -> ObjectStore:
    """An obstore-backed store; obstore also reads the environment here, and may refuse it."""
    from reconciler.stores.cloud import OBSTORE_ERRORS, ObstoreStore

    try:
        store = make(_client_options(settings, endpoint), _retry_config(settings))
    except OBSTORE_ERRORS as exc:
        # obstore's text may quote a configured value, a secret among them: only its kind is said.
        raise ObjectStoreError(
            f"{location.url}: the environment's {location.kind} settings are incomplete or malformed "
            f"({type(exc).__name__}); check its AWS_*/AZURE_* variables"
        ) from exc
    return ObstoreStore(store, url=location.url, metadata_key=metadata_key)


def _client_options(settings: Settings, endpoint: str | None) -> ClientConfig:
    timeout = timedelta(seconds=settings.timeout)
    options: ClientConfig = {"timeout": timeout, "connect_timeout": timeout}
    if endpoint and endpoint.startswith("http://"):
        options["allow_http"] = True
    return options


def _retry_config(settings: Settings) -> RetryConfig:
    # obstore retries 5xx, connection errors and read timeouts itself, like the Atlan client does.
    base = timedelta(seconds=settings.retry_backoff)
    return {
        "max_retries": settings.retries,
        "backoff": {"init_backoff": base, "max_backoff": max(base, timedelta(seconds=30)), "base": 2},
        "retry_timeout": timedelta(minutes=3),
    }
