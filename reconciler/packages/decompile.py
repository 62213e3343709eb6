"""Turn a live workflow back into a manifest document: the inverse of the compiler, for ``export``.

Compiling the result gives the live workflow's request again (labels, annotations, parameters),
so export followed by plan shows no spec change. Secrets cannot be read back: the credential's
non-secret parts (bucket, region, user) come from the credential's metadata, and its secret is
written as a ``${env:...}`` reference for the user to provide.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from reconciler.manifest.models import API_VERSION
from reconciler.packages.compiler import SCHEDULE_ANNOTATION, TIMEZONE_ANNOTATION, recorded_env_fields
from reconciler.packages.identity import INSTANCE_LABEL, MANIFEST_LABEL, PACKAGES, PROTECT_ANNOTATION
from reconciler.packages.spec import parameter_values

# Labels the package itself, Argo or the reconciler write; the rest are the user's.
_SYSTEM_LABEL_PREFIXES = ("orchestration.atlan.com/", "package.argoproj.io/", "workflows.argoproj.io/")


@dataclass(frozen=True)
class CredentialInfo:
    """What the tenant tells about a credential: never its secret."""

    auth_type: str
    username: str | None
    extra: Mapping[str, Any]


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
) -> dict[str, Any]:
    """A manifest document (plain data, key order as a person writes it) for one live workflow."""
    name = str(metadata.get("name"))
    labels: Mapping[str, str] = metadata.get("labels") or {}
    annotations: Mapping[str, str] = metadata.get("annotations") or {}
    params = parameter_values(spec)
    body: dict[str, Any] = {}
    store = _object_store(credential, manifest_name)
    if store:
        body["object_store"] = store
    body.update(_asset_import(params) if kind == "AssetImport" else _lineage_builder(params))
    _restore_env_references(body, recorded_env_fields(annotations))
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
    user_labels = {
        k: v
        for k, v in sorted(labels.items())
        if not k.startswith(_SYSTEM_LABEL_PREFIXES) and k not in (INSTANCE_LABEL, MANIFEST_LABEL)
    }
    document_metadata: dict[str, Any] = {"name": manifest_name}
    if user_labels:
        document_metadata["labels"] = user_labels
    return {"apiVersion": API_VERSION, "kind": kind, "metadata": document_metadata, "spec": body}


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
    for path, text in recorded.items():
        if path[0] == "parameters" and len(path) == 2:
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
    sections: dict[str, Any] = {}
    for key in ("assets", "glossaries", "data_products"):
        if f"{key}_prefix" not in params and f"{key}_key" not in params:
            continue
        section: dict[str, Any] = {
            "prefix": params.get(f"{key}_prefix", ""),
            "object_key": params.get(f"{key}_key", ""),
        }
        if f"{key}_upsert_semantic" in params:
            section["input_handling"] = params[f"{key}_upsert_semantic"]
        if params.get(f"{key}_config") == "advanced":
            advanced: dict[str, Any] = {}
            removed = params.get(f"{key}_attr_to_overwrite")
            if isinstance(removed, str) and removed != "null":
                advanced["remove_attributes"] = json.loads(removed)
            names = {
                "fail_on_errors": f"{key}_fail_on_errors",
                "case_sensitive_match": f"{key}_case_sensitive",
                "is_table_view_agnostic": f"{key}_table_view_agnostic",
                "field_separator": f"{key}_field_separator",
                "batch_size": f"{key}_batch_size",
            }
            advanced.update({field: params[param] for field, param in names.items() if param in params})
            section["advanced"] = advanced
        sections[key] = section
    return sections


def _lineage_builder(params: Mapping[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {
        "lineage": {"prefix": params.get("lineage_prefix", ""), "object_key": params.get("lineage_key", "")}
    }
    names = {
        "input_handling": "lineage_upsert_semantic",
        "fail_on_errors": "lineage_fail_on_errors",
        "case_sensitive_match": "lineage_case_sensitive",
        "field_separator": "field_separator",
        "batch_size": "batch_size",
    }
    options = {field: params[param] for field, param in names.items() if param in params}
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
