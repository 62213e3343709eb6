"""The manifest format (``apiVersion: reconciler/v1``) as pydantic models.

Field names follow the parameter names of the Atlan SDK's builders (``AssetImport().assets(prefix,
object_key, input_handling)``, ``.assets_advanced(remove_attributes, ...)``, ``LineageBuilder()
.options(...)``), and defaults are the builders' defaults, so a manifest reads like the SDK call
it replaces. The package options the builders lack are named the same way: those the package reads
only with ``<x>_config: advanced`` in the section's ``advanced:`` block, ``delta`` on the assets,
a ``tags`` file section, ``input_encoding``; ``spec.parameters`` passes the rest through
(reconciler/manifest/parameters.py). The models are strict (no string-to-int or "yes"-to-bool
coercion) and reject unknown keys; the loader turns validation errors into file:line:column messages.

String fields may contain ``${env:NAME}`` references, resolved at compile time. The secret fields
(``secret_key``, ``service_account_json``, ``client_secret``) accept nothing else. No string may
hold the placeholder ``{{credentialGuid}}``: every string field is a ``UserString``.
"""

from __future__ import annotations

import codecs
import fnmatch
import math
import re
import zoneinfo
from collections.abc import Callable, Iterator, Mapping, Sequence
from functools import cache
from pathlib import PurePosixPath, PureWindowsPath
from typing import Annotated, Any, Literal

from croniter import croniter
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainValidator,
    ValidationInfo,
    field_validator,
    model_validator,
)

from reconciler.manifest.parameters import FILE_SECTIONS, MODELLED

API_VERSION = "reconciler/v1"
KINDS = ("AssetImport", "LineageBuilder")

# The placeholder Atlan replaces on the server with the id of the credential it creates (the
# package writes it into `cloud_source`; reconciler/packages/compiler.py). In a manifest's string
# it would be replaced too, and the workflow would never match its manifest: a permanent diff.
# Written with inner blanks too: the replacement is not visible in the SDK, and a templating
# engine that trims them would replace that as well.
_CREDENTIAL_PLACEHOLDER = re.compile(r"\{\{\s*credentialGuid\s*\}\}")
# A reference to an environment variable; `$${` writes a literal `${`.
ENV_REFERENCE = re.compile(r"\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}")
_ANY_REFERENCE = re.compile(r"(?<!\$)\$\{")
# What a string's text is read as, left to right: `$${` (a literal `${`) or a reference.
_TEXT_TOKEN = re.compile(r"\$\$\{|" + ENV_REFERENCE.pattern)
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
# A Kubernetes label name or value (the instance setting is checked against it too).
LABEL_NAME = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
# Label prefixes the reconciler, Atlan and Argo write themselves.
RESERVED_LABEL_PREFIXES = (
    "reconciler.dev/",
    "orchestration.atlan.com/",
    "package.argoproj.io/",
    "workflows.argoproj.io/",
)
SECRET_FIELDS = frozenset({"secret_key", "service_account_json", "client_secret"})
# Variables a manifest may never reference: the reconciler's own credentials and settings, and
# the CI runner's tokens (GITHUB_TOKEN, ACTIONS_RUNTIME_TOKEN, ACTIONS_ID_TOKEN_REQUEST_TOKEN...).
RESERVED_VARIABLE_PREFIXES = ("ATLAN_", "RECONCILER_", "GITHUB_", "ACTIONS_", "RUNNER_", "INPUT_")
RESERVED_VARIABLES = frozenset({"GH_TOKEN", "CI_JOB_TOKEN"})
RESERVED_VARIABLE_PATTERNS = (*(f"{p}*" for p in RESERVED_VARIABLE_PREFIXES), *sorted(RESERVED_VARIABLES))
_CRON_DESCRIPTORS = (
    "@yearly",
    "@annually",
    "@monthly",
    "@weekly",
    "@daily",
    "@midnight",
    "@hourly",
)

# The `*_attr_to_overwrite` values Atlan's UI offers (its multi-select). The package takes any
# attribute name (and skips one a type lacks, with a warning): others are a warning here.
ASSET_ATTRIBUTES = (
    "certificateStatus",
    "announcementType",
    "displayName",
    "description",
    "userDescription",
    "ownerUsers",
    "ownerGroups",
    "assignedTerms",
    "readme",
)
GLOSSARY_ATTRIBUTES = (
    *ASSET_ATTRIBUTES,
    "seeAlso",
    "synonyms",
    "antonyms",
    "preferredTerms",
    "preferredToTerms",
    "translatedTerms",
    "translationTerms",
    "validValues",
    "validValueFor",
    "replacedBy",
    "replacementTerms",
    "classifies",
    "isA",
)
_ATTRIBUTE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# The packages' option values (../shared/atlan-csv-formats.md §6.2, Framework.pkl's type aliases).
InputHandling = Literal["upsert", "partial", "update"]
GlossaryInputHandling = Literal["upsert", "update"]  # no partial glossary entries or data products
CmHandling = Literal["ignore", "merge", "overwrite"]
TagHandling = Literal["ignore", "append", "replace", "remove"]
LinkIdempotency = Literal["url", "name"]
DeltaSemantic = Literal["full", "delta"]
RemovalType = Literal["archive", "purge"]
ReloadCalculation = Literal["all", "changes"]
RunPolicy = Literal["on-change", "always", "never"]
UploadCredentials = Literal["environment", "manifest"]


class ManifestEnviron(Mapping[str, str]):
    """The environment as manifests may read it: only the variables matching ``allowed``
    (shell-style patterns; none means every variable). The reserved variables are refused
    already by the models (reconciler.manifest.models.reserved_variable)."""

    def __init__(self, environ: Mapping[str, str], allowed: Sequence[str] = ()) -> None:
        self._environ = environ
        self.allowed = tuple(allowed)

    def allows(self, name: str) -> bool:
        return not self.allowed or any(fnmatch.fnmatchcase(name, pattern) for pattern in self.allowed)

    def __getitem__(self, name: str) -> str:
        if not self.allows(name):
            raise KeyError(name)
        return self._environ[name]

    def __iter__(self) -> Iterator[str]:
        return (name for name in self._environ if self.allows(name))

    def __len__(self) -> int:
        return sum(1 for _ in self)


# -- value checks: each raises ValueError with the sentence the user will read --


def reserved_variable(name: str) -> bool:
    """True for a variable that holds the reconciler's own credentials or its CI's: a manifest
    from a pull request must not be able to send them anywhere (see README, Secrets)."""
    return name.startswith(RESERVED_VARIABLE_PREFIXES) or name in RESERVED_VARIABLES


def _refuse_placeholder(value: str) -> str:
    if "credentialGuid" in value and _CREDENTIAL_PLACEHOLDER.search(value):  # `in` is 4x faster
        # Never repeat the value: it may be a secret field's.
        raise ValueError(
            "{{credentialGuid}} is not allowed: Atlan replaces it on the server with a credential "
            "id, so the workflow would never match this manifest"
        )
    return value


def env_references(value: str) -> list[str]:
    """The variables ``value`` references, in order; an escaped ``$${env:X}`` is text, none."""
    return [match.group(1) for match in _TEXT_TOKEN.finditer(value) if match.group(1)]


def resolve_references(value: str, lookup: Callable[[str], str]) -> str:
    """``value`` with each reference replaced by ``lookup(name)`` and each ``$${`` by ``${``."""
    return _TEXT_TOKEN.sub(lambda match: lookup(match.group(1)) if match.group(1) else "${", value)


def escape_references(text: str) -> str:
    """``text`` as a manifest string that means exactly it (``resolve_references`` undoes it)."""
    return text.replace("${", "$${")


def _check_variable_names(value: str) -> None:
    for name in env_references(value):
        if reserved_variable(name):
            raise ValueError(
                f"${{env:{name}}} is not allowed: variables named {', '.join(RESERVED_VARIABLE_PATTERNS)} "
                "hold the reconciler's own credentials or its CI's and may not be referenced by a manifest"
            )


def _check_references(value: str) -> str:
    for match in _ANY_REFERENCE.finditer(value):
        if not ENV_REFERENCE.match(value, match.start()):
            raise ValueError(
                "malformed reference: write ${env:NAME} with NAME a variable name "
                "(letters, digits, underscore), or $${ for a literal ${"
            )
    _check_variable_names(value)
    return value


def _check_secret_reference(value: str) -> str:
    if not ENV_REFERENCE.fullmatch(value):
        # Never repeat the value: it may be the secret itself.
        raise ValueError(
            "a secret must be an environment reference like ${env:AWS_SECRET_ACCESS_KEY}; "
            "a literal value is not accepted (the value is not shown)"
        )
    _check_variable_names(value)
    return value


def _check_dns_label(value: str) -> str:
    if len(value) > 63 or not _DNS_LABEL.match(value):
        raise ValueError(
            f"{value!r} is not a DNS label: use at most 63 lowercase letters, digits and '-', "
            "starting and ending with a letter or digit"
        )
    return value


def _check_field_separator(value: str) -> str:
    if len(value) != 1:
        raise ValueError(f"must be exactly one character, got {value!r} ({len(value)} characters)")
    return value


def _check_cron(value: str) -> str:
    text = value.strip()
    if text in _CRON_DESCRIPTORS:
        return value
    if len(text.split()) != 5 or not croniter.is_valid(text):
        raise ValueError(
            f"{value!r} is not a cron expression: use five fields "
            "(minute hour day-of-month month day-of-week), e.g. '0 2 * * *', "
            f"or one of {', '.join(_CRON_DESCRIPTORS)}"
        )
    return value


@cache
def _timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def _check_timezone(value: str) -> str:
    if value not in _timezones():
        raise ValueError(f"{value!r} is not an IANA time zone (e.g. 'UTC', 'Europe/Berlin')")
    return value


def _int_as_text(value: object) -> object:
    # `token: 3` is as natural to write as `token: "3"`.
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


def _check_label_key(key: str) -> str:
    # Checked key by key (and value by value), so that every bad label is reported, at its line.
    prefix, _, name = key.rpartition("/")
    if (prefix and (len(prefix) > 253 or not _DNS_SUBDOMAIN.match(prefix))) or (
        len(name) > 63 or not LABEL_NAME.match(name)
    ):
        raise ValueError(
            f"label key {key!r} is not a Kubernetes label key ([prefix/]name, name at most "
            "63 letters, digits, '-', '_', '.')"
        )
    if any(key.startswith(reserved) for reserved in RESERVED_LABEL_PREFIXES):
        raise ValueError(f"label key {key!r} uses a prefix the reconciler or Atlan writes itself")
    return key


def _check_label_value(value: str) -> str:
    if value and (len(value) > 63 or not LABEL_NAME.match(value)):
        raise ValueError(
            f"label value {value!r} is not a Kubernetes label value (at most 63 "
            "letters, digits, '-', '_', '.', starting and ending with a letter or digit)"
        )
    return value


def is_absolute(path: str) -> bool:
    """``/etc/x``, ``C:\\x`` or ``\\\\host\\x``: a path that does not start at the manifest's directory."""
    return PurePosixPath(path).is_absolute() or bool(PureWindowsPath(path).anchor)


def _check_source_path(value: str) -> str:
    # Whether it stays inside the repository and exists is checked when compiling
    # (reconciler/packages/sources.py): that depends on the files, not on the manifest's text.
    if not value.strip():
        raise ValueError("a file path cannot be empty")
    if "\0" in value:
        raise ValueError("a file path cannot hold a NUL character")
    if is_absolute(value):
        raise ValueError(f"{value!r} is an absolute path: write it relative to the manifest's directory")
    return value


def _check_encoding(value: str) -> str:
    try:
        codecs.lookup(value)
    except LookupError:
        raise ValueError(f"unknown encoding {value!r} (e.g. utf-8, cp1252, latin-1)") from None
    return value


def _check_attribute_name(value: str) -> str:
    # Whether Atlan's UI offers it is a warning (reconciler/manifest/notices.py), not an error.
    if not _ATTRIBUTE_NAME.match(value):
        raise ValueError(
            f"{value!r} is not an attribute name (letters, digits and '_', e.g. certificateStatus)"
        )
    return value


def _no_partial(value: object) -> object:
    if value == "partial":
        raise ValueError(
            "partial is for assets only: for glossaries and data products the package knows upsert "
            "and update (it creates no partial glossary entries, domains or products)"
        )
    return value


def _parameter_name_check(kind: str) -> Callable[[str], str]:
    def check(name: str) -> str:
        if not name.strip():
            raise ValueError("a parameter name cannot be empty")
        field = MODELLED[kind].get(name)
        if field is not None:
            raise ValueError(
                f"{name!r} is a parameter the manifest models ({field}): set it there, "
                "spec.parameters passes through only the parameters the manifest does not model"
            )
        return name

    return check


# Roots of the normalised workflow view a JSON pointer may address (see reconciler/plan/normalise.py).
IGNORE_ROOTS = ("parameters", "labels", "annotations")
DRIFT_IGNORE_ROOTS = (*IGNORE_ROOTS, "spec", "credentials", "health", "content")


def parse_pointer(pointer: str) -> tuple[str, ...]:
    """RFC 6901: ``/annotations/orchestration.atlan.com~1schedule`` -> ("annotations", "orchestration...")."""
    if not pointer.startswith("/"):
        raise ValueError(f"{pointer!r} is not a JSON pointer: it must start with '/'")
    if re.search(r"~(?![01])", pointer):
        raise ValueError(f"{pointer!r} is not a JSON pointer: '~' must be written ~0, and '/' in a key ~1")
    return tuple(part.replace("~1", "/").replace("~0", "~") for part in pointer[1:].split("/"))


def _pointer_check(roots: tuple[str, ...]) -> Callable[[str], str]:
    def check(pointer: str) -> str:
        parts = parse_pointer(pointer)
        if parts[0] not in roots:
            raise ValueError(f"{pointer!r} must start with one of {', '.join('/' + r for r in roots)}")
        return pointer

    return check


# Every string a manifest holds, checked before what its own type checks (tests/manifest/
# test_hostile_input.py puts the placeholder in each string field the JSON schema lists).
UserString = Annotated[str, AfterValidator(_refuse_placeholder)]
Text = Annotated[UserString, AfterValidator(_check_references)]
SecretReference = Annotated[UserString, AfterValidator(_check_secret_reference)]
DnsLabel = Annotated[UserString, AfterValidator(_check_dns_label)]
FieldSeparator = Annotated[UserString, AfterValidator(_check_field_separator)]
BatchSize = Annotated[int, Field(ge=1)]
LabelKey = Annotated[UserString, AfterValidator(_check_label_key)]
LabelValue = Annotated[UserString, AfterValidator(_check_label_value)]
SourcePath = Annotated[UserString, AfterValidator(_check_source_path)]
AttributeName = Annotated[
    UserString,
    AfterValidator(_check_attribute_name),
    Field(json_schema_extra={"pattern": _ATTRIBUTE_NAME.pattern}),
]
Encoding = Annotated[UserString, AfterValidator(_check_encoding)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


# -- object stores --


class S3(_Model):
    """Amazon S3, as `.s3(access_key, secret_key, region, bucket)`."""

    bucket: Text = Field(description="Bucket holding the CSV files.")
    region: Text = Field(description="AWS region of the bucket, e.g. us-west-1.")
    access_key: Text = Field(description="AWS access key id (may be a ${env:NAME} reference).")
    secret_key: SecretReference = Field(
        description="AWS secret access key: a ${env:NAME} reference only.",
        json_schema_extra={"pattern": ENV_REFERENCE.pattern, "x-secret": True},
    )


class GCS(_Model):
    """Google Cloud Storage, as `.gcs(project_id, service_account_json, bucket)`."""

    project_id: Text = Field(description="Google Cloud project id.")
    service_account_json: SecretReference = Field(
        description="Service account key JSON: a ${env:NAME} reference only.",
        json_schema_extra={"pattern": ENV_REFERENCE.pattern, "x-secret": True},
    )
    bucket: Text = Field(description="Bucket holding the CSV files.")


class ADLS(_Model):
    """Azure Data Lake Storage, as `.adls(client_id, client_secret, tenant_id, account_name, container)`."""

    client_id: Text = Field(description="Azure app (client) id.")
    client_secret: SecretReference = Field(
        description="Azure client secret: a ${env:NAME} reference only.",
        json_schema_extra={"pattern": ENV_REFERENCE.pattern, "x-secret": True},
    )
    tenant_id: Text = Field(description="Azure tenant id.")
    account_name: Text = Field(description="Storage account name.")
    container: Text = Field(description="Container holding the CSV files.")


class ObjectStore(_Model):
    """Where the CSV files are: at most one of s3, gcs, adls; none means the tenant's backing store."""

    s3: S3 | None = Field(default=None, description="Read the files from Amazon S3.")
    gcs: GCS | None = Field(default=None, description="Read the files from Google Cloud Storage.")
    adls: ADLS | None = Field(default=None, description="Read the files from Azure Data Lake Storage.")
    upload_credentials: UploadCredentials = Field(
        default="environment",
        description="Whose credentials upload the files that sources generate: environment (the "
        "cloud's standard chain where apply runs, e.g. a CI job's role) or manifest (the "
        "credentials above, which the workflow reads with).",
    )

    @model_validator(mode="after")
    def _at_most_one(self) -> ObjectStore:
        chosen = [name for name in ("s3", "gcs", "adls") if getattr(self, name) is not None]
        if len(chosen) > 1:
            raise ValueError(f"choose one object store, found {' and '.join(chosen)}")
        if not chosen and self.upload_credentials == "manifest":
            raise ValueError(
                "upload_credentials: manifest needs s3, gcs or adls credentials; the tenant's own "
                "store is written through Atlan's API"
            )
        return self

    @property
    def store(self) -> S3 | GCS | ADLS | None:
        return self.s3 or self.gcs or self.adls


# -- asset import --


class _AdvancedCommon(_Model):
    fail_on_errors: bool | None = Field(
        default=None, description="Fail the run on any error (package default: true)."
    )
    field_separator: FieldSeparator | None = Field(
        default=None, description="The CSV field separator, one character (package default: ',')."
    )
    batch_size: BatchSize | None = Field(
        default=None, description="Assets saved per API call, at least 1 (package default: 20)."
    )


class _ImportAdvanced(_AdvancedCommon):
    """The options the assets, glossaries and data products files share."""

    remove_attributes: list[AttributeName] | None = Field(
        default=None,
        description="Attributes to clear when their CSV cell is empty (names outside the UI's list "
        "are a warning).",
    )
    cm_handling: CmHandling | None = Field(
        default=None,
        description="Custom metadata in the file: ignore it, merge it into the asset's, or overwrite "
        "the asset's (package default: merge).",
    )
    tag_handling: TagHandling | None = Field(
        default=None,
        description="Atlan tags in the file: ignore them, append them, replace the asset's with them, "
        "or remove them (package default: replace).",
    )
    link_idempotency: LinkIdempotency | None = Field(
        default=None,
        description="Which existing link a link in the file is: the one with its url, or its name "
        "(package default: url).",
    )


class AssetsAdvanced(_ImportAdvanced):
    """`.assets_advanced(...)` and the package's other advanced options: any of them sets
    `assets_config: advanced`."""

    case_sensitive_match: bool | None = Field(
        default=None, description="Match asset names case-sensitively (package default: true)."
    )
    is_table_view_agnostic: bool | None = Field(
        default=None,
        description="Treat tables and views as the same type (package default: false).",
    )


class GlossariesAdvanced(_ImportAdvanced):
    """`.glossaries_advanced(...)` and the package's other advanced options: any of them sets
    `glossaries_config: advanced`."""


class DataProductsAdvanced(_ImportAdvanced):
    """`.data_product_advanced(...)` and the package's other advanced options: any of them sets
    `data_products_config: advanced`."""


class TagsAdvanced(_AdvancedCommon):
    """The tags file's advanced options: any of them sets `tags_config: advanced`."""


class Delta(_Model):
    """How the assets file relates to the previous one (`assets_delta_*`)."""

    semantic: DeltaSemantic | None = Field(
        default=None,
        description="full: the file is the whole truth, and assets a previous file had and this one "
        "lacks are removed (one connection per file); delta: nothing is removed (package default).",
    )
    removal: RemovalType | None = Field(
        default=None,
        description="With semantic full: archive (recoverable, package default) or purge what the "
        "file no longer has.",
    )
    reload: ReloadCalculation | None = Field(
        default=None,
        description="With semantic full: load all rows (package default) or only the changed ones.",
    )

    @field_validator("removal", "reload")
    @classmethod
    def _only_with_full(cls, value: str | None, info: ValidationInfo) -> str | None:
        # `semantic` is validated first; when it is itself invalid, that is the one error to show.
        if value is not None and "semantic" in info.data and info.data["semantic"] != "full":
            raise ValueError(
                f"{info.field_name} applies only with semantic: full (the package ignores it otherwise)"
            )
        return value


class CsvFormat(_Model):
    """How the source CSV is read: the Collibra Import API's CSV parameters, with its defaults."""

    separator: FieldSeparator = Field(default=";", description="Field separator, one character.")
    quote: FieldSeparator = Field(default='"', description="Quote character.")
    escape: FieldSeparator | None = Field(default="\\", description="Escape character; null for none.")
    strict_quotes: bool = Field(default=False, description="Ignore characters outside the quotes of a field.")
    ignore_leading_whitespace: bool = Field(
        default=False, description="Drop whitespace before a field's opening quote."
    )
    header_row: bool = Field(default=False, description="The first row is a header: skip it.")
    encoding: Annotated[UserString, AfterValidator(_check_encoding)] = Field(
        default="utf-8", description="Text encoding of the file (a byte-order mark is honoured)."
    )


def _check_template(value: object) -> str | list[Any]:
    if isinstance(value, str):
        return _check_source_path(_refuse_placeholder(value))
    if isinstance(value, list):
        return value  # checked against the section's columns, with positions, when compiling
    raise ValueError("expected a template file's path, or the template inline as a list")


def _check_column_name(value: str) -> str:
    # Whether the section's file has the column is checked when compiling (sources.py).
    if not value.strip():
        raise ValueError("a column name cannot be empty")
    return value


MaskedColumn = Annotated[UserString, AfterValidator(_check_column_name)]
# A template inline: its elements are checked when compiling (reconciler.data.load_template).
TemplateElement = dict[str, Any] | list[dict[str, Any]]


class Source(_Model):
    """A data source: a CSV file, and the template that turns its rows into the section's file."""

    file: SourcePath = Field(description="The CSV file, relative to the manifest, inside the repository.")
    template: (
        Annotated[
            str | list[Any],
            PlainValidator(_check_template, json_schema_input_type=SourcePath | list[TemplateElement]),
        ]
        | None
    ) = Field(
        default=None,
        description="A template file (JSON or YAML), or the template inline as a list; without one "
        "the file is already in the package's format.",
    )
    csv: CsvFormat | None = Field(
        default=None, description="How the source CSV is read (with a template only)."
    )
    mask: list[MaskedColumn] = Field(
        default_factory=list,
        description="Columns of the generated file whose values plans show as a digest, never as "
        "the value (sensitive data).",
    )

    @model_validator(mode="after")
    def _csv_needs_template(self) -> Source:
        if self.csv is not None and self.template is None:
            raise ValueError(
                "csv settings apply to a templated source; without a template the file is "
                "read as the package reads it"
            )
        return self


def _short_source(value: object) -> object:
    """``source: data/terms.csv`` is ``source: {file: data/terms.csv}``: a file already in the
    package's format. Checked here, so that a problem is reported at ``source`` itself."""
    if isinstance(value, str):
        return {"file": _check_source_path(_refuse_placeholder(value))}
    if isinstance(value, dict | Source):
        return value
    raise ValueError("expected a file path (data/terms.csv), or a mapping of file, template, csv")


SourceField = Annotated[Source, BeforeValidator(_short_source, json_schema_input_type=SourcePath | Source)]
_SOURCE_DESCRIPTION = (
    "Generate the file from data in the repository: a CSV file's path (already in the package's "
    "format), or file, template and csv."
)


class _FileSection(_Model):
    prefix: Text = Field(description="Object-store path (directory) of the CSV file.")
    object_key: Text = Field(description="Object name of the CSV file under the prefix.")


_INPUT_HANDLING = "upsert: create and update; partial: create partial assets; update: update only."
_GLOSSARY_INPUT_HANDLING = "upsert: create and update; update: update only (the SDK's default)."
GlossaryInputHandlingField = Annotated[GlossaryInputHandling, BeforeValidator(_no_partial)]


class AssetsSection(_FileSection):
    """`.assets(prefix, object_key, input_handling)`."""

    input_handling: InputHandling = Field(default="update", description=_INPUT_HANDLING)
    source: SourceField | None = Field(default=None, description=_SOURCE_DESCRIPTION)
    delta: Delta | None = Field(default=None, description="Full replacement or incremental loading.")
    advanced: AssetsAdvanced | None = Field(default=None, description="`.assets_advanced(...)`.")


class GlossariesSection(_FileSection):
    """`.glossaries(prefix, object_key, input_handling)`."""

    input_handling: GlossaryInputHandlingField = Field(default="update", description=_GLOSSARY_INPUT_HANDLING)
    source: SourceField | None = Field(default=None, description=_SOURCE_DESCRIPTION)
    advanced: GlossariesAdvanced | None = Field(default=None, description="`.glossaries_advanced(...)`.")


class DataProductsSection(_FileSection):
    """`.data_products(prefix, object_key, input_handling)`."""

    input_handling: GlossaryInputHandlingField = Field(default="update", description=_GLOSSARY_INPUT_HANDLING)
    source: SourceField | None = Field(default=None, description=_SOURCE_DESCRIPTION)
    advanced: DataProductsAdvanced | None = Field(default=None, description="`.data_product_advanced(...)`.")


class TagsSection(_FileSection):
    """The tag-definitions file (`tags_prefix`, `tags_key`): the SDK's builder has no method for it."""

    source: SourceField | None = Field(default=None, description=_SOURCE_DESCRIPTION)
    advanced: TagsAdvanced | None = Field(default=None, description="The tags file's advanced options.")


ImportSection = AssetsSection | GlossariesSection | DataProductsSection | TagsSection


# -- what every kind shares --


class Schedule(_Model):
    """A cron schedule, written as Atlan writes it (workflow annotations)."""

    cron: Annotated[UserString, AfterValidator(_check_cron)] = Field(
        description="Five-field cron expression, e.g. '0 2 * * *'."
    )
    timezone: Annotated[UserString, AfterValidator(_check_timezone)] = Field(
        default="UTC", description="IANA time zone the cron expression is read in."
    )


class Run(_Model):
    """When apply starts a run of the workflow."""

    policy: RunPolicy = Field(
        default="on-change",
        description="on-change: after a spec change or a new token; always: on every apply; never.",
    )
    token: Annotated[UserString, BeforeValidator(_int_as_text)] | None = Field(
        default=None, description="Change it to request one more run (like a restart annotation)."
    )


class Metadata(_Model):
    name: DnsLabel = Field(description="Identity of the workflow in this instance; a DNS label.")
    labels: dict[LabelKey, LabelValue] = Field(
        default_factory=dict, description="Labels copied onto the workflow."
    )


class _SpecCommon(_Model):
    object_store: ObjectStore = Field(
        default_factory=ObjectStore,
        description="Where the CSV files are; omitted means the tenant's own backing store.",
    )
    schedule: Schedule | None = Field(default=None, description="Run on a cron schedule.")
    run: Run = Field(default_factory=Run, description="When apply starts a run.")
    adopt: DnsLabel | None = Field(
        default=None, description="Take over this existing, unmanaged workflow (its name)."
    )
    protect: bool = Field(default=False, description="Never archive this workflow when pruning.")
    depends_on: list[DnsLabel] = Field(
        default_factory=list,
        description="Names of manifests whose workflows apply must handle first.",
    )
    ignore: list[Annotated[UserString, AfterValidator(_pointer_check(IGNORE_ROOTS))]] = Field(
        default_factory=list,
        description="JSON pointers (/parameters/..., /labels/..., /annotations/...) that plan, apply "
        "and drift leave alone: the live value is kept (like Argo CD's ignoreDifferences).",
    )
    drift_ignore: list[Annotated[UserString, AfterValidator(_pointer_check(DRIFT_IGNORE_ROOTS))]] = Field(
        default_factory=list,
        description="JSON pointers whose drift is known and not reported (also /credentials, /health, "
        "/content/<section>).",
    )


# `spec.parameters`: what the manifest does not model, passed through as it is written.
def _check_parameter_value(value: object) -> str | bool | int | float | None:
    # One check for the value's type, not a union: pydantic would report each member's refusal.
    if isinstance(value, str):
        return _check_references(_refuse_placeholder(value))
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float) and math.isfinite(value):
        return value
    raise ValueError(f"expected a string, a number, true or false, or null; got {_kind_of(value)}")


def _kind_of(value: object) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return repr(value)


ParameterValue = Annotated[
    str | bool | int | float | None,
    PlainValidator(_check_parameter_value, json_schema_input_type=str | bool | int | float | None),
]
_PARAMETERS_DESCRIPTION = (
    "Package parameters the manifest does not model (a new option of the package), written into "
    "the request as given; a parameter a field above sets is refused."
)


def _not_modelled(kind: str) -> dict[str, Any]:
    """The JSON schema's version of the names check: editors flag a modelled parameter too."""
    return {"propertyNames": {"not": {"enum": sorted(MODELLED[kind])}}}


AssetImportParameters = dict[
    Annotated[UserString, AfterValidator(_parameter_name_check("AssetImport"))], ParameterValue
]
LineageBuilderParameters = dict[
    Annotated[UserString, AfterValidator(_parameter_name_check("LineageBuilder"))], ParameterValue
]
_UTF8 = codecs.lookup("utf-8").name


class AssetImportSpec(_SpecCommon):
    assets: AssetsSection | None = Field(default=None, description="Import assets.")
    glossaries: GlossariesSection | None = Field(default=None, description="Import glossaries.")
    data_products: DataProductsSection | None = Field(default=None, description="Import data products.")
    tags: TagsSection | None = Field(default=None, description="Import Atlan tag definitions.")
    input_encoding: Encoding | None = Field(
        default=None,
        description="Text encoding the package reads every file in, e.g. UTF-8, windows-1252, "
        "ISO-8859-1, UTF-16LE (package default: UTF-8).",
    )
    parameters: AssetImportParameters = Field(
        default_factory=dict,
        description=_PARAMETERS_DESCRIPTION,
        json_schema_extra=_not_modelled("AssetImport"),
    )

    @field_validator("input_encoding")
    @classmethod
    def _sources_are_utf8(cls, value: str | None, info: ValidationInfo) -> str | None:
        # The sections come first: a file a source generates is UTF-8 (reconciler/data/writer.py).
        sourced = [name for name in FILE_SECTIONS if getattr(info.data.get(name), "source", None) is not None]
        if value is not None and sourced and codecs.lookup(value).name != _UTF8:
            raise ValueError(
                f"the files that sources generate are UTF-8 ({', '.join(sourced)}): "
                "with a source, input_encoding must be UTF-8 or left out"
            )
        return value

    @model_validator(mode="after")
    def _imports_something(self) -> AssetImportSpec:
        if all(getattr(self, name) is None for name in FILE_SECTIONS):
            raise ValueError(f"nothing to import: give at least one of {', '.join(FILE_SECTIONS)}")
        return self


class LineageSection(_Model):
    """`.object_store(prefix, object_key)` of the LineageBuilder."""

    prefix: Text = Field(description="Object-store path (directory) of the lineage CSV file.")
    object_key: Text = Field(description="Object name of the lineage CSV file.")
    source: SourceField | None = Field(default=None, description=_SOURCE_DESCRIPTION)


class LineageOptions(_Model):
    """`.options(...)` of the LineageBuilder, and the package's other options; omitted means the
    package's own defaults."""

    input_handling: InputHandling = Field(
        default="partial",
        description="Unknown assets: upsert creates them, partial creates partial ones, update skips.",
    )
    fail_on_errors: bool | None = Field(default=None, description="Fail the run on any error.")
    case_sensitive_match: bool | None = Field(default=None, description="Match asset names case-sensitively.")
    field_separator: FieldSeparator | None = Field(
        default=None, description="The CSV field separator, one character."
    )
    batch_size: BatchSize | None = Field(default=None, description="Assets saved per API call.")
    cm_handling: CmHandling | None = Field(
        default=None,
        description="Custom metadata columns of the lineage processes: ignore, merge or overwrite.",
    )
    tag_handling: TagHandling | None = Field(
        default=None, description="Atlan tags of the lineage processes: ignore, append, replace or remove."
    )


class LineageBuilderSpec(_SpecCommon):
    lineage: LineageSection = Field(description="The lineage CSV file.")
    options: LineageOptions | None = Field(default=None, description="`.options(...)`.")
    parameters: LineageBuilderParameters = Field(
        default_factory=dict,
        description=_PARAMETERS_DESCRIPTION,
        json_schema_extra=_not_modelled("LineageBuilder"),
    )


def _adopt_matches(prefix: str, adopt: str | None) -> None:
    if adopt is not None and not adopt.startswith(f"{prefix}-"):
        raise ValueError(f"can only adopt a {prefix} workflow (named {prefix}-...), not {adopt!r}")


class AssetImportManifest(_Model):
    """An Atlan asset-import workflow (`@csa/asset-import`)."""

    api_version: Literal["reconciler/v1"] = Field(
        alias="apiVersion", description="The manifest format version."
    )
    kind: Literal["AssetImport"] = Field(description="The Atlan package: @csa/asset-import.")
    metadata: Metadata = Field(description="Name and labels.")
    spec: AssetImportSpec = Field(description="The workflow's configuration.")

    @model_validator(mode="after")
    def _adopt_same_package(self) -> AssetImportManifest:
        _adopt_matches("csa-asset-import", self.spec.adopt)
        return self


class LineageBuilderManifest(_Model):
    """An Atlan lineage-builder workflow (`@csa/lineage-builder`)."""

    api_version: Literal["reconciler/v1"] = Field(
        alias="apiVersion", description="The manifest format version."
    )
    kind: Literal["LineageBuilder"] = Field(description="The Atlan package: @csa/lineage-builder.")
    metadata: Metadata = Field(description="Name and labels.")
    spec: LineageBuilderSpec = Field(description="The workflow's configuration.")

    @model_validator(mode="after")
    def _adopt_same_package(self) -> LineageBuilderManifest:
        _adopt_matches("csa-lineage-builder", self.spec.adopt)
        return self


Manifest = Annotated[AssetImportManifest | LineageBuilderManifest, Field(discriminator="kind")]
MANIFEST_MODELS: dict[str, type[AssetImportManifest] | type[LineageBuilderManifest]] = {
    "AssetImport": AssetImportManifest,
    "LineageBuilder": LineageBuilderManifest,
}
