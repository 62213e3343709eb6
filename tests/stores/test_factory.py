"""Opening a store: which credentials (passed in, or the environment's; the cloud metadata
endpoints only when allowed), which endpoint, and where; secrets kept out of sight."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from reconciler.errors import ObjectStoreError, SettingsError
from reconciler.redaction import SECRETS
from reconciler.settings import load_settings
from reconciler.stores import (
    AzureAccountKey,
    AzureClientSecret,
    GcsServiceAccount,
    S3Keys,
    StoreLocation,
    object_path,
    open_store,
)
from reconciler.stores.cloud import ObstoreStore
from reconciler.stores.gcs import GcsStore
from tests.helpers import CANARY
from tests.stores.conftest import bucket_name, settings
from tests.stores.servers import AZURITE_ACCOUNT, AZURITE_KEY, Azurite, MotoS3

pytestmark = pytest.mark.anyio

DATA = b"Atlan tag name\nPII\n"
SHA = hashlib.sha256(DATA).hexdigest()
S3 = StoreLocation("s3", bucket="landing-zone", region="eu-west-1")
ADLS = StoreLocation("adls", bucket="landing", account="acmedata")
GCS = StoreLocation("gcs", bucket="landing-zone", project="acme")
# Every variable a credential chain reads, besides the ones tests/conftest.py plants.
CHAIN_VARIABLES = [
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
    "AZURE_STORAGE_ACCOUNT_KEY",
    "AZURE_CLIENT_ID",
    "AZURE_TENANT_ID",
    "AZURE_FEDERATED_TOKEN_FILE",
    "AZURE_STORAGE_SAS_KEY",
    "AZURE_STORAGE_TOKEN",
    "AZURE_USE_AZURE_CLI",
    "GOOGLE_APPLICATION_CREDENTIALS",
    "CLOUDSDK_CONFIG",
]


@pytest.fixture
def bare_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No credential in the environment (not even tests/conftest.py's canary secret; a home
    without gcloud's file either)."""
    for name in CHAIN_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))


@pytest.mark.usefixtures("bare_environment")
@pytest.mark.parametrize(
    ("location", "named"),
    [
        (S3, "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN"),
        (ADLS, "AZURE_STORAGE_ACCOUNT_KEY, or AZURE_CLIENT_ID, AZURE_TENANT_ID and AZURE_CLIENT_SECRET"),
        (GCS, "GOOGLE_APPLICATION_CREDENTIALS"),
    ],
)
def test_without_credentials_the_variables_to_set_are_named(location: StoreLocation, named: str) -> None:
    with pytest.raises(ObjectStoreError) as caught:
        open_store(location, settings=settings())
    message = str(caught.value)
    assert message.startswith(f"{location.url}: no ")
    assert named in message
    assert message.endswith("or RECONCILER_CLOUD_METADATA=true to use the machine's own cloud role")
    assert CANARY not in message


@pytest.mark.usefixtures("bare_environment")
@pytest.mark.parametrize("location", [S3, ADLS, GCS])
def test_the_machine_role_is_used_only_when_allowed(location: StoreLocation) -> None:
    store = open_store(location, settings=settings(RECONCILER_CLOUD_METADATA="true"))
    assert store.url == location.url  # opened: credentials are fetched on the first request


@pytest.mark.parametrize(("location", "option"), [(S3, "metadata_endpoint"), (ADLS, "msi_endpoint")])
def test_obstore_never_has_a_metadata_endpoint_to_ask(location: StoreLocation, option: str) -> None:
    """A second guard: even if obstore fell back to the instance role, it would find nothing."""
    credentials = S3Keys("AKIA", "s") if location.kind == "s3" else AzureAccountKey(AZURITE_KEY)
    closed = open_store(location, settings=settings(), credentials=credentials)
    opened = open_store(
        location, settings=settings(RECONCILER_CLOUD_METADATA="true"), credentials=credentials
    )
    assert isinstance(closed, ObstoreStore)
    assert isinstance(opened, ObstoreStore)
    assert closed._store.config.get(option) == "http://127.0.0.1:9"  # type: ignore[attr-defined]
    assert opened._store.config.get(option) != "http://127.0.0.1:9"  # type: ignore[attr-defined]


async def test_aws_keys_from_the_environment_sign_the_requests(
    moto: MotoS3, monkeypatch: pytest.MonkeyPatch, key: str
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAFROMTHEENVIRONMENT")  # the secret is tests/conftest.py's
    name = bucket_name()
    moto.make_bucket(name)
    store = open_store(
        StoreLocation("s3", bucket=name), settings=settings(RECONCILER_S3_ENDPOINT=moto.endpoint)
    )
    written = await store.put(key, DATA, sha256=SHA, expected=None)
    assert await store.head(key) == written


async def test_an_azure_account_key_from_the_environment_signs_the_requests(
    azurite: Azurite, monkeypatch: pytest.MonkeyPatch, key: str
) -> None:
    monkeypatch.setenv("AZURE_STORAGE_ACCOUNT_KEY", AZURITE_KEY)  # Azurite checks the signature
    name = bucket_name()
    azurite.make_bucket(name)
    store = open_store(
        StoreLocation("adls", bucket=name, account=AZURITE_ACCOUNT),
        settings=settings(RECONCILER_AZURE_BLOB_ENDPOINT=azurite.endpoint),
    )
    written = await store.put(key, DATA, sha256=SHA, expected=None)
    assert await store.head(key) == written


def service_account_key() -> str:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return json.dumps(
        {
            "type": "service_account",
            "project_id": "acme",
            "private_key_id": "k1",
            "private_key": pem,
            "client_email": "uploader@acme.iam.gserviceaccount.com",
            "client_id": "1",
            "token_uri": "http://127.0.0.1:9/token",
        }
    )


@pytest.mark.usefixtures("bare_environment")
def test_google_credentials_come_from_the_file_the_environment_names(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = tmp_path / "key.json"
    path.write_text(service_account_key(), encoding="utf-8")
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(path))
    assert isinstance(open_store(GCS, settings=settings()), GcsStore)
    path.write_text('{"type": "service_account", "private_key": "' + CANARY + '"}', encoding="utf-8")
    with pytest.raises(
        ObjectStoreError, match=r"^gs://landing-zone: the Google credentials file cannot be used$"
    ):
        open_store(GCS, settings=settings())


@pytest.mark.usefixtures("bare_environment")
def test_gcloud_application_default_credentials_are_found(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = tmp_path / "gcloud"
    config.mkdir()
    (config / "application_default_credentials.json").write_text(service_account_key(), encoding="utf-8")
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(config))
    assert isinstance(open_store(GCS, settings=settings()), GcsStore)


def test_explicit_credentials_are_registered_as_secrets_and_never_shown() -> None:
    secret = "explicit-secret-0b8e5c"
    for location, credentials in [
        (S3, S3Keys("AKIAEXPLICIT", secret, session_token=secret + "-token")),
        (ADLS, AzureClientSecret("client", secret, "tenant")),
    ]:
        assert secret not in repr(credentials)
        open_store(location, settings=settings(), credentials=credentials)
        assert SECRETS.scrub(f"said {secret}") == "said ***"
    assert SECRETS.scrub(f"token {secret}-token") == "token ***"


def test_a_service_account_that_is_not_one_is_refused_without_quoting_it() -> None:
    broken = GcsServiceAccount('{"type": "service_account", "private_key": "' + CANARY + '"')
    with pytest.raises(ObjectStoreError) as caught:
        open_store(GCS, settings=settings(), credentials=broken)
    assert (
        str(caught.value) == "gs://landing-zone: the service account JSON is not a usable service account key"
    )


@pytest.mark.parametrize(
    ("location", "credentials"),
    [(S3, AzureAccountKey("k")), (ADLS, S3Keys("a", "b")), (GCS, AzureClientSecret("a", "b", "c"))],
)
def test_credentials_of_another_cloud_are_a_programming_error(
    location: StoreLocation, credentials: object
) -> None:
    with pytest.raises(ValueError, match="cannot sign"):
        open_store(location, settings=settings(), credentials=credentials)  # type: ignore[arg-type]


def test_the_tenant_store_needs_a_presigner() -> None:
    with pytest.raises(ValueError, match="presigner"):
        open_store(StoreLocation("tenant"), settings=settings())


@pytest.mark.parametrize(
    "variable", ["RECONCILER_S3_ENDPOINT", "RECONCILER_GCS_ENDPOINT", "RECONCILER_AZURE_BLOB_ENDPOINT"]
)
def test_endpoints_are_settings(monkeypatch: pytest.MonkeyPatch, variable: str) -> None:
    monkeypatch.setenv(variable, "http://127.0.0.1:9000/")
    read = load_settings()
    assert (read.s3_endpoint, read.gcs_endpoint, read.azure_blob_endpoint).count("http://127.0.0.1:9000") == 1
    monkeypatch.setenv(variable, "127.0.0.1:9000")
    with pytest.raises(SettingsError, match=rf"^invalid setting {variable}: must be an http\(s\) URL"):
        load_settings()


def test_locations() -> None:
    assert [S3.url, GCS.url, ADLS.url, StoreLocation("tenant").url] == [
        "s3://landing-zone",
        "gs://landing-zone",
        "az://acmedata/landing",
        "tenant:",
    ]
    with pytest.raises(ValueError, match="needs a bucket"):
        StoreLocation("s3")
    with pytest.raises(ValueError, match="storage account"):
        StoreLocation("adls", bucket="c")
    with pytest.raises(ValueError, match="directory"):
        StoreLocation("local")
    assert object_path("/imports/glossaries/", "/glossary.csv") == "imports/glossaries/glossary.csv"
    assert object_path("", "glossary.csv") == "glossary.csv"


def test_stand_ins_follow_the_emulator_layout(tmp_path: Path) -> None:
    assert ADLS.stand_in(tmp_path) == StoreLocation(
        "local",
        directory=tmp_path / "adls" / "landing",
        metadata_directory=tmp_path / ".reconciler" / "adls" / "landing",
    )
    with pytest.raises(ObjectStoreError, match="cannot name a directory"):
        StoreLocation("s3", bucket="..").stand_in(tmp_path)
    with pytest.raises(ValueError, match="no stand-in"):
        StoreLocation("tenant").stand_in(tmp_path)
