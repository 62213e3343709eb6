"""Turn a live workflow back into a manifest document: the inverse of the compiler, for ``export``.

Every live parameter is carried over: a parameter the manifest models becomes its field, any other
goes under ``spec.parameters`` as it is (strings escaped, ``$${``, so a ``${`` in a value stays
text). Compiling the result gives the live workflow's request again (labels, annotations, the
parameters as a map), so export followed by plan shows only the adoption. What a manifest cannot
say (a gated option without ``<x>_config: advanced``, a value of the wrong type, a removal type
without full replacement...) is left out and named in ``Decompiled.lost``: the plan will change it.

Secrets cannot be read back: the credential's non-secret parts (bucket, region, user) come from
the credential's metadata, and its secret is written as a ``${env:...}`` reference to provide.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from reconciler.manifest.models import API_VERSION, MANIFEST_MODELS, escape_references
from reconciler.manifest.parameters import (
    DELTA_OPTIONS,
    FILE_SECTIONS,
    LINEAGE_OPTIONS,
    MODELLED,
    SDK_SECTIONS,
    options_of,
)
from reconciler.manifest.positions import FieldPath, format_path
from reconciler.packages.compiler import (
    CREDENTIAL_PLACEHOLDER,
    SCHEDULE_ANNOTATION,
    TIMEZONE_ANNOTATION,
    recorded_env_fields,
    request_parameters,
)
from reconciler.packages.identity import INSTANCE_LABEL, MANIFEST_LABEL, PACKAGES, PROTECT_ANNOTATION
from reconciler.packages.spec import parameter_values

# Labels the package itself, Argo or the reconciler write; the rest are the user's.
_SYSTEM_LABEL_PREFIXES = ("orchestration.atlan.com/", "package.argoproj.io/", "workflows.argoproj.io/")
_MISSING = object()


@dataclass(frozen=True)
class CredentialInfo:
    """What the tenant tells about a credential: never its secret."""

    auth_type: str
    username: str | None
    extra: Mapping[str, Any]


@dataclass(frozen=True)
class Decompiled:
    """A manifest document for a live workflow, and each part of the workflow it cannot carry
    (one sentence each; empty when applying it would change nothing)."""

    document: dict[str, Any]
    lost: tuple[str, ...] = ()


class NotRepresentable(ValueError):
    """The workflow cannot be written as a manifest at all (the sentence says why)."""


def secret_variable(manifest_name: str, field: str) -> str:
    """The environment variable an exported manifest reads a secret from, e.g. SALES_ASSETS_SECRET_KEY."""
    return f"{manifest_name.upper().replace('-', '_')}_{field.upper()}"


def kind_of(labels: Mapping[str, str], name: str) -> str | None:
    """The manifest kind of a live workflow, from its package label or its name; None if neither."""
    source = labels.get("orchestration.atlan.com/source", "")
    for package in PACKAGES.values():
        if source == package.name or name.startswith(f"{package.prefix}-"):
            return package.kind
    return None


def decompile(
    metadata: Mapping[str, Any],
    spec: Mapping[str, Any],
    *,
    kind: str,
    manifest_name: str,
    derived_name: str,
    credential: CredentialInfo | None,
) -> Decompiled:
    """A manifest document (plain data, key order as a person writes it) for one live workflow;
    NotRepresentable when no manifest can describe it."""
    name = str(metadata.get("name"))
    labels: Mapping[str, str] = metadata.get("labels") or {}
    annotations: Mapping[str, str] = metadata.get("annotations") or {}
    params = parameter_values(spec)
    body: dict[str, Any] = {}
    store = _object_store(credential, manifest_name)
    if store:
        body["object_store"] = store
    body.update(_asset_import(params) if kind == "AssetImport" else _lineage_builder(params))
    if SCHEDULE_ANNOTATION in annotations:
        body["schedule"] = {
            "cron": annotations[SCHEDULE_ANNOTATION],
            "timezone": annotations.get(TIMEZONE_ANNOTATION, "UTC"),
        }
    token = _last_run_token(annotations)
    # A workflow the reconciler manages but never recorded a run for was created with policy never.
    never = labels.get(INSTANCE_LABEL) is not None and "reconciler.dev/last-run" not in annotations
    body["run"] = {
        "policy": "never" if never else "on-change",
        **({"token": token} if token is not None else {}),
    }
    if labels.get(INSTANCE_LABEL) is None or name != derived_name:
        body["adopt"] = name  # keeps the workflow's own name; for an unmanaged one, takes it over
    if annotations.get(PROTECT_ANNOTATION) == "true":
        body["protect"] = True
    passed = {key: _text(value) for key, value in params.items() if key not in MODELLED[kind]}
    if passed:
        body["parameters"] = passed
    user_labels = {
        k: v
        for k, v in sorted(labels.items())
        if not k.startswith(_SYSTEM_LABEL_PREFIXES) and k not in (INSTANCE_LABEL, MANIFEST_LABEL)
    }
    document_metadata: dict[str, Any] = {"name": manifest_name}
    if user_labels:
        document_metadata["labels"] = user_labels
    document = {"apiVersion": API_VERSION, "kind": kind, "metadata": document_metadata, "spec": body}
    dropped = _fit(document)
    lost = [*dropped, *_differences(document, params)]
    _restore_env_references(body, recorded_env_fields(annotations))
    return Decompiled(document, tuple(lost))


def _text(value: Any) -> Any:
    return escape_references(value) if isinstance(value, str) else value


def _fit(document: dict[str, Any]) -> list[str]:
    """Make ``document`` a valid manifest by leaving out each value the models refuse, in place;
    a sentence for each one that is no parameter (those are compared by ``_differences``)."""
    model = MANIFEST_MODELS[document["kind"]]
    notes: list[str] = []
    for _ in range(1000):  # each round removes a value: bounded by the document's size
        try:
            model.model_validate(document)
        except ValidationError as exc:
            errors = exc.errors()
        else:
            # Maps whose emptiness means nothing, emptied by a removal, go too (not `advanced: {}`).
            for part, key in (("metadata", "labels"), ("spec", "parameters")):
                if document[part].get(key) == {}:
                    del document[part][key]
            return notes
        for error in errors:
            path = _remove(document, tuple(error["loc"]))
            message = str(error["msg"]).removeprefix("Value error, ")
            if path is None:
                raise NotRepresentable(f"{format_path(tuple(error['loc'])) or 'the manifest'}: {message}")
            if path[:2] != ("spec", "parameters") and not _holds_parameters(path):
                notes.append(f"{format_path(path)} left out: {message}")
            break  # the others are looked at again, in the document without it
    raise NotRepresentable("the workflow's parameters cannot be written as a manifest")  # pragma: no cover


def _holds_parameters(path: FieldPath) -> bool:
    # The sections, delta, advanced and options blocks hold parameters: their loss is a difference.
    return (
        len(path) >= 2
        and path[0] == "spec"
        and path[1] in (*FILE_SECTIONS, "lineage", "options", "input_encoding")
    )


def _remove(document: dict[str, Any], loc: FieldPath) -> FieldPath | None:
    """Remove the deepest mapping entry of ``document`` along ``loc`` (a list item's whole list);
    its path, or None when that would be the spec or the document itself."""
    node: Any = document
    found: FieldPath = ()
    for part in loc:
        if isinstance(node, dict) and part in node:
            found = (*found, part)
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]  # the list is removed whole: its key stays the deepest entry
        else:
            break
    if len(found) < 2 or found[0] not in ("spec", "metadata") or found[:2] == ("metadata", "name"):
        return None
    parent: Any = document
    for part in found[:-1]:
        parent = parent[part]
    del parent[found[-1]]
    return found


def _differences(document: dict[str, Any], live: Mapping[str, Any]) -> list[str]:
    """Each parameter whose live value the document does not compile to, as a sentence."""
    manifest = MANIFEST_MODELS[document["kind"]].model_validate(document)
    compiled = request_parameters(manifest, {})
    live = dict(live)
    if live.get("cloud_source"):  # the credential's id: compared as the placeholder (normalise.py)
        live["cloud_source"] = CREDENTIAL_PLACEHOLDER
    found = []
    for name in [*live, *(n for n in compiled if n not in live)]:
        old, new = live.get(name, _MISSING), compiled.get(name, _MISSING)
        if type(old) is type(new) and old == new:
            continue
        if old is _MISSING:
            found.append(f"parameter {name} is not on the workflow; the manifest writes {_json(new)}")
            continue
        change = "remove it" if new is _MISSING else f"change it to {_json(new)}"
        found.append(f"parameter {name} = {_json(old)} cannot be written in a manifest: plan will {change}")
    return found


def _json(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 80 else text[:77] + "..."


def _object_store(credential: CredentialInfo | None, manifest_name: str) -> dict[str, Any] | None:
    if credential is None:
        return None
    extra = credential.extra
    if credential.auth_type == "s3":
        return {
            "s3": {
                "bucket": extra.get("s3_bucket", ""),
                "region": extra.get("region", ""),
                "access_key": credential.username or "",
                "secret_key": f"${{env:{secret_variable(manifest_name, 'secret_key')}}}",
            }
        }
    if credential.auth_type == "gcs":
        return {
            "gcs": {
                "project_id": credential.username or "",
                "service_account_json": f"${{env:{secret_variable(manifest_name, 'service_account_json')}}}",
                "bucket": extra.get("gcs_bucket", ""),
            }
        }
    if credential.auth_type == "adls":
        return {
            "adls": {
                "client_id": credential.username or "",
                "client_secret": f"${{env:{secret_variable(manifest_name, 'client_secret')}}}",
                "tenant_id": extra.get("azure_tenant_id", ""),
                "account_name": extra.get("storage_account_name", ""),
                "container": extra.get("adls_container", ""),
            }
        }
    return None


# Where a value of the compared view (reconciler/plan/normalise.py) comes from in a manifest.
_CREDENTIAL_FIELDS = {
    ("username",): ("access_key", "project_id", "client_id"),
    ("extra", "region"): ("region",),
    ("extra", "s3_bucket"): ("bucket",),
    ("extra", "gcs_bucket"): ("bucket",),
    ("extra", "azure_tenant_id"): ("tenant_id",),
    ("extra", "storage_account_name"): ("account_name",),
    ("extra", "adls_container"): ("container",),
}
_PARAMETER_FIELDS = {"prefix": "prefix", "key": "object_key"}


def _restore_env_references(body: dict[str, Any], recorded: Mapping[tuple[str, ...], str]) -> None:
    """Write back the ``${env:NAME}`` text of each value the last apply took from the environment
    (ENV_ANNOTATION): an exported manifest references the variable, never holds its value."""
    passed = body.get("parameters") or {}
    for path, text in recorded.items():
        if path[0] == "parameters" and len(path) == 2 and path[1] in passed:
            passed[path[1]] = text
        elif path[0] == "parameters" and len(path) == 2:
            section, _, suffix = path[1].rpartition("_")
            target = body.get(section)
            if isinstance(target, dict) and suffix in _PARAMETER_FIELDS:
                target[_PARAMETER_FIELDS[suffix]] = text
        elif path[0] == "credential" and tuple(path[1:]) in _CREDENTIAL_FIELDS:
            for store in (body.get("object_store") or {}).values():
                for field in _CREDENTIAL_FIELDS[tuple(path[1:])]:
                    if field in store:
                        store[field] = text


def _asset_import(params: Mapping[str, Any]) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for key in FILE_SECTIONS:
        if f"{key}_prefix" not in params and f"{key}_key" not in params:
            continue
        section: dict[str, Any] = {
            "prefix": _text(params.get(f"{key}_prefix", "")),
            "object_key": _text(params.get(f"{key}_key", "")),
        }
        if key in SDK_SECTIONS and f"{key}_upsert_semantic" in params:
            section["input_handling"] = params[f"{key}_upsert_semantic"]
        if key == "assets":
            delta = {field: params[name] for field, name in DELTA_OPTIONS.items() if name in params}
            if delta:
                section["delta"] = delta
        if params.get(f"{key}_config") == "advanced":
            # Without `advanced` the package ignores these (CustomConfig.getEffectiveValue): a
            # manifest cannot say them then, and _differences names them.
            section["advanced"] = _advanced(key, params)
        fields[key] = section
    if "input_encoding" in params:
        fields["input_encoding"] = params["input_encoding"]
    return fields


def _advanced(key: str, params: Mapping[str, Any]) -> dict[str, Any]:
    advanced: dict[str, Any] = {}
    for field, parameter in options_of(key):
        value = params.get(parameter, _MISSING)
        if value is _MISSING:
            continue
        if field == "remove_attributes":
            if value == "null":
                continue  # what an advanced block without remove_attributes sends
            value = _json_list(value)
        advanced[field] = value
    return advanced


def _json_list(value: Any) -> Any:
    """``["a","b"]`` (a JSON list in a string, as the SDK and the UI send it) as a list; a list
    that does not compile back to the same text stays as it is (and is refused, then named)."""
    try:
        parsed = json.loads(value) if isinstance(value, str) else value
    except ValueError:
        return value
    if isinstance(parsed, list) and json.dumps(parsed, separators=(",", ":")) == value:
        return parsed
    return value


def _lineage_builder(params: Mapping[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {
        "lineage": {
            "prefix": _text(params.get("lineage_prefix", "")),
            "object_key": _text(params.get("lineage_key", "")),
        }
    }
    options = {field: params[name] for field, name in LINEAGE_OPTIONS.items() if name in params}
    if options:
        body["options"] = options
    return body


def _last_run_token(annotations: Mapping[str, str]) -> str | None:
    try:
        record = json.loads(annotations.get("reconciler.dev/last-run", ""))
    except ValueError:
        return None
    token = record.get("token") if isinstance(record, dict) else None
    return token if isinstance(token, str) else None
