"""Compile a manifest into the exact Workflow request the Atlan SDK sends for that package.

The output equals ``AssetImport()...to_workflow()`` / ``LineageBuilder()...to_workflow()`` of
pyatlan 10.0.0 serialised with ``by_alias=True, exclude_none=True`` (pinned by
tests/test_compile_matches_sdk.py against the SDK's own request fixtures): the same
labels, annotations, templateRef, parameter names, order, values and JSON types, and the same
credential payload. Only the name differs (derived, not an epoch) and the reconciler adds its
tracking labels and annotations (``reconciler.dev/*``; never a secret). ``${env:NAME}``
references are resolved from an injected mapping, so compiling is a pure function.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from reconciler.errors import ManifestError, Problem
from reconciler.manifest.loader import AnyManifest, FieldPath, LoadedManifest
from reconciler.manifest.models import (
    ADLS,
    ENV_REFERENCE,
    GCS,
    S3,
    AssetImportManifest,
    AssetsAdvanced,
    AssetsSection,
    DataProductsSection,
    GlossariesSection,
    LineageBuilderManifest,
    ManifestEnviron,
    parse_pointer,
)
from reconciler.packages import sharing
from reconciler.packages.identity import (
    CREDENTIAL_ANNOTATION,
    ENV_ANNOTATION,
    INSTANCE_LABEL,
    MANIFEST_LABEL,
    NAMESPACE,
    PACKAGES,
    PROTECT_ANNOTATION,
    Package,
    workflow_name,
)
from reconciler.packages.sharing import compiled_parameter
from reconciler.packages.spec import parameters as spec_parameters
from reconciler.packages.spec import tasks

CREDENTIAL_PLACEHOLDER = "{{credentialGuid}}"
CONNECTOR_CONFIG_NAME = "csa-connectors-objectstore"
SCHEDULE_ANNOTATION = "orchestration.atlan.com/schedule"
TIMEZONE_ANNOTATION = "orchestration.atlan.com/timezone"
ATLAN_NAME_ANNOTATION = "orchestration.atlan.com/atlanName"
REDACTED = "(sensitive value)"
_COMPACT_SORTED = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


# View paths (reconciler/plan/normalise.py) -> the manifest text a value was resolved from.
EnvFields = Mapping[tuple[str, ...], str]


@dataclass(frozen=True, slots=True)
class CompiledWorkflow:
    """The request body for one manifest, which of its strings are secret, and which of its
    values came from ``${env:NAME}`` references (shown as the reference, never the value)."""

    manifest: str
    kind: str
    name: str
    body: dict[str, Any]
    secrets: frozenset[str] = field(default=frozenset(), repr=False)
    env_fields: EnvFields = field(default_factory=dict)

    def redacted(self) -> dict[str, Any]:
        """The body with every secret value replaced and every value resolved from the
        environment written as its reference: safe to print or store."""
        # References first: redacting first could turn a JSON annotation that merely contains a
        # short secret (one letter, say) into the mask, which is then no JSON to put them in.
        # A copy in plain data either way: the body shares read-only parameters (sharing.py).
        redacted: dict[str, Any] = redact(with_env_references(self.body, self.env_fields), self.secrets)
        return redacted


def env_pointer(path: Sequence[str]) -> str:
    """The JSON pointer of a view path, as recorded in the ENV_ANNOTATION."""
    return "".join("/" + part.replace("~", "~0").replace("/", "~1") for part in path)


def recorded_env_fields(annotations: Mapping[str, str]) -> dict[tuple[str, ...], str]:
    """View path -> manifest text of each value a workflow's last apply took from the environment."""
    text = annotations.get(ENV_ANNOTATION)
    if not text:
        return {}
    try:
        recorded = json.loads(text)
    except ValueError:
        return {}
    if not isinstance(recorded, dict):
        return {}
    found: dict[tuple[str, ...], str] = {}
    for pointer, written in recorded.items():
        try:
            path = parse_pointer(pointer)
        except ValueError:
            continue
        found[path] = written if isinstance(written, str) else "${env:...}"
    return found


def with_env_references(body: Mapping[str, Any], env_fields: EnvFields) -> dict[str, Any]:
    """A copy of a request ``body`` with each value resolved from the environment replaced by the
    manifest text it came from (``/imports/${env:PREFIX}``): parameters, and the credential's
    non-secret parts in both the payload and the CREDENTIAL_ANNOTATION."""
    result: dict[str, Any] = copy.deepcopy(dict(body))
    parameters = {path[1]: text for path, text in env_fields.items() if path[0] == "parameters"}
    credential = {path[1:]: text for path, text in env_fields.items() if path[0] == "credential"}
    for task in tasks(result.get("spec") or {}):
        for parameter in spec_parameters(task):
            if parameter.get("name") in parameters:
                parameter["value"] = parameters[parameter["name"]]
    if credential:
        for item in result.get("payload", []):
            _put_all(item.get("body", {}), credential)
        annotations = result.get("metadata", {}).get("annotations", {})
        if CREDENTIAL_ANNOTATION in annotations:
            visible = json.loads(annotations[CREDENTIAL_ANNOTATION])
            _put_all(visible, credential)
            annotations[CREDENTIAL_ANNOTATION] = _COMPACT_SORTED.encode(visible)
    return result


def _put_all(target: dict[str, Any], values: Mapping[tuple[str, ...], str]) -> None:
    for path, text in values.items():
        node = target
        for part in path[:-1]:
            inner = node.get(part)
            node = inner if isinstance(inner, dict) else {}
        if path[-1] in node:
            node[path[-1]] = text


def redact(value: Any, secrets: Iterable[str]) -> Any:
    """A copy of JSON-like ``value`` with every occurrence of a secret replaced by REDACTED."""
    secrets = [s for s in secrets if s]
    if not secrets:
        return value

    def walk(item: Any) -> Any:
        if isinstance(item, dict):
            return {key: walk(inner) for key, inner in item.items()}
        if isinstance(item, list):
            return [walk(inner) for inner in item]
        if isinstance(item, str) and any(secret in item for secret in secrets):
            return REDACTED
        return item

    return walk(value)


class UnresolvedReferenceError(Exception):
    """Raised by compile_workflow; ``missing`` pairs each field path with the missing variable,
    ``empty`` with a variable that is set but empty (or blank) where a secret is needed."""

    def __init__(
        self,
        missing: Sequence[tuple[FieldPath, str]],
        empty: Sequence[tuple[FieldPath, str]] = (),
        refused: Sequence[tuple[FieldPath, str, tuple[str, ...]]] = (),
    ) -> None:
        super().__init__(
            ", ".join([*(name for _, name in (*missing, *empty)), *(name for _, name, _ in refused)])
        )
        self.missing = tuple(missing)
        self.empty = tuple(empty)
        self.refused = tuple(refused)

    def messages(self) -> list[tuple[FieldPath, str]]:
        """Each problem as (field path, sentence); the values are never part of it."""
        return [
            *((path, f"environment variable {name} is not set") for path, name in self.missing),
            *(
                (path, f"environment variable {name} is empty or blank; a secret must have a value")
                for path, name in self.empty
            ),
            *(
                (
                    path,
                    f"environment variable {name} is not allowed by RECONCILER_ENV_ALLOW "
                    f"({', '.join(allowed)})",
                )
                for path, name, allowed in self.refused
            ),
        ]


class _Resolver:
    """Expands ``${env:NAME}`` in manifest strings, remembering what is missing, what is secret
    and which values came from the environment (by their path in the compared view)."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self.environ = environ
        self.missing: list[tuple[FieldPath, str]] = []
        self.empty: list[tuple[FieldPath, str]] = []
        self.refused: list[tuple[FieldPath, str, tuple[str, ...]]] = []
        self.secrets: set[str] = set()
        self.env_fields: dict[tuple[str, ...], str] = {}

    def text(
        self, path: FieldPath, value: str, *, view: tuple[str, ...] | None = None, secret: bool = False
    ) -> str:
        names: list[str] = []

        def substitute(match: Any) -> str:
            name = match.group(1)
            names.append(name)
            if isinstance(self.environ, ManifestEnviron) and not self.environ.allows(name):
                self.refused.append((path, name, self.environ.allowed))
                return ""
            if name not in self.environ:
                self.missing.append((path, name))
                return ""
            return self.environ[name]

        resolved = ENV_REFERENCE.sub(substitute, value).replace("$${", "${")
        if secret:
            unresolved = {p for p, _ in self.missing} | {p for p, _, _ in self.refused}
            if names and not resolved.strip() and path not in unresolved:
                # An empty secret cannot be told apart from none, and scrubbing it is meaningless.
                self.empty.append((path, names[0]))
            elif resolved:
                self.secrets.add(resolved)
        elif names and view is not None:
            self.env_fields[view] = value
        return resolved


def compile_workflow(manifest: AnyManifest, *, instance: str, environ: Mapping[str, str]) -> CompiledWorkflow:
    """The Workflow request for ``manifest``; raises UnresolvedReferenceError for missing variables."""
    package = PACKAGES[manifest.kind]
    name = manifest.spec.adopt or workflow_name(package, instance, manifest.metadata.name)
    resolver = _Resolver(environ)
    if isinstance(manifest, AssetImportManifest):
        parameters = _asset_import_parameters(manifest, resolver)
    else:
        parameters = _lineage_builder_parameters(manifest, resolver)
    credential = _credential(manifest, name, resolver)
    if resolver.missing or resolver.empty or resolver.refused:
        raise UnresolvedReferenceError(resolver.missing, resolver.empty, resolver.refused)
    metadata = _metadata(package, name)
    metadata["labels"].update(manifest.metadata.labels)
    metadata["labels"][INSTANCE_LABEL] = instance
    metadata["labels"][MANIFEST_LABEL] = manifest.metadata.name
    if manifest.spec.protect:
        metadata["annotations"][PROTECT_ANNOTATION] = "true"
    if credential is not None:
        visible = {key: credential[key] for key in ("authType", "username", "extra")}
        metadata["annotations"][CREDENTIAL_ANNOTATION] = _COMPACT_SORTED.encode(visible)
    if resolver.env_fields:
        metadata["annotations"][ENV_ANNOTATION] = _COMPACT_SORTED.encode(
            {env_pointer(path): text for path, text in resolver.env_fields.items()}
        )
    if manifest.spec.schedule is not None:
        metadata["annotations"][SCHEDULE_ANNOTATION] = manifest.spec.schedule.cron
        metadata["annotations"][TIMEZONE_ANNOTATION] = manifest.spec.schedule.timezone
    body = {
        "metadata": metadata,
        "spec": _spec(package, parameters),
        "payload": [] if credential is None else [_payload(credential)],
    }
    return CompiledWorkflow(
        manifest=manifest.metadata.name,
        kind=manifest.kind,
        name=name,
        body=body,
        secrets=frozenset(resolver.secrets),
        env_fields=resolver.env_fields,
    )


def compile_all(
    loaded: Iterable[LoadedManifest], *, instance: str, environ: Mapping[str, str]
) -> list[CompiledWorkflow]:
    """Compile every manifest; missing variables of all of them are reported in one ManifestError."""
    compiled: list[CompiledWorkflow] = []
    problems: list[Problem] = []
    for item in loaded:
        try:
            compiled.append(compile_workflow(item.manifest, instance=instance, environ=environ))
        except UnresolvedReferenceError as exc:
            problems.extend(item.source.problem(path, message) for path, message in exc.messages())
    if problems:
        raise ManifestError(problems)
    return compiled


# -- the parts every package shares (AbstractPackage / AbstractCustomPackage) --


def _metadata(package: Package, name: str) -> dict[str, Any]:
    return {
        "labels": {
            "orchestration.atlan.com/certified": "true",
            "orchestration.atlan.com/source": package.name,
            "orchestration.atlan.com/sourceCategory": "utility",
            "orchestration.atlan.com/type": "custom",
            "orchestration.atlan.com/preview": "true",
            "orchestration.atlan.com/verified": "true",
            "package.argoproj.io/installer": "argopm",
            "package.argoproj.io/name": sharing.text(f"a-t-rcsas-l-a-s-h{package.name}"),
            "package.argoproj.io/registry": "httpsc-o-l-o-ns-l-a-s-hs-l-a-s-hpackages.atlan.com",
            "orchestration.atlan.com/atlan-ui": "true",
        },
        "annotations": {
            "orchestration.atlan.com/allowSchedule": "true",
            "orchestration.atlan.com/categories": "kotlin,utility",
            "orchestration.atlan.com/dependentPackage": "",
            "orchestration.atlan.com/docsUrl": sharing.text(f"https://solutions.atlan.com/{package.name}/"),
            "orchestration.atlan.com/emoji": "\U0001f680",
            "orchestration.atlan.com/icon": package.icon,
            "orchestration.atlan.com/logo": package.icon,
            "orchestration.atlan.com/name": package.title,
            "package.argoproj.io/author": "Atlan CSA",
            "package.argoproj.io/description": package.description,
            "package.argoproj.io/homepage": sharing.text(
                f"https://packages.atlan.com/-/web/detail/{package.package_name}"
            ),
            "package.argoproj.io/keywords": '["kotlin","utility"]',
            "package.argoproj.io/name": package.package_name,
            "package.argoproj.io/parent": ".",
            "package.argoproj.io/registry": "https://packages.atlan.com",
            "package.argoproj.io/repository": "git+https://github.com/atlanhq/marketplace-packages.git",
            "package.argoproj.io/support": "support@atlan.com",
            ATLAN_NAME_ANNOTATION: name,
        },
        "name": name,
        "namespace": NAMESPACE,
    }


def _spec(package: Package, parameters: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "entrypoint": "main",
        "templates": [
            {
                "name": "main",
                "dag": {
                    "tasks": [
                        {
                            "name": "run",
                            "arguments": {"parameters": parameters},
                            "templateRef": {
                                "name": package.prefix,
                                "template": "main",
                                "clusterScope": True,
                            },
                        }
                    ]
                },
            }
        ],
        "workflowMetadata": {"annotations": {"package.argoproj.io/name": package.package_name}},
    }


def _payload(credential: dict[str, Any]) -> dict[str, Any]:
    return {"parameter": "credentialGuid", "type": "credential", "body": credential}


_EXTRA = ("credential", "extra")


def _credential(manifest: AnyManifest, name: str, r: _Resolver) -> dict[str, Any] | None:
    """The inline credential of ``.s3()``, ``.gcs()`` or ``.adls()``; None for the backing store."""
    store = manifest.spec.object_store.store
    path: FieldPath = ("spec", "object_store")
    if isinstance(store, S3):
        at = (*path, "s3")
        auth, username, password = "s3", store.access_key, store.secret_key
        user_path, password_path = (*at, "access_key"), (*at, "secret_key")
        extra = {
            "region": r.text((*at, "region"), store.region, view=(*_EXTRA, "region")),
            "s3_bucket": r.text((*at, "bucket"), store.bucket, view=(*_EXTRA, "s3_bucket")),
        }
    elif isinstance(store, GCS):
        at = (*path, "gcs")
        auth, username, password = "gcs", store.project_id, store.service_account_json
        user_path, password_path = (*at, "project_id"), (*at, "service_account_json")
        extra = {"gcs_bucket": r.text((*at, "bucket"), store.bucket, view=(*_EXTRA, "gcs_bucket"))}
    elif isinstance(store, ADLS):
        at = (*path, "adls")
        auth, username, password = "adls", store.client_id, store.client_secret
        user_path, password_path = (*at, "client_id"), (*at, "client_secret")
        extra = {
            "azure_tenant_id": r.text((*at, "tenant_id"), store.tenant_id, view=(*_EXTRA, "azure_tenant_id")),
            "storage_account_name": r.text(
                (*at, "account_name"), store.account_name, view=(*_EXTRA, "storage_account_name")
            ),
            "adls_container": r.text((*at, "container"), store.container, view=(*_EXTRA, "adls_container")),
        }
    else:
        return None
    return {
        "name": f"{name}-0",
        "authType": auth,
        "username": r.text(user_path, username, view=("credential", "username")),
        "password": r.text(password_path, password, secret=True),
        "extra": extra,
        "connectorConfigName": CONNECTOR_CONFIG_NAME,
    }


def _param(name: str, value: Any) -> dict[str, Any]:
    """One ``{name, value}`` parameter; the requests of a package repeat most of theirs, so an
    equal one is shared, read-only (reconciler/packages/sharing.py: about 1.5 KB less per
    request at 10,000). A change is made on a copy (see ``request_body``)."""
    return compiled_parameter(name, value)


def _text_param(r: _Resolver, name: str, path: FieldPath, value: str) -> dict[str, Any]:
    """A parameter from a manifest string, ``${env:NAME}`` references resolved."""
    return _param(name, r.text(path, value, view=("parameters", name)))


def _optional(params: list[dict[str, Any]], values: Mapping[str, Any]) -> None:
    """``_add_optional_params``: append each non-None value, in order."""
    params.extend(_param(key, value) for key, value in values.items() if value is not None)


# -- AssetImport (asset_import.py) --


def _asset_import_parameters(manifest: AssetImportManifest, r: _Resolver) -> list[dict[str, Any]]:
    spec = manifest.spec
    params = [_param("import_type", "CLOUD"), _param("cloud_source", CREDENTIAL_PLACEHOLDER)]
    sections: list[tuple[str, AssetsSection | GlossariesSection | DataProductsSection | None]] = [
        ("assets", spec.assets),
        ("glossaries", spec.glossaries),
        ("data_products", spec.data_products),
    ]
    for key, section in sections:
        if section is None:
            continue
        at: FieldPath = ("spec", key)
        params += [
            _text_param(r, f"{key}_prefix", (*at, "prefix"), section.prefix),
            _text_param(r, f"{key}_key", (*at, "object_key"), section.object_key),
            _param(f"{key}_upsert_semantic", section.input_handling),
        ]
        advanced = section.advanced
        if advanced is None:
            continue
        # The SDK always sends *_attr_to_overwrite from *_advanced(), as the JSON text "null"
        # when no list was given (json.dumps(None)); kept for byte-equal requests.
        removed = advanced.remove_attributes
        params.append(
            _param(
                f"{key}_attr_to_overwrite",
                "null" if removed is None else json.dumps(list(removed), separators=(",", ":")),
            )
        )
        values: dict[str, Any] = {f"{key}_fail_on_errors": advanced.fail_on_errors}
        if isinstance(advanced, AssetsAdvanced):
            values["assets_case_sensitive"] = advanced.case_sensitive_match
            values["assets_table_view_agnostic"] = advanced.is_table_view_agnostic
        values[f"{key}_field_separator"] = advanced.field_separator
        values[f"{key}_batch_size"] = advanced.batch_size
        _optional(params, values)
    for key, section in sections:
        configured = section is not None and section.advanced is not None
        params.append(_param(f"{key}_config", "advanced" if configured else "default"))
    return params


# -- LineageBuilder (lineage_builder.py) --


def _lineage_builder_parameters(manifest: LineageBuilderManifest, r: _Resolver) -> list[dict[str, Any]]:
    spec = manifest.spec
    at: FieldPath = ("spec", "lineage")
    params = [
        _text_param(r, "lineage_prefix", (*at, "prefix"), spec.lineage.prefix),
        _text_param(r, "lineage_key", (*at, "object_key"), spec.lineage.object_key),
        _param("lineage_import_type", "CLOUD"),
        _param("cloud_source", CREDENTIAL_PLACEHOLDER),
    ]
    options = spec.options
    if options is not None:
        _optional(
            params,
            {
                "lineage_upsert_semantic": options.input_handling,
                "lineage_fail_on_errors": options.fail_on_errors,
                "lineage_case_sensitive": options.case_sensitive_match,
                "field_separator": options.field_separator,
                "batch_size": options.batch_size,
            },
        )
    return params
